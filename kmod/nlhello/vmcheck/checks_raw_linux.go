package main

import (
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nlkit/nlkit/hello"
	"github.com/nlkit/nlkit/netlink"
)

// checkRawHello: the round trip through hello.Client, then the reply's
// header byte by byte through the library's Conn.
func checkRawHello(e *env) error {
	c, err := client(e)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := sayHello(c, "Hello world"); err != nil {
		return err
	}
	logf("hello.Client.Hello(%q) -> %q (port %d)", "Hello world", hello.ReplyText, c.Conn().PortID())

	// Without NLM_F_ACK: one reply and nothing else.
	nc := c.Conn()
	req := netlink.Message{Header: netlink.Header{Type: hello.MsgHello, Flags: netlink.Request, Sequence: 42}, Data: []byte("Hello world\x00")}
	_, got, err := exchange(nc, req)
	if err != nil {
		return err
	}
	if len(got) != 1 {
		return fmt.Errorf("want one message, got %d", len(got))
	}
	if err := checkHelloMsg(got[0], 42); err != nil {
		return err
	}
	logf("reply %s %q", fmtMsg(got[0]), got[0].Data)
	if err := nothingMore(nc, 100*time.Millisecond); err != nil {
		return err
	}
	if st := nc.Stats(); st != (netlink.Stats{}) {
		return fmt.Errorf("the Conn dropped messages: %+v", st)
	}
	return nil
}

// checkRawHelloAck: with NLM_F_ACK the reply comes first, then a capped
// acknowledgement carrying the requester's port.
func checkRawHelloAck(e *env) error {
	c, err := conn(e)
	if err != nil {
		return err
	}
	defer c.Close()
	req := netlink.Message{Header: netlink.Header{Type: hello.MsgHello, Flags: netlink.Request | netlink.Acknowledge, Sequence: 43}, Data: []byte("Hello world\x00")}
	sent, got, err := exchange(c, req)
	if err != nil {
		return err
	}
	if len(got) != 1 {
		return fmt.Errorf("want the reply alone in its datagram, got %d messages", len(got))
	}
	if err := checkHelloMsg(got[0], 43); err != nil {
		return err
	}
	ack, err := receiveOne(c)
	if err != nil {
		return fmt.Errorf("ack: %w", err)
	}
	if _, err := checkAck(ack, sent, 0); err != nil {
		return err
	}
	if ack.Header.PID != c.PortID() {
		return fmt.Errorf("ack %s; want pid %d", fmtMsg(ack), c.PortID())
	}
	logf("reply %s, then ack %s", fmtMsg(got[0]), fmtMsg(ack))
	return nothingMore(c, 100*time.Millisecond)
}

