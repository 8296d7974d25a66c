package netlink_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/nltest"
)

// testProto is a driver-style protocol number, as a kernel module would
// register with netlink_kernel_create.
const testProto = 31

// Message types of the fake kernel family.
const (
	typeGet netlink.HeaderType = netlink.MinType + iota
	typeSet
	typeEvent
)

// hangTimeout bounds how long a test waits for an operation that must
// return; reaching it means the operation hung, not that it was slow.
const hangTimeout = 20 * time.Second

func dialFake(t testing.TB, ep *nltest.Endpoint, cfg *netlink.Config) *netlink.Conn {
	t.Helper()
	c, err := ep.Dial(cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// mustReturn runs fn in a goroutine and returns its opResult, failing the test if
// fn never returns (the test's Conns are closed by then, unblocking it).
func mustReturn[T any](t testing.TB, fn func() T) T {
	t.Helper()
	ch := make(chan T, 1)
	go func() { ch <- fn() }()
	select {
	case v := <-ch:
		return v
	case <-time.After(hangTimeout):
		t.Fatalf("operation still blocked after %v", hangTimeout)
		panic("unreachable")
	}
}

type opResult struct {
	msgs []netlink.Message
	err  error
}

func (r opResult) unpack() ([]netlink.Message, error) { return r.msgs, r.err }

func executeT(t testing.TB, c *netlink.Conn, ctx context.Context, m netlink.Message) ([]netlink.Message, error) {
	t.Helper()
	r := mustReturn(t, func() opResult {
		msgs, err := c.Execute(ctx, m)
		return opResult{msgs, err}
	})
	return r.msgs, r.err
}

func receiveT(t testing.TB, c *netlink.Conn, ctx context.Context) ([]netlink.Message, error) {
	t.Helper()
	r := mustReturn(t, func() opResult {
		msgs, err := c.Receive(ctx)
		return opResult{msgs, err}
	})
	return r.msgs, r.err
}

// dumpAll runs a Dump to its end, copying the messages it yields. Errors
// are collected in order; a well-behaved Dump yields at most one, last.
func dumpAll(t testing.TB, c *netlink.Conn, ctx context.Context, m netlink.Message) ([]netlink.Message, []error) {
	t.Helper()
	type out struct {
		msgs []netlink.Message
		errs []error
	}
	r := mustReturn(t, func() out {
		var o out
		for m, err := range c.Dump(ctx, m) {
			if err != nil {
				o.errs = append(o.errs, err)
				continue
			}
			if len(o.errs) > 0 {
				o.errs = append(o.errs, fmt.Errorf("message after an error: %+v", m.Header))
			}
			m.Data = append([]byte(nil), m.Data...)
			o.msgs = append(o.msgs, m)
		}
		return o
	})
	return r.msgs, r.errs
}

func fakeMsg(typ netlink.HeaderType, data string) netlink.Message {
	return netlink.Message{Header: netlink.Header{Type: typ}, Data: []byte(data)}
}

// echoInput replies with the request's type and payload.
func echoInput(r *nltest.Request) error {
	return r.Reply(netlink.Message{Header: netlink.Header{Type: r.Message.Header.Type}, Data: r.Message.Data})
}

// numbered returns n family messages whose payloads are their indexes.
func numbered(n int) []netlink.Message {
	msgs := make([]netlink.Message, n)
	for i := range msgs {
		msgs[i] = netlink.Message{Header: netlink.Header{Type: typeGet}, Data: ne32(uint32(i))}
	}
	return msgs
}

// checkNumbered checks that msgs are numbered(n), each once, in order.
func checkNumbered(t testing.TB, msgs []netlink.Message, n int) {
	t.Helper()
	if len(msgs) != n {
		t.Fatalf("got %d messages, want %d", len(msgs), n)
	}
	for i, m := range msgs {
		if len(m.Data) != 4 || binary.NativeEndian.Uint32(m.Data) != uint32(i) {
			t.Fatalf("message %d has payload % x, want index %d", i, m.Data, i)
		}
	}
}

func TestExecuteAck(t *testing.T) {
	var seen []netlink.Message
	ep := nltest.NewEndpoint(testProto, nltest.Config{Input: func(r *nltest.Request) error {
		m := r.Message
		m.Data = append([]byte(nil), m.Data...)
		seen = append(seen, m)
		return nil
	}})
	c := dialFake(t, ep, nil)
	replies, err := executeT(t, c, context.Background(), fakeMsg(typeSet, "x"))
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	if len(replies) != 0 {
		t.Fatalf("Execute returned %d replies, want none", len(replies))
	}
	if len(seen) != 1 {
		t.Fatalf("kernel saw %d messages, want 1", len(seen))
	}
	h := seen[0].Header
	if h.Flags != netlink.Request|netlink.Acknowledge || h.Type != typeSet || h.Sequence == 0 ||
		h.PID != c.PortID() || string(seen[0].Data) != "x" || h.Length != 17 {
		t.Fatalf("kernel saw %+v %q", h, seen[0].Data)
	}
	if c.Protocol() != testProto {
		t.Errorf("Protocol = %d", c.Protocol())
	}
}

func TestExecuteReplies(t *testing.T) {
	var seq uint32
	ep := nltest.NewEndpoint(testProto, nltest.Config{Input: func(r *nltest.Request) error {
		seq = r.Message.Header.Sequence
		d := string(r.Message.Data)
		// Two replies in one datagram, a third in another, then the ack.
		if err := r.Reply(fakeMsg(typeGet, d+"-1"), fakeMsg(typeGet, d+"-2")); err != nil {
			return err
		}
		return r.Reply(fakeMsg(typeGet, d+"-3"))
	}})
	c := dialFake(t, ep, nil)
	replies, err := executeT(t, c, context.Background(), fakeMsg(typeGet, "a"))
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	var got []string
	for _, r := range replies {
		got = append(got, string(r.Data))
		if r.Header.Sequence != seq || r.Header.PID != c.PortID() || r.Header.Type != typeGet {
			t.Errorf("reply header %+v, want seq %d pid %d", r.Header, seq, c.PortID())
		}
	}
	if s := strings.Join(got, ","); s != "a-1,a-2,a-3" {
		t.Fatalf("replies %q, want a-1,a-2,a-3", s)
	}

	// The replies own their memory: a later request does not change them.
	if _, err := executeT(t, c, context.Background(), fakeMsg(typeGet, "b")); err != nil {
		t.Fatal(err)
	}
	if string(replies[0].Data) != "a-1" || string(replies[2].Data) != "a-3" {
		t.Fatalf("replies changed by the next request: %q %q", replies[0].Data, replies[2].Data)
	}
}

func TestExecuteKernelError(t *testing.T) {
	tests := []struct {
		name    string
		cfg     *netlink.Config
		capAck  bool
		input   func(*nltest.Request) error // nil: an endpoint without input
		errno   syscall.Errno
		message string
		offset  int
	}{
		{
			name: "extended ack",
			input: func(*nltest.Request) error {
				return &nltest.Error{Errno: syscall.EINVAL, Message: "say hello", Offset: 20}
			},
			errno: syscall.EINVAL, message: "say hello", offset: 20,
		},
		{
			name: "extended ack capped",
			input: func(*nltest.Request) error {
				return &nltest.Error{Errno: syscall.EINVAL, Message: "say hello", Offset: 20}
			}, capAck: true,
			errno: syscall.EINVAL, message: "say hello", offset: 20,
		},
		{
			name: "extended ack disabled",
			cfg:  &netlink.Config{DisableExtendedAck: true},
			input: func(*nltest.Request) error {
				return &nltest.Error{Errno: syscall.EINVAL, Message: "say hello", Offset: 20}
			},
			errno: syscall.EINVAL, offset: -1,
		},
		{
			name:  "bare errno",
			input: func(*nltest.Request) error { return syscall.ENOENT },
			errno: syscall.ENOENT, offset: -1,
		},
		{
			name:  "other error",
			input: func(*nltest.Request) error { return errors.New("no such widget") },
			errno: syscall.EINVAL, message: "no such widget", offset: -1,
		},
		{
			name:  "after replies",
			input: func(r *nltest.Request) error { _ = echoInput(r); return syscall.EEXIST },
			errno: syscall.EEXIST, offset: -1,
		},
		{
			name:  "no input",
			errno: syscall.EOPNOTSUPP, offset: -1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var seq uint32
			cfg := nltest.Config{}
			if tc.input != nil {
				cfg.Input = func(r *nltest.Request) error {
					seq = r.Message.Header.Sequence
					return tc.input(r)
				}
			}
			ep := nltest.NewEndpoint(testProto, cfg)
			c := dialFake(t, ep, tc.cfg)
			if tc.capAck {
				if err := c.SetOption(netlink.CapAck, true); err != nil {
					t.Fatal(err)
				}
			}
			replies, err := executeT(t, c, context.Background(), fakeMsg(typeSet, "hello"))
			if err == nil {
				t.Fatalf("Execute succeeded with %d replies", len(replies))
			}
			if replies != nil {
				t.Errorf("Execute returned replies with the error")
			}
			if !errors.Is(err, tc.errno) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.errno)
			}
			var oe *netlink.OpError
			if !errors.As(err, &oe) {
				t.Fatalf("error %T is not an *OpError", err)
			}
			if oe.Op != "execute" || oe.Err != tc.errno || oe.Message != tc.message || oe.Offset != tc.offset {
				t.Errorf("OpError = %+v, want errno %v message %q offset %d", oe, tc.errno, tc.message, tc.offset)
			}
			if tc.input != nil && oe.Sequence != seq {
				t.Errorf("OpError.Sequence = %d, want the request's %d", oe.Sequence, seq)
			}
			if tc.message != "" && !strings.Contains(err.Error(), tc.message) {
				t.Errorf("error text %q lacks %q", err, tc.message)
			}
		})
	}
}

