package sockdiag

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/nlkit/nlkit/netlink"
)

// Message types of NETLINK_SOCK_DIAG (linux/sock_diag.h).
const (
	msgByFamily = 20 // SOCK_DIAG_BY_FAMILY: dump or get sockets of a family
	msgDestroy  = 21 // SOCK_DESTROY: close a socket
)

// Sizes of the fixed headers (linux/inet_diag.h, linux/unix_diag.h).
const (
	sockIDLen      = 48 // struct inet_diag_sockid
	inetReqLen     = 56 // struct inet_diag_req_v2
	inetMsgLen     = 72 // struct inet_diag_msg
	unixReqLen     = 24 // struct unix_diag_req
	unixMsgLen     = 16 // struct unix_diag_msg
	inetMemInfoLen = 16 // struct inet_diag_meminfo
)

// NoCookie is the cookie of a request that names no socket by cookie
// (INET_DIAG_NOCOOKIE in both halves).
const NoCookie uint64 = ^uint64(0)

// Attributes of an inet_diag_msg (enum in linux/inet_diag.h).
const (
	inetDiagMemInfo   = 1  // INET_DIAG_MEMINFO: struct inet_diag_meminfo
	inetDiagInfo      = 2  // INET_DIAG_INFO: struct tcp_info (TCP), others for DCCP, SCTP
	inetDiagVegasInfo = 3  // INET_DIAG_VEGASINFO
	inetDiagCong      = 4  // INET_DIAG_CONG: congestion control name
	inetDiagTOS       = 5  // INET_DIAG_TOS: u8
	inetDiagTClass    = 6  // INET_DIAG_TCLASS: u8
	inetDiagSKMemInfo = 7  // INET_DIAG_SKMEMINFO: u32[SK_MEMINFO_VARS]
	inetDiagShutdown  = 8  // INET_DIAG_SHUTDOWN: u8
	inetDiagProtocol  = 10 // INET_DIAG_PROTOCOL: u8
	inetDiagV6Only    = 11 // INET_DIAG_SKV6ONLY: u8
	inetDiagMark      = 15 // INET_DIAG_MARK: u32 (only for CAP_NET_ADMIN)
	inetDiagClassID   = 17 // INET_DIAG_CLASS_ID: u32
	inetDiagCgroupID  = 21 // INET_DIAG_CGROUP_ID: u64
)

// Request attributes (enum in linux/inet_diag.h).
const (
	inetDiagReqProtocol = 3 // INET_DIAG_REQ_PROTOCOL: u32, for protocols above 255
)

// Extensions selects the optional attributes an inet dump asks for
// (idiag_ext: bit 1<<(INET_DIAG_x - 1)).
type Extensions uint8

// Extensions. Shutdown, TOS/TClass (for some), V6Only, class and cgroup
// IDs come without asking.
const (
	ExtMemInfo    Extensions = 1 << (inetDiagMemInfo - 1)   // INET_DIAG_MEMINFO: MemInfo
	ExtInfo       Extensions = 1 << (inetDiagInfo - 1)      // INET_DIAG_INFO: TCPInfo
	ExtVegasInfo  Extensions = 1 << (inetDiagVegasInfo - 1) // INET_DIAG_VEGASINFO (not decoded)
	ExtCongestion Extensions = 1 << (inetDiagCong - 1)      // INET_DIAG_CONG: Congestion
	ExtTOS        Extensions = 1 << (inetDiagTOS - 1)       // INET_DIAG_TOS: TOS
	ExtTClass     Extensions = 1 << (inetDiagTClass - 1)    // INET_DIAG_TCLASS: TClass
	ExtSKMemInfo  Extensions = 1 << (inetDiagSKMemInfo - 1) // INET_DIAG_SKMEMINFO: SKMemInfo
	ExtShutdown   Extensions = 1 << (inetDiagShutdown - 1)  // INET_DIAG_SHUTDOWN: Shutdown
)

// SocketID names an inet socket (struct inet_diag_sockid): its local
// and remote address and port, the interface it is bound to, and the
// kernel's cookie for it.
type SocketID struct {
	// Local and Remote address and port. In a request, an invalid
	// (zero) AddrPort means any; for IPv4 sockets the addresses are
	// IPv4, for IPv6 sockets IPv6 (IPv4-mapped for IPv4 peers of a
	// dual-stack socket).
	Local, Remote netip.AddrPort
	// Interface is the index of the interface the socket is bound to
	// (idiag_if), 0 if none.
	Interface uint32
	// Cookie identifies the socket uniquely while it lives
	// (idiag_cookie); NoCookie in a request that does not name one.
	Cookie uint64
}

