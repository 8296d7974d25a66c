package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// The nlhello contract, mirrored from ../nlhello.h.
const (
	msgHello  = 0x10
	msgStats  = 0x11
	msgPacket = 0x12

	groupPackets = 1
	replyText    = "Thank you\x00"
	packetCap    = 256

	statsMsgsReceived           = 1
	statsRepliesSent            = 2
	statsPacketsPassed          = 3
	statsPacketsDroppedNoListen = 4
	statsPacketsDroppedFull     = 5
	statsErrorsSent             = 6
	statsPad                    = 7
	statsPacketsDroppedNomem    = 8

	pktIfindex   = 1
	pktLen       = 2
	pktTimestamp = 3
	pktProtocol  = 4
	pktData      = 5
	pktCaplen    = 6
	pktPad       = 7

	genlName       = "nlhello"
	genlVersion    = 1
	genlMcgrp      = "packets"
	genlCmdHello   = 1
	genlCmdStats   = 2
	genlCmdPacket  = 3
	genlAttrText   = 1
	nlmsgHdrLen    = 16
	genlHdrLen     = 4
	nlaHdrLen      = 4
	nlmsgerrMinLen = 4 + nlmsgHdrLen
)

var ne = binary.NativeEndian

func align4(n int) int { return (n + 3) &^ 3 }

// msg is one netlink message.
type msg struct {
	Len   uint32
	Type  uint16
	Flags uint16
	Seq   uint32
	Pid   uint32
	Data  []byte // payload, nlmsg_len - 16 bytes
}

func (m msg) String() string {
	return fmt.Sprintf("{len=%d type=%#x flags=%#x seq=%d pid=%d payload=%d bytes}", m.Len, m.Type, m.Flags, m.Seq, m.Pid, len(m.Data))
}

// encode builds a message; nlmsg_len counts the payload, the buffer is
// padded with zeros to a multiple of 4.
func encode(typ, flags uint16, seq uint32, payload []byte) []byte {
	b := make([]byte, align4(nlmsgHdrLen+len(payload)))
	ne.PutUint32(b[0:], uint32(nlmsgHdrLen+len(payload)))
	ne.PutUint16(b[4:], typ)
	ne.PutUint16(b[6:], flags)
	ne.PutUint32(b[8:], seq)
	ne.PutUint32(b[12:], 0)
	copy(b[nlmsgHdrLen:], payload)
	return b
}

// decode splits a datagram into messages, strictly.
func decode(b []byte) ([]msg, error) {
	var out []msg
	for len(b) > 0 {
		if len(b) < nlmsgHdrLen {
			return out, fmt.Errorf("%d trailing bytes, less than a header", len(b))
		}
		l := ne.Uint32(b[0:])
		if l < nlmsgHdrLen || int(l) > len(b) {
			return out, fmt.Errorf("bad nlmsg_len %d with %d bytes left", l, len(b))
		}
		out = append(out, msg{
			Len: l, Type: ne.Uint16(b[4:]), Flags: ne.Uint16(b[6:]),
			Seq: ne.Uint32(b[8:]), Pid: ne.Uint32(b[12:]),
			Data: b[nlmsgHdrLen:l],
		})
		n := align4(int(l))
		if n > len(b) {
			n = len(b)
		}
		b = b[n:]
	}
	return out, nil
}

// attr is one netlink attribute.
type attr struct {
	Type uint16 // without the NLA_F_NESTED / NLA_F_NET_BYTEORDER bits
	Data []byte
}

func encodeAttr(typ uint16, data []byte) []byte {
	b := make([]byte, align4(nlaHdrLen+len(data)))
	ne.PutUint16(b[0:], uint16(nlaHdrLen+len(data)))
	ne.PutUint16(b[2:], typ)
	copy(b[nlaHdrLen:], data)
	return b
}

func decodeAttrs(b []byte) ([]attr, error) {
	var out []attr
	for len(b) > 0 {
		if len(b) < nlaHdrLen {
			return out, fmt.Errorf("%d trailing bytes in attributes", len(b))
		}
		l := int(ne.Uint16(b[0:]))
		if l < nlaHdrLen || l > len(b) {
			return out, fmt.Errorf("bad nla_len %d with %d bytes left", l, len(b))
		}
		out = append(out, attr{Type: ne.Uint16(b[2:]) & 0x3fff, Data: b[nlaHdrLen:l]})
		n := align4(l)
		if n > len(b) {
			n = len(b)
		}
		b = b[n:]
	}
	return out, nil
}

