package conntrack

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/nlkit/nlkit/netfilter"
	"github.com/nlkit/nlkit/netlink"
)

// ctnetlink messages (enum cntl_msg_types), the low byte of the message
// type under netfilter.SubsysCTNetlink.
const (
	msgNew    = 0 // IPCTNL_MSG_CT_NEW
	msgGet    = 1 // IPCTNL_MSG_CT_GET
	msgDelete = 2 // IPCTNL_MSG_CT_DELETE
)

// Flow attributes (enum ctattr_type).
const (
	ctaTupleOrig     = 1  // CTA_TUPLE_ORIG
	ctaTupleReply    = 2  // CTA_TUPLE_REPLY
	ctaStatus        = 3  // CTA_STATUS
	ctaProtoInfo     = 4  // CTA_PROTOINFO
	ctaHelp          = 5  // CTA_HELP
	ctaTimeout       = 7  // CTA_TIMEOUT
	ctaMark          = 8  // CTA_MARK
	ctaCountersOrig  = 9  // CTA_COUNTERS_ORIG
	ctaCountersReply = 10 // CTA_COUNTERS_REPLY
	ctaUse           = 11 // CTA_USE
	ctaID            = 12 // CTA_ID
	ctaZone          = 18 // CTA_ZONE
	ctaTimestamp     = 20 // CTA_TIMESTAMP
	ctaMarkMask      = 21 // CTA_MARK_MASK
	ctaLabels        = 22 // CTA_LABELS
	ctaLabelsMask    = 23 // CTA_LABELS_MASK
	ctaStatusMask    = 26 // CTA_STATUS_MASK
)

// Tuple attributes (enum ctattr_tuple, ctattr_ip, ctattr_l4proto).
const (
	ctaTupleIP    = 1 // CTA_TUPLE_IP
	ctaTupleProto = 2 // CTA_TUPLE_PROTO
	ctaTupleZone  = 3 // CTA_TUPLE_ZONE

	ctaIPv4Src = 1 // CTA_IP_V4_SRC
	ctaIPv4Dst = 2 // CTA_IP_V4_DST
	ctaIPv6Src = 3 // CTA_IP_V6_SRC
	ctaIPv6Dst = 4 // CTA_IP_V6_DST

	ctaProtoNum        = 1 // CTA_PROTO_NUM
	ctaProtoSrcPort    = 2 // CTA_PROTO_SRC_PORT
	ctaProtoDstPort    = 3 // CTA_PROTO_DST_PORT
	ctaProtoICMPID     = 4 // CTA_PROTO_ICMP_ID
	ctaProtoICMPType   = 5 // CTA_PROTO_ICMP_TYPE
	ctaProtoICMPCode   = 6 // CTA_PROTO_ICMP_CODE
	ctaProtoICMPv6ID   = 7 // CTA_PROTO_ICMPV6_ID
	ctaProtoICMPv6Type = 8 // CTA_PROTO_ICMPV6_TYPE
	ctaProtoICMPv6Code = 9 // CTA_PROTO_ICMPV6_CODE
)

// Nested attributes of protocol information, counters, timestamps and
// helpers.
const (
	ctaProtoInfoTCP = 1 // CTA_PROTOINFO_TCP

	ctaTCPState        = 1 // CTA_PROTOINFO_TCP_STATE
	ctaTCPWScaleOrig   = 2 // CTA_PROTOINFO_TCP_WSCALE_ORIGINAL
	ctaTCPWScaleReply  = 3 // CTA_PROTOINFO_TCP_WSCALE_REPLY
	ctaTCPFlagsOrig    = 4 // CTA_PROTOINFO_TCP_FLAGS_ORIGINAL
	ctaTCPFlagsReply   = 5 // CTA_PROTOINFO_TCP_FLAGS_REPLY
	ctaCountersPackets = 1 // CTA_COUNTERS_PACKETS
	ctaCountersBytes   = 2 // CTA_COUNTERS_BYTES
	ctaTimestampStart  = 1 // CTA_TIMESTAMP_START
	ctaTimestampStop   = 2 // CTA_TIMESTAMP_STOP
	ctaHelpName        = 1 // CTA_HELP_NAME
)

