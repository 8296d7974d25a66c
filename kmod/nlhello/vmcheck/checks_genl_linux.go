package main

import (
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nlkit/nlkit/genl"
	"github.com/nlkit/nlkit/hello"
	"github.com/nlkit/nlkit/netlink"
)

// genlRequest is a request to the family, as raw bytes after the netlink
// header (genl header included), so that malformed ones can be built.
func genlRequest(f *genl.Family, flags netlink.HeaderFlags, payload []byte) netlink.Message {
	return netlink.Message{Header: netlink.Header{Type: netlink.HeaderType(f.ID), Flags: flags}, Data: payload}
}

func genlPayload(cmd hello.Command, attrs ...[]byte) []byte {
	b := []byte{byte(cmd), hello.FamilyVersion, 0, 0}
	for _, a := range attrs {
		b = append(b, a...)
	}
	return b
}

// checkGenlReply checks a HELLO reply byte by byte (README: replies carry
// the requester's port; 36 bytes; only TEXT).
func checkGenlReply(m netlink.Message, f *genl.Family, seq, port uint32) error {
	h := m.Header
	want := genlPayload(hello.CmdHello, encodeAttr(hello.AttrText, []byte(hello.ReplyText+"\x00")))
	if h.Type != netlink.HeaderType(f.ID) || h.Sequence != seq || h.PID != port || h.Flags != 0 || h.Length != 36 ||
		string(m.Data) != string(want) {
		return fmt.Errorf("genl hello reply %s % x; want type %d seq %d pid %d len 36 payload % x", fmtMsg(m), m.Data, f.ID, seq, port, want)
	}
	return nil
}

func checkGenlHello(e *env) error {
	g, err := genericClient()
	if err != nil {
		return err
	}
	defer g.Close()
	f, err := genlFamily(g)
	if err != nil {
		return err
	}
	logf("family %s: id %d, version %d, groups %v", f.Name, f.ID, f.Version, f.Groups)
	if err := sayHello(g, "Hello world"); err != nil {
		return err
	}
	logf("hello.GenericClient.Hello(%q) -> %q", "Hello world", hello.ReplyText)

	c := g.Conn().Netlink()
	req := genlPayload(hello.CmdHello, encodeAttr(hello.AttrText, []byte("Hello world\x00")))
	_, got, err := exchange(c, netlink.Message{Header: netlink.Header{Type: netlink.HeaderType(f.ID), Flags: netlink.Request, Sequence: 70}, Data: req})
	if err != nil {
		return err
	}
	if len(got) != 1 {
		return fmt.Errorf("want one message, got %d", len(got))
	}
	if err := checkGenlReply(got[0], f, 70, c.PortID()); err != nil {
		return err
	}
	sent, got, err := exchange(c, netlink.Message{Header: netlink.Header{Type: netlink.HeaderType(f.ID), Flags: netlink.Request | netlink.Acknowledge, Sequence: 71}, Data: req})
	if err != nil {
		return err
	}
	if len(got) != 1 {
		return fmt.Errorf("want one message, got %d", len(got))
	}
	if err := checkGenlReply(got[0], f, 71, c.PortID()); err != nil {
		return err
	}
	ack, err := receiveOne(c)
	if err != nil {
		return err
	}
	if _, err := checkAck(ack, sent, 0); err != nil {
		return err
	}
	logf("HELLO -> TEXT %q, with NLM_F_ACK -> reply + ack", hello.ReplyText)
	if err := nothingMore(c, 100*time.Millisecond); err != nil {
		return err
	}

	// The version byte is not checked.
	ctx, cancel := timeout(0)
	defer cancel()
	replies, err := g.Conn().Execute(ctx, f.ID, genl.Message{Header: genl.Header{Command: uint8(hello.CmdHello)}, Data: encodeAttr(hello.AttrText, []byte("v0\x00"))}, 0)
	if err != nil {
		return fmt.Errorf("version 0 request: %w", err)
	}
	if len(replies) != 1 || replies[0].Header.Command != uint8(hello.CmdHello) {
		return fmt.Errorf("version 0 request: %d replies", len(replies))
	}
	logf("HELLO with version 0 -> answered")
	return nil
}

