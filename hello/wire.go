package hello

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/nlkit/nlkit/netlink"
)

// The module's own netlink protocol (kmod/nlhello/nlhello.h).
const (
	// DefaultProtocol is the netlink protocol number of the module's raw
	// endpoint unless it was loaded with protocol=N.
	DefaultProtocol = 31 // NLHELLO_PROTOCOL_DEFAULT
	// DefaultInterface is the name of the module's interface unless it
	// was loaded with ifname=NAME.
	DefaultInterface = "my_if0" // NLHELLO_IFNAME_DEFAULT
	// GroupPackets is the multicast group of the raw endpoint that
	// receives a MsgPacket for every packet sent out of the interface.
	GroupPackets = 1 // NLHELLO_GROUP_PACKETS
	// ReplyText is the text of every hello reply (sent with a NUL).
	ReplyText = "Thank you" // NLHELLO_REPLY_TEXT
	// PacketCap is the most bytes of a packet a notification carries.
	PacketCap = 256 // NLHELLO_PACKET_CAP
)

// Message types of the raw protocol (enum nlhello_msg_type).
const (
	MsgHello  netlink.HeaderType = 0x10 // NLHELLO_MSG_HELLO: request and reply, NUL-terminated text
	MsgStats  netlink.HeaderType = 0x11 // NLHELLO_MSG_STATS: request without payload; reply with StatsAttr attributes
	MsgPacket netlink.HeaderType = 0x12 // NLHELLO_MSG_PACKET: kernel to GroupPackets only, PacketAttr attributes
)

// The generic netlink family (kmod/nlhello/nlhello.h).
const (
	FamilyName         = "nlhello" // NLHELLO_GENL_NAME
	FamilyVersion      = 1         // NLHELLO_GENL_VERSION
	FamilyGroupPackets = "packets" // NLHELLO_GENL_MCGRP_PACKETS
)

// Command is a command of the generic netlink family (enum
// nlhello_genl_cmd), in genlmsghdr.cmd.
type Command uint8

// Commands of the family.
const (
	CmdHello    Command = 1 // NLHELLO_CMD_HELLO: request AttrText; reply AttrText "Thank you"
	CmdGetStats Command = 2 // NLHELLO_CMD_GET_STATS: reply with StatsAttr attributes
	CmdPacket   Command = 3 // NLHELLO_CMD_PACKET: notification to "packets", PacketAttr attributes
)

// String returns the command's name.
func (c Command) String() string {
	switch c {
	case CmdHello:
		return "hello"
	case CmdGetStats:
		return "get-stats"
	case CmdPacket:
		return "packet"
	}
	return fmt.Sprintf("command(%d)", uint8(c))
}

// AttrText is the request and reply attribute of CmdHello: a
// NUL-terminated string (enum nlhello_genl_attr).
const AttrText = 1 // NLHELLO_A_TEXT

// StatsAttr is an attribute type of a stats reply (enum nlhello_stats_attr).
type StatsAttr uint16

// Stats attributes; each counter is a u64 in native byte order.
const (
	StatsMsgsReceived           StatsAttr = 1 // NLHELLO_STATS_MSGS_RECEIVED
	StatsRepliesSent            StatsAttr = 2 // NLHELLO_STATS_REPLIES_SENT
	StatsPacketsPassed          StatsAttr = 3 // NLHELLO_STATS_PACKETS_PASSED
	StatsPacketsDroppedNoListen StatsAttr = 4 // NLHELLO_STATS_PACKETS_DROPPED_NO_LISTENER
	StatsPacketsDroppedFull     StatsAttr = 5 // NLHELLO_STATS_PACKETS_DROPPED_BUFFER_FULL
	StatsErrorsSent             StatsAttr = 6 // NLHELLO_STATS_ERRORS_SENT
	StatsPad                    StatsAttr = 7 // NLHELLO_STATS_PAD: alignment padding, carries nothing
	StatsPacketsDroppedNoMem    StatsAttr = 8 // NLHELLO_STATS_PACKETS_DROPPED_NOMEM
)

var statsAttrNames = map[StatsAttr]string{
	StatsMsgsReceived: "msgs_received", StatsRepliesSent: "replies_sent",
	StatsPacketsPassed: "packets_passed", StatsPacketsDroppedNoListen: "packets_dropped_no_listener",
	StatsPacketsDroppedFull: "packets_dropped_buffer_full", StatsErrorsSent: "errors_sent",
	StatsPad: "pad", StatsPacketsDroppedNoMem: "packets_dropped_nomem",
}

// String returns the counter's name, the C name in lower case without
// its prefix ("msgs_received").
func (a StatsAttr) String() string {
	if s, ok := statsAttrNames[a]; ok {
		return s
	}
	return fmt.Sprintf("stats-attr(%d)", uint16(a))
}

// PacketAttr is an attribute type of a packet notification (enum
// nlhello_packet_attr).
type PacketAttr uint16

