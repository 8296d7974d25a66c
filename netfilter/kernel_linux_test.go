//go:build linux

package netfilter_test

import (
	"context"
	"errors"
	"syscall"
	"testing"

	"github.com/nlkit/nlkit/internal/nstest"
	"github.com/nlkit/nlkit/netfilter"
	"github.com/nlkit/nlkit/netlink"
)

func TestKernelConn(t *testing.T) {
	ns := nstest.New(t)
	c, err := netfilter.Dial(&netlink.Config{NetNS: ns.Name})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	// A conntrack dump of a fresh namespace: the header is accepted and
	// the table is empty.
	n := 0
	for _, err := range c.Dump(ctx, netfilter.Message{Type: netfilter.NewMessageType(netfilter.SubsysCTNetlink, 1)}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 0 {
		t.Errorf("fresh namespace: %d flows", n)
	}
	// A get without a tuple: the kernel's EINVAL comes back unchanged.
	_, err = c.Execute(ctx, netfilter.Message{Type: netfilter.NewMessageType(netfilter.SubsysCTNetlink, 1), Header: netfilter.Header{Family: netfilter.FamilyIPv4}}, 0)
	var op *netlink.OpError
	if !errors.Is(err, syscall.EINVAL) || !errors.As(err, &op) {
		t.Errorf("get without tuple: err = %v, want an OpError wrapping EINVAL", err)
	}
	// A subsystem that does not exist.
	_, err = c.Execute(ctx, netfilter.Message{Type: netfilter.NewMessageType(200, 1)}, 0)
	if err == nil {
		t.Error("subsystem 200: no error")
	}
	t.Logf("subsystem 200: %v", err)
	if err := c.JoinGroup(netfilter.GroupConntrackNew); err != nil {
		t.Errorf("join conntrack-new: %v", err)
	}
}
