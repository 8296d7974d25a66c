package nltest_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/nltest"
)

const proto = 30

const (
	typeGet netlink.HeaderType = netlink.MinType + iota
	typeSet
	typeEvent
	typeMarker // answered with an ack only: ends exchange
)

// hangTimeout bounds how long a test waits for an operation that must
// return; reaching it means a hang, not slowness.
const hangTimeout = 20 * time.Second

func newConn(t testing.TB, ep *nltest.Endpoint, cfg *netlink.Config) *netlink.Conn {
	t.Helper()
	c, err := ep.Dial(cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func recvT(t testing.TB, c *netlink.Conn) ([]netlink.Message, error) {
	t.Helper()
	type res struct {
		msgs []netlink.Message
		err  error
	}
	ch := make(chan res, 1)
	go func() {
		msgs, err := c.Receive(context.Background())
		ch <- res{msgs, err}
	}()
	select {
	case r := <-ch:
		return r.msgs, r.err
	case <-time.After(hangTimeout):
		t.Fatalf("Receive blocked for %v", hangTimeout)
		return nil, nil
	}
}

func newMsg(typ netlink.HeaderType, flags netlink.HeaderFlags, data string) netlink.Message {
	return netlink.Message{Header: netlink.Header{Type: typ, Flags: flags}, Data: []byte(data)}
}

// exchange sends msgs as they are, then a marker request asking for an
// ack, and returns the datagrams received before the marker's ack: what
// the endpoint answered to msgs, with no need to wait for silence.
func exchange(t testing.TB, c *netlink.Conn, msgs ...netlink.Message) [][]netlink.Message {
	t.Helper()
	for _, m := range msgs {
		if _, err := c.Send(m); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	marker, err := c.Send(newMsg(typeMarker, netlink.Request|netlink.Acknowledge, ""))
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	var got [][]netlink.Message
	for {
		dgram, err := recvT(t, c)
		if err != nil {
			t.Fatalf("Receive: %v", err)
		}
		if last := dgram[len(dgram)-1]; last.Header.Type == netlink.Error {
			if info, err := netlink.ParseAck(last.Header.Flags, last.Data); err == nil && info.Request.Sequence == marker.Header.Sequence {
				if info.Errno != 0 {
					t.Fatalf("marker failed: %v", info.Errno)
				}
				return got
			}
		}
		got = append(got, dgram)
	}
}

// describe renders datagrams compactly: messages of a datagram joined by
// "+", datagrams by " ". Acks show as "ack", errors as "err:ERRNO" with
// their extended-ack text and offset, NLMSG_DONE as "done", others as
// their payload.
func describe(dgrams [][]netlink.Message) string {
	var out []string
	for _, d := range dgrams {
		var parts []string
		for _, m := range d {
			switch m.Header.Type {
			case netlink.Error:
				info, err := netlink.ParseAck(m.Header.Flags, m.Data)
				switch {
				case err != nil:
					parts = append(parts, "bad-error")
				case info.Errno == 0:
					parts = append(parts, "ack")
				default:
					s := "err:" + errnoName(info.Errno)
					if info.Message != "" {
						s += fmt.Sprintf("(%s)", info.Message)
					}
					if info.Offset >= 0 {
						s += fmt.Sprintf("@%d", info.Offset)
					}
					parts = append(parts, s)
				}
			case netlink.Done:
				parts = append(parts, "done")
			default:
				parts = append(parts, string(m.Data))
			}
		}
		out = append(out, strings.Join(parts, "+"))
	}
	return strings.Join(out, " ")
}

func TestEndpointDial(t *testing.T) {
	ep := nltest.NewEndpoint(proto, nltest.Config{Groups: 2})
	if ep.Protocol() != proto {
		t.Fatalf("Protocol = %d", ep.Protocol())
	}
	c1 := newConn(t, ep, nil)
	c2 := newConn(t, ep, nil)
	if c1.PortID() == 0 || c1.PortID() == c2.PortID() {
		t.Fatalf("ports %d and %d: want distinct, non-zero", c1.PortID(), c2.PortID())
	}
	if c1.Protocol() != proto {
		t.Errorf("Conn.Protocol = %d", c1.Protocol())
	}
	c3 := newConn(t, ep, &netlink.Config{PortID: 7})
	if c3.PortID() != 7 {
		t.Fatalf("PortID = %d, want 7", c3.PortID())
	}
	if _, err := ep.Dial(&netlink.Config{PortID: c1.PortID()}); !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("Dial on a used port: %v, want EADDRINUSE", err)
	}
	if _, err := ep.Dial(&netlink.Config{Groups: 1 << 2}); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("Dial joining group 3 of 2: %v, want EINVAL", err)
	}
	ports := ep.Ports()
	slices.Sort(ports)
	want := []uint32{7, c1.PortID(), c2.PortID()}
	slices.Sort(want)
	if !slices.Equal(ports, want) {
		t.Fatalf("Ports = %v, want %v", ports, want)
	}
	if err := c1.Close(); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(ep.Ports(), c1.PortID()) {
		t.Fatal("closed socket's port still listed")
	}
	// Its port is free again.
	c4 := newConn(t, ep, &netlink.Config{PortID: c1.PortID()})
	if c4.PortID() != c1.PortID() {
		t.Fatalf("PortID = %d", c4.PortID())
	}
	// Automatic ports skip those taken explicitly.
	c5 := newConn(t, ep, nil)
	if c5.PortID() == 7 || c5.PortID() == c2.PortID() || c5.PortID() == c4.PortID() {
		t.Fatalf("automatic port %d is taken", c5.PortID())
	}
}

func TestEndpointsAreIndependent(t *testing.T) {
	ep1 := nltest.NewEndpoint(proto, nltest.Config{Groups: 1})
	ep2 := nltest.NewEndpoint(proto, nltest.Config{Groups: 1})
	c1 := newConn(t, ep1, &netlink.Config{Groups: 1})
	newConn(t, ep2, &netlink.Config{Groups: 1})
	if n, err := ep1.Multicast(1, newMsg(typeEvent, 0, "x")); n != 1 || err != nil {
		t.Fatalf("Multicast = %d, %v; want only ep1's socket", n, err)
	}
	if msgs, err := recvT(t, c1); err != nil || string(msgs[0].Data) != "x" {
		t.Fatal(msgs, err)
	}
}

func TestAckRules(t *testing.T) {
	input := func(r *nltest.Request) error {
		switch string(r.Message.Data) {
		case "ok":
			return nil
		case "reply":
			return r.Reply(newMsg(typeGet, 0, "answer"))
		case "errno":
			return syscall.ENOENT
		case "ext":
			return &nltest.Error{Errno: syscall.ERANGE, Message: "too big", Offset: 20}
		case "ext no offset":
			return &nltest.Error{Errno: syscall.ERANGE, Message: "too big"}
		case "plain":
			return errors.New("plain failure")
		case "dump":
			return r.Dump([]netlink.Message{newMsg(typeGet, 0, "d1"), newMsg(typeGet, 0, "d2")}, nltest.DumpOptions{})
		case "dump then fail":
			_ = r.Dump(nil, nltest.DumpOptions{})
			return syscall.EIO
		}
		return nil
	}
	const (
		req = netlink.Request
		ack = netlink.Request | netlink.Acknowledge
	)
	tests := []struct {
		name   string
		cfg    *netlink.Config
		capAck bool
		msgs   []netlink.Message
		want   string
	}{
		{name: "success with ack", msgs: []netlink.Message{newMsg(typeSet, ack, "ok")}, want: "ack"},
		{name: "success without ack", msgs: []netlink.Message{newMsg(typeSet, req, "ok")}, want: ""},
		{name: "reply then ack", msgs: []netlink.Message{newMsg(typeGet, ack, "reply")}, want: "answer ack"},
		{name: "reply without ack", msgs: []netlink.Message{newMsg(typeGet, req, "reply")}, want: "answer"},
		{name: "error without ack", msgs: []netlink.Message{newMsg(typeSet, req, "errno")}, want: "err:ENOENT"},
		{name: "error with ack", msgs: []netlink.Message{newMsg(typeSet, ack, "errno")}, want: "err:ENOENT"},
		{name: "extended ack", msgs: []netlink.Message{newMsg(typeSet, req, "ext")}, want: "err:ERANGE(too big)@20"},
		{name: "extended ack capped", capAck: true, msgs: []netlink.Message{newMsg(typeSet, req, "ext")}, want: "err:ERANGE(too big)@20"},
		{name: "offset 0 is none", msgs: []netlink.Message{newMsg(typeSet, req, "ext no offset")}, want: "err:ERANGE(too big)"},
		{
			name: "extended ack off", cfg: &netlink.Config{DisableExtendedAck: true},
			msgs: []netlink.Message{newMsg(typeSet, req, "ext")}, want: "err:ERANGE",
		},
		{name: "other error as EINVAL", msgs: []netlink.Message{newMsg(typeSet, req, "plain")}, want: "err:EINVAL(plain failure)"},
		{
			name: "other error without extended ack", cfg: &netlink.Config{DisableExtendedAck: true},
			msgs: []netlink.Message{newMsg(typeSet, req, "plain")}, want: "err:EINVAL",
		},
		{name: "dump is not acked", msgs: []netlink.Message{newMsg(typeGet, ack|netlink.Dump, "dump")}, want: "d1+d2+done"},
		{name: "failed after dumping", msgs: []netlink.Message{newMsg(typeGet, req|netlink.Dump, "dump then fail")}, want: "done err:EIO"},
		{name: "not a request", msgs: []netlink.Message{newMsg(typeSet, netlink.Acknowledge, "errno")}, want: ""},
		{name: "noop request acked", msgs: []netlink.Message{newMsg(netlink.Noop, ack, "errno")}, want: "ack"},
		{name: "control type without ack", msgs: []netlink.Message{newMsg(netlink.Done, req, "errno")}, want: ""},
		{
			name: "several in order",
			msgs: []netlink.Message{newMsg(typeSet, ack, "ok"), newMsg(typeSet, req, "errno"), newMsg(typeGet, ack, "reply")},
			want: "ack err:ENOENT answer ack",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ep := nltest.NewEndpoint(proto, nltest.Config{Input: input})
			c := newConn(t, ep, tc.cfg)
			if tc.capAck {
				if err := c.SetOption(netlink.CapAck, true); err != nil {
					t.Fatal(err)
				}
			}
			if got := describe(exchange(t, c, tc.msgs...)); got != tc.want {
				t.Fatalf("answers %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNoInput(t *testing.T) {
	ep := nltest.NewEndpoint(proto, nltest.Config{})
	c := newConn(t, ep, nil)
	_, err := c.Execute(context.Background(), newMsg(typeSet, 0, ""))
	if !errors.Is(err, syscall.EOPNOTSUPP) {
		t.Fatalf("Execute on an endpoint without input: %v, want EOPNOTSUPP", err)
	}
	// Control messages are still acknowledged.
	if _, err := c.Execute(context.Background(), newMsg(netlink.Noop, 0, "")); err != nil {
		t.Fatalf("Execute of a noop: %v", err)
	}
}

func TestErrorEcho(t *testing.T) {
	ep := nltest.NewEndpoint(proto, nltest.Config{Input: func(r *nltest.Request) error {
		if r.Message.Header.Type == typeMarker {
			return nil
		}
		return &nltest.Error{Errno: syscall.EINVAL, Message: "m", Offset: 17}
	}})
	for _, capAck := range []bool{false, true} {
		t.Run(fmt.Sprint("cap=", capAck), func(t *testing.T) {
			c := newConn(t, ep, nil)
			if err := c.SetOption(netlink.CapAck, capAck); err != nil {
				t.Fatal(err)
			}
			sent := newMsg(typeSet, netlink.Request, "payload!")
			got := exchange(t, c, sent)
			if len(got) != 1 || len(got[0]) != 1 {
				t.Fatalf("answers %q", describe(got))
			}
			e := got[0][0]
			echoed := bytes.Contains(e.Data, []byte("payload!"))
			if echoed == capAck || (e.Header.Flags&netlink.Capped != 0) != capAck {
				t.Fatalf("cap=%v: request echoed %v, flags %v", capAck, echoed, e.Header.Flags)
			}
			if e.Header.Flags&netlink.AckTLVs == 0 || e.Header.PID != c.PortID() {
				t.Fatalf("error header %+v", e.Header)
			}
			info, err := netlink.ParseAck(e.Header.Flags, e.Data)
			if err != nil || info.Request.Type != typeSet || info.Request.Length != 16+8 || info.Request.PID != c.PortID() {
				t.Fatalf("ParseAck = %+v, %v", info, err)
			}
		})
	}
}

// datagramInfo summarises one dump datagram.
type datagramInfo struct {
	n     int  // messages
	bytes int  // size on the wire
	intr  bool // every message flagged NLM_F_DUMP_INTR
	some  bool // some message flagged
	done  bool // ends with NLMSG_DONE
}

func TestDumpDatagrams(t *testing.T) {
	tests := []struct {
		name     string
		n        int // messages of 20 bytes each (4-byte payload)
		datagram int
		intr     bool
	}{
		{name: "one datagram", n: 10, datagram: 4096},
		{name: "exact fit", n: 10, datagram: 40},
		{name: "uneven", n: 11, datagram: 50},
		{name: "done alone", n: 3, datagram: 60},
		{name: "empty", n: 0, datagram: 100},
		{name: "interrupted", n: 11, datagram: 50, intr: true},
		{name: "interrupted, exact fit", n: 10, datagram: 40, intr: true},
		{name: "interrupted, done alone", n: 3, datagram: 60, intr: true},
		{name: "interrupted, one datagram", n: 3, datagram: 4096, intr: true},
		{name: "message larger than a datagram", n: 3, datagram: 8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var seq uint32
			ep := nltest.NewEndpoint(proto, nltest.Config{
				DumpDatagram: tc.datagram,
				Input: func(r *nltest.Request) error {
					seq = r.Message.Header.Sequence
					msgs := make([]netlink.Message, tc.n)
					for i := range msgs {
						msgs[i] = newMsg(typeGet, 0, fmt.Sprintf("m%03d", i))
					}
					return r.Dump(msgs, nltest.DumpOptions{Interrupted: tc.intr})
				},
			})
			c := newConn(t, ep, nil)
			if _, err := c.Send(newMsg(typeGet, netlink.Request|netlink.Dump, "")); err != nil {
				t.Fatal(err)
			}
			var infos []datagramInfo
			var payloads []string
			for len(infos) == 0 || !infos[len(infos)-1].done {
				dgram, err := recvT(t, c)
				if err != nil {
					t.Fatal(err)
				}
				info := datagramInfo{n: len(dgram), intr: true}
				for i, m := range dgram {
					info.bytes += netlink.Align(int(m.Header.Length))
					flagged := m.Header.Flags&netlink.DumpIntr != 0
					info.intr = info.intr && flagged
					info.some = info.some || flagged
					if m.Header.Flags&netlink.Multi == 0 || m.Header.Sequence != seq || m.Header.PID != c.PortID() {
						t.Fatalf("message header %+v: want multi, seq %d, pid %d", m.Header, seq, c.PortID())
					}
					if m.Header.Type == netlink.Done {
						if i != len(dgram)-1 {
							t.Fatal("NLMSG_DONE is not last in its datagram")
						}
						if len(m.Data) != 4 || binary.NativeEndian.Uint32(m.Data) != 0 {
							t.Fatalf("NLMSG_DONE payload % x, want status 0", m.Data)
						}
						info.done = true
					} else {
						payloads = append(payloads, string(m.Data))
					}
				}
				infos = append(infos, info)
			}
			if len(payloads) != tc.n {
				t.Fatalf("received %d messages, want %d", len(payloads), tc.n)
			}
			for i, p := range payloads {
				if p != fmt.Sprintf("m%03d", i) {
					t.Fatalf("message %d is %q", i, p)
				}
			}
			for i, info := range infos {
				if info.bytes > tc.datagram && info.n > 1 {
					t.Errorf("datagram %d has %d messages in %d bytes, over the %d-byte limit", i, info.n, info.bytes, tc.datagram)
				}
				if i+1 < len(infos) && info.bytes+20 <= tc.datagram {
					t.Errorf("datagram %d of %d bytes could have held the next message", i, info.bytes)
				}
				// NLM_F_DUMP_INTR on every datagram after the first.
				if wantIntr := tc.intr && i > 0; info.intr != wantIntr || (!wantIntr && info.some) {
					t.Errorf("datagram %d (%d messages, done %v): flagged %v (some %v), want %v", i, info.n, info.done, info.intr, info.some, wantIntr)
				}
			}
		})
	}
}

func TestDumpIsLazy(t *testing.T) {
	// 2000 messages of 1 KiB through a socket whose buffer holds 8 KiB:
	// the dump only works if datagrams are made as the socket reads.
	ep := nltest.NewEndpoint(proto, nltest.Config{
		DumpDatagram: 4096,
		Input: func(r *nltest.Request) error {
			msgs := make([]netlink.Message, 2000)
			for i := range msgs {
				msgs[i] = netlink.Message{Header: netlink.Header{Type: typeGet}, Data: make([]byte, 1024)}
				binary.NativeEndian.PutUint32(msgs[i].Data, uint32(i))
			}
			return r.Dump(msgs, nltest.DumpOptions{})
		},
	})
	c := newConn(t, ep, &netlink.Config{ReceiveBuffer: 4096})
	n := 0
	for m, err := range c.Dump(context.Background(), newMsg(typeGet, 0, "")) {
		if err != nil {
			t.Fatalf("after %d messages: %v", n, err)
		}
		if binary.NativeEndian.Uint32(m.Data) != uint32(n) {
			t.Fatalf("message %d out of order", n)
		}
		n++
	}
	if n != 2000 || c.Stats().Overruns != 0 {
		t.Fatalf("%d messages, %d overruns", n, c.Stats().Overruns)
	}
}

func TestDumpBusy(t *testing.T) {
	var dumpErrs []error
	ep := nltest.NewEndpoint(proto, nltest.Config{
		DumpDatagram: 64,
		Input: func(r *nltest.Request) error {
			if r.Message.Header.Type == typeMarker {
				return nil
			}
			msgs := []netlink.Message{newMsg(typeGet, 0, "a"), newMsg(typeGet, 0, "b"), newMsg(typeGet, 0, "c"), newMsg(typeGet, 0, "d")}
			err := r.Dump(msgs, nltest.DumpOptions{})
			dumpErrs = append(dumpErrs, err)
			return err
		},
	})
	c := newConn(t, ep, nil)
	// Two dumps sent before reading: the second finds the first running.
	first, err := c.Send(newMsg(typeGet, netlink.Request|netlink.Dump, ""))
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.Send(newMsg(typeGet, netlink.Request|netlink.Dump, ""))
	if err != nil {
		t.Fatal(err)
	}
	if len(dumpErrs) != 2 || dumpErrs[0] != nil || !errors.Is(dumpErrs[1], syscall.EBUSY) {
		t.Fatalf("Dump errors %v, want nil then EBUSY", dumpErrs)
	}
	var sawBusy, sawDone bool
	for !sawBusy || !sawDone {
		msgs, err := recvT(t, c)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			switch {
			case m.Header.Type == netlink.Error && m.Header.Sequence == second.Header.Sequence:
				info, err := netlink.ParseAck(m.Header.Flags, m.Data)
				if err != nil || info.Errno != syscall.EBUSY {
					t.Fatalf("second dump answered %+v %v, want EBUSY", info, err)
				}
				sawBusy = true
			case m.Header.Type == netlink.Done && m.Header.Sequence == first.Header.Sequence:
				sawDone = true
			case m.Header.Sequence != first.Header.Sequence:
				t.Fatalf("unexpected message %+v", m.Header)
			}
		}
	}
	// Once the first dump is over, a new one is accepted.
	var got []string
	for m, err := range c.Dump(context.Background(), newMsg(typeGet, 0, "")) {
		if err != nil {
			t.Fatalf("third dump: %v", err)
		}
		got = append(got, string(m.Data))
	}
	if s := strings.Join(got, ""); s != "abcd" {
		t.Fatalf("third dump: %q", s)
	}
}

func TestDumpOnClosedSocket(t *testing.T) {
	var req *nltest.Request
	ep := nltest.NewEndpoint(proto, nltest.Config{Input: func(r *nltest.Request) error {
		req = r
		return nil
	}})
	c := newConn(t, ep, nil)
	if _, err := c.Execute(context.Background(), newMsg(typeGet, 0, "")); err != nil {
		t.Fatal(err)
	}
	if req.Endpoint() != ep || req.Port != c.PortID() {
		t.Fatalf("request from port %d on %p, want %d on %p", req.Port, req.Endpoint(), c.PortID(), ep)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := req.Dump(nil, nltest.DumpOptions{}); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("Dump to a closed socket: %v, want ECONNREFUSED", err)
	}
	if err := req.Reply(newMsg(typeGet, 0, "")); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("Reply to a closed socket: %v, want ECONNREFUSED", err)
	}
}

func TestReplyHeader(t *testing.T) {
	ep := nltest.NewEndpoint(proto, nltest.Config{Input: func(r *nltest.Request) error {
		return r.Reply(
			newMsg(typeGet, netlink.Multi, "filled"),
			netlink.Message{Header: netlink.Header{Type: typeGet, Sequence: 5, PID: 6}, Data: []byte("kept")},
		)
	}})
	c := newConn(t, ep, &netlink.Config{})
	sent, err := c.Send(newMsg(typeGet, netlink.Request, ""))
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := recvT(t, c)
	if err != nil || len(msgs) != 2 {
		t.Fatalf("Receive = %v, %v", msgs, err)
	}
	want := netlink.Header{Length: 22, Type: typeGet, Flags: netlink.Multi, Sequence: sent.Header.Sequence, PID: c.PortID()}
	if msgs[0].Header != want {
		t.Errorf("filled header %+v, want %+v", msgs[0].Header, want)
	}
	if h := msgs[1].Header; h.Sequence != 5 || h.PID != 6 {
		t.Errorf("kept header %+v, want seq 5 pid 6", h)
	}
}

func TestUnicastErrors(t *testing.T) {
	ep := nltest.NewEndpoint(proto, nltest.Config{})
	if err := ep.Unicast(12345, newMsg(typeEvent, 0, "")); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("Unicast to no socket: %v, want ECONNREFUSED", err)
	}
	c := newConn(t, ep, &netlink.Config{ReceiveBuffer: 32}) // 64 bytes: three 20-byte datagrams
	var errs []error
	for i := range 5 {
		errs = append(errs, ep.Unicast(c.PortID(), newMsg(typeEvent, 0, fmt.Sprint(i))))
	}
	for i, err := range errs {
		if wantFull := i >= 3; errors.Is(err, syscall.EAGAIN) != wantFull || (!wantFull && err != nil) {
			t.Fatalf("Unicast %d: %v (full buffer: %v)", i, err, wantFull)
		}
	}
	if _, err := recvT(t, c); !errors.Is(err, netlink.ErrOverrun) {
		t.Fatalf("Receive after drops: %v, want ErrOverrun", err)
	}
	for i := range 3 {
		msgs, err := recvT(t, c)
		if err != nil || string(msgs[0].Data) != fmt.Sprint(i) {
			t.Fatalf("Receive %d = %v, %v", i, msgs, err)
		}
	}
	// Reading made room.
	if err := ep.Unicast(c.PortID(), newMsg(typeEvent, 0, "again")); err != nil {
		t.Fatalf("Unicast after reading: %v", err)
	}
}

func TestNoENOBUFS(t *testing.T) {
	ep := nltest.NewEndpoint(proto, nltest.Config{})
	c := newConn(t, ep, &netlink.Config{ReceiveBuffer: 32})
	if err := c.SetOption(netlink.NoENOBUFS, true); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		_ = ep.Unicast(c.PortID(), newMsg(typeEvent, 0, fmt.Sprint(i)))
	}
	// Messages are lost, silently.
	for i := range 3 {
		msgs, err := recvT(t, c)
		if err != nil || string(msgs[0].Data) != fmt.Sprint(i) {
			t.Fatalf("Receive %d = %v, %v", i, msgs, err)
		}
	}
	if c.Stats().Overruns != 0 {
		t.Fatalf("Overruns = %d with NETLINK_NO_ENOBUFS", c.Stats().Overruns)
	}
}

