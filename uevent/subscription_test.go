package uevent_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/uevent"
	"github.com/nlkit/nlkit/uevent/ueventtest"
)

// hangTimeout bounds waits for operations that must return; reaching it
// means a hang, not slowness.
const hangTimeout = 20 * time.Second

func fakeSub(t *testing.T, opts *uevent.Options) (*uevent.Subscription, *ueventtest.Socket) {
	t.Helper()
	sock := ueventtest.New()
	sub, err := uevent.NewSubscription(sock.Conn(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close() })
	return sub, sock
}

func next(t *testing.T, sub *uevent.Subscription) (uevent.Event, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangTimeout)
	defer cancel()
	ev, err := sub.Next(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("Next hung")
	}
	return ev, err
}

func vethEvent(name string, seq uint64) uevent.Event {
	return uevent.Event{
		Action: uevent.Add, DevPath: "/devices/virtual/net/" + name, Subsystem: "net", SeqNum: seq,
		Properties: []uevent.Property{{"INTERFACE", name}},
	}
}

// mustDeliver checks the result of a ueventtest delivery:
// mustDeliver(t)(sock.Kernel(ev)).
func mustDeliver(t *testing.T) func(bool, error) {
	return func(ok bool, err error) {
		t.Helper()
		if err != nil || !ok {
			t.Fatalf("not delivered: %v %v", ok, err)
		}
	}
}

// forgeries are what a local process can send, with the reason each is
// rejected.
var forgeries = []struct {
	name string
	b    string
	from netlink.Addr
	why  string
}{
	{"kernel group from a user port", "add@/devices/x\x00ACTION=add\x00DEVPATH=/devices/x\x00",
		netlink.Addr{Port: 1234, Groups: 1, HasCreds: true}, "by user port 1234, not by the kernel"},
	{"kernel group without credentials", "add@/devices/x\x00ACTION=add\x00DEVPATH=/devices/x\x00",
		netlink.Addr{Groups: 1}, "no sender credentials"},
	{"kernel group, uid 1000", "add@/devices/x\x00ACTION=add\x00DEVPATH=/devices/x\x00",
		netlink.Addr{Groups: 1, HasCreds: true, Creds: netlink.Ucred{UID: 1000, PID: 7}}, "sender uid 1000 (pid 7) is not root"},
	{"libudev form on the kernel group", "libudev\x00\xfe\xed\xca\xfe",
		netlink.Addr{Groups: 1, HasCreds: true}, "a libudev message on the kernel group"},
	{"udev group, uid 1000", "libudev\x00\xfe\xed\xca\xfe",
		netlink.Addr{Port: 99, Groups: 2, HasCreds: true, Creds: netlink.Ucred{UID: 1000}}, "sender uid 1000"},
	{"udev group without credentials", "libudev\x00\xfe\xed\xca\xfe",
		netlink.Addr{Port: 99, Groups: 2}, "no sender credentials"},
	{"udev group, kernel form", "add@/devices/x\x00ACTION=add\x00DEVPATH=/devices/x\x00",
		netlink.Addr{Port: 99, Groups: 2, HasCreds: true}, "without the libudev header"},
	{"udev group, bad magic", "libudev\x00\xca\xfe\xfe\xed",
		netlink.Addr{Port: 99, Groups: 2, HasCreds: true}, "without the libudev header"},
	{"unicast", "add@/devices/x\x00ACTION=add\x00DEVPATH=/devices/x\x00",
		netlink.Addr{Port: 1234, HasCreds: true}, "a unicast from port 1234"},
	{"unicast from port 0", "add@/devices/x\x00ACTION=add\x00DEVPATH=/devices/x\x00",
		netlink.Addr{HasCreds: true}, "a unicast from port 0"},
	{"two groups", "add@/devices/x\x00ACTION=add\x00DEVPATH=/devices/x\x00",
		netlink.Addr{Groups: 3, HasCreds: true}, "sent to groups 0x3"},
}

