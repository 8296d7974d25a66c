//go:build linux

package netlink_test

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nlkit/nlkit/internal/nstest"
	"github.com/nlkit/nlkit/netlink"
)

// On NETLINK_KOBJECT_UEVENT the kernel sends bare strings, not netlink
// messages: ReceiveRaw returns them with the sender and, with
// PassCredentials, the credentials the kernel vouches for.
func TestKernelReceiveRawCredentials(t *testing.T) {
	ns := nstest.New(t)
	dial := func(creds bool) *netlink.Conn {
		c, err := netlink.Dial(netlink.KObjectUevent, &netlink.Config{
			NetNS: ns.Name, Groups: 1, PassCredentials: creds, AllowUserSenders: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	withCreds, without := dial(true), dial(false)
	fd := rawSocketIn(t, ns, netlink.KObjectUevent)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	forgerPort := sa.(*unix.SockaddrNetlink).Pid
	forged := []byte("add@/devices/forged\x00ACTION=add\x00")
	if err := unix.Sendto(fd, forged, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: 1}); err != nil {
		t.Fatal(err)
	}
	ns.IP(t, "link", "add", "rawc0", "type", "veth", "peer", "name", "rawc1")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tc := range []struct {
		c     *netlink.Conn
		creds bool
	}{{withCreds, true}, {without, false}} {
		b, from, err := tc.c.ReceiveRaw(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := netlink.Addr{Port: forgerPort, Groups: 1}
		if tc.creds {
			want.Creds, want.HasCreds = netlink.Ucred{PID: int32(os.Getpid())}, true
		}
		if !bytes.Equal(b, forged) || from != want {
			t.Fatalf("creds %v: %q from %+v, want %q from %+v", tc.creds, b, from, forged, want)
		}
		// The kernel's own uevent for the veth: port 0, and pid 0, uid 0.
		for {
			b, from, err = tc.c.ReceiveRaw(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.HasPrefix(b, []byte("add@/devices/virtual/net/rawc0\x00")) {
				break
			}
		}
		want = netlink.Addr{Groups: 1, HasCreds: tc.creds}
		if from != want {
			t.Fatalf("creds %v: kernel uevent from %+v, want %+v", tc.creds, from, want)
		}
	}
}
