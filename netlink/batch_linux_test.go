//go:build linux

package netlink_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nlkit/nlkit/internal/nstest"
	"github.com/nlkit/nlkit/netlink"
)

// routeMsg builds an RTM_NEWROUTE (or DELROUTE) for dst/32 out of oif.
func routeMsg(typ netlink.HeaderType, dst netip.Addr, oif uint32) netlink.Message {
	var e netlink.AttributeEncoder
	hdr := make([]byte, unix.SizeofRtMsg)
	hdr[0] = unix.AF_INET
	hdr[1] = 32
	hdr[4] = unix.RT_TABLE_MAIN
	hdr[5] = unix.RTPROT_STATIC
	hdr[6] = unix.RT_SCOPE_LINK
	hdr[7] = unix.RTN_UNICAST
	e.Reset(hdr)
	e.Addr(unix.RTA_DST, dst)
	e.Uint32(unix.RTA_OIF, oif)
	b, _ := e.Encode()
	flags := netlink.HeaderFlags(0)
	if typ == unix.RTM_NEWROUTE {
		flags = netlink.Create | netlink.Excl
	}
	return netlink.Message{Header: netlink.Header{Type: typ, Flags: flags}, Data: b}
}

func countRoutes(t *testing.T, ns *nstest.NS) int {
	t.Helper()
	return strings.Count(string(ns.IP(t, "route", "show", "proto", "static")), "\n")
}

func TestKernelExecuteBatch(t *testing.T) {
	ns := nstest.New(t)
	ns.IP(t, "link", "add", "b0", "type", "veth", "peer", "name", "b1")
	ns.IP(t, "link", "set", "b0", "up")
	c := dialNS(t, ns, netlink.Config{})
	var oif uint32
	for _, r := range dumpLinks(t, c) {
		if r.Name == "b0" {
			oif = uint32(r.Index)
		}
	}
	const n = 5000
	msgs := make([]netlink.Message, n)
	for i := range msgs {
		msgs[i] = routeMsg(unix.RTM_NEWROUTE, netip.AddrFrom4([4]byte{10, 50, byte(i >> 8), byte(i)}), oif)
	}
	// A route that exists already, in the middle: index 2500.
	ns.IP(t, "route", "add", "10.50.9.196/32", "dev", "b0", "proto", "static", "scope", "link")
	ctx := context.Background()
	sent, err := c.ExecuteBatch(ctx, msgs, &netlink.BatchOptions{KeepGoing: true})
	var be *netlink.BatchError
	if !errors.As(err, &be) || sent != n || len(be.Failures) != 1 || be.Failures[0].Index != 2500 || !errors.Is(err, unix.EEXIST) {
		t.Fatalf("keep-going batch: sent %d, err %v", sent, err)
	}
	if got := countRoutes(t, ns); got != n {
		t.Fatalf("%d routes installed, want %d", got, n)
	}
	// Delete them all, stopping at the first error: index 10 is missing.
	ns.IP(t, "route", "del", "10.50.0.10/32", "dev", "b0")
	for i := range msgs {
		msgs[i] = routeMsg(unix.RTM_DELROUTE, netip.AddrFrom4([4]byte{10, 50, byte(i >> 8), byte(i)}), oif)
	}
	sent, err = c.ExecuteBatch(ctx, msgs, &netlink.BatchOptions{MaxMessages: 100})
	if !errors.As(err, &be) || len(be.Failures) != 1 || be.Failures[0].Index != 10 || sent != 100 || be.Sent != 100 || be.Total != n {
		t.Fatalf("stop-on-error batch: sent %d, err %v", sent, err)
	}
	// The first datagram (100 messages) was processed, nothing after it.
	if got := countRoutes(t, ns); got != n-100 {
		t.Fatalf("%d routes left, want %d", got, n-100)
	}
	sent, err = c.ExecuteBatch(ctx, msgs[100:], nil)
	if err != nil || sent != n-100 {
		t.Fatalf("rest: sent %d, %v", sent, err)
	}
	if got := countRoutes(t, ns); got != 0 {
		t.Fatalf("%d routes left", got)
	}
	// The Conn is usable for ordinary requests afterwards.
	if rows := dumpLinks(t, c); len(rows) != 3 {
		t.Fatalf("links after batches: %v", rows)
	}
}
