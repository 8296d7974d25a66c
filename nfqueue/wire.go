package nfqueue

import (
	"encoding/binary"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/nlkit/nlkit/netfilter"
	"github.com/nlkit/nlkit/netlink"
)

// Message types of the queue subsystem (enum nfqnl_msg_types).
const (
	msgPacket       = 0 // NFQNL_MSG_PACKET: packet from kernel to user space
	msgVerdict      = 1 // NFQNL_MSG_VERDICT: verdict on one packet
	msgConfig       = 2 // NFQNL_MSG_CONFIG: bind and configure a queue
	msgVerdictBatch = 3 // NFQNL_MSG_VERDICT_BATCH: verdict on all packets up to an ID
)

// Packet attributes (enum nfqnl_attr_type).
const (
	attrPacketHdr     = 1  // NFQA_PACKET_HDR: struct nfqnl_msg_packet_hdr
	attrVerdictHdr    = 2  // NFQA_VERDICT_HDR: struct nfqnl_msg_verdict_hdr
	attrMark          = 3  // NFQA_MARK: be32
	attrTimestamp     = 4  // NFQA_TIMESTAMP: struct nfqnl_msg_packet_timestamp
	attrInDev         = 5  // NFQA_IFINDEX_INDEV: be32
	attrOutDev        = 6  // NFQA_IFINDEX_OUTDEV: be32
	attrPhysInDev     = 7  // NFQA_IFINDEX_PHYSINDEV: be32
	attrPhysOutDev    = 8  // NFQA_IFINDEX_PHYSOUTDEV: be32
	attrHWAddr        = 9  // NFQA_HWADDR: struct nfqnl_msg_packet_hw
	attrPayload       = 10 // NFQA_PAYLOAD: the packet from its network header
	attrCT            = 11 // NFQA_CT: nested conntrack attributes (CTA_*)
	attrCTInfo        = 12 // NFQA_CT_INFO: be32 enum ip_conntrack_info
	attrCapLen        = 13 // NFQA_CAP_LEN: be32 original length, when the payload was cut
	attrSKBInfo       = 14 // NFQA_SKB_INFO: be32 NFQA_SKB_* flags
	attrUID           = 16 // NFQA_UID: be32
	attrGID           = 17 // NFQA_GID: be32
	attrSecCtx        = 18 // NFQA_SECCTX: string
	attrPriority      = 21 // NFQA_PRIORITY: be32 skb->priority
	attrCgroupClassID = 22 // NFQA_CGROUP_CLASSID: be32
)

// Configuration attributes (enum nfqnl_attr_config).
const (
	attrCfgCmd      = 1 // NFQA_CFG_CMD: struct nfqnl_msg_config_cmd
	attrCfgParams   = 2 // NFQA_CFG_PARAMS: struct nfqnl_msg_config_params
	attrCfgQueueLen = 3 // NFQA_CFG_QUEUE_MAXLEN: be32
	attrCfgMask     = 4 // NFQA_CFG_MASK: be32, the flags to change
	attrCfgFlags    = 5 // NFQA_CFG_FLAGS: be32, their values
)

// Configuration commands (enum nfqnl_msg_config_cmds).
const (
	cmdBind   = 1 // NFQNL_CFG_CMD_BIND
	cmdUnbind = 2 // NFQNL_CFG_CMD_UNBIND
)

const (
	packetHdrLen  = 7 // sizeof(struct nfqnl_msg_packet_hdr), packed
	verdictHdrLen = 8 // sizeof(struct nfqnl_msg_verdict_hdr)
	paramsLen     = 5 // sizeof(struct nfqnl_msg_config_params), packed
)

// DefaultMaxLen is the kernel's queue length when none is configured
// (NFQNL_QDMAX_DEFAULT).
const DefaultMaxLen = 1024

// CopyMode says how much of each packet the kernel sends (enum
// nfqnl_config_mode).
type CopyMode uint8

// Copy modes.
const (
	CopyNone   CopyMode = 0 // NFQNL_COPY_NONE: nothing is queued to user space
	CopyMeta   CopyMode = 1 // NFQNL_COPY_META: metadata only, no payload
	CopyPacket CopyMode = 2 // NFQNL_COPY_PACKET: metadata and up to CopyRange bytes
)

