package netfilter

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/nlkit/nlkit/netlink"
)

// HeaderLen is the size of the netfilter netlink header (struct nfgenmsg).
const HeaderLen = 4

// Version0 is the only nfnetlink version (NFNETLINK_V0). ctnetlink reads
// a non-zero version in a flush request as "flush this family only".
const Version0 = 0 // NFNETLINK_V0

// ErrShortMessage reports a message payload shorter than the netfilter
// header.
var ErrShortMessage = errors.New("netfilter: message shorter than the nfgenmsg header")

// Family is the address family of a netfilter message (nfgen_family), an
// NFPROTO_* value (equal to the AF_* value for the IP families).
type Family uint8

// Families.
const (
	FamilyUnspec Family = 0  // NFPROTO_UNSPEC / AF_UNSPEC: all families
	FamilyInet   Family = 1  // NFPROTO_INET: IPv4 and IPv6 (nftables)
	FamilyIPv4   Family = 2  // NFPROTO_IPV4 / AF_INET
	FamilyARP    Family = 3  // NFPROTO_ARP
	FamilyNetdev Family = 5  // NFPROTO_NETDEV
	FamilyBridge Family = 7  // NFPROTO_BRIDGE / AF_BRIDGE
	FamilyIPv6   Family = 10 // NFPROTO_IPV6 / AF_INET6
)

var familyNames = map[Family]string{
	FamilyUnspec: "unspec", FamilyInet: "inet", FamilyIPv4: "ipv4", FamilyARP: "arp",
	FamilyNetdev: "netdev", FamilyBridge: "bridge", FamilyIPv6: "ipv6",
}

// String returns the family's name as conntrack and nft print it
// ("ipv4", "ipv6", "inet", ...).
func (f Family) String() string {
	if s, ok := familyNames[f]; ok {
		return s
	}
	return fmt.Sprintf("family(%d)", uint8(f))
}

// Subsystem is a netfilter netlink subsystem (NFNL_SUBSYS_*), the high
// byte of the netlink message type.
type Subsystem uint8

// Subsystems.
const (
	SubsysNone             Subsystem = 0  // NFNL_SUBSYS_NONE
	SubsysCTNetlink        Subsystem = 1  // NFNL_SUBSYS_CTNETLINK: conntrack entries
	SubsysCTNetlinkExp     Subsystem = 2  // NFNL_SUBSYS_CTNETLINK_EXP: conntrack expectations
	SubsysQueue            Subsystem = 3  // NFNL_SUBSYS_QUEUE: nfnetlink_queue (NFQUEUE)
	SubsysULOG             Subsystem = 4  // NFNL_SUBSYS_ULOG: nfnetlink_log (NFLOG)
	SubsysOSF              Subsystem = 5  // NFNL_SUBSYS_OSF: passive OS fingerprinting
	SubsysIPSet            Subsystem = 6  // NFNL_SUBSYS_IPSET
	SubsysAcct             Subsystem = 7  // NFNL_SUBSYS_ACCT: nfacct
	SubsysCTNetlinkTimeout Subsystem = 8  // NFNL_SUBSYS_CTNETLINK_TIMEOUT
	SubsysCTHelper         Subsystem = 9  // NFNL_SUBSYS_CTHELPER
	SubsysNFTables         Subsystem = 10 // NFNL_SUBSYS_NFTABLES
	SubsysNFTCompat        Subsystem = 11 // NFNL_SUBSYS_NFT_COMPAT
	SubsysHook             Subsystem = 12 // NFNL_SUBSYS_HOOK
)

var subsystemNames = [...]string{
	SubsysNone: "none", SubsysCTNetlink: "ctnetlink", SubsysCTNetlinkExp: "ctnetlink_exp",
	SubsysQueue: "queue", SubsysULOG: "ulog", SubsysOSF: "osf", SubsysIPSet: "ipset",
	SubsysAcct: "acct", SubsysCTNetlinkTimeout: "cttimeout", SubsysCTHelper: "cthelper",
	SubsysNFTables: "nftables", SubsysNFTCompat: "nft_compat", SubsysHook: "hook",
}