func checkGenlMalformed(e *env) error {
	g, err := genericClient()
	if err != nil {
		return err
	}
	defer g.Close()
	f, err := genlFamily(g)
	if err != nil {
		return err
	}
	c := g.Conn().Netlink()
	text := encodeAttr(hello.AttrText, []byte("Hello\x00"))
	longAttr := encodeAttr(hello.AttrText, []byte("Hello\x00"))
	ne.PutUint16(longAttr, 100)
	cases := []struct {
		name    string
		dump    bool
		payload []byte
		errno   syscall.Errno
		msg     string // expected in the extack message, if not ""
		miss    bool   // expect NLMSGERR_ATTR_MISS_TYPE = TEXT
	}{
		{"HELLO without attributes", false, genlPayload(hello.CmdHello), unix.EINVAL, "missing TEXT", true},
		{"HELLO with TEXT not NUL-terminated", false, genlPayload(hello.CmdHello, encodeAttr(hello.AttrText, []byte("Hello"))), unix.EINVAL, "", false},
		{"HELLO with empty TEXT", false, genlPayload(hello.CmdHello, encodeAttr(hello.AttrText, nil)), unix.EINVAL, "", false},
		{"HELLO with unknown attribute 9", false, genlPayload(hello.CmdHello, text, encodeAttr(9, []byte("x"))), unix.EINVAL, "", false},
		{"HELLO with attribute 0", false, genlPayload(hello.CmdHello, text, encodeAttr(0, nil)), unix.EINVAL, "", false},
		{"HELLO with nla_len past the end", false, genlPayload(hello.CmdHello, longAttr), unix.EINVAL, "", false},
		{"HELLO with 2 trailing bytes", false, append(genlPayload(hello.CmdHello, text), 1, 0), unix.EINVAL, "", false},
		{"HELLO with reserved header field set", false, append([]byte{byte(hello.CmdHello), hello.FamilyVersion, 1, 0}, text...), unix.EINVAL, "", false},
		{"no genl header", false, nil, unix.EINVAL, "", false},
		{"command 0", false, genlPayload(0), unix.EOPNOTSUPP, "", false},
		{"command PACKET (notification only)", false, genlPayload(hello.CmdPacket), unix.EOPNOTSUPP, "", false},
		{"command 200", false, genlPayload(200), unix.EOPNOTSUPP, "", false},
		{"GET_STATS as dump", true, genlPayload(hello.CmdGetStats), unix.EOPNOTSUPP, "", false},
	}
	for _, tc := range cases {
		ctx, cancel := timeout(0)
		req := genlRequest(f, 0, tc.payload)
		if tc.dump {
			for _, err = range c.Dump(ctx, req) {
			}
		} else {
			_, err = c.Execute(ctx, req)
		}
		cancel()
		var oe *netlink.OpError
		if !errors.Is(err, tc.errno) || !errors.As(err, &oe) {
			return fmt.Errorf("%s: %v, want %v", tc.name, err, tc.errno)
		}
		if !strings.Contains(oe.Message, tc.msg) {
			return fmt.Errorf("%s: extack message %q, want %q", tc.name, oe.Message, tc.msg)
		}
		if tc.miss && oe.MissingType != hello.AttrText {
			return fmt.Errorf("%s: %v, want missing-attribute type %d", tc.name, err, hello.AttrText)
		}
		logf("%-40s -> %v", tc.name, err)
	}
	return nothingMore(c, 50*time.Millisecond)
}

