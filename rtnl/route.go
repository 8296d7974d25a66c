package rtnl

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nlkit/nlkit/netlink"
)

// Message types of routes (enum in linux/rtnetlink.h).
const (
	msgNewRoute = 24 // RTM_NEWROUTE
	msgDelRoute = 25 // RTM_DELROUTE
	msgGetRoute = 26 // RTM_GETROUTE
)

// rtMsgLen is the size of struct rtmsg.
const rtMsgLen = 12

// Route attributes (enum rtattr_type_t in linux/rtnetlink.h).
const (
	rtaDst       = 1  // RTA_DST
	rtaSrc       = 2  // RTA_SRC
	rtaIIF       = 3  // RTA_IIF
	rtaOIF       = 4  // RTA_OIF
	rtaGateway   = 5  // RTA_GATEWAY
	rtaPriority  = 6  // RTA_PRIORITY
	rtaPrefSrc   = 7  // RTA_PREFSRC
	rtaMetrics   = 8  // RTA_METRICS
	rtaMultipath = 9  // RTA_MULTIPATH
	rtaCacheInfo = 12 // RTA_CACHEINFO
	rtaTable     = 15 // RTA_TABLE
	rtaMark      = 16 // RTA_MARK
	rtaVia       = 18 // RTA_VIA
	rtaPref      = 20 // RTA_PREF
	rtaExpires   = 23 // RTA_EXPIRES
	rtaUID       = 25 // RTA_UID
	rtaNHID      = 30 // RTA_NH_ID
)

// Route metrics, nested in RTA_METRICS (RTAX_* in linux/rtnetlink.h).
const (
	rtaxLock             = 1  // RTAX_LOCK
	rtaxMTU              = 2  // RTAX_MTU
	rtaxWindow           = 3  // RTAX_WINDOW
	rtaxRTT              = 4  // RTAX_RTT
	rtaxRTTVar           = 5  // RTAX_RTTVAR
	rtaxSSThresh         = 6  // RTAX_SSTHRESH
	rtaxCWnd             = 7  // RTAX_CWND
	rtaxAdvMSS           = 8  // RTAX_ADVMSS
	rtaxReordering       = 9  // RTAX_REORDERING
	rtaxHopLimit         = 10 // RTAX_HOPLIMIT
	rtaxInitCWnd         = 11 // RTAX_INITCWND
	rtaxFeatures         = 12 // RTAX_FEATURES
	rtaxRTOMin           = 13 // RTAX_RTO_MIN
	rtaxInitRWnd         = 14 // RTAX_INITRWND
	rtaxQuickAck         = 15 // RTAX_QUICKACK
	rtaxCCAlgo           = 16 // RTAX_CC_ALGO
	rtaxFastOpenNoCookie = 17 // RTAX_FASTOPEN_NO_COOKIE
)

// Address families routes come in.
const (
	rtAFInet  = 2   // AF_INET
	rtAFInet6 = 10  // AF_INET6
	rtAFIPMR  = 128 // RTNL_FAMILY_IPMR: IPv4 multicast routes
	rtAFIP6MR = 129 // RTNL_FAMILY_IP6MR: IPv6 multicast routes
)

const (
	rtNextHopLen   = 8  // sizeof(struct rtnexthop)
	rtCacheInfoLen = 32 // sizeof(struct rta_cacheinfo)
	rtUserHZ       = 100
)

// Routing tables (enum rt_class_t). Any number up to 2^32-1 names a
// table; these have names.
const (
	// TableAll (RT_TABLE_UNSPEC) in a RouteFilter selects every table.
	TableAll     uint32 = 0
	TableDefault uint32 = 253 // RT_TABLE_DEFAULT
	TableMain    uint32 = 254 // RT_TABLE_MAIN: where routes go by default
	TableLocal   uint32 = 255 // RT_TABLE_LOCAL: local and broadcast addresses
)

// RouteTableName returns a table as ip names it: "main", "local",
// "default", or the number.
func RouteTableName(id uint32) string {
	switch id {
	case TableMain:
		return "main"
	case TableLocal:
		return "local"
	case TableDefault:
		return "default"
	case TableAll:
		return "unspec"
	}
	return strconv.FormatUint(uint64(id), 10)
}

// ParseRouteTable parses a table as ip does: "main", "local", "default",
// "all" (TableAll) or a number.
func ParseRouteTable(s string) (uint32, error) {
	switch s {
	case "main":
		return TableMain, nil
	case "local":
		return TableLocal, nil
	case "default":
		return TableDefault, nil
	case "all", "unspec":
		return TableAll, nil
	}
	v, err := strconv.ParseUint(s, 0, 32)
	if err != nil {
		return 0, fmt.Errorf("rtnl: unknown routing table %q: want main, local, default, all or a number", s)
	}
	return uint32(v), nil
}

// RouteProtocol says who installed a route (rtm_protocol, RTPROT_*).
type RouteProtocol uint8

// Route protocols; the names are those of iproute2's rt_protos.
const (
	RouteProtoUnspec     RouteProtocol = 0   // RTPROT_UNSPEC
	RouteProtoRedirect   RouteProtocol = 1   // RTPROT_REDIRECT: ICMP redirect (unused)
	RouteProtoKernel     RouteProtocol = 2   // RTPROT_KERNEL: installed by the kernel
	RouteProtoBoot       RouteProtocol = 3   // RTPROT_BOOT: installed during boot; ip's default
	RouteProtoStatic     RouteProtocol = 4   // RTPROT_STATIC: installed by the administrator
	RouteProtoGated      RouteProtocol = 8   // RTPROT_GATED
	RouteProtoRA         RouteProtocol = 9   // RTPROT_RA: router advertisement
	RouteProtoMRT        RouteProtocol = 10  // RTPROT_MRT
	RouteProtoZebra      RouteProtocol = 11  // RTPROT_ZEBRA
	RouteProtoBird       RouteProtocol = 12  // RTPROT_BIRD
	RouteProtoDNRouted   RouteProtocol = 13  // RTPROT_DNROUTED
	RouteProtoXORP       RouteProtocol = 14  // RTPROT_XORP
	RouteProtoNTK        RouteProtocol = 15  // RTPROT_NTK
	RouteProtoDHCP       RouteProtocol = 16  // RTPROT_DHCP
	RouteProtoKeepalived RouteProtocol = 18  // RTPROT_KEEPALIVED
	RouteProtoBabel      RouteProtocol = 42  // RTPROT_BABEL
	RouteProtoOpenR      RouteProtocol = 99  // RTPROT_OPENR
	RouteProtoBGP        RouteProtocol = 186 // RTPROT_BGP
	RouteProtoISIS       RouteProtocol = 187 // RTPROT_ISIS
	RouteProtoOSPF       RouteProtocol = 188 // RTPROT_OSPF
	RouteProtoRIP        RouteProtocol = 189 // RTPROT_RIP
	RouteProtoEIGRP      RouteProtocol = 192 // RTPROT_EIGRP
)