// labelsLen is the size of the connection label bit field
// (NF_CT_LABELS_MAX_SIZE: 128 bits).
const labelsLen = 16

// ErrIncomplete reports a tuple or flow that lacks what a request needs;
// errors of the client's checks wrap it, so no request was sent.
var ErrIncomplete = errors.New("conntrack: incomplete")

// Tuple is one direction of a flow: addresses, protocol and ports (or
// ICMP type, code and ID), as the kernel hashes it (struct
// nf_conntrack_tuple).
type Tuple struct {
	Src, Dst netip.Addr // CTA_IP_V4_SRC/DST or CTA_IP_V6_SRC/DST
	Proto    Protocol   // CTA_PROTO_NUM
	// SrcPort and DstPort for TCP, UDP, SCTP, DCCP and UDP-Lite
	// (CTA_PROTO_SRC_PORT, CTA_PROTO_DST_PORT).
	SrcPort, DstPort uint16
	// ICMPType, ICMPCode and ICMPID for ICMP and ICMPv6
	// (CTA_PROTO_ICMP_TYPE, _CODE, _ID, or their ICMPV6 twins).
	ICMPType, ICMPCode uint8
	ICMPID             uint16
	// Zone is the tuple's own zone (CTA_TUPLE_ZONE), set only for flows
	// in a directional zone; 0 otherwise.
	Zone uint16
}

// Family returns the tuple's address family (from Src).
func (t Tuple) Family() netfilter.Family {
	switch {
	case t.Src.Is4():
		return netfilter.FamilyIPv4
	case t.Src.Is6():
		return netfilter.FamilyIPv6
	}
	return netfilter.FamilyUnspec
}

// Reverse returns the tuple of the other direction, as the kernel
// computes the reply tuple of an unNATed flow: addresses and ports
// swapped; for ICMP echo and similar requests the reply type.
func (t Tuple) Reverse() Tuple {
	r := t
	r.Src, r.Dst = t.Dst, t.Src
	r.SrcPort, r.DstPort = t.DstPort, t.SrcPort
	switch t.Proto {
	case ProtoICMP:
		if v, ok := icmpInverse[t.ICMPType]; ok {
			r.ICMPType = v
		}
	case ProtoICMPv6:
		if v, ok := icmpv6Inverse[t.ICMPType]; ok {
			r.ICMPType = v
		}
	}
	return r
}

// The request/reply type pairs the kernel inverts (invmap in
// nf_conntrack_proto_icmp.c and _icmpv6.c).
var (
	icmpInverse   = map[uint8]uint8{8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 17: 18, 18: 17}
	icmpv6Inverse = map[uint8]uint8{128: 129, 129: 128, 139: 140, 140: 139}
)

// check reports what a request tuple lacks; what names it ("original
// tuple").
func (t Tuple) check(what string) error {
	switch {
	case !t.Src.IsValid():
		return fmt.Errorf("%w: %s: missing source address", ErrIncomplete, what)
	case !t.Dst.IsValid():
		return fmt.Errorf("%w: %s: missing destination address", ErrIncomplete, what)
	case t.Src.Is4() != t.Dst.Is4():
		return fmt.Errorf("%w: %s: source %s and destination %s are of different families", ErrIncomplete, what, t.Src, t.Dst)
	case t.Proto == 0:
		return fmt.Errorf("%w: %s: missing protocol", ErrIncomplete, what)
	}
	return nil
}