func TestSequencesDiffer(t *testing.T) {
	seqs := map[uint32]bool{}
	ep := nltest.NewEndpoint(testProto, nltest.Config{Input: func(r *nltest.Request) error {
		seqs[r.Message.Header.Sequence] = true
		return nil
	}})
	c := dialFake(t, ep, nil)
	for range 20 {
		if _, err := executeT(t, c, context.Background(), fakeMsg(typeSet, "")); err != nil {
			t.Fatal(err)
		}
	}
	if len(seqs) != 20 || seqs[0] {
		t.Fatalf("20 requests used %d distinct sequence numbers (zero used: %v)", len(seqs), seqs[0])
	}
}

func TestExecuteSkipsStale(t *testing.T) {
	ep := nltest.NewEndpoint(testProto, nltest.Config{Input: func(r *nltest.Request) error {
		seq := r.Message.Header.Sequence
		// A late reply to an abandoned request, one meant for another
		// port, then the real one.
		if err := r.Reply(netlink.Message{Header: netlink.Header{Type: typeGet, Sequence: seq + 1000}, Data: []byte("old")}); err != nil {
			return err
		}
		if err := r.Reply(netlink.Message{Header: netlink.Header{Type: typeGet, PID: r.Port + 1}, Data: []byte("other port")}); err != nil {
			return err
		}
		return r.Reply(fakeMsg(typeGet, "mine"))
	}})
	c := dialFake(t, ep, nil)
	// Something queued before the request, with an unrelated sequence.
	stale := netlink.Message{Header: netlink.Header{Type: typeGet, Sequence: 0xfffffff0}, Data: []byte("ancient")}
	if err := ep.Unicast(c.PortID(), stale); err != nil {
		t.Fatal(err)
	}
	replies, err := executeT(t, c, context.Background(), fakeMsg(typeGet, ""))
	if err != nil {
		t.Fatal(err)
	}
	if len(replies) != 1 || string(replies[0].Data) != "mine" {
		t.Fatalf("replies = %v, want only \"mine\"", replies)
	}
	if got := c.Stats().Stale; got != 3 {
		t.Fatalf("Stats().Stale = %d, want 3", got)
	}
}

func TestExecuteIgnoresSpoofedAck(t *testing.T) {
	ep := nltest.NewEndpoint(testProto, nltest.Config{Input: func(r *nltest.Request) error {
		// Another local process forges an error for this request.
		data, flags := netlink.MarshalAck(r.Message, netlink.AckInfo{Errno: syscall.EPERM, Offset: -1}, true)
		forged := netlink.Message{
			Header: netlink.Header{Type: netlink.Error, Flags: flags, Sequence: r.Message.Header.Sequence, PID: r.Port},
			Data:   data,
		}
		if err := r.Endpoint().SpoofUnicast(4242, r.Port, forged); err != nil {
			return err
		}
		return echoInput(r)
	}})
	c := dialFake(t, ep, nil)
	replies, err := executeT(t, c, context.Background(), fakeMsg(typeGet, "real"))
	if err != nil {
		t.Fatalf("Execute: %v (a forged error was believed)", err)
	}
	if len(replies) != 1 || string(replies[0].Data) != "real" {
		t.Fatalf("replies = %v", replies)
	}
	if got := c.Stats().Spoofed; got != 1 {
		t.Fatalf("Stats().Spoofed = %d, want 1", got)
	}
}

func TestDumpStreaming(t *testing.T) {
	const n = 10000
	var reqFlags netlink.HeaderFlags
	var seq uint32
	ep := nltest.NewEndpoint(testProto, nltest.Config{
		DumpDatagram: 256,
		Input: func(r *nltest.Request) error {
			reqFlags, seq = r.Message.Header.Flags, r.Message.Header.Sequence
			return r.Dump(numbered(n), nltest.DumpOptions{})
		},
	})
	c := dialFake(t, ep, nil)
	msgs, errs := dumpAll(t, c, context.Background(), fakeMsg(typeGet, ""))
	if len(errs) != 0 {
		t.Fatalf("Dump errors: %v", errs)
	}
	if reqFlags != netlink.Request|netlink.Dump {
		t.Errorf("request flags %v, want request|dump", reqFlags)
	}
	checkNumbered(t, msgs, n)
	for _, m := range msgs {
		if m.Header.Sequence != seq || m.Header.Flags&netlink.Multi == 0 || m.Header.Type != typeGet {
			t.Fatalf("dump message header %+v", m.Header)
		}
	}
	// The Conn is ready for more.
	msgs, errs = dumpAll(t, c, context.Background(), fakeMsg(typeGet, ""))
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	checkNumbered(t, msgs, n)
}

func TestDumpEndings(t *testing.T) {
	tests := []struct {
		name    string
		input   func(*nltest.Request) error
		wantN   int
		wantErr error
	}{
		{
			name:  "empty",
			input: func(r *nltest.Request) error { return r.Dump(nil, nltest.DumpOptions{}) },
		},
		{
			name:    "interrupted",
			input:   func(r *nltest.Request) error { return r.Dump(numbered(50), nltest.DumpOptions{Interrupted: true}) },
			wantN:   50,
			wantErr: netlink.ErrDumpInterrupted,
		},
		{
			// Six 20-byte messages fill the first 128-byte datagram;
			// NLMSG_DONE alone in the second carries the flag.
			name:    "interrupted, done alone",
			input:   func(r *nltest.Request) error { return r.Dump(numbered(6), nltest.DumpOptions{Interrupted: true}) },
			wantN:   6,
			wantErr: netlink.ErrDumpInterrupted,
		},
		{
			name:    "done with errno",
			input:   func(r *nltest.Request) error { return r.Dump(numbered(30), nltest.DumpOptions{Err: syscall.EMSGSIZE}) },
			wantN:   30,
			wantErr: syscall.EMSGSIZE,
		},
		{
			name:    "request refused",
			input:   func(r *nltest.Request) error { return syscall.ENOENT },
			wantErr: syscall.ENOENT,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var seq uint32
			ep := nltest.NewEndpoint(testProto, nltest.Config{
				DumpDatagram: 128,
				Input: func(r *nltest.Request) error {
					seq = r.Message.Header.Sequence
					return tc.input(r)
				},
			})
			c := dialFake(t, ep, nil)
			// Twice: the Conn still works after a dump that ended badly.
			for range 2 {
				msgs, errs := dumpAll(t, c, context.Background(), fakeMsg(typeGet, ""))
				checkNumbered(t, msgs, tc.wantN)
				if tc.wantErr == nil {
					if len(errs) != 0 {
						t.Fatalf("errors %v", errs)
					}
					continue
				}
				if len(errs) != 1 {
					t.Fatalf("errors %v, want one", errs)
				}
				if !errors.Is(errs[0], tc.wantErr) {
					t.Fatalf("error %v, want %v", errs[0], tc.wantErr)
				}
				var oe *netlink.OpError
				if !errors.As(errs[0], &oe) || oe.Op != "dump" || oe.Sequence != seq {
					t.Fatalf("error %#v, want an *OpError for dump seq %d", errs[0], seq)
				}
			}
		})
	}
}

func TestDumpBreakEarly(t *testing.T) {
	tests := []struct {
		name     string
		n        int
		datagram int
		stopAt   int // break after this many messages
	}{
		{name: "all in one datagram", n: 5, stopAt: 1},
		{name: "at the last message", n: 5, stopAt: 5},
		{name: "many datagrams", n: 1000, datagram: 64, stopAt: 1},
		{name: "many datagrams, halfway", n: 1000, datagram: 200, stopAt: 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ep := nltest.NewEndpoint(testProto, nltest.Config{
				DumpDatagram: tc.datagram,
				Input: func(r *nltest.Request) error {
					if r.Message.Header.Type == typeSet {
						return nil
					}
					return r.Dump(numbered(tc.n), nltest.DumpOptions{})
				},
			})
			c := dialFake(t, ep, nil)
			got := mustReturn(t, func() int {
				i := 0
				for m, err := range c.Dump(context.Background(), fakeMsg(typeGet, "")) {
					if err != nil {
						t.Errorf("Dump: %v", err)
						return i
					}
					if binary.NativeEndian.Uint32(m.Data) != uint32(i) {
						t.Errorf("message %d out of order", i)
					}
					i++
					if i == tc.stopAt {
						break
					}
				}
				return i
			})
			if got != tc.stopAt {
				t.Fatalf("first dump stopped after %d messages, want %d", got, tc.stopAt)
			}
			// A second dump works: the rest of the first was drained, so
			// the kernel does not answer EBUSY.
			msgs, errs := dumpAll(t, c, context.Background(), fakeMsg(typeGet, ""))
			if len(errs) != 0 {
				t.Fatalf("second Dump: %v", errs)
			}
			checkNumbered(t, msgs, tc.n)
			// So does a request.
			if _, err := executeT(t, c, context.Background(), fakeMsg(typeSet, "")); err != nil {
				t.Fatalf("Execute after the dumps: %v", err)
			}
		})
	}
}

