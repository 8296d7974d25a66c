package rtnl

import (
	"encoding/binary"
	"fmt"
	"net"
	"strings"

	"github.com/nlkit/nlkit/netlink"
)

// Message types of links (enum in linux/rtnetlink.h).
const (
	msgNewLink = 16 // RTM_NEWLINK
	msgDelLink = 17 // RTM_DELLINK
	msgGetLink = 18 // RTM_GETLINK
	msgSetLink = 19 // RTM_SETLINK
)

// Link attributes (enum in linux/if_link.h).
const (
	iflaAddress     = 1  // IFLA_ADDRESS
	iflaBroadcast   = 2  // IFLA_BROADCAST
	iflaIfname      = 3  // IFLA_IFNAME
	iflaMTU         = 4  // IFLA_MTU
	iflaLink        = 5  // IFLA_LINK
	iflaQdisc       = 6  // IFLA_QDISC
	iflaMaster      = 10 // IFLA_MASTER
	iflaTxQLen      = 13 // IFLA_TXQLEN
	iflaOperState   = 16 // IFLA_OPERSTATE
	iflaLinkMode    = 17 // IFLA_LINKMODE
	iflaLinkInfo    = 18 // IFLA_LINKINFO
	iflaIfAlias     = 20 // IFLA_IFALIAS
	iflaStats64     = 23 // IFLA_STATS64
	iflaGroup       = 27 // IFLA_GROUP
	iflaPromiscuity = 30 // IFLA_PROMISCUITY
	iflaCarrier     = 33 // IFLA_CARRIER
	iflaLinkNetNSID = 37 // IFLA_LINK_NETNSID
	iflaMinMTU      = 50 // IFLA_MIN_MTU
	iflaMaxMTU      = 51 // IFLA_MAX_MTU
	iflaPermAddress = 54 // IFLA_PERM_ADDRESS
)

// ifInfoLen is the size of struct ifinfomsg.
const ifInfoLen = 16

// LinkFlags are the interface flags (ifinfomsg.ifi_flags, IFF_*).
type LinkFlags uint32

// Interface flags.
const (
	FlagUp           LinkFlags = 1 << 0  // IFF_UP: administratively up
	FlagBroadcast    LinkFlags = 1 << 1  // IFF_BROADCAST
	FlagDebug        LinkFlags = 1 << 2  // IFF_DEBUG
	FlagLoopback     LinkFlags = 1 << 3  // IFF_LOOPBACK
	FlagPointToPoint LinkFlags = 1 << 4  // IFF_POINTOPOINT
	FlagNoTrailers   LinkFlags = 1 << 5  // IFF_NOTRAILERS
	FlagRunning      LinkFlags = 1 << 6  // IFF_RUNNING: operationally up
	FlagNoARP        LinkFlags = 1 << 7  // IFF_NOARP
	FlagPromisc      LinkFlags = 1 << 8  // IFF_PROMISC
	FlagAllMulti     LinkFlags = 1 << 9  // IFF_ALLMULTI
	FlagMaster       LinkFlags = 1 << 10 // IFF_MASTER
	FlagSlave        LinkFlags = 1 << 11 // IFF_SLAVE
	FlagMulticast    LinkFlags = 1 << 12 // IFF_MULTICAST
	FlagPortSel      LinkFlags = 1 << 13 // IFF_PORTSEL
	FlagAutoMedia    LinkFlags = 1 << 14 // IFF_AUTOMEDIA
	FlagDynamic      LinkFlags = 1 << 15 // IFF_DYNAMIC
	FlagLowerUp      LinkFlags = 1 << 16 // IFF_LOWER_UP: carrier present
	FlagDormant      LinkFlags = 1 << 17 // IFF_DORMANT
	FlagEcho         LinkFlags = 1 << 18 // IFF_ECHO
)

// The order and names `ip link` prints flags in (print_link_flags).
var linkFlagNames = []struct {
	f    LinkFlags
	name string
}{
	{FlagLoopback, "LOOPBACK"}, {FlagBroadcast, "BROADCAST"}, {FlagPointToPoint, "POINTOPOINT"},
	{FlagMulticast, "MULTICAST"}, {FlagNoARP, "NOARP"}, {FlagAllMulti, "ALLMULTI"},
	{FlagPromisc, "PROMISC"}, {FlagNoTrailers, "NOTRAILERS"}, {FlagDebug, "DEBUG"},
	{FlagMaster, "MASTER"}, {FlagSlave, "SLAVE"}, {FlagUp, "UP"}, {FlagLowerUp, "LOWER_UP"},
	{FlagDormant, "DORMANT"}, {FlagEcho, "ECHO"},
}