// attrMap indexes attributes by type; a repeated type is an error.
func attrMap(b []byte) (map[uint16][]byte, error) {
	as, err := decodeAttrs(b)
	if err != nil {
		return nil, err
	}
	m := make(map[uint16][]byte, len(as))
	for _, a := range as {
		if _, dup := m[a.Type]; dup {
			return nil, fmt.Errorf("attribute %d repeated", a.Type)
		}
		m[a.Type] = a.Data
	}
	return m, nil
}

// nlError is a decoded NLMSG_ERROR.
type nlError struct {
	Errno    int32 // 0 for an ack, else a negative errno
	Orig     msg   // the header of the request it answers (payload if echoed)
	Msg      string
	Offs     uint32
	HasOffs  bool
	MissType uint32
	HasMiss  bool
}

func (e *nlError) Err() unix.Errno { return unix.Errno(-e.Errno) }

func (e *nlError) String() string {
	s := fmt.Sprintf("errno %d (%v)", e.Errno, e.Err())
	if e.Msg != "" {
		s += fmt.Sprintf(" msg=%q", e.Msg)
	}
	if e.HasOffs {
		s += fmt.Sprintf(" offs=%d", e.Offs)
	}
	if e.HasMiss {
		s += fmt.Sprintf(" miss_type=%d", e.MissType)
	}
	return s
}

func decodeError(m msg) (*nlError, error) {
	if m.Type != unix.NLMSG_ERROR {
		return nil, fmt.Errorf("not an NLMSG_ERROR: %v", m)
	}
	if len(m.Data) < nlmsgerrMinLen {
		return nil, fmt.Errorf("NLMSG_ERROR payload of %d bytes", len(m.Data))
	}
	e := &nlError{Errno: int32(ne.Uint32(m.Data[0:]))}
	origLen := ne.Uint32(m.Data[4:])
	off := nlmsgerrMinLen
	if m.Flags&unix.NLM_F_CAPPED == 0 {
		off = 4 + align4(int(origLen))
	}
	if off > len(m.Data) {
		return nil, fmt.Errorf("NLMSG_ERROR echoes %d bytes, has %d", origLen, len(m.Data)-4)
	}
	e.Orig = msg{Len: origLen, Type: ne.Uint16(m.Data[8:]), Flags: ne.Uint16(m.Data[10:]),
		Seq: ne.Uint32(m.Data[12:]), Pid: ne.Uint32(m.Data[16:])}
	if m.Flags&unix.NLM_F_CAPPED == 0 {
		if origLen < nlmsgHdrLen {
			return nil, fmt.Errorf("NLMSG_ERROR echoes a %d-byte message", origLen)
		}
		e.Orig.Data = m.Data[nlmsgerrMinLen : 4+int(origLen)]
	}
	if m.Flags&unix.NLM_F_ACK_TLVS != 0 {
		as, err := decodeAttrs(m.Data[off:])
		if err != nil {
			return nil, fmt.Errorf("extack: %v", err)
		}
		for _, a := range as {
			switch a.Type {
			case unix.NLMSGERR_ATTR_MSG:
				e.Msg = strings.TrimRight(string(a.Data), "\x00")
			case unix.NLMSGERR_ATTR_OFFS:
				if len(a.Data) == 4 {
					e.Offs, e.HasOffs = ne.Uint32(a.Data), true
				}
			case 5: // NLMSGERR_ATTR_MISS_TYPE
				if len(a.Data) == 4 {
					e.MissType, e.HasMiss = ne.Uint32(a.Data), true
				}
			}
		}
	}
	return e, nil
}

// sock is a netlink socket.
type sock struct {
	fd    int
	proto int
	port  uint32
	buf   []byte
}

// openSock opens a netlink socket of protocol proto bound to groups (a
// bitmask), with extended acks enabled and a receive timeout of 2 s.
func openSock(proto int, groups uint32) (*sock, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return nil, fmt.Errorf("socket(AF_NETLINK, SOCK_RAW, %d): %w", proto, err)
	}
	s := &sock{fd: fd, proto: proto, buf: make([]byte, 256<<10)}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: groups}); err != nil {
		s.Close()
		return nil, fmt.Errorf("bind: %w", err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.port = sa.(*unix.SockaddrNetlink).Pid
	if err := unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_EXT_ACK, 1); err != nil {
		s.Close()
		return nil, fmt.Errorf("NETLINK_EXT_ACK: %w", err)
	}
	if err := s.setTimeout(2 * time.Second); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *sock) Close() error { return unix.Close(s.fd) }

