package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/rtnl"
)

// routeViaJSON is a gateway of another family, as ip -j prints RTA_VIA.
type routeViaJSON struct {
	Family string `json:"family"`
	Host   string `json:"host"`
}

// routeMetricsJSON are a route's metrics as ip -j prints them (in RTAX
// order; times in milliseconds).
type routeMetricsJSON struct {
	MTU        uint32 `json:"mtu,omitempty"`
	Window     uint32 `json:"window,omitempty"`
	RTT        uint32 `json:"rtt,omitempty"`
	RTTVar     uint32 `json:"rttvar,omitempty"`
	SSThresh   uint32 `json:"ssthresh,omitempty"`
	CWnd       uint32 `json:"cwnd,omitempty"`
	AdvMSS     uint32 `json:"advmss,omitempty"`
	Reordering uint32 `json:"reordering,omitempty"`
	HopLimit   uint32 `json:"hoplimit,omitempty"`
	InitCWnd   uint32 `json:"initcwnd,omitempty"`
	RTOMin     uint32 `json:"rto_min,omitempty"`
	InitRWnd   uint32 `json:"initrwnd,omitempty"`
	QuickAck   uint32 `json:"quickack,omitempty"`
	Congestion string `json:"congestion,omitempty"`
}

// routeNextHopJSON is one path of a multipath route.
type routeNextHopJSON struct {
	Gateway string        `json:"gateway,omitempty"`
	Via     *routeViaJSON `json:"via,omitempty"`
	Dev     string        `json:"dev"`
	Weight  int           `json:"weight"`
	Flags   []string      `json:"flags"`
}

// routeJSON is one route as `ip -j route` prints it (print_route in
// iproute2's iproute.c), fields in ip's order.
type routeJSON struct {
	Type     string             `json:"type,omitempty"`
	Dst      string             `json:"dst"`
	From     string             `json:"from,omitempty"`
	NHID     uint32             `json:"nhid,omitempty"`
	TOS      string             `json:"tos,omitempty"`
	Gateway  string             `json:"gateway,omitempty"`
	Via      *routeViaJSON      `json:"via,omitempty"`
	Dev      string             `json:"dev,omitempty"`
	Table    string             `json:"table,omitempty"`
	Protocol string             `json:"protocol,omitempty"`
	Scope    string             `json:"scope,omitempty"`
	PrefSrc  string             `json:"prefsrc,omitempty"`
	Metric   *uint32            `json:"metric,omitempty"`
	Flags    []string           `json:"flags"`
	Mark     uint32             `json:"mark,omitempty"`
	UID      *uint32            `json:"uid,omitempty"`
	Cache    *[]string          `json:"cache,omitempty"`
	Expires  *int64             `json:"expires,omitempty"`
	Metrics  []routeMetricsJSON `json:"metrics,omitempty"`
	IIF      string             `json:"iif,omitempty"`
	Pref     string             `json:"pref,omitempty"`
	NextHops []routeNextHopJSON `json:"nexthops,omitempty"`

	// For the text form only.
	lock     rtnl.MetricLocks
	features uint32
}

// routeView says which fields a listing leaves out, as ip does for the
// ones its filter fixes.
type routeView struct {
	allTables bool // name the table (when not main)
	details   bool // -d: show type, table, proto and scope even when default
	noDev     bool
	noProto   bool
	noScope   bool
	names     map[int32]string
}

func (v *routeView) dev(i int32) string {
	if n, ok := v.names[i]; ok {
		return n
	}
	return fmt.Sprintf("if%d", i)
}

// ip's names for DSCP values (/etc/iproute2/rt_dsfield).
var routeDSField = map[uint8]string{
	0x28: "AF11", 0x30: "AF12", 0x38: "AF13", 0x48: "AF21", 0x50: "AF22", 0x58: "AF23",
	0x68: "AF31", 0x70: "AF32", 0x78: "AF33", 0x88: "AF41", 0x90: "AF42", 0x98: "AF43",
	0x20: "CS1", 0x40: "CS2", 0x60: "CS3", 0x80: "CS4", 0xa0: "CS5", 0xc0: "CS6", 0xe0: "CS7",
	0xb8: "EF",
}

// routeFamilyV4 and routeFamilyV6 are AF_INET and AF_INET6.
const (
	routeFamilyV4 uint8 = 2
	routeFamilyV6 uint8 = 10
)

// routeHost formats p as ip does: a host prefix as a bare address.
func routeHost(p netip.Prefix) string {
	if p.Bits() == p.Addr().BitLen() {
		return p.Addr().String()
	}
	return p.String()
}

func routeGateway(family uint8, a netip.Addr) (string, *routeViaJSON) {
	switch {
	case !a.IsValid():
		return "", nil
	case a.Is4() == (family == routeFamilyV4) || (family != routeFamilyV4 && family != routeFamilyV6):
		return a.String(), nil
	case a.Is4():
		return "", &routeViaJSON{Family: "inet", Host: a.String()}
	}
	return "", &routeViaJSON{Family: "inet6", Host: a.String()}
}