// String returns "none", "meta" or "packet".
func (m CopyMode) String() string {
	switch m {
	case CopyNone:
		return "none"
	case CopyMeta:
		return "meta"
	case CopyPacket:
		return "packet"
	}
	return fmt.Sprintf("copy-mode(%d)", uint8(m))
}

// Flags are queue options (NFQA_CFG_F_*).
type Flags uint32

// Queue flags.
const (
	// FailOpen: when the queue is full, the kernel accepts packets
	// instead of dropping them (NFQA_CFG_F_FAIL_OPEN).
	FailOpen Flags = 1 << 0
	// Conntrack: packets carry their conntrack entry and state
	// (NFQA_CFG_F_CONNTRACK).
	Conntrack Flags = 1 << 1
	// GSO: the kernel queues GSO packets whole, without segmenting them
	// first; their checksums may not be computed yet (NFQA_CFG_F_GSO).
	GSO Flags = 1 << 2
	// UIDGID: packets of local sockets carry the owner's UID and GID
	// (NFQA_CFG_F_UID_GID).
	UIDGID Flags = 1 << 3
	// SecCtx: packets carry their security context (NFQA_CFG_F_SECCTX).
	SecCtx Flags = 1 << 4
)

var flagNames = []struct {
	f    Flags
	name string
}{{FailOpen, "fail-open"}, {Conntrack, "conntrack"}, {GSO, "gso"}, {UIDGID, "uid-gid"}, {SecCtx, "secctx"}}

// String lists the flags by name, joined by "|".
func (f Flags) String() string {
	if f == 0 {
		return "0"
	}
	var parts []string
	for _, n := range flagNames {
		if f&n.f != 0 {
			parts = append(parts, n.name)
			f &^= n.f
		}
	}
	if f != 0 {
		parts = append(parts, fmt.Sprintf("%#x", uint32(f)))
	}
	return strings.Join(parts, "|")
}

// Verdict is a netfilter verdict (NF_DROP, NF_ACCEPT, ...). The upper 16
// bits of NF_QUEUE carry the target queue; see QueueTo.
type Verdict uint32

// Verdicts.
const (
	Drop    Verdict = 0 // NF_DROP: drop the packet
	Accept  Verdict = 1 // NF_ACCEPT: let it go on to the next rule or hook
	Stolen  Verdict = 2 // NF_STOLEN: forget it (do not use from user space)
	ToQueue Verdict = 3 // NF_QUEUE: send to another queue, the one in the upper 16 bits (use QueueTo)
	Repeat  Verdict = 4 // NF_REPEAT: call the hook again (traverse the chain anew)
	Stop    Verdict = 5 // NF_STOP: accept, skipping later hooks (deprecated)

	verdictMask       Verdict = 0xff   // NF_VERDICT_MASK
	verdictBypassFlag Verdict = 0x8000 // NF_VERDICT_FLAG_QUEUE_BYPASS
)

// QueueTo returns the verdict that sends the packet to queue num (NF_QUEUE
// | num<<16). With bypass, the packet is accepted if no program listens
// on that queue (NF_VERDICT_FLAG_QUEUE_BYPASS); without it, it is dropped.
func QueueTo(num uint16, bypass bool) Verdict {
	v := ToQueue | Verdict(num)<<16
	if bypass {
		v |= verdictBypassFlag
	}
	return v
}

// String returns the verdict's name ("accept", "queue 3", ...).
func (v Verdict) String() string {
	switch v & verdictMask {
	case Drop:
		return "drop"
	case Accept:
		return "accept"
	case Stolen:
		return "stolen"
	case ToQueue:
		s := fmt.Sprintf("queue %d", uint32(v)>>16)
		if v&verdictBypassFlag != 0 {
			s += " bypass"
		}
		return s
	case Repeat:
		return "repeat"
	case Stop:
		return "stop"
	}
	return fmt.Sprintf("verdict(%#x)", uint32(v))
}

// Hook is the netfilter hook a packet was seen at (enum nf_inet_hooks).
type Hook = netfilter.Hook