// marshal appends the 48-byte inet_diag_sockid; v4 says how to lay out
// the addresses (first 4 of 16 bytes).
func (id SocketID) marshal(b []byte, v4 bool) []byte {
	b = binary.BigEndian.AppendUint16(b, id.Local.Port())
	b = binary.BigEndian.AppendUint16(b, id.Remote.Port())
	b = appendAddr(b, id.Local.Addr(), v4)
	b = appendAddr(b, id.Remote.Addr(), v4)
	b = binary.NativeEndian.AppendUint32(b, id.Interface)
	b = binary.NativeEndian.AppendUint32(b, uint32(id.Cookie))
	b = binary.NativeEndian.AppendUint32(b, uint32(id.Cookie>>32))
	return b
}

func appendAddr(b []byte, a netip.Addr, v4 bool) []byte {
	var raw [16]byte
	switch {
	case !a.IsValid():
	case v4:
		a4 := a.Unmap().As4()
		copy(raw[:], a4[:])
	default:
		raw = a.As16()
	}
	return append(b, raw[:]...)
}

// unmarshalSocketID decodes a 48-byte inet_diag_sockid of family f.
func unmarshalSocketID(b []byte, f Family) SocketID {
	sport := binary.BigEndian.Uint16(b[0:2])
	dport := binary.BigEndian.Uint16(b[2:4])
	var src, dst netip.Addr
	if f == FamilyIPv6 {
		src = netip.AddrFrom16([16]byte(b[4:20]))
		dst = netip.AddrFrom16([16]byte(b[20:36]))
	} else {
		src = netip.AddrFrom4([4]byte(b[4:8]))
		dst = netip.AddrFrom4([4]byte(b[20:24]))
	}
	return SocketID{
		Local:     netip.AddrPortFrom(src, sport),
		Remote:    netip.AddrPortFrom(dst, dport),
		Interface: binary.NativeEndian.Uint32(b[36:40]),
		Cookie:    uint64(binary.NativeEndian.Uint32(b[40:44])) | uint64(binary.NativeEndian.Uint32(b[44:48]))<<32,
	}
}

// InetRequest asks for IPv4 or IPv6 sockets of one protocol (struct
// inet_diag_req_v2). The kernel filters by family, protocol and state.
type InetRequest struct {
	// Family is FamilyIPv4 or FamilyIPv6 (sdiag_family).
	Family Family
	// Protocol is ProtocolTCP, ProtocolUDP, ... (sdiag_protocol, or
	// INET_DIAG_REQ_PROTOCOL above 255).
	Protocol Protocol
	// Extensions asks for optional attributes (idiag_ext).
	Extensions Extensions
	// States selects sockets by state (idiag_states); 0 means AllStates.
	States StateSet
	// ID names one socket, for Client.InetSocket and Client.Destroy;
	// dumps ignore it. Its zero Cookie means NoCookie.
	ID SocketID
}

// Errors of request encoding.
var (
	errFamily = errors.New("family must be FamilyIPv4 or FamilyIPv6")
)

// MarshalBinary encodes the request (struct inet_diag_req_v2).
func (r InetRequest) MarshalBinary() ([]byte, error) {
	if r.Family != FamilyIPv4 && r.Family != FamilyIPv6 {
		return nil, fmt.Errorf("sockdiag: encode inet request: %w, not %v", errFamily, r.Family)
	}
	states := r.States
	if states == 0 {
		states = AllStates
	}
	id := r.ID
	if id.Cookie == 0 {
		id.Cookie = NoCookie
	}
	b := make([]byte, 0, inetReqLen+8)
	b = append(b, uint8(r.Family), uint8(r.Protocol), uint8(r.Extensions), 0)
	b = binary.NativeEndian.AppendUint32(b, uint32(states))
	b = id.marshal(b, r.Family == FamilyIPv4)
	if r.Protocol > 255 {
		// sdiag_protocol holds 8 bits; the kernel takes the attribute
		// instead when there is one.
		var e netlink.AttributeEncoder
		e.Reset(b)
		e.Uint32(inetDiagReqProtocol, uint32(r.Protocol))
		return e.Encode()
	}
	return b, nil
}

