//go:build linux

package uevent_test

// Real-kernel tests: each runs in throwaway network namespaces.

import (
	"context"
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nlkit/nlkit/internal/nstest"
	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/uevent"
)

func subscribeIn(t *testing.T, ns *nstest.NS, opts *uevent.Options) *uevent.Subscription {
	t.Helper()
	sub, err := uevent.Subscribe(&netlink.Config{NetNS: ns.Name}, opts)
	if err != nil {
		t.Fatalf("subscribe in %s: %v", ns.Name, err)
	}
	t.Cleanup(func() { sub.Close() })
	return sub
}

// readUntilAdded reads events from sub until an add event was read for
// every interface name in want, and returns all events read.
func readUntilAdded(t *testing.T, sub *uevent.Subscription, want ...string) []uevent.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	missing := map[string]bool{}
	for _, w := range want {
		missing[w] = true
	}
	var got []uevent.Event
	for len(missing) > 0 {
		ev, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("waiting for %v: %v", missing, err)
		}
		got = append(got, ev)
		if ev.Action == uevent.Add {
			delete(missing, ev.Property("INTERFACE"))
		}
	}
	return got
}

// A veth created in a namespace is announced inside it, with its
// properties, and not in another namespace.
func TestKernelVethSeenOnlyInItsNamespace(t *testing.T) {
	a, b := nstest.New(t), nstest.New(t)
	net := &uevent.Options{Filter: uevent.Filter{Subsystems: []string{"net"}}}
	subA, subB := subscribeIn(t, a, net), subscribeIn(t, b, net)

	a.IP(t, "link", "add", "ua0", "type", "veth", "peer", "name", "ua1")
	// Uevents are sent synchronously while the device registers, so
	// anything of ua0's that reached B is queued before this marker's.
	b.IP(t, "link", "add", "ub0", "type", "veth", "peer", "name", "ub1")

	var links []map[string]any
	a.IPJSON(t, &links, "link", "show", "ua0")
	index := int(links[0]["ifindex"].(float64))
	for _, ev := range readUntilAdded(t, subA, "ua0", "ua1") {
		if ev.Property("INTERFACE") != "ua0" || ev.Action != uevent.Add {
			continue
		}
		if ev.Source != uevent.Kernel || ev.Subsystem != "net" || ev.DevPath != "/devices/virtual/net/ua0" ||
			ev.SeqNum == 0 || ev.Property("IFINDEX") != strconv.Itoa(index) || ev.Received <= 0 {
			t.Errorf("ua0's add event: %+v (ip says ifindex %d)", ev, index)
		}
	}
	for _, ev := range readUntilAdded(t, subB, "ub0", "ub1") {
		if strings.HasPrefix(ev.Property("INTERFACE"), "ua") || strings.Contains(ev.DevPath, "/ua") {
			t.Errorf("namespace B saw A's device: %+v", ev)
		}
	}
	if st := subA.Stats(); st.Rejected != 0 {
		t.Errorf("kernel events rejected: %+v", st)
	}
}

// rawSocketIn opens a plain uevent socket inside ns, bound, as another
// process in that namespace would have.
func rawSocketIn(t *testing.T, ns *nstest.NS) int {
	t.Helper()
	type result struct {
		fd  int
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		nsfd, err := unix.Open(ns.Path(), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			ch <- result{err: err}
			return
		}
		defer unix.Close(nsfd)
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			ch <- result{err: err}
			return
		}
		if err := unix.Setns(nsfd, unix.CLONE_NEWNET); err != nil {
			ch <- result{err: err}
			return
		}
		fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, netlink.KObjectUevent)
		ch <- result{fd, err}
	}()
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { unix.Close(r.fd) })
	if err := unix.Bind(r.fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		t.Fatal(err)
	}
	return r.fd
}

func forgedVeth(name string) []byte {
	ev := uevent.Event{Action: uevent.Add, DevPath: "/devices/virtual/net/" + name, Subsystem: "net", SeqNum: 1,
		Properties: []uevent.Property{{Key: "INTERFACE", Value: name}, {Key: "IFINDEX", Value: "1"}}}
	b, err := ev.MarshalBinary()
	if err != nil {
		panic(err)
	}
	return b
}