var routeProtoNames = map[RouteProtocol]string{
	RouteProtoUnspec: "unspec", RouteProtoRedirect: "redirect", RouteProtoKernel: "kernel",
	RouteProtoBoot: "boot", RouteProtoStatic: "static", RouteProtoGated: "gated", RouteProtoRA: "ra",
	RouteProtoMRT: "mrt", RouteProtoZebra: "zebra", RouteProtoBird: "bird", RouteProtoDNRouted: "dnrouted",
	RouteProtoXORP: "xorp", RouteProtoNTK: "ntk", RouteProtoDHCP: "dhcp", RouteProtoKeepalived: "keepalived",
	RouteProtoBabel: "babel", RouteProtoOpenR: "openr", RouteProtoBGP: "bgp", RouteProtoISIS: "isis",
	RouteProtoOSPF: "ospf", RouteProtoRIP: "rip", RouteProtoEIGRP: "eigrp",
}

// String returns the protocol as ip shows it ("kernel", "static", ...)
// or its number.
func (p RouteProtocol) String() string {
	if s, ok := routeProtoNames[p]; ok {
		return s
	}
	return strconv.Itoa(int(p))
}

// ParseRouteProtocol parses a protocol name as ip knows it ("static",
// "dhcp", ...) or a number from 0 to 255.
func ParseRouteProtocol(s string) (RouteProtocol, error) {
	for p, name := range routeProtoNames {
		if name == s {
			return p, nil
		}
	}
	v, err := strconv.ParseUint(s, 0, 8)
	if err != nil {
		return 0, fmt.Errorf("rtnl: unknown route protocol %q: want kernel, boot, static, dhcp, ... or 0-255", s)
	}
	return RouteProtocol(v), nil
}

// RouteType is the kind of a route (rtm_type, RTN_*).
type RouteType uint8

// Route types.
const (
	RouteTypeUnspec      RouteType = 0  // RTN_UNSPEC
	RouteTypeUnicast     RouteType = 1  // RTN_UNICAST: a gateway or direct route
	RouteTypeLocal       RouteType = 2  // RTN_LOCAL: a local address
	RouteTypeBroadcast   RouteType = 3  // RTN_BROADCAST: sent as link broadcast
	RouteTypeAnycast     RouteType = 4  // RTN_ANYCAST: a local anycast address
	RouteTypeMulticast   RouteType = 5  // RTN_MULTICAST
	RouteTypeBlackhole   RouteType = 6  // RTN_BLACKHOLE: drop silently
	RouteTypeUnreachable RouteType = 7  // RTN_UNREACHABLE: drop with "host unreachable"
	RouteTypeProhibit    RouteType = 8  // RTN_PROHIBIT: drop with "administratively prohibited"
	RouteTypeThrow       RouteType = 9  // RTN_THROW: continue the lookup in the next rule
	RouteTypeNAT         RouteType = 10 // RTN_NAT: stateless NAT (obsolete)
	RouteTypeXResolve    RouteType = 11 // RTN_XRESOLVE: external resolver (unused)
)

var routeTypeNames = [...]string{
	"none", "unicast", "local", "broadcast", "anycast", "multicast", "blackhole",
	"unreachable", "prohibit", "throw", "nat", "xresolve",
}

// String returns the type as ip shows it ("unicast", "blackhole", ...;
// "none" for RTN_UNSPEC) or its number.
func (t RouteType) String() string {
	if int(t) < len(routeTypeNames) {
		return routeTypeNames[t]
	}
	return strconv.Itoa(int(t))
}

// ParseRouteType parses a route type as ip names it ("unicast",
// "blackhole", ...) or a number.
func ParseRouteType(s string) (RouteType, error) {
	for i, name := range routeTypeNames {
		if name == s {
			return RouteType(i), nil
		}
	}
	v, err := strconv.ParseUint(s, 0, 8)
	if err != nil {
		return 0, fmt.Errorf("rtnl: unknown route type %q: want unicast, local, broadcast, anycast, multicast, blackhole, unreachable, prohibit, throw or nat", s)
	}
	return RouteType(v), nil
}

// RouteFlags are a route's flags (rtm_flags): next-hop flags (RTNH_F_*)
// in the low byte, route flags (RTM_F_*) above, and for IPv4 cache
// entries the RTCF_* flags in the top 16 bits (see CacheNames).
type RouteFlags uint32

// Route and next-hop flags.
const (
	RouteFlagDead            RouteFlags = 0x1        // RTNH_F_DEAD: the next hop is dead
	RouteFlagPervasive       RouteFlags = 0x2        // RTNH_F_PERVASIVE: recursive gateway lookup
	RouteFlagOnLink          RouteFlags = 0x4        // RTNH_F_ONLINK: the gateway is on the link even if no prefix says so
	RouteFlagOffload         RouteFlags = 0x8        // RTNH_F_OFFLOAD: offloaded to hardware
	RouteFlagLinkDown        RouteFlags = 0x10       // RTNH_F_LINKDOWN: the carrier is down
	RouteFlagUnresolved      RouteFlags = 0x20       // RTNH_F_UNRESOLVED: the gateway is not resolved
	RouteFlagTrap            RouteFlags = 0x40       // RTNH_F_TRAP: trapped by hardware
	RouteFlagNotify          RouteFlags = 0x100      // RTM_F_NOTIFY: notify the user of changes
	RouteFlagCloned          RouteFlags = 0x200      // RTM_F_CLONED: a cached (exception) route
	RouteFlagEqualize        RouteFlags = 0x400      // RTM_F_EQUALIZE: multipath equalizer (unused)
	RouteFlagPrefix          RouteFlags = 0x800      // RTM_F_PREFIX: a prefix address route
	RouteFlagLookupTable     RouteFlags = 0x1000     // RTM_F_LOOKUP_TABLE: report the table of a lookup
	RouteFlagFIBMatch        RouteFlags = 0x2000     // RTM_F_FIB_MATCH: report the matching FIB entry
	RouteFlagRouteOffload    RouteFlags = 0x4000     // RTM_F_OFFLOAD: the route is offloaded
	RouteFlagRouteTrap       RouteFlags = 0x8000     // RTM_F_TRAP: the route is trapped
	RouteFlagOffloadFailed   RouteFlags = 0x20000000 // RTM_F_OFFLOAD_FAILED: offloading failed
	routeFlagNextHopMask     RouteFlags = 0xff
	routeFlagCacheFlagsShift            = 16
)

// The names and order in which ip prints flags (print_rt_flags).
var routeFlagNames = []struct {
	f    RouteFlags
	name string
}{
	{RouteFlagDead, "dead"}, {RouteFlagOnLink, "onlink"}, {RouteFlagPervasive, "pervasive"},
	{RouteFlagOffload, "offload"}, {RouteFlagTrap, "trap"}, {RouteFlagNotify, "notify"},
	{RouteFlagLinkDown, "linkdown"}, {RouteFlagUnresolved, "unresolved"},
	{RouteFlagRouteOffload, "rt_offload"}, {RouteFlagRouteTrap, "rt_trap"},
	{RouteFlagOffloadFailed, "rt_offload_failed"},
}