// Packet attributes.
const (
	PacketIfIndex   PacketAttr = 1 // NLHELLO_PACKET_IFINDEX: u32
	PacketLen       PacketAttr = 2 // NLHELLO_PACKET_LEN: u32, original length
	PacketTimestamp PacketAttr = 3 // NLHELLO_PACKET_TIMESTAMP: u64, CLOCK_REALTIME in ns
	PacketProtocol  PacketAttr = 4 // NLHELLO_PACKET_PROTOCOL: be16, skb->protocol
	PacketData      PacketAttr = 5 // NLHELLO_PACKET_DATA: the first CAPLEN bytes
	PacketCapLen    PacketAttr = 6 // NLHELLO_PACKET_CAPLEN: u32, min(LEN, PacketCap)
	PacketPad       PacketAttr = 7 // NLHELLO_PACKET_PAD: alignment padding
)

var packetAttrNames = map[PacketAttr]string{
	PacketIfIndex: "ifindex", PacketLen: "len", PacketTimestamp: "timestamp", PacketProtocol: "protocol",
	PacketData: "data", PacketCapLen: "caplen", PacketPad: "pad",
}

// String returns the attribute's name ("ifindex").
func (a PacketAttr) String() string {
	if s, ok := packetAttrNames[a]; ok {
		return s
	}
	return fmt.Sprintf("packet-attr(%d)", uint16(a))
}

// genlHeaderLen is the size of struct genlmsghdr.
const genlHeaderLen = 4

// Stats are the module's counters, shared by the raw endpoint and the
// generic netlink family. A snapshot is taken after the stats request
// itself was counted in MsgsReceived, before its reply is counted in
// RepliesSent. Every transmitted packet increments exactly one of
// PacketsPassed, PacketsDroppedNoListener, PacketsDroppedBufferFull and
// PacketsDroppedNoMem.
type Stats struct {
	// MsgsReceived counts requests that reached the module's handlers.
	MsgsReceived uint64 `json:"msgs_received"`
	// RepliesSent counts replies queued to requesters.
	RepliesSent uint64 `json:"replies_sent"`
	// PacketsPassed counts packets at least one subscriber received.
	PacketsPassed uint64 `json:"packets_passed"`
	// PacketsDroppedNoListener counts packets sent while nobody was
	// subscribed.
	PacketsDroppedNoListener uint64 `json:"packets_dropped_no_listener"`
	// PacketsDroppedBufferFull counts packets no subscriber received
	// because their receive buffers were full.
	PacketsDroppedBufferFull uint64 `json:"packets_dropped_buffer_full"`
	// ErrorsSent counts requests the module answered with an error.
	ErrorsSent uint64 `json:"errors_sent"`
	// PacketsDroppedNoMem counts packets whose notification could not be
	// allocated.
	PacketsDroppedNoMem uint64 `json:"packets_dropped_nomem"`
}

// field returns the counter of attribute a, or nil.
func (s *Stats) field(a StatsAttr) *uint64 {
	switch a {
	case StatsMsgsReceived:
		return &s.MsgsReceived
	case StatsRepliesSent:
		return &s.RepliesSent
	case StatsPacketsPassed:
		return &s.PacketsPassed
	case StatsPacketsDroppedNoListen:
		return &s.PacketsDroppedNoListener
	case StatsPacketsDroppedFull:
		return &s.PacketsDroppedBufferFull
	case StatsErrorsSent:
		return &s.ErrorsSent
	case StatsPacketsDroppedNoMem:
		return &s.PacketsDroppedNoMem
	}
	return nil
}

// statsOrder is the order the module writes the counters in.
var statsOrder = []StatsAttr{
	StatsMsgsReceived, StatsRepliesSent, StatsPacketsPassed, StatsPacketsDroppedNoListen,
	StatsPacketsDroppedFull, StatsErrorsSent, StatsPacketsDroppedNoMem,
}

// Counters returns the counters in the order the module sends them, with
// their attribute types (for printing).
func (s Stats) Counters() []Counter {
	out := make([]Counter, 0, len(statsOrder))
	for _, a := range statsOrder {
		out = append(out, Counter{Attr: a, Value: *s.field(a)})
	}
	return out
}

// Counter is one named counter of Stats.
type Counter struct {
	Attr  StatsAttr
	Value uint64
}

// Sub returns s - old, counter by counter: what happened in between.
func (s Stats) Sub(old Stats) Stats {
	d := s
	for _, a := range statsOrder {
		*d.field(a) -= *old.field(a)
	}
	return d
}

// MarshalBinary encodes s as the attributes of a stats reply (the payload
// of a MsgStats reply, or what follows the genl header of CmdGetStats),
// as the module writes them on x86-64: one u64 per counter, no padding.
func (s Stats) MarshalBinary() ([]byte, error) {
	var e netlink.AttributeEncoder
	for _, a := range statsOrder {
		e.Uint64(uint16(a), *s.field(a))
	}
	return e.Encode()
}

// UnmarshalBinary decodes the attributes of a stats reply. Attributes are
// taken by type, not position; padding and unknown attributes (counters
// of a newer module) are skipped; a counter of the wrong size is an error.
func (s *Stats) UnmarshalBinary(b []byte) error {
	var out Stats
	d := netlink.NewAttributeDecoder(b)
	for d.Next() {
		if p := out.field(StatsAttr(d.Type())); p != nil {
			*p = d.Uint64()
		}
	}
	if err := d.Err(); err != nil {
		return fmt.Errorf("hello: decode stats: %w", err)
	}
	*s = out
	return nil
}