func TestMulticastErrors(t *testing.T) {
	ep := nltest.NewEndpoint(proto, nltest.Config{Groups: 2})
	for _, g := range []uint32{0, 3, 33} {
		if _, err := ep.Multicast(g, newMsg(typeEvent, 0, "")); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("Multicast(%d): %v, want EINVAL", g, err)
		}
		if _, err := ep.SpoofMulticast(4242, g, newMsg(typeEvent, 0, "")); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("SpoofMulticast(%d): %v, want EINVAL", g, err)
		}
	}
	if n, err := ep.Multicast(1, newMsg(typeEvent, 0, "")); n != 0 || !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("Multicast to an empty group = %d, %v; want ESRCH", n, err)
	}
	c := newConn(t, ep, &netlink.Config{Groups: 0b11})
	closed := newConn(t, ep, &netlink.Config{Groups: 0b11})
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}
	for _, g := range []uint32{1, 2} {
		if n, err := ep.Multicast(g, newMsg(typeEvent, 0, fmt.Sprint(g))); n != 1 || err != nil {
			t.Fatalf("Multicast(%d) = %d, %v; want the open socket only", g, n, err)
		}
	}
	for _, g := range []string{"1", "2"} {
		if msgs, err := recvT(t, c); err != nil || string(msgs[0].Data) != g {
			t.Fatalf("Receive = %v, %v; want %q", msgs, err, g)
		}
	}
	// A socket with a full buffer misses it and is not counted.
	full := newConn(t, ep, &netlink.Config{ReceiveBuffer: 8, Groups: 1})
	if n, err := ep.Multicast(1, newMsg(typeEvent, 0, "big enough to overflow")); n != 1 || err != nil {
		t.Fatalf("Multicast with one full receiver = %d, %v; want 1", n, err)
	}
	if _, err := recvT(t, full); !errors.Is(err, netlink.ErrOverrun) {
		t.Fatalf("full socket: %v, want ErrOverrun", err)
	}
}