// Hooks.
const (
	HookPrerouting  = netfilter.HookPrerouting  // NF_INET_PRE_ROUTING
	HookInput       = netfilter.HookInput       // NF_INET_LOCAL_IN
	HookForward     = netfilter.HookForward     // NF_INET_FORWARD
	HookOutput      = netfilter.HookOutput      // NF_INET_LOCAL_OUT
	HookPostrouting = netfilter.HookPostrouting // NF_INET_POST_ROUTING
)

// CTInfo is the conntrack state of a packet (enum ip_conntrack_info).
type CTInfo uint32

// Conntrack states.
const (
	CTEstablished      CTInfo = 0 // IP_CT_ESTABLISHED
	CTRelated          CTInfo = 1 // IP_CT_RELATED
	CTNew              CTInfo = 2 // IP_CT_NEW
	CTEstablishedReply CTInfo = 3 // IP_CT_ESTABLISHED_REPLY (IP_CT_IS_REPLY)
	CTRelatedReply     CTInfo = 4 // IP_CT_RELATED_REPLY
)

// String returns the state as conntrack tools name it.
func (c CTInfo) String() string {
	switch c {
	case CTEstablished:
		return "established"
	case CTRelated:
		return "related"
	case CTNew:
		return "new"
	case CTEstablishedReply:
		return "established-reply"
	case CTRelatedReply:
		return "related-reply"
	}
	return fmt.Sprintf("ctinfo(%d)", uint32(c))
}

// SKB information flags (NFQA_SKB_*).
const (
	SKBChecksumNotReady    uint32 = 1 << 0 // NFQA_SKB_CSUMNOTREADY: checksums look wrong but will be filled in
	SKBGSO                 uint32 = 1 << 1 // NFQA_SKB_GSO: a GSO packet, larger than the MTU
	SKBChecksumNotVerified uint32 = 1 << 2 // NFQA_SKB_CSUM_NOTVERIFIED: checksum not validated
)

// Packet is a queued packet (NFQNL_MSG_PACKET) with its metadata. Fields
// whose attribute the kernel left out are zero; the Has fields tell a
// zero value from an absent one where both occur.
type Packet struct {
	// Queue is the queue number the packet came from (res_id).
	Queue uint16
	// Family is the packet's protocol family (nfgen_family): IPv4 or IPv6
	// for the inet hooks.
	Family netfilter.Family
	// ID is the packet's ID in its queue, to give the verdict with.
	ID uint32
	// HWProtocol is the link-layer protocol (EtherType: 0x0800, 0x86dd).
	HWProtocol uint16
	// Hook the packet was queued from.
	Hook Hook
	// Mark is the packet mark (skb->mark); the kernel omits it when 0.
	Mark uint32
	// InDev and OutDev are the input and output interface indexes, 0 if
	// none (no input device on output, no output device on input).
	InDev, OutDev uint32
	// PhysInDev and PhysOutDev are the bridge port indexes, for bridged
	// packets.
	PhysInDev, PhysOutDev uint32
	// HWAddr is the source link-layer address, when the input device has
	// one.
	HWAddr net.HardwareAddr
	// Timestamp is the packet's receive time, when the kernel recorded
	// one (received packets, with timestamping on).
	Timestamp time.Time
	// UID and GID own the local socket that sent or receives the packet
	// (with UIDGID, for full sockets).
	UID, GID       uint32
	HasUID, HasGID bool
	// CTInfo is the conntrack state (with Conntrack, when the packet has
	// a conntrack entry); HasCTInfo says it is present.
	CTInfo    CTInfo
	HasCTInfo bool
	// Conntrack is the raw nested conntrack entry (NFQA_CT, CTA_*
	// attributes), with Conntrack.
	Conntrack []byte
	// Length is the packet's full length; larger than len(Payload) when
	// the copy range cut it (NFQA_CAP_LEN), else len(Payload).
	Length uint32
	// SKBInfo holds SKB* flags (NFQA_SKB_INFO).
	SKBInfo uint32
	// SecCtx is the security context (with SecCtx).
	SecCtx string
	// Priority is skb->priority, when non-zero.
	Priority uint32
	// CgroupClassID is the net_cls cgroup class, when set.
	CgroupClassID uint32
	// Payload is the packet from its network header (IPv4, IPv6), up to
	// the copy range; empty in CopyMeta mode.
	Payload []byte
}

