//go:build linux

package rtnl_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nlkit/nlkit/internal/nstest"
	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/rtnl"
)

// ipAddrInfo is one entry of addr_info in `ip -j address`.
type ipAddrInfo struct {
	Family        string `json:"family"`
	Local         string `json:"local"`
	Address       string `json:"address"`
	PrefixLen     int    `json:"prefixlen"`
	Broadcast     string `json:"broadcast"`
	Metric        uint32 `json:"metric"`
	Scope         string `json:"scope"`
	Label         string `json:"label"`
	Secondary     bool   `json:"secondary"`
	Temporary     bool   `json:"temporary"`
	Dynamic       bool   `json:"dynamic"`
	NoDAD         bool   `json:"nodad"`
	NoPrefixRoute bool   `json:"noprefixroute"`
	Tentative     bool   `json:"tentative"`
	Deprecated    bool   `json:"deprecated"`
	Optimistic    bool   `json:"optimistic"`
	MngTmpAddr    bool   `json:"mngtmpaddr"`
	Home          bool   `json:"home"`
	Valid         uint32 `json:"valid_life_time"`
	Preferred     uint32 `json:"preferred_life_time"`
}

type ipAddrLink struct {
	Index    int32        `json:"ifindex"`
	Name     string       `json:"ifname"`
	AddrInfo []ipAddrInfo `json:"addr_info"`
}

// ipAddrs returns every address ip shows in ns, keyed by
// "index/local".
func ipAddrs(t *testing.T, ns *nstest.NS, args ...string) map[string]ipAddrInfo {
	t.Helper()
	var links []ipAddrLink
	ns.IPJSON(t, &links, append([]string{"address", "show"}, args...)...)
	out := map[string]ipAddrInfo{}
	for _, l := range links {
		for _, a := range l.AddrInfo {
			out[fmt.Sprintf("%d/%s", l.Index, a.Local)] = a
		}
	}
	return out
}

func addrKey(a *rtnl.Address) string { return fmt.Sprintf("%d/%s", a.Index, a.Prefix.Addr()) }

// secs is a lifetime as ip -j prints it.
func secs(d time.Duration) uint32 {
	if d == rtnl.Forever {
		return 0xFFFFFFFF
	}
	return uint32(d / time.Second)
}

// compareAddr checks a decoded address against ip's view of it. Finite
// lifetimes count down between the two reads, so ip's may be smaller.
func compareAddr(t *testing.T, a *rtnl.Address, w ipAddrInfo) {
	t.Helper()
	peer := ""
	if a.Peer.IsValid() {
		peer = a.Peer.Addr().String()
	}
	brd := ""
	if a.Broadcast.IsValid() {
		brd = a.Broadcast.String()
	}
	flags := map[string]bool{}
	for _, f := range a.FlagNames() {
		flags[f] = true
	}
	if a.Family.String() != w.Family || a.Prefix.Addr().String() != w.Local || peer != w.Address ||
		a.Prefix.Bits() != w.PrefixLen || brd != w.Broadcast || a.Scope.String() != w.Scope ||
		a.Label != w.Label || a.Metric != w.Metric {
		t.Errorf("address %s differs:\n nlkit %+v\n ip    %+v", addrKey(a), a, w)
	}
	for name, ipHas := range map[string]bool{
		"secondary": w.Secondary, "temporary": w.Temporary, "dynamic": w.Dynamic, "nodad": w.NoDAD,
		"noprefixroute": w.NoPrefixRoute, "tentative": w.Tentative, "deprecated": w.Deprecated,
		"optimistic": w.Optimistic, "mngtmpaddr": w.MngTmpAddr, "home": w.Home,
	} {
		if flags[name] != ipHas {
			t.Errorf("address %s flag %s: nlkit %v, ip %v", addrKey(a), name, flags[name], ipHas)
		}
	}
	for _, lt := range []struct {
		name  string
		nl    time.Duration
		ipVal uint32
	}{{"valid", a.ValidLifetime, w.Valid}, {"preferred", a.PreferredLifetime, w.Preferred}} {
		if lt.nl == rtnl.Forever || lt.ipVal == 0xFFFFFFFF {
			if secs(lt.nl) != lt.ipVal {
				t.Errorf("address %s %s lifetime: nlkit %v, ip %d", addrKey(a), lt.name, lt.nl, lt.ipVal)
			}
		} else if lt.ipVal > secs(lt.nl) {
			t.Errorf("address %s %s lifetime: ip %d after nlkit %v", addrKey(a), lt.name, lt.ipVal, lt.nl)
		}
	}
}