// UnmarshalBinary decodes a request (for fake kernels in tests),
// taking the protocol from INET_DIAG_REQ_PROTOCOL if present. Other
// attributes are ignored.
func (r *InetRequest) UnmarshalBinary(b []byte) error {
	if len(b) < inetReqLen {
		return fmt.Errorf("sockdiag: decode inet request: %w: %d bytes, want %d", netlink.ErrShortMessage, len(b), inetReqLen)
	}
	f := Family(b[0])
	out := InetRequest{
		Family: f, Protocol: Protocol(b[1]), Extensions: Extensions(b[2]),
		States: StateSet(binary.NativeEndian.Uint32(b[4:8])),
		ID:     unmarshalSocketID(b[8:56], f),
	}
	d := netlink.NewAttributeDecoder(b[inetReqLen:])
	for d.Next() {
		if d.Type() == inetDiagReqProtocol {
			p := d.Uint32()
			if p > 0xffff {
				return fmt.Errorf("sockdiag: decode inet request: protocol %d out of range", p)
			}
			out.Protocol = Protocol(p)
		}
	}
	if err := d.Err(); err != nil {
		return fmt.Errorf("sockdiag: decode inet request: %w", err)
	}
	*r = out
	return nil
}

// MemInfo is a socket's memory in bytes (struct inet_diag_meminfo).
type MemInfo struct {
	RecvAlloc    uint32 // idiag_rmem: sk_rmem_alloc, received and unread
	SendQueued   uint32 // idiag_wmem: sk_wmem_queued, queued for sending
	ForwardAlloc uint32 // idiag_fmem: sk_forward_alloc, reserved
	SendAlloc    uint32 // idiag_tmem: sk_wmem_alloc, sent and not yet freed
}

// SKMemInfo is the socket's memory accounting (INET_DIAG_SKMEMINFO and
// UNIX_DIAG_MEMINFO: u32[SK_MEMINFO_VARS]), what ss -m prints as
// skmem:(r,rb,t,tb,f,w,o,bl,d).
type SKMemInfo struct {
	RecvAlloc    uint32 // SK_MEMINFO_RMEM_ALLOC (r)
	RecvBuf      uint32 // SK_MEMINFO_RCVBUF (rb)
	SendAlloc    uint32 // SK_MEMINFO_WMEM_ALLOC (t)
	SendBuf      uint32 // SK_MEMINFO_SNDBUF (tb)
	ForwardAlloc uint32 // SK_MEMINFO_FWD_ALLOC (f)
	SendQueued   uint32 // SK_MEMINFO_WMEM_QUEUED (w)
	OptMem       uint32 // SK_MEMINFO_OPTMEM (o)
	Backlog      uint32 // SK_MEMINFO_BACKLOG (bl)
	Drops        uint32 // SK_MEMINFO_DROPS (d)
}

func (m *SKMemInfo) fields() []*uint32 {
	return []*uint32{&m.RecvAlloc, &m.RecvBuf, &m.SendAlloc, &m.SendBuf, &m.ForwardAlloc,
		&m.SendQueued, &m.OptMem, &m.Backlog, &m.Drops}
}

// unmarshal decodes as many counters as b holds (older kernels send
// fewer, newer ones may send more).
func (m *SKMemInfo) unmarshal(b []byte) {
	for i, p := range m.fields() {
		if len(b) < 4*(i+1) {
			return
		}
		*p = binary.NativeEndian.Uint32(b[4*i:])
	}
}

func (m SKMemInfo) marshal() []byte {
	var b []byte
	for _, p := range m.fields() {
		b = binary.NativeEndian.AppendUint32(b, *p)
	}
	return b
}