// UnmarshalBinary decodes a packet's attributes (the payload of an
// NFQNL_MSG_PACKET after the nfgenmsg header). Byte slices are copied:
// the Packet owns its memory. Queue and Family come from the header; use
// ParsePacket for a whole message.
func (p *Packet) UnmarshalBinary(b []byte) error {
	*p = Packet{Queue: p.Queue, Family: p.Family}
	hasCap, hasHdr := false, false
	d := netfilter.NewAttributeDecoder(b)
	for d.Next() {
		switch d.Type() {
		case attrPacketHdr:
			v := d.Bytes()
			if len(v) < packetHdrLen {
				return fmt.Errorf("nfqueue: decode packet: header of %d bytes, want %d", len(v), packetHdrLen)
			}
			p.ID = binary.BigEndian.Uint32(v[0:4])
			p.HWProtocol = binary.BigEndian.Uint16(v[4:6])
			p.Hook = Hook(v[6])
			hasHdr = true
		case attrMark:
			p.Mark = d.Uint32()
		case attrTimestamp:
			t, err := netfilter.ParseTimestamp(d.Bytes())
			if err != nil {
				return fmt.Errorf("nfqueue: decode packet: %w", err)
			}
			p.Timestamp = t
		case attrInDev:
			p.InDev = d.Uint32()
		case attrOutDev:
			p.OutDev = d.Uint32()
		case attrPhysInDev:
			p.PhysInDev = d.Uint32()
		case attrPhysOutDev:
			p.PhysOutDev = d.Uint32()
		case attrHWAddr:
			hw, err := netfilter.ParseHWAddr(d.Bytes())
			if err != nil {
				return fmt.Errorf("nfqueue: decode packet: %w", err)
			}
			p.HWAddr = hw
		case attrPayload:
			p.Payload = append([]byte{}, d.Bytes()...)
		case attrCT:
			p.Conntrack = append([]byte{}, d.Bytes()...)
		case attrCTInfo:
			p.CTInfo, p.HasCTInfo = CTInfo(d.Uint32()), true
		case attrCapLen:
			p.Length, hasCap = d.Uint32(), true
		case attrSKBInfo:
			p.SKBInfo = d.Uint32()
		case attrUID:
			p.UID, p.HasUID = d.Uint32(), true
		case attrGID:
			p.GID, p.HasGID = d.Uint32(), true
		case attrSecCtx:
			p.SecCtx = d.String()
		case attrPriority:
			p.Priority = d.Uint32()
		case attrCgroupClassID:
			p.CgroupClassID = d.Uint32()
		}
	}
	if err := d.Err(); err != nil {
		return fmt.Errorf("nfqueue: decode packet: %w", err)
	}
	if !hasHdr {
		return fmt.Errorf("nfqueue: decode packet: no packet header (NFQA_PACKET_HDR)")
	}
	if !hasCap {
		p.Length = uint32(len(p.Payload))
	}
	return nil
}

// ParsePacket decodes an NFQNL_MSG_PACKET message.
func ParsePacket(m netfilter.Message) (Packet, error) {
	if m.Type != netfilter.NewMessageType(netfilter.SubsysQueue, msgPacket) {
		return Packet{}, fmt.Errorf("nfqueue: decode packet: message type %v is not a queued packet", m.Type)
	}
	p := Packet{Queue: m.Header.ResourceID, Family: m.Header.Family}
	if err := p.UnmarshalBinary(m.Data); err != nil {
		return Packet{}, err
	}
	return p, nil
}