func TestExecuteDump(t *testing.T) {
	var flags netlink.HeaderFlags
	ep := nltest.NewEndpoint(testProto, nltest.Config{
		DumpDatagram: 100,
		Input: func(r *nltest.Request) error {
			flags = r.Message.Header.Flags
			return r.Dump(numbered(100), nltest.DumpOptions{})
		},
	})
	c := dialFake(t, ep, nil)
	m := fakeMsg(typeGet, "")
	m.Header.Flags = netlink.Dump
	replies, err := executeT(t, c, context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	if flags != netlink.Request|netlink.Dump {
		t.Errorf("request flags %v, want request|dump (no ack)", flags)
	}
	checkNumbered(t, replies, 100)
}

func TestSenderCheck(t *testing.T) {
	tests := []struct {
		name      string
		allow     bool
		want      []string // payloads received, in order
		wantDrops uint64
	}{
		{name: "kernel only", want: []string{"kernel"}, wantDrops: 2},
		{name: "user senders allowed", allow: true, want: []string{"unicast", "multicast", "kernel"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ep := nltest.NewEndpoint(testProto, nltest.Config{Groups: 1})
			c := dialFake(t, ep, &netlink.Config{Groups: 1, AllowUserSenders: tc.allow})
			if err := ep.SpoofUnicast(4242, c.PortID(), fakeMsg(typeEvent, "unicast")); err != nil {
				t.Fatal(err)
			}
			if _, err := ep.SpoofMulticast(4242, 1, fakeMsg(typeEvent, "multicast")); err != nil {
				t.Fatal(err)
			}
			if err := ep.Unicast(c.PortID(), fakeMsg(typeEvent, "kernel")); err != nil {
				t.Fatal(err)
			}
			for _, want := range tc.want {
				msgs, err := receiveT(t, c, context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if len(msgs) != 1 || string(msgs[0].Data) != want {
					t.Fatalf("Receive = %v, want %q", msgs, want)
				}
			}
			if got := c.Stats().Spoofed; got != tc.wantDrops {
				t.Fatalf("Stats().Spoofed = %d, want %d", got, tc.wantDrops)
			}
		})
	}
}

func TestMulticast(t *testing.T) {
	ep := nltest.NewEndpoint(testProto, nltest.Config{Groups: 3})
	c1 := dialFake(t, ep, nil)
	c2 := dialFake(t, ep, nil)
	c3 := dialFake(t, ep, &netlink.Config{Groups: 1 << 2}) // group 3 at bind time
	for _, c := range []*netlink.Conn{c1, c2} {
		if err := c.JoinGroup(2); err != nil {
			t.Fatalf("JoinGroup(2): %v", err)
		}
	}
	n, err := ep.Multicast(2, fakeMsg(typeEvent, "to 2"))
	if err != nil || n != 2 {
		t.Fatalf("Multicast(2) = %d, %v; want 2 receivers", n, err)
	}
	for i, c := range []*netlink.Conn{c1, c2} {
		msgs, err := receiveT(t, c, context.Background())
		if err != nil {
			t.Fatalf("conn %d: %v", i+1, err)
		}
		if len(msgs) != 1 || string(msgs[0].Data) != "to 2" {
			t.Fatalf("conn %d received %v", i+1, msgs)
		}
	}
	if n, err := ep.Multicast(3, fakeMsg(typeEvent, "to 3")); err != nil || n != 1 {
		t.Fatalf("Multicast(3) = %d, %v; want 1 receiver", n, err)
	}
	if msgs, err := receiveT(t, c3, context.Background()); err != nil || string(msgs[0].Data) != "to 3" {
		t.Fatalf("conn 3: %v, %v", msgs, err)
	}

	if err := c2.LeaveGroup(2); err != nil {
		t.Fatalf("LeaveGroup: %v", err)
	}
	if n, err := ep.Multicast(2, fakeMsg(typeEvent, "again")); err != nil || n != 1 {
		t.Fatalf("Multicast after LeaveGroup = %d, %v; want 1 receiver", n, err)
	}
	if err := c1.LeaveGroup(2); err != nil {
		t.Fatal(err)
	}
	if _, err := ep.Multicast(2, fakeMsg(typeEvent, "nobody")); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("Multicast to an empty group: %v, want ESRCH", err)
	}
	// c2 left: nothing for it. A short deadline shows it.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if msgs, err := receiveT(t, c2, ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Receive after LeaveGroup = %v, %v; want a timeout", msgs, err)
	}
	// c1 has "again", then "nobody" was not delivered.
	if msgs, err := receiveT(t, c1, context.Background()); err != nil || string(msgs[0].Data) != "again" {
		t.Fatalf("conn 1: %v, %v", msgs, err)
	}
}

func TestGroupErrors(t *testing.T) {
	ep := nltest.NewEndpoint(testProto, nltest.Config{Groups: 2})
	c := dialFake(t, ep, nil)
	for _, tc := range []struct {
		name string
		op   func() error
		want string
	}{
		{"join beyond Groups", func() error { return c.JoinGroup(3) }, "join group"},
		{"join group 0", func() error { return c.JoinGroup(0) }, "join group"},
		{"leave beyond Groups", func() error { return c.LeaveGroup(40) }, "leave group"},
	} {
		err := tc.op()
		var oe *netlink.OpError
		if !errors.Is(err, syscall.EINVAL) || !errors.As(err, &oe) || oe.Op != tc.want {
			t.Errorf("%s: %#v, want an *OpError %q with EINVAL", tc.name, err, tc.want)
		}
	}
	if _, err := ep.Dial(&netlink.Config{Groups: 1 << 2}); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("Dial with group 3 of 2: %v, want EINVAL", err)
	}
}