// checkRawMalformed: every error of the README's table, through the
// library: Execute returns *netlink.OpError with the errno and extack,
// and on the wire the error echoes the request.
func checkRawMalformed(e *env) error {
	c, err := conn(e)
	if err != nil {
		return err
	}
	defer c.Close()
	const fReq = netlink.Request
	cases := []struct {
		name    string
		typ     netlink.HeaderType
		flags   netlink.HeaderFlags
		payload string
		errno   syscall.Errno
		msg     string
	}{
		{"hello without payload", hello.MsgHello, fReq, "", unix.EINVAL, "empty payload"},
		{"hello without payload, with ACK", hello.MsgHello, fReq | netlink.Acknowledge, "", unix.EINVAL, "empty payload"},
		{"hello without NUL (zeros only in the padding)", hello.MsgHello, fReq, "Hello", unix.EINVAL, "not NUL-terminated"},
		{"hello of one byte, no NUL", hello.MsgHello, fReq, "x", unix.EINVAL, "not NUL-terminated"},
		{"hello of 4 bytes, no NUL", hello.MsgHello, fReq, "abcd", unix.EINVAL, "not NUL-terminated"},
		{"hello as dump", hello.MsgHello, fReq | netlink.Dump, "Hi\x00", unix.EOPNOTSUPP, "dump"},
		{"stats with payload", hello.MsgStats, fReq, "\x00\x00\x00\x00", unix.EINVAL, "no payload"},
		{"stats as dump", hello.MsgStats, fReq | netlink.Dump, "", unix.EOPNOTSUPP, "dump"},
		{"packet from user space", hello.MsgPacket, fReq, "", unix.EOPNOTSUPP, "kernel only"},
		{"unknown type 0x13", 0x13, fReq, "Hello\x00", unix.EOPNOTSUPP, "unknown message type"},
		{"unknown type 0x100", 0x100, fReq, "", unix.EOPNOTSUPP, "unknown message type"},
		{"unknown type 0xffff", 0xffff, fReq | netlink.Acknowledge, "", unix.EOPNOTSUPP, "unknown message type"},
	}
	for _, tc := range cases {
		req := netlink.Message{Header: netlink.Header{Type: tc.typ, Flags: tc.flags}, Data: []byte(tc.payload)}
		info, err := expectErr(c, req, tc.errno)
		if err != nil {
			return fmt.Errorf("%s: %w", tc.name, err)
		}
		if !strings.Contains(info.Message, tc.msg) {
			return fmt.Errorf("%s: extack message %q, want it to contain %q", tc.name, info.Message, tc.msg)
		}
		// The way a user meets it: Execute's error.
		ctx, cancel := timeout(0)
		req.Header.Flags &^= netlink.Request | netlink.Acknowledge
		if tc.flags&netlink.Dump == netlink.Dump {
			for _, err = range c.Dump(ctx, req) {
			}
		} else {
			_, err = c.Execute(ctx, req)
		}
		cancel()
		var oe *netlink.OpError
		if !errors.Is(err, tc.errno) || !errors.As(err, &oe) || oe.Message != info.Message {
			return fmt.Errorf("%s: Execute: %v, want %v with %q", tc.name, err, tc.errno, info.Message)
		}
		logf("%-46s -> %v", tc.name, err)
	}
	return nil
}

// checkRawIgnored sends datagrams with broken framing, which
// netlink_rcv_skb() drops silently. The library cannot build them, so
// this uses raw syscalls.
func checkRawIgnored(e *env) error {
	c, err := client(e)
	if err != nil {
		return err
	}
	defer c.Close()
	s, err := openSock(e.protocol)
	if err != nil {
		return err
	}
	defer s.Close()
	before, err := stats(c)
	if err != nil {
		return err
	}
	good := encode(uint16(hello.MsgHello), unix.NLM_F_REQUEST, 7, []byte("Hello\x00"))
	withLen := func(n uint32, size int) []byte {
		b := make([]byte, size)
		copy(b, good)
		ne.PutUint32(b, n)
		return b
	}
	silent := []struct {
		name string
		b    []byte
	}{
		{"1-byte datagram", []byte{0x10}},
		{"8-byte datagram (half a header)", good[:8]},
		{"15-byte datagram", good[:15]},
		{"nlmsg_len 1000 in a 24-byte datagram", withLen(1000, 24)},
		{"nlmsg_len 17 in a 16-byte datagram", withLen(17, 16)},
		{"nlmsg_len 8 (shorter than a header)", withLen(8, 24)},
		{"nlmsg_len 0", withLen(0, 24)},
		{"nlmsg_len 0xffffffff", withLen(0xffffffff, 24)},
	}
	// The netlink core refuses to send an empty datagram.
	if err := s.send(nil); !errors.Is(err, unix.ENODATA) {
		return fmt.Errorf("empty datagram: send: %v, want ENODATA", err)
	}
	logf("%-42s -> send fails with ENODATA", "empty datagram")
	for _, tc := range silent {
		if err := s.send(tc.b); err != nil {
			return fmt.Errorf("%s: send: %w", tc.name, err)
		}
		if err := s.expectNothing(100 * time.Millisecond); err != nil {
			return fmt.Errorf("%s: %w", tc.name, err)
		}
		logf("%-42s -> no reply", tc.name)
	}
	if err := sayHello(c, "still there?"); err != nil {
		return fmt.Errorf("hello after the junk: %w", err)
	}
	after, err := stats(c)
	if err != nil {
		return err
	}
	// The handler saw the hello and the second stats request, nothing else.
	if d := after.Sub(before); d.MsgsReceived != 2 || d.ErrorsSent != 0 || d.RepliesSent != 2 {
		return fmt.Errorf("counters moved by %v; want msgs_received +2 (hello, stats), replies +2, errors +0", fmtStats(d))
	}
	return nil
}

