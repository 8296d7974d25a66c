package nflog

import (
	"encoding/binary"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/nlkit/nlkit/netfilter"
	"github.com/nlkit/nlkit/netlink"
)

// Message types of the log subsystem (enum nfulnl_msg_types).
const (
	msgPacket = 0 // NFULNL_MSG_PACKET: logged packet, kernel to user space
	msgConfig = 1 // NFULNL_MSG_CONFIG: bind and configure a group
)

// Packet attributes (enum nfulnl_attr_type).
const (
	attrPacketHdr  = 1  // NFULA_PACKET_HDR: struct nfulnl_msg_packet_hdr
	attrMark       = 2  // NFULA_MARK: be32
	attrTimestamp  = 3  // NFULA_TIMESTAMP: struct nfulnl_msg_packet_timestamp
	attrInDev      = 4  // NFULA_IFINDEX_INDEV: be32
	attrOutDev     = 5  // NFULA_IFINDEX_OUTDEV: be32
	attrPhysInDev  = 6  // NFULA_IFINDEX_PHYSINDEV: be32
	attrPhysOutDev = 7  // NFULA_IFINDEX_PHYSOUTDEV: be32
	attrHWAddr     = 8  // NFULA_HWADDR: struct nfulnl_msg_packet_hw
	attrPayload    = 9  // NFULA_PAYLOAD: the packet from its network header
	attrPrefix     = 10 // NFULA_PREFIX: NUL-terminated string
	attrUID        = 11 // NFULA_UID: be32
	attrSeq        = 12 // NFULA_SEQ: be32, instance-local sequence
	attrSeqGlobal  = 13 // NFULA_SEQ_GLOBAL: be32, global sequence
	attrGID        = 14 // NFULA_GID: be32
	attrHWType     = 15 // NFULA_HWTYPE: be16, ARPHRD_*
	attrHWHeader   = 16 // NFULA_HWHEADER: the link-layer header
	attrHWLen      = 17 // NFULA_HWLEN: be16, its length
	attrCT         = 18 // NFULA_CT: nested conntrack attributes
	attrCTInfo     = 19 // NFULA_CT_INFO: be32 enum ip_conntrack_info
)

// Configuration attributes (enum nfulnl_attr_config).
const (
	attrCfgCmd     = 1 // NFULA_CFG_CMD: struct nfulnl_msg_config_cmd
	attrCfgMode    = 2 // NFULA_CFG_MODE: struct nfulnl_msg_config_mode
	attrCfgBufSize = 3 // NFULA_CFG_NLBUFSIZ: be32
	attrCfgTimeout = 4 // NFULA_CFG_TIMEOUT: be32, in 1/100 s
	attrCfgQThresh = 5 // NFULA_CFG_QTHRESH: be32
	attrCfgFlags   = 6 // NFULA_CFG_FLAGS: be16
)

const (
	cmdBind = 1 // NFULNL_CFG_CMD_BIND

	packetHdrLen = 4 // sizeof(struct nfulnl_msg_packet_hdr)
)

// CopyMode says how much of each packet the kernel sends.
type CopyMode uint8

