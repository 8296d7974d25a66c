package rtnl

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/nlkit/nlkit/netlink"
)

// LinkData is the kind-specific part of a virtual link (IFLA_INFO_DATA):
// *Veth, *Bridge, *Macvlan, *Vxlan or *Tun. Other kinds keep their raw
// attributes in LinkInfo.RawData.
type LinkData interface {
	// Kind returns the IFLA_INFO_KIND this data belongs to.
	Kind() string
	encode(e *netlink.AttributeEncoder) error
	decode(d *netlink.AttributeDecoder) error
}

func newLinkData(kind string) LinkData {
	switch kind {
	case "veth":
		return new(Veth)
	case "bridge":
		return new(Bridge)
	case "macvlan", "macvtap":
		return &Macvlan{Tap: kind == "macvtap"}
	case "vxlan":
		return new(Vxlan)
	case "tun":
		return new(Tun)
	}
	return nil
}

// Veth is a virtual Ethernet pair: what enters one end leaves the other.
type Veth struct {
	// Peer describes the other end when creating the pair: its Name, and
	// optionally MTU, HardwareAddr and NetNSFD (to create it directly in
	// another namespace). The kernel does not report it back: a listed
	// veth names its peer by Link.ParentIndex (and Link.NetNSID when the
	// peer is in another namespace).
	Peer *Link
}

const vethInfoPeer = 1 // VETH_INFO_PEER

// Kind returns "veth".
func (*Veth) Kind() string { return "veth" }

func (v *Veth) encode(e *netlink.AttributeEncoder) error {
	if v.Peer == nil {
		return nil
	}
	b, err := v.Peer.MarshalBinary()
	if err != nil {
		return fmt.Errorf("veth peer: %w", err)
	}
	// VETH_INFO_PEER holds a struct ifinfomsg and the peer's attributes.
	e.Raw(vethInfoPeer|netlink.AttrNested, b)
	return nil
}

func (v *Veth) decode(d *netlink.AttributeDecoder) error {
	for d.Next() {
		if d.Type() == vethInfoPeer {
			v.Peer = new(Link)
			if err := v.Peer.UnmarshalBinary(d.Bytes()); err != nil {
				return fmt.Errorf("veth peer: %w", err)
			}
		}
	}
	return d.Err()
}

// Bridge is a software Ethernet bridge. Unset (zero or nil) fields keep the
// kernel's defaults.
type Bridge struct {
	ForwardDelay  time.Duration // IFLA_BR_FORWARD_DELAY
	HelloTime     time.Duration // IFLA_BR_HELLO_TIME
	MaxAge        time.Duration // IFLA_BR_MAX_AGE
	AgeingTime    time.Duration // IFLA_BR_AGEING_TIME
	STP           *bool         // IFLA_BR_STP_STATE
	Priority      *uint16       // IFLA_BR_PRIORITY
	VlanFiltering *bool         // IFLA_BR_VLAN_FILTERING
}

const (
	iflaBrForwardDelay  = 1 // IFLA_BR_FORWARD_DELAY
	iflaBrHelloTime     = 2 // IFLA_BR_HELLO_TIME
	iflaBrMaxAge        = 3 // IFLA_BR_MAX_AGE
	iflaBrAgeingTime    = 4 // IFLA_BR_AGEING_TIME
	iflaBrSTPState      = 5 // IFLA_BR_STP_STATE
	iflaBrPriority      = 6 // IFLA_BR_PRIORITY
	iflaBrVlanFiltering = 7 // IFLA_BR_VLAN_FILTERING
)

// The bridge's times travel in clock_t units of 1/USER_HZ (100) seconds.
func toClock(d time.Duration) uint32   { return uint32(d / (10 * time.Millisecond)) }
func fromClock(v uint32) time.Duration { return time.Duration(v) * 10 * time.Millisecond }

// Kind returns "bridge".
func (*Bridge) Kind() string { return "bridge" }

func (b *Bridge) encode(e *netlink.AttributeEncoder) error {
	for _, t := range []struct {
		typ uint16
		d   time.Duration
	}{{iflaBrForwardDelay, b.ForwardDelay}, {iflaBrHelloTime, b.HelloTime}, {iflaBrMaxAge, b.MaxAge}, {iflaBrAgeingTime, b.AgeingTime}} {
		if t.d < 0 {
			return fmt.Errorf("bridge: negative time %v", t.d)
		}
		if t.d != 0 {
			e.Uint32(t.typ, toClock(t.d))
		}
	}
	if b.STP != nil {
		e.Uint32(iflaBrSTPState, boolU32(*b.STP))
	}
	if b.Priority != nil {
		e.Uint16(iflaBrPriority, *b.Priority)
	}
	if b.VlanFiltering != nil {
		e.Uint8(iflaBrVlanFiltering, uint8(boolU32(*b.VlanFiltering)))
	}
	return nil
}

