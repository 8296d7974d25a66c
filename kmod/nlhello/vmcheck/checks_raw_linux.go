package main

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

const (
	fReq  = unix.NLM_F_REQUEST
	fAck  = unix.NLM_F_ACK
	fDump = unix.NLM_F_DUMP
)

func checkHelloReply(m msg, seq uint32) error {
	if m.Type != msgHello || m.Seq != seq || m.Pid != 0 || m.Flags != 0 ||
		m.Len != nlmsgHdrLen+uint32(len(replyText)) || string(m.Data) != replyText {
		return fmt.Errorf("hello reply %v %q; want type 0x10 seq %d pid 0 flags 0 len 26 payload %q",
			m, m.Data, seq, replyText)
	}
	return nil
}

func checkRawHello(e *env) error {
	s, err := openSock(e.protocol, 0)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.send(encode(msgHello, fReq, 42, []byte("Hello world\x00"))); err != nil {
		return err
	}
	ms, from, err := s.recv()
	if err != nil {
		return err
	}
	if from.Pid != 0 || from.Groups != 0 {
		return fmt.Errorf("reply from port %d groups %#x; want port 0, unicast", from.Pid, from.Groups)
	}
	if len(ms) != 1 {
		return fmt.Errorf("want one message, got %v", ms)
	}
	if err := checkHelloReply(ms[0], 42); err != nil {
		return err
	}
	logf("our port %d; reply %v %q from port %d", s.port, ms[0], ms[0].Data, from.Pid)
	return s.expectNothing(100 * time.Millisecond)
}

func checkRawHelloAck(e *env) error {
	s, err := openSock(e.protocol, 0)
	if err != nil {
		return err
	}
	defer s.Close()
	m, err := s.request(msgHello, fReq|fAck, 43, []byte("Hello world\x00"))
	if err != nil {
		return err
	}
	if err := checkHelloReply(m, 43); err != nil {
		return err
	}
	m, err = s.recvOne()
	if err != nil {
		return fmt.Errorf("ack: %w", err)
	}
	ack, err := checkError(m, 43, 0)
	if err != nil {
		return err
	}
	if m.Pid != s.port || ack.Orig.Type != msgHello || m.Flags&unix.NLM_F_CAPPED == 0 {
		return fmt.Errorf("ack %v %v; want pid %d, capped, orig type 0x10", m, ack, s.port)
	}
	return s.expectNothing(100 * time.Millisecond)
}

func checkRawMalformed(e *env) error {
	s, err := openSock(e.protocol, 0)
	if err != nil {
		return err
	}
	defer s.Close()
	cases := []struct {
		name    string
		typ     uint16
		flags   uint16
		payload []byte
		errno   unix.Errno
		msg     string
	}{
		{"hello without payload", msgHello, fReq, nil, unix.EINVAL, "empty payload"},
		{"hello without payload, with ACK", msgHello, fReq | fAck, nil, unix.EINVAL, "empty payload"},
		{"hello without NUL (zeros only in the padding)", msgHello, fReq, []byte("Hello"), unix.EINVAL, "not NUL-terminated"},
		{"hello of one byte, no NUL", msgHello, fReq, []byte("x"), unix.EINVAL, "not NUL-terminated"},
		{"hello of 4 bytes, no NUL", msgHello, fReq, []byte("abcd"), unix.EINVAL, "not NUL-terminated"},
		{"hello as dump", msgHello, fReq | fDump, []byte("Hi\x00"), unix.EOPNOTSUPP, "dump"},
		{"stats with payload", msgStats, fReq, []byte{0, 0, 0, 0}, unix.EINVAL, "no payload"},
		{"stats as dump", msgStats, fReq | fDump, nil, unix.EOPNOTSUPP, "dump"},
		{"packet from user space", msgPacket, fReq, nil, unix.EOPNOTSUPP, "kernel only"},
		{"unknown type 0x13", 0x13, fReq, []byte("Hello\x00"), unix.EOPNOTSUPP, "unknown message type"},
		{"unknown type 0x100", 0x100, fReq, nil, unix.EOPNOTSUPP, "unknown message type"},
		{"unknown type 0xffff", 0xffff, fReq | fAck, nil, unix.EOPNOTSUPP, "unknown message type"},
	}
	for i, c := range cases {
		seq := uint32(100 + i)
		ne, err := s.expectError(c.typ, c.flags, seq, c.payload, c.errno)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		if !strings.Contains(ne.Msg, c.msg) {
			return fmt.Errorf("%s: extack message %q, want it to contain %q", c.name, ne.Msg, c.msg)
		}
		if ne.Orig.Type != c.typ || !bytes.Equal(ne.Orig.Data, c.payload) && len(c.payload) > 0 {
			return fmt.Errorf("%s: error echoes %v %q", c.name, ne.Orig, ne.Orig.Data)
		}
		logf("%-46s -> %v", c.name, ne)
	}
	return nil
}