func toRouteJSON(r *rtnl.Route, v *routeView) routeJSON {
	j := routeJSON{Flags: r.Flags.Names()}
	if r.Type != rtnl.RouteTypeUnicast || v.details {
		j.Type = r.Type.String()
	}
	switch {
	case !r.Dst.IsValid() || r.Dst.Bits() == 0:
		j.Dst = "default"
	default:
		j.Dst = routeHost(r.Dst)
	}
	if r.Src.IsValid() {
		j.From = routeHost(r.Src)
	}
	j.NHID = r.NextHopID
	if r.TOS != 0 {
		j.TOS = fmt.Sprintf("0x%x", r.TOS)
		if n, ok := routeDSField[r.TOS]; ok {
			j.TOS = n
		}
	}
	j.Gateway, j.Via = routeGateway(r.Family, r.Gateway)
	if r.OutIndex != 0 && !v.noDev {
		j.Dev = v.dev(r.OutIndex)
	}
	if v.allTables && r.Table != 0 && (r.Table != rtnl.TableMain || v.details) {
		j.Table = rtnl.RouteTableName(r.Table)
	}
	cloned := r.Flags&rtnl.RouteFlagCloned != 0
	if !cloned && (r.Protocol != rtnl.RouteProtoBoot || v.details) && !v.noProto {
		j.Protocol = r.Protocol.String()
	}
	if !cloned && (r.Scope != rtnl.ScopeGlobal || v.details) && !v.noScope {
		j.Scope = r.Scope.String()
	}
	if r.PrefSrc.IsValid() {
		j.PrefSrc = r.PrefSrc.String()
	}
	// IPv4 sends RTA_PRIORITY only when not zero; IPv6 always.
	if r.Priority != 0 || r.Family == routeFamilyV6 {
		m := r.Priority
		j.Metric = &m
	}
	j.Mark = r.Mark
	if r.HasUID {
		u := r.UID
		j.UID = &u
	}
	if cloned && r.Family == routeFamilyV4 {
		c := r.Flags.CacheNames()
		j.Cache = &c
	}
	if r.Expires > 0 {
		s := int64(r.Expires / time.Second)
		j.Expires = &s
	}
	if m := r.Metrics; m != nil {
		hop := m.HopLimit
		if hop == ^uint32(0) {
			hop = 0 // ip hides the "unset" -1
		}
		j.Metrics = []routeMetricsJSON{{
			MTU: m.MTU, Window: m.Window, RTT: uint32(m.RTT / time.Millisecond),
			RTTVar: uint32(m.RTTVar / time.Millisecond), SSThresh: m.SSThresh, CWnd: m.CWnd,
			AdvMSS: m.AdvMSS, Reordering: m.Reordering, HopLimit: hop, InitCWnd: m.InitCWnd,
			RTOMin: uint32(m.RTOMin / time.Millisecond), InitRWnd: m.InitRWnd, QuickAck: m.QuickAck,
			Congestion: m.CongestionControl,
		}}
		j.lock, j.features = m.Lock, m.Features
	}
	if r.InIndex != 0 {
		j.IIF = v.dev(r.InIndex)
	}
	if r.Family == routeFamilyV6 {
		j.Pref = r.Pref.String()
	}
	for _, nh := range r.MultiPath {
		h := routeNextHopJSON{Dev: v.dev(nh.OutIndex), Weight: nh.Weight, Flags: nh.Flags.Names()}
		h.Gateway, h.Via = routeGateway(r.Family, nh.Gateway)
		j.NextHops = append(j.NextHops, h)
	}
	return j
}

// routeMS formats a time metric as ip does: "100ms", "2s".
func routeMS(ms uint32) string {
	if ms >= 1000 {
		return strconv.FormatFloat(float64(ms)/1e3, 'g', -1, 64) + "s"
	}
	return fmt.Sprintf("%dms", ms)
}

// text renders the route in ip's text form, one line plus a line per
// next hop.
func (j *routeJSON) text() string {
	var w []string
	add := func(s ...string) { w = append(w, s...) }
	if j.Type != "" {
		add(j.Type)
	}
	add(j.Dst)
	if j.From != "" {
		add("from", j.From)
	}
	if j.NHID != 0 {
		add("nhid", strconv.FormatUint(uint64(j.NHID), 10))
	}
	if j.TOS != "" {
		add("tos", j.TOS)
	}
	if j.Gateway != "" {
		add("via", j.Gateway)
	}
	if j.Via != nil {
		add("via", j.Via.Family, j.Via.Host)
	}
	for _, kv := range [][2]string{{"dev", j.Dev}, {"table", j.Table}, {"proto", j.Protocol}, {"scope", j.Scope}, {"src", j.PrefSrc}} {
		if kv[1] != "" {
			add(kv[0], kv[1])
		}
	}
	if j.Metric != nil {
		add("metric", strconv.FormatUint(uint64(*j.Metric), 10))
	}
	add(j.Flags...)
	switch {
	case j.Mark >= 16:
		add("mark", fmt.Sprintf("0x%x", j.Mark))
	case j.Mark != 0:
		add("mark", strconv.FormatUint(uint64(j.Mark), 10))
	}
	if j.UID != nil {
		add("uid", strconv.FormatUint(uint64(*j.UID), 10))
	}
	if j.Cache != nil {
		c := "\n    cache"
		if len(*j.Cache) > 0 {
			c += " <" + strings.Join(*j.Cache, ",") + ">"
		}
		add(c)
	}
	if j.Expires != nil {
		add("expires", fmt.Sprintf("%dsec", *j.Expires))
	}
	if len(j.Metrics) > 0 {
		m := j.Metrics[0]
		metric := func(name string, lock rtnl.MetricLocks, v string) {
			add(name)
			if j.lock&lock != 0 {
				add("lock")
			}
			add(v)
		}
		u := func(name string, lock rtnl.MetricLocks, v uint32) {
			if v != 0 {
				metric(name, lock, strconv.FormatUint(uint64(v), 10))
			}
		}
		u("mtu", rtnl.LockMTU, m.MTU)
		u("window", rtnl.LockWindow, m.Window)
		if m.RTT != 0 {
			metric("rtt", rtnl.LockRTT, routeMS(m.RTT))
		}
		if m.RTTVar != 0 {
			metric("rttvar", rtnl.LockRTTVar, routeMS(m.RTTVar))
		}
		u("ssthresh", rtnl.LockSSThresh, m.SSThresh)
		u("cwnd", rtnl.LockCWnd, m.CWnd)
		u("advmss", rtnl.LockAdvMSS, m.AdvMSS)
		u("reordering", rtnl.LockReordering, m.Reordering)
		u("hoplimit", rtnl.LockHopLimit, m.HopLimit)
		u("initcwnd", rtnl.LockInitCWnd, m.InitCWnd)
		switch {
		case j.features == 1:
			add("features", "ecn")
		case j.features != 0:
			add("features", fmt.Sprintf("0x%x", j.features))
		}
		if m.RTOMin != 0 {
			metric("rto_min", rtnl.LockRTOMin, routeMS(m.RTOMin))
		}
		u("initrwnd", 0, m.InitRWnd)
		u("quickack", 0, m.QuickAck)
		if m.Congestion != "" {
			metric("congctl", rtnl.LockCongestion, m.Congestion)
		}
	}
	if j.IIF != "" {
		add("iif", j.IIF)
	}
	if j.Pref != "" {
		add("pref", j.Pref)
	}
	line := strings.Join(w, " ")
	for _, h := range j.NextHops {
		line += "\n\tnexthop"
		if h.Gateway != "" {
			line += " via " + h.Gateway
		}
		if h.Via != nil {
			line += " via " + h.Via.Family + " " + h.Via.Host
		}
		line += fmt.Sprintf(" dev %s weight %d", h.Dev, h.Weight)
		for _, f := range h.Flags {
			line += " " + f
		}
	}
	return strings.ReplaceAll(line, " \n", "\n")
}