// Names returns the flags ip prints, in its order ("onlink", "linkdown",
// ...); bits ip does not print (RTM_F_CLONED, cache flags) are left out.
// It returns an empty, non-nil slice when there are none.
func (f RouteFlags) Names() []string {
	names := []string{}
	for _, n := range routeFlagNames {
		if f&n.f != 0 {
			names = append(names, n.name)
		}
	}
	return names
}

// String returns Names joined with commas.
func (f RouteFlags) String() string { return strings.Join(f.Names(), ",") }

// IPv4 routing cache flags (RTCF_* in linux/in_route.h), in the top
// bits of rtm_flags of a cloned route, in ip's order.
var routeCacheFlagNames = []struct {
	f    RouteFlags
	name string
}{
	{0x80000000, "local"}, {0x40000000, "reject"}, {0x20000000, "mc"}, {0x10000000, "brd"},
	{0x08000000, "dst-nat"}, {0x00800000, "src-nat"}, {0x00400000, "masq"},
	{0x00020000, "dst-direct"}, {0x04000000, "src-direct"}, {0x00040000, "redirected"},
	{0x01000000, "redirect"}, {0x00200000, "fastroute"}, {0x00010000, "notify"},
	{0x00080000, "proxy"},
}

// CacheNames returns the IPv4 routing cache flags (RTCF_*) of a cloned
// route as `ip route get` lists them after "cache" ("local", "redirect",
// ...), unknown bits as one hexadecimal number. It is meaningful only
// when RouteFlagCloned is set on an IPv4 route; it returns an empty,
// non-nil slice when there are none.
func (f RouteFlags) CacheNames() []string {
	names := []string{}
	f &^= 1<<routeFlagCacheFlagsShift - 1
	for _, n := range routeCacheFlagNames {
		if f&n.f != 0 {
			names = append(names, n.name)
			f &^= n.f
		}
	}
	if f != 0 {
		names = append(names, strconv.FormatUint(uint64(f), 16))
	}
	return names
}

// RoutePref is an IPv6 router preference (RTA_PREF, RFC 4191
// ICMPV6_ROUTER_PREF_*). The zero value is medium.
type RoutePref uint8

// IPv6 route preferences.
const (
	RoutePrefMedium RoutePref = 0 // ICMPV6_ROUTER_PREF_MEDIUM
	RoutePrefHigh   RoutePref = 1 // ICMPV6_ROUTER_PREF_HIGH
	RoutePrefLow    RoutePref = 3 // ICMPV6_ROUTER_PREF_LOW
)

// String returns the preference as ip shows it ("low", "medium",
// "high") or its number.
func (p RoutePref) String() string {
	switch p {
	case RoutePrefMedium:
		return "medium"
	case RoutePrefHigh:
		return "high"
	case RoutePrefLow:
		return "low"
	}
	return strconv.Itoa(int(p))
}

// MetricLocks says which metrics of a route the kernel must not change
// on its own, for example from path MTU discovery (RTAX_LOCK: bit 1<<n
// locks metric RTAX_n).
type MetricLocks uint32

// Metric locks ("mtu lock 1400" in ip).
const (
	LockMTU        MetricLocks = 1 << rtaxMTU
	LockWindow     MetricLocks = 1 << rtaxWindow
	LockRTT        MetricLocks = 1 << rtaxRTT
	LockRTTVar     MetricLocks = 1 << rtaxRTTVar
	LockSSThresh   MetricLocks = 1 << rtaxSSThresh
	LockCWnd       MetricLocks = 1 << rtaxCWnd
	LockAdvMSS     MetricLocks = 1 << rtaxAdvMSS
	LockReordering MetricLocks = 1 << rtaxReordering
	LockHopLimit   MetricLocks = 1 << rtaxHopLimit
	LockInitCWnd   MetricLocks = 1 << rtaxInitCWnd
	LockRTOMin     MetricLocks = 1 << rtaxRTOMin
	LockInitRWnd   MetricLocks = 1 << rtaxInitRWnd
	LockCongestion MetricLocks = 1 << rtaxCCAlgo
)

// RouteMetrics are a route's TCP and path metrics (RTA_METRICS, nested
// RTAX_* attributes). A zero field is absent: the kernel's default.
type RouteMetrics struct {
	Lock       MetricLocks   // RTAX_LOCK
	MTU        uint32        // RTAX_MTU: path MTU
	Window     uint32        // RTAX_WINDOW: TCP window clamp
	RTT        time.Duration // RTAX_RTT: initial round-trip time (kernel unit: 1/8 ms)
	RTTVar     time.Duration // RTAX_RTTVAR: initial RTT variance (kernel unit: 1/4 ms)
	SSThresh   uint32        // RTAX_SSTHRESH: initial slow-start threshold
	CWnd       uint32        // RTAX_CWND: congestion window clamp
	AdvMSS     uint32        // RTAX_ADVMSS: MSS advertised to peers
	Reordering uint32        // RTAX_REORDERING: initial reordering estimate
	HopLimit   uint32        // RTAX_HOPLIMIT: TTL / hop limit
	InitCWnd   uint32        // RTAX_INITCWND: initial congestion window
	Features   uint32        // RTAX_FEATURES: RTAX_FEATURE_* (1 = ECN)
	RTOMin     time.Duration // RTAX_RTO_MIN: minimum TCP retransmission timeout (kernel unit: ms)
	InitRWnd   uint32        // RTAX_INITRWND: initial receive window
	QuickAck   uint32        // RTAX_QUICKACK: 1 disables delayed ACKs
	// CongestionControl is the TCP congestion control algorithm
	// (RTAX_CC_ALGO), such as "bbr".
	CongestionControl string
	FastOpenNoCookie  uint32 // RTAX_FASTOPEN_NO_COOKIE
}

// NextHop is one path of a multipath route (struct rtnexthop and its
// attributes in RTA_MULTIPATH).
type NextHop struct {
	// Gateway is the next router (RTA_GATEWAY), or an IPv6 gateway of an
	// IPv4 route (RTA_VIA).
	Gateway netip.Addr
	// OutIndex is the outgoing interface (rtnh_ifindex).
	OutIndex int32
	// Weight is the share of traffic of this path, from 1 to 256
	// (rtnh_hops + 1).
	Weight int
	// Flags are next-hop flags, RTNH_F_* (rtnh_flags): RouteFlagOnLink,
	// RouteFlagDead, RouteFlagLinkDown, ...
	Flags RouteFlags
}