func addrSetup(t *testing.T) (*nstest.NS, *rtnl.Client, int32, int32) {
	t.Helper()
	ns := nstest.New(t)
	// No duplicate address detection: "tentative" would otherwise change
	// between two reads of the same addresses.
	// The kernel runs DAD if either "all" or the device asks for it.
	ns.Exec(t, "sh", "-c", "echo 0 > /proc/sys/net/ipv6/conf/all/accept_dad; echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad")
	// And no kernel-generated link-local addresses, whose flags change as
	// the kernel works on them: only the test's own addresses are listed.
	ns.Batch(t, `link add va type veth peer name vb
link set va addrgenmode none
link set vb addrgenmode none
link set va up
link set vb up
`)
	c, err := rtnl.Dial(&netlink.Config{NetNS: ns.Name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()
	va, err := c.LinkByName(ctx, "va")
	if err != nil {
		t.Fatal(err)
	}
	vb, err := c.LinkByName(ctx, "vb")
	if err != nil {
		t.Fatal(err)
	}
	return ns, c, va.Index, vb.Index
}

func TestKernelAddressAddMatchesIP(t *testing.T) {
	ns, c, va, _ := addrSetup(t)
	ctx := context.Background()
	adds := []*rtnl.Address{
		{Index: va, Prefix: netip.MustParsePrefix("10.0.0.1/24"), Broadcast: netip.MustParseAddr("10.0.0.255"),
			Label: "va:one", ValidLifetime: 100 * time.Second, PreferredLifetime: 50 * time.Second, Metric: 50},
		{Index: va, Prefix: netip.MustParsePrefix("10.0.0.2/24"), Label: "va"}, // a secondary
		{Index: va, Prefix: netip.MustParsePrefix("10.0.1.1/32"), Peer: netip.MustParsePrefix("10.0.1.2/32"),
			Scope: rtnl.ScopeLink, Label: "va"},
		{Index: va, Prefix: netip.MustParsePrefix("2001:db8::1/64"), Flags: rtnl.AddrNoDAD | rtnl.AddrNoPrefixRoute,
			ValidLifetime: 200 * time.Second, PreferredLifetime: 100 * time.Second},
		{Index: va, Prefix: netip.MustParsePrefix("2001:db8:1::1/128"), Peer: netip.MustParsePrefix("2001:db8:1::2/128"),
			Flags: rtnl.AddrNoDAD}, // IPv6 scopes follow from the address: the kernel ignores ifa_scope
	}
	for _, a := range adds {
		if err := c.AddAddress(ctx, a); err != nil {
			t.Fatalf("add %s: %v", a, err)
		}
	}
	got, err := c.ListAddresses(ctx, &rtnl.AddressFilter{Index: va})
	if err != nil {
		t.Fatal(err)
	}
	want := ipAddrs(t, ns, "dev", "va")
	if len(got) != len(want) {
		t.Fatalf("nlkit lists %d addresses on va, ip %d", len(got), len(want))
	}
	byKey := map[string]*rtnl.Address{}
	for _, a := range got {
		byKey[addrKey(a)] = a
		w, ok := want[addrKey(a)]
		if !ok {
			t.Fatalf("nlkit shows %s, ip does not", addrKey(a))
		}
		compareAddr(t, a, w)
	}
	// What we asked for is what ip shows.
	for _, a := range adds {
		w, ok := want[addrKey(a)]
		if !ok {
			t.Fatalf("ip does not show %s", a)
		}
		peer := ""
		if a.Peer.IsValid() {
			peer = a.Peer.Addr().String()
		}
		brd := ""
		if a.Broadcast.IsValid() {
			brd = a.Broadcast.String()
		}
		bits := a.Prefix.Bits()
		if a.Peer.IsValid() {
			bits = a.Peer.Bits()
		}
		if w.Address != peer || w.PrefixLen != bits || w.Broadcast != brd || w.Scope != a.Scope.String() ||
			w.Metric != a.Metric || (a.Family != rtnl.AddrFamilyIPv6 && w.Label != a.Label) {
			t.Errorf("added %+v, ip shows %+v", a, w)
		}
		if a.ValidLifetime != 0 {
			if !w.Dynamic || w.Valid == 0 || w.Valid > secs(a.ValidLifetime) || w.Preferred > secs(a.PreferredLifetime) || w.Preferred > w.Valid {
				t.Errorf("added %s with lifetimes %v/%v, ip shows %+v", a, a.ValidLifetime, a.PreferredLifetime, w)
			}
		} else if w.Dynamic || w.Valid != 0xFFFFFFFF || w.Preferred != 0xFFFFFFFF {
			t.Errorf("added %s without lifetimes, ip shows %+v", a, w)
		}
	}
	if !want[fmt.Sprintf("%d/10.0.0.2", va)].Secondary || byKey[fmt.Sprintf("%d/10.0.0.2", va)].Flags&rtnl.AddrSecondary == 0 {
		t.Errorf("10.0.0.2 should be secondary")
	}
	if a := byKey[fmt.Sprintf("%d/2001:db8::1", va)]; a.Flags&(rtnl.AddrNoDAD|rtnl.AddrNoPrefixRoute) != rtnl.AddrNoDAD|rtnl.AddrNoPrefixRoute {
		t.Errorf("2001:db8::1 flags %v", a.Flags)
	}
}

func TestKernelAddressesFromIP(t *testing.T) {
	ns, c, va, vb := addrSetup(t)
	ns.Batch(t, `address add 10.1.0.1/16 brd + dev va label va:x
address add 10.2.0.1 peer 10.2.0.9/32 dev vb scope host
address add 192.0.2.1/24 dev vb valid_lft 500 preferred_lft 0
address add 2001:db8:5::1/64 dev vb nodad mngtmpaddr
address add 2001:db8:6::1/64 dev va home valid_lft 90 preferred_lft 80 nodad
address add 127.1.0.1/8 dev va
`)
	ctx := context.Background()
	got, err := c.ListAddresses(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := ipAddrs(t, ns)
	if len(got) != len(want) {
		t.Fatalf("nlkit lists %d addresses, ip %d", len(got), len(want))
	}
	for _, a := range got {
		w, ok := want[addrKey(a)]
		if !ok {
			t.Fatalf("nlkit shows %s, ip does not", addrKey(a))
		}
		compareAddr(t, a, w)
	}
	// Filters: by family and by interface; also with strict checking,
	// where the kernel filters by index itself.
	strict, err := rtnl.Dial(&netlink.Config{NetNS: ns.Name, Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	defer strict.Close()
	for _, cl := range []*rtnl.Client{c, strict} {
		for _, f := range []rtnl.AddressFilter{{Family: rtnl.AddrFamilyIPv4}, {Family: rtnl.AddrFamilyIPv6}, {Index: va}, {Index: vb, Family: rtnl.AddrFamilyIPv6}} {
			sub, err := cl.ListAddresses(ctx, &f)
			if err != nil {
				t.Fatalf("filter %+v: %v", f, err)
			}
			n := 0
			for _, a := range got {
				if (f.Family == 0 || a.Family == f.Family) && (f.Index == 0 || a.Index == f.Index) {
					n++
				}
			}
			if len(sub) != n || n == 0 {
				t.Errorf("filter %+v: %d addresses, want %d", f, len(sub), n)
			}
			for _, a := range sub {
				if (f.Family != 0 && a.Family != f.Family) || (f.Index != 0 && a.Index != f.Index) {
					t.Errorf("filter %+v let %s through", f, addrKey(a))
				}
			}
		}
	}
	// Strict checking makes a missing index an error, not an empty list.
	_, err = strict.ListAddresses(ctx, &rtnl.AddressFilter{Index: 9999})
	if !errors.Is(err, rtnl.ErrNoLink) || !errors.Is(err, syscall.ENODEV) {
		t.Errorf("strict dump of a missing index: %v", err)
	}
	if l, err := c.ListAddresses(ctx, &rtnl.AddressFilter{Index: 9999}); err != nil || len(l) != 0 {
		t.Errorf("dump of a missing index: %v %v", l, err)
	}
}

func TestKernelAddressReplaceDelete(t *testing.T) {
	ns, c, va, _ := addrSetup(t)
	ctx := context.Background()
	a := &rtnl.Address{Index: va, Prefix: netip.MustParsePrefix("10.3.0.1/24"), ValidLifetime: 1000 * time.Second, PreferredLifetime: 1000 * time.Second}
	if err := c.AddAddress(ctx, a); err != nil {
		t.Fatal(err)
	}
	key := fmt.Sprintf("%d/10.3.0.1", va)
	if w := ipAddrs(t, ns)[key]; w.Valid <= 100 || w.Valid > 1000 {
		t.Fatalf("after add: %+v", w)
	}
	// Adding again fails; replacing updates the lifetimes in place.
	if err := c.AddAddress(ctx, a); !errors.Is(err, syscall.EEXIST) {
		t.Fatalf("second add: %v, want EEXIST", err)
	}
	a.ValidLifetime, a.PreferredLifetime = 100*time.Second, 40*time.Second
	if err := c.ReplaceAddress(ctx, a); err != nil {
		t.Fatal(err)
	}
	if w := ipAddrs(t, ns)[key]; w.Valid == 0 || w.Valid > 100 || w.Preferred > 40 || w.Local != "10.3.0.1" {
		t.Fatalf("after replace: %+v", w)
	}
	// Replace creates an address that is not there.
	b := &rtnl.Address{Index: va, Prefix: netip.MustParsePrefix("2001:db8:9::1/64"), Flags: rtnl.AddrNoDAD}
	if err := c.ReplaceAddress(ctx, b); err != nil {
		t.Fatal(err)
	}
	if _, ok := ipAddrs(t, ns)[fmt.Sprintf("%d/2001:db8:9::1", va)]; !ok {
		t.Fatal("replace did not create the address")
	}
	for _, d := range []*rtnl.Address{a, b} {
		if err := c.DeleteAddress(ctx, d); err != nil {
			t.Fatalf("delete %s: %v", d, err)
		}
	}
	after := ipAddrs(t, ns)
	for k := range after {
		if strings.HasSuffix(k, "/10.3.0.1") || strings.HasSuffix(k, "/2001:db8:9::1") {
			t.Fatalf("still there after delete: %s", k)
		}
	}
}

func TestKernelAddressErrorsChangeNothing(t *testing.T) {
	ns, c, va, _ := addrSetup(t)
	ctx := context.Background()
	ns.IP(t, "address", "add", "10.4.0.1/24", "dev", "va")
	before := ns.IP(t, "-j", "address")
	var oe *netlink.OpError
	// Delete of an address that is not there: the kernel's error, kept.
	err := c.DeleteAddress(ctx, &rtnl.Address{Index: va, Prefix: netip.MustParsePrefix("10.4.0.9/24")})
	if !errors.Is(err, syscall.EADDRNOTAVAIL) || !errors.As(err, &oe) {
		t.Errorf("delete missing: %v, want EADDRNOTAVAIL as *netlink.OpError", err)
	}
	// The right address with the wrong prefix length is not a match.
	err = c.DeleteAddress(ctx, &rtnl.Address{Index: va, Prefix: netip.MustParsePrefix("10.4.0.1/25")})
	if !errors.Is(err, syscall.EADDRNOTAVAIL) {
		t.Errorf("delete with wrong length: %v", err)
	}
	// An interface that does not exist.
	err = c.AddAddress(ctx, &rtnl.Address{Index: 9999, Prefix: netip.MustParsePrefix("10.4.1.1/24")})
	if !errors.Is(err, syscall.ENODEV) || !errors.As(err, &oe) {
		t.Errorf("add to missing link: %v, want ENODEV", err)
	}
	// The kernel's own checks: preferred longer than valid never reaches
	// it; a /33 cannot be built; an IPv6 prefix of a multicast address is refused.
	err = c.AddAddress(ctx, &rtnl.Address{Index: va, Prefix: netip.MustParsePrefix("10.4.2.1/24"), ValidLifetime: time.Second, PreferredLifetime: time.Hour})
	if !errors.Is(err, rtnl.ErrInvalidAddress) {
		t.Errorf("preferred > valid: %v", err)
	}
	err = c.AddAddress(ctx, &rtnl.Address{Index: va, Prefix: netip.PrefixFrom(netip.MustParseAddr("10.4.3.1"), 33)})
	if !errors.Is(err, rtnl.ErrInvalidAddress) {
		t.Errorf("/33: %v", err)
	}
	err = c.AddAddress(ctx, &rtnl.Address{Index: va, Prefix: netip.MustParsePrefix("ff02::1234/128")})
	if err == nil || errors.Is(err, rtnl.ErrInvalidAddress) {
		t.Errorf("multicast IPv6 address: %v, want the kernel's refusal", err)
	} else {
		t.Logf("kernel refused multicast address: %v", err)
	}
	if after := ns.IP(t, "-j", "address"); string(after) != string(before) {
		// Lifetimes are all forever here, so the output must be identical.
		t.Fatalf("failed requests changed the kernel:\nbefore %s\nafter  %s", before, after)
	}
}
