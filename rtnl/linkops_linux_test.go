//go:build linux

package rtnl_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"

	"github.com/nlkit/nlkit/internal/nstest"
	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/rtnl"
)

type ipLinkDetail struct {
	Name     string `json:"ifname"`
	MTU      uint32 `json:"mtu"`
	Flags    []string
	Address  string `json:"address"`
	Master   string `json:"master"`
	Alias    string `json:"ifalias"`
	TxQLen   uint32 `json:"txqlen"`
	LinkInfo struct {
		Kind string         `json:"info_kind"`
		Data map[string]any `json:"info_data"`
	} `json:"linkinfo"`
}

func showLink(t *testing.T, ns *nstest.NS, name string) ipLinkDetail {
	t.Helper()
	var out []ipLinkDetail
	ns.IPJSON(t, &out, "-d", "link", "show", "dev", name)
	if len(out) != 1 {
		t.Fatalf("ip link show %s: %v", name, out)
	}
	return out[0]
}

func dial(t *testing.T, ns *nstest.NS) *rtnl.Client {
	t.Helper()
	c, err := rtnl.Dial(&netlink.Config{NetNS: ns.Name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestKernelAddLinkKinds(t *testing.T) {
	ns := nstest.New(t)
	other := nstest.New(t)
	c := dial(t, ns)
	ctx := context.Background()
	otherFD, err := os.Open(other.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer otherFD.Close()
	stp := true
	err = c.AddLink(ctx, &rtnl.Link{Name: "va", MTU: 1400, HardwareAddr: net.HardwareAddr{2, 0, 0, 0, 0, 0xa},
		Info: &rtnl.LinkInfo{Data: &rtnl.Veth{Peer: &rtnl.Link{Name: "vb", NetNSFD: int(otherFD.Fd())}}}})
	if err != nil {
		t.Fatal(err)
	}
	va := showLink(t, ns, "va")
	if va.MTU != 1400 || va.Address != "02:00:00:00:00:0a" || va.LinkInfo.Kind != "veth" {
		t.Fatalf("veth as ip sees it: %+v", va)
	}
	if vb := showLink(t, other, "vb"); vb.LinkInfo.Kind != "veth" {
		t.Fatalf("peer in the other namespace: %+v", vb)
	}
	if err := c.AddLink(ctx, &rtnl.Link{Name: "br0", Info: &rtnl.LinkInfo{Data: &rtnl.Bridge{STP: &stp}}}); err != nil {
		t.Fatal(err)
	}
	if br := showLink(t, ns, "br0"); br.LinkInfo.Kind != "bridge" || br.LinkInfo.Data["stp_state"] != float64(1) {
		t.Fatalf("bridge as ip sees it: %+v", br)
	}
	vaLink, err := c.LinkByName(ctx, "va")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddLink(ctx, &rtnl.Link{Name: "mv0", ParentIndex: vaLink.Index, Info: &rtnl.LinkInfo{Data: &rtnl.Macvlan{Mode: rtnl.MacvlanBridge}}}); err != nil {
		t.Fatal(err)
	}
	if mv := showLink(t, ns, "mv0"); mv.LinkInfo.Kind != "macvlan" || mv.LinkInfo.Data["mode"] != "bridge" {
		t.Fatalf("macvlan as ip sees it: %+v", mv)
	}
	if err := c.AddLink(ctx, &rtnl.Link{Name: "mvt0", ParentIndex: vaLink.Index, Info: &rtnl.LinkInfo{Data: &rtnl.Macvlan{Mode: rtnl.MacvlanVEPA, Tap: true}}}); err != nil {
		t.Fatal(err)
	}
	if mv := showLink(t, ns, "mvt0"); mv.LinkInfo.Kind != "macvtap" || mv.LinkInfo.Data["mode"] != "vepa" {
		t.Fatalf("macvtap as ip sees it: %+v", mv)
	}
	vx := &rtnl.Vxlan{VNI: 42, Dev: vaLink.Index, Group: netip.MustParseAddr("192.0.2.1"), Port: 4789, TTL: 8}
	if err := c.AddLink(ctx, &rtnl.Link{Name: "vx0", Info: &rtnl.LinkInfo{Data: vx}}); err != nil {
		t.Fatal(err)
	}
	got := showLink(t, ns, "vx0").LinkInfo
	if got.Kind != "vxlan" || got.Data["id"] != float64(42) || got.Data["remote"] != "192.0.2.1" || got.Data["port"] != float64(4789) || got.Data["ttl"] != float64(8) || got.Data["link"] != "va" {
		t.Fatalf("vxlan as ip sees it: %+v", got)
	}
	owner := uint32(43210) // no such user, so ip prints the number
	if err := c.AddLink(ctx, &rtnl.Link{Name: "tap0", MTU: 1300, Info: &rtnl.LinkInfo{Data: &rtnl.Tun{Tap: true, Owner: &owner}}}); err != nil {
		t.Fatal(err)
	}
	tap := showLink(t, ns, "tap0")
	if tap.LinkInfo.Kind != "tun" || tap.LinkInfo.Data["type"] != "tap" || tap.MTU != 1300 || tap.LinkInfo.Data["user"] != "43210" && tap.LinkInfo.Data["user"] != float64(43210) {
		t.Fatalf("tap as ip sees it: %+v", tap)
	}
	// nlkit decodes what it created.
	for name, kind := range map[string]string{"va": "veth", "br0": "bridge", "mv0": "macvlan", "mvt0": "macvtap", "vx0": "vxlan", "tap0": "tun"} {
		l, err := c.LinkByName(ctx, name)
		if err != nil || l.Info == nil || l.Info.Kind != kind || l.Info.Data == nil {
			t.Fatalf("%s: %+v %v", name, l, err)
		}
	}
	dl, _ := c.LinkByName(ctx, "vx0")
	if v := dl.Info.Data.(*rtnl.Vxlan); v.VNI != 42 || v.Port != 4789 || v.Group != vx.Group || v.Dev != vaLink.Index {
		t.Fatalf("vxlan decoded: %+v", v)
	}
	// Creating a name that exists fails and changes nothing.
	err = c.AddLink(ctx, &rtnl.Link{Name: "br0", Info: &rtnl.LinkInfo{Kind: "bridge"}})
	if !errors.Is(err, syscall.EEXIST) {
		t.Fatalf("duplicate add: %v", err)
	}
	err = c.AddLink(ctx, &rtnl.Link{Name: "tap0", Info: &rtnl.LinkInfo{Data: &rtnl.Tun{}}})
	if !errors.Is(err, syscall.EEXIST) {
		t.Fatalf("duplicate tun: %v", err)
	}
	if err := c.AddLink(ctx, &rtnl.Link{Name: "x0", Info: &rtnl.LinkInfo{Kind: "no-such-kind"}}); !errors.Is(err, syscall.EOPNOTSUPP) {
		t.Fatalf("unknown kind: %v", err)
	}
	for _, name := range []string{"mv0", "mvt0", "vx0", "va", "br0", "tap0"} {
		l, err := c.LinkByName(ctx, name)
		if err != nil {
			t.Fatalf("before delete: %v", err)
		}
		if err := c.DeleteLink(ctx, l.Index); err != nil {
			t.Fatalf("delete %s: %v", name, err)
		}
		if _, err := ns.TryIP("link", "show", name); err == nil {
			t.Fatalf("%s still exists", name)
		}
	}
	if _, err := other.TryIP("link", "show", "vb"); err == nil {
		t.Fatal("veth peer outlived its pair")
	}
	if err := c.DeleteLink(ctx, 9999); !errors.Is(err, rtnl.ErrNoLink) {
		t.Fatalf("delete missing: %v", err)
	}
}

func TestKernelSetLink(t *testing.T) {
	ns := nstest.New(t)
	other := nstest.New(t)
	ns.IP(t, "link", "add", "va", "type", "veth", "peer", "name", "vb")
	ns.IP(t, "link", "add", "br0", "type", "bridge")
	c := dial(t, ns)
	ctx := context.Background()
	va, err := c.LinkByName(ctx, "va")
	if err != nil {
		t.Fatal(err)
	}
	br, _ := c.LinkByName(ctx, "br0")
	up := true
	q := uint32(77)
	alias := "uplink"
	mac := net.HardwareAddr{2, 0, 0, 0, 0, 0x42}
	err = c.SetLink(ctx, va.Index, rtnl.LinkChange{MTU: 1280, HardwareAddr: mac, Master: &br.Index, TxQueueLen: &q, Alias: &alias, Name: "uplink0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetLinkUp(ctx, va.Index); err != nil {
		t.Fatal(err)
	}
	got := showLink(t, ns, "uplink0")
	if got.MTU != 1280 || got.Address != mac.String() || got.Master != "br0" || got.TxQLen != 77 || got.Alias != "uplink" {
		t.Fatalf("after set: %+v", got)
	}
	l, _ := c.LinkByIndex(ctx, va.Index)
	if l.Flags&rtnl.FlagUp == 0 {
		t.Fatal("not up")
	}
	none := int32(0)
	if err := c.SetLink(ctx, va.Index, rtnl.LinkChange{Master: &none}); err != nil {
		t.Fatal(err)
	}
	if got := showLink(t, ns, "uplink0"); got.Master != "" {
		t.Fatalf("nomaster: %+v", got)
	}
	if err := c.SetLinkDown(ctx, va.Index); err != nil {
		t.Fatal(err)
	}
	// Bad values are refused before anything changes.
	for _, ch := range []rtnl.LinkChange{
		{MTU: 70000, Up: &up},
		{Name: "way-too-long-a-name", Up: &up},
		{HardwareAddr: net.HardwareAddr{1, 2, 3}, Up: &up},
	} {
		if err := c.SetLink(ctx, va.Index, ch); err == nil {
			t.Fatalf("accepted %+v", ch)
		}
	}
	if l, _ := c.LinkByIndex(ctx, va.Index); l.Flags&rtnl.FlagUp != 0 || l.MTU != 1280 || l.Name != "uplink0" {
		t.Fatalf("a refused change was applied: %+v", l)
	}
	// Move to another namespace.
	f, err := os.Open(other.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := c.SetLink(ctx, va.Index, rtnl.LinkChange{NetNSFD: int(f.Fd())}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.LinkByName(ctx, "uplink0"); !errors.Is(err, rtnl.ErrNoLink) {
		t.Fatalf("still here after netns move: %v", err)
	}
	showLink(t, other, "uplink0")
	if err := c.SetLink(ctx, 9999, rtnl.LinkChange{Up: &up}); !errors.Is(err, rtnl.ErrNoLink) {
		t.Fatalf("set missing: %v", err)
	}
}