func (b *Bridge) decode(d *netlink.AttributeDecoder) error {
	for d.Next() {
		switch d.Type() {
		case iflaBrForwardDelay:
			b.ForwardDelay = fromClock(d.Uint32())
		case iflaBrHelloTime:
			b.HelloTime = fromClock(d.Uint32())
		case iflaBrMaxAge:
			b.MaxAge = fromClock(d.Uint32())
		case iflaBrAgeingTime:
			b.AgeingTime = fromClock(d.Uint32())
		case iflaBrSTPState:
			v := d.Uint32() != 0
			b.STP = &v
		case iflaBrPriority:
			v := d.Uint16()
			b.Priority = &v
		case iflaBrVlanFiltering:
			v := d.Uint8() != 0
			b.VlanFiltering = &v
		}
	}
	return d.Err()
}

// MacvlanMode is how a macvlan reaches its siblings (IFLA_MACVLAN_MODE).
type MacvlanMode uint32

// Macvlan modes.
const (
	MacvlanPrivate  MacvlanMode = 1  // MACVLAN_MODE_PRIVATE
	MacvlanVEPA     MacvlanMode = 2  // MACVLAN_MODE_VEPA
	MacvlanBridge   MacvlanMode = 4  // MACVLAN_MODE_BRIDGE
	MacvlanPassthru MacvlanMode = 8  // MACVLAN_MODE_PASSTHRU
	MacvlanSource   MacvlanMode = 16 // MACVLAN_MODE_SOURCE
)

var macvlanModes = map[MacvlanMode]string{
	MacvlanPrivate: "private", MacvlanVEPA: "vepa", MacvlanBridge: "bridge",
	MacvlanPassthru: "passthru", MacvlanSource: "source",
}

// String returns the mode as ip names it.
func (m MacvlanMode) String() string {
	if s, ok := macvlanModes[m]; ok {
		return s
	}
	return fmt.Sprintf("mode(%d)", uint32(m))
}

// ParseMacvlanMode parses a mode name as ip accepts it.
func ParseMacvlanMode(s string) (MacvlanMode, error) {
	for m, n := range macvlanModes {
		if n == s {
			return m, nil
		}
	}
	return 0, fmt.Errorf("unknown macvlan mode %q (want private, vepa, bridge, passthru or source)", s)
}

// Macvlan is a macvlan (or, with Tap, macvtap) link on a parent given by
// Link.ParentIndex.
type Macvlan struct {
	Mode MacvlanMode // IFLA_MACVLAN_MODE; 0 keeps the kernel's default (vepa)
	Tap  bool        // kind "macvtap" rather than "macvlan"
}

const iflaMacvlanMode = 1 // IFLA_MACVLAN_MODE

// Kind returns "macvlan" or "macvtap".
func (m *Macvlan) Kind() string {
	if m.Tap {
		return "macvtap"
	}
	return "macvlan"
}

func (m *Macvlan) encode(e *netlink.AttributeEncoder) error {
	if m.Mode != 0 {
		e.Uint32(iflaMacvlanMode, uint32(m.Mode))
	}
	return nil
}

func (m *Macvlan) decode(d *netlink.AttributeDecoder) error {
	for d.Next() {
		if d.Type() == iflaMacvlanMode {
			m.Mode = MacvlanMode(d.Uint32())
		}
	}
	return d.Err()
}

// Vxlan is a VXLAN tunnel endpoint.
type Vxlan struct {
	VNI      uint32     // IFLA_VXLAN_ID: the 24-bit network identifier
	Group    netip.Addr // IFLA_VXLAN_GROUP(6): multicast group or unicast remote
	Local    netip.Addr // IFLA_VXLAN_LOCAL(6): source address
	Dev      int32      // IFLA_VXLAN_LINK: the underlying interface
	TTL      uint8      // IFLA_VXLAN_TTL
	Port     uint16     // IFLA_VXLAN_PORT: UDP destination port (4789 is IANA's)
	Learning *bool      // IFLA_VXLAN_LEARNING
}

const (
	iflaVxlanID       = 1  // IFLA_VXLAN_ID
	iflaVxlanGroup    = 2  // IFLA_VXLAN_GROUP
	iflaVxlanLink     = 3  // IFLA_VXLAN_LINK
	iflaVxlanLocal    = 4  // IFLA_VXLAN_LOCAL
	iflaVxlanTTL      = 5  // IFLA_VXLAN_TTL
	iflaVxlanLearning = 7  // IFLA_VXLAN_LEARNING
	iflaVxlanPort     = 15 // IFLA_VXLAN_PORT (big-endian)
	iflaVxlanGroup6   = 16 // IFLA_VXLAN_GROUP6
	iflaVxlanLocal6   = 17 // IFLA_VXLAN_LOCAL6
)

// Kind returns "vxlan".
func (*Vxlan) Kind() string { return "vxlan" }