// Root may multicast a made-up "add" to the kernel's group. It comes from
// root's user port: rejected and counted by default, believed only when
// the caller turns the checks off.
func TestKernelForgedUeventRejected(t *testing.T) {
	ns := nstest.New(t)
	var mu sync.Mutex
	var reasons []error
	checked := subscribeIn(t, ns, &uevent.Options{
		Filter: uevent.Filter{Subsystems: []string{"net"}},
		OnReject: func(_ netlink.Addr, err error) {
			mu.Lock()
			reasons = append(reasons, err)
			mu.Unlock()
		},
	})
	unchecked := subscribeIn(t, ns, &uevent.Options{Filter: uevent.Filter{Subsystems: []string{"net"}}, SkipSenderChecks: true})

	fd := rawSocketIn(t, ns)
	if err := unix.Sendto(fd, forgedVeth("forged0"), 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: 1}); err != nil {
		t.Fatal(err)
	}
	ns.IP(t, "link", "add", "real0", "type", "veth", "peer", "name", "real1")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ev, err := checked.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Property("INTERFACE") != "real0" && ev.Property("INTERFACE") != "real1" {
		t.Fatalf("the first event believed is %+v, not the kernel's real0/real1", ev)
	}
	if st := checked.Stats(); st.Rejected != 1 {
		t.Fatalf("Stats = %+v, want 1 rejected", st)
	}
	mu.Lock()
	if len(reasons) != 1 || !errors.Is(reasons[0], uevent.ErrRejected) || !strings.Contains(reasons[0].Error(), "not by the kernel (port 0)") {
		t.Errorf("reasons: %v", reasons)
	}
	mu.Unlock()

	ev, err = unchecked.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Property("INTERFACE") != "forged0" || ev.Action != uevent.Add {
		t.Fatalf("with the checks off the first event is %+v, not the forged one", ev)
	}
	if st := unchecked.Stats(); st.Rejected != 0 {
		t.Fatalf("unchecked rejected: %+v", st)
	}
}

// On udevd's group the sender is a user port: the credentials (uid 0)
// and the libudev header decide.
func TestKernelUdevGroupChecks(t *testing.T) {
	ns := nstest.New(t)
	sub := subscribeIn(t, ns, &uevent.Options{Groups: []uevent.Group{uevent.GroupUdev}})
	fd := rawSocketIn(t, ns)
	to := &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: 2}
	ev := uevent.Event{Source: uevent.Udev, Action: uevent.Add, DevPath: "/devices/virtual/net/u0", Subsystem: "net", SeqNum: 7,
		Properties: []uevent.Property{{Key: "INTERFACE", Value: "u0"}, {Key: "ID_NET_DRIVER", Value: "veth"}, {Key: "TAGS", Value: ":systemd:"}}}
	udevForm, err := ev.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	// 1. A libudev message claiming uid 1000 (root may claim any uid).
	creds := unix.UnixCredentials(&unix.Ucred{Pid: int32(os.Getpid()), Uid: 1000, Gid: 1000})
	if err := unix.Sendmsg(fd, udevForm, creds, to, 0); err != nil {
		t.Fatal(err)
	}
	// 2. The kernel's form on udevd's group.
	if err := unix.Sendto(fd, forgedVeth("k0"), 0, to); err != nil {
		t.Fatal(err)
	}
	// 3. What udevd sends: root, libudev header.
	if err := unix.Sendto(fd, udevForm, 0, to); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := sub.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Source != uevent.Udev || got.Property("ID_NET_DRIVER") != "veth" || got.SeqNum != 7 {
		t.Fatalf("%+v", got)
	}
	if st := sub.Stats(); st.Rejected != 2 || st.Accepted != 1 {
		t.Fatalf("Stats = %+v, want 2 rejected, 1 accepted", st)
	}
}

// A process with CAP_SYS_ADMIN over the namespace can also hand a uevent
// to the kernel (Linux 4.18+), which broadcasts it as its own: from port
// 0, with the sender's uid and a kernel sequence number. Such an event
// passes the checks, as it does udev's: the package documents it.
func TestKernelRelayedUeventAccepted(t *testing.T) {
	ns := nstest.New(t)
	sub := subscribeIn(t, ns, &uevent.Options{Filter: uevent.Filter{Subsystems: []string{"net"}}})
	fd := rawSocketIn(t, ns)
	ev := uevent.Event{Action: uevent.Change, DevPath: "/devices/virtual/net/relay0", Subsystem: "net",
		Properties: []uevent.Property{{Key: "INTERFACE", Value: "relay0"}}}
	body, err := ev.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	msg, err := netlink.Message{Header: netlink.Header{Type: netlink.MinType, Flags: netlink.Request}, Data: body}.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := sub.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Property("INTERFACE") != "relay0" || got.Action != uevent.Change || got.SeqNum == 0 {
		t.Fatalf("%+v", got)
	}
}