func TestOverrun(t *testing.T) {
	tests := []struct {
		name  string
		cause func(t *testing.T, ep *nltest.Endpoint, c *netlink.Conn)
	}{
		{
			name: "reported by the endpoint",
			cause: func(t *testing.T, ep *nltest.Endpoint, c *netlink.Conn) {
				if _, err := ep.Multicast(1, fakeMsg(typeEvent, "0")); err != nil {
					t.Fatal(err)
				}
				if err := ep.Overrun(c.PortID()); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "natural",
			cause: func(t *testing.T, ep *nltest.Endpoint, c *netlink.Conn) {
				// 20-byte datagrams into a 2*64-byte buffer: six fit.
				delivered := 0
				for i := range 50 {
					if n, _ := ep.Multicast(1, netlink.Message{Header: netlink.Header{Type: typeEvent}, Data: []byte(fmt.Sprint(i % 10))}); n == 1 {
						delivered++
					}
				}
				if delivered == 0 || delivered == 50 {
					t.Fatalf("%d of 50 multicasts delivered: no overrun set up", delivered)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ep := nltest.NewEndpoint(testProto, nltest.Config{Groups: 1})
			c := dialFake(t, ep, &netlink.Config{Groups: 1, ReceiveBuffer: 64})
			tc.cause(t, ep, c)
			msgs, err := receiveT(t, c, context.Background())
			if !errors.Is(err, netlink.ErrOverrun) || !errors.Is(err, syscall.ENOBUFS) {
				t.Fatalf("Receive = %v, %v; want ErrOverrun matching ENOBUFS", msgs, err)
			}
			var oe *netlink.OpError
			if !errors.As(err, &oe) || oe.Op != "receive" {
				t.Fatalf("error %#v is not a receive *OpError", err)
			}
			if got := c.Stats().Overruns; got != 1 {
				t.Errorf("Stats().Overruns = %d, want 1", got)
			}
			// What was queued before the overrun is still there.
			msgs, err = receiveT(t, c, context.Background())
			if err != nil || len(msgs) != 1 || string(msgs[0].Data) != "0" {
				t.Fatalf("Receive after the overrun = %v, %v; want the first event", msgs, err)
			}
		})
	}
}

func TestMessagesOverrun(t *testing.T) {
	ep := nltest.NewEndpoint(testProto, nltest.Config{Groups: 1})
	c := dialFake(t, ep, &netlink.Config{Groups: 1})
	if _, err := ep.Multicast(1, fakeMsg(typeEvent, "a"), fakeMsg(typeEvent, "b")); err != nil {
		t.Fatal(err)
	}
	if err := ep.Overrun(c.PortID()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	trace := mustReturn(t, func() []string {
		var trace []string
		for m, err := range c.Messages(ctx) {
			switch {
			case errors.Is(err, netlink.ErrOverrun):
				trace = append(trace, "overrun")
			case err != nil:
				trace = append(trace, "error")
				t.Errorf("Messages: %v", err)
			default:
				trace = append(trace, string(m.Data))
				if string(m.Data) == "b" {
					// Another overrun while the loop runs, then an event.
					if err := ep.Overrun(c.PortID()); err != nil {
						t.Error(err)
					}
					if _, err := ep.Multicast(1, fakeMsg(typeEvent, "c")); err != nil {
						t.Error(err)
					}
				}
				if string(m.Data) == "c" {
					return trace
				}
			}
		}
		return append(trace, "end")
	})
	if s := strings.Join(trace, " "); s != "overrun a b overrun c" {
		t.Fatalf("Messages yielded %q, want %q", s, "overrun a b overrun c")
	}
	if got := c.Stats().Overruns; got != 2 {
		t.Errorf("Stats().Overruns = %d, want 2", got)
	}
}

func TestMessagesEndsWithContext(t *testing.T) {
	ep := nltest.NewEndpoint(testProto, nltest.Config{Groups: 1})
	c := dialFake(t, ep, &netlink.Config{Groups: 1})
	if _, err := ep.Multicast(1, fakeMsg(typeEvent, "a")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	trace := mustReturn(t, func() []string {
		var trace []string
		for m, err := range c.Messages(ctx) {
			if err != nil {
				trace = append(trace, "error")
				if !errors.Is(err, context.Canceled) {
					t.Errorf("Messages ended with %v, want context.Canceled", err)
				}
				continue
			}
			trace = append(trace, string(m.Data))
			cancel()
		}
		return append(trace, "end")
	})
	if s := strings.Join(trace, " "); s != "a error end" {
		t.Fatalf("Messages yielded %q, want %q", s, "a error end")
	}
	// Still usable.
	if _, err := ep.Multicast(1, fakeMsg(typeEvent, "b")); err != nil {
		t.Fatal(err)
	}
	if msgs, err := receiveT(t, c, context.Background()); err != nil || string(msgs[0].Data) != "b" {
		t.Fatalf("Receive after Messages: %v, %v", msgs, err)
	}
}

func TestMulticastDuringRequest(t *testing.T) {
	ep := nltest.NewEndpoint(testProto, nltest.Config{
		Groups:       1,
		DumpDatagram: 64,
		Input: func(r *nltest.Request) error {
			// The change the request makes is announced to the group
			// before the reply, as the kernel often does.
			if _, err := r.Multicast(1, fakeMsg(typeEvent, "event "+string(r.Message.Data))); err != nil {
				return err
			}
			if r.Message.Header.Flags&netlink.Dump == netlink.Dump {
				return r.Dump(numbered(10), nltest.DumpOptions{})
			}
			return echoInput(r)
		},
	})
	c := dialFake(t, ep, &netlink.Config{Groups: 1})
	replies, err := executeT(t, c, context.Background(), fakeMsg(typeSet, "1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(replies) != 1 || string(replies[0].Data) != "1" {
		t.Fatalf("Execute replies %v", replies)
	}
	msgs, errs := dumpAll(t, c, context.Background(), fakeMsg(typeGet, "2"))
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	checkNumbered(t, msgs, 10)
	for _, want := range []string{"event 1", "event 2"} {
		msgs, err := receiveT(t, c, context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 1 || string(msgs[0].Data) != want {
			t.Fatalf("Receive = %v, want %q", msgs, want)
		}
	}
}

func TestCloseUnblocksReceive(t *testing.T) {
	ep := nltest.NewEndpoint(testProto, nltest.Config{})
	c := dialFake(t, ep, nil)
	errc := make(chan error, 1)
	go func() {
		_, err := c.Receive(context.Background())
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond) // let it block; the opResult is the same if not
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("blocked Receive returned %v, want net.ErrClosed", err)
		}
	case <-time.After(hangTimeout):
		t.Fatal("Close did not unblock Receive")
	}
}

func TestOperationsAfterClose(t *testing.T) {
	ep := nltest.NewEndpoint(testProto, nltest.Config{Groups: 1, Input: echoInput})
	c, err := ep.Dial(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ops := []struct {
		name string
		op   func() error
	}{
		{"Close", c.Close},
		{"Execute", func() error { _, err := c.Execute(ctx, fakeMsg(typeGet, "")); return err }},
		{"Dump", func() error {
			for _, err := range c.Dump(ctx, fakeMsg(typeGet, "")) {
				return err
			}
			return nil
		}},
		{"Receive", func() error { _, err := c.Receive(ctx); return err }},
		{"Messages", func() error {
			for _, err := range c.Messages(ctx) {
				return err
			}
			return nil
		}},
		{"Send", func() error { _, err := c.Send(fakeMsg(typeGet, "")); return err }},
		{"SendMessages", func() error { _, err := c.SendMessages([]netlink.Message{fakeMsg(typeGet, "")}); return err }},
		{"JoinGroup", func() error { return c.JoinGroup(1) }},
		{"LeaveGroup", func() error { return c.LeaveGroup(1) }},
		{"SetOption", func() error { return c.SetOption(netlink.ExtendedAck, true) }},
		{"GetOption", func() error { _, err := c.GetOption(netlink.ExtendedAck); return err }},
		{"SetReceiveBuffer", func() error { return c.SetReceiveBuffer(4096, false) }},
		{"ReceiveBuffer", func() error { _, err := c.ReceiveBuffer(); return err }},
		{"SetDeadline", func() error { return c.SetDeadline(time.Now().Add(time.Hour)) }},
		{"SetReadDeadline", func() error { return c.SetReadDeadline(time.Now().Add(time.Hour)) }},
		{"SetWriteDeadline", func() error { return c.SetWriteDeadline(time.Now().Add(time.Hour)) }},
	}
	for _, tc := range ops {
		err := mustReturn(t, tc.op)
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("%s after Close: %v, want net.ErrClosed", tc.name, err)
		}
		var oe *netlink.OpError
		if err != nil && !errors.As(err, &oe) {
			t.Errorf("%s after Close: %T is not an *OpError", tc.name, err)
		}
	}
	if ports := ep.Ports(); len(ports) != 0 {
		t.Errorf("endpoint still has ports %v after Close", ports)
	}
}

func TestReadDeadline(t *testing.T) {
	ep := nltest.NewEndpoint(testProto, nltest.Config{Input: echoInput})
	c := dialFake(t, ep, nil)
	if err := c.SetReadDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	_, err := receiveT(t, c, context.Background())
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Receive past the deadline: %v, want os.ErrDeadlineExceeded", err)
	}
	var oe *netlink.OpError
	if !errors.As(err, &oe) || !oe.Timeout() || !os.IsTimeout(err) {
		t.Fatalf("error %#v does not report a timeout", err)
	}
	// A passed deadline fails Execute too, and clearing it restores service.
	if _, err := executeT(t, c, context.Background(), fakeMsg(typeGet, "x")); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Execute past the deadline: %v", err)
	}
	if err := c.SetDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	replies, err := executeT(t, c, context.Background(), fakeMsg(typeGet, "y"))
	if err != nil || len(replies) != 1 || string(replies[0].Data) != "y" {
		t.Fatalf("Execute after clearing the deadline = %v, %v", replies, err)
	}
	// The stale reply to "x" was skipped.
	if c.Stats().Stale == 0 {
		t.Error("the reply to the timed-out request was not counted as stale")
	}
}

func TestContextCancel(t *testing.T) {
	tests := []struct {
		name string
		op   func(ctx context.Context, c *netlink.Conn) error
	}{
		{"Receive", func(ctx context.Context, c *netlink.Conn) error {
			_, err := c.Receive(ctx)
			return err
		}},
		{"Execute", func(ctx context.Context, c *netlink.Conn) error {
			// A dump request the kernel leaves unanswered.
			m := fakeMsg(typeEvent, "")
			m.Header.Flags = netlink.Dump
			_, err := c.Execute(ctx, m)
			return err
		}},
		{"Dump", func(ctx context.Context, c *netlink.Conn) error {
			for _, err := range c.Dump(ctx, fakeMsg(typeEvent, "")) {
				return err
			}
			return errors.New("Dump ended without an error")
		}},
		{"Messages", func(ctx context.Context, c *netlink.Conn) error {
			for _, err := range c.Messages(ctx) {
				return err
			}
			return errors.New("Messages ended without an error")
		}},
	}
	for _, tc := range tests {
		for _, kind := range []string{"cancel", "timeout", "cancelled before"} {
			t.Run(tc.name+"/"+kind, func(t *testing.T) {
				var pending []uint32 // unanswered dumps
				var requests int
				ep := nltest.NewEndpoint(testProto, nltest.Config{Input: func(r *nltest.Request) error {
					requests++
					if r.Message.Header.Type == typeEvent {
						// Never answered while the test waits.
						pending = append(pending, r.Message.Header.Sequence)
						return nil
					}
					return echoInput(r)
				}})
				c := dialFake(t, ep, nil)
				// A deadline far away, which cancellation must not lose.
				if err := c.SetReadDeadline(time.Now().Add(time.Hour)); err != nil {
					t.Fatal(err)
				}
				var ctx context.Context
				var cancel context.CancelFunc
				want := context.Canceled
				switch kind {
				case "cancel":
					ctx, cancel = context.WithCancel(context.Background())
					time.AfterFunc(20*time.Millisecond, cancel)
				case "timeout":
					ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
					want = context.DeadlineExceeded
				case "cancelled before":
					ctx, cancel = context.WithCancel(context.Background())
					cancel()
				}
				defer cancel()
				err := mustReturn(t, func() error { return tc.op(ctx, c) })
				if !errors.Is(err, want) {
					t.Fatalf("%s: %v, want %v", tc.name, err, want)
				}
				var oe *netlink.OpError
				if !errors.As(err, &oe) {
					t.Fatalf("%T is not an *OpError", err)
				}
				if kind == "timeout" && !oe.Timeout() {
					t.Errorf("OpError.Timeout() = false for %v", err)
				}
				if kind == "cancelled before" && requests != 0 {
					t.Errorf("the kernel received %d requests on a cancelled context", requests)
				}
				// The kernel finishes the unanswered dumps late.
				for _, seq := range pending {
					done := netlink.Message{Header: netlink.Header{Type: netlink.Done, Flags: netlink.Multi, Sequence: seq}, Data: make([]byte, 4)}
					if err := ep.Unicast(c.PortID(), done); err != nil {
						t.Fatal(err)
					}
				}
				// The Conn works afterwards: the read deadline is back.
				replies, err := executeT(t, c, context.Background(), fakeMsg(typeGet, "after"))
				if err != nil || len(replies) != 1 || string(replies[0].Data) != "after" {
					t.Fatalf("Execute after cancellation = %v, %v", replies, err)
				}
				if err := ep.Unicast(c.PortID(), fakeMsg(typeEvent, "event")); err != nil {
					t.Fatal(err)
				}
				msgs, err := receiveT(t, c, context.Background())
				if err != nil || string(msgs[0].Data) != "event" {
					t.Fatalf("Receive after cancellation = %v, %v", msgs, err)
				}
			})
		}
	}
}

func TestContextRestoresDeadline(t *testing.T) {
	ep := nltest.NewEndpoint(testProto, nltest.Config{})
	c := dialFake(t, ep, nil)
	if err := c.SetReadDeadline(time.Now().Add(500 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(20*time.Millisecond, cancel)
	// Normally the cancellation comes first; on a stalled machine the
	// deadline may. Either way the deadline must be in force afterwards.
	_, err := receiveT(t, c, ctx)
	if !errors.Is(err, context.Canceled) && !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Receive: %v", err)
	}
	// Without a context, the Conn's own deadline still applies: Receive
	// times out instead of blocking for ever.
	if _, err := receiveT(t, c, context.Background()); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Receive after a cancelled one: %v, want the Conn's deadline", err)
	}
}

func TestSend(t *testing.T) {
	var seen []netlink.Header
	ep := nltest.NewEndpoint(testProto, nltest.Config{Input: func(r *nltest.Request) error {
		seen = append(seen, r.Message.Header)
		return echoInput(r)
	}})
	c := dialFake(t, ep, nil)
	m := fakeMsg(typeGet, "ping")
	m.Header.Flags = netlink.Request
	sent, err := c.Send(m)
	if err != nil {
		t.Fatal(err)
	}
	if sent.Header.Sequence == 0 || sent.Header.PID != c.PortID() || sent.Header.Flags != netlink.Request {
		t.Fatalf("Send returned %+v, want sequence and port filled in, flags as given", sent.Header)
	}
	if len(seen) != 1 || seen[0].Sequence != sent.Header.Sequence || seen[0].PID != c.PortID() {
		t.Fatalf("kernel saw %+v, Send returned %+v", seen, sent.Header)
	}
	msgs, err := receiveT(t, c, context.Background())
	if err != nil || len(msgs) != 1 || string(msgs[0].Data) != "ping" || msgs[0].Header.Sequence != sent.Header.Sequence {
		t.Fatalf("Receive = %v, %v", msgs, err)
	}

	// A sequence and port given are kept.
	m.Header.Sequence, m.Header.PID = 77, 1
	sent, err = c.Send(m)
	if err != nil || sent.Header.Sequence != 77 || sent.Header.PID != 1 || seen[1].Sequence != 77 {
		t.Fatalf("Send with a sequence = %+v, %v", sent.Header, err)
	}

	// Without NLM_F_REQUEST the kernel ignores a message.
	if _, err := c.Send(fakeMsg(typeGet, "ignored")); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 {
		t.Fatalf("kernel handled a message without NLM_F_REQUEST")
	}
}

func TestSendMessages(t *testing.T) {
	var seen []uint32
	ep := nltest.NewEndpoint(testProto, nltest.Config{Input: func(r *nltest.Request) error {
		seen = append(seen, r.Message.Header.Sequence)
		return nil
	}})
	c := dialFake(t, ep, nil)
	in := []netlink.Message{fakeMsg(typeSet, "a"), fakeMsg(typeSet, "b"), fakeMsg(typeSet, "c")}
	for i := range in {
		in[i].Header.Flags = netlink.Request | netlink.Acknowledge
	}
	out, err := c.SendMessages(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 3 {
		t.Fatalf("SendMessages returned %d messages", len(out))
	}
	for i := range in {
		if in[i].Header.Sequence != 0 {
			t.Errorf("SendMessages modified its argument")
		}
		if out[i].Header.Sequence == 0 || out[i].Header.PID != c.PortID() || out[i].Header.Sequence != seen[i] {
			t.Errorf("message %d sent as %+v, kernel saw seq %d", i, out[i].Header, seen[i])
		}
	}
	if out[0].Header.Sequence == out[1].Header.Sequence || out[1].Header.Sequence == out[2].Header.Sequence {
		t.Errorf("messages share sequence numbers: %d %d %d", out[0].Header.Sequence, out[1].Header.Sequence, out[2].Header.Sequence)
	}
	for i := range 3 {
		msgs, err := receiveT(t, c, context.Background())
		if err != nil {
			t.Fatal(err)
		}
		info, err := netlink.ParseAck(msgs[0].Header.Flags, msgs[0].Data)
		if msgs[0].Header.Type != netlink.Error || err != nil || info.Errno != 0 || info.Request.Sequence != out[i].Header.Sequence {
			t.Fatalf("ack %d = %+v %+v %v", i, msgs[0].Header, info, err)
		}
	}
}

func TestConcurrentExecute(t *testing.T) {
	ep := nltest.NewEndpoint(testProto, nltest.Config{Input: echoInput})
	c := dialFake(t, ep, nil)
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				want := fmt.Sprintf("goroutine %d request %d", g, i)
				replies, err := c.Execute(context.Background(), fakeMsg(typeGet, want))
				if err != nil {
					errc <- err
					return
				}
				if len(replies) != 1 || string(replies[0].Data) != want {
					errc <- fmt.Errorf("%q got replies %v", want, replies)
					return
				}
			}
		})
	}
	mustReturn(t, func() bool { wg.Wait(); return true })
	close(errc)
	for err := range errc {
		t.Error(err)
	}
}

