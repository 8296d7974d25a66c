//go:build linux

package rtnl_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nlkit/nlkit/internal/nstest"
	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/rtnl"
)

// routeNS makes a namespace with veth0 (10.0.0.1/24, 2001:db8::1/64) and
// its peer veth1 (10.1.1.1/24, 2001:db8:1::1/64), both up, and a Client
// in it. It returns interface indexes by name.
func routeNS(t *testing.T) (*nstest.NS, *rtnl.Client, map[string]int32) {
	t.Helper()
	ns := nstest.New(t)
	ns.IP(t, "link", "add", "veth0", "type", "veth", "peer", "name", "veth1")
	for _, cmd := range [][]string{
		{"link", "set", "veth0", "up"}, {"link", "set", "veth1", "up"},
		{"addr", "add", "10.0.0.1/24", "dev", "veth0"}, {"addr", "add", "2001:db8::1/64", "dev", "veth0", "nodad"},
		{"addr", "add", "10.1.1.1/24", "dev", "veth1"}, {"addr", "add", "2001:db8:1::1/64", "dev", "veth1", "nodad"},
	} {
		ns.IP(t, cmd...)
	}
	c, err := rtnl.Dial(&netlink.Config{NetNS: ns.Name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	links, err := c.ListLinks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	idx := map[string]int32{}
	for _, l := range links {
		idx[l.Name] = l.Index
	}
	return ns, c, idx
}

// ipForm renders r as `ip -j route show table all` does, as a map
// decoded from JSON, to compare with ip's own output field by field.
func ipForm(r *rtnl.Route, names map[int32]string) map[string]any {
	j := map[string]any{"flags": r.Flags.Names()}
	addr := func(p netip.Prefix) string {
		if p.Bits() == p.Addr().BitLen() {
			return p.Addr().String()
		}
		return p.String()
	}
	if r.Type != rtnl.RouteTypeUnicast {
		j["type"] = r.Type.String()
	}
	j["dst"] = addr(r.Dst)
	if r.Dst.Bits() == 0 {
		j["dst"] = "default"
	}
	if r.Src.IsValid() {
		j["from"] = addr(r.Src)
	}
	if r.TOS != 0 {
		j["tos"] = fmt.Sprintf("0x%x", r.TOS)
	}
	gw := func(m map[string]any, a netip.Addr) {
		switch {
		case !a.IsValid():
		case a.Is4() == (r.Family == 2):
			m["gateway"] = a.String()
		case a.Is4():
			m["via"] = map[string]any{"family": "inet", "host": a.String()}
		default:
			m["via"] = map[string]any{"family": "inet6", "host": a.String()}
		}
	}
	gw(j, r.Gateway)
	if r.OutIndex != 0 {
		j["dev"] = names[r.OutIndex]
	}
	if r.Table != rtnl.TableMain {
		j["table"] = rtnl.RouteTableName(r.Table)
	}
	if r.Flags&rtnl.RouteFlagCloned == 0 {
		if r.Protocol != rtnl.RouteProtoBoot {
			j["protocol"] = r.Protocol.String()
		}
		if r.Scope != rtnl.ScopeGlobal {
			j["scope"] = r.Scope.String()
		}
	}
	if r.PrefSrc.IsValid() {
		j["prefsrc"] = r.PrefSrc.String()
	}
	if r.Priority != 0 || r.Family == 10 {
		j["metric"] = r.Priority
	}
	if r.Expires > 0 {
		j["expires"] = int(r.Expires / time.Second)
	}
	if m := r.Metrics; m != nil {
		mx := map[string]any{}
		for k, v := range map[string]uint32{"mtu": m.MTU, "window": m.Window, "rtt": uint32(m.RTT / time.Millisecond),
			"advmss": m.AdvMSS, "hoplimit": m.HopLimit, "initcwnd": m.InitCWnd, "initrwnd": m.InitRWnd} {
			if v != 0 {
				mx[k] = v
			}
		}
		if m.CongestionControl != "" {
			mx["congestion"] = m.CongestionControl
		}
		j["metrics"] = []any{mx}
	}
	if r.Family == 10 {
		j["pref"] = r.Pref.String()
	}
	if r.MultiPath != nil {
		var hops []any
		for _, nh := range r.MultiPath {
			h := map[string]any{"dev": names[nh.OutIndex], "weight": nh.Weight, "flags": nh.Flags.Names()}
			gw(h, nh.Gateway)
			hops = append(hops, h)
		}
		j["nexthops"] = hops
	}
	// Through JSON, so numbers and lists compare as ip's do.
	b, _ := json.Marshal(j)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

// canon returns routes as sorted JSON lines, without the expiry timer,
// which ticks between two listings.
func canon(routes []map[string]any) []string {
	var out []string
	for _, r := range routes {
		delete(r, "expires")
		b, _ := json.Marshal(r)
		out = append(out, string(b))
	}
	slices.Sort(out)
	return out
}

func compareWithIP(t *testing.T, ns *nstest.NS, c *rtnl.Client, filter *rtnl.RouteFilter, ipArgs ...string) []*rtnl.Route {
	t.Helper()
	routes, err := c.ListRoutes(context.Background(), filter)
	if err != nil {
		t.Fatal(err)
	}
	links, err := c.ListLinks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	names := map[int32]string{}
	for _, l := range links {
		names[l.Index] = l.Name
	}
	var ours []map[string]any
	for _, r := range routes {
		f := ipForm(r, names)
		if filter == nil || filter.Table != rtnl.TableAll {
			delete(f, "table") // ip names the table only when listing all
		}
		if filter != nil && filter.OutIndex != 0 {
			delete(f, "dev")
		}
		if filter != nil && filter.Protocol != 0 {
			delete(f, "protocol")
		}
		if filter != nil && filter.Scope != 0 {
			delete(f, "scope")
		}
		ours = append(ours, f)
	}
	var theirs []map[string]any
	cmd := []string{"route", "show"}
	if len(ipArgs) > 0 && ipArgs[0] == "-6" {
		cmd, ipArgs = []string{"-6", "route", "show"}, ipArgs[1:]
	}
	ns.IPJSON(t, &theirs, append(cmd, ipArgs...)...)
	got, want := canon(ours), canon(theirs)
	if !slices.Equal(got, want) {
		t.Errorf("nlkit and `ip route show %s` differ:\n%s", strings.Join(ipArgs, " "), diff(got, want))
	}
	return routes
}

func diff(got, want []string) string {
	var b strings.Builder
	for _, g := range got {
		if !slices.Contains(want, g) {
			fmt.Fprintf(&b, "  only nlkit: %s\n", g)
		}
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			fmt.Fprintf(&b, "  only ip:    %s\n", w)
		}
	}
	return b.String()
}

func TestKernelRoutesAddedMatchIP(t *testing.T) {
	ns, c, idx := routeNS(t)
	ctx := context.Background()
	p, a := netip.MustParsePrefix, netip.MustParseAddr
	v0, v1 := idx["veth0"], idx["veth1"]
	routes := []rtnl.Route{
		{Dst: p("10.10.0.0/16"), Gateway: a("10.0.0.2"), OutIndex: v0, Priority: 10, Protocol: rtnl.RouteProtoStatic},
		{Dst: p("10.11.0.0/16"), Gateway: a("10.0.0.2"), Table: 100},
		{Dst: p("10.12.0.0/16"), Gateway: a("10.0.0.2"), Table: 1000, PrefSrc: a("10.0.0.1"), Metrics: &rtnl.RouteMetrics{MTU: 1400, AdvMSS: 1300}},
		{Dst: p("10.13.0.0/16"), OutIndex: v0, Scope: rtnl.ScopeLink},
		{Dst: p("10.14.1.1/32"), OutIndex: v1, Scope: rtnl.ScopeLink, Protocol: rtnl.RouteProtoDHCP},
		{Dst: p("10.15.0.0/16"), Type: rtnl.RouteTypeBlackhole},
		{Dst: p("10.16.0.0/16"), Type: rtnl.RouteTypeUnreachable},
		{Dst: p("10.17.0.0/16"), Type: rtnl.RouteTypeProhibit, Table: 1000},
		{Dst: p("10.18.0.0/16"), Type: rtnl.RouteTypeThrow, Table: 100},
		{Dst: p("10.19.0.0/16"), Gateway: a("192.168.99.1"), OutIndex: v0, Flags: rtnl.RouteFlagOnLink},
		{Dst: p("10.20.0.0/16"), MultiPath: []rtnl.NextHop{
			{Gateway: a("10.0.0.2"), OutIndex: v0, Weight: 3},
			{Gateway: a("10.1.1.2"), OutIndex: v1, Weight: 1},
		}},
		{Dst: p("0.0.0.0/0"), Gateway: a("10.0.0.254")},
		{Dst: p("10.21.0.0/16"), Gateway: a("fe80::1"), OutIndex: v0},
		{Dst: p("10.22.0.1/32"), Type: rtnl.RouteTypeLocal, OutIndex: v0},
		{Dst: p("10.23.0.0/16"), OutIndex: v0, Metrics: &rtnl.RouteMetrics{Lock: rtnl.LockMTU, MTU: 1300, HopLimit: 5, InitCWnd: 10, RTT: 100 * time.Millisecond}},
		{Dst: p("2001:db8:10::/48"), Gateway: a("2001:db8::2"), Priority: 5},
		{Dst: p("2001:db8:11::/48"), Gateway: a("2001:db8::2"), Table: 1000, Protocol: rtnl.RouteProtoStatic},
		{Dst: p("2001:db8:12::/48"), MultiPath: []rtnl.NextHop{
			{Gateway: a("2001:db8::2"), OutIndex: v0, Weight: 2},
			{Gateway: a("2001:db8:1::2"), OutIndex: v1, Weight: 1},
		}},
		{Dst: p("2001:db8:13::/48"), Type: rtnl.RouteTypeBlackhole},
		{Dst: p("2001:db8:14::/48"), Gateway: a("2001:db8::2"), Pref: rtnl.RoutePrefHigh, Metrics: &rtnl.RouteMetrics{MTU: 1400}},
		{Dst: p("::/0"), Gateway: a("2001:db8::fe"), OutIndex: v0},
		{Dst: p("2001:db8:15::/48"), Src: p("2001:db8:99::/48"), Gateway: a("2001:db8::2")},
		{Dst: p("2001:db8:16::/48"), Gateway: a("2001:db8::2"), Expires: 600 * time.Second, Table: 100},
	}
	for i := range routes {
		if err := c.AddRoute(ctx, &routes[i]); err != nil {
			t.Fatalf("add %+v: %v", routes[i], err)
		}
	}
	all := compareWithIP(t, ns, c, &rtnl.RouteFilter{}, "table", "all")

	// Spot checks of what was asked for, in the kernel's words.
	find := func(dst string, table uint32) *rtnl.Route {
		for _, r := range all {
			if r.Dst == p(dst) && r.Table == table {
				return r
			}
		}
		t.Fatalf("route %s in table %d not listed", dst, table)
		return nil
	}
	if r := find("10.12.0.0/16", 1000); r.Metrics == nil || r.Metrics.MTU != 1400 || r.Metrics.AdvMSS != 1300 || r.PrefSrc != a("10.0.0.1") {
		t.Errorf("table 1000 route: %+v %+v", r, r.Metrics)
	}
	if r := find("10.20.0.0/16", rtnl.TableMain); len(r.MultiPath) != 2 || r.MultiPath[0].Weight != 3 || r.MultiPath[1].OutIndex != v1 {
		t.Errorf("multipath: %+v", r.MultiPath)
	}
	if r := find("10.22.0.1/32", rtnl.TableLocal); r.Type != rtnl.RouteTypeLocal || r.Scope != rtnl.ScopeHost {
		t.Errorf("local route: %+v", r)
	}
	if r := find("10.23.0.0/16", rtnl.TableMain); r.Metrics == nil || r.Metrics.Lock != rtnl.LockMTU || r.Metrics.RTT != 100*time.Millisecond {
		t.Errorf("locked metrics: %+v", r.Metrics)
	}
	if r := find("2001:db8:16::/48", 100); r.Expires <= 590*time.Second || r.Expires > 600*time.Second {
		t.Errorf("expiry %v, want about 10 minutes", r.Expires)
	}
	var raw []map[string]any
	ns.IPJSON(t, &raw, "-6", "route", "show", "table", "100")
	if len(raw) != 1 || raw[0]["expires"] == nil {
		t.Errorf("ip shows %v for the expiring route", raw)
	}
}

func TestKernelRoutesAddedByIP(t *testing.T) {
	ns, c, _ := routeNS(t)
	ns.Batch(t, `route add 10.30.0.0/16 via 10.0.0.2 dev veth0 proto static metric 7
route add 10.31.0.0/16 via 10.0.0.2 table 2000 src 10.0.0.1 mtu lock 1400 advmss 1200 rtt 2s window 9000 initrwnd 12 congctl cubic
route add 10.32.0.0/16 nexthop via 10.0.0.2 dev veth0 weight 5 nexthop via 10.1.1.2 dev veth1 weight 256
route add 10.33.0.0/16 via inet6 fe80::5 dev veth1
route add prohibit 10.34.0.0/16 table 7
route add broadcast 10.35.0.255 dev veth0
route add 10.36.0.0/24 dev veth1 proto 77 scope 100 tos 0x10
route add unreachable default metric 4000
route add 2001:db8:30::/48 via 2001:db8::2 pref low metric 50
route add 2001:db8:31::/48 dev veth1 proto bird table 300
route add 2001:db8:32::/48 nexthop via 2001:db8::2 dev veth0 weight 7 nexthop via 2001:db8:1::2 dev veth1
route add prohibit 2001:db8:33::/48
route add 2001:db8:34::/48 from 2001:db8:35::/64 via 2001:db8::3 hoplimit 9
`)
	compareWithIP(t, ns, c, &rtnl.RouteFilter{}, "table", "all")
	// The default listing is the main table, as ip route show (IPv4) and
	// ip -6 route show.
	compareWithIP(t, ns, c, &rtnl.RouteFilter{Family: 2, Table: rtnl.TableMain})
	compareWithIP(t, ns, c, &rtnl.RouteFilter{Family: 10, Table: rtnl.TableMain}, "-6")
	main, err := c.ListRoutes(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range main {
		if r.Table != rtnl.TableMain {
			t.Errorf("nil filter listed %s of table %d", r.Dst, r.Table)
		}
	}
	r := main[slices.IndexFunc(main, func(r *rtnl.Route) bool { return r.Dst == netip.MustParsePrefix("10.36.0.0/24") })]
	if r.Protocol != 77 || r.Scope != 100 || r.TOS != 0x10 {
		t.Errorf("numeric protocol and scope, tos: %+v", r)
	}
}

func TestKernelRoutesFilterLikeIP(t *testing.T) {
	ns, c, idx := routeNS(t)
	ns.Batch(t, `route add 10.40.0.0/16 via 10.0.0.2 proto static
route add 10.41.0.0/16 via 10.1.1.2 proto static
route add 10.42.0.0/16 via 10.0.0.2 proto static table 100
route add 10.43.0.0/16 via 10.1.1.2 table 100
route add 10.44.0.0/16 via 10.0.0.2 proto zebra table 100
route add blackhole 10.45.0.0/16 table 100 proto static
route add 10.46.0.0/16 via 10.0.0.2 dev veth0 table 5000 proto static
route add 2001:db8:40::/48 via 2001:db8::2 proto static table 100
route add 2001:db8:41::/48 via 2001:db8:1::2 table 100
`)
	v0 := idx["veth0"]
	cases := []struct {
		filter rtnl.RouteFilter
		ip     []string
	}{
		{rtnl.RouteFilter{Family: 2, Table: 100}, []string{"table", "100"}},
		{rtnl.RouteFilter{Family: 2, Table: 100, OutIndex: v0}, []string{"table", "100", "dev", "veth0"}},
		{rtnl.RouteFilter{Family: 2, Table: 100, OutIndex: v0, Protocol: rtnl.RouteProtoStatic}, []string{"table", "100", "dev", "veth0", "proto", "static"}},
		{rtnl.RouteFilter{Family: 2, Table: rtnl.TableMain, Protocol: rtnl.RouteProtoStatic}, []string{"proto", "static"}},
		{rtnl.RouteFilter{Family: 2, Table: 100, Type: rtnl.RouteTypeBlackhole}, []string{"table", "100", "type", "blackhole"}},
		{rtnl.RouteFilter{Family: 2, Table: 5000, OutIndex: v0}, []string{"table", "5000", "dev", "veth0"}},
		{rtnl.RouteFilter{Family: 2, Table: rtnl.TableLocal, Scope: rtnl.ScopeHost}, []string{"table", "local", "scope", "host"}},
		{rtnl.RouteFilter{Family: 10, Table: 100, OutIndex: idx["veth1"]}, []string{"-6", "table", "100", "dev", "veth1"}},
		{rtnl.RouteFilter{Table: rtnl.TableAll, Protocol: rtnl.RouteProtoStatic}, []string{"table", "all", "proto", "static"}},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.ip, " "), func(t *testing.T) {
			f := tc.filter
			if routes := compareWithIP(t, ns, c, &f, tc.ip...); len(routes) == 0 {
				t.Fatal("filter matched nothing: the test proves little")
			}
		})
	}
	if on, err := c.Conn().GetOption(netlink.GetStrictCheck); err != nil || !on {
		t.Errorf("strict checking after filtered listings: %v %v", on, err)
	}
	// A table that does not exist holds no routes (ip says "FIB table
	// does not exist").
	for _, fam := range []uint8{0, 2, 10} {
		routes, err := c.ListRoutes(context.Background(), &rtnl.RouteFilter{Family: fam, Table: 4242})
		if err != nil || len(routes) != 0 {
			t.Errorf("family %d, missing table: %d routes, %v", fam, len(routes), err)
		}
	}
	// An interface that does not exist is the kernel's error.
	if _, err := c.ListRoutes(context.Background(), &rtnl.RouteFilter{OutIndex: 9999}); !errors.Is(err, syscall.ENODEV) {
		t.Errorf("unknown interface: %v", err)
	}
}

func TestKernelRouteReplaceAppendChangeDelete(t *testing.T) {
	ns, c, idx := routeNS(t)
	ctx := context.Background()
	p, a := netip.MustParsePrefix, netip.MustParseAddr
	r := rtnl.Route{Dst: p("10.50.0.0/16"), Gateway: a("10.0.0.2"), Priority: 5}
	if err := c.AddRoute(ctx, &r); err != nil {
		t.Fatal(err)
	}
	err := c.AddRoute(ctx, &r)
	if !errors.Is(err, syscall.EEXIST) || !strings.Contains(err.Error(), "rtnl: add route 10.50.0.0/16") {
		t.Fatalf("second add: %v, want EEXIST", err)
	}
	show := func(args ...string) []map[string]any {
		var out []map[string]any
		ns.IPJSON(t, &out, append([]string{"route", "show"}, args...)...)
		return out
	}
	gateways := func(rs []map[string]any) []string {
		var gws []string
		for _, r := range rs {
			gws = append(gws, fmt.Sprint(r["gateway"]))
		}
		return gws
	}
	if gws := gateways(show("10.50.0.0/16")); !slices.Equal(gws, []string{"10.0.0.2"}) {
		t.Fatalf("after add: %v", gws)
	}
	r.Gateway = a("10.0.0.3")
	if err := c.ReplaceRoute(ctx, &r); err != nil {
		t.Fatal(err)
	}
	if gws := gateways(show("10.50.0.0/16")); !slices.Equal(gws, []string{"10.0.0.3"}) {
		t.Fatalf("after replace: %v", gws)
	}
	// Replace creates when there is nothing to replace; change does not.
	fresh := rtnl.Route{Dst: p("10.51.0.0/16"), Gateway: a("10.0.0.2")}
	if err := c.ChangeRoute(ctx, &fresh); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("change of a missing route: %v", err)
	}
	if err := c.ReplaceRoute(ctx, &fresh); err != nil {
		t.Fatal(err)
	}
	fresh.Gateway = a("10.0.0.4")
	if err := c.ChangeRoute(ctx, &fresh); err != nil {
		t.Fatal(err)
	}
	if gws := gateways(show("10.51.0.0/16")); !slices.Equal(gws, []string{"10.0.0.4"}) {
		t.Fatalf("after change: %v", gws)
	}
	// IPv4 append: a second route to the same destination, after the first.
	app := rtnl.Route{Dst: p("10.50.0.0/16"), Gateway: a("10.1.1.2"), Priority: 5}
	if err := c.AppendRoute(ctx, &app); err != nil {
		t.Fatal(err)
	}
	if gws := gateways(show("10.50.0.0/16")); !slices.Equal(gws, []string{"10.0.0.3", "10.1.1.2"}) {
		t.Fatalf("after append: %v", gws)
	}
	// IPv6 append: another path of the same route.
	r6 := rtnl.Route{Dst: p("2001:db8:50::/48"), Gateway: a("2001:db8::2"), OutIndex: idx["veth0"]}
	if err := c.AddRoute(ctx, &r6); err != nil {
		t.Fatal(err)
	}
	r6.Gateway, r6.OutIndex = a("2001:db8:1::2"), idx["veth1"]
	if err := c.AppendRoute(ctx, &r6); err != nil {
		t.Fatal(err)
	}
	var v6 []map[string]any
	ns.IPJSON(t, &v6, "-6", "route", "show", "2001:db8:50::/48")
	if len(v6) != 1 || len(v6[0]["nexthops"].([]any)) != 2 {
		t.Fatalf("IPv6 append did not make a multipath route: %v", v6)
	}
	// Delete the first match; what the route sets must match.
	if err := c.DeleteRoute(ctx, &rtnl.Route{Dst: p("10.50.0.0/16"), Gateway: a("10.1.1.2")}); err != nil {
		t.Fatal(err)
	}
	if gws := gateways(show("10.50.0.0/16")); !slices.Equal(gws, []string{"10.0.0.3"}) {
		t.Fatalf("after deleting one: %v", gws)
	}
	if err := c.DeleteRoute(ctx, &rtnl.Route{Dst: p("10.50.0.0/16")}); err != nil {
		t.Fatal(err)
	}
	if rs := show("10.50.0.0/16"); len(rs) != 0 {
		t.Fatalf("deleted route still there: %v", rs)
	}
	before := ns.IP(t, "route", "show", "table", "all")
	err = c.DeleteRoute(ctx, &rtnl.Route{Dst: p("10.50.0.0/16")})
	var oe *netlink.OpError
	if !errors.Is(err, syscall.ESRCH) || !errors.As(err, &oe) || !strings.Contains(err.Error(), "no such process") {
		t.Fatalf("delete of a missing route: %v, want ESRCH", err)
	}
	if err := c.DeleteRoute(ctx, &rtnl.Route{Dst: p("2001:db8:99::/48")}); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("IPv6 delete of a missing route: %v", err)
	}
	// Rejected before sending: nothing changes.
	for _, bad := range []rtnl.Route{
		{Dst: p("2001:db8:51::/48"), Gateway: a("10.0.0.2")},
		{Dst: p("10.52.0.0/16"), MultiPath: []rtnl.NextHop{{Gateway: a("10.0.0.2"), Weight: 0}}},
		{Dst: p("10.53.0.0/16"), PrefSrc: a("2001:db8::1")},
	} {
		if err := c.AddRoute(ctx, &bad); err == nil {
			t.Errorf("invalid route %+v accepted", bad)
		}
	}
	if after := ns.IP(t, "route", "show", "table", "all"); string(after) != string(before) {
		t.Fatalf("failed requests changed the tables:\n%s\n---\n%s", before, after)
	}
}