// Copy modes.
const (
	CopyNone   CopyMode = 0 // NFULNL_COPY_NONE
	CopyMeta   CopyMode = 1 // NFULNL_COPY_META: metadata, no payload
	CopyPacket CopyMode = 2 // NFULNL_COPY_PACKET: metadata and up to CopyRange bytes
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

// Flags are group options (NFULNL_CFG_F_*).
type Flags uint16

// Group flags.
const (
	// Seq: packets carry a per-group sequence number (NFULNL_CFG_F_SEQ):
	// gaps show packets lost to a full socket buffer.
	Seq Flags = 0x0001
	// SeqGlobal: packets carry a sequence number shared by all groups
	// (NFULNL_CFG_F_SEQ_GLOBAL).
	SeqGlobal Flags = 0x0002
	// Conntrack: packets carry their conntrack entry and state
	// (NFULNL_CFG_F_CONNTRACK; needs CONFIG_NETFILTER_NETLINK_GLUE_CT).
	Conntrack Flags = 0x0004
)

// String lists the flags by name, joined by "|".
func (f Flags) String() string {
	if f == 0 {
		return "0"
	}
	var parts []string
	for _, n := range []struct {
		f    Flags
		name string
	}{{Seq, "seq"}, {SeqGlobal, "seq-global"}, {Conntrack, "conntrack"}} {
		if f&n.f != 0 {
			parts = append(parts, n.name)
			f &^= n.f
		}
	}
	if f != 0 {
		parts = append(parts, fmt.Sprintf("%#x", uint16(f)))
	}
	return strings.Join(parts, "|")
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

// Packet is a logged packet (NFULNL_MSG_PACKET) with its metadata.
// Attributes the kernel left out are zero; Has fields tell a zero value
// from an absent one where both occur.
type Packet struct {
	// Group is the log group (res_id).
	Group uint16
	// Family is the packet's protocol family (nfgen_family).
	Family netfilter.Family
	// HWProtocol is the link-layer protocol (EtherType).
	HWProtocol uint16
	// Hook the packet was logged at.
	Hook Hook
	// Prefix is the log rule's prefix (nft log prefix "...", iptables
	// --nflog-prefix).
	Prefix string
	// Mark is the packet mark; the kernel omits it when 0.
	Mark uint32
	// Timestamp is the packet's receive time, when recorded.
	Timestamp time.Time
	// InDev and OutDev are interface indexes, 0 if none.
	InDev, OutDev uint32
	// PhysInDev and PhysOutDev are bridge port indexes.
	PhysInDev, PhysOutDev uint32
	// HWAddr is the source link-layer address, when known.
	HWAddr net.HardwareAddr
	// HWType (ARPHRD_*) and HWHeader describe the link-layer header, for
	// packets received on a device with one.
	HWType   uint16
	HWHeader []byte
	// UID and GID own the local socket of the packet, when there is one.
	UID, GID       uint32
	HasUID, HasGID bool
	// Seq and SeqGlobal are sequence numbers (with the Seq and SeqGlobal
	// flags).
	Seq, SeqGlobal       uint32
	HasSeq, HasSeqGlobal bool
	// CTInfo is the conntrack state (with Conntrack); Conntrack the raw
	// nested entry.
	CTInfo    uint32
	HasCTInfo bool
	Conntrack []byte
	// Payload is the packet from its network header, up to the copy
	// range (and the log rule's snaplen).
	Payload []byte
}

// UnmarshalBinary decodes a logged packet's attributes (the payload of an
// NFULNL_MSG_PACKET after the nfgenmsg header). Byte slices are copied.
// Group and Family come from the header; use ParsePacket for a message.
func (p *Packet) UnmarshalBinary(b []byte) error {
	*p = Packet{Group: p.Group, Family: p.Family}
	hasHdr := false
	d := netfilter.NewAttributeDecoder(b)
	for d.Next() {
		switch d.Type() {
		case attrPacketHdr:
			v := d.Bytes()
			if len(v) < packetHdrLen {
				return fmt.Errorf("nflog: decode packet: header of %d bytes, want %d", len(v), packetHdrLen)
			}
			p.HWProtocol, p.Hook, hasHdr = binary.BigEndian.Uint16(v[0:2]), Hook(v[2]), true
		case attrMark:
			p.Mark = d.Uint32()
		case attrTimestamp:
			t, err := netfilter.ParseTimestamp(d.Bytes())
			if err != nil {
				return fmt.Errorf("nflog: decode packet: %w", err)
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
				return fmt.Errorf("nflog: decode packet: %w", err)
			}
			p.HWAddr = hw
		case attrPayload:
			p.Payload = append([]byte{}, d.Bytes()...)
		case attrPrefix:
			p.Prefix = d.String()
		case attrUID:
			p.UID, p.HasUID = d.Uint32(), true
		case attrGID:
			p.GID, p.HasGID = d.Uint32(), true
		case attrSeq:
			p.Seq, p.HasSeq = d.Uint32(), true
		case attrSeqGlobal:
			p.SeqGlobal, p.HasSeqGlobal = d.Uint32(), true
		case attrHWType:
			p.HWType = d.Uint16()
		case attrHWHeader:
			p.HWHeader = append([]byte{}, d.Bytes()...)
		case attrHWLen:
			_ = d.Uint16() // len(HWHeader); checked for size only
		case attrCT:
			p.Conntrack = append([]byte{}, d.Bytes()...)
		case attrCTInfo:
			p.CTInfo, p.HasCTInfo = d.Uint32(), true
		}
	}
	if err := d.Err(); err != nil {
		return fmt.Errorf("nflog: decode packet: %w", err)
	}
	if !hasHdr {
		return fmt.Errorf("nflog: decode packet: no packet header (NFULA_PACKET_HDR)")
	}
	return nil
}

// ParsePacket decodes an NFULNL_MSG_PACKET message.
func ParsePacket(m netfilter.Message) (Packet, error) {
	if m.Type != netfilter.NewMessageType(netfilter.SubsysULOG, msgPacket) {
		return Packet{}, fmt.Errorf("nflog: decode packet: message type %v is not a logged packet", m.Type)
	}
	p := Packet{Group: m.Header.ResourceID, Family: m.Header.Family}
	if err := p.UnmarshalBinary(m.Data); err != nil {
		return Packet{}, err
	}
	return p, nil
}

// MarshalBinary encodes p's attributes as the kernel sends them (for fake
// kernels and tests); zero optional fields are left out.
func (p *Packet) MarshalBinary() ([]byte, error) {
	e := netfilter.NewAttributeEncoder()
	hdr := binary.BigEndian.AppendUint16(nil, p.HWProtocol)
	e.Bytes(attrPacketHdr, append(hdr, uint8(p.Hook), 0))
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
			return nil, fmt.Errorf("nflog: encode packet: %w", err)
		}
		e.Bytes(attrHWAddr, hw)
	}
	if p.HWType != 0 {
		e.Uint16(attrHWType, p.HWType)
	}
	if p.HWHeader != nil {
		e.Bytes(attrHWHeader, p.HWHeader)
		e.Uint16(attrHWLen, uint16(len(p.HWHeader)))
	}
	if p.Prefix != "" {
		e.String(attrPrefix, p.Prefix)
	}
	if p.HasUID {
		e.Uint32(attrUID, p.UID)
	}
	if p.HasGID {
		e.Uint32(attrGID, p.GID)
	}
	if p.HasSeq {
		e.Uint32(attrSeq, p.Seq)
	}
	if p.HasSeqGlobal {
		e.Uint32(attrSeqGlobal, p.SeqGlobal)
	}
	if p.Conntrack != nil {
		e.Raw(attrCT|netlink.AttrNested, p.Conntrack)
	}
	if p.HasCTInfo {
		e.Uint32(attrCTInfo, p.CTInfo)
	}
	if p.Payload != nil {
		e.Bytes(attrPayload, p.Payload)
	}
	b, err := e.Encode()
	if err != nil {
		return nil, fmt.Errorf("nflog: encode packet: %w", err)
	}
	return b, nil
}

