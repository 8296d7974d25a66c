package netlink_test

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/nlkit/nlkit/netlink"
)

// replaySocket is a kernel that answers every request with the same
// prepared datagrams and allocates nothing, so that what a test counts is
// what the Conn itself costs per message and per datagram.
type replaySocket struct {
	dgrams [][]byte
	next   int
}

const replayPort = 4242

var errReplayEmpty = errors.New("replay: nothing queued")

// Send starts the replay over, stamping the request's sequence number on
// every message.
func (s *replaySocket) Send(b []byte) error {
	seq := binary.NativeEndian.Uint32(b[8:12])
	for _, d := range s.dgrams {
		for off := 0; off+netlink.HeaderLen <= len(d); {
			binary.NativeEndian.PutUint32(d[off+8:], seq)
			binary.NativeEndian.PutUint32(d[off+12:], replayPort)
			off += netlink.Align(int(binary.NativeEndian.Uint32(d[off:])))
		}
	}
	s.next = 0
	return nil
}

func (s *replaySocket) Receive(b []byte, peek bool) (int, netlink.Addr, error) {
	if s.next >= len(s.dgrams) {
		return 0, netlink.Addr{}, errReplayEmpty
	}
	d := s.dgrams[s.next]
	copy(b, d)
	if !peek {
		s.next++
	}
	return len(d), netlink.Addr{}, nil
}

func (s *replaySocket) PortID() uint32                   { return replayPort }
func (s *replaySocket) JoinGroup(uint32) error           { return nil }
func (s *replaySocket) LeaveGroup(uint32) error          { return nil }
func (s *replaySocket) SetOption(int, int, int) error    { return nil }
func (s *replaySocket) Option(int, int) (int, error)     { return 0, nil }
func (s *replaySocket) SetReadDeadline(time.Time) error  { return nil }
func (s *replaySocket) SetWriteDeadline(time.Time) error { return nil }
func (s *replaySocket) Close() error                     { return nil }
func (s *replaySocket) push(msgs ...netlink.Message) int { return s.add(msgs) }

func (s *replaySocket) add(msgs []netlink.Message) int {
	var d []byte
	for _, m := range msgs {
		d, _ = m.AppendBinary(d)
	}
	s.dgrams = append(s.dgrams, d)
	return len(d)
}

// routeLike is a 44-byte payload, the size of a kernel IPv4 route with a
// gateway and a device: a dump datagram of 32 KiB holds about 540.
var routeLike = make([]byte, 44)

// dumpReplay answers a dump with datagrams of perDatagram messages and
// an NLMSG_DONE.
func dumpReplay(datagrams, perDatagram int) *replaySocket {
	s := &replaySocket{}
	msgs := make([]netlink.Message, perDatagram)
	for i := range msgs {
		msgs[i] = netlink.Message{Header: netlink.Header{Type: netlink.MinType, Flags: netlink.Multi}, Data: routeLike}
	}
	for range datagrams {
		s.add(msgs)
	}
	s.push(netlink.Message{Header: netlink.Header{Type: netlink.Done, Flags: netlink.Multi}, Data: make([]byte, 4)})
	return s
}

var dumpRequest = netlink.Message{Header: netlink.Header{Type: netlink.MinType + 2}, Data: make([]byte, 12)}

// dumpAllocs counts the allocations of one whole dump (every message
// iterated) over s.
func dumpAllocs(t *testing.T, s *replaySocket, want int) float64 {
	t.Helper()
	c := netlink.NewConn(s, 0, nil)
	ctx := context.Background()
	return testing.AllocsPerRun(20, func() {
		n := 0
		for m, err := range c.Dump(ctx, dumpRequest) {
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Data) == len(routeLike) {
				n++
			}
		}
		if n != want {
			t.Fatalf("dump yielded %d messages, want %d", n, want)
		}
	})
}

// TestDumpAllocatesNothingPerMessage is the guarantee of the raw path:
// a Dump costs a few allocations to start, and none per message or per
// datagram, however long it is.
func TestDumpAllocatesNothingPerMessage(t *testing.T) {
	small := dumpAllocs(t, dumpReplay(1, 1), 1)
	big := dumpAllocs(t, dumpReplay(40, 500), 40*500)
	if big != small {
		t.Fatalf("a dump of 20000 messages in 40 datagrams made %v allocations, one of 1 message %v: the raw path allocates per message or per datagram", big, small)
	}
	if small > 8 {
		t.Errorf("%v allocations to start a dump; expected a handful", small)
	}
}

// TestMessagesAllocatesNothingPerDatagram: the event loop reuses its
// buffers too.
func TestMessagesAllocatesNothingPerDatagram(t *testing.T) {
	s := &replaySocket{}
	for range 100 {
		s.push(netlink.Message{Header: netlink.Header{Type: netlink.MinType}, Data: routeLike})
	}
	c := netlink.NewConn(s, 0, nil)
	ctx := context.Background()
	run := func(n int) float64 {
		return testing.AllocsPerRun(10, func() {
			s.next = len(s.dgrams) - n
			got := 0
			for _, err := range c.Messages(ctx) {
				if err != nil {
					if !errors.Is(err, errReplayEmpty) {
						t.Fatal(err)
					}
					break
				}
				got++
			}
			if got != n {
				t.Fatalf("got %d messages, want %d", got, n)
			}
		})
	}
	one, many := run(1), run(100)
	// The error that ends the loop is built once per loop, not per
	// datagram.
	if many != one {
		t.Fatalf("100 datagrams cost %v allocations, 1 costs %v: Messages allocates per datagram", many, one)
	}
}

// BenchmarkDumpRaw iterates a dump of 20000 route-sized messages in
// datagrams of 540 (what the kernel sends into a 32 KiB buffer); the
// figure is the Conn's own cost, no system calls.
func BenchmarkDumpRaw(b *testing.B) {
	s := dumpReplay(37, 540)
	c := netlink.NewConn(s, 0, nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		for _, err := range c.Dump(ctx, dumpRequest) {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*37*540), "ns/msg")
}

// BenchmarkParser walks a 32 KiB datagram of route-sized messages.
func BenchmarkParser(b *testing.B) {
	var buf []byte
	for len(buf) < 32000 {
		buf, _ = netlink.Message{Header: netlink.Header{Type: netlink.MinType}, Data: routeLike}.AppendBinary(buf)
	}
	msgs := len(buf) / (netlink.HeaderLen + len(routeLike))
	b.SetBytes(int64(len(buf)))
	n := 0
	for b.Loop() {
		var p netlink.Parser
		p.Reset(buf)
		for p.Next() {
			if p.Message().Header.Type == netlink.MinType {
				n++
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*msgs), "ns/msg")
}

// BenchmarkExecute is a request answered by one message and an
// acknowledgement, as RTM_GETLINK by index is.
func BenchmarkExecute(b *testing.B) {
	s := &replaySocket{}
	s.push(netlink.Message{Header: netlink.Header{Type: netlink.MinType}, Data: make([]byte, 1200)})
	ack, flags := netlink.MarshalAck(netlink.Message{Header: netlink.Header{Type: netlink.MinType + 2}}, netlink.AckInfo{}, true)
	s.push(netlink.Message{Header: netlink.Header{Type: netlink.Error, Flags: flags}, Data: ack})
	c := netlink.NewConn(s, 0, nil)
	ctx := context.Background()
	req := netlink.Message{Header: netlink.Header{Type: netlink.MinType + 2}, Data: make([]byte, 16)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Execute(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