func TestSenderAddress(t *testing.T) {
	ep := nltest.NewEndpoint(proto, nltest.Config{Groups: 3})
	var w lockedBuffer
	c := newConn(t, ep, &netlink.Config{Groups: 1 << 2, AllowUserSenders: true, Debug: &w})
	if err := ep.SpoofUnicast(4242, c.PortID(), newMsg(typeEvent, 0, "u")); err != nil {
		t.Fatal(err)
	}
	if _, err := ep.SpoofMulticast(4243, 3, newMsg(typeEvent, 0, "m")); err != nil {
		t.Fatal(err)
	}
	if _, err := ep.Multicast(3, newMsg(typeEvent, 0, "k")); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := recvT(t, c); err != nil {
			t.Fatal(err)
		}
	}
	out := w.String()
	for _, want := range []string{"from={port=4242 groups=0x0}", "from={port=4243 groups=0x4}", "from={port=0 groups=0x4}"} {
		if !strings.Contains(out, want) {
			t.Errorf("debug output lacks %q:\n%s", want, out)
		}
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestRequestMulticast(t *testing.T) {
	ep := nltest.NewEndpoint(proto, nltest.Config{Groups: 1, Input: func(r *nltest.Request) error {
		n, err := r.Multicast(1, newMsg(typeEvent, 0, "changed"))
		if n != 1 {
			return fmt.Errorf("multicast reached %d sockets: %v", n, err)
		}
		return err
	}})
	listener := newConn(t, ep, &netlink.Config{Groups: 1})
	c := newConn(t, ep, nil)
	if _, err := c.Execute(context.Background(), newMsg(typeSet, 0, "")); err != nil {
		t.Fatal(err)
	}
	if msgs, err := recvT(t, listener); err != nil || string(msgs[0].Data) != "changed" {
		t.Fatalf("listener: %v, %v", msgs, err)
	}
}

func TestErrorString(t *testing.T) {
	e := &nltest.Error{Errno: syscall.EINVAL, Message: "say hello"}
	if got := e.Error(); got != "invalid argument: say hello" {
		t.Fatalf("Error() = %q", got)
	}
}

func TestSocketOptions(t *testing.T) {
	ep := nltest.NewEndpoint(proto, nltest.Config{ReceiveBuffer: 1000})
	c := newConn(t, ep, nil)
	if got, err := c.ReceiveBuffer(); got != 1000 || err != nil {
		t.Fatalf("ReceiveBuffer = %d, %v; want Config.ReceiveBuffer", got, err)
	}
	c2 := newConn(t, ep, &netlink.Config{ReceiveBuffer: 3000})
	if got, err := c2.ReceiveBuffer(); got != 6000 || err != nil {
		t.Fatalf("ReceiveBuffer = %d, %v; want twice Config.ReceiveBuffer", got, err)
	}
	// Options the fake accepts but does not model.
	for _, o := range []netlink.Option{netlink.ListenAllNSID, netlink.PacketInfo, netlink.BroadcastError} {
		if err := c.SetOption(o, true); err != nil {
			t.Errorf("SetOption(%v): %v", o, err)
		}
	}
}

func TestWriteDeadline(t *testing.T) {
	var calls int
	ep := nltest.NewEndpoint(proto, nltest.Config{Input: func(*nltest.Request) error { calls++; return nil }})
	c := newConn(t, ep, nil)
	if err := c.SetWriteDeadline(time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Send(newMsg(typeSet, netlink.Request, "")); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Send past the write deadline: %v", err)
	}
	if calls != 0 {
		t.Fatal("the message was delivered despite the deadline")
	}
	if err := c.SetWriteDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Execute(context.Background(), newMsg(typeSet, 0, "")); err != nil || calls != 1 {
		t.Fatalf("Execute after clearing the deadline: %v (%d calls)", err, calls)
	}
}

func TestConcurrentUse(t *testing.T) {
	ep := nltest.NewEndpoint(proto, nltest.Config{Groups: 1, Input: func(r *nltest.Request) error {
		return r.Reply(netlink.Message{Header: netlink.Header{Type: typeGet}, Data: r.Message.Data})
	}})
	listener := newConn(t, ep, &netlink.Config{Groups: 1, ReceiveBuffer: 1 << 20})
	const senders, events = 4, 200
	var wg sync.WaitGroup
	for g := range senders {
		wg.Go(func() {
			for i := range events {
				if _, err := ep.Multicast(1, newMsg(typeEvent, 0, fmt.Sprint(g, "/", i))); err != nil {
					t.Error(err)
					return
				}
			}
		})
		wg.Go(func() {
			c, err := ep.Dial(nil)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			for i := range 50 {
				want := fmt.Sprint(g, ":", i)
				r, err := c.Execute(context.Background(), newMsg(typeGet, 0, want))
				if err != nil || len(r) != 1 || string(r[0].Data) != want {
					t.Errorf("Execute %q = %v, %v", want, r, err)
					return
				}
			}
		})
	}
	last := map[string]int{}
	for range senders * events {
		msgs, err := recvT(t, listener)
		if err != nil {
			t.Fatal(err)
		}
		var g string
		var i int
		if _, err := fmt.Sscanf(strings.Replace(string(msgs[0].Data), "/", " ", 1), "%s %d", &g, &i); err != nil {
			t.Fatal(err)
		}
		if prev, ok := last[g]; ok && i != prev+1 {
			t.Fatalf("events of sender %s out of order: %d after %d", g, i, prev)
		}
		last[g] = i
	}
	wg.Wait()
}

func TestDialReceiveBuffer(t *testing.T) {
	// As netlink.Dial sets it: SO_RCVBUF, which the kernel doubles and
	// caps at net.core.rmem_max (212992), or with ForceReceiveBuffer
	// SO_RCVBUFFORCE, falling back to SO_RCVBUF without the privilege.
	tests := []struct {
		name         string
		unprivileged bool
		cfg          netlink.Config
		want         int
	}{
		{name: "default", want: 212992},
		{name: "small", cfg: netlink.Config{ReceiveBuffer: 4096}, want: 8192},
		{name: "capped", cfg: netlink.Config{ReceiveBuffer: 1 << 20}, want: 2 * 212992},
		{name: "forced", cfg: netlink.Config{ReceiveBuffer: 1 << 20, ForceReceiveBuffer: true}, want: 2 << 20},
		{
			name: "forced without privilege", unprivileged: true,
			cfg: netlink.Config{ReceiveBuffer: 1 << 20, ForceReceiveBuffer: true}, want: 2 * 212992,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ep := nltest.NewEndpoint(proto, nltest.Config{Unprivileged: tc.unprivileged})
			c := newConn(t, ep, &tc.cfg)
			if got, err := c.ReceiveBuffer(); got != tc.want || err != nil {
				t.Fatalf("ReceiveBuffer = %d, %v; want %d", got, err, tc.want)
			}
		})
	}
}