const routeOutputHelp = `Output: one route per line in ip's own text form ("10.1.0.0/16 via 10.0.0.2
dev veth0 proto static metric 10"), with the next hops of a multipath route on
indented lines below it. As ip does, fields a filter fixes (dev, proto, scope)
are left out, the table is named only when listing all tables, proto boot,
scope global and type unicast are not shown. With -j, a JSON array whose field
names are those of ip -j route.`

func newRouteCmd(a *app) *cobra.Command {
	var v4, v6 bool
	family := func() (uint8, error) {
		switch {
		case v4 && v6:
			return 0, errors.New("route: -4 and -6 exclude each other")
		case v4:
			return routeFamilyV4, nil
		case v6:
			return routeFamilyV6, nil
		}
		return 0, nil
	}
	show := &cobra.Command{
		Use:     "show [table ID|all] [dev DEV] [proto P] [type T] [scope S] [[exact|root|match] PREFIX]",
		Aliases: []string{"list", "ls", "lst", "sh", "s"},
		Short:   "List routes (like ip route show)",
		Long: `List the routes of a routing table, as ip route show does: by default the
IPv4 routes of the main table (use -6 for IPv6; "table all" lists every table
of both families, as ip does).

  table ID        main (default), local, default, a number, or all
  dev DEV         routes out of DEV (as in ip, not multipath routes with a path through it)
  proto P         routes installed by P: kernel, boot, static, dhcp, bgp, ... or a number
  type T          unicast, local, broadcast, multicast, blackhole, unreachable, prohibit, throw, ...
  scope S         global, site, link, host, nowhere or a number
  PREFIX          the route to exactly this prefix ("exact PREFIX" too);
                  "root PREFIX": routes inside it; "match PREFIX": routes containing it

The kernel does the table, dev, proto and type filtering (strict dump
checking), so large tables are not copied for nothing.

` + routeOutputHelp + `

Examples:
  nlkit route
  nlkit route show table all
  nlkit route -6 show dev veth0
  nlkit route show table 100 proto static
  nlkit -j route show type blackhole`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fam, err := family()
			if err != nil {
				return err
			}
			return routeShow(a, cmd.Context(), fam, args)
		},
	}
	get := &cobra.Command{
		Use:     "get ADDRESS [from ADDRESS] [iif DEV] [oif DEV] [mark N] [tos TOS] [fibmatch]",
		Aliases: []string{"g"},
		Short:   "Show the route a packet would take (like ip route get)",
		Long: `Ask the kernel which route a packet to ADDRESS takes, as ip route get does,
and print the resulting route: the gateway, device and source chosen.

  from ADDRESS    the packet's source address
  iif DEV         the packet comes in on DEV (a forwarded packet; needs from)
  oif DEV         the packet must leave by DEV (also: dev DEV)
  mark N          the packet's firewall mark
  tos TOS         the packet's type of service
  fibmatch        print the routing table entry that matched instead

` + routeOutputHelp + `

Examples:
  nlkit route get 1.1.1.1
  nlkit route get 10.1.2.3 from 10.0.0.1 oif veth0 mark 5
  nlkit -j route get 2001:db8::1`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return routeGet(a, cmd.Context(), args)
		},
	}
	modify := func(verb, short string, aliases ...string) *cobra.Command {
		c := &cobra.Command{
			Use:     verb + " [TYPE] PREFIX|default [via [inet|inet6] ADDR] [dev DEV] [OPTIONS] [nexthop NEXTHOP]...",
			Aliases: aliases,
			Short:   short,
			Long: short + `.

  TYPE               unicast (default), local, broadcast, multicast, anycast,
                     blackhole, unreachable, prohibit, throw, nat
  PREFIX             the destination, 10.0.0.0/8 (a bare address is a host route);
                     default for 0.0.0.0/0 (::/0 with -6 or an IPv6 gateway)
  via ADDR           the gateway; "via inet6 ADDR" for an IPv6 gateway of an IPv4 route
  dev DEV            the outgoing interface (also: oif DEV)
  table ID           main (default; local for local and broadcast routes), local, default or a number
  metric N           the route's priority, lower wins (also: priority, preference)
  proto P            who installs it: boot (default), static, dhcp, kernel, ... or a number
  scope S            global, site, link, host or a number; an IPv4 route without
                     gateway defaults to link, as in ip
  src ADDR           preferred source address
  from PREFIX        source prefix (IPv6 source-specific routing)
  tos TOS            type of service to match
  onlink, pervasive  next-hop flags: the gateway is on the link; recursive lookup
  mtu, advmss, window, cwnd, ssthresh, reordering, hoplimit, initcwnd, initrwnd [lock] N
  rtt, rttvar [lock] TIME, rto_min TIME   (TIME: 100ms, 2s, or milliseconds)
  quickack 0|1, congctl [lock] NAME, features ecn, fastopen_no_cookie 0|1
                     metrics; "lock" stops the kernel from changing them
  pref low|medium|high   IPv6 router preference
  expires SECONDS    IPv6 only: remove the route after this time
  nhid ID            use the nexthop object ID (ip nexthop)
  nexthop via ADDR dev DEV [weight N] [onlink]
                     one path of a multipath route (weight 1 to 256, default 1);
                     repeat for each path

Examples:
  nlkit route ` + verb + ` 10.1.0.0/16 via 10.0.0.2 dev veth0 metric 10 proto static
  nlkit route ` + verb + ` default via 10.0.0.1
  nlkit route ` + verb + ` 2001:db8:1::/48 via 2001:db8::2 table 1000
  nlkit route ` + verb + ` blackhole 10.9.0.0/16
  nlkit route ` + verb + ` 10.5.0.0/16 nexthop via 10.0.0.2 dev veth0 weight 3 nexthop via 10.0.0.3 dev veth0
  nlkit route ` + verb + ` 10.6.0.0/16 via 192.168.5.5 dev veth0 onlink mtu lock 1400 advmss 1360`,
			Args: cobra.ArbitraryArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				fam, err := family()
				if err != nil {
					return err
				}
				return routeModify(a, cmd.Context(), verb, fam, args)
			},
		}
		// After PREFIX, words such as "-1" are values (with a clear error)
		// rather than unknown flags.
		c.Flags().SetInterspersed(false)
		return c
	}
	cmd := &cobra.Command{
		Use:     "route [show|get|add|replace|change|append|del] ...",
		Aliases: []string{"r", "ro"},
		Short:   "List, look up and change routes (like ip route)",
		Long: `List, look up, add, replace and delete routes, as ip route does. Without a
subcommand, lists the IPv4 routes of the main table (nlkit route -6: IPv6;
-4 and -6 go after "route"). With -d, type, table, proto and scope are shown
even when they have their default values, as ip -d does.

` + routeOutputHelp + `

Examples:
  nlkit route                                        like ip route
  nlkit route show table all                         every route of every table
  nlkit -j route show table 100 dev veth0            JSON, as ip -j route
  nlkit route get 1.1.1.1                            the route a packet takes
  nlkit route add 10.1.0.0/16 via 10.0.0.2 dev veth0 metric 10
  nlkit route replace default via 10.0.0.1
  nlkit route add blackhole 10.9.0.0/16
  nlkit route del 10.1.0.0/16`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fam, err := family()
			if err != nil {
				return err
			}
			return routeShow(a, cmd.Context(), fam, nil)
		},
	}
	cmd.PersistentFlags().BoolVarP(&v4, "ipv4", "4", false, "IPv4 routes only (as ip -4)")
	cmd.PersistentFlags().BoolVarP(&v6, "ipv6", "6", false, "IPv6 routes only (as ip -6)")
	cmd.AddCommand(show, get,
		modify("add", "Add a route (like ip route add)", "a"),
		modify("replace", "Add a route or replace the one with the same destination, TOS and metric (like ip route replace)", "repl"),
		modify("change", "Change an existing route (like ip route change)", "chg"),
		modify("append", "Add a route after those with the same destination (like ip route append)", "app"),
		modify("del", "Delete a route (like ip route del)", "delete", "d"),
	)
	return cmd
}