func (s *sock) setTimeout(d time.Duration) error {
	tv := unix.NsecToTimeval(d.Nanoseconds())
	return unix.SetsockoptTimeval(s.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
}

func (s *sock) join(group int) error {
	return unix.SetsockoptInt(s.fd, unix.SOL_NETLINK, unix.NETLINK_ADD_MEMBERSHIP, group)
}

// send sends a raw datagram to the kernel (port 0).
func (s *sock) send(b []byte) error {
	return unix.Sendto(s.fd, b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
}

// recv receives one datagram and checks that it came from the kernel.
// A receive timeout returns unix.EAGAIN.
func (s *sock) recv() ([]msg, *unix.SockaddrNetlink, error) {
	return s.recvFlags(0)
}

func (s *sock) recvFlags(flags int) ([]msg, *unix.SockaddrNetlink, error) {
	n, from, err := unix.Recvfrom(s.fd, s.buf, flags)
	if err != nil {
		return nil, nil, err
	}
	sa, ok := from.(*unix.SockaddrNetlink)
	if !ok {
		return nil, nil, fmt.Errorf("sender address %T", from)
	}
	if sa.Pid != 0 {
		return nil, sa, fmt.Errorf("datagram from port %d, not the kernel", sa.Pid)
	}
	if n > len(s.buf) {
		return nil, sa, fmt.Errorf("datagram of %d bytes truncated", n)
	}
	ms, err := decode(s.buf[:n])
	// The messages alias s.buf; copy them out.
	for i := range ms {
		ms[i].Data = append([]byte(nil), ms[i].Data...)
	}
	return ms, sa, err
}

// recvOne receives exactly one message in one datagram.
func (s *sock) recvOne() (msg, error) {
	ms, _, err := s.recv()
	if err != nil {
		return msg{}, err
	}
	if len(ms) != 1 {
		return msg{}, fmt.Errorf("want 1 message in the datagram, got %d: %v", len(ms), ms)
	}
	return ms[0], nil
}

// expectNothing fails if a datagram arrives within d.
func (s *sock) expectNothing(d time.Duration) error {
	if err := s.setTimeout(d); err != nil {
		return err
	}
	defer s.setTimeout(2 * time.Second)
	ms, _, err := s.recv()
	if errors.Is(err, unix.EAGAIN) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("expected no reply, got error %v", err)
	}
	return fmt.Errorf("expected no reply, got %v", ms)
}

// drain reads and discards everything queued, without blocking.
func (s *sock) drain() (int, error) {
	n := 0
	for {
		_, _, err := s.recvFlags(unix.MSG_DONTWAIT)
		switch {
		case errors.Is(err, unix.EAGAIN):
			return n, nil
		case errors.Is(err, unix.ENOBUFS):
			continue
		case err != nil:
			return n, err
		}
		n++
	}
}

// request sends one message and returns the single reply message.
func (s *sock) request(typ, flags uint16, seq uint32, payload []byte) (msg, error) {
	if err := s.send(encode(typ, flags, seq, payload)); err != nil {
		return msg{}, fmt.Errorf("send: %w", err)
	}
	return s.recvOne()
}

// expectError sends a request and expects exactly one NLMSG_ERROR answering
// it with errno want (0 for an ack) and nothing else.
func (s *sock) expectError(typ, flags uint16, seq uint32, payload []byte, want unix.Errno) (*nlError, error) {
	m, err := s.request(typ, flags, seq, payload)
	if err != nil {
		return nil, err
	}
	e, err := checkError(m, seq, want)
	if err != nil {
		return e, err
	}
	return e, s.expectNothing(50 * time.Millisecond)
}

func checkError(m msg, seq uint32, want unix.Errno) (*nlError, error) {
	if m.Type != unix.NLMSG_ERROR {
		return nil, fmt.Errorf("want NLMSG_ERROR, got %v", m)
	}
	e, err := decodeError(m)
	if err != nil {
		return nil, err
	}
	if m.Seq != seq || e.Orig.Seq != seq {
		return e, fmt.Errorf("error seq %d (orig %d), want %d", m.Seq, e.Orig.Seq, seq)
	}
	if e.Errno != -int32(want) {
		return e, fmt.Errorf("got %v, want errno %d (%v)", e, -int32(want), want)
	}
	return e, nil
}

// ---- generic netlink ----

func genlMsg(cmd uint8, attrs ...[]byte) []byte {
	b := []byte{cmd, genlVersion, 0, 0}
	for _, a := range attrs {
		b = append(b, a...)
	}
	return b
}

type genlFamily struct {
	ID     uint16
	Groups map[string]uint32
}

// resolveFamily asks the generic netlink controller for a family.
func resolveFamily(s *sock, name string) (*genlFamily, error) {
	payload := []byte{unix.CTRL_CMD_GETFAMILY, 1, 0, 0}
	payload = append(payload, encodeAttr(unix.CTRL_ATTR_FAMILY_NAME, append([]byte(name), 0))...)
	m, err := s.request(unix.GENL_ID_CTRL, unix.NLM_F_REQUEST, 1, payload)
	if err != nil {
		return nil, err
	}
	if m.Type == unix.NLMSG_ERROR {
		e, err := decodeError(m)
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("resolving %q: %w", name, e.Err())
	}
	if len(m.Data) < genlHdrLen {
		return nil, fmt.Errorf("short controller reply %v", m)
	}
	am, err := attrMap(m.Data[genlHdrLen:])
	if err != nil {
		return nil, err
	}
	f := &genlFamily{Groups: map[string]uint32{}}
	id, ok := am[unix.CTRL_ATTR_FAMILY_ID]
	if !ok || len(id) != 2 {
		return nil, errors.New("controller reply without family id")
	}
	f.ID = ne.Uint16(id)
	if grps, ok := am[unix.CTRL_ATTR_MCAST_GROUPS]; ok {
		list, err := decodeAttrs(grps)
		if err != nil {
			return nil, err
		}
		for _, g := range list {
			gm, err := attrMap(g.Data)
			if err != nil {
				return nil, err
			}
			name := strings.TrimRight(string(gm[unix.CTRL_ATTR_MCAST_GRP_NAME]), "\x00")
			if v := gm[unix.CTRL_ATTR_MCAST_GRP_ID]; len(v) == 4 {
				f.Groups[name] = ne.Uint32(v)
			}
		}
	}
	return f, nil
}

// ---- stats ----

type stats map[uint16]uint64

var statsNames = map[uint16]string{
	statsMsgsReceived:           "msgs_received",
	statsRepliesSent:            "replies_sent",
	statsPacketsPassed:          "packets_passed",
	statsPacketsDroppedNoListen: "dropped_no_listener",
	statsPacketsDroppedFull:     "dropped_buffer_full",
	statsErrorsSent:             "errors_sent",
	statsPacketsDroppedNomem:    "dropped_nomem",
}

func (st stats) String() string {
	var b strings.Builder
	for _, t := range []uint16{1, 2, 3, 4, 5, 6, 8} {
		fmt.Fprintf(&b, "%s=%d ", statsNames[t], st[t])
	}
	return strings.TrimSpace(b.String())
}

// sub returns st - old for every counter.
func (st stats) sub(old stats) stats {
	d := stats{}
	for k, v := range st {
		d[k] = v - old[k]
	}
	return d
}

func parseStats(b []byte) (stats, error) {
	as, err := decodeAttrs(b)
	if err != nil {
		return nil, err
	}
	st := stats{}
	for _, a := range as {
		if a.Type == statsPad {
			continue
		}
		if _, known := statsNames[a.Type]; !known {
			return nil, fmt.Errorf("unknown stats attribute %d", a.Type)
		}
		if len(a.Data) != 8 {
			return nil, fmt.Errorf("stats attribute %d has %d bytes", a.Type, len(a.Data))
		}
		if _, dup := st[a.Type]; dup {
			return nil, fmt.Errorf("stats attribute %d repeated", a.Type)
		}
		st[a.Type] = ne.Uint64(a.Data)
	}
	for t, n := range statsNames {
		if _, ok := st[t]; !ok {
			return nil, fmt.Errorf("stats attribute %d (%s) missing", t, n)
		}
	}
	return st, nil
}

// rawStats reads the counters through the raw protocol.
func rawStats(s *sock, seq uint32) (stats, error) {
	m, err := s.request(msgStats, unix.NLM_F_REQUEST, seq, nil)
	if err != nil {
		return nil, err
	}
	if m.Type != msgStats || m.Seq != seq || m.Pid != 0 || m.Flags != 0 {
		return nil, fmt.Errorf("stats reply %v", m)
	}
	// 7 u64 attributes of 12 bytes; no PAD attributes on x86-64.
	if runtime.GOARCH == "amd64" && m.Len != nlmsgHdrLen+7*12 {
		return nil, fmt.Errorf("stats reply of %d bytes, want 100", m.Len)
	}
	return parseStats(m.Data)
}