// MarshalBinary encodes p's attributes as the kernel sends them (for fake
// kernels and tests). Zero-valued optional fields are left out, as the
// kernel leaves them out; Length is sent as NFQA_CAP_LEN only when it
// exceeds len(Payload).
func (p *Packet) MarshalBinary() ([]byte, error) {
	e := netfilter.NewAttributeEncoder()
	hdr := binary.BigEndian.AppendUint32(nil, p.ID)
	hdr = binary.BigEndian.AppendUint16(hdr, p.HWProtocol)
	hdr = append(hdr, uint8(p.Hook))
	e.Bytes(attrPacketHdr, hdr)
	if p.Mark != 0 {
		e.Uint32(attrMark, p.Mark)
	}
	if !p.Timestamp.IsZero() {
		e.Bytes(attrTimestamp, netfilter.AppendTimestamp(nil, p.Timestamp))
	}
	for _, a := range []struct {
		typ uint16
		v   uint32
	}{{attrInDev, p.InDev}, {attrOutDev, p.OutDev}, {attrPhysInDev, p.PhysInDev}, {attrPhysOutDev, p.PhysOutDev}} {
		if a.v != 0 {
			e.Uint32(a.typ, a.v)
		}
	}
	if len(p.HWAddr) > 0 {
		hw, err := netfilter.AppendHWAddr(nil, p.HWAddr)
		if err != nil {
			return nil, fmt.Errorf("nfqueue: encode packet: %w", err)
		}
		e.Bytes(attrHWAddr, hw)
	}
	if p.HasUID {
		e.Uint32(attrUID, p.UID)
	}
	if p.HasGID {
		e.Uint32(attrGID, p.GID)
	}
	if p.Conntrack != nil {
		e.Raw(attrCT|netlink.AttrNested, p.Conntrack)
	}
	if p.HasCTInfo {
		e.Uint32(attrCTInfo, uint32(p.CTInfo))
	}
	if p.SKBInfo != 0 {
		e.Uint32(attrSKBInfo, p.SKBInfo)
	}
	if p.SecCtx != "" {
		e.String(attrSecCtx, p.SecCtx)
	}
	if p.Priority != 0 {
		e.Uint32(attrPriority, p.Priority)
	}
	if p.CgroupClassID != 0 {
		e.Uint32(attrCgroupClassID, p.CgroupClassID)
	}
	if p.Length > uint32(len(p.Payload)) {
		e.Uint32(attrCapLen, p.Length)
	}
	if p.Payload != nil {
		e.Bytes(attrPayload, p.Payload)
	}
	b, err := e.Encode()
	if err != nil {
		return nil, fmt.Errorf("nfqueue: encode packet: %w", err)
	}
	return b, nil
}

// Config is a queue's configuration, sent with NFQNL_MSG_CONFIG.
type Config struct {
	// CopyMode is how much of each packet to send (NFQA_CFG_PARAMS); the
	// zero value means CopyPacket.
	CopyMode CopyMode
	// CopyRange is how many bytes of each packet to send, from the
	// network header; 0 means 65535 (whole packets). The kernel caps it
	// at what fits in a netlink message.
	CopyRange uint32
	// MaxLen is how many packets may wait for a verdict
	// (NFQA_CFG_QUEUE_MAXLEN); 0 leaves the kernel's default
	// (DefaultMaxLen). Past it, packets are dropped, or accepted with
	// FailOpen.
	MaxLen uint32
	// Flags to turn on (NFQA_CFG_FLAGS); every flag of this package not
	// in Flags is turned off (NFQA_CFG_MASK covers them all).
	Flags Flags
}

// allFlags are the flags NFQA_CFG_MASK names: every one this package
// knows, so that a rebind resets those not asked for.
const allFlags = FailOpen | Conntrack | GSO | UIDGID | SecCtx

// marshalConfig encodes an NFQNL_MSG_CONFIG payload: bind (if bind) and
// the settings of c, in one message, as the kernel applies them in that
// order.
func marshalConfig(c Config, bind bool) ([]byte, error) {
	e := netfilter.NewAttributeEncoder()
	if bind {
		e.Bytes(attrCfgCmd, []byte{cmdBind, 0, 0, 0}) // command, pad, be16 pf (unused since Linux 3.8)
	}
	mode, rng := c.CopyMode, c.CopyRange
	if mode == CopyNone {
		mode = CopyPacket
	}
	if rng == 0 {
		rng = 0xffff
	}
	params := binary.BigEndian.AppendUint32(nil, rng)
	e.Bytes(attrCfgParams, append(params, uint8(mode)))
	if c.MaxLen != 0 {
		e.Uint32(attrCfgQueueLen, c.MaxLen)
	}
	e.Uint32(attrCfgMask, uint32(allFlags))
	e.Uint32(attrCfgFlags, uint32(c.Flags&allFlags))
	return e.Encode()
}