func TestKernelGetRouteMatchesIP(t *testing.T) {
	ns, c, idx := routeNS(t)
	ctx := context.Background()
	a := netip.MustParseAddr
	ns.Batch(t, `route add 10.60.0.0/16 via 10.0.0.2 metric 3
route add 10.60.5.0/24 via 10.1.1.2 table 100
rule add fwmark 7 table 100
route add 2001:db8:60::/48 via 2001:db8:1::2 metric 9
`)
	ns.Exec(t, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	cases := []struct {
		dst  string
		opts *rtnl.RouteGetOptions
		ip   []string
	}{
		{"10.60.1.1", nil, []string{"10.60.1.1"}},
		{"10.0.0.7", nil, []string{"10.0.0.7"}},
		{"10.0.0.1", nil, []string{"10.0.0.1"}},
		{"10.60.5.9", &rtnl.RouteGetOptions{Mark: 7}, []string{"10.60.5.9", "mark", "7"}},
		{"10.60.1.1", &rtnl.RouteGetOptions{From: a("10.0.0.1"), OutIndex: idx["veth0"]}, []string{"10.60.1.1", "from", "10.0.0.1", "oif", "veth0"}},
		{"10.60.1.1", &rtnl.RouteGetOptions{From: a("10.1.1.9"), InIndex: idx["veth1"]}, []string{"10.60.1.1", "from", "10.1.1.9", "iif", "veth1"}},
		{"10.60.1.1", &rtnl.RouteGetOptions{FIBMatch: true}, []string{"fibmatch", "10.60.1.1"}},
		{"2001:db8:60::5", nil, []string{"2001:db8:60::5"}},
		{"2001:db8::9", nil, []string{"2001:db8::9"}},
	}
	names := map[int32]string{}
	for n, i := range idx {
		names[i] = n
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.ip, " "), func(t *testing.T) {
			r, err := c.GetRoute(ctx, a(tc.dst), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			var theirs []map[string]any
			ns.IPJSON(t, &theirs, append([]string{"route", "get"}, tc.ip...)...)
			if len(theirs) != 1 {
				t.Fatalf("ip route get: %v", theirs)
			}
			w := theirs[0]
			fib := tc.opts != nil && tc.opts.FIBMatch
			if got := r.Dst.Addr().String(); !fib && got != w["dst"] {
				t.Errorf("dst %s, ip %v", got, w["dst"])
			}
			if fib && r.Dst.String() != w["dst"] {
				t.Errorf("fibmatch dst %s, ip %v", r.Dst, w["dst"])
			}
			check := func(field, got string) {
				want, _ := w[field].(string)
				if got != want {
					t.Errorf("%s: nlkit %q, ip %q", field, got, want)
				}
			}
			str := func(a netip.Addr) string {
				if !a.IsValid() {
					return ""
				}
				return a.String()
			}
			check("gateway", str(r.Gateway))
			check("dev", names[r.OutIndex])
			check("prefsrc", str(r.PrefSrc))
			check("iif", names[r.InIndex])
			if r.Type != rtnl.RouteTypeUnicast {
				check("type", r.Type.String())
			}
			if m, ok := w["metric"]; ok && fmt.Sprint(m) != fmt.Sprint(r.Priority) {
				t.Errorf("metric %d, ip %v", r.Priority, m)
			}
			if u, ok := w["uid"]; ok != r.HasUID || (ok && fmt.Sprint(u) != fmt.Sprint(r.UID)) {
				t.Errorf("uid %v/%d, ip %v", r.HasUID, r.UID, u)
			}
			if cache, ok := w["cache"]; ok {
				if r.Flags&rtnl.RouteFlagCloned == 0 || fmt.Sprint(cache) != fmt.Sprint(r.Flags.CacheNames()) {
					t.Errorf("cache %v (flags %#x), ip %v", r.Flags.CacheNames(), uint32(r.Flags), cache)
				}
			}
		})
	}
	// No route: the kernel's error, as ip reports it.
	ns.IP(t, "route", "add", "unreachable", "10.70.0.0/16")
	_, err := c.GetRoute(ctx, a("10.70.1.1"), nil)
	out, ipErr := ns.TryIP("route", "get", "10.70.1.1")
	if err == nil || ipErr == nil || !strings.Contains(strings.ToLower(string(out)), strings.ToLower(errors.Unwrap(errors.Unwrap(err)).Error())) {
		t.Errorf("unreachable: nlkit %v, ip %v %s", err, ipErr, out)
	}
	_, err = c.GetRoute(ctx, a("2001:db8:77::1"), nil)
	if !errors.Is(err, syscall.ENETUNREACH) {
		t.Errorf("IPv6 without route: %v", err)
	}
}