func TestCheckSender(t *testing.T) {
	for _, f := range forgeries {
		err := uevent.CheckSender([]byte(f.b), f.from)
		if !errors.Is(err, uevent.ErrRejected) || !strings.Contains(err.Error(), f.why) {
			t.Errorf("%s: %v, want a rejection saying %q", f.name, err, f.why)
		}
	}
	for _, c := range captures(t) {
		from := netlink.Addr{Groups: 1, HasCreds: true}
		if c.source == uevent.Udev {
			from = netlink.Addr{Port: 3538932513, Groups: 2, HasCreds: true, Creds: netlink.Ucred{PID: 28321}}
		}
		if err := uevent.CheckSender(c.b, from); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// Every forgery is counted, reported to OnReject, and skipped silently:
// the next real event is what Next returns.
func TestSubscriptionRejectsForgeries(t *testing.T) {
	var mu sync.Mutex
	var reasons []string
	sub, sock := fakeSub(t, &uevent.Options{
		Groups: []uevent.Group{uevent.GroupKernel, uevent.GroupUdev},
		OnReject: func(from netlink.Addr, err error) {
			mu.Lock()
			defer mu.Unlock()
			if !errors.Is(err, uevent.ErrRejected) {
				t.Errorf("OnReject with %v", err)
			}
			reasons = append(reasons, err.Error())
		},
	})
	for _, f := range forgeries {
		if !sock.Deliver([]byte(f.b), f.from) {
			t.Fatalf("%s: not delivered", f.name)
		}
	}
	mustDeliver(t)(sock.Kernel(vethEvent("v0", 10)))
	ev, err := next(t, sub)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Property("INTERFACE") != "v0" || ev.Source != uevent.Kernel || ev.SeqNum != 10 {
		t.Fatalf("%+v", ev)
	}
	if ev.Received <= 0 {
		t.Errorf("Received = %v, want the monotonic time", ev.Received)
	}
	st := sub.Stats()
	if st.Rejected != uint64(len(forgeries)) || st.Accepted != 1 {
		t.Fatalf("stats %+v, want %d rejected and 1 accepted", st, len(forgeries))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reasons) != len(forgeries) {
		t.Fatalf("OnReject called %d times, want %d", len(reasons), len(forgeries))
	}
	for i, f := range forgeries {
		if !strings.Contains(reasons[i], f.why) {
			t.Errorf("%s: reason %q", f.name, reasons[i])
		}
	}
}

// With the checks explicitly off, a forged event from a user port is
// believed.
func TestSubscriptionSkipSenderChecks(t *testing.T) {
	sub, sock := fakeSub(t, &uevent.Options{SkipSenderChecks: true})
	forged := "add@/devices/virtual/net/evil\x00ACTION=add\x00DEVPATH=/devices/virtual/net/evil\x00SUBSYSTEM=net\x00"
	sock.Deliver([]byte(forged), netlink.Addr{Port: 1234, Groups: 1})
	ev, err := next(t, sub)
	if err != nil || ev.DevPath != "/devices/virtual/net/evil" {
		t.Fatalf("%+v %v", ev, err)
	}
	if st := sub.Stats(); st.Rejected != 0 || st.Accepted != 1 {
		t.Fatalf("%+v", st)
	}
}

func TestSubscriptionUdevGroup(t *testing.T) {
	sub, sock := fakeSub(t, &uevent.Options{Groups: []uevent.Group{uevent.GroupUdev}})
	// Not a member of the kernel group: the kernel's event never arrives.
	if ok, err := sock.Kernel(vethEvent("k0", 1)); ok || err != nil {
		t.Fatalf("delivered to a socket outside the kernel group: %v %v", ok, err)
	}
	ev := vethEvent("u0", 2)
	ev.Properties = append(ev.Properties, uevent.Property{Key: "ID_NET_DRIVER", Value: "veth"})
	mustDeliver(t)(sock.Udev(ev))
	got, err := next(t, sub)
	if err != nil {
		t.Fatal(err)
	}
	if got.Source != uevent.Udev || got.Property("ID_NET_DRIVER") != "veth" || got.SeqNum != 2 {
		t.Fatalf("%+v", got)
	}
}

func TestSubscriptionFilter(t *testing.T) {
	m, err := uevent.ParseMatch("INTERFACE=keep*")
	if err != nil {
		t.Fatal(err)
	}
	sub, sock := fakeSub(t, &uevent.Options{Filter: uevent.Filter{Subsystems: []string{"net"}, Properties: []uevent.Match{m}}})
	mustDeliver(t)(sock.Kernel(vethEvent("drop0", 1)))
	mustDeliver(t)(sock.Kernel(uevent.Event{Action: uevent.Add, DevPath: "/devices/virtual/block/loop0", Subsystem: "block",
		Properties: []uevent.Property{{"INTERFACE", "keep-but-block"}}}))
	mustDeliver(t)(sock.Kernel(vethEvent("keep0", 3)))
	ev, err := next(t, sub)
	if err != nil || ev.Property("INTERFACE") != "keep0" {
		t.Fatalf("%+v %v", ev, err)
	}
	if st := sub.Stats(); st.Filtered != 2 || st.Accepted != 3 {
		t.Fatalf("%+v", st)
	}
}

// Overruns and malformed kernel messages are reported and the stream goes
// on; the end of the context or a close ends it.
func TestSubscriptionEvents(t *testing.T) {
	sub, sock := fakeSub(t, nil)
	mustDeliver(t)(sock.Kernel(vethEvent("a0", 1)))
	sock.Overrun()
	mustDeliver(t)(sock.Kernel(vethEvent("b0", 2)))
	sock.Deliver([]byte("garbage\x00"), netlink.Addr{Groups: 1, HasCreds: true})
	mustDeliver(t)(sock.Kernel(vethEvent("c0", 3)))

	ctx, cancel := context.WithTimeout(context.Background(), hangTimeout)
	defer cancel()
	var got []string
	for ev, err := range sub.Events(ctx) {
		switch {
		case errors.Is(err, netlink.ErrOverrun):
			got = append(got, "overrun")
		case errors.Is(err, uevent.ErrMalformed):
			if !strings.Contains(err.Error(), `from port 0, groups 0x1: "garbage\x00"`) {
				t.Errorf("malformed error lacks the sender and content: %v", err)
			}
			got = append(got, "malformed")
		case err != nil:
			t.Fatal(err)
		default:
			got = append(got, ev.Property("INTERFACE"))
		}
		if len(got) == 5 {
			break
		}
	}
	// The kernel reports the overrun at the next read, whatever is queued.
	if want := "overrun a0 b0 malformed c0"; strings.Join(got, " ") != want {
		t.Fatalf("stream %q, want %q", strings.Join(got, " "), want)
	}
	if st := sub.Stats(); st.Overruns != 1 || st.Malformed != 1 || st.Accepted != 3 {
		t.Fatalf("%+v", st)
	}

	// Cancelling ends the stream with ctx's error.
	ctx2, cancel2 := context.WithCancel(context.Background())
	go func() {
		time.Sleep(10 * time.Millisecond)
		cancel2()
	}()
	var last error
	for _, err := range sub.Events(ctx2) {
		last = err
	}
	if !errors.Is(last, context.Canceled) {
		t.Fatalf("after cancel: %v", last)
	}
	// Closing ends a waiting Next with net.ErrClosed.
	errc := make(chan error, 1)
	go func() {
		_, err := sub.Next(context.Background())
		errc <- err
	}()
	time.Sleep(10 * time.Millisecond)
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("after close: %v", err)
		}
	case <-time.After(hangTimeout):
		t.Fatal("Close did not unblock Next")
	}
}

