//go:build linux

package nflog_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/nlkit/nlkit/internal/nstest"
	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/nflog"
)

// Packets a local socket sends, logged by an nft rule on output, arrive
// with their prefix, hook, output interface, owner and payload.
func TestGroupKernel(t *testing.T) {
	if _, err := exec.LookPath("nft"); err != nil {
		t.Fatalf("nft is needed (scripts/install-deps.sh installs it): %v", err)
	}
	ns := nstest.New(t)
	ns.Exec(t, "nft", `add table inet t; add chain inet t out { type filter hook output priority 0; }; add rule inet t out udp dport 6000 log group 6 prefix "out: "`)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	nc := &netlink.Config{NetNS: ns.Name}
	g, err := nflog.Open(ctx, 6, nflog.Config{Flags: nflog.Seq}, nc)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if g2, err := nflog.Open(ctx, 6, nflog.Config{}, nc); err == nil {
		g2.Close()
		t.Fatal("a second socket bound group 6")
	}
	var c net.Conn
	var sink net.PacketConn
	if err := netlink.RunInNetNS(nc, func() (err error) {
		if sink, err = net.ListenPacket("udp6", "[::1]:6000"); err != nil {
			return err
		}
		c, err = net.Dial("udp6", "[::1]:6000")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	defer c.Close()
	const n = 50
	for i := 0; i < n; i++ {
		if _, err := c.Write([]byte("hello nflog")); err != nil {
			t.Fatal(err)
		}
	}
	got := 0
	for p, err := range g.Packets(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if p.Prefix != "out: " || p.Hook != nflog.HookOutput || p.Group != 6 || p.HWProtocol != 0x86dd ||
			p.OutDev != 1 || p.InDev != 0 || !p.HasUID || p.UID != uint32(os.Geteuid()) || !p.HasSeq || p.Seq != uint32(got) ||
			len(p.Payload) != 40+8+11 || string(p.Payload[48:]) != "hello nflog" {
			t.Fatalf("packet %d: %+v", got, p)
		}
		if got++; got == n {
			break
		}
	}
}