func TestKernelRoutesAtScale(t *testing.T) {
	if testing.Short() {
		t.Skip("installs 100,000 routes")
	}
	ns, c, _ := routeNS(t)
	const n = 100000
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "route add 10.%d.%d.%d/32 dev veth0\n", 100+i>>16, i>>8&0xff, i&0xff)
	}
	ns.Batch(t, b.String())
	seen := make(map[netip.Addr]int, n)
	for r, err := range c.Routes(context.Background(), &rtnl.RouteFilter{Family: 2, Table: rtnl.TableMain}) {
		if err != nil {
			t.Fatal(err)
		}
		if r.Dst.Bits() == 32 {
			seen[r.Dst.Addr()]++
		}
	}
	if len(seen) != n {
		t.Fatalf("listed %d distinct /32 routes, want %d", len(seen), n)
	}
	for a, k := range seen {
		if k != 1 {
			t.Fatalf("%s listed %d times", a, k)
		}
	}
	// Stopping early leaves the Client usable.
	count := 0
	for _, err := range c.Routes(context.Background(), nil) {
		if err != nil {
			t.Fatal(err)
		}
		if count++; count == 10 {
			break
		}
	}
	if _, err := c.GetRoute(context.Background(), netip.MustParseAddr("10.100.0.1"), nil); err != nil {
		t.Fatalf("lookup after an abandoned listing: %v", err)
	}
}