// parseConfig decodes an NFQNL_MSG_CONFIG payload (for fake kernels).
func parseConfig(b []byte) (cmd uint8, c Config, mask Flags, err error) {
	d := netfilter.NewAttributeDecoder(b)
	for d.Next() {
		switch d.Type() {
		case attrCfgCmd:
			v := d.Bytes()
			if len(v) < 1 {
				return 0, Config{}, 0, fmt.Errorf("nfqueue: decode config: empty command")
			}
			cmd = v[0]
		case attrCfgParams:
			v := d.Bytes()
			if len(v) < paramsLen {
				return 0, Config{}, 0, fmt.Errorf("nfqueue: decode config: params of %d bytes, want %d", len(v), paramsLen)
			}
			c.CopyRange, c.CopyMode = binary.BigEndian.Uint32(v), CopyMode(v[4])
		case attrCfgQueueLen:
			c.MaxLen = d.Uint32()
		case attrCfgMask:
			mask = Flags(d.Uint32())
		case attrCfgFlags:
			c.Flags = Flags(d.Uint32())
		}
	}
	if err := d.Err(); err != nil {
		return 0, Config{}, 0, fmt.Errorf("nfqueue: decode config: %w", err)
	}
	return cmd, c, mask, nil
}

// VerdictRequest is a verdict with its options (NFQNL_MSG_VERDICT).
type VerdictRequest struct {
	// ID of the packet (Packet.ID).
	ID uint32
	// Verdict to apply.
	Verdict Verdict
	// Mark, if SetMark, becomes the packet's new mark (NFQA_MARK).
	Mark    uint32
	SetMark bool
	// Payload, if not nil, replaces the packet from its network header
	// on (NFQA_PAYLOAD): a rewritten packet. The kernel does not fix
	// checksums; the caller must.
	Payload []byte
}

// marshalVerdict encodes a verdict's attributes.
func marshalVerdict(e *netlink.AttributeEncoder, r VerdictRequest) ([]byte, error) {
	var hdr [verdictHdrLen]byte
	binary.BigEndian.PutUint32(hdr[0:4], uint32(r.Verdict))
	binary.BigEndian.PutUint32(hdr[4:8], r.ID)
	e.Bytes(attrVerdictHdr, hdr[:])
	if r.SetMark {
		e.Uint32(attrMark, r.Mark)
	}
	if r.Payload != nil {
		e.Bytes(attrPayload, r.Payload)
	}
	return e.Encode()
}

// ParseVerdict decodes the attributes of a verdict message (for fake
// kernels and tests).
func ParseVerdict(b []byte) (VerdictRequest, error) {
	var r VerdictRequest
	has := false
	d := netfilter.NewAttributeDecoder(b)
	for d.Next() {
		switch d.Type() {
		case attrVerdictHdr:
			v := d.Bytes()
			if len(v) != verdictHdrLen {
				return VerdictRequest{}, fmt.Errorf("nfqueue: decode verdict: header of %d bytes, want %d", len(v), verdictHdrLen)
			}
			r.Verdict, r.ID, has = Verdict(binary.BigEndian.Uint32(v)), binary.BigEndian.Uint32(v[4:]), true
		case attrMark:
			r.Mark, r.SetMark = d.Uint32(), true
		case attrPayload:
			r.Payload = append([]byte{}, d.Bytes()...)
		}
	}
	if err := d.Err(); err != nil {
		return VerdictRequest{}, fmt.Errorf("nfqueue: decode verdict: %w", err)
	}
	if !has {
		return VerdictRequest{}, fmt.Errorf("nfqueue: decode verdict: no verdict header (NFQA_VERDICT_HDR)")
	}
	return r, nil
}