func checkGenlStats(e *env) error {
	g, err := genericClient()
	if err != nil {
		return err
	}
	defer g.Close()
	r, err := client(e)
	if err != nil {
		return err
	}
	defer r.Close()
	ctx, cancel := timeout(0)
	defer cancel()
	a, err := r.Stats(ctx)
	if err != nil {
		return err
	}
	gs, err := g.Stats(ctx)
	if err != nil {
		return err
	}
	b, err := r.Stats(ctx)
	if err != nil {
		return err
	}
	// GET_STATS tolerates TEXT (it is in the family policy) and ignores it.
	f, err := genlFamily(g)
	if err != nil {
		return err
	}
	replies, err := g.Conn().Execute(ctx, f.ID, genl.Message{Header: genl.Header{Command: uint8(hello.CmdGetStats), Version: 1}, Data: encodeAttr(hello.AttrText, []byte("x\x00"))}, 0)
	if err != nil {
		return fmt.Errorf("GET_STATS with TEXT: %w", err)
	}
	var st hello.Stats
	if len(replies) != 1 || st.UnmarshalBinary(replies[0].Data) != nil {
		return fmt.Errorf("GET_STATS with TEXT: %d replies", len(replies))
	}
	logf("raw  %v", fmtStats(a))
	logf("genl %v", fmtStats(gs))
	// The two endpoints share the counters: each request counts once.
	if gs.MsgsReceived != a.MsgsReceived+1 || b.MsgsReceived != gs.MsgsReceived+1 {
		return fmt.Errorf("msgs_received raw %d, genl %d, raw %d; want consecutive", a.MsgsReceived, gs.MsgsReceived, b.MsgsReceived)
	}
	return nil
}

// checkGenlFuzz sends random requests to the family through the library's
// Conn, each with NLM_F_ACK, and checks that every one is answered.
func checkGenlFuzz(e *env) error {
	g, err := genericClient()
	if err != nil {
		return err
	}
	defer g.Close()
	f, err := genlFamily(g)
	if err != nil {
		return err
	}
	c := g.Conn().Netlink()
	rng := rand.New(rand.NewSource(e.seed + 1))
	const n, batch = 10000, 32
	replies, errs := 0, 0
	pending := map[uint32]bool{}
	for i := range n {
		hdr := []byte{byte(rng.Intn(5)), byte(rng.Intn(3)), 0, 0}
		if rng.Intn(8) == 0 {
			hdr[2] = byte(rng.Intn(256))
		}
		b := hdr
		for j := rng.Intn(4); j > 0; j-- {
			data := make([]byte, rng.Intn(24))
			rng.Read(data)
			if rng.Intn(2) == 0 && len(data) > 0 {
				data[len(data)-1] = 0
			}
			a := encodeAttr(uint16(rng.Intn(4)), data)
			switch rng.Intn(10) {
			case 0:
				ne.PutUint16(a, uint16(rng.Intn(64)))
			case 1:
				a[3] |= 0x80 // NLA_F_NESTED
			case 2:
				a = a[:rng.Intn(len(a)+1)]
			}
			b = append(b, a...)
		}
		if rng.Intn(10) == 0 {
			b = b[:rng.Intn(len(b)+1)]
		}
		sent, err := c.Send(genlRequest(f, netlink.Request|netlink.Acknowledge, b))
		if err != nil {
			return fmt.Errorf("request %d: send: %w", i, err)
		}
		pending[sent.Header.Sequence] = true
		if len(pending) < batch && i < n-1 {
			continue
		}
		for len(pending) > 0 {
			ms, err := receive(c)
			if err != nil {
				return fmt.Errorf("after request %d, %d unanswered: %w", i, len(pending), err)
			}
			for _, m := range ms {
				if m.Header.Type != netlink.Error {
					replies++
					continue
				}
				if !pending[m.Header.Sequence] {
					return fmt.Errorf("answer %s to no pending request", fmtMsg(m))
				}
				delete(pending, m.Header.Sequence)
				if info, err := netlink.ParseAck(m.Header.Flags, m.Data); err != nil {
					return err
				} else if info.Errno != 0 {
					errs++
				}
			}
		}
	}
	if err := sayHello(g, "alive?"); err != nil {
		return err
	}
	logf("%d random requests (seed %d), each answered: %d replies, %d errors; family still answers", n, e.seed+1, replies, errs)
	return nil
}