// Packet is a packet the module's interface transmitted, as a
// notification (MsgPacket on GroupPackets, or CmdPacket on the family's
// "packets" group) describes it.
type Packet struct {
	// IfIndex is the index of the interface that sent the packet.
	IfIndex int32
	// Length is the packet's original length in bytes (skb->len).
	Length uint32
	// Timestamp is when it was sent (CLOCK_REALTIME, ns resolution).
	Timestamp time.Time
	// Protocol is the packet's EtherType (skb->protocol, in host byte
	// order: 0x0800 for IPv4).
	Protocol uint16
	// Data is the start of the packet, from its network header, at most
	// PacketCap bytes. It is the Packet's own copy.
	Data []byte
	// CapLen is len(Data) as the kernel reported it: min(Length, PacketCap).
	CapLen uint32
}

// Errors of packet encoding and decoding.
var (
	errCapLen    = errors.New("caplen does not match the data")
	errTimestamp = errors.New("timestamp not representable in u64 nanoseconds since 1970")
)

// MarshalBinary encodes p as the attributes of a packet notification, in
// the module's order (IFINDEX, LEN, TIMESTAMP, PROTOCOL, DATA, CAPLEN). A
// zero Timestamp is sent as 0. CapLen must equal len(Data) and not exceed
// Length.
func (p Packet) MarshalBinary() ([]byte, error) {
	if uint64(len(p.Data)) != uint64(p.CapLen) || p.CapLen > p.Length {
		return nil, fmt.Errorf("hello: encode packet: %w: caplen %d, %d data bytes, length %d", errCapLen, p.CapLen, len(p.Data), p.Length)
	}
	var ts uint64
	if !p.Timestamp.IsZero() {
		if p.Timestamp.Before(time.Unix(0, 0)) || p.Timestamp.After(time.Unix(0, math.MaxInt64)) {
			return nil, fmt.Errorf("hello: encode packet: %w: %v", errTimestamp, p.Timestamp)
		}
		ts = uint64(p.Timestamp.UnixNano())
	}
	var e netlink.AttributeEncoder
	e.Uint32(uint16(PacketIfIndex), uint32(p.IfIndex))
	e.Uint32(uint16(PacketLen), p.Length)
	e.Uint64(uint16(PacketTimestamp), ts)
	e.Uint16BE(uint16(PacketProtocol), p.Protocol)
	e.Bytes(uint16(PacketData), p.Data)
	e.Uint32(uint16(PacketCapLen), p.CapLen)
	b, err := e.Encode()
	if err != nil {
		return nil, fmt.Errorf("hello: encode packet: %w", err)
	}
	return b, nil
}

// UnmarshalBinary decodes the attributes of a packet notification. Data
// is copied. A timestamp of 0 decodes as the zero time. A CAPLEN that
// differs from the size of DATA, or exceeds LEN, is an error; without
// CAPLEN, CapLen is the size of DATA.
func (p *Packet) UnmarshalBinary(b []byte) error {
	var out Packet
	hasCapLen := false
	d := netlink.NewAttributeDecoder(b)
	for d.Next() {
		switch PacketAttr(d.Type()) {
		case PacketIfIndex:
			out.IfIndex = d.Int32()
		case PacketLen:
			out.Length = d.Uint32()
		case PacketTimestamp:
			if ns := d.Uint64(); ns != 0 {
				if ns > math.MaxInt64 {
					return fmt.Errorf("hello: decode packet: %w: %d", errTimestamp, ns)
				}
				out.Timestamp = time.Unix(0, int64(ns))
			}
		case PacketProtocol:
			out.Protocol = d.Uint16BE()
		case PacketData:
			out.Data = append([]byte{}, d.Bytes()...)
		case PacketCapLen:
			out.CapLen, hasCapLen = d.Uint32(), true
		}
	}
	if err := d.Err(); err != nil {
		return fmt.Errorf("hello: decode packet: %w", err)
	}
	if !hasCapLen {
		out.CapLen = uint32(len(out.Data))
	}
	if uint64(out.CapLen) != uint64(len(out.Data)) || out.CapLen > out.Length {
		return fmt.Errorf("hello: decode packet: %w: caplen %d, %d data bytes, length %d", errCapLen, out.CapLen, len(out.Data), out.Length)
	}
	*p = out
	return nil
}

// marshalText encodes a hello request payload: text and a NUL.
func marshalText(text string) ([]byte, error) {
	for i := 0; i < len(text); i++ {
		if text[i] == 0 {
			return nil, fmt.Errorf("hello: text contains a NUL byte at offset %d", i)
		}
	}
	return append([]byte(text), 0), nil
}

// parseText decodes a hello reply payload: the text up to the first NUL,
// which must be there.
func parseText(b []byte) (string, error) {
	for i, c := range b {
		if c == 0 {
			return string(b[:i]), nil
		}
	}
	return "", fmt.Errorf("hello: decode reply: text of %d bytes is not NUL-terminated", len(b))
}