// routeDev resolves an interface name, with ip's wording when missing.
func routeDev(ctx context.Context, c *rtnl.Client, name string) (int32, error) {
	i, err := c.LinkIndex(ctx, name)
	if errors.Is(err, rtnl.ErrNoLink) {
		return 0, fmt.Errorf("device %q does not exist", name)
	}
	return i, err
}

// routeKernelError turns a kernel error into "route add 10.1.0.0/16: file
// exists: <the kernel's explanation>", keeping errors.Is working.
func routeKernelError(what string, err error) error {
	var oe *netlink.OpError
	if !errors.As(err, &oe) {
		return err // the library's own words already say what failed
	}
	msg := fmt.Sprintf("%s: %v", what, oe.Err)
	if oe.Message != "" {
		msg += ": " + oe.Message
	}
	return &routeError{msg: msg, err: err}
}

type routeError struct {
	msg string
	err error
}

func (e *routeError) Error() string { return e.msg }
func (e *routeError) Unwrap() error { return e.err }

// routeFamilyOf returns the family of an address.
func routeFamilyOf(a netip.Addr) uint8 {
	if a.Unmap().Is4() {
		return routeFamilyV4
	}
	return routeFamilyV6
}

// routeSelect is what route show selects beyond the library's filter.
type routeSelect struct {
	filter rtnl.RouteFilter
	dev    string
	mode   string // "exact", "root" or "match"
	prefix netip.Prefix
	view   routeView
}

func (s *routeSelect) matches(r *rtnl.Route) bool {
	// As ip: dev selects routes whose own device it is; the kernel also
	// sends multipath routes with a path through it, ip leaves them out.
	if s.filter.OutIndex != 0 && r.OutIndex != s.filter.OutIndex {
		return false
	}
	if !s.prefix.IsValid() {
		return true
	}
	p := s.prefix
	switch s.mode {
	case "root":
		return r.Dst.Bits() >= p.Bits() && p.Contains(r.Dst.Addr())
	case "match":
		return r.Dst.Bits() <= p.Bits() && r.Dst.Masked().Contains(p.Addr())
	}
	return r.Dst.Masked() == p.Masked()
}

