package ueventtest_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/uevent"
	"github.com/nlkit/nlkit/uevent/ueventtest"
)

var _ netlink.Socket = (*ueventtest.Socket)(nil)

func TestDeliveryFollowsGroups(t *testing.T) {
	sock := ueventtest.New()
	c := sock.Conn()
	defer c.Close()
	ev := uevent.Event{Action: uevent.Add, DevPath: "/devices/x", SeqNum: 1}
	if ok, err := sock.Kernel(ev); ok || err != nil {
		t.Fatalf("delivered before joining: %v %v", ok, err)
	}
	if err := c.JoinGroup(1); err != nil {
		t.Fatal(err)
	}
	if err := c.JoinGroup(3); err == nil {
		t.Fatal("joined group 3")
	}
	if ok, err := sock.Kernel(ev); !ok || err != nil {
		t.Fatalf("not delivered: %v %v", ok, err)
	}
	if ok, _ := sock.Udev(ev); ok {
		t.Fatal("udev event delivered without the udev group")
	}
	if !sock.Deliver([]byte("unicast"), netlink.Addr{Port: 5}) {
		t.Fatal("unicast not delivered")
	}
	if _, err := sock.Kernel(uevent.Event{}); err == nil {
		t.Fatal("an invalid event encoded")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, from, err := c.ReceiveRaw(ctx)
	if err != nil || from != (netlink.Addr{Groups: 1, HasCreds: true}) || string(b) != "add@/devices/x\x00ACTION=add\x00DEVPATH=/devices/x\x00SEQNUM=1\x00" {
		t.Fatalf("%q %+v %v", b, from, err)
	}
	if b, from, err = c.ReceiveRaw(ctx); err != nil || string(b) != "unicast" || from.Port != 5 {
		t.Fatalf("%q %+v %v", b, from, err)
	}
	if err := c.LeaveGroup(1); err != nil {
		t.Fatal(err)
	}
	if ok, _ := sock.Kernel(ev); ok {
		t.Fatal("delivered after leaving")
	}
}

func TestDeadlineAndClose(t *testing.T) {
	sock := ueventtest.New()
	c := sock.Conn()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, _, err := c.ReceiveRaw(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("deadline: %v", err)
	}
	sock.Overrun()
	if _, _, err := c.ReceiveRaw(context.Background()); !errors.Is(err, netlink.ErrOverrun) {
		t.Fatalf("overrun: %v", err)
	}
	errc := make(chan error, 1)
	go func() {
		_, _, err := c.ReceiveRaw(context.Background())
		errc <- err
	}()
	time.Sleep(10 * time.Millisecond)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("after close: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Close did not unblock the reader")
	}
	if sock.Deliver([]byte("x"), netlink.Addr{}) {
		t.Fatal("delivered to a closed socket")
	}
	if err := sock.Close(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("second close: %v", err)
	}
}