func TestSubscriptionOptionErrors(t *testing.T) {
	sock := ueventtest.New()
	c := sock.Conn()
	defer c.Close()
	if _, err := uevent.NewSubscription(c, &uevent.Options{Groups: []uevent.Group{3}}); err == nil || !strings.Contains(err.Error(), "group 3: want GroupKernel (1) or GroupUdev (2)") {
		t.Errorf("group 3: %v", err)
	}
	if _, err := uevent.NewSubscription(c, &uevent.Options{Filter: uevent.Filter{Subsystems: []string{"net/wlan"}}}); err == nil {
		t.Error("bad filter accepted")
	}
	// Subscribe checks the options before opening anything.
	if _, err := uevent.Subscribe(nil, &uevent.Options{Filter: uevent.Filter{DevTypes: []string{""}}}); err == nil || !strings.Contains(err.Error(), "empty devtype filter") {
		t.Errorf("Subscribe with a bad filter: %v", err)
	}
	if _, err := uevent.Subscribe(nil, &uevent.Options{Groups: []uevent.Group{0}}); err == nil {
		t.Error("Subscribe to group 0")
	}
	if uevent.GroupKernel.String() != "kernel" || uevent.GroupUdev.String() != "udev" || uevent.Group(5).String() != "group(5)" {
		t.Error("Group.String")
	}
}