func parseRouteShow(fam uint8, args []string) (*routeSelect, error) {
	w := newWords("route show", args)
	s := &routeSelect{filter: rtnl.RouteFilter{Family: fam, Table: rtnl.TableMain}}
	var prefixWord string
	for w.more() {
		switch k := w.next(); k {
		case "table":
			v, err := w.value(k)
			if err != nil {
				return nil, err
			}
			t, err := rtnl.ParseRouteTable(v)
			if err != nil {
				return nil, fmt.Errorf("route show: table %q: want main, local, default, all or a number", v)
			}
			s.filter.Table = t
		case "dev", "oif":
			v, err := w.value(k)
			if err != nil {
				return nil, err
			}
			s.dev = v
		case "proto", "protocol":
			v, err := w.value(k)
			if err != nil {
				return nil, err
			}
			p, err := rtnl.ParseRouteProtocol(v)
			if err != nil {
				return nil, fmt.Errorf("route show: proto %q: want kernel, boot, static, dhcp, ... or 0-255", v)
			}
			s.filter.Protocol, s.view.noProto = p, true
		case "type":
			v, err := w.value(k)
			if err != nil {
				return nil, err
			}
			t, err := rtnl.ParseRouteType(v)
			if err != nil || t == rtnl.RouteTypeUnspec {
				return nil, fmt.Errorf("route show: type %q: want unicast, local, broadcast, multicast, blackhole, unreachable, prohibit, throw, nat or anycast", v)
			}
			s.filter.Type = t
		case "scope":
			v, err := w.value(k)
			if err != nil {
				return nil, err
			}
			sc, err := rtnl.ParseScope(v)
			if err != nil {
				return nil, fmt.Errorf("route show: scope %q: want global, site, link, host, nowhere or 0-255", v)
			}
			if sc == rtnl.ScopeGlobal {
				return nil, errors.New("route show: scope global cannot be selected; list all and look for routes without scope")
			}
			s.filter.Scope, s.view.noScope = sc, true
		case "exact", "root", "match", "to":
			v, err := w.value(k)
			if err != nil {
				return nil, err
			}
			if k == "to" {
				k = "exact"
			}
			if prefixWord != "" {
				return nil, fmt.Errorf("route show: two prefixes: %q and %q", prefixWord, v)
			}
			s.mode, prefixWord = k, v
		default:
			if prefixWord != "" || !strings.ContainsAny(k, ".:") && k != "default" {
				return nil, w.unknown(k)
			}
			s.mode, prefixWord = "exact", k
		}
	}
	if prefixWord != "" {
		hint := 4
		if fam == routeFamilyV6 {
			hint = 6
		}
		p, err := parsePrefix(prefixWord, hint)
		if err != nil {
			return nil, fmt.Errorf("route show: %w", err)
		}
		s.prefix = p
		if s.filter.Family == 0 {
			s.filter.Family = routeFamilyOf(p.Addr())
		}
		if s.filter.Family != routeFamilyOf(p.Addr()) {
			return nil, fmt.Errorf("route show: prefix %s is not of the family asked for", p)
		}
	}
	// As ip: without -4/-6, one table means IPv4; all tables, both.
	if s.filter.Family == 0 && s.filter.Table != rtnl.TableAll {
		s.filter.Family = routeFamilyV4
	}
	s.view.allTables = s.filter.Table == rtnl.TableAll
	return s, nil
}

func routeShow(a *app, ctx context.Context, fam uint8, args []string) error {
	s, err := parseRouteShow(fam, args)
	if err != nil {
		return err
	}
	s.view.details = a.details
	c, err := a.rtnl()
	if err != nil {
		return err
	}
	defer c.Close()
	if s.dev != "" {
		if s.filter.OutIndex, err = routeDev(ctx, c, s.dev); err != nil {
			return err
		}
		s.view.noDev = true
	}
	if s.view.names, err = linkNames(ctx, c); err != nil {
		return err
	}
	out := []routeJSON{}
	// Text streams as the dump does, as ip prints it: a million routes
	// need no more memory than a few (the whole text held in memory was
	// 200 MiB and made nlkit slower than ip route show).
	text := bufio.NewWriterSize(a.out, 64<<10)
	for r, err := range c.Routes(ctx, &s.filter) {
		if err != nil {
			_ = text.Flush()
			return routeKernelError("route show", err)
		}
		if !s.matches(r) {
			continue
		}
		j := toRouteJSON(r, &s.view)
		if a.json {
			out = append(out, j)
		} else {
			text.WriteString(j.text())
			text.WriteByte('\n')
		}
	}
	if a.json {
		return a.printJSON(out)
	}
	return text.Flush()
}

func routeGet(a *app, ctx context.Context, args []string) error {
	w := newWords("route get", args)
	var opts rtnl.RouteGetOptions
	var dst netip.Addr
	var iif, oif string
	for w.more() {
		switch k := w.next(); k {
		case "from":
			v, err := w.value(k)
			if err != nil {
				return err
			}
			if opts.From, err = parseAddr(v); err != nil {
				return fmt.Errorf("route get: from: %w", err)
			}
		case "iif":
			v, err := w.value(k)
			if err != nil {
				return err
			}
			iif = v
		case "oif", "dev":
			v, err := w.value(k)
			if err != nil {
				return err
			}
			oif = v
		case "mark":
			v, err := w.uint(k, 32)
			if err != nil {
				return err
			}
			opts.Mark = uint32(v)
		case "tos", "dsfield":
			v, err := w.uint(k, 8)
			if err != nil {
				return err
			}
			opts.TOS = uint8(v)
		case "fibmatch":
			opts.FIBMatch = true
		case "to":
			v, err := w.value(k)
			if err != nil {
				return err
			}
			if dst, err = routeGetAddr(v, dst); err != nil {
				return err
			}
		default:
			var err error
			if !strings.ContainsAny(k, ".:") {
				return w.unknown(k)
			}
			if dst, err = routeGetAddr(k, dst); err != nil {
				return err
			}
		}
	}
	if !dst.IsValid() {
		return errors.New("route get: missing destination ADDRESS (see nlkit route get --help)")
	}
	if opts.From.IsValid() && routeFamilyOf(opts.From) != routeFamilyOf(dst) {
		return fmt.Errorf("route get: source %s and destination %s are of different families", opts.From, dst)
	}
	c, err := a.rtnl()
	if err != nil {
		return err
	}
	defer c.Close()
	if iif != "" {
		if opts.InIndex, err = routeDev(ctx, c, iif); err != nil {
			return err
		}
	}
	if oif != "" {
		if opts.OutIndex, err = routeDev(ctx, c, oif); err != nil {
			return err
		}
	}
	r, err := c.GetRoute(ctx, dst, &opts)
	if err != nil {
		return routeKernelError("route get "+dst.String(), err)
	}
	view := routeView{allTables: true, details: a.details}
	if view.names, err = linkNames(ctx, c); err != nil {
		return err
	}
	j := toRouteJSON(r, &view)
	if a.json {
		return a.printJSON([]routeJSON{j})
	}
	_, err = fmt.Fprintln(a.out, j.text())
	return err
}