// Names returns the flags as `ip link` shows them, in its order:
// NO-CARRIER first when up without RUNNING, RUNNING itself omitted, and
// unknown bits as one hexadecimal number.
func (f LinkFlags) Names() []string {
	names := []string{}
	if f&FlagUp != 0 && f&FlagRunning == 0 {
		names = append(names, "NO-CARRIER")
	}
	f &^= FlagRunning
	for _, n := range linkFlagNames {
		if f&n.f != 0 {
			names = append(names, n.name)
			f &^= n.f
		}
	}
	if f != 0 {
		names = append(names, fmt.Sprintf("%x", uint32(f)))
	}
	return names
}

// String returns the flags as `ip link` shows them: "UP,LOWER_UP".
func (f LinkFlags) String() string { return strings.Join(f.Names(), ",") }

// OperState is the RFC 2863 operational state (IFLA_OPERSTATE, IF_OPER_*).
type OperState uint8

// Operational states.
const (
	OperUnknown        OperState = 0 // IF_OPER_UNKNOWN
	OperNotPresent     OperState = 1 // IF_OPER_NOTPRESENT
	OperDown           OperState = 2 // IF_OPER_DOWN
	OperLowerLayerDown OperState = 3 // IF_OPER_LOWERLAYERDOWN
	OperTesting        OperState = 4 // IF_OPER_TESTING
	OperDormant        OperState = 5 // IF_OPER_DORMANT
	OperUp             OperState = 6 // IF_OPER_UP
)

var operNames = [...]string{"UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP"}

// String returns the state as `ip link` shows it ("UP", "DOWN", ...).
func (s OperState) String() string {
	if int(s) < len(operNames) {
		return operNames[s]
	}
	return fmt.Sprintf("%d", uint8(s))
}

// LinkType is the hardware type of an interface (ifi_type, ARPHRD_*).
type LinkType uint16

// Common link types.
const (
	LinkTypeEther    LinkType = 1      // ARPHRD_ETHER
	LinkTypeLoopback LinkType = 772    // ARPHRD_LOOPBACK
	LinkTypeNone     LinkType = 0xfffe // ARPHRD_NONE
	LinkTypeVoid     LinkType = 0xffff // ARPHRD_VOID
)

var linkTypeNames = map[LinkType]string{
	LinkTypeEther: "ether", LinkTypeLoopback: "loopback", LinkTypeNone: "none", LinkTypeVoid: "void",
	512: "ppp", 768: "ipip", 769: "tunnel6", 776: "sit", 778: "gre", 823: "ip6gre",
}

// String returns the type as `ip link` shows it after "link/".
func (t LinkType) String() string {
	if s, ok := linkTypeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("[%d]", uint16(t))
}

// LinkStats are an interface's 64-bit counters (struct
// rtnl_link_stats64, IFLA_STATS64).
type LinkStats struct {
	RxPackets, TxPackets, RxBytes, TxBytes                                                 uint64
	RxErrors, TxErrors, RxDropped, TxDropped                                               uint64
	Multicast, Collisions                                                                  uint64
	RxLengthErrors, RxOverErrors, RxCRCErrors, RxFrameErrors, RxFIFOErrors, RxMissedErrors uint64
	TxAbortedErrors, TxCarrierErrors, TxFIFOErrors, TxHeartbeatErrors, TxWindowErrors      uint64
	RxCompressed, TxCompressed, RxNoHandler                                                uint64
}

func (s *LinkStats) unmarshal(b []byte) {
	fields := []*uint64{
		&s.RxPackets, &s.TxPackets, &s.RxBytes, &s.TxBytes, &s.RxErrors, &s.TxErrors,
		&s.RxDropped, &s.TxDropped, &s.Multicast, &s.Collisions, &s.RxLengthErrors,
		&s.RxOverErrors, &s.RxCRCErrors, &s.RxFrameErrors, &s.RxFIFOErrors, &s.RxMissedErrors,
		&s.TxAbortedErrors, &s.TxCarrierErrors, &s.TxFIFOErrors, &s.TxHeartbeatErrors,
		&s.TxWindowErrors, &s.RxCompressed, &s.TxCompressed, &s.RxNoHandler,
	}
	for i, p := range fields {
		if len(b) < 8*(i+1) {
			return // older kernels send fewer counters
		}
		*p = binary.NativeEndian.Uint64(b[8*i:])
	}
}