func (t Tuple) encode(e *netlink.AttributeEncoder) {
	e.Nested(ctaTupleIP, func(e *netlink.AttributeEncoder) {
		// Each address by its own kind: requests are checked to be of
		// one family (see check), decoded tuples re-encode as they came.
		put := func(a netip.Addr, typ4, typ6 uint16) {
			switch {
			case a.Is4():
				b := a.As4()
				e.Raw(typ4, b[:])
			case a.Is6():
				b := a.As16()
				e.Raw(typ6, b[:])
			}
		}
		put(t.Src, ctaIPv4Src, ctaIPv6Src)
		put(t.Dst, ctaIPv4Dst, ctaIPv6Dst)
	})
	e.Nested(ctaTupleProto, func(e *netlink.AttributeEncoder) {
		e.Uint8(ctaProtoNum, uint8(t.Proto))
		switch {
		case t.Proto.HasPorts():
			e.Uint16BE(ctaProtoSrcPort, t.SrcPort)
			e.Uint16BE(ctaProtoDstPort, t.DstPort)
		case t.Proto == ProtoICMP:
			e.Uint16BE(ctaProtoICMPID, t.ICMPID)
			e.Uint8(ctaProtoICMPType, t.ICMPType)
			e.Uint8(ctaProtoICMPCode, t.ICMPCode)
		case t.Proto == ProtoICMPv6:
			e.Uint16BE(ctaProtoICMPv6ID, t.ICMPID)
			e.Uint8(ctaProtoICMPv6Type, t.ICMPType)
			e.Uint8(ctaProtoICMPv6Code, t.ICMPCode)
		}
	})
	if t.Zone != 0 {
		e.Uint16BE(ctaTupleZone, t.Zone)
	}
}

// MarshalBinary encodes t as the attributes inside CTA_TUPLE_ORIG or
// CTA_TUPLE_REPLY.
func (t Tuple) MarshalBinary() ([]byte, error) {
	e := netfilter.NewAttributeEncoder()
	t.encode(e)
	return e.Encode()
}

// UnmarshalBinary decodes the attributes inside CTA_TUPLE_ORIG or
// CTA_TUPLE_REPLY.
func (t *Tuple) UnmarshalBinary(b []byte) error {
	*t = Tuple{}
	if err := t.decode(netfilter.NewAttributeDecoder(b)); err != nil {
		return fmt.Errorf("conntrack: decode tuple: %w", err)
	}
	return nil
}

// addr reads an address attribute of exactly size bytes.
func addr(d *netlink.AttributeDecoder, size int) (netip.Addr, error) {
	b := d.Bytes()
	if len(b) != size {
		return netip.Addr{}, fmt.Errorf("%w: type %d: %d-byte address, want %d", netlink.ErrAttribute, d.Type(), len(b), size)
	}
	if size == 4 {
		return netip.AddrFrom4([4]byte(b)), nil
	}
	return netip.AddrFrom16([16]byte(b)), nil
}

func (t *Tuple) decode(d *netlink.AttributeDecoder) error {
	for d.Next() {
		switch d.Type() {
		case ctaTupleIP:
			d.Nested(func(d *netlink.AttributeDecoder) error {
				for d.Next() {
					var err error
					switch d.Type() {
					case ctaIPv4Src:
						t.Src, err = addr(d, 4)
					case ctaIPv4Dst:
						t.Dst, err = addr(d, 4)
					case ctaIPv6Src:
						t.Src, err = addr(d, 16)
					case ctaIPv6Dst:
						t.Dst, err = addr(d, 16)
					}
					if err != nil {
						return fmt.Errorf("addresses: %w", err)
					}
				}
				return nil
			})
		case ctaTupleProto:
			d.Nested(func(d *netlink.AttributeDecoder) error {
				for d.Next() {
					switch d.Type() {
					case ctaProtoNum:
						t.Proto = Protocol(d.Uint8())
					case ctaProtoSrcPort:
						t.SrcPort = d.Uint16BE()
					case ctaProtoDstPort:
						t.DstPort = d.Uint16BE()
					case ctaProtoICMPID, ctaProtoICMPv6ID:
						t.ICMPID = d.Uint16BE()
					case ctaProtoICMPType, ctaProtoICMPv6Type:
						t.ICMPType = d.Uint8()
					case ctaProtoICMPCode, ctaProtoICMPv6Code:
						t.ICMPCode = d.Uint8()
					}
				}
				return nil
			})
		case ctaTupleZone:
			t.Zone = d.Uint16BE()
		}
	}
	return d.Err()
}

