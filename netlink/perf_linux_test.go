//go:build linux

package netlink_test

import (
	"context"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nlkit/nlkit/internal/nstest"
	"github.com/nlkit/nlkit/netlink"
)

// TestKernelDumpAllocatesNothingPerMessage checks the raw path on a real
// socket (recvmsg through the runtime poller): dumping 5000 routes, in a
// dozen datagrams, allocates exactly as much as dumping 10.
func TestKernelDumpAllocatesNothingPerMessage(t *testing.T) {
	ns := nstest.New(t)
	ns.IP(t, "link", "add", "pa0", "type", "veth", "peer", "name", "pa1")
	ns.IP(t, "link", "set", "pa0", "up")
	c := dialNS(t, ns, netlink.Config{})
	var oif uint32
	for _, r := range dumpLinks(t, c) {
		if r.Name == "pa0" {
			oif = uint32(r.Index)
		}
	}
	ctx := context.Background()
	install := func(from, to int) {
		t.Helper()
		var msgs []netlink.Message
		for i := from; i < to; i++ {
			msgs = append(msgs, routeMsg(unix.RTM_NEWROUTE, netip.AddrFrom4([4]byte{10, 70, byte(i >> 8), byte(i)}), oif))
		}
		if _, err := c.ExecuteBatch(ctx, msgs, nil); err != nil {
			t.Fatalf("install routes %d-%d: %v", from, to, err)
		}
	}
	req := netlink.Message{Header: netlink.Header{Type: unix.RTM_GETROUTE}, Data: make([]byte, unix.SizeofRtMsg)}
	req.Data[0] = unix.AF_INET
	dump := func() (int, float64) {
		n := 0
		allocs := testing.AllocsPerRun(5, func() {
			n = 0
			for m, err := range c.Dump(ctx, req) {
				if err != nil {
					t.Fatalf("dump routes: %v", err)
				}
				if m.Header.Type == unix.RTM_NEWROUTE && m.Data[1] == 32 && m.Data[4] == unix.RT_TABLE_MAIN {
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
	if big != small {
		t.Fatalf("dumping 5000 routes made %v allocations, 10 routes %v: the raw path allocates per message or per datagram", big, small)
	}
}