// checkRawControl: well-formed messages the core does not pass to the
// module (no NLM_F_REQUEST, control types): nothing, or only an ack.
func checkRawControl(e *env) error {
	c, err := client(e)
	if err != nil {
		return err
	}
	defer c.Close()
	nc := c.Conn()
	before, err := stats(c)
	if err != nil {
		return err
	}
	payload := []byte("Hello\x00")
	silent := []struct {
		name  string
		typ   netlink.HeaderType
		flags netlink.HeaderFlags
		data  []byte
	}{
		{"hello without NLM_F_REQUEST", hello.MsgHello, 0, payload},
		{"unknown type without NLM_F_REQUEST", 0x13, 0, nil},
		{"NLMSG_NOOP", netlink.Noop, netlink.Request, nil},
		{"NLMSG_DONE", netlink.Done, netlink.Request, []byte{0, 0, 0, 0}},
		{"NLMSG_ERROR from user space", netlink.Error, netlink.Request, make([]byte, 20)},
		{"type 0x0f", 0x0f, netlink.Request, nil},
	}
	for _, tc := range silent {
		if _, err := nc.Send(netlink.Message{Header: netlink.Header{Type: tc.typ, Flags: tc.flags}, Data: tc.data}); err != nil {
			return fmt.Errorf("%s: %w", tc.name, err)
		}
		if err := nothingMore(nc, 100*time.Millisecond); err != nil {
			return fmt.Errorf("%s: %w", tc.name, err)
		}
		logf("%-42s -> no reply", tc.name)
	}
	acked := []struct {
		name  string
		typ   netlink.HeaderType
		flags netlink.HeaderFlags
	}{
		{"hello with NLM_F_ACK but no NLM_F_REQUEST", hello.MsgHello, netlink.Acknowledge},
		{"NLMSG_NOOP with NLM_F_ACK", netlink.Noop, netlink.Request | netlink.Acknowledge},
		{"type 0x0f with NLM_F_ACK", 0x0f, netlink.Request | netlink.Acknowledge},
	}
	for _, tc := range acked {
		if _, err := expectErr(nc, netlink.Message{Header: netlink.Header{Type: tc.typ, Flags: tc.flags}, Data: payload}, 0); err != nil {
			return fmt.Errorf("%s: %w", tc.name, err)
		}
		logf("%-42s -> ack", tc.name)
	}
	after, err := stats(c)
	if err != nil {
		return err
	}
	if d := after.Sub(before); d.MsgsReceived != 1 || d.ErrorsSent != 0 {
		return fmt.Errorf("counters moved by %v; want msgs_received +1 (the stats request)", fmtStats(d))
	}
	return nil
}