// Config is a group's configuration, sent with NFULNL_MSG_CONFIG.
type Config struct {
	// CopyMode is how much of each packet to send; the zero value means
	// CopyPacket.
	CopyMode CopyMode
	// CopyRange is how many bytes of each packet to send; 0 means 65535.
	CopyRange uint32
	// QThreshold is how many packets the kernel gathers into one
	// datagram before sending it (NFULA_CFG_QTHRESH); 0 means 1, every
	// packet at once, as a watch wants. Raise it for throughput.
	QThreshold uint32
	// Timeout is how long the kernel holds a partial batch
	// (NFULA_CFG_TIMEOUT, in 1/100 s); 0 leaves the kernel's 1 s.
	Timeout time.Duration
	// BufferSize is the kernel's batch buffer (NFULA_CFG_NLBUFSIZ); 0
	// leaves the kernel's default (a page).
	BufferSize uint32
	// Flags to set (NFULA_CFG_FLAGS).
	Flags Flags
}

// marshalConfig encodes an NFULNL_MSG_CONFIG payload: bind and the
// settings in one message.
func marshalConfig(c Config) ([]byte, error) {
	e := netfilter.NewAttributeEncoder()
	e.Bytes(attrCfgCmd, []byte{cmdBind})
	mode, rng := c.CopyMode, c.CopyRange
	if mode == CopyNone {
		mode = CopyPacket
	}
	if rng == 0 {
		rng = 0xffff
	}
	m := binary.BigEndian.AppendUint32(nil, rng)
	e.Bytes(attrCfgMode, append(m, uint8(mode), 0))
	qt := c.QThreshold
	if qt == 0 {
		qt = 1
	}
	e.Uint32(attrCfgQThresh, qt)
	if c.Timeout > 0 {
		e.Uint32(attrCfgTimeout, uint32(max(c.Timeout/(10*time.Millisecond), 1)))
	}
	if c.BufferSize > 0 {
		e.Uint32(attrCfgBufSize, c.BufferSize)
	}
	e.Uint16(attrCfgFlags, uint16(c.Flags))
	return e.Encode()
}