// checkRawIgnored sends datagrams that netlink_rcv_skb() drops (broken
// headers) or only acks (no NLM_F_REQUEST, control types): no reply beyond
// the ack, the handler is not called, and the socket keeps working.
func checkRawIgnored(e *env) error {
	s, err := openSock(e.protocol, 0)
	if err != nil {
		return err
	}
	defer s.Close()
	before, err := rawStats(s, 1)
	if err != nil {
		return err
	}
	hello := encode(msgHello, fReq, 7, []byte("Hello\x00"))
	withLen := func(n uint32, size int) []byte {
		b := make([]byte, size)
		copy(b, hello)
		ne.PutUint32(b, n)
		return b
	}
	silent := []struct {
		name string
		b    []byte
	}{
		{"1-byte datagram", []byte{0x10}},
		{"8-byte datagram (half a header)", hello[:8]},
		{"15-byte datagram", hello[:15]},
		{"nlmsg_len 1000 in a 24-byte datagram", withLen(1000, 24)},
		{"nlmsg_len 17 in a 16-byte datagram", withLen(17, 16)},
		{"nlmsg_len 8 (shorter than a header)", withLen(8, 24)},
		{"nlmsg_len 0", withLen(0, 24)},
		{"nlmsg_len 0xffffffff", withLen(0xffffffff, 24)},
		{"hello without NLM_F_REQUEST", encode(msgHello, 0, 8, []byte("Hello\x00"))},
		{"unknown type without NLM_F_REQUEST", encode(0x13, 0, 9, nil)},
		{"NLMSG_NOOP", encode(unix.NLMSG_NOOP, fReq, 10, nil)},
		{"NLMSG_DONE", encode(unix.NLMSG_DONE, fReq, 11, []byte{0, 0, 0, 0})},
		{"NLMSG_ERROR from user space", encode(unix.NLMSG_ERROR, fReq, 12, make([]byte, 20))},
		{"type 0x0f", encode(0x0f, fReq, 13, nil)},
	}
	// The netlink core refuses to send an empty datagram.
	if err := s.send(nil); !errors.Is(err, unix.ENODATA) {
		return fmt.Errorf("empty datagram: send: %v, want ENODATA", err)
	}
	logf("%-42s -> send fails with ENODATA", "empty datagram")
	for _, c := range silent {
		if err := s.send(c.b); err != nil {
			return fmt.Errorf("%s: send: %w", c.name, err)
		}
		if err := s.expectNothing(100 * time.Millisecond); err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		logf("%-42s -> no reply", c.name)
	}
	acked := []struct {
		name string
		typ  uint16
		fl   uint16
	}{
		{"hello with NLM_F_ACK but no NLM_F_REQUEST", msgHello, fAck},
		{"NLMSG_NOOP with NLM_F_ACK", unix.NLMSG_NOOP, fReq | fAck},
		{"type 0x0f with NLM_F_ACK", 0x0f, fReq | fAck},
	}
	for i, c := range acked {
		seq := uint32(20 + i)
		ne, err := s.expectError(c.typ, c.fl, seq, []byte("Hello\x00"), 0)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		logf("%-42s -> ack (%v)", c.name, ne)
	}
	m, err := s.request(msgHello, fReq, 30, []byte("still there?\x00"))
	if err != nil {
		return fmt.Errorf("hello after the junk: %w", err)
	}
	if err := checkHelloReply(m, 30); err != nil {
		return err
	}
	after, err := rawStats(s, 31)
	if err != nil {
		return err
	}
	// The handler saw the hello and the second stats request, nothing else.
	d := after.sub(before)
	if d[statsMsgsReceived] != 2 || d[statsErrorsSent] != 0 || d[statsRepliesSent] != 2 {
		return fmt.Errorf("counters moved by %v; want msgs_received +2 (hello, stats), replies +2, errors +0", d)
	}
	return nil
}