func (v *Vxlan) encode(e *netlink.AttributeEncoder) error {
	if v.VNI >= 1<<24 {
		return fmt.Errorf("vxlan: VNI %d exceeds 24 bits", v.VNI)
	}
	e.Uint32(iflaVxlanID, v.VNI)
	if v.Group.IsValid() {
		if v.Group.Unmap().Is4() {
			e.Addr(iflaVxlanGroup, v.Group)
		} else {
			e.Addr(iflaVxlanGroup6, v.Group)
		}
	}
	if v.Local.IsValid() {
		if v.Local.Unmap().Is4() {
			e.Addr(iflaVxlanLocal, v.Local)
		} else {
			e.Addr(iflaVxlanLocal6, v.Local)
		}
	}
	if v.Dev != 0 {
		e.Uint32(iflaVxlanLink, uint32(v.Dev))
	}
	if v.TTL != 0 {
		e.Uint8(iflaVxlanTTL, v.TTL)
	}
	if v.Port != 0 {
		e.Uint16BE(iflaVxlanPort, v.Port)
	}
	if v.Learning != nil {
		e.Uint8(iflaVxlanLearning, uint8(boolU32(*v.Learning)))
	}
	return nil
}

func (v *Vxlan) decode(d *netlink.AttributeDecoder) error {
	for d.Next() {
		switch d.Type() {
		case iflaVxlanID:
			v.VNI = d.Uint32()
		case iflaVxlanGroup, iflaVxlanGroup6:
			v.Group = d.Addr()
		case iflaVxlanLocal, iflaVxlanLocal6:
			v.Local = d.Addr()
		case iflaVxlanLink:
			v.Dev = int32(d.Uint32())
		case iflaVxlanTTL:
			v.TTL = d.Uint8()
		case iflaVxlanPort:
			v.Port = d.Uint16BE()
		case iflaVxlanLearning:
			l := d.Uint8() != 0
			v.Learning = &l
		}
	}
	return d.Err()
}

// Tun is a tun (layer 3) or tap (layer 2) device served by a user-space
// program through /dev/net/tun. The kernel reports these attributes in
// dumps but does not create tun devices through rtnetlink; Client.AddLink
// creates them with the TUNSETIFF ioctl, as `ip tuntap add` does.
type Tun struct {
	Tap        bool    // IFLA_TUN_TYPE: tap (Ethernet frames) rather than tun (IP packets)
	Owner      *uint32 // IFLA_TUN_OWNER: uid allowed to attach
	Group      *uint32 // IFLA_TUN_GROUP: gid allowed to attach
	PI         bool    // IFLA_TUN_PI: packets carry a 4-byte protocol header
	VnetHdr    bool    // IFLA_TUN_VNET_HDR
	Persist    bool    // IFLA_TUN_PERSIST: survives its last file descriptor
	MultiQueue bool    // IFLA_TUN_MULTI_QUEUE
	NumQueues  uint32  // IFLA_TUN_NUM_QUEUES (read only)
}

const (
	iflaTunOwner      = 1 // IFLA_TUN_OWNER
	iflaTunGroup      = 2 // IFLA_TUN_GROUP
	iflaTunType       = 3 // IFLA_TUN_TYPE
	iflaTunPI         = 4 // IFLA_TUN_PI
	iflaTunVnetHdr    = 5 // IFLA_TUN_VNET_HDR
	iflaTunPersist    = 6 // IFLA_TUN_PERSIST
	iflaTunMultiQueue = 7 // IFLA_TUN_MULTI_QUEUE
	iflaTunNumQueues  = 8 // IFLA_TUN_NUM_QUEUES
	tunTypeTap        = 2 // IFF_TAP
)

// Kind returns "tun".
func (*Tun) Kind() string { return "tun" }

// TypeName returns "tap" or "tun".
func (t *Tun) TypeName() string {
	if t.Tap {
		return "tap"
	}
	return "tun"
}

func (t *Tun) encode(*netlink.AttributeEncoder) error {
	return fmt.Errorf("tun: the kernel does not create tun/tap devices through rtnetlink; use Client.AddLink")
}

func (t *Tun) decode(d *netlink.AttributeDecoder) error {
	for d.Next() {
		switch d.Type() {
		case iflaTunOwner:
			v := d.Uint32()
			t.Owner = &v
		case iflaTunGroup:
			v := d.Uint32()
			t.Group = &v
		case iflaTunType:
			t.Tap = d.Uint8() == tunTypeTap
		case iflaTunPI:
			t.PI = d.Uint8() != 0
		case iflaTunVnetHdr:
			t.VnetHdr = d.Uint8() != 0
		case iflaTunPersist:
			t.Persist = d.Uint8() != 0
		case iflaTunMultiQueue:
			t.MultiQueue = d.Uint8() != 0
		case iflaTunNumQueues:
			t.NumQueues = d.Uint32()
		}
	}
	return d.Err()
}

func boolU32(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}