func checkRawBatch(e *env) error {
	c, err := conn(e)
	if err != nil {
		return err
	}
	defer c.Close()

	// Four requests in one datagram (Conn.SendMessages), answered in
	// order, each answer in its own datagram.
	req := func(typ netlink.HeaderType, flags netlink.HeaderFlags, seq uint32, data string) netlink.Message {
		return netlink.Message{Header: netlink.Header{Type: typ, Flags: netlink.Request | flags, Sequence: seq}, Data: []byte(data)}
	}
	sent, err := c.SendMessages([]netlink.Message{
		req(hello.MsgHello, 0, 1, "a\x00"),
		req(0x13, 0, 2, ""),
		req(hello.MsgStats, 0, 3, ""),
		req(hello.MsgHello, netlink.Acknowledge, 4, "b\x00"),
	})
	if err != nil {
		return err
	}
	var got []netlink.Message
	for len(got) < 5 {
		ms, err := receive(c)
		if err != nil {
			return fmt.Errorf("after %d replies: %w", len(got), err)
		}
		if len(ms) != 1 {
			return fmt.Errorf("%d messages in one datagram, want one each", len(ms))
		}
		got = append(got, ms...)
	}
	if err := checkHelloMsg(got[0], 1); err != nil {
		return err
	}
	if _, err := checkAck(got[1], sent[1], unix.EOPNOTSUPP); err != nil {
		return err
	}
	if got[2].Header.Type != hello.MsgStats || got[2].Header.Sequence != 3 {
		return fmt.Errorf("third reply %s, want stats seq 3", fmtMsg(got[2]))
	}
	if err := checkHelloMsg(got[3], 4); err != nil {
		return err
	}
	if _, err := checkAck(got[4], sent[3], 0); err != nil {
		return err
	}
	if err := nothingMore(c, 100*time.Millisecond); err != nil {
		return err
	}
	logf("4 requests in one datagram -> %d replies in order", len(got))

	// A broken second message stops the processing of the datagram: raw.
	s, err := openSock(e.protocol)
	if err != nil {
		return err
	}
	defer s.Close()
	const fReq = unix.NLM_F_REQUEST
	for _, tc := range []struct {
		name string
		len  uint32
	}{{"length past the end", 100}, {"length below a header", 4}} {
		bad := encode(uint16(hello.MsgHello), fReq, 6, []byte("c\x00"))
		ne.PutUint32(bad, tc.len)
		b := append(encode(uint16(hello.MsgHello), fReq, 5, []byte("a\x00")), bad...)
		b = append(b, encode(uint16(hello.MsgHello), fReq, 7, []byte("d\x00"))...)
		if err := s.send(b); err != nil {
			return err
		}
		m, err := s.recvOne()
		if err != nil {
			return err
		}
		if err := checkRawHelloReply(m, 5); err != nil {
			return err
		}
		if err := s.expectNothing(100 * time.Millisecond); err != nil {
			return fmt.Errorf("%s: %w", tc.name, err)
		}
		logf("good + broken (%s) + good -> only the first answered", tc.name)
	}
	return nil
}

func checkRawBigHello(e *env) error {
	c, err := client(e)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := sayHello(c, strings.Repeat("A", 100000)); err != nil {
		return fmt.Errorf("hello of 100 kB: %w", err)
	}
	logf("hello.Client.Hello with 100000 bytes of text -> %q", hello.ReplyText)
	// Payloads the client does not build (text after the NUL), through
	// the Conn.
	for _, p := range []string{"\x00", "\x00junk after the NUL", "Hello\x00\xff\xff"} {
		ctx, cancel := timeout(0)
		replies, err := c.Conn().Execute(ctx, netlink.Message{Header: netlink.Header{Type: hello.MsgHello}, Data: []byte(p)})
		cancel()
		if err != nil {
			return fmt.Errorf("hello with payload %q: %w", p, err)
		}
		if len(replies) != 1 || string(replies[0].Data) != hello.ReplyText+"\x00" {
			return fmt.Errorf("hello with payload %q: %d replies", p, len(replies))
		}
		logf("hello with payload %q -> %q", p, replies[0].Data)
	}
	return nil
}

