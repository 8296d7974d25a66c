//go:build linux

package rtnl_test

import (
	"context"
	"net/netip"
	"testing"

	"github.com/nlkit/nlkit/internal/nstest"
	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/rtnl"
)

// TestKernelRouteDumpAllocs holds the typed dump to its budget: at most
// two allocations per route (it makes one, the *Route), however many
// routes and datagrams there are.
func TestKernelRouteDumpAllocs(t *testing.T) {
	ns := nstest.New(t)
	ns.IP(t, "link", "add", "pa0", "type", "veth", "peer", "name", "pa1")
	ns.IP(t, "addr", "add", "10.0.0.1/24", "dev", "pa0")
	ns.IP(t, "link", "set", "pa0", "up")
	c, err := rtnl.Dial(&netlink.Config{NetNS: ns.Name})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	oif, err := c.LinkIndex(ctx, "pa0")
	if err != nil {
		t.Fatal(err)
	}
	gw := netip.MustParseAddr("10.0.0.2")
	install := func(from, to int) {
		t.Helper()
		b := c.NewBatch(nil)
		for i := from; i < to; i++ {
			dst := netip.PrefixFrom(netip.AddrFrom4([4]byte{11, 0, byte(i >> 8), byte(i)}), 32)
			if err := b.Client().AddRoute(ctx, &rtnl.Route{Dst: dst, Gateway: gw, OutIndex: oif}); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Flush(ctx); err != nil {
			t.Fatalf("install routes %d-%d: %v", from, to, err)
		}
	}
	filter := &rtnl.RouteFilter{Family: 2, Table: rtnl.TableMain}
	dump := func() (int, float64) {
		n := 0
		allocs := testing.AllocsPerRun(5, func() {
			n = 0
			for r, err := range c.Routes(ctx, filter) {
				if err != nil {
					t.Fatalf("dump routes: %v", err)
				}
				if r.Gateway == gw {
					n++
				}
			}
		})
		return n, allocs
	}
	install(0, 10)
	nSmall, small := dump()
	install(10, 5000)
	nBig, big := dump()
	if nSmall != 10 || nBig != 5000 {
		t.Fatalf("dumps saw %d and %d routes, want 10 and 5000", nSmall, nBig)
	}
	perRoute := (big - small) / (5000 - 10)
	t.Logf("typed route dump: %.3f allocations per route, %v per dump", perRoute, small)
	if perRoute > 2 {
		t.Fatalf("typed route dump makes %.2f allocations per route, want at most 2", perRoute)
	}
}
