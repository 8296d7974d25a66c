//go:build linux

package rtnl_test

import (
	"context"
	"errors"
	"iter"
	"syscall"
	"testing"

	"github.com/nlkit/nlkit/internal/nstest"
	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/rtnl"
)

type ipLink struct {
	Index     int32    `json:"ifindex"`
	Name      string   `json:"ifname"`
	Flags     []string `json:"flags"`
	MTU       uint32   `json:"mtu"`
	OperState string   `json:"operstate"`
	TxQLen    uint32   `json:"txqlen"`
	LinkType  string   `json:"link_type"`
	Address   string   `json:"address"`
	Master    string   `json:"master"`
}

func TestKernelLinksMatchIP(t *testing.T) {
	ns := nstest.New(t)
	ns.IP(t, "link", "add", "br0", "type", "bridge")
	ns.IP(t, "link", "add", "va", "address", "02:00:00:00:00:0a", "mtu", "1400", "type", "veth", "peer", "name", "vb")
	ns.IP(t, "link", "set", "va", "master", "br0")
	ns.IP(t, "link", "set", "va", "up")
	ns.IP(t, "link", "set", "br0", "up")
	c, err := rtnl.Dial(&netlink.Config{NetNS: ns.Name})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	links, err := c.ListLinks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var want []ipLink
	ns.IPJSON(t, &want, "link", "show")
	if len(links) != len(want) {
		t.Fatalf("nlkit lists %d links, ip %d", len(links), len(want))
	}
	byIndex := map[int32]*rtnl.Link{}
	for _, l := range links {
		byIndex[l.Index] = l
	}
	for _, w := range want {
		l := byIndex[w.Index]
		if l == nil {
			t.Fatalf("ip shows %s (index %d), nlkit does not", w.Name, w.Index)
		}
		master := ""
		if l.Master != 0 {
			master = byIndex[l.Master].Name
		}
		if l.Name != w.Name || l.MTU != w.MTU || l.OperState.String() != w.OperState ||
			l.TxQueueLen != w.TxQLen || l.Type.String() != w.LinkType ||
			l.HardwareAddr.String() != w.Address || master != w.Master {
			t.Errorf("link %d differs:\n nlkit %+v\n ip    %+v", w.Index, l, w)
		}
		// ip adds M-DOWN when the lower device is down: that needs the other
		// links, and is the CLI's business (tested there).
		wf := w.Flags
		if len(wf) > 0 && wf[len(wf)-1] == "M-DOWN" {
			wf = wf[:len(wf)-1]
		}
		if got := l.Flags.Names(); len(got) != len(wf) || l.Flags.String() != join(wf) {
			t.Errorf("link %s flags: nlkit %v, ip %v", w.Name, got, w.Flags)
		}
	}
	va, err := c.LinkByName(ctx, "va")
	if err != nil || va.Info == nil || va.Info.Kind != "veth" || va.Stats == nil {
		t.Fatalf("LinkByName(va): %+v %v", va, err)
	}
	same, err := c.LinkByIndex(ctx, va.Index)
	if err != nil || same.Name != "va" {
		t.Fatalf("LinkByIndex(%d): %+v %v", va.Index, same, err)
	}
	_, err = c.LinkByName(ctx, "nosuch0")
	if !errors.Is(err, rtnl.ErrNoLink) || !errors.Is(err, syscall.ENODEV) {
		t.Fatalf("missing link: got %v", err)
	}
	_, err = c.LinkByIndex(ctx, 9999)
	if !errors.Is(err, rtnl.ErrNoLink) {
		t.Fatalf("missing index: got %v", err)
	}
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}

// pull turns an event stream into a next function.
func pull(seq iter.Seq2[rtnl.Event, error]) (func() (rtnl.Event, error), func()) {
	next, stop := iter.Pull2(seq)
	return func() (rtnl.Event, error) {
		ev, err, ok := next()
		if !ok {
			return rtnl.Event{}, errors.New("event stream ended")
		}
		return ev, err
	}, stop
}