// String returns the subsystem's name ("ctnetlink", "queue", "ulog", ...).
func (s Subsystem) String() string {
	if int(s) < len(subsystemNames) {
		return subsystemNames[s]
	}
	return fmt.Sprintf("subsys(%d)", uint8(s))
}

// MessageType is a netfilter netlink message type: the subsystem in the
// high byte, the subsystem's own message in the low byte
// (NFNL_SUBSYS_ID, NFNL_MSG_TYPE).
type MessageType uint16

// Control messages of the nfnetlink core, for nftables batches.
const (
	BatchBegin MessageType = MessageType(netlink.MinType)     // NFNL_MSG_BATCH_BEGIN
	BatchEnd   MessageType = MessageType(netlink.MinType) + 1 // NFNL_MSG_BATCH_END
)

// NewMessageType returns the message type of message msg of subsystem s.
func NewMessageType(s Subsystem, msg uint8) MessageType {
	return MessageType(uint16(s)<<8 | uint16(msg))
}

// Subsystem returns the subsystem (NFNL_SUBSYS_ID).
func (t MessageType) Subsystem() Subsystem { return Subsystem(t >> 8) }

// Message returns the subsystem's message number (NFNL_MSG_TYPE).
func (t MessageType) Message() uint8 { return uint8(t) }

// String returns "subsystem/message", such as "ctnetlink/0".
func (t MessageType) String() string {
	switch t {
	case BatchBegin:
		return "batch-begin"
	case BatchEnd:
		return "batch-end"
	}
	return fmt.Sprintf("%s/%d", t.Subsystem(), t.Message())
}

// Header is the netfilter netlink header (struct nfgenmsg) that starts
// the payload of every netfilter message.
type Header struct {
	// Family is the address family (nfgen_family).
	Family Family
	// Version is the nfnetlink version (version): Version0.
	Version uint8
	// ResourceID is a subsystem-specific resource (res_id, big-endian on
	// the wire): the queue number for NFQUEUE, the group for NFLOG, the
	// generation ID in nftables replies, 0 for conntrack.
	ResourceID uint16
}

// MarshalBinary encodes h in its 4 bytes.
func (h Header) MarshalBinary() ([]byte, error) {
	return h.AppendBinary(make([]byte, 0, HeaderLen))
}

// AppendBinary appends the 4-byte encoding of h to b.
func (h Header) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, uint8(h.Family), h.Version)
	return binary.BigEndian.AppendUint16(b, h.ResourceID), nil
}

// UnmarshalBinary decodes a header from exactly HeaderLen bytes.
func (h *Header) UnmarshalBinary(b []byte) error {
	if len(b) != HeaderLen {
		return fmt.Errorf("netfilter: decode header: %d bytes, want %d", len(b), HeaderLen)
	}
	*h = parseHeader(b)
	return nil
}

func parseHeader(b []byte) Header {
	return Header{Family: Family(b[0]), Version: b[1], ResourceID: binary.BigEndian.Uint16(b[2:4])}
}

// Message is a netfilter netlink message: the nfgenmsg header and the
// subsystem's attributes after it.
type Message struct {
	// Type is the subsystem and message. On send it becomes the netlink
	// message type; on receive it is the netlink message type.
	Type   MessageType
	Header Header
	// Data is everything after the header: attributes in network byte
	// order, to build with NewAttributeEncoder and read with
	// NewAttributeDecoder.
	Data []byte
	// Netlink is the netlink header the message arrived in (flags,
	// sequence; Sequence is 0 for events). Set on received messages;
	// ignored when sending.
	Netlink netlink.Header
}

// MarshalBinary encodes m as a netlink message payload: the header
// followed by Data. Type is not part of the payload.
func (m Message) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, HeaderLen+len(m.Data))
	b, _ = m.Header.AppendBinary(b)
	return append(b, m.Data...), nil
}