// routeGetAddr parses the destination of route get: an address (a /32 or
// /128 prefix is accepted, as ip does).
func routeGetAddr(s string, prev netip.Addr) (netip.Addr, error) {
	if prev.IsValid() {
		return netip.Addr{}, fmt.Errorf("route get: two destinations: %s and %s", prev, s)
	}
	if p, err := netip.ParsePrefix(s); err == nil && p.Bits() == p.Addr().BitLen() {
		return p.Addr(), nil
	}
	a, err := parseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("route get: %w", err)
	}
	return a, nil
}

// routeGatewayWord is a "via" as typed: the family keyword, if any, and
// the address.
type routeGatewayWord struct {
	family string // "", "inet" or "inet6"
	addr   netip.Addr
}

// routeNextHopWords is a "nexthop" clause as typed.
type routeNextHopWords struct {
	via    *routeGatewayWord
	dev    string
	weight int
	onlink bool
}

// routeRequest is a route as typed after add, del, ...
type routeRequest struct {
	route    rtnl.Route
	dst      string // the prefix as typed ("default" waits for the family)
	via      *routeGatewayWord
	dev      string
	scopeSet bool
	nexthops []routeNextHopWords
}

var routeTypeWords = map[string]rtnl.RouteType{
	"unicast": rtnl.RouteTypeUnicast, "local": rtnl.RouteTypeLocal, "broadcast": rtnl.RouteTypeBroadcast,
	"anycast": rtnl.RouteTypeAnycast, "multicast": rtnl.RouteTypeMulticast, "blackhole": rtnl.RouteTypeBlackhole,
	"unreachable": rtnl.RouteTypeUnreachable, "prohibit": rtnl.RouteTypeProhibit, "throw": rtnl.RouteTypeThrow,
	"nat": rtnl.RouteTypeNAT,
}