// Route is an entry of a routing table (struct rtmsg and RTA_*
// attributes). Zero fields are absent: MarshalBinary omits them and
// UnmarshalBinary leaves them zero when the kernel did not send them.
//
// A Route is flat: decoding one allocates nothing beyond the Route itself
// except MultiPath and Metrics, when present.
type Route struct {
	// Family is the address family (rtm_family): 2 (AF_INET) or 10
	// (AF_INET6). When zero, requests take it from Dst.
	Family uint8
	// Dst is the destination (RTA_DST and rtm_dst_len). The default route
	// is 0.0.0.0/0 or ::/0. For families other than IPv4 and IPv6 (MPLS)
	// the address fields are left zero.
	Dst netip.Prefix
	// Src is the source prefix of a source-specific route, or the source
	// address of a lookup (RTA_SRC and rtm_src_len); invalid if absent.
	Src netip.Prefix
	// TOS is the type of service the route matches (rtm_tos).
	TOS uint8
	// Table is the routing table (rtm_table, and RTA_TABLE for tables
	// above 255): TableMain, TableLocal or any number.
	Table    uint32
	Protocol RouteProtocol // rtm_protocol
	Scope    Scope         // rtm_scope
	Type     RouteType     // rtm_type
	Flags    RouteFlags    // rtm_flags
	// Priority is the route's metric (RTA_PRIORITY): lower wins.
	Priority uint32
	// PrefSrc is the source address preferred for traffic sent along
	// the route (RTA_PREFSRC).
	PrefSrc netip.Addr
	// Gateway is the next router (RTA_GATEWAY). An IPv6 gateway of an
	// IPv4 route is sent as RTA_VIA (RFC 5549).
	Gateway netip.Addr
	// OutIndex is the outgoing interface (RTA_OIF).
	OutIndex int32
	// InIndex is the incoming interface of a lookup (RTA_IIF).
	InIndex int32
	// Mark is the firewall mark of a lookup (RTA_MARK).
	Mark uint32
	// UID is the user of a lookup (RTA_UID), if HasUID.
	UID    uint32
	HasUID bool
	// Pref is the IPv6 router preference (RTA_PREF).
	Pref RoutePref
	// Expires is the time left before an IPv6 route expires (from
	// RTA_CACHEINFO; sent as RTA_EXPIRES in whole seconds).
	Expires time.Duration
	// NextHopID is the nexthop object the route uses (RTA_NH_ID), as
	// `ip nexthop` manages them.
	NextHopID uint32
	// MultiPath are the paths of a multipath route (RTA_MULTIPATH).
	MultiPath []NextHop
	// Metrics are the route's metrics (RTA_METRICS), nil if none.
	Metrics *RouteMetrics
}

// routeAddrLen returns the address size of a route family, or 0 for a
// family whose addresses are not IP addresses.
func routeAddrLen(family uint8) int {
	switch family {
	case rtAFInet, rtAFIPMR:
		return 4
	case rtAFInet6, rtAFIP6MR:
		return 16
	}
	return 0
}

// family returns r.Family, or the family of r.Dst when zero.
func (r *Route) family() uint8 {
	if r.Family != 0 || !r.Dst.IsValid() {
		return r.Family
	}
	if r.Dst.Addr().Is4() {
		return rtAFInet
	}
	return rtAFInet6
}