// UnmarshalBinary decodes a netlink message payload into m.Header and
// m.Data. Data aliases b; Type and Netlink are left as they are.
func (m *Message) UnmarshalBinary(b []byte) error {
	if len(b) < HeaderLen {
		return fmt.Errorf("%w: %d bytes", ErrShortMessage, len(b))
	}
	m.Header = parseHeader(b)
	m.Data = b[HeaderLen:len(b):len(b)]
	return nil
}

// ParseMessage decodes a received netlink message into a Message whose
// Type and Netlink come from m's header and whose Data aliases m.Data.
func ParseMessage(m netlink.Message) (Message, error) {
	out := Message{Type: MessageType(m.Header.Type), Netlink: m.Header}
	if err := out.UnmarshalBinary(m.Data); err != nil {
		return Message{}, err
	}
	return out, nil
}

// NetlinkMessage returns m as a netlink message with flags set in its
// header (the Conn adds NLM_F_REQUEST and, for Execute, NLM_F_ACK).
func (m Message) NetlinkMessage(flags netlink.HeaderFlags) (netlink.Message, error) {
	data, err := m.MarshalBinary()
	if err != nil {
		return netlink.Message{}, err
	}
	return netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(m.Type), Flags: flags},
		Data:   data,
	}, nil
}

// NewAttributeEncoder returns an attribute encoder in netfilter's byte
// order (big-endian): Uint16, Uint32 and Uint64 write network order. Mark
// nests with Nest/Nested, which set NLA_F_NESTED as the kernel's strict
// nfnetlink policies expect.
func NewAttributeEncoder() *netlink.AttributeEncoder {
	return &netlink.AttributeEncoder{ByteOrder: binary.BigEndian}
}

// NewAttributeDecoder returns an attribute decoder over b in netfilter's
// byte order (big-endian); nested decoders inherit it.
func NewAttributeDecoder(b []byte) *netlink.AttributeDecoder {
	d := &netlink.AttributeDecoder{ByteOrder: binary.BigEndian}
	d.Reset(b)
	return d
}

// Group is a netfilter multicast group (enum nfnetlink_groups).
type Group uint32

// Groups.
const (
	GroupConntrackNew        Group = 1 // NFNLGRP_CONNTRACK_NEW
	GroupConntrackUpdate     Group = 2 // NFNLGRP_CONNTRACK_UPDATE
	GroupConntrackDestroy    Group = 3 // NFNLGRP_CONNTRACK_DESTROY
	GroupConntrackExpNew     Group = 4 // NFNLGRP_CONNTRACK_EXP_NEW
	GroupConntrackExpUpdate  Group = 5 // NFNLGRP_CONNTRACK_EXP_UPDATE
	GroupConntrackExpDestroy Group = 6 // NFNLGRP_CONNTRACK_EXP_DESTROY
	GroupNFTables            Group = 7 // NFNLGRP_NFTABLES
	GroupAcctQuota           Group = 8 // NFNLGRP_ACCT_QUOTA
	GroupNFTrace             Group = 9 // NFNLGRP_NFTRACE
)

var groupNames = map[Group]string{
	GroupConntrackNew: "conntrack-new", GroupConntrackUpdate: "conntrack-update",
	GroupConntrackDestroy: "conntrack-destroy", GroupConntrackExpNew: "conntrack-exp-new",
	GroupConntrackExpUpdate: "conntrack-exp-update", GroupConntrackExpDestroy: "conntrack-exp-destroy",
	GroupNFTables: "nftables", GroupAcctQuota: "acct-quota", GroupNFTrace: "nftrace",
}

// String returns the group's name ("conntrack-new", ...).
func (g Group) String() string {
	if s, ok := groupNames[g]; ok {
		return s
	}
	return fmt.Sprintf("group(%d)", uint32(g))
}