// Link is a network interface (struct ifinfomsg and IFLA_* attributes).
// Zero fields are absent: Marshal omits them, Unmarshal leaves them zero
// when the kernel did not send them.
type Link struct {
	// Family is the address family (ifi_family); usually 0 (AF_UNSPEC).
	Family uint8
	// Index is the interface index (ifi_index).
	Index int32
	// Type is the hardware type (ifi_type).
	Type LinkType
	// Flags are the interface flags (ifi_flags).
	Flags LinkFlags
	// Change is the mask of Flags a request changes (ifi_change).
	Change LinkFlags

	Name         string           // IFLA_IFNAME
	MTU          uint32           // IFLA_MTU
	MinMTU       uint32           // IFLA_MIN_MTU
	MaxMTU       uint32           // IFLA_MAX_MTU
	HardwareAddr net.HardwareAddr // IFLA_ADDRESS
	Broadcast    net.HardwareAddr // IFLA_BROADCAST
	PermAddr     net.HardwareAddr // IFLA_PERM_ADDRESS
	OperState    OperState        // IFLA_OPERSTATE
	LinkMode     uint8            // IFLA_LINKMODE
	Master       int32            // IFLA_MASTER: index of the master (bridge), 0 if none
	ParentIndex  int32            // IFLA_LINK: index of the lower device (veth peer, macvlan parent)
	TxQueueLen   uint32           // IFLA_TXQLEN
	Alias        string           // IFLA_IFALIAS
	Qdisc        string           // IFLA_QDISC
	Group        uint32           // IFLA_GROUP
	Promiscuity  uint32           // IFLA_PROMISCUITY
	Carrier      *bool            // IFLA_CARRIER
	Stats        *LinkStats       // IFLA_STATS64
	// NetNSID is the ID, in this namespace, of the namespace where the
	// link's peer or parent lives (IFLA_LINK_NETNSID), if HasNetNSID.
	NetNSID    int32
	HasNetNSID bool
	// Info is the kind-specific part (IFLA_LINKINFO).
	Info *LinkInfo

	// NetNSFD, in a request, moves the link into (or creates it in) the
	// network namespace of this open file descriptor (IFLA_NET_NS_FD);
	// NetNSPID does the same by a process's namespace (IFLA_NET_NS_PID).
	// Zero means unset. The kernel never reports them.
	NetNSFD  int
	NetNSPID int
}

const (
	iflaNetNSPID = 19 // IFLA_NET_NS_PID
	iflaNetNSFD  = 28 // IFLA_NET_NS_FD
)

// LinkInfo is IFLA_LINKINFO: the kind of a virtual link and its data.
type LinkInfo struct {
	// Kind is IFLA_INFO_KIND: "veth", "bridge", "macvlan", "vxlan", "tun",
	// ... When Data is set, Kind may be left empty: Data.Kind() is used.
	Kind      string
	SlaveKind string // IFLA_INFO_SLAVE_KIND: "bridge" for a bridge port
	// Data is the decoded IFLA_INFO_DATA of the kinds nlkit knows.
	Data LinkData
	// RawData is the IFLA_INFO_DATA payload (kind-specific attributes),
	// for kinds without a LinkData type. It is ignored when Data is set.
	RawData []byte
}

// kind returns the link kind, from Kind or Data.
func (i *LinkInfo) kind() string {
	if i.Kind == "" && i.Data != nil {
		return i.Data.Kind()
	}
	return i.Kind
}

const (
	iflaInfoKind      = 1 // IFLA_INFO_KIND
	iflaInfoData      = 2 // IFLA_INFO_DATA
	iflaInfoSlaveKind = 4 // IFLA_INFO_SLAVE_KIND
)

// MarshalBinary encodes l as the payload of an RTM_*LINK message.
func (l *Link) MarshalBinary() ([]byte, error) {
	b := make([]byte, ifInfoLen, 64)
	b[0] = l.Family
	binary.NativeEndian.PutUint16(b[2:], uint16(l.Type))
	binary.NativeEndian.PutUint32(b[4:], uint32(l.Index))
	binary.NativeEndian.PutUint32(b[8:], uint32(l.Flags))
	binary.NativeEndian.PutUint32(b[12:], uint32(l.Change))
	var e netlink.AttributeEncoder
	e.Reset(b)
	if l.Name != "" {
		e.String(iflaIfname, l.Name)
	}
	if l.MTU != 0 {
		e.Uint32(iflaMTU, l.MTU)
	}
	if len(l.HardwareAddr) != 0 {
		e.Bytes(iflaAddress, l.HardwareAddr)
	}
	if len(l.Broadcast) != 0 {
		e.Bytes(iflaBroadcast, l.Broadcast)
	}
	if l.Master != 0 {
		e.Uint32(iflaMaster, uint32(l.Master))
	}
	if l.ParentIndex != 0 {
		e.Uint32(iflaLink, uint32(l.ParentIndex))
	}
	if l.TxQueueLen != 0 {
		e.Uint32(iflaTxQLen, l.TxQueueLen)
	}
	if l.Alias != "" {
		e.String(iflaIfAlias, l.Alias)
	}
	if l.Group != 0 {
		e.Uint32(iflaGroup, l.Group)
	}
	if l.NetNSFD > 0 {
		e.Uint32(iflaNetNSFD, uint32(l.NetNSFD))
	}
	if l.NetNSPID > 0 {
		e.Uint32(iflaNetNSPID, uint32(l.NetNSPID))
	}
	if l.Info != nil {
		e.Nest(iflaLinkInfo)
		if k := l.Info.kind(); k != "" {
			e.String(iflaInfoKind, k)
		}
		switch {
		case l.Info.Data != nil:
			e.Nest(iflaInfoData)
			if err := l.Info.Data.encode(&e); err != nil {
				return nil, fmt.Errorf("rtnl: encode link %q: %w", l.Name, err)
			}
			e.End()
		case l.Info.RawData != nil:
			e.Raw(iflaInfoData|netlink.AttrNested, l.Info.RawData)
		}
		if l.Info.SlaveKind != "" {
			e.String(iflaInfoSlaveKind, l.Info.SlaveKind)
		}
		e.End()
	}
	out, err := e.Encode()
	if err != nil {
		return nil, fmt.Errorf("rtnl: encode link %q: %w", l.Name, err)
	}
	return out, nil
}