// InetSocket is an IPv4 or IPv6 socket as sock_diag describes it
// (struct inet_diag_msg and INET_DIAG_* attributes).
type InetSocket struct {
	// Family is FamilyIPv4 or FamilyIPv6 (idiag_family).
	Family Family
	// Protocol is the protocol the dump asked for (the message itself
	// carries it only in INET_DIAG_PROTOCOL, 8 bits wide, which the
	// kernel sends for some protocols; Client fills it in from the
	// request, and the request wins).
	Protocol Protocol
	// State is the socket's state (idiag_state).
	State State
	// Timer is the pending timer (idiag_timer), Retransmits the number
	// of retransmissions or probes it counts (idiag_retrans) and
	// Expires when it fires (idiag_expires, ms resolution).
	Timer       Timer
	Retransmits uint8
	Expires     time.Duration
	// ID holds the addresses, ports, bound interface and cookie.
	ID SocketID
	// RecvQueue and SendQueue are idiag_rqueue and idiag_wqueue: bytes
	// waiting (for TCP: unread and unacknowledged; for a listener: the
	// accept queue's length and its limit), as ss's Recv-Q and Send-Q.
	RecvQueue, SendQueue uint32
	// UID of the socket's owner and Inode of its file (0 for sockets in
	// TIME-WAIT and SYN-RECV, which have neither).
	UID   uint32
	Inode uint32

	// Optional attributes; nil or zero when the kernel did not send them.

	// MemInfo (INET_DIAG_MEMINFO, ExtMemInfo).
	MemInfo *MemInfo
	// SKMemInfo (INET_DIAG_SKMEMINFO, ExtSKMemInfo).
	SKMemInfo *SKMemInfo
	// TCPInfo (INET_DIAG_INFO, ExtInfo) for TCP sockets.
	TCPInfo *TCPInfo
	// Congestion is the congestion control algorithm (INET_DIAG_CONG).
	Congestion string
	// TOS and TClass are the IPv4 TOS and IPv6 traffic class
	// (INET_DIAG_TOS, INET_DIAG_TCLASS); HasTOS and HasTClass say
	// whether they were sent.
	TOS, TClass       uint8
	HasTOS, HasTClass bool
	// Shutdown holds the directions shut down (INET_DIAG_SHUTDOWN: bit
	// 0 receive, bit 1 send).
	Shutdown uint8
	// V6Only is IPV6_V6ONLY of an IPv6 socket (INET_DIAG_SKV6ONLY),
	// which decides whether a wildcard address also takes IPv4.
	V6Only bool
	// Mark is SO_MARK (INET_DIAG_MARK; sent only to CAP_NET_ADMIN).
	Mark    uint32
	HasMark bool
	// ClassID is the net_cls class ID or priority (INET_DIAG_CLASS_ID).
	ClassID uint32
	// CgroupID is the socket's cgroup v2 ID (INET_DIAG_CGROUP_ID).
	CgroupID uint64
}

// Errors of message decoding.
var (
	errShort = netlink.ErrShortMessage
)

// infoIsTCP reports whether INET_DIAG_INFO of protocol p is a struct
// tcp_info: for TCP and DCCP, and when the protocol is not known. SCTP
// and MPTCP send structures of their own, which are not decoded.
func infoIsTCP(p Protocol) bool {
	return p == 0 || p == ProtocolTCP || p == ProtocolDCCP
}

// UnmarshalBinary decodes an inet_diag_msg and its attributes. Unknown
// attributes are skipped; a known one of the wrong size is an error.
// INET_DIAG_INFO is decoded as TCP's struct tcp_info unless the message
// says it is from another protocol (INET_DIAG_PROTOCOL).
func (s *InetSocket) UnmarshalBinary(b []byte) error { return s.unmarshal(b, 0) }

// unmarshal decodes with proto, the protocol the request asked for, as
// the default of Protocol.
func (s *InetSocket) unmarshal(b []byte, proto Protocol) error {
	if len(b) < inetMsgLen {
		return fmt.Errorf("sockdiag: decode inet socket: %w: %d bytes, want %d", errShort, len(b), inetMsgLen)
	}
	f := Family(b[0])
	if f != FamilyIPv4 && f != FamilyIPv6 {
		return fmt.Errorf("sockdiag: decode inet socket: %w, not %v", errFamily, f)
	}
	var info []byte
	out := InetSocket{
		Family: f, Protocol: proto, State: State(b[1]), Timer: Timer(b[2]), Retransmits: b[3],
		ID:        unmarshalSocketID(b[4:52], f),
		Expires:   time.Duration(binary.NativeEndian.Uint32(b[52:56])) * time.Millisecond,
		RecvQueue: binary.NativeEndian.Uint32(b[56:60]),
		SendQueue: binary.NativeEndian.Uint32(b[60:64]),
		UID:       binary.NativeEndian.Uint32(b[64:68]),
		Inode:     binary.NativeEndian.Uint32(b[68:72]),
	}
	d := netlink.NewAttributeDecoder(b[inetMsgLen:])
	for d.Next() {
		switch d.Type() {
		case inetDiagMemInfo:
			p := d.Bytes()
			if len(p) < inetMemInfoLen {
				return fmt.Errorf("sockdiag: decode inet socket: meminfo of %d bytes, want %d", len(p), inetMemInfoLen)
			}
			out.MemInfo = &MemInfo{
				RecvAlloc: binary.NativeEndian.Uint32(p[0:]), SendQueued: binary.NativeEndian.Uint32(p[4:]),
				ForwardAlloc: binary.NativeEndian.Uint32(p[8:]), SendAlloc: binary.NativeEndian.Uint32(p[12:]),
			}
		case inetDiagSKMemInfo:
			out.SKMemInfo = new(SKMemInfo)
			out.SKMemInfo.unmarshal(d.Bytes())
		case inetDiagInfo:
			// Decoded below, once the protocol is known: TCP and DCCP
			// send struct tcp_info, SCTP its own sctp_info.
			info = d.Bytes()
		case inetDiagCong:
			out.Congestion = d.String()
		case inetDiagTOS:
			out.TOS, out.HasTOS = d.Uint8(), true
		case inetDiagTClass:
			out.TClass, out.HasTClass = d.Uint8(), true
		case inetDiagShutdown:
			out.Shutdown = d.Uint8()
		case inetDiagProtocol:
			if p := Protocol(d.Uint8()); proto == 0 {
				out.Protocol = p
			}
		case inetDiagV6Only:
			out.V6Only = d.Uint8() != 0
		case inetDiagMark:
			out.Mark, out.HasMark = d.Uint32(), true
		case inetDiagClassID:
			out.ClassID = d.Uint32()
		case inetDiagCgroupID:
			out.CgroupID = d.Uint64()
		}
	}
	if err := d.Err(); err != nil {
		return fmt.Errorf("sockdiag: decode inet socket: %w", err)
	}
	if info != nil && infoIsTCP(out.Protocol) {
		out.TCPInfo = new(TCPInfo)
		if err := out.TCPInfo.UnmarshalBinary(info); err != nil {
			return fmt.Errorf("sockdiag: decode inet socket: %w", err)
		}
	}
	*s = out
	return nil
}