// TCPInfo is the TCP tracking state of a flow (CTA_PROTOINFO_TCP).
type TCPInfo struct {
	State TCPState // CTA_PROTOINFO_TCP_STATE
	// Window scale of each direction (CTA_PROTOINFO_TCP_WSCALE_ORIGINAL,
	// _REPLY).
	WScaleOrig, WScaleReply uint8
	// Flags of each direction (CTA_PROTOINFO_TCP_FLAGS_ORIGINAL, _REPLY,
	// struct nf_ct_tcp_flags: flags then mask), e.g. IP_CT_TCP_FLAG_SACK_PERM.
	FlagsOrig, FlagsReply TCPFlags
}

// TCPFlags are conntrack's per-direction TCP flags and the mask of those
// a request changes (struct nf_ct_tcp_flags).
type TCPFlags struct {
	Flags, Mask uint8
}

// Counters are a direction's packet and byte counts (CTA_COUNTERS_ORIG or
// _REPLY), present when accounting is on (net.netfilter.nf_conntrack_acct).
type Counters struct {
	Packets uint64 // CTA_COUNTERS_PACKETS
	Bytes   uint64 // CTA_COUNTERS_BYTES
}

// Flow is one conntrack entry: a connection (or pseudo-connection, for
// UDP and ICMP) the kernel tracks, with both directions' tuples.
type Flow struct {
	Original Tuple // CTA_TUPLE_ORIG
	Reply    Tuple // CTA_TUPLE_REPLY
	Status   Status
	// Timeout is the time left before the entry expires (CTA_TIMEOUT, in
	// whole seconds on the wire).
	Timeout time.Duration
	Mark    uint32 // CTA_MARK
	Zone    uint16 // CTA_ZONE; 0 is the default zone
	// ID identifies the entry for its life (CTA_ID); the kernel checks it
	// on delete when given.
	ID  uint32
	Use uint32 // CTA_USE: reference count
	// TCP is the TCP state, for TCP flows (CTA_PROTOINFO).
	TCP *TCPInfo
	// CountersOrig and CountersReply are set when accounting is on.
	CountersOrig, CountersReply *Counters
	// Labels is the 128-bit connection label field (CTA_LABELS), when the
	// flow has labels.
	Labels []byte
	// Helper is the name of the flow's helper (CTA_HELP), such as "ftp".
	Helper string
	// Start and Stop are when the flow started and ended, set when
	// timestamps are on (net.netfilter.nf_conntrack_timestamp;
	// CTA_TIMESTAMP_START and _STOP, wall-clock nanoseconds).
	Start, Stop time.Time
}

// Family returns the flow's address family.
func (f *Flow) Family() netfilter.Family { return f.Original.Family() }

// MarshalBinary encodes every field of f that is set as ctnetlink
// attributes (the payload after the nfgenmsg header).
func (f *Flow) MarshalBinary() ([]byte, error) {
	e := netfilter.NewAttributeEncoder()
	f.encode(e, encodeAll)
	b, err := e.Encode()
	if err != nil {
		return nil, fmt.Errorf("conntrack: encode flow: %w", err)
	}
	return b, nil
}

// encodeMode says which attributes a message carries.
type encodeMode int

const (
	encodeAll    encodeMode = iota // every field that is set (round trips)
	encodeCreate                   // what IPCTNL_MSG_CT_NEW with NLM_F_CREATE accepts
)