// UnmarshalBinary decodes the payload of an RTM_NEWLINK message into l.
// Byte slices in l are copies; l does not alias b.
func (l *Link) UnmarshalBinary(b []byte) error {
	if len(b) < ifInfoLen {
		return fmt.Errorf("rtnl: decode link: %d bytes, shorter than ifinfomsg", len(b))
	}
	*l = Link{
		Family: b[0],
		Type:   LinkType(binary.NativeEndian.Uint16(b[2:])),
		Index:  int32(binary.NativeEndian.Uint32(b[4:])),
		Flags:  LinkFlags(binary.NativeEndian.Uint32(b[8:])),
		Change: LinkFlags(binary.NativeEndian.Uint32(b[12:])),
	}
	hw := func(d *netlink.AttributeDecoder) net.HardwareAddr {
		return net.HardwareAddr(append([]byte(nil), d.Bytes()...))
	}
	d := netlink.NewAttributeDecoder(b[ifInfoLen:])
	for d.Next() {
		switch d.Type() {
		case iflaIfname:
			l.Name = d.String()
		case iflaMTU:
			l.MTU = d.Uint32()
		case iflaMinMTU:
			l.MinMTU = d.Uint32()
		case iflaMaxMTU:
			l.MaxMTU = d.Uint32()
		case iflaAddress:
			l.HardwareAddr = hw(d)
		case iflaBroadcast:
			l.Broadcast = hw(d)
		case iflaPermAddress:
			l.PermAddr = hw(d)
		case iflaOperState:
			l.OperState = OperState(d.Uint8())
		case iflaLinkMode:
			l.LinkMode = d.Uint8()
		case iflaMaster:
			l.Master = int32(d.Uint32())
		case iflaLink:
			l.ParentIndex = int32(d.Uint32())
		case iflaTxQLen:
			l.TxQueueLen = d.Uint32()
		case iflaIfAlias:
			l.Alias = d.String()
		case iflaQdisc:
			l.Qdisc = d.String()
		case iflaGroup:
			l.Group = d.Uint32()
		case iflaPromiscuity:
			l.Promiscuity = d.Uint32()
		case iflaCarrier:
			c := d.Uint8() != 0
			l.Carrier = &c
		case iflaStats64:
			l.Stats = new(LinkStats)
			l.Stats.unmarshal(d.Bytes())
		case iflaLinkNetNSID:
			l.NetNSID = d.Int32()
			l.HasNetNSID = true
		case iflaLinkInfo:
			l.Info = new(LinkInfo)
			d.Nested(l.Info.decode)
		}
	}
	if err := d.Err(); err != nil {
		return fmt.Errorf("rtnl: decode link %d: %w", l.Index, err)
	}
	return nil
}

func (i *LinkInfo) decode(d *netlink.AttributeDecoder) error {
	var data []byte
	for d.Next() {
		switch d.Type() {
		case iflaInfoKind:
			i.Kind = d.String()
		case iflaInfoSlaveKind:
			i.SlaveKind = d.String()
		case iflaInfoData:
			data = d.Bytes()
		}
	}
	if err := d.Err(); err != nil {
		return err
	}
	// Known kinds always get their typed Data, empty if the kernel sent
	// none (a listed veth carries no IFLA_INFO_DATA).
	if ld := newLinkData(i.Kind); ld != nil {
		nd := netlink.NewAttributeDecoder(data)
		if err := ld.decode(nd); err != nil {
			return fmt.Errorf("%s data: %w", i.Kind, err)
		}
		i.Data = ld
		return nil
	}
	if data != nil {
		i.RawData = append([]byte(nil), data...)
	}
	return nil
}