func checkRawBatch(e *env) error {
	s, err := openSock(e.protocol, 0)
	if err != nil {
		return err
	}
	defer s.Close()

	// Four requests in one datagram, answered in order.
	var b []byte
	b = append(b, encode(msgHello, fReq, 1, []byte("a\x00"))...)
	b = append(b, encode(0x13, fReq, 2, nil)...)
	b = append(b, encode(msgStats, fReq, 3, nil)...)
	b = append(b, encode(msgHello, fReq|fAck, 4, []byte("b\x00"))...)
	if err := s.send(b); err != nil {
		return err
	}
	var got []msg
	for len(got) < 5 {
		ms, _, err := s.recv()
		if err != nil {
			return fmt.Errorf("after %d replies: %w", len(got), err)
		}
		got = append(got, ms...)
	}
	if err := checkHelloReply(got[0], 1); err != nil {
		return err
	}
	if _, err := checkError(got[1], 2, unix.EOPNOTSUPP); err != nil {
		return err
	}
	if got[2].Type != msgStats || got[2].Seq != 3 {
		return fmt.Errorf("third reply %v, want stats seq 3", got[2])
	}
	if err := checkHelloReply(got[3], 4); err != nil {
		return err
	}
	if _, err := checkError(got[4], 4, 0); err != nil {
		return err
	}
	if err := s.expectNothing(100 * time.Millisecond); err != nil {
		return err
	}
	logf("4 requests in one datagram -> %d replies in order", len(got))

	// A broken second message stops the processing of the datagram.
	for _, c := range []struct {
		name string
		bad  []byte
	}{
		{"length past the end", func() []byte { x := encode(msgHello, fReq, 6, []byte("c\x00")); ne.PutUint32(x, 100); return x }()},
		{"length below a header", func() []byte { x := encode(msgHello, fReq, 6, []byte("c\x00")); ne.PutUint32(x, 4); return x }()},
	} {
		b = append(encode(msgHello, fReq, 5, []byte("a\x00")), c.bad...)
		b = append(b, encode(msgHello, fReq, 7, []byte("d\x00"))...)
		if err := s.send(b); err != nil {
			return err
		}
		m, err := s.recvOne()
		if err != nil {
			return err
		}
		if err := checkHelloReply(m, 5); err != nil {
			return err
		}
		if err := s.expectNothing(100 * time.Millisecond); err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		logf("good + broken (%s) + good -> only the first answered", c.name)
	}
	return nil
}

func checkRawBigHello(e *env) error {
	s, err := openSock(e.protocol, 0)
	if err != nil {
		return err
	}
	defer s.Close()
	for i, p := range [][]byte{
		append(bytes.Repeat([]byte("A"), 100000), 0),
		[]byte("\x00"),
		[]byte("\x00junk after the NUL"),
		[]byte("Hello\x00\xff\xff"),
	} {
		m, err := s.request(msgHello, fReq, uint32(200+i), p)
		if err != nil {
			return fmt.Errorf("hello of %d bytes: %w", len(p), err)
		}
		if err := checkHelloReply(m, uint32(200+i)); err != nil {
			return err
		}
		logf("hello with %d-byte payload -> %q", len(p), m.Data)
	}
	return nil
}

func checkRawStats(e *env) error {
	s, err := openSock(e.protocol, 0)
	if err != nil {
		return err
	}
	defer s.Close()
	m, err := s.request(msgStats, fReq, 300, nil)
	if err != nil {
		return err
	}
	if m.Type != msgStats || m.Seq != 300 || m.Pid != 0 || m.Flags != 0 {
		return fmt.Errorf("stats reply %v", m)
	}
	before, err := parseStats(m.Data)
	if err != nil {
		return err
	}
	logf("stats: %v", before)
	for i := 0; i < 5; i++ {
		if _, err := s.request(msgHello, fReq, uint32(301+i), []byte("hi\x00")); err != nil {
			return err
		}
	}
	if _, err := s.expectError(msgHello, fReq, 310, nil, unix.EINVAL); err != nil {
		return err
	}
	if _, err := s.expectError(0x20, fReq, 311, nil, unix.EOPNOTSUPP); err != nil {
		return err
	}
	after, err := rawStats(s, 312)
	if err != nil {
		return err
	}
	d := after.sub(before)
	want := stats{statsMsgsReceived: 8, statsRepliesSent: 6, statsErrorsSent: 2}
	for t := range statsNames {
		if d[t] != want[t] {
			return fmt.Errorf("after 5 hellos, 2 bad requests and a stats request the counters moved by %v, want %v", d, want)
		}
	}
	logf("delta after 5 hellos + 2 errors + stats: %v", d)
	return nil
}

// checkRawFuzz throws random datagrams at the endpoint.
func checkRawFuzz(e *env) error {
	s, err := openSock(e.protocol, 0)
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
		types := []uint16{msgHello, msgStats, msgPacket, 0x13, 0, 1, 2, 3, 4, 0x0f, uint16(rng.Intn(65536))}
		flags := uint16(rng.Intn(65536))
		if rng.Intn(2) == 0 {
			flags = fReq | uint16(rng.Intn(2))*fAck
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
	for i := 0; i < n; i++ {
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
	m, err := s.request(msgHello, fReq, 1, []byte("still alive?\x00"))
	if err != nil {
		return err
	}
	if err := checkHelloReply(m, 1); err != nil {
		return err
	}
	logf("%d random datagrams (seed %d), %d reply datagrams, endpoint still answers", n, e.seed, replies)
	return nil
}