func (f *Flow) encode(e *netlink.AttributeEncoder, mode encodeMode) {
	e.Nested(ctaTupleOrig, f.Original.encode)
	e.Nested(ctaTupleReply, f.Reply.encode)
	switch {
	case mode == encodeCreate && f.Status != 0:
		// ctnetlink creates the entry confirmed and refuses a status
		// that would clear IPS_CONFIRMED (EBUSY), as libnetfilter_conntrack knows.
		e.Uint32(ctaStatus, uint32(f.Status|StatusConfirmed))
	case f.Status != 0:
		e.Uint32(ctaStatus, uint32(f.Status))
	}
	if f.Timeout != 0 || mode == encodeCreate {
		e.Uint32(ctaTimeout, uint32(f.Timeout/time.Second))
	}
	if f.Mark != 0 || mode == encodeAll {
		e.Uint32(ctaMark, f.Mark)
	}
	if f.TCP != nil {
		e.Nested(ctaProtoInfo, func(e *netlink.AttributeEncoder) {
			e.Nested(ctaProtoInfoTCP, func(e *netlink.AttributeEncoder) {
				e.Uint8(ctaTCPState, uint8(f.TCP.State))
				if mode == encodeAll {
					e.Uint8(ctaTCPWScaleOrig, f.TCP.WScaleOrig)
					e.Uint8(ctaTCPWScaleReply, f.TCP.WScaleReply)
					e.Raw(ctaTCPFlagsOrig, []byte{f.TCP.FlagsOrig.Flags, f.TCP.FlagsOrig.Mask})
					e.Raw(ctaTCPFlagsReply, []byte{f.TCP.FlagsReply.Flags, f.TCP.FlagsReply.Mask})
				}
			})
		})
	}
	if f.Zone != 0 {
		e.Uint16BE(ctaZone, f.Zone)
	}
	if f.Labels != nil {
		e.Bytes(ctaLabels, f.Labels)
		if mode == encodeCreate {
			mask := make([]byte, len(f.Labels))
			for i := range mask {
				mask[i] = 0xff
			}
			e.Bytes(ctaLabelsMask, mask)
		}
	}
	if mode != encodeAll {
		return
	}
	if f.Helper != "" {
		e.Nested(ctaHelp, func(e *netlink.AttributeEncoder) { e.String(ctaHelpName, f.Helper) })
	}
	counters := func(typ uint16, c *Counters) {
		if c != nil {
			e.Nested(typ, func(e *netlink.AttributeEncoder) {
				e.Uint64(ctaCountersPackets, c.Packets)
				e.Uint64(ctaCountersBytes, c.Bytes)
			})
		}
	}
	counters(ctaCountersOrig, f.CountersOrig)
	counters(ctaCountersReply, f.CountersReply)
	if f.Use != 0 {
		e.Uint32(ctaUse, f.Use)
	}
	if f.ID != 0 {
		e.Uint32(ctaID, f.ID)
	}
	if !f.Start.IsZero() || !f.Stop.IsZero() {
		e.Nested(ctaTimestamp, func(e *netlink.AttributeEncoder) {
			if !f.Start.IsZero() {
				e.Uint64(ctaTimestampStart, uint64(f.Start.UnixNano()))
			}
			if !f.Stop.IsZero() {
				e.Uint64(ctaTimestampStop, uint64(f.Stop.UnixNano()))
			}
		})
	}
}

// UnmarshalBinary decodes a flow from ctnetlink attributes (the payload
// after the nfgenmsg header). The Flow owns its memory.
func (f *Flow) UnmarshalBinary(b []byte) error {
	*f = Flow{}
	if err := f.decode(netfilter.NewAttributeDecoder(b)); err != nil {
		return fmt.Errorf("conntrack: decode flow: %w", err)
	}
	return nil
}