// MarshalBinary encodes s as the kernel would send it: inet_diag_msg
// and the attributes of the fields set (for fake kernels and tests).
func (s InetSocket) MarshalBinary() ([]byte, error) {
	if s.Family != FamilyIPv4 && s.Family != FamilyIPv6 {
		return nil, fmt.Errorf("sockdiag: encode inet socket: %w, not %v", errFamily, s.Family)
	}
	ms := s.Expires / time.Millisecond
	if ms < 0 || ms > 1<<32-1 {
		return nil, fmt.Errorf("sockdiag: encode inet socket: expires %v out of range", s.Expires)
	}
	b := make([]byte, 0, inetMsgLen+64)
	b = append(b, uint8(s.Family), uint8(s.State), uint8(s.Timer), s.Retransmits)
	b = s.ID.marshal(b, s.Family == FamilyIPv4)
	for _, v := range []uint32{uint32(ms), s.RecvQueue, s.SendQueue, s.UID, s.Inode} {
		b = binary.NativeEndian.AppendUint32(b, v)
	}
	var e netlink.AttributeEncoder
	e.Reset(b)
	if s.MemInfo != nil {
		var m []byte
		for _, v := range []uint32{s.MemInfo.RecvAlloc, s.MemInfo.SendQueued, s.MemInfo.ForwardAlloc, s.MemInfo.SendAlloc} {
			m = binary.NativeEndian.AppendUint32(m, v)
		}
		e.Bytes(inetDiagMemInfo, m)
	}
	if s.TCPInfo != nil && infoIsTCP(s.Protocol) {
		e.Bytes(inetDiagInfo, s.TCPInfo.marshal())
	}
	if s.Congestion != "" {
		e.String(inetDiagCong, s.Congestion)
	}
	if s.HasTOS {
		e.Uint8(inetDiagTOS, s.TOS)
	}
	if s.HasTClass {
		e.Uint8(inetDiagTClass, s.TClass)
	}
	if s.SKMemInfo != nil {
		e.Bytes(inetDiagSKMemInfo, s.SKMemInfo.marshal())
	}
	e.Uint8(inetDiagShutdown, s.Shutdown)
	if s.Protocol != 0 && s.Protocol <= 255 {
		e.Uint8(inetDiagProtocol, uint8(s.Protocol))
	}
	if s.Family == FamilyIPv6 || s.V6Only {
		v := uint8(0)
		if s.V6Only {
			v = 1
		}
		e.Uint8(inetDiagV6Only, v)
	}
	if s.HasMark {
		e.Uint32(inetDiagMark, s.Mark)
	}
	if s.ClassID != 0 {
		e.Uint32(inetDiagClassID, s.ClassID)
	}
	if s.CgroupID != 0 {
		e.Uint64(inetDiagCgroupID, s.CgroupID)
	}
	out, err := e.Encode()
	if err != nil {
		return nil, fmt.Errorf("sockdiag: encode inet socket: %w", err)
	}
	return out, nil
}
