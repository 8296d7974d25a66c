package main

import (
	"fmt"
	"math/rand"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// openGenl opens a generic netlink socket and resolves the nlhello family.
func openGenl() (*sock, *genlFamily, error) {
	s, err := openSock(unix.NETLINK_GENERIC, 0)
	if err != nil {
		return nil, nil, err
	}
	f, err := resolveFamily(s, genlName)
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	if _, ok := f.Groups[genlMcgrp]; !ok {
		s.Close()
		return nil, nil, fmt.Errorf("family %s has no multicast group %q: %v", genlName, genlMcgrp, f.Groups)
	}
	return s, f, nil
}

func checkGenlHelloReply(s *sock, f *genlFamily, m msg, seq uint32) error {
	if m.Type != f.ID || m.Seq != seq || m.Pid != s.port || m.Flags != 0 || m.Len != 36 ||
		len(m.Data) < genlHdrLen || m.Data[0] != genlCmdHello || m.Data[1] != genlVersion || m.Data[2] != 0 || m.Data[3] != 0 {
		return fmt.Errorf("genl hello reply %v % x; want type %d seq %d pid %d cmd HELLO", m, m.Data, f.ID, seq, s.port)
	}
	am, err := attrMap(m.Data[genlHdrLen:])
	if err != nil {
		return err
	}
	if len(am) != 1 || string(am[genlAttrText]) != replyText {
		return fmt.Errorf("genl hello reply attributes %v, want only TEXT %q", am, replyText)
	}
	return nil
}

func checkGenlHello(e *env) error {
	s, f, err := openGenl()
	if err != nil {
		return err
	}
	defer s.Close()
	logf("family %s: id %d, groups %v", genlName, f.ID, f.Groups)

	req := genlMsg(genlCmdHello, encodeAttr(genlAttrText, []byte("Hello world\x00")))
	if err := s.send(encode(f.ID, fReq, 70, req)); err != nil {
		return err
	}
	ms, from, err := s.recv()
	if err != nil {
		return err
	}
	if from.Pid != 0 || len(ms) != 1 {
		return fmt.Errorf("reply from port %d: %v", from.Pid, ms)
	}
	if err := checkGenlHelloReply(s, f, ms[0], 70); err != nil {
		return err
	}

	m, err := s.request(f.ID, fReq|fAck, 71, req)
	if err != nil {
		return err
	}
	if err := checkGenlHelloReply(s, f, m, 71); err != nil {
		return err
	}
	m, err = s.recvOne()
	if err != nil {
		return err
	}
	if _, err := checkError(m, 71, 0); err != nil {
		return err
	}
	logf("HELLO -> TEXT %q, with NLM_F_ACK -> reply + ack", replyText)
	if err := s.expectNothing(100 * time.Millisecond); err != nil {
		return err
	}

	// The version byte is not checked.
	req = []byte{genlCmdHello, 0, 0, 0}
	req = append(req, encodeAttr(genlAttrText, []byte("v0\x00"))...)
	m, err = s.request(f.ID, fReq, 72, req)
	if err != nil {
		return err
	}
	if err := checkGenlHelloReply(s, f, m, 72); err != nil {
		return fmt.Errorf("version 0 request: %w", err)
	}
	logf("HELLO with version 0 -> answered")
	return nil
}

func checkGenlMalformed(e *env) error {
	s, f, err := openGenl()
	if err != nil {
		return err
	}
	defer s.Close()
	text := encodeAttr(genlAttrText, []byte("Hello\x00"))
	longAttr := encodeAttr(genlAttrText, []byte("Hello\x00"))
	ne.PutUint16(longAttr, 100)
	cases := []struct {
		name    string
		flags   uint16
		payload []byte
		errno   unix.Errno
		msg     string // expected in the extack message, if not ""
		miss    bool   // expect NLMSGERR_ATTR_MISS_TYPE = TEXT
	}{
		{"HELLO without attributes", fReq, genlMsg(genlCmdHello), unix.EINVAL, "missing TEXT", true},
		{"HELLO with TEXT not NUL-terminated", fReq, genlMsg(genlCmdHello, encodeAttr(genlAttrText, []byte("Hello"))), unix.EINVAL, "", false},
		{"HELLO with empty TEXT", fReq, genlMsg(genlCmdHello, encodeAttr(genlAttrText, nil)), unix.EINVAL, "", false},
		{"HELLO with unknown attribute 9", fReq, genlMsg(genlCmdHello, text, encodeAttr(9, []byte("x"))), unix.EINVAL, "", false},
		{"HELLO with attribute 0", fReq, genlMsg(genlCmdHello, text, encodeAttr(0, nil)), unix.EINVAL, "", false},
		{"HELLO with nla_len past the end", fReq, genlMsg(genlCmdHello, longAttr), unix.EINVAL, "", false},
		{"HELLO with 2 trailing bytes", fReq, append(genlMsg(genlCmdHello, text), 1, 0), unix.EINVAL, "", false},
		{"HELLO with reserved header field set", fReq, append([]byte{genlCmdHello, genlVersion, 1, 0}, text...), unix.EINVAL, "", false},
		{"no genl header", fReq, nil, unix.EINVAL, "", false},
		{"command 0", fReq, genlMsg(0), unix.EOPNOTSUPP, "", false},
		{"command PACKET (notification only)", fReq, genlMsg(genlCmdPacket), unix.EOPNOTSUPP, "", false},
		{"command 200", fReq, genlMsg(200), unix.EOPNOTSUPP, "", false},
		{"GET_STATS as dump", fReq | fDump, genlMsg(genlCmdStats), unix.EOPNOTSUPP, "", false},
	}
	for i, c := range cases {
		ne, err := s.expectError(f.ID, c.flags, uint32(80+i), c.payload, c.errno)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		if c.msg != "" && !strings.Contains(ne.Msg, c.msg) {
			return fmt.Errorf("%s: extack message %q, want %q", c.name, ne.Msg, c.msg)
		}
		if c.miss && (!ne.HasMiss || ne.MissType != genlAttrText) {
			return fmt.Errorf("%s: %v, want missing-attribute type %d", c.name, ne, genlAttrText)
		}
		logf("%-40s -> %v", c.name, ne)
	}
	return nil
}

func genlStats(s *sock, f *genlFamily, seq uint32) (stats, error) {
	m, err := s.request(f.ID, fReq, seq, genlMsg(genlCmdStats))
	if err != nil {
		return nil, err
	}
	if m.Type != f.ID || m.Seq != seq || len(m.Data) < genlHdrLen || m.Data[0] != genlCmdStats {
		return nil, fmt.Errorf("GET_STATS reply %v % x", m, m.Data)
	}
	return parseStats(m.Data[genlHdrLen:])
}

func checkGenlStats(e *env) error {
	s, f, err := openGenl()
	if err != nil {
		return err
	}
	defer s.Close()
	r, err := openSock(e.protocol, 0)
	if err != nil {
		return err
	}
	defer r.Close()

	a, err := rawStats(r, 1)
	if err != nil {
		return err
	}
	g, err := genlStats(s, f, 2)
	if err != nil {
		return err
	}
	b, err := rawStats(r, 3)
	if err != nil {
		return err
	}
	// GET_STATS tolerates TEXT (it is in the family policy) and ignores it.
	m, err := s.request(f.ID, fReq, 4, genlMsg(genlCmdStats, encodeAttr(genlAttrText, []byte("x\x00"))))
	if err != nil {
		return err
	}
	if m.Type != f.ID || len(m.Data) < genlHdrLen || m.Data[0] != genlCmdStats {
		return fmt.Errorf("GET_STATS with TEXT: %v % x", m, m.Data)
	}
	if _, err := parseStats(m.Data[genlHdrLen:]); err != nil {
		return err
	}
	logf("raw %v", a)
	logf("genl %v", g)
	// The two endpoints share the counters: each request counts once.
	if g[statsMsgsReceived] != a[statsMsgsReceived]+1 || b[statsMsgsReceived] != g[statsMsgsReceived]+1 {
		return fmt.Errorf("msgs_received raw %d, genl %d, raw %d; want consecutive",
			a[statsMsgsReceived], g[statsMsgsReceived], b[statsMsgsReceived])
	}
	return nil
}

// checkGenlFuzz sends random requests to the family.
func checkGenlFuzz(e *env) error {
	s, f, err := openGenl()
	if err != nil {
		return err
	}
	defer s.Close()
	rng := rand.New(rand.NewSource(e.seed + 1))
	const n = 10000
	replies := 0
	for i := 0; i < n; i++ {
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
		flags := uint16(fReq)
		if rng.Intn(4) == 0 {
			flags |= fAck
		}
		if err := s.send(encode(f.ID, flags, uint32(i), b)); err != nil {
			return fmt.Errorf("request %d: send: %w", i, err)
		}
		if i%32 == 31 {
			k, err := s.drain()
			if err != nil {
				return err
			}
			replies += k
		}
	}
	k, err := s.drain()
	if err != nil {
		return err
	}
	replies += k
	m, err := s.request(f.ID, fReq, 1, genlMsg(genlCmdHello, encodeAttr(genlAttrText, []byte("alive?\x00"))))
	if err != nil {
		return err
	}
	if err := checkGenlHelloReply(s, f, m, 1); err != nil {
		return err
	}
	logf("%d random requests (seed %d), %d reply datagrams, family still answers", n, e.seed+1, replies)
	return nil
}