func checkRawStats(e *env) error {
	c, err := client(e)
	if err != nil {
		return err
	}
	defer c.Close()
	before, err := stats(c)
	if err != nil {
		return err
	}
	logf("stats: %v", fmtStats(before))
	// The reply itself, on the wire: 100 bytes on x86-64, no PAD.
	_, got, err := exchange(c.Conn(), netlink.Message{Header: netlink.Header{Type: hello.MsgStats, Flags: netlink.Request, Sequence: 300}})
	if err != nil {
		return err
	}
	if len(got) != 1 || got[0].Header.Type != hello.MsgStats || got[0].Header.Sequence != 300 || got[0].Header.PID != 0 ||
		got[0].Header.Flags != 0 || got[0].Header.Length != netlink.HeaderLen+7*12 {
		return fmt.Errorf("stats reply %v; want one message of 100 bytes, seq 300, pid 0, flags 0", got)
	}
	for range 5 {
		if err := sayHello(c, "hi"); err != nil {
			return err
		}
	}
	if _, err := expectErr(c.Conn(), netlink.Message{Header: netlink.Header{Type: hello.MsgHello, Flags: netlink.Request}}, unix.EINVAL); err != nil {
		return err
	}
	if _, err := expectErr(c.Conn(), netlink.Message{Header: netlink.Header{Type: 0x20, Flags: netlink.Request}}, unix.EOPNOTSUPP); err != nil {
		return err
	}
	after, err := stats(c)
	if err != nil {
		return err
	}
	d := after.Sub(before)
	// 2 stats + 5 hellos + 2 bad requests; replies: stats, 5 hellos (the
	// last stats reply is counted after its snapshot).
	if err := statsEqual(d, hello.Stats{MsgsReceived: 9, RepliesSent: 7, ErrorsSent: 2}); err != nil {
		return fmt.Errorf("after 5 hellos, 2 bad requests and 2 stats requests: %w", err)
	}
	logf("delta after 5 hellos + 2 errors + 2 stats: %v", fmtStats(d))
	return nil
}

// checkRawFuzz throws random datagrams at the endpoint: raw syscalls.
func checkRawFuzz(e *env) error {
	s, err := openSock(e.protocol)
	if err != nil {
		return err
	}
	defer s.Close()
	rng := rand.New(rand.NewSource(e.seed))
	randMsg := func() []byte {
		payload := make([]byte, rng.Intn(48))
		rng.Read(payload)
		if rng.Intn(2) == 0 && len(payload) > 0 {
			payload[len(payload)-1] = 0
		}
		types := []uint16{0x10, 0x11, 0x12, 0x13, 0, 1, 2, 3, 4, 0x0f, uint16(rng.Intn(65536))}
		flags := uint16(rng.Intn(65536))
		if rng.Intn(2) == 0 {
			flags = unix.NLM_F_REQUEST | uint16(rng.Intn(2))*unix.NLM_F_ACK
		}
		b := encode(types[rng.Intn(len(types))], flags, rng.Uint32(), payload)
		switch rng.Intn(8) {
		case 0:
			ne.PutUint32(b, rng.Uint32())
		case 1:
			ne.PutUint32(b, uint32(rng.Intn(len(b)+8)))
		case 2:
			b = b[:rng.Intn(len(b)+1)]
		}
		return b
	}
	const n = 20000
	replies := 0
	for i := range n {
		var b []byte
		switch rng.Intn(4) {
		case 0:
			b = make([]byte, rng.Intn(64))
			rng.Read(b)
		case 1, 2:
			b = randMsg()
		case 3:
			for j := 0; j < 2+rng.Intn(3); j++ {
				b = append(b, randMsg()...)
			}
		}
		if err := s.send(b); err != nil && !(len(b) == 0 && errors.Is(err, unix.ENODATA)) {
			return fmt.Errorf("datagram %d (%x): send: %w", i, b, err)
		}
		if i%32 == 31 {
			k, err := s.drain()
			if err != nil {
				return fmt.Errorf("after datagram %d: %w", i, err)
			}
			replies += k
		}
	}
	k, err := s.drain()
	if err != nil {
		return err
	}
	replies += k
	c, err := client(e)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := sayHello(c, "still alive?"); err != nil {
		return err
	}
	logf("%d random datagrams (seed %d), %d reply datagrams, endpoint still answers", n, e.seed, replies)
	return nil
}
