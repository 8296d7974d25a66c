//go:build linux

package rtnl_test

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/nlkit/nlkit/internal/nstest"
	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/rtnl"
)

// waitFor reads events until match returns true, failing after 10 s.
func waitFor(t *testing.T, next func() (rtnl.Event, error), what string, match func(rtnl.Event) bool) {
	t.Helper()
	for {
		ev, err := next()
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if match(ev) {
			return
		}
	}
}

func TestKernelEvents(t *testing.T) {
	ns := nstest.New(t)
	sub, err := rtnl.Subscribe(&netlink.Config{NetNS: ns.Name})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	next, stop := pull(sub.Events(ctx))
	defer stop()

	ns.IP(t, "link", "add", "ev0", "type", "veth", "peer", "name", "ev1")
	waitFor(t, next, "new link ev0", func(e rtnl.Event) bool { return e.Link != nil && !e.Deleted && e.Link.Name == "ev0" })
	ns.IP(t, "link", "set", "ev0", "up")
	ns.IP(t, "addr", "add", "10.3.0.1/24", "dev", "ev0")
	waitFor(t, next, "new address", func(e rtnl.Event) bool {
		return e.Address != nil && !e.Deleted && e.Address.Prefix == netip.MustParsePrefix("10.3.0.1/24")
	})
	ns.IP(t, "addr", "add", "2001:db8::1/64", "dev", "ev0", "nodad")
	waitFor(t, next, "new IPv6 address", func(e rtnl.Event) bool {
		return e.Address != nil && e.Address.Prefix.Addr() == netip.MustParseAddr("2001:db8::1")
	})
	ns.IP(t, "route", "add", "10.77.0.0/16", "via", "10.3.0.2", "dev", "ev0")
	waitFor(t, next, "new route", func(e rtnl.Event) bool {
		return e.Route != nil && !e.Deleted && e.Route.Dst == netip.MustParsePrefix("10.77.0.0/16") && e.Route.Gateway == netip.MustParseAddr("10.3.0.2")
	})
	ns.IP(t, "-6", "route", "add", "2001:db8:9::/48", "dev", "ev0")
	waitFor(t, next, "new IPv6 route", func(e rtnl.Event) bool {
		return e.Route != nil && e.Route.Dst == netip.MustParsePrefix("2001:db8:9::/48")
	})
	ns.IP(t, "neigh", "add", "10.3.0.9", "lladdr", "02:00:00:00:00:09", "dev", "ev0")
	waitFor(t, next, "new neighbour", func(e rtnl.Event) bool {
		return e.Neighbor != nil && !e.Deleted && e.Neighbor.IP == netip.MustParseAddr("10.3.0.9") && e.Neighbor.HardwareAddr.String() == "02:00:00:00:00:09"
	})
	ns.IP(t, "rule", "add", "from", "10.5.0.0/16", "table", "100", "pref", "1000")
	waitFor(t, next, "new rule", func(e rtnl.Event) bool {
		return e.Rule != nil && !e.Deleted && e.Rule.Src == netip.MustParsePrefix("10.5.0.0/16") && e.Rule.Table == 100
	})

	ns.IP(t, "rule", "del", "pref", "1000")
	waitFor(t, next, "deleted rule", func(e rtnl.Event) bool { return e.Rule != nil && e.Deleted && e.Rule.Table == 100 })
	ns.IP(t, "neigh", "del", "10.3.0.9", "dev", "ev0")
	waitFor(t, next, "deleted neighbour", func(e rtnl.Event) bool {
		return e.Neighbor != nil && e.Deleted && e.Neighbor.IP == netip.MustParseAddr("10.3.0.9")
	})
	ns.IP(t, "route", "del", "10.77.0.0/16")
	waitFor(t, next, "deleted route", func(e rtnl.Event) bool {
		return e.Route != nil && e.Deleted && e.Route.Dst == netip.MustParsePrefix("10.77.0.0/16")
	})
	ns.IP(t, "addr", "del", "10.3.0.1/24", "dev", "ev0")
	waitFor(t, next, "deleted address", func(e rtnl.Event) bool {
		return e.Address != nil && e.Deleted && e.Address.Prefix == netip.MustParsePrefix("10.3.0.1/24")
	})
	ns.IP(t, "link", "del", "ev0")
	waitFor(t, next, "deleted link", func(e rtnl.Event) bool { return e.Link != nil && e.Deleted && e.Link.Name == "ev0" })
}

func TestKernelEventsOverrun(t *testing.T) {
	ns := nstest.New(t)
	ns.IP(t, "link", "add", "ov0", "type", "veth", "peer", "name", "ov1")
	ns.IP(t, "link", "set", "ov0", "up")
	// A tiny buffer (the kernel's minimum) and a burst: events must be lost,
	// and the subscription must say so and go on.
	sub, err := rtnl.Subscribe(&netlink.Config{NetNS: ns.Name, ReceiveBuffer: 1}, rtnl.RouteGroups...)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	var b strings.Builder
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&b, "route add 10.60.%d.%d/32 dev ov0\n", i/250, i%250)
	}
	ns.Batch(t, b.String())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// One consumer goroutine; the test reads its channel with timeouts.
	type item struct {
		ev  rtnl.Event
		err error
	}
	events := make(chan item, 16)
	go func() {
		defer close(events)
		for ev, err := range sub.Events(ctx) {
			events <- item{ev, err}
		}
	}()
	defer func() {
		cancel()
		for range events {
		}
	}()
	routes, lost := 0, false
	for !lost {
		it := <-events
		if it.err != nil {
			t.Fatalf("after %d route events: %v", routes, it.err)
		}
		if it.ev.Lost {
			lost = true
		} else if it.ev.Route != nil {
			routes++
		}
	}
	if routes >= 3000 {
		t.Fatalf("got all %d events into a minimal buffer and an overrun", routes)
	}
	// Read the backlog (the kernel drops silently until it is empty), then
	// the stream goes on with new events.
	for quiet := false; !quiet; {
		select {
		case it := <-events:
			if it.err != nil {
				t.Fatalf("draining: %v", it.err)
			}
		case <-time.After(300 * time.Millisecond):
			quiet = true
		}
	}
	ns.IP(t, "route", "add", "10.61.0.1/32", "dev", "ov0")
	for {
		it := <-events
		if it.err != nil {
			t.Fatalf("waiting for an event after the overrun: %v", it.err)
		}
		if it.ev.Route != nil && it.ev.Route.Dst == netip.MustParsePrefix("10.61.0.1/32") {
			return
		}
	}
}

func TestKernelSubscribeBufferAndErrors(t *testing.T) {
	ns := nstest.New(t)
	sub, err := rtnl.Subscribe(&netlink.Config{NetNS: ns.Name})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	got, err := sub.Conn().ReceiveBuffer()
	if err != nil || got < rtnl.DefaultEventBuffer {
		t.Fatalf("event socket buffer %d (root may force %d): %v", got, rtnl.DefaultEventBuffer, err)
	}
	if _, err := rtnl.ParseGroups([]string{"link", "bogus"}); err == nil || !strings.Contains(err.Error(), `"bogus"`) {
		t.Fatalf("bad group name: %v", err)
	}
	if _, err := rtnl.Subscribe(&netlink.Config{NetNS: "nlkit-no-such"}); err == nil {
		t.Fatal("subscribed in a missing namespace")
	}
}
