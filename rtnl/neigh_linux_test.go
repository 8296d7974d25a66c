//go:build linux

package rtnl_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"syscall"
	"testing"

	"github.com/nlkit/nlkit/internal/nstest"
	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/rtnl"
)

// nullFlag reports whether a JSON key holding null was present.
type nullFlag bool

func (f *nullFlag) UnmarshalJSON([]byte) error { *f = true; return nil }

// ipNeighFlags is the part of `ip -j neigh` whose keys are null-flags.
type ipNeighFlags struct {
	Dst    string   `json:"dst"`
	Dev    string   `json:"dev"`
	LLAddr string   `json:"lladdr"`
	State  []string `json:"state"`
	Router nullFlag `json:"router"`
	Proxy  nullFlag `json:"proxy"`
}

// neighNS is a namespace with veth pair va/vb up, va addressed, whose
// IPv4 and IPv6 REACHABLE entries stay REACHABLE for an hour (so a state
// read twice reads the same).
func neighNS(t *testing.T) (*nstest.NS, *rtnl.Client, int32) {
	t.Helper()
	ns := nstest.New(t)
	ns.Batch(t, `link add va type veth peer name vb
link set va up
link set vb up
addr add 10.0.0.1/24 dev va
addr add 2001:db8::1/64 dev va nodad
`)
	for _, fam := range []string{"ipv4", "ipv6"} {
		ns.Exec(t, "sysctl", "-qw", "net."+fam+".neigh.va.base_reachable_time_ms=3600000")
	}
	c, err := rtnl.Dial(&netlink.Config{NetNS: ns.Name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	va, err := c.LinkByName(context.Background(), "va")
	if err != nil {
		t.Fatal(err)
	}
	return ns, c, va.Index
}

func mac(s string) net.HardwareAddr {
	hw, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return hw
}

// ipNeighs returns `ip -j neigh show ARGS` keyed by destination.
func ipNeighs(t *testing.T, ns *nstest.NS, args ...string) map[string]ipNeighFlags {
	t.Helper()
	var list []ipNeighFlags
	ns.IPJSON(t, &list, append([]string{"neigh", "show"}, args...)...)
	out := map[string]ipNeighFlags{}
	for _, n := range list {
		out[n.Dst] = n
	}
	return out
}

func TestKernelNeighborAddMatchesIP(t *testing.T) {
	ns, c, va := neighNS(t)
	ctx := context.Background()
	add := []*rtnl.Neighbor{
		{Index: va, State: rtnl.NeighPermanent, IP: netip.MustParseAddr("10.0.0.2"), HardwareAddr: mac("02:00:00:00:00:02")},
		{Index: va, State: rtnl.NeighStale, Flags: rtnl.NeighFlagRouter, IP: netip.MustParseAddr("10.0.0.3"), HardwareAddr: mac("02:00:00:00:00:03")},
		{Index: va, State: rtnl.NeighReachable, IP: netip.MustParseAddr("10.0.0.4"), HardwareAddr: mac("02:00:00:00:00:04")},
		{Index: va, State: rtnl.NeighNoARP, IP: netip.MustParseAddr("10.0.0.5"), HardwareAddr: mac("02:00:00:00:00:05")},
		{Index: va, State: rtnl.NeighPermanent, IP: netip.MustParseAddr("2001:db8::2"), HardwareAddr: mac("02:00:00:00:00:12")},
		{Index: va, State: rtnl.NeighStale, Flags: rtnl.NeighFlagRouter, IP: netip.MustParseAddr("2001:db8::3"), HardwareAddr: mac("02:00:00:00:00:13")},
		{Index: va, State: rtnl.NeighReachable, IP: netip.MustParseAddr("2001:db8::4"), HardwareAddr: mac("02:00:00:00:00:14")},
	}
	for _, n := range add {
		if err := c.AddNeighbor(ctx, n); err != nil {
			t.Fatalf("add %s: %v", n.IP, err)
		}
	}
	got := ipNeighs(t, ns, "nud", "all")
	for _, n := range add {
		w, ok := got[n.IP.String()]
		if !ok {
			t.Errorf("ip does not show %s", n.IP)
			continue
		}
		if w.Dev != "va" || w.LLAddr != n.HardwareAddr.String() || !slices.Equal(w.State, n.State.Names()) ||
			bool(w.Router) != (n.Flags&rtnl.NeighFlagRouter != 0) || bool(w.Proxy) {
			t.Errorf("%s: ip shows %+v, added %+v", n.IP, w, n)
		}
	}

	// Adding again fails with EEXIST and the kernel's word for it.
	err := c.AddNeighbor(ctx, add[0])
	if !errors.Is(err, syscall.EEXIST) {
		t.Fatalf("second add: %v, want EEXIST", err)
	}
	var oe *netlink.OpError
	if !errors.As(err, &oe) {
		t.Fatalf("second add: %T is not an *netlink.OpError underneath", err)
	}

	// The library lists what ip lists, field by field, in every family
	// and with the family filter.
	for _, fam := range []rtnl.AddrFamily{rtnl.AddrFamilyUnspec, rtnl.AddrFamilyIPv4, rtnl.AddrFamilyIPv6} {
		list, err := c.ListNeighbors(ctx, rtnl.NeighborFilter{Family: fam, Index: va})
		if err != nil {
			t.Fatal(err)
		}
		args := []string{"neigh", "show", "nud", "all", "dev", "va"}
		switch fam {
		case rtnl.AddrFamilyIPv4:
			args = append([]string{"-4"}, args...)
		case rtnl.AddrFamilyIPv6:
			args = append([]string{"-6"}, args...)
		}
		var all []ipNeighFlags
		ns.IPJSON(t, &all, args...)
		// The kernel adds multicast and link-local entries of its own
		// at any time; compare the test's entries.
		var want []ipNeighFlags
		for _, w := range all {
			if ours(w.Dst) {
				want = append(want, w)
			}
		}
		list = slices.DeleteFunc(list, func(n *rtnl.Neighbor) bool { return !ours(n.IP.String()) })
		added := 0
		for _, n := range add {
			if fam == rtnl.AddrFamilyUnspec || (fam == rtnl.AddrFamilyIPv4) == n.IP.Is4() {
				added++
			}
		}
		if len(list) != added {
			t.Errorf("family %v: %d of the test's entries listed, %d added", fam, len(list), added)
		}
		if len(list) != len(want) {
			t.Fatalf("family %v: nlkit %d entries, ip %d", fam, len(list), len(want))
		}
		for i, n := range list {
			w := want[i]
			hw := ""
			if n.HardwareAddr != nil {
				hw = n.HardwareAddr.String()
			}
			if n.IP.String() != w.Dst || hw != w.LLAddr || !slices.Equal(n.State.Names(), w.State) ||
				bool(w.Router) != (n.Flags&rtnl.NeighFlagRouter != 0) || n.Index != va ||
				(fam != rtnl.AddrFamilyUnspec && n.Family != fam) || n.CacheInfo == nil {
				t.Errorf("family %v entry %d: nlkit %+v, ip %+v", fam, i, n, w)
			}
		}
	}
}

func TestKernelNeighborIPMatchesList(t *testing.T) {
	ns, c, va := neighNS(t)
	ns.Batch(t, `neigh add 10.0.0.20 lladdr 02:00:00:00:01:20 dev va nud permanent
neigh add 10.0.0.21 lladdr 02:00:00:00:01:21 dev va nud stale router
neigh add 10.0.0.22 dev va nud none
neigh add 2001:db8::20 lladdr 02:00:00:00:01:30 dev va nud noarp
neigh add 2001:db8::21 lladdr 02:00:00:00:01:31 dev va nud reachable router
neigh add proxy 10.0.0.29 dev va
neigh add proxy 2001:db8::29 dev va
`)
	ctx := context.Background()
	byIP := map[string]*rtnl.Neighbor{}
	for n, err := range c.Neighbors(ctx, rtnl.NeighborFilter{Index: va}) {
		if err != nil {
			t.Fatal(err)
		}
		byIP[n.IP.String()] = n
	}
	want := []struct {
		ip     string
		hw     string
		state  rtnl.NeighState
		router bool
	}{
		{"10.0.0.20", "02:00:00:00:01:20", rtnl.NeighPermanent, false},
		{"10.0.0.21", "02:00:00:00:01:21", rtnl.NeighStale, true},
		{"10.0.0.22", "", rtnl.NeighNone, false},
		{"2001:db8::20", "02:00:00:00:01:30", rtnl.NeighNoARP, false},
		{"2001:db8::21", "02:00:00:00:01:31", rtnl.NeighReachable, true},
	}
	for _, w := range want {
		n := byIP[w.ip]
		if n == nil {
			t.Errorf("nlkit does not list %s", w.ip)
			continue
		}
		hw := ""
		if n.HardwareAddr != nil {
			hw = n.HardwareAddr.String()
		}
		if hw != w.hw || n.State != w.state || (n.Flags&rtnl.NeighFlagRouter != 0) != w.router || n.Flags&rtnl.NeighFlagProxy != 0 {
			t.Errorf("%s: nlkit %+v (state %v, flags %v), want %+v", w.ip, n, n.State, n.Flags, w)
		}
	}
	if byIP["10.0.0.29"] != nil {
		t.Error("a proxy entry is listed with the cache")
	}

	// Proxy entries, compared with ip -j neigh show proxy.
	proxies, err := c.ListNeighbors(ctx, rtnl.NeighborFilter{Proxy: true})
	if err != nil {
		t.Fatal(err)
	}
	ipProxies := ipNeighs(t, ns, "proxy")
	if len(proxies) != len(ipProxies) || len(proxies) != 2 {
		t.Fatalf("proxy entries: nlkit %d, ip %d: %v", len(proxies), len(ipProxies), ipProxies)
	}
	for _, p := range proxies {
		w, ok := ipProxies[p.IP.String()]
		if !ok || !bool(w.Proxy) || p.Flags&rtnl.NeighFlagProxy == 0 || p.Index != va || w.Dev != "va" || p.State != rtnl.NeighNone {
			t.Errorf("proxy %s: nlkit %+v, ip %+v", p.IP, p, w)
		}
	}

	// Breaking out of a dump early leaves the Client usable.
	for range c.Neighbors(ctx, rtnl.NeighborFilter{}) {
		break
	}
	if _, err := c.ListNeighbors(ctx, rtnl.NeighborFilter{Family: rtnl.AddrFamilyIPv6}); err != nil {
		t.Fatalf("list after an abandoned dump: %v", err)
	}
}

func TestKernelNeighborReplaceDelete(t *testing.T) {
	ns, c, va := neighNS(t)
	ctx := context.Background()
	n := &rtnl.Neighbor{Index: va, State: rtnl.NeighStale, IP: netip.MustParseAddr("10.0.0.2"), HardwareAddr: mac("02:00:00:00:00:02")}
	if err := c.ReplaceNeighbor(ctx, n); err != nil { // replace creates
		t.Fatal(err)
	}
	n6 := &rtnl.Neighbor{Index: va, State: rtnl.NeighPermanent, IP: netip.MustParseAddr("2001:db8::2"), HardwareAddr: mac("02:00:00:00:00:12")}
	if err := c.AddNeighbor(ctx, n6); err != nil {
		t.Fatal(err)
	}
	n.State, n.HardwareAddr = rtnl.NeighPermanent, mac("02:00:00:00:00:22")
	if err := c.ReplaceNeighbor(ctx, n); err != nil {
		t.Fatal(err)
	}
	n6.State, n6.HardwareAddr, n6.Flags = rtnl.NeighReachable, mac("02:00:00:00:00:32"), rtnl.NeighFlagRouter
	if err := c.ChangeNeighbor(ctx, n6); err != nil {
		t.Fatal(err)
	}
	got := ipNeighs(t, ns, "nud", "all")
	if w := got["10.0.0.2"]; w.LLAddr != "02:00:00:00:00:22" || !slices.Equal(w.State, []string{"PERMANENT"}) {
		t.Errorf("after replace: ip shows %+v", w)
	}
	if w := got["2001:db8::2"]; w.LLAddr != "02:00:00:00:00:32" || !slices.Equal(w.State, []string{"REACHABLE"}) || !bool(w.Router) {
		t.Errorf("after change: ip shows %+v", w)
	}
	// Change does not create.
	missing := &rtnl.Neighbor{Index: va, State: rtnl.NeighPermanent, IP: netip.MustParseAddr("10.0.0.99"), HardwareAddr: mac("02:00:00:00:00:99")}
	if err := c.ChangeNeighbor(ctx, missing); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("change of a missing entry: %v, want ENOENT", err)
	}

	// Proxy entries are added and deleted by the proxy flag.
	p := &rtnl.Neighbor{Index: va, Flags: rtnl.NeighFlagProxy, IP: netip.MustParseAddr("2001:db8::9")}
	if err := c.AddNeighbor(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, ok := ipNeighs(t, ns, "proxy")["2001:db8::9"]; !ok {
		t.Fatal("ip does not show the proxy entry")
	}

	for _, d := range []*rtnl.Neighbor{n, n6, p} {
		if err := c.DeleteNeighbor(ctx, d); err != nil {
			t.Fatalf("delete %s: %v", d.IP, err)
		}
	}
	if got := ipNeighs(t, ns, "nud", "all"); got["10.0.0.2"].Dst != "" || got["2001:db8::2"].Dst != "" {
		t.Errorf("deleted entries remain: %v", got)
	}
	if got := ipNeighs(t, ns, "proxy"); len(got) != 0 {
		t.Errorf("deleted proxy entry remains: %v", got)
	}
	err := c.DeleteNeighbor(ctx, n)
	if !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("second delete: %v, want ENOENT", err)
	}

	// Requests the library refuses before sending.
	for _, bad := range []*rtnl.Neighbor{
		{Index: va, State: rtnl.NeighPermanent},
		{State: rtnl.NeighPermanent, IP: netip.MustParseAddr("10.0.0.5")},
		{Family: rtnl.AddrFamilyIPv6, Index: va, IP: netip.MustParseAddr("10.0.0.5")},
	} {
		if err := c.AddNeighbor(ctx, bad); err == nil {
			t.Errorf("add %+v: accepted", bad)
		}
	}
	// A link-layer address of the wrong length: the kernel's error text.
	err = c.AddNeighbor(ctx, &rtnl.Neighbor{Index: va, State: rtnl.NeighPermanent, IP: netip.MustParseAddr("10.0.0.6"), HardwareAddr: net.HardwareAddr{1, 2, 3}})
	if !errors.Is(err, syscall.EINVAL) {
		t.Errorf("3-byte lladdr: %v, want EINVAL", err)
	}
	for dst := range ipNeighs(t, ns, "nud", "all") {
		if ours(dst) {
			t.Errorf("refused requests left entry %s", dst)
		}
	}
}

// ours reports whether an entry is one a test makes (unicast, not
// link-local), not one the kernel makes for IPv6 housekeeping.
func ours(dst string) bool {
	a, err := netip.ParseAddr(dst)
	return err == nil && !a.IsMulticast() && !a.IsLinkLocalUnicast()
}