// routeTime parses a time as ip does: "100ms", "2s", "1.5s", or a plain
// number of milliseconds.
func routeTime(w *words, key string) (time.Duration, error) {
	v, err := w.value(key)
	if err != nil {
		return 0, err
	}
	s, unit := v, time.Millisecond
	switch {
	case strings.HasSuffix(v, "ms") || strings.HasSuffix(v, "msec"):
		s = strings.TrimSuffix(strings.TrimSuffix(v, "msec"), "ms")
	case strings.HasSuffix(v, "s") || strings.HasSuffix(v, "sec"):
		s, unit = strings.TrimSuffix(strings.TrimSuffix(v, "sec"), "s"), time.Second
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f*float64(unit) > float64(time.Duration(1<<31)*time.Millisecond) {
		return 0, fmt.Errorf("%s: %s %q: want a time such as 100ms or 2s", w.cmd, key, v)
	}
	return time.Duration(f * float64(unit)), nil
}

func parseRouteGateway(w *words, key string) (*routeGatewayWord, error) {
	v, err := w.value(key)
	if err != nil {
		return nil, err
	}
	g := &routeGatewayWord{}
	if v == "inet" || v == "inet6" {
		g.family = v
		if v, err = w.value(key + " " + g.family); err != nil {
			return nil, err
		}
	}
	if g.addr, err = parseAddr(v); err != nil {
		return nil, fmt.Errorf("%s: via: %w", w.cmd, err)
	}
	g.addr = g.addr.Unmap()
	if (g.family == "inet" && !g.addr.Is4()) || (g.family == "inet6" && !g.addr.Is6()) {
		return nil, fmt.Errorf("%s: via %s %s: the address is not of family %s", w.cmd, g.family, g.addr, g.family)
	}
	return g, nil
}

func parseRouteRequest(verb string, args []string) (*routeRequest, error) {
	w := newWords("route "+verb, args)
	req := &routeRequest{}
	r := &req.route
	m := func() *rtnl.RouteMetrics {
		if r.Metrics == nil {
			r.Metrics = new(rtnl.RouteMetrics)
		}
		return r.Metrics
	}
	// metric parses "NAME [lock] VALUE".
	metric := func(key string, lock rtnl.MetricLocks, bits int) (uint32, error) {
		if w.peek() == "lock" {
			w.next()
			m().Lock |= lock
		}
		v, err := w.uint(key, bits)
		return uint32(v), err
	}
	for w.more() {
		k := w.next()
		var err error
		switch k {
		case "via":
			if req.via != nil {
				return nil, fmt.Errorf("route %s: two gateways (use nexthop for a multipath route)", verb)
			}
			req.via, err = parseRouteGateway(w, k)
		case "dev", "oif":
			req.dev, err = w.value(k)
		case "table":
			var v string
			if v, err = w.value(k); err == nil {
				var t uint32
				if t, err = rtnl.ParseRouteTable(v); err != nil || t == rtnl.TableAll {
					err = fmt.Errorf("route %s: table %q: want main, local, default or a number from 1", verb, v)
				}
				r.Table = t
			}
		case "metric", "priority", "preference":
			var v uint64
			v, err = w.uint(k, 32)
			r.Priority = uint32(v)
		case "proto", "protocol":
			var v string
			if v, err = w.value(k); err == nil {
				if r.Protocol, err = rtnl.ParseRouteProtocol(v); err != nil {
					err = fmt.Errorf("route %s: proto %q: want boot, static, dhcp, kernel, ... or 0-255", verb, v)
				}
			}
		case "scope":
			var v string
			if v, err = w.value(k); err == nil {
				if r.Scope, err = rtnl.ParseScope(v); err != nil {
					err = fmt.Errorf("route %s: scope %q: want global, site, link, host or 0-255", verb, v)
				}
				req.scopeSet = true
			}
		case "src":
			var v string
			if v, err = w.value(k); err == nil {
				if r.PrefSrc, err = parseAddr(v); err != nil {
					err = fmt.Errorf("route %s: src: %w", verb, err)
				}
			}
		case "from":
			var v string
			if v, err = w.value(k); err == nil {
				if r.Src, err = parsePrefix(v, 0); err != nil {
					err = fmt.Errorf("route %s: from: %w", verb, err)
				}
			}
		case "tos", "dsfield":
			var v uint64
			v, err = w.uint(k, 8)
			r.TOS = uint8(v)
		case "onlink":
			r.Flags |= rtnl.RouteFlagOnLink
		case "pervasive":
			r.Flags |= rtnl.RouteFlagPervasive
		case "mtu":
			m().MTU, err = metric(k, rtnl.LockMTU, 32)
		case "advmss":
			m().AdvMSS, err = metric(k, rtnl.LockAdvMSS, 32)
		case "window":
			m().Window, err = metric(k, rtnl.LockWindow, 32)
		case "cwnd":
			m().CWnd, err = metric(k, rtnl.LockCWnd, 32)
		case "ssthresh":
			m().SSThresh, err = metric(k, rtnl.LockSSThresh, 32)
		case "reordering":
			m().Reordering, err = metric(k, rtnl.LockReordering, 32)
		case "hoplimit":
			m().HopLimit, err = metric(k, rtnl.LockHopLimit, 8)
		case "initcwnd":
			m().InitCWnd, err = metric(k, rtnl.LockInitCWnd, 32)
		case "initrwnd":
			m().InitRWnd, err = metric(k, rtnl.LockInitRWnd, 32)
		case "rtt", "rttvar":
			lock := rtnl.LockRTT
			if k == "rttvar" {
				lock = rtnl.LockRTTVar
			}
			if w.peek() == "lock" {
				w.next()
				m().Lock |= lock
			}
			var d time.Duration
			if d, err = routeTime(w, k); err == nil {
				if k == "rtt" {
					m().RTT = d
				} else {
					m().RTTVar = d
				}
			}
		case "rto_min":
			m().Lock |= rtnl.LockRTOMin // as ip: rto_min is always locked
			m().RTOMin, err = routeTime(w, k)
		case "quickack", "fastopen_no_cookie":
			var v uint64
			if v, err = w.uint(k, 32); err == nil && v > 1 {
				err = fmt.Errorf("route %s: %s %d: want 0 or 1", verb, k, v)
			}
			if k == "quickack" {
				m().QuickAck = uint32(v)
			} else {
				m().FastOpenNoCookie = uint32(v)
			}
		case "congctl":
			if w.peek() == "lock" {
				w.next()
				m().Lock |= rtnl.LockCongestion
			}
			m().CongestionControl, err = w.value(k)
		case "features":
			var v string
			if v, err = w.value(k); err == nil {
				if v != "ecn" {
					err = fmt.Errorf("route %s: features %q: the only feature is ecn", verb, v)
				}
				m().Features = 1
			}
		case "pref":
			var v string
			if v, err = w.value(k); err == nil {
				switch v {
				case "low":
					r.Pref = rtnl.RoutePrefLow
				case "medium":
					r.Pref = rtnl.RoutePrefMedium
				case "high":
					r.Pref = rtnl.RoutePrefHigh
				default:
					err = fmt.Errorf("route %s: pref %q: want low, medium or high", verb, v)
				}
			}
		case "expires":
			var v uint64
			v, err = w.uint(k, 32)
			r.Expires = time.Duration(v) * time.Second
		case "nhid":
			var v uint64
			v, err = w.uint(k, 32)
			r.NextHopID = uint32(v)
		case "nexthop":
			nh, nerr := parseRouteNextHop(w, verb)
			if nerr != nil {
				return nil, nerr
			}
			req.nexthops = append(req.nexthops, nh)
		case "to":
			var v string
			if v, err = w.value(k); err == nil {
				err = req.setDst(verb, v)
			}
		default:
			if t, ok := routeTypeWords[k]; ok && req.dst == "" && r.Type == 0 {
				r.Type = t
				if !w.more() {
					return nil, fmt.Errorf("route %s: missing PREFIX after %q", verb, k)
				}
				continue
			}
			if req.dst != "" || !(strings.ContainsAny(k, ".:") || k == "default") {
				return nil, w.unknown(k)
			}
			err = req.setDst(verb, k)
		}
		if err != nil {
			return nil, err
		}
	}
	if req.dst == "" {
		return nil, fmt.Errorf("route %s: missing destination: PREFIX or default (see nlkit route %s --help)", verb, verb)
	}
	return req, nil
}

func (req *routeRequest) setDst(verb, s string) error {
	if req.dst != "" {
		return fmt.Errorf("route %s: two destinations: %q and %q", verb, req.dst, s)
	}
	req.dst = s
	if s == "default" {
		return nil
	}
	p, err := parsePrefix(s, 0)
	if err != nil {
		return fmt.Errorf("route %s: %w", verb, err)
	}
	req.route.Dst = p
	return nil
}

func parseRouteNextHop(w *words, verb string) (routeNextHopWords, error) {
	nh := routeNextHopWords{weight: 1}
	if !w.more() {
		return nh, fmt.Errorf("route %s: missing next hop after \"nexthop\"", verb)
	}
	for w.more() && w.peek() != "nexthop" {
		k := w.next()
		var err error
		switch k {
		case "via":
			nh.via, err = parseRouteGateway(w, "nexthop via")
		case "dev":
			nh.dev, err = w.value("nexthop dev")
		case "weight":
			var v uint64
			if v, err = w.uint("weight", 32); err == nil && (v < 1 || v > 256) {
				err = fmt.Errorf("route %s: weight %d: want 1 to 256", verb, v)
			}
			nh.weight = int(v)
		case "onlink":
			nh.onlink = true
		default:
			return nh, fmt.Errorf("route %s: unknown argument %q in nexthop (want via, dev, weight or onlink; options of the route go before the first nexthop)", verb, k)
		}
		if err != nil {
			return nh, err
		}
	}
	if nh.via == nil && nh.dev == "" {
		return nh, fmt.Errorf("route %s: nexthop needs via ADDR or dev DEV", verb)
	}
	return nh, nil
}

// build resolves the family, the default prefix, gateways and devices.
func (req *routeRequest) build(ctx context.Context, c *rtnl.Client, verb string, fam uint8) error {
	r := &req.route
	// The family: -4/-6, else the destination's, else the first address
	// typed (a gateway, a source), else IPv4, as ip does.
	if fam == 0 && req.dst != "default" {
		fam = routeFamilyOf(r.Dst.Addr())
	}
	var guesses []netip.Addr
	if req.via != nil {
		guesses = append(guesses, req.via.addr)
	}
	for _, nh := range req.nexthops {
		if nh.via != nil {
			guesses = append(guesses, nh.via.addr)
		}
	}
	guesses = append(guesses, r.PrefSrc, r.Src.Addr())
	for _, a := range guesses {
		if fam == 0 && a.IsValid() {
			fam = routeFamilyOf(a)
		}
	}
	if fam == 0 {
		fam = routeFamilyV4
	}
	if req.dst == "default" {
		z := netip.IPv4Unspecified()
		if fam == routeFamilyV6 {
			z = netip.IPv6Unspecified()
		}
		r.Dst = netip.PrefixFrom(z, 0)
	}
	if routeFamilyOf(r.Dst.Addr()) != fam {
		return fmt.Errorf("route %s: %s is not an %s prefix", verb, r.Dst, familyWord(fam))
	}
	r.Family = fam
	gateway := func(g *routeGatewayWord) (netip.Addr, error) {
		if g.family == "" && routeFamilyOf(g.addr) != fam {
			hint := ""
			if fam == routeFamilyV4 {
				hint = ` (write "via inet6 ` + g.addr.String() + `" for an IPv6 next hop of an IPv4 route)`
			}
			return netip.Addr{}, fmt.Errorf("route %s: gateway %s is %s but %s is %s%s", verb, g.addr, familyWord(routeFamilyOf(g.addr)), r.Dst, familyWord(fam), hint)
		}
		if fam == routeFamilyV6 && g.addr.Is4() {
			return netip.Addr{}, fmt.Errorf("route %s: gateway %s: IPv6 routes cannot have IPv4 gateways", verb, g.addr)
		}
		return g.addr, nil
	}
	var err error
	if req.via != nil {
		if r.Gateway, err = gateway(req.via); err != nil {
			return err
		}
	}
	for name, a := range map[string]netip.Addr{"src": r.PrefSrc, "from": r.Src.Addr()} {
		if a.IsValid() && routeFamilyOf(a) != fam {
			return fmt.Errorf("route %s: %s %s is %s but %s is %s", verb, name, a, familyWord(routeFamilyOf(a)), r.Dst, familyWord(fam))
		}
	}
	if r.Expires > 0 && fam != routeFamilyV6 {
		return fmt.Errorf("route %s: expires: only IPv6 routes can expire", verb)
	}
	if req.dev != "" {
		if r.OutIndex, err = routeDev(ctx, c, req.dev); err != nil {
			return err
		}
	}
	for _, nh := range req.nexthops {
		h := rtnl.NextHop{Weight: nh.weight}
		if nh.via != nil {
			if h.Gateway, err = gateway(nh.via); err != nil {
				return err
			}
		}
		if nh.dev != "" {
			if h.OutIndex, err = routeDev(ctx, c, nh.dev); err != nil {
				return err
			}
		}
		if nh.onlink {
			h.Flags |= rtnl.RouteFlagOnLink
		}
		r.MultiPath = append(r.MultiPath, h)
	}
	// As ip: an IPv4 unicast route without gateway is on the link.
	if verb != "del" && !req.scopeSet && fam == routeFamilyV4 && (r.Type == 0 || r.Type == rtnl.RouteTypeUnicast) &&
		!r.Gateway.IsValid() && r.MultiPath == nil && r.NextHopID == 0 {
		r.Scope = rtnl.ScopeLink
	}
	return nil
}

func familyWord(fam uint8) string {
	if fam == routeFamilyV6 {
		return "IPv6"
	}
	return "IPv4"
}

func routeModify(a *app, ctx context.Context, verb string, fam uint8, args []string) error {
	req, err := parseRouteRequest(verb, args)
	if err != nil {
		return err
	}
	c, err := a.rtnl()
	if err != nil {
		return err
	}
	defer c.Close()
	if err := req.build(ctx, c, verb, fam); err != nil {
		return err
	}
	r := &req.route
	switch verb {
	case "add":
		err = c.AddRoute(ctx, r)
	case "replace":
		err = c.ReplaceRoute(ctx, r)
	case "change":
		err = c.ChangeRoute(ctx, r)
	case "append":
		err = c.AppendRoute(ctx, r)
	case "del":
		err = c.DeleteRoute(ctx, r)
	}
	if err != nil {
		return routeKernelError("route "+verb+" "+r.Dst.String(), err)
	}
	return nil
}