func nestedTuple(d *netlink.AttributeDecoder, t *Tuple, what string) {
	d.Nested(func(d *netlink.AttributeDecoder) error {
		if err := t.decode(d); err != nil {
			return fmt.Errorf("%s tuple: %w", what, err)
		}
		return nil
	})
}

func nestedCounters(d *netlink.AttributeDecoder, what string) *Counters {
	c := new(Counters)
	d.Nested(func(d *netlink.AttributeDecoder) error {
		for d.Next() {
			switch d.Type() {
			case ctaCountersPackets:
				c.Packets = d.Uint64()
			case ctaCountersBytes:
				c.Bytes = d.Uint64()
			}
		}
		if err := d.Err(); err != nil {
			return fmt.Errorf("%s counters: %w", what, err)
		}
		return nil
	})
	return c
}

func (f *Flow) decode(d *netlink.AttributeDecoder) error {
	for d.Next() {
		switch d.Type() {
		case ctaTupleOrig:
			nestedTuple(d, &f.Original, "original")
		case ctaTupleReply:
			nestedTuple(d, &f.Reply, "reply")
		case ctaStatus:
			f.Status = Status(d.Uint32())
		case ctaTimeout:
			f.Timeout = time.Duration(d.Uint32()) * time.Second
		case ctaMark:
			f.Mark = d.Uint32()
		case ctaZone:
			f.Zone = d.Uint16BE()
		case ctaID:
			f.ID = d.Uint32()
		case ctaUse:
			f.Use = d.Uint32()
		case ctaCountersOrig:
			f.CountersOrig = nestedCounters(d, "original")
		case ctaCountersReply:
			f.CountersReply = nestedCounters(d, "reply")
		case ctaLabels:
			f.Labels = append([]byte{}, d.Bytes()...)
		case ctaProtoInfo:
			d.Nested(f.decodeProtoInfo)
		case ctaHelp:
			d.Nested(func(d *netlink.AttributeDecoder) error {
				for d.Next() {
					if d.Type() == ctaHelpName {
						f.Helper = d.String()
					}
				}
				return nil
			})
		case ctaTimestamp:
			d.Nested(func(d *netlink.AttributeDecoder) error {
				for d.Next() {
					switch d.Type() {
					case ctaTimestampStart:
						f.Start = nsTime(d.Uint64())
					case ctaTimestampStop:
						f.Stop = nsTime(d.Uint64())
					}
				}
				if err := d.Err(); err != nil {
					return fmt.Errorf("timestamp: %w", err)
				}
				return nil
			})
		}
	}
	return d.Err()
}

// nsTime is a wall-clock time from nanoseconds since the epoch; 0 is the
// zero time.
func nsTime(ns uint64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(ns))
}

func (f *Flow) decodeProtoInfo(d *netlink.AttributeDecoder) error {
	for d.Next() {
		if d.Type() != ctaProtoInfoTCP {
			continue
		}
		tcp := new(TCPInfo)
		d.Nested(func(d *netlink.AttributeDecoder) error {
			for d.Next() {
				switch d.Type() {
				case ctaTCPState:
					tcp.State = TCPState(d.Uint8())
				case ctaTCPWScaleOrig:
					tcp.WScaleOrig = d.Uint8()
				case ctaTCPWScaleReply:
					tcp.WScaleReply = d.Uint8()
				case ctaTCPFlagsOrig, ctaTCPFlagsReply:
					b := d.Bytes()
					if len(b) != 2 {
						return fmt.Errorf("%w: type %d: %d-byte TCP flags, want 2", netlink.ErrAttribute, d.Type(), len(b))
					}
					fl := TCPFlags{Flags: b[0], Mask: b[1]}
					if d.Type() == ctaTCPFlagsOrig {
						tcp.FlagsOrig = fl
					} else {
						tcp.FlagsReply = fl
					}
				}
			}
			return nil
		})
		f.TCP = tcp
	}
	if err := d.Err(); err != nil {
		return fmt.Errorf("protocol info: %w", err)
	}
	return nil
}