func TestOverrunAndGroups(t *testing.T) {
	ep := nltest.NewEndpoint(proto, nltest.Config{Groups: 40})
	if err := ep.Overrun(999); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("Overrun of no socket: %v, want ECONNREFUSED", err)
	}
	c := newConn(t, ep, nil)
	// Groups above 32, which only JoinGroup can name.
	if err := c.JoinGroup(40); err != nil {
		t.Fatalf("JoinGroup(40): %v", err)
	}
	if n, err := ep.Multicast(40, newMsg(typeEvent, 0, "forty")); n != 1 || err != nil {
		t.Fatalf("Multicast(40) = %d, %v", n, err)
	}
	if err := ep.Overrun(c.PortID()); err != nil {
		t.Fatal(err)
	}
	if _, err := recvT(t, c); !errors.Is(err, netlink.ErrOverrun) {
		t.Fatalf("Receive after Overrun: %v, want ErrOverrun", err)
	}
	if msgs, err := recvT(t, c); err != nil || string(msgs[0].Data) != "forty" {
		t.Fatalf("Receive = %v, %v", msgs, err)
	}
	if err := c.LeaveGroup(40); err != nil {
		t.Fatalf("LeaveGroup(40): %v", err)
	}
	if _, err := ep.Multicast(40, newMsg(typeEvent, 0, "")); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("Multicast after LeaveGroup: %v, want ESRCH", err)
	}
	for _, g := range []uint32{0, 41} {
		if err := c.JoinGroup(g); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("JoinGroup(%d): %v, want EINVAL", g, err)
		}
		if err := c.LeaveGroup(g); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("LeaveGroup(%d): %v, want EINVAL", g, err)
		}
	}
}

// errnoName names the errnos these tests meet, portably.
func errnoName(e syscall.Errno) string {
	names := map[syscall.Errno]string{
		syscall.ENOENT: "ENOENT", syscall.EINVAL: "EINVAL", syscall.ERANGE: "ERANGE",
		syscall.EIO: "EIO", syscall.EOPNOTSUPP: "EOPNOTSUPP", syscall.EBUSY: "EBUSY",
	}
	if n, ok := names[e]; ok {
		return n
	}
	return fmt.Sprintf("errno(%d)", int(e))
}