func ExampleClient_Routes() {
	c, err := rtnl.Dial(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	// IPv4 routes of table 100 out of interface 2, filtered by the kernel.
	f := &rtnl.RouteFilter{Family: 2, Table: 100, OutIndex: 2}
	for r, err := range c.Routes(context.Background(), f) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(r.Dst, r.Gateway, r.Priority)
	}
}

func ExampleClient_AddRoute() {
	c, err := rtnl.Dial(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	// ip route add 10.1.0.0/16 nexthop via 10.0.0.2 weight 3 nexthop via 10.0.0.3 proto static
	err = c.AddRoute(context.Background(), &rtnl.Route{
		Dst:      netip.MustParsePrefix("10.1.0.0/16"),
		Protocol: rtnl.RouteProtoStatic,
		MultiPath: []rtnl.NextHop{
			{Gateway: netip.MustParseAddr("10.0.0.2"), Weight: 3},
			{Gateway: netip.MustParseAddr("10.0.0.3"), Weight: 1},
		},
	})
	if errors.Is(err, syscall.EEXIST) {
		fmt.Println("already there")
	}
}

func ExampleClient_GetRoute() {
	c, err := rtnl.Dial(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	r, err := c.GetRoute(context.Background(), netip.MustParseAddr("1.1.1.1"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("via", r.Gateway, "dev", r.OutIndex, "src", r.PrefSrc)
}