func TestOptions(t *testing.T) {
	ep := nltest.NewEndpoint(testProto, nltest.Config{})
	c := dialFake(t, ep, nil)
	for _, o := range []netlink.Option{netlink.ExtendedAck, netlink.GetStrictCheck, netlink.CapAck, netlink.NoENOBUFS} {
		for _, on := range []bool{true, false, true} {
			if err := c.SetOption(o, on); err != nil {
				t.Fatalf("SetOption(%v, %v): %v", o, on, err)
			}
			got, err := c.GetOption(o)
			if err != nil || got != on {
				t.Fatalf("GetOption(%v) = %v, %v; want %v", o, got, err, on)
			}
		}
	}
	_, err := c.GetOption(netlink.ListenAllNSID)
	var oe *netlink.OpError
	if !errors.Is(err, syscall.ENOPROTOOPT) || !errors.As(err, &oe) || oe.Op != "get option listen-all-nsid" {
		t.Fatalf("GetOption of an unsupported option: %#v", err)
	}
	if err := c.SetOption(netlink.Option(99), true); !errors.Is(err, syscall.ENOPROTOOPT) || !strings.Contains(err.Error(), "option(99)") {
		t.Fatalf("SetOption(99): %v", err)
	}
}

func TestOptionsSeenByKernel(t *testing.T) {
	type opts struct{ extAck, strict bool }
	var got opts
	ep := nltest.NewEndpoint(testProto, nltest.Config{Input: func(r *nltest.Request) error {
		got = opts{r.ExtendedAck, r.Strict}
		return nil
	}})
	tests := []struct {
		name string
		cfg  *netlink.Config
		set  func(c *netlink.Conn) error
		want opts
	}{
		{name: "defaults", want: opts{extAck: true}},
		{name: "strict", cfg: &netlink.Config{Strict: true}, want: opts{extAck: true, strict: true}},
		{name: "no extended ack", cfg: &netlink.Config{DisableExtendedAck: true}, want: opts{}},
		{
			name: "set later", cfg: &netlink.Config{DisableExtendedAck: true},
			set: func(c *netlink.Conn) error {
				if err := c.SetOption(netlink.ExtendedAck, true); err != nil {
					return err
				}
				return c.SetOption(netlink.GetStrictCheck, true)
			},
			want: opts{extAck: true, strict: true},
		},
		{
			name: "turned off",
			set:  func(c *netlink.Conn) error { return c.SetOption(netlink.ExtendedAck, false) },
			want: opts{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := dialFake(t, ep, tc.cfg)
			if tc.set != nil {
				if err := tc.set(c); err != nil {
					t.Fatal(err)
				}
			}
			got = opts{!tc.want.extAck, !tc.want.strict}
			if _, err := executeT(t, c, context.Background(), fakeMsg(typeSet, "")); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("kernel saw %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestReceiveBuffer(t *testing.T) {
	tests := []struct {
		name         string
		unprivileged bool
		n            int
		force        bool
		want         int
		wantErr      error
	}{
		{name: "plain", n: 100000, want: 200000},
		{name: "capped at rmem_max", n: 1 << 20, want: 2 * 212992},
		{name: "forced", n: 1 << 20, force: true, want: 2 << 20},
		{name: "forced unprivileged", unprivileged: true, n: 1 << 20, force: true, wantErr: syscall.EPERM},
		{name: "plain unprivileged", unprivileged: true, n: 1000, want: 2000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ep := nltest.NewEndpoint(testProto, nltest.Config{Unprivileged: tc.unprivileged})
			c := dialFake(t, ep, nil)
			before, err := c.ReceiveBuffer()
			if err != nil || before != 212992 {
				t.Fatalf("default ReceiveBuffer = %d, %v", before, err)
			}
			err = c.SetReceiveBuffer(tc.n, tc.force)
			if tc.wantErr != nil {
				var oe *netlink.OpError
				if !errors.Is(err, tc.wantErr) || !errors.As(err, &oe) || oe.Op != "set SO_RCVBUFFORCE" {
					t.Fatalf("SetReceiveBuffer = %#v, want %v", err, tc.wantErr)
				}
				if got, _ := c.ReceiveBuffer(); got != before {
					t.Fatalf("failed SetReceiveBuffer changed the size to %d", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, err := c.ReceiveBuffer(); err != nil || got != tc.want {
				t.Fatalf("ReceiveBuffer = %d, %v; want %d", got, err, tc.want)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writes and reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) Lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Split(strings.TrimSuffix(b.b.String(), "\n"), "\n")
}

func TestDebug(t *testing.T) {
	ep := nltest.NewEndpoint(testProto, nltest.Config{Groups: 1, Input: func(r *nltest.Request) error {
		if string(r.Message.Data) == "fail" {
			return &nltest.Error{Errno: syscall.EINVAL, Message: "no failing", Offset: 16}
		}
		return echoInput(r)
	}})
	var w syncBuffer
	c := dialFake(t, ep, &netlink.Config{Debug: &w})
	replies, err := executeT(t, c, context.Background(), fakeMsg(typeGet, "hello"))
	if err != nil || len(replies) != 1 {
		t.Fatal(replies, err)
	}
	seq := replies[0].Header.Sequence
	port := c.PortID()
	if _, err := executeT(t, c, context.Background(), fakeMsg(typeGet, "fail")); err == nil {
		t.Fatal("no error")
	}
	if err := ep.SpoofUnicast(4242, port, fakeMsg(typeEvent, "forged")); err != nil {
		t.Fatal(err)
	}
	if err := ep.Unicast(port, fakeMsg(typeEvent, "real")); err != nil {
		t.Fatal(err)
	}
	if _, err := receiveT(t, c, context.Background()); err != nil {
		t.Fatal(err)
	}

	want := []string{
		fmt.Sprintf("nlkit: send proto=31 {len=21 type=0x10 flags=request|ack seq=%d pid=%d} payload=5B", seq, port),
		fmt.Sprintf("nlkit: recv proto=31 {len=21 type=0x10 flags=0 seq=%d pid=%d} payload=5B", seq, port),
		fmt.Sprintf("nlkit: recv proto=31 {len=36 type=error flags=0x100 seq=%d pid=%d} ack{seq=%d}", seq, port, seq),
		fmt.Sprintf("nlkit: send proto=31 {len=20 type=0x10 flags=request|ack seq=%d pid=%d} payload=4B", seq+1, port),
		fmt.Sprintf(`nlkit: recv proto=31 {len=64 type=error flags=0x200 seq=%d pid=%d} error{errno=22 "invalid argument" seq=%d msg="no failing" offset=16}`, seq+1, port, seq+1),
		fmt.Sprintf("nlkit: drop proto=31 from port 4242 (%d bytes): %v", 24, netlink.ErrSpoofed),
		fmt.Sprintf("nlkit: recv proto=31 {len=20 type=0x12 flags=0 seq=0 pid=0} payload=4B"),
	}
	got := w.Lines()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("debug output:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestDebugHex(t *testing.T) {
	t.Setenv(netlink.DebugEnv, "2")
	ep := nltest.NewEndpoint(testProto, nltest.Config{Input: echoInput})
	var w syncBuffer
	c := dialFake(t, ep, &netlink.Config{Debug: &w})
	if _, err := executeT(t, c, context.Background(), fakeMsg(typeGet, "ABC")); err != nil {
		t.Fatal(err)
	}
	lines := w.Lines()
	var dumps int
	for _, l := range lines {
		if strings.HasPrefix(l, "nlkit:   00000000  41 42 43") {
			dumps++
		}
	}
	if dumps != 2 { // the request and the reply
		t.Fatalf("found %d hex dumps of the payload in:\n%s", dumps, strings.Join(lines, "\n"))
	}
}

func TestDebugEnv(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want int // lines printed to standard error
	}{
		{env: "1", want: 3}, // request, reply, ack
		{env: "0"},
		{env: ""},
	} {
		t.Run("NLKIT_DEBUG="+tc.env, func(t *testing.T) {
			t.Setenv(netlink.DebugEnv, tc.env)
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			stderr := os.Stderr
			os.Stderr = w // the debugger picks standard error at Dial
			ep := nltest.NewEndpoint(testProto, nltest.Config{Input: echoInput})
			c, err := ep.Dial(nil)
			os.Stderr = stderr
			if err != nil {
				t.Fatal(err)
			}
			_, err = executeT(t, c, context.Background(), fakeMsg(typeGet, "quiet"))
			c.Close()
			w.Close()
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if _, err := out.ReadFrom(r); err != nil {
				t.Fatal(err)
			}
			if got := strings.Count(out.String(), "nlkit: "); got != tc.want {
				t.Fatalf("%d debug lines, want %d:\n%s", got, tc.want, out.String())
			}
		})
	}
}

func TestFormatMessage(t *testing.T) {
	req := netlink.Message{Header: netlink.Header{Type: 0x10, Flags: netlink.Request | netlink.Acknowledge, Sequence: 5, PID: 9}, Data: []byte("xy")}
	ack, ackFlags := netlink.MarshalAck(req, netlink.AckInfo{Offset: -1}, true)
	warn, warnFlags := netlink.MarshalAck(req, netlink.AckInfo{Offset: -1, Message: "careful"}, true)
	fail, failFlags := netlink.MarshalAck(req, netlink.AckInfo{Errno: syscall.ENOENT, Offset: -1}, false)
	tests := []struct {
		name string
		m    netlink.Message
		want string
	}{
		{"request", req, "{len=0 type=0x10 flags=request|ack seq=5 pid=9} payload=2B"},
		{"ack", netlink.Message{Header: netlink.Header{Length: 36, Type: netlink.Error, Flags: ackFlags}, Data: ack},
			"{len=36 type=error flags=0x100 seq=0 pid=0} ack{seq=5}"},
		{"ack with warning", netlink.Message{Header: netlink.Header{Type: netlink.Error, Flags: warnFlags}, Data: warn},
			`{len=0 type=error flags=0x300 seq=0 pid=0} ack{seq=5} warning="careful"`},
		{"error", netlink.Message{Header: netlink.Header{Type: netlink.Error, Flags: failFlags}, Data: fail},
			`{len=0 type=error flags=0 seq=0 pid=0} error{errno=2 "no such file or directory" seq=5}`},
		{"malformed error", netlink.Message{Header: netlink.Header{Type: netlink.Error}, Data: []byte{1}},
			"{len=0 type=error flags=0 seq=0 pid=0} error=<netlink: message shorter than its header: error message of 1 bytes>"},
		{"done", netlink.Message{Header: netlink.Header{Type: netlink.Done, Flags: netlink.Multi}, Data: ne32(uint32(0xffffffff))},
			"{len=0 type=done flags=multi seq=0 pid=0} status=-1"},
		{"bare done", netlink.Message{Header: netlink.Header{Type: netlink.Done}}, "{len=0 type=done flags=0 seq=0 pid=0}"},
	}
	for _, tc := range tests {
		if got := netlink.FormatMessage(tc.m); got != tc.want {
			t.Errorf("%s: FormatMessage =\n%s\nwant\n%s", tc.name, got, tc.want)
		}
	}
}

func TestOptionString(t *testing.T) {
	for _, tc := range []struct {
		o    netlink.Option
		want string
	}{
		{netlink.ExtendedAck, "ext-ack"}, {netlink.GetStrictCheck, "strict-check"}, {netlink.CapAck, "cap-ack"},
		{netlink.NoENOBUFS, "no-enobufs"}, {netlink.ListenAllNSID, "listen-all-nsid"},
		{netlink.PacketInfo, "pktinfo"}, {netlink.BroadcastError, "broadcast-error"}, {netlink.Option(42), "option(42)"},
	} {
		if got := tc.o.String(); got != tc.want {
			t.Errorf("Option(%d).String() = %q, want %q", int(tc.o), got, tc.want)
		}
	}
}

func TestNetNSPath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"blue", "/run/netns/blue"},
		{"/proc/1/ns/net", "/proc/1/ns/net"},
		{"./ns", "./ns"},
	} {
		if got := netlink.NetNSPath(tc.in); got != tc.want {
			t.Errorf("NetNSPath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNewConnNilConfig(t *testing.T) {
	ep := nltest.NewEndpoint(testProto, nltest.Config{Input: echoInput})
	c := dialFake(t, ep, nil)
	if c.PortID() == 0 {
		t.Fatal("PortID = 0")
	}
	c2 := dialFake(t, ep, &netlink.Config{PortID: 5555})
	if c2.PortID() != 5555 {
		t.Fatalf("PortID = %d, want 5555", c2.PortID())
	}
}

func TestDumpOverrun(t *testing.T) {
	tests := []struct {
		name string
		// during: the overrun comes while the dump runs; otherwise the
		// loop stops after it and the next dump drains the rest.
		during bool
	}{
		{name: "overrun during the dump", during: true},
		{name: "overrun while draining an abandoned dump"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ep := nltest.NewEndpoint(testProto, nltest.Config{
				Groups:       1,
				DumpDatagram: 64,
				Input: func(r *nltest.Request) error {
					if r.Message.Header.Type == typeSet {
						return nil
					}
					return r.Dump(numbered(100), nltest.DumpOptions{})
				},
			})
			c := dialFake(t, ep, &netlink.Config{Groups: 1})
			trace := mustReturn(t, func() []string {
				var trace []string
				n := 0
				for _, err := range c.Dump(context.Background(), fakeMsg(typeGet, "")) {
					if err != nil {
						if errors.Is(err, netlink.ErrOverrun) {
							trace = append(trace, "overrun")
						} else {
							trace = append(trace, err.Error())
						}
						continue
					}
					if n++; n == 5 {
						// Events were lost: the kernel reports ENOBUFS.
						if err := ep.Overrun(c.PortID()); err != nil {
							t.Error(err)
						}
						if !tc.during {
							break
						}
					}
				}
				return append(trace, fmt.Sprint(n, " messages"))
			})
			want := "5 messages"
			if tc.during {
				// The rest of the datagram holding message 5 comes first.
				want = "overrun, 6 messages"
			}
			if s := strings.Join(trace, ", "); s != want {
				t.Fatalf("first dump: %s, want %s", s, want)
			}
			// The kernel still runs the first dump (dumps are paused, not
			// dropped, when the buffer fills): the Conn must drain it, or
			// the kernel refuses the next one with EBUSY.
			msgs, errs := dumpAll(t, c, context.Background(), fakeMsg(typeGet, ""))
			if len(errs) != 0 {
				t.Fatalf("second dump: %v", errs)
			}
			checkNumbered(t, msgs, 100)
			if _, err := executeT(t, c, context.Background(), fakeMsg(typeSet, "")); err != nil {
				t.Fatalf("Execute: %v", err)
			}
			if !tc.during {
				// The overrun met while draining is not swallowed: the
				// event reader learns that events were lost.
				if _, err := receiveT(t, c, context.Background()); !errors.Is(err, netlink.ErrOverrun) {
					t.Fatalf("Receive after the drained overrun: %v, want ErrOverrun", err)
				}
			}
			if got := c.Stats().Overruns; got != 1 {
				t.Errorf("Stats().Overruns = %d, want 1", got)
			}
		})
	}
}

func TestPendingMulticastOverflow(t *testing.T) {
	const events = 1100 // more than a Conn keeps while a request runs
	ep := nltest.NewEndpoint(testProto, nltest.Config{Groups: 1, Input: func(r *nltest.Request) error {
		for i := range events {
			if _, err := r.Multicast(1, netlink.Message{Header: netlink.Header{Type: typeEvent}, Data: ne32(uint32(i))}); err != nil {
				return err
			}
		}
		return echoInput(r)
	}})
	c := dialFake(t, ep, &netlink.Config{Groups: 1})
	if replies, err := executeT(t, c, context.Background(), fakeMsg(typeGet, "x")); err != nil || len(replies) != 1 {
		t.Fatalf("Execute = %v, %v", replies, err)
	}
	// The events kept come first, in order, then the loss is reported.
	i := 0
	for {
		msgs, err := receiveT(t, c, context.Background())
		if errors.Is(err, netlink.ErrOverrun) {
			break
		}
		if err != nil {
			t.Fatalf("after %d events: %v", i, err)
		}
		if binary.NativeEndian.Uint32(msgs[0].Data) != uint32(i) {
			t.Fatalf("event %d out of order", i)
		}
		i++
	}
	if i == 0 || i >= events {
		t.Fatalf("%d events before the overrun, want some but not all %d", i, events)
	}
	if got := c.Stats().Overruns; got != 1 {
		t.Errorf("Stats().Overruns = %d, want 1", got)
	}
	// Then the Conn goes on.
	if _, err := ep.Multicast(1, fakeMsg(typeEvent, "next")); err != nil {
		t.Fatal(err)
	}
	if msgs, err := receiveT(t, c, context.Background()); err != nil || string(msgs[0].Data) != "next" {
		t.Fatalf("Receive after the overrun = %v, %v", msgs, err)
	}
}

func TestDrainKeepsMulticast(t *testing.T) {
	ep := nltest.NewEndpoint(testProto, nltest.Config{
		Groups:       1,
		DumpDatagram: 64,
		Input: func(r *nltest.Request) error {
			return r.Dump(numbered(30), nltest.DumpOptions{})
		},
	})
	c := dialFake(t, ep, &netlink.Config{Groups: 1})
	mustReturn(t, func() bool {
		for _, err := range c.Dump(context.Background(), fakeMsg(typeGet, "")) {
			if err != nil {
				t.Error(err)
			}
			break
		}
		return true
	})
	// An event arrives while the rest of the abandoned dump waits.
	if _, err := ep.Multicast(1, fakeMsg(typeEvent, "event")); err != nil {
		t.Fatal(err)
	}
	msgs, errs := dumpAll(t, c, context.Background(), fakeMsg(typeGet, ""))
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	checkNumbered(t, msgs, 30)
	if msgs, err := receiveT(t, c, context.Background()); err != nil || string(msgs[0].Data) != "event" {
		t.Fatalf("Receive = %v, %v; want the event read while draining", msgs, err)
	}
}

func TestMalformedReplies(t *testing.T) {
	tests := []struct {
		name    string
		reply   netlink.Message
		wantErr error // nil: success
	}{
		{
			name:    "short error message",
			reply:   netlink.Message{Header: netlink.Header{Type: netlink.Error}, Data: []byte{1, 2, 3}},
			wantErr: netlink.ErrShortMessage,
		},
		{
			name:    "error with bad extended ack",
			reply:   netlink.Message{Header: netlink.Header{Type: netlink.Error, Flags: netlink.Capped | netlink.AckTLVs}, Data: append(make([]byte, 20), 9, 0, 1, 0)},
			wantErr: netlink.ErrAttribute,
		},
		{
			name:  "done without status in a request",
			reply: netlink.Message{Header: netlink.Header{Type: netlink.Done}},
		},
		{
			name:    "overrun message",
			reply:   netlink.Message{Header: netlink.Header{Type: netlink.Overrun}},
			wantErr: netlink.ErrOverrun,
		},
		{
			name:  "noop",
			reply: netlink.Message{Header: netlink.Header{Type: netlink.Noop}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ep := nltest.NewEndpoint(testProto, nltest.Config{Input: func(r *nltest.Request) error {
				return r.Reply(tc.reply)
			}})
			c := dialFake(t, ep, nil)
			replies, err := executeT(t, c, context.Background(), fakeMsg(typeGet, ""))
			if tc.wantErr == nil {
				if err != nil || len(replies) != 0 {
					t.Fatalf("Execute = %v, %v; want an ack and no replies", replies, err)
				}
				return
			}
			var oe *netlink.OpError
			if !errors.Is(err, tc.wantErr) || !errors.As(err, &oe) {
				t.Fatalf("Execute: %#v, want an *OpError wrapping %v", err, tc.wantErr)
			}
		})
	}
}

func TestExecuteDumpInterrupted(t *testing.T) {
	ep := nltest.NewEndpoint(testProto, nltest.Config{
		DumpDatagram: 128,
		Input: func(r *nltest.Request) error {
			return r.Dump(numbered(50), nltest.DumpOptions{Interrupted: true})
		},
	})
	c := dialFake(t, ep, nil)
	m := fakeMsg(typeGet, "")
	m.Header.Flags = netlink.Dump
	replies, err := executeT(t, c, context.Background(), m)
	if !errors.Is(err, netlink.ErrDumpInterrupted) {
		t.Fatalf("Execute of an interrupted dump = %d replies, %v; want ErrDumpInterrupted", len(replies), err)
	}
}

// deadlineWriter is a Config.Debug writer that, at the nth datagram
// received, sets the Conn's read deadline in the past: the next read of
// the running operation then fails, deterministically, mid-dump.
type deadlineWriter struct {
	mu   sync.Mutex
	c    *netlink.Conn
	recv int
	nth  int
}

func (w *deadlineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if bytes.HasPrefix(p, []byte("nlkit: recv")) {
		if w.recv++; w.recv == w.nth && w.c != nil {
			_ = w.c.SetReadDeadline(time.Unix(1, 0))
		}
	}
	return len(p), nil
}

func TestAbandonedDumpIsDrained(t *testing.T) {
	tests := []struct {
		name string
		op   func(c *netlink.Conn) error
	}{
		{"Dump", func(c *netlink.Conn) error {
			for _, err := range c.Dump(context.Background(), fakeMsg(typeGet, "")) {
				if err != nil {
					return err
				}
			}
			return nil
		}},
		{"Execute with NLM_F_DUMP", func(c *netlink.Conn) error {
			m := fakeMsg(typeGet, "")
			m.Header.Flags = netlink.Dump
			_, err := c.Execute(context.Background(), m)
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ep := nltest.NewEndpoint(testProto, nltest.Config{
				DumpDatagram: 64,
				Input: func(r *nltest.Request) error {
					if r.Message.Header.Type == typeSet {
						return nil
					}
					return r.Dump(numbered(200), nltest.DumpOptions{})
				},
			})
			w := &deadlineWriter{nth: 3}
			c := dialFake(t, ep, &netlink.Config{Debug: w})
			w.mu.Lock()
			w.c = c
			w.mu.Unlock()
			err := mustReturn(t, func() error { return tc.op(c) })
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("%s past the deadline: %v", tc.name, err)
			}
			if err := c.SetReadDeadline(time.Time{}); err != nil {
				t.Fatal(err)
			}
			// The kernel is still dumping: the next dump must drain the
			// rest of the first, or the kernel answers EBUSY.
			msgs, errs := dumpAll(t, c, context.Background(), fakeMsg(typeGet, ""))
			if len(errs) != 0 {
				t.Fatalf("next dump: %v", errs)
			}
			checkNumbered(t, msgs, 200)
		})
	}
}

func TestCloseUnblocks(t *testing.T) {
	tests := []struct {
		name string
		op   func(c *netlink.Conn) error
	}{
		{"Receive", func(c *netlink.Conn) error { _, err := c.Receive(context.Background()); return err }},
		{"Execute", func(c *netlink.Conn) error {
			m := fakeMsg(typeEvent, "") // a dump the kernel never answers
			m.Header.Flags = netlink.Dump
			_, err := c.Execute(context.Background(), m)
			return err
		}},
		{"Dump", func(c *netlink.Conn) error {
			for _, err := range c.Dump(context.Background(), fakeMsg(typeEvent, "")) {
				return err
			}
			return errors.New("Dump ended without an error")
		}},
		{"Messages", func(c *netlink.Conn) error {
			for _, err := range c.Messages(context.Background()) {
				return err
			}
			return errors.New("Messages ended without an error")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ep := nltest.NewEndpoint(testProto, nltest.Config{Input: func(*nltest.Request) error { return nil }})
			c := dialFake(t, ep, nil)
			time.AfterFunc(20*time.Millisecond, func() { _ = c.Close() })
			err := mustReturn(t, func() error { return tc.op(c) })
			if !errors.Is(err, net.ErrClosed) {
				t.Fatalf("%s on Close: %v, want net.ErrClosed", tc.name, err)
			}
			var oe *netlink.OpError
			if !errors.As(err, &oe) {
				t.Fatalf("%T is not an *OpError", err)
			}
		})
	}
}

func TestReceiveOwnsMemory(t *testing.T) {
	ep := nltest.NewEndpoint(testProto, nltest.Config{})
	c := dialFake(t, ep, nil)
	for _, s := range []string{"first", "second"} {
		if err := ep.Unicast(c.PortID(), fakeMsg(typeEvent, s)); err != nil {
			t.Fatal(err)
		}
	}
	first, err := receiveT(t, c, context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := receiveT(t, c, context.Background()); err != nil {
		t.Fatal(err)
	}
	if string(first[0].Data) != "first" {
		t.Fatalf("the first message became %q after the next Receive", first[0].Data)
	}
}

// A call waiting for a Conn that another goroutine holds (here a Dump
// loop paused between messages) gives up when its own context ends.
func TestWaitForConnHonoursContext(t *testing.T) {
	ep := nltest.NewEndpoint(31, nltest.Config{Input: func(r *nltest.Request) error {
		if r.Message.Header.Flags&netlink.Dump == netlink.Dump {
			return r.Dump([]netlink.Message{fakeMsg(0x10, "a"), fakeMsg(0x10, "b")}, nltest.DumpOptions{})
		}
		return nil
	}})
	c := dialFake(t, ep, nil)
	next, stop := iter.Pull2(c.Dump(context.Background(), fakeMsg(0x10, "")))
	if _, err, ok := next(); !ok || err != nil {
		t.Fatalf("first dump message: %v %v", ok, err)
	}
	// The paused Dump holds the Conn.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	_, err := c.Execute(ctx, fakeMsg(0x11, "x"))
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Execute behind a paused Dump: want DeadlineExceeded, got %v", err)
	}
	stop() // abandons the dump; the next request drains it
	if _, err := c.Execute(context.Background(), fakeMsg(0x11, "x")); err != nil {
		t.Fatalf("after the dump: %v", err)
	}
}

// A reply much larger than the initial receive buffer comes back whole
// from the fake kernel too.
func TestLargeReplyNotTruncated(t *testing.T) {
	payload := make([]byte, 300_000)
	for i := range payload {
		payload[i] = byte(i)
	}
	ep := nltest.NewEndpoint(31, nltest.Config{ReceiveBuffer: 1 << 21, Input: func(r *nltest.Request) error {
		return r.Reply(netlink.Message{Header: netlink.Header{Type: 0x10}, Data: payload})
	}})
	c := dialFake(t, ep, nil)
	replies, err := c.Execute(context.Background(), fakeMsg(0x10, "big please"))
	if err != nil {
		t.Fatal(err)
	}
	if len(replies) != 1 || string(replies[0].Data) != string(payload) {
		t.Fatalf("reply cut or changed: %d bytes", len(replies[0].Data))
	}
}

// With ReadBufferSize a datagram is read in one call; one too large for
// it is reported as ErrTruncated, never handed out cut, and the next
// datagram reads normally.
func TestReadBufferSize(t *testing.T) {
	ep := nltest.NewEndpoint(31, nltest.Config{Groups: 1, ReceiveBuffer: 1 << 20})
	c := dialFake(t, ep, &netlink.Config{Groups: 1, ReadBufferSize: 1024})
	small := netlink.Message{Header: netlink.Header{Type: 0x12}, Data: make([]byte, 100)}
	big := netlink.Message{Header: netlink.Header{Type: 0x12}, Data: make([]byte, 5000)}
	for _, m := range []netlink.Message{small, big, small} {
		if _, err := ep.Multicast(1, m); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	if msgs, err := c.Receive(ctx); err != nil || len(msgs[0].Data) != 100 {
		t.Fatalf("first: %v %v", msgs, err)
	}
	if _, err := c.Receive(ctx); !errors.Is(err, netlink.ErrTruncated) {
		t.Fatalf("oversized datagram: want ErrTruncated, got %v", err)
	}
	if msgs, err := c.Receive(ctx); err != nil || len(msgs[0].Data) != 100 {
		t.Fatalf("after the oversized one: %v %v", msgs, err)
	}
}