// appendAttr appends an attribute with a raw payload to b, padded.
func appendAttr(b []byte, typ uint16, data []byte) []byte {
	b = binary.NativeEndian.AppendUint16(b, uint16(netlink.AttrHeaderLen+len(data)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func appendAttrU32(b []byte, typ uint16, v uint32) []byte {
	b = binary.NativeEndian.AppendUint16(b, netlink.AttrHeaderLen+4)
	b = binary.NativeEndian.AppendUint16(b, typ)
	return binary.NativeEndian.AppendUint32(b, v)
}

// addrBytes returns a as n bytes (4 or 16), or false if it is of the
// other family.
func addrBytes(a netip.Addr, n int) ([16]byte, int, bool) {
	var out [16]byte
	switch {
	case n == 4 && a.Is4():
		v := a.As4()
		copy(out[:], v[:])
		return out, 4, true
	case n == 16 && a.Is6():
		return a.As16(), 16, true
	case n == 0 && a.Is4():
		v := a.As4()
		copy(out[:], v[:])
		return out, 4, true
	case n == 0 && a.Is6():
		return a.As16(), 16, true
	}
	return out, 0, false
}

// appendPrefix appends the address of p as attribute typ; it fails if p
// is not of the route's family. (A function, not a closure over b: the
// closure cost a third of MarshalBinary, BenchmarkRouteMarshal.)
func appendPrefix(b []byte, typ uint16, what string, p netip.Prefix, fam uint8, alen int) ([]byte, error) {
	v, n, ok := addrBytes(p.Addr(), alen)
	if !ok {
		return nil, fmt.Errorf("%s %s is not %s", what, p, familyName(fam))
	}
	return appendAttr(b, typ, v[:n]), nil
}

// appendGateway appends a as RTA_GATEWAY when it has the route's family,
// and as RTA_VIA (struct rtvia) otherwise.
func appendGateway(b []byte, a netip.Addr, alen int) []byte {
	if v, n, ok := addrBytes(a, alen); ok && alen != 0 {
		return appendAttr(b, rtaGateway, v[:n])
	}
	var via [18]byte
	if a.Is4() {
		binary.NativeEndian.PutUint16(via[:], rtAFInet)
		v := a.As4()
		copy(via[2:], v[:])
		return appendAttr(b, rtaVia, via[:6])
	}
	binary.NativeEndian.PutUint16(via[:], rtAFInet6)
	v := a.As16()
	copy(via[2:], v[:])
	return appendAttr(b, rtaVia, via[:18])
}

func familyName(family uint8) string {
	switch family {
	case rtAFInet:
		return "IPv4"
	case rtAFInet6:
		return "IPv6"
	}
	return fmt.Sprintf("family %d", family)
}

// MarshalBinary encodes r as the payload of an RTM_*ROUTE message. The
// family is r.Family, or Dst's when zero. The table goes in RTA_TABLE
// and, when below 256, also in rtm_table (RT_TABLE_UNSPEC otherwise), as
// iproute2 does. It applies no defaults and few checks: Client methods
// validate routes before sending them.
func (r *Route) MarshalBinary() ([]byte, error) {
	// An IPv4 route with a gateway, a device, a source and a metric
	// takes 60 bytes: 64 saves half of a batch's memory per route.
	size := 128
	if routeAddrLen(r.family()) == 4 && r.MultiPath == nil && r.Metrics == nil {
		size = 64
	}
	b, err := r.appendBinary(make([]byte, rtMsgLen, size))
	if err != nil {
		return nil, fmt.Errorf("rtnl: encode route %s: %w", r.Dst, err)
	}
	return b, nil
}

func (r *Route) appendBinary(b []byte) ([]byte, error) {
	fam := r.family()
	alen := routeAddrLen(fam)
	b[0] = fam
	if r.Dst.IsValid() {
		b[1] = uint8(r.Dst.Bits())
	}
	if r.Src.IsValid() {
		b[2] = uint8(r.Src.Bits())
	}
	b[3] = r.TOS
	if r.Table < 256 {
		b[4] = uint8(r.Table)
	}
	b[5] = uint8(r.Protocol)
	b[6] = uint8(r.Scope)
	b[7] = uint8(r.Type)
	binary.NativeEndian.PutUint32(b[8:], uint32(r.Flags))

	var err error
	if r.Dst.IsValid() && (r.Dst.Bits() > 0 || !r.Dst.Addr().IsUnspecified()) {
		if b, err = appendPrefix(b, rtaDst, "destination", r.Dst, fam, alen); err != nil {
			return nil, err
		}
	}
	if r.Src.IsValid() {
		if b, err = appendPrefix(b, rtaSrc, "source", r.Src, fam, alen); err != nil {
			return nil, err
		}
	}
	if r.Table != 0 {
		b = appendAttrU32(b, rtaTable, r.Table)
	}
	if r.InIndex != 0 {
		b = appendAttrU32(b, rtaIIF, uint32(r.InIndex))
	}
	if r.OutIndex != 0 {
		b = appendAttrU32(b, rtaOIF, uint32(r.OutIndex))
	}
	if r.Gateway.IsValid() {
		b = appendGateway(b, r.Gateway, alen)
	}
	if r.Priority != 0 {
		b = appendAttrU32(b, rtaPriority, r.Priority)
	}
	if r.PrefSrc.IsValid() {
		v, n, ok := addrBytes(r.PrefSrc, alen)
		if !ok {
			return nil, fmt.Errorf("preferred source %s is not %s", r.PrefSrc, familyName(fam))
		}
		b = appendAttr(b, rtaPrefSrc, v[:n])
	}
	if r.Mark != 0 {
		b = appendAttrU32(b, rtaMark, r.Mark)
	}
	if r.HasUID {
		b = appendAttrU32(b, rtaUID, r.UID)
	}
	if r.Pref != 0 {
		b = appendAttr(b, rtaPref, []byte{uint8(r.Pref)})
	}
	if r.Expires > 0 {
		s := (r.Expires + time.Second - 1) / time.Second
		if s > math.MaxUint32 {
			return nil, fmt.Errorf("expires %v out of range", r.Expires)
		}
		b = appendAttrU32(b, rtaExpires, uint32(s))
	}
	if r.NextHopID != 0 {
		b = appendAttrU32(b, rtaNHID, r.NextHopID)
	}
	if r.Metrics != nil {
		mx, err := r.Metrics.appendAttrs(make([]byte, 0, 64))
		if err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
		if netlink.AttrHeaderLen+len(mx) > math.MaxUint16 {
			return nil, errors.New("metrics too long")
		}
		b = appendAttr(b, rtaMetrics, mx)
	}
	if r.MultiPath != nil {
		mp, err := appendNextHops(make([]byte, 0, len(r.MultiPath)*(rtNextHopLen+20)), r.MultiPath, alen)
		if err != nil {
			return nil, err
		}
		if netlink.AttrHeaderLen+len(mp) > math.MaxUint16 {
			return nil, fmt.Errorf("%d next hops do not fit in one attribute", len(r.MultiPath))
		}
		b = appendAttr(b, rtaMultipath, mp)
	}
	return b, nil
}

func appendNextHops(b []byte, hops []NextHop, alen int) ([]byte, error) {
	for i, nh := range hops {
		if nh.Weight < 1 || nh.Weight > 256 {
			return nil, fmt.Errorf("next hop %d: weight %d out of range 1-256", i+1, nh.Weight)
		}
		if nh.Flags&^routeFlagNextHopMask != 0 {
			return nil, fmt.Errorf("next hop %d: flags %#x are not next-hop flags (RTNH_F_*)", i+1, uint32(nh.Flags))
		}
		start := len(b)
		b = append(b, 0, 0, uint8(nh.Flags), uint8(nh.Weight-1))
		b = binary.NativeEndian.AppendUint32(b, uint32(nh.OutIndex))
		if nh.Gateway.IsValid() {
			b = appendGateway(b, nh.Gateway, alen)
		}
		if len(b)-start > math.MaxUint16 {
			return nil, fmt.Errorf("next hop %d too long", i+1)
		}
		binary.NativeEndian.PutUint16(b[start:], uint16(len(b)-start))
	}
	return b, nil
}

// durationUnits converts d to a count of unit for a metric.
func durationUnits(what string, d, unit time.Duration) (uint32, error) {
	if d < 0 || d/unit > math.MaxUint32 {
		return 0, fmt.Errorf("%s %v out of range", what, d)
	}
	return uint32(d / unit), nil
}

func (m *RouteMetrics) appendAttrs(b []byte) ([]byte, error) {
	u32 := func(typ uint16, v uint32) {
		if v != 0 {
			b = appendAttrU32(b, typ, v)
		}
	}
	rtt, err := durationUnits("rtt", m.RTT, time.Millisecond/8)
	if err != nil {
		return nil, err
	}
	rttvar, err := durationUnits("rttvar", m.RTTVar, time.Millisecond/4)
	if err != nil {
		return nil, err
	}
	rtomin, err := durationUnits("rto_min", m.RTOMin, time.Millisecond)
	if err != nil {
		return nil, err
	}
	u32(rtaxLock, uint32(m.Lock))
	u32(rtaxMTU, m.MTU)
	u32(rtaxWindow, m.Window)
	u32(rtaxRTT, rtt)
	u32(rtaxRTTVar, rttvar)
	u32(rtaxSSThresh, m.SSThresh)
	u32(rtaxCWnd, m.CWnd)
	u32(rtaxAdvMSS, m.AdvMSS)
	u32(rtaxReordering, m.Reordering)
	u32(rtaxHopLimit, m.HopLimit)
	u32(rtaxInitCWnd, m.InitCWnd)
	u32(rtaxFeatures, m.Features)
	u32(rtaxRTOMin, rtomin)
	u32(rtaxInitRWnd, m.InitRWnd)
	u32(rtaxQuickAck, m.QuickAck)
	if m.CongestionControl != "" {
		if len(m.CongestionControl) > 255 {
			return nil, fmt.Errorf("congestion control name of %d bytes", len(m.CongestionControl))
		}
		b = appendAttr(b, rtaxCCAlgo, append([]byte(m.CongestionControl), 0))
	}
	u32(rtaxFastOpenNoCookie, m.FastOpenNoCookie)
	return b, nil
}

// routeAddr decodes an address attribute of a route of family size alen.
func routeAddr(d *netlink.AttributeDecoder, alen int, what string) (netip.Addr, error) {
	if d.Len() != alen {
		return netip.Addr{}, fmt.Errorf("%w: %s of %d bytes, want %d", netlink.ErrAttribute, what, d.Len(), alen)
	}
	return d.Addr(), nil
}

// decodeVia decodes struct rtvia. Families other than IPv4 and IPv6
// (AF_PACKET for MPLS) give an invalid address.
func decodeVia(b []byte) (netip.Addr, error) {
	if len(b) < 2 {
		return netip.Addr{}, fmt.Errorf("%w: RTA_VIA of %d bytes", netlink.ErrAttribute, len(b))
	}
	fam, addr := binary.NativeEndian.Uint16(b), b[2:]
	switch {
	case fam == rtAFInet && len(addr) == 4:
		return netip.AddrFrom4([4]byte(addr)), nil
	case fam == rtAFInet6 && len(addr) == 16:
		return netip.AddrFrom16([16]byte(addr)), nil
	case fam == rtAFInet || fam == rtAFInet6:
		return netip.Addr{}, fmt.Errorf("%w: RTA_VIA of family %d with a %d-byte address", netlink.ErrAttribute, fam, len(addr))
	}
	return netip.Addr{}, nil
}

// UnmarshalBinary decodes the payload of an RTM_NEWROUTE (or
// RTM_DELROUTE) message into r. r does not alias b.
func (r *Route) UnmarshalBinary(b []byte) error {
	if err := r.unmarshal(b); err != nil {
		return fmt.Errorf("rtnl: decode route: %w", err)
	}
	return nil
}

func (r *Route) unmarshal(b []byte) error {
	if len(b) < rtMsgLen {
		return fmt.Errorf("%d bytes, shorter than rtmsg", len(b))
	}
	// Cleared, then set field by field: a Route literal assigned to *r
	// is built on the stack and copied, and the copy stalled for a
	// quarter of the decoding time (BenchmarkRouteDecode).
	*r = Route{}
	r.Family, r.TOS, r.Table = b[0], b[3], uint32(b[4])
	r.Protocol, r.Scope, r.Type = RouteProtocol(b[5]), Scope(b[6]), RouteType(b[7])
	r.Flags = RouteFlags(binary.NativeEndian.Uint32(b[8:]))
	dstLen, srcLen := int(b[1]), int(b[2])
	alen := routeAddrLen(r.Family)
	var dst, src netip.Addr
	haveSrc := false
	var err error
	var d netlink.AttributeDecoder
	d.Reset(b[rtMsgLen:])
	for err == nil && d.Next() {
		switch d.Type() {
		case rtaDst:
			if alen != 0 {
				dst, err = routeAddr(&d, alen, "RTA_DST")
			}
		case rtaSrc:
			if alen != 0 {
				src, err = routeAddr(&d, alen, "RTA_SRC")
				haveSrc = true
			}
		case rtaGateway:
			if alen != 0 {
				r.Gateway, err = routeAddr(&d, alen, "RTA_GATEWAY")
			}
		case rtaVia:
			r.Gateway, err = decodeVia(d.Bytes())
		case rtaPrefSrc:
			if alen != 0 {
				r.PrefSrc, err = routeAddr(&d, alen, "RTA_PREFSRC")
			}
		case rtaTable:
			r.Table = d.Uint32()
		case rtaOIF:
			r.OutIndex = d.Int32()
		case rtaIIF:
			r.InIndex = d.Int32()
		case rtaPriority:
			r.Priority = d.Uint32()
		case rtaMark:
			r.Mark = d.Uint32()
		case rtaUID:
			r.UID, r.HasUID = d.Uint32(), true
		case rtaPref:
			r.Pref = RoutePref(d.Uint8())
		case rtaNHID:
			r.NextHopID = d.Uint32()
		case rtaExpires:
			r.Expires = time.Duration(d.Uint32()) * time.Second
		case rtaCacheInfo:
			// struct rta_cacheinfo: rta_expires (s32, in USER_HZ ticks)
			// is its third field.
			if c := d.Bytes(); len(c) >= 12 {
				if e := int32(binary.NativeEndian.Uint32(c[8:])); e > 0 {
					r.Expires = time.Duration(e) * (time.Second / rtUserHZ)
				}
			} else {
				err = fmt.Errorf("%w: RTA_CACHEINFO of %d bytes", netlink.ErrAttribute, len(c))
			}
		case rtaMetrics:
			r.Metrics = new(RouteMetrics)
			err = r.Metrics.unmarshal(d.Bytes())
		case rtaMultipath:
			r.MultiPath, err = unmarshalNextHops(d.Bytes(), alen)
		}
	}
	if err == nil {
		err = d.Err()
	}
	if err != nil {
		return err
	}
	if alen == 0 {
		return nil
	}
	if !dst.IsValid() {
		dst = zeroAddr(alen)
	}
	if dstLen > alen*8 {
		return fmt.Errorf("rtm_dst_len %d exceeds %d bits", dstLen, alen*8)
	}
	r.Dst = netip.PrefixFrom(dst, dstLen)
	if haveSrc || srcLen != 0 {
		if !src.IsValid() {
			src = zeroAddr(alen)
		}
		if srcLen > alen*8 {
			return fmt.Errorf("rtm_src_len %d exceeds %d bits", srcLen, alen*8)
		}
		r.Src = netip.PrefixFrom(src, srcLen)
	}
	return nil
}

func zeroAddr(alen int) netip.Addr {
	if alen == 4 {
		return netip.IPv4Unspecified()
	}
	return netip.IPv6Unspecified()
}

// unmarshalNextHops decodes the rtnexthop structures of RTA_MULTIPATH
// into one exactly sized slice.
func unmarshalNextHops(b []byte, alen int) ([]NextHop, error) {
	n := 0
	for rest := b; len(rest) > 0; n++ {
		if len(rest) < rtNextHopLen {
			return nil, fmt.Errorf("%w: RTA_MULTIPATH: %d trailing bytes", netlink.ErrAttribute, len(rest))
		}
		l := int(binary.NativeEndian.Uint16(rest))
		if l < rtNextHopLen || l > len(rest) {
			return nil, fmt.Errorf("%w: RTA_MULTIPATH: next hop of length %d, %d bytes remain", netlink.ErrAttribute, l, len(rest))
		}
		rest = rest[min(netlink.Align(l), len(rest)):]
	}
	hops := make([]NextHop, n)
	for i := range hops {
		l := int(binary.NativeEndian.Uint16(b))
		nh := &hops[i]
		nh.Flags = RouteFlags(b[2])
		nh.Weight = int(b[3]) + 1
		nh.OutIndex = int32(binary.NativeEndian.Uint32(b[4:]))
		var d netlink.AttributeDecoder
		d.Reset(b[rtNextHopLen:l])
		var err error
		for err == nil && d.Next() {
			switch d.Type() {
			case rtaGateway:
				if alen != 0 {
					nh.Gateway, err = routeAddr(&d, alen, "RTA_GATEWAY")
				}
			case rtaVia:
				nh.Gateway, err = decodeVia(d.Bytes())
			}
		}
		if err == nil {
			err = d.Err()
		}
		if err != nil {
			return nil, fmt.Errorf("next hop %d: %w", i+1, err)
		}
		b = b[min(netlink.Align(l), len(b)):]
	}
	return hops, nil
}

func (m *RouteMetrics) unmarshal(b []byte) error {
	var d netlink.AttributeDecoder
	d.Reset(b)
	for d.Next() {
		switch d.Type() {
		case rtaxLock:
			m.Lock = MetricLocks(d.Uint32())
		case rtaxMTU:
			m.MTU = d.Uint32()
		case rtaxWindow:
			m.Window = d.Uint32()
		case rtaxRTT:
			m.RTT = time.Duration(d.Uint32()) * (time.Millisecond / 8)
		case rtaxRTTVar:
			m.RTTVar = time.Duration(d.Uint32()) * (time.Millisecond / 4)
		case rtaxSSThresh:
			m.SSThresh = d.Uint32()
		case rtaxCWnd:
			m.CWnd = d.Uint32()
		case rtaxAdvMSS:
			m.AdvMSS = d.Uint32()
		case rtaxReordering:
			m.Reordering = d.Uint32()
		case rtaxHopLimit:
			m.HopLimit = d.Uint32()
		case rtaxInitCWnd:
			m.InitCWnd = d.Uint32()
		case rtaxFeatures:
			m.Features = d.Uint32()
		case rtaxRTOMin:
			m.RTOMin = time.Duration(d.Uint32()) * time.Millisecond
		case rtaxInitRWnd:
			m.InitRWnd = d.Uint32()
		case rtaxQuickAck:
			m.QuickAck = d.Uint32()
		case rtaxCCAlgo:
			m.CongestionControl = d.String()
		case rtaxFastOpenNoCookie:
			m.FastOpenNoCookie = d.Uint32()
		}
	}
	if err := d.Err(); err != nil {
		return fmt.Errorf("RTA_METRICS: %w", err)
	}
	return nil
}

// UsesInterface reports whether the route sends traffic out of the
// interface with the given index, directly or through one of its paths.
func (r *Route) UsesInterface(index int32) bool {
	if r.OutIndex == index {
		return true
	}
	for _, nh := range r.MultiPath {
		if nh.OutIndex == index {
			return true
		}
	}
	return false
}

// RouteFilter selects the routes Routes lists. Zero fields match any
// route. The kernel filters by Table, OutIndex, Protocol and Type itself
// (with strict checking, see Routes), which saves copying routes nobody
// asked for; every field is checked again on the routes received, so the
// result is right even when the kernel did not filter.
type RouteFilter struct {
	// Family is 2 (AF_INET) or 10 (AF_INET6); 0 for both.
	Family uint8
	// Table is a routing table; TableAll (0) means every table.
	Table uint32
	// OutIndex keeps routes out of this interface (RTA_OIF), including
	// multipath routes with one path through it.
	OutIndex int32
	// Protocol keeps routes installed by this protocol.
	Protocol RouteProtocol
	// Type keeps routes of this type.
	Type RouteType
	// Scope keeps routes of this scope (checked here, not by the kernel;
	// the zero value, ScopeGlobal, matches any scope).
	Scope Scope
}

// Match reports whether r passes the filter.
func (f *RouteFilter) Match(r *Route) bool {
	switch {
	case f.Family != 0 && r.Family != f.Family,
		f.Table != TableAll && r.Table != f.Table,
		f.Protocol != 0 && r.Protocol != f.Protocol,
		f.Type != 0 && r.Type != f.Type,
		f.Scope != 0 && r.Scope != f.Scope,
		f.OutIndex != 0 && !r.UsesInterface(f.OutIndex):
		return false
	}
	return true
}

// kernelFilter reports whether the kernel can do some of f's filtering.
func (f *RouteFilter) kernelFilter() bool {
	return f.Table != 0 || f.OutIndex != 0 || f.Protocol != 0 || f.Type != 0
}

// request returns the dump request carrying f: the kernel's strict dump
// check (ip_valid_fib_dump_req) takes rtm_table, rtm_protocol, rtm_type,
// RTA_TABLE and RTA_OIF, and wants the other header fields zero.
func (f *RouteFilter) request() ([]byte, error) {
	q := Route{Family: f.Family, Table: f.Table, Protocol: f.Protocol, Type: f.Type, OutIndex: f.OutIndex}
	return q.MarshalBinary()
}

// strictCheck turns on NETLINK_GET_STRICT_CHK on the Conn, so the kernel
// applies dump filters. It reports whether it is on.
func (c *Client) strictCheck() bool {
	on, err := c.c.GetOption(netlink.GetStrictCheck)
	if err == nil && !on {
		on = c.c.SetOption(netlink.GetStrictCheck, true) == nil
	}
	return on
}

// Routes streams the routes that filter selects, decoded one at a time,
// without holding the table in memory. A nil filter lists the main table
// of both families, as `ip route show` and `ip -6 route show` do; a
// non-nil filter is taken literally, so &RouteFilter{} lists every table
// (TableAll) of every family.
//
// To have the kernel filter, Routes turns on strict checking of requests
// (NETLINK_GET_STRICT_CHK, what ip does too) on the Client's Conn, where
// it stays on; where that fails, filtering happens here alone. Listing a
// table that does not exist yields no routes.
//
// Equivalent to: `ip route show table all` (with a filter: `ip route show
// table ID dev DEV proto PROTO type TYPE`).
func (c *Client) Routes(ctx context.Context, filter *RouteFilter) iter.Seq2[*Route, error] {
	f := RouteFilter{Table: TableMain}
	if filter != nil {
		f = *filter
	}
	return func(yield func(*Route, error) bool) {
		req, err := f.request()
		if err != nil {
			yield(nil, err)
			return
		}
		if f.kernelFilter() {
			c.strictCheck()
		}
		for r, err := range dump[Route](ctx, c, msgGetRoute, req, msgNewRoute) {
			if err != nil {
				// The kernel refuses a strict dump of a table that
				// does not exist instead of listing nothing.
				if f.Table != TableAll && errors.Is(err, syscall.ENOENT) {
					return
				}
				yield(nil, fmt.Errorf("rtnl: list routes: %w", err))
				return
			}
			if !f.Match(r) {
				continue
			}
			if !yield(r, nil) {
				return
			}
		}
	}
}

// ListRoutes returns the routes that filter selects (see Routes; nil for
// the main table).
//
// Equivalent to: `ip route show table all`.
func (c *Client) ListRoutes(ctx context.Context, filter *RouteFilter) ([]*Route, error) {
	return collect(c.Routes(ctx, filter))
}

// RouteGetOptions refine a route lookup (GetRoute). Zero fields are
// absent.
type RouteGetOptions struct {
	// From is the source address (RTA_SRC).
	From netip.Addr
	// InIndex is the interface the packet comes in on (RTA_IIF); the
	// lookup is then that of a forwarded packet.
	InIndex int32
	// OutIndex is the interface the packet must leave by (RTA_OIF).
	OutIndex int32
	// Mark is the packet's firewall mark (RTA_MARK).
	Mark uint32
	// TOS is the packet's type of service (rtm_tos).
	TOS uint8
	// FIBMatch returns the routing table entry that matched instead of
	// the resulting route (RTM_F_FIB_MATCH).
	FIBMatch bool
}

// GetRoute asks the kernel which route a packet to dst takes: the
// resulting route, with the gateway, device and preferred source chosen.
// A destination without a route fails with ENETUNREACH.
//
// Equivalent to: `ip route get DST [from ADDR] [iif DEV] [oif DEV] [mark N]`.
func (c *Client) GetRoute(ctx context.Context, dst netip.Addr, opts *RouteGetOptions) (*Route, error) {
	if !dst.IsValid() {
		return nil, errors.New("rtnl: get route: no destination address")
	}
	dst = dst.Unmap()
	q := Route{Dst: netip.PrefixFrom(dst, dst.BitLen())}
	if opts != nil {
		if opts.From.IsValid() {
			from := opts.From.Unmap()
			if from.Is4() != dst.Is4() {
				return nil, fmt.Errorf("rtnl: get route to %s: source %s is of another family", dst, from)
			}
			q.Src = netip.PrefixFrom(from, from.BitLen())
		}
		q.InIndex, q.OutIndex, q.Mark, q.TOS = opts.InIndex, opts.OutIndex, opts.Mark, opts.TOS
		if opts.FIBMatch {
			q.Flags |= RouteFlagFIBMatch
		}
	}
	if dst.Is4() {
		q.Flags |= RouteFlagLookupTable // IPv4 only: report the table
	}
	data, err := q.MarshalBinary()
	if err != nil {
		return nil, err
	}
	if err := c.beforeRead(ctx); err != nil {
		return nil, err
	}
	msgs, err := c.c.Execute(ctx, netlink.Message{Header: netlink.Header{Type: msgGetRoute}, Data: data})
	if err != nil {
		return nil, fmt.Errorf("rtnl: get route to %s: %w", dst, err)
	}
	for _, m := range msgs {
		if m.Header.Type == msgNewRoute {
			r := new(Route)
			if err := r.UnmarshalBinary(m.Data); err != nil {
				return nil, err
			}
			return r, nil
		}
	}
	return nil, fmt.Errorf("rtnl: get route to %s: kernel sent no route", dst)
}

// prepare fills in the defaults ip uses and checks r before a change.
func (r *Route) prepare(del bool) error {
	r.Family = r.family()
	if !r.Dst.IsValid() {
		return errors.New("no destination: set Dst (0.0.0.0/0 or ::/0 for a default route)")
	}
	fam := r.Family
	if fam != rtAFInet && fam != rtAFInet6 {
		return fmt.Errorf("family %d is neither IPv4 (2) nor IPv6 (10)", fam)
	}
	v4 := fam == rtAFInet
	if v4 {
		// IPv4-mapped IPv6 addresses mean their IPv4 address here.
		r.Src = netip.PrefixFrom(r.Src.Addr().Unmap(), r.Src.Bits())
		r.PrefSrc, r.Gateway = r.PrefSrc.Unmap(), r.Gateway.Unmap()
	}
	if r.Dst.Addr().Is4() != v4 {
		return fmt.Errorf("destination %s is not %s, the route's family", r.Dst, familyName(fam))
	}
	if r.Src.IsValid() && r.Src.Addr().Is4() != v4 {
		return fmt.Errorf("source %s is not %s like the destination", r.Src, familyName(fam))
	}
	if r.PrefSrc.IsValid() && r.PrefSrc.Is4() != v4 {
		return fmt.Errorf("preferred source %s is not %s like the destination", r.PrefSrc, familyName(fam))
	}
	// IPv4 routes may have IPv6 gateways (RTA_VIA); IPv6 routes cannot
	// have IPv4 ones.
	if !v4 && r.Gateway.IsValid() && r.Gateway.Is4() {
		return fmt.Errorf("gateway %s is IPv4 but destination %s is IPv6", r.Gateway, r.Dst)
	}
	for i, nh := range r.MultiPath {
		if nh.Weight < 1 || nh.Weight > 256 {
			return fmt.Errorf("next hop %d: weight %d out of range 1-256", i+1, nh.Weight)
		}
		if !v4 && nh.Gateway.IsValid() && nh.Gateway.Is4() {
			return fmt.Errorf("next hop %d: gateway %s is IPv4 but destination %s is IPv6", i+1, nh.Gateway, r.Dst)
		}
	}
	if r.Expires > 0 && v4 {
		return errors.New("only IPv6 routes can expire")
	}
	local := r.Type == RouteTypeLocal || r.Type == RouteTypeBroadcast || r.Type == RouteTypeNAT || r.Type == RouteTypeAnycast
	if r.Table == 0 {
		r.Table = TableMain
		if local {
			r.Table = TableLocal
		}
	}
	if del {
		if r.Scope == 0 && v4 {
			r.Scope = ScopeNowhere // matches any scope
		}
		return nil
	}
	if r.Type == 0 {
		r.Type = RouteTypeUnicast
	}
	if r.Protocol == 0 {
		r.Protocol = RouteProtoBoot
	}
	if r.Scope == 0 && v4 {
		switch r.Type {
		case RouteTypeLocal, RouteTypeNAT:
			r.Scope = ScopeHost
		case RouteTypeBroadcast, RouteTypeMulticast, RouteTypeAnycast:
			r.Scope = ScopeLink
		}
	}
	return nil
}

func (c *Client) modifyRoute(ctx context.Context, op string, typ uint16, flags netlink.HeaderFlags, r *Route) error {
	if r == nil {
		return fmt.Errorf("rtnl: %s route: nil route", op)
	}
	q := *r
	if err := q.prepare(typ == msgDelRoute); err != nil {
		return fmt.Errorf("rtnl: %s route %s: %w", op, r.Dst, err)
	}
	data, err := q.MarshalBinary()
	if err != nil {
		return err
	}
	if err := c.change(ctx, typ, flags, data); err != nil {
		return fmt.Errorf("rtnl: %s route %s: %w", op, q.Dst, err)
	}
	return nil
}

// AddRoute adds a route; it fails with EEXIST if the table has a route
// to the same destination with the same TOS and priority.
//
// Zero fields take iproute2's defaults: Family from Dst, Type unicast,
// Protocol boot, Table main (local for local, broadcast, anycast and NAT
// routes), and for IPv4 the scope those types need (host for local and
// NAT, link for broadcast, multicast and anycast). A unicast route
// without gateway keeps scope global unless Scope says otherwise (ip
// would make it link). The route is checked first: a destination, and
// gateways, sources and next hops of its family (an IPv4 route may have
// an IPv6 gateway), multipath weights from 1 to 256.
//
// Equivalent to: `ip route add ROUTE`.
func (c *Client) AddRoute(ctx context.Context, r *Route) error {
	return c.modifyRoute(ctx, "add", msgNewRoute, netlink.Create|netlink.Excl, r)
}

// ReplaceRoute adds a route or replaces the one with the same
// destination, TOS and priority (see AddRoute for defaults).
//
// Equivalent to: `ip route replace ROUTE`.
func (c *Client) ReplaceRoute(ctx context.Context, r *Route) error {
	return c.modifyRoute(ctx, "replace", msgNewRoute, netlink.Create|netlink.Replace, r)
}

// ChangeRoute replaces an existing route with the same destination, TOS
// and priority; it fails with ENOENT if there is none (see AddRoute for
// defaults).
//
// Equivalent to: `ip route change ROUTE`.
func (c *Client) ChangeRoute(ctx context.Context, r *Route) error {
	return c.modifyRoute(ctx, "change", msgNewRoute, netlink.Replace, r)
}

// AppendRoute adds a route after those with the same destination, TOS
// and priority: for IPv4 a second route the kernel uses only if the first
// fails; for IPv6 another path of a multipath route.
//
// Equivalent to: `ip route append ROUTE`.
func (c *Client) AppendRoute(ctx context.Context, r *Route) error {
	return c.modifyRoute(ctx, "append", msgNewRoute, netlink.Create|netlink.Append, r)
}

// DeleteRoute deletes the first route matching r's destination and the
// fields r sets (gateway, device, priority, protocol, type...); zero
// fields match anything. Table 0 means main (local for local, broadcast,
// anycast and NAT routes). It fails with ESRCH if no route matches.
//
// Equivalent to: `ip route del ROUTE`.
func (c *Client) DeleteRoute(ctx context.Context, r *Route) error {
	return c.modifyRoute(ctx, "delete", msgDelRoute, 0, r)
}
