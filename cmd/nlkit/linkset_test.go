package main

import (
	"strings"
	"testing"

	"github.com/nlkit/nlkit/internal/nstest"
)

type ipDetail struct {
	Name     string   `json:"ifname"`
	MTU      int      `json:"mtu"`
	Flags    []string `json:"flags"`
	Master   string   `json:"master"`
	Address  string   `json:"address"`
	LinkInfo struct {
		Kind string         `json:"info_kind"`
		Data map[string]any `json:"info_data"`
	} `json:"linkinfo"`
}

func ipShow(t *testing.T, ns *nstest.NS, dev string) ipDetail {
	t.Helper()
	var out []ipDetail
	ns.IPJSON(t, &out, "-d", "link", "show", "dev", dev)
	if len(out) != 1 {
		t.Fatalf("ip link show %s: %v", dev, out)
	}
	return out[0]
}

func mustRun(t *testing.T, args ...string) {
	t.Helper()
	if _, errOut, code := nlkit(t, args...); code != 0 {
		t.Fatalf("nlkit %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
}

func TestLinkAddSetDel(t *testing.T) {
	ns := nstest.New(t)
	peerNS := nstest.New(t)
	n := func(args ...string) { t.Helper(); mustRun(t, append([]string{"-n", ns.Name}, args...)...) }
	n("link", "add", "va", "mtu", "1400", "type", "veth", "peer", "name", "vb", "netns", peerNS.Name)
	n("link", "add", "br0", "type", "bridge", "stp_state", "1")
	n("link", "set", "va", "master", "br0", "up", "address", "02:00:00:00:00:01")
	n("link", "add", "vx0", "type", "vxlan", "id", "7", "dev", "va", "dstport", "4789", "remote", "192.0.2.9")
	n("link", "add", "tp0", "type", "tap")
	n("link", "add", "mv0", "link", "vx0", "type", "macvlan", "mode", "private")

	if got := ipShow(t, ns, "va"); got.MTU != 1400 || got.Master != "br0" || got.Address != "02:00:00:00:00:01" || got.LinkInfo.Kind != "veth" {
		t.Fatalf("va: %+v", got)
	}
	ipShow(t, peerNS, "vb")
	if got := ipShow(t, ns, "br0"); got.LinkInfo.Data["stp_state"] != float64(1) {
		t.Fatalf("br0: %+v", got)
	}
	if got := ipShow(t, ns, "vx0"); got.LinkInfo.Data["id"] != float64(7) || got.LinkInfo.Data["remote"] != "192.0.2.9" {
		t.Fatalf("vx0: %+v", got)
	}
	if got := ipShow(t, ns, "tp0"); got.LinkInfo.Data["type"] != "tap" {
		t.Fatalf("tp0: %+v", got)
	}
	if got := ipShow(t, ns, "mv0"); got.LinkInfo.Data["mode"] != "private" {
		t.Fatalf("mv0: %+v", got)
	}
	n("link", "set", "dev", "va", "nomaster", "down", "name", "uplink")
	if got := ipShow(t, ns, "uplink"); got.Master != "" {
		t.Fatalf("nomaster: %+v", got)
	}
	n("link", "del", "uplink")
	n("link", "del", "dev", "tp0")
	if _, err := ns.TryIP("link", "show", "uplink"); err == nil {
		t.Fatal("uplink not deleted")
	}
	if _, err := peerNS.TryIP("link", "show", "vb"); err == nil {
		t.Fatal("the peer outlived the pair")
	}
}

func TestLinkChangeBadInput(t *testing.T) {
	ns := nstest.New(t)
	ns.IP(t, "link", "add", "va", "type", "veth", "peer", "name", "vb")
	before := ns.IP(t, "-d", "link", "show")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"link", "add"}, "missing interface name"},
		{[]string{"link", "add", "x0"}, `missing "type KIND"`},
		{[]string{"link", "add", "x0", "type"}, `missing value after "type"`},
		{[]string{"link", "add", "x0", "type", "nosuch"}, "Unknown device type"},
		{[]string{"link", "add", "va", "type", "bridge"}, "file exists"},
		{[]string{"link", "add", "x0", "type", "veth", "peer", "name", "vb"}, "file exists"},
		{[]string{"link", "add", "much-too-long-name", "type", "bridge"}, "longer than 15"},
		{[]string{"link", "add", "x0", "mtu", "lots", "type", "bridge"}, `mtu "lots": not a number`},
		{[]string{"link", "add", "x0", "type", "vxlan", "dev", "va"}, `missing "id VNI"`},
		{[]string{"link", "add", "x0", "type", "vxlan", "id", "99999999"}, "not a number from 0 to 16777215"},
		{[]string{"link", "add", "x0", "type", "macvlan", "mode", "weird"}, "unknown macvlan mode"},
		{[]string{"link", "add", "x0", "link", "nosuch", "type", "macvlan"}, `device "nosuch" does not exist`},
		{[]string{"link", "add", "x0", "type", "veth", "peer", "name", "y0", "netns", "nlkit-none"}, `network namespace "nlkit-none"`},
		{[]string{"link", "add", "x0", "type", "bridge", "frob"}, `unknown argument "frob"`},
		{[]string{"link", "set", "nosuch", "up"}, `device "nosuch" does not exist`},
		{[]string{"link", "set", "va"}, "nothing to change"},
		{[]string{"link", "set", "va", "mtu", "70000"}, "out of range"},
		{[]string{"link", "set", "va", "up", "name", "a/b"}, "contains '/'"},
		{[]string{"link", "set", "va", "address", "zz"}, "bad hardware address"},
		{[]string{"link", "set", "va", "master", "nosuch"}, `device "nosuch" does not exist`},
		{[]string{"link", "set", "va", "mtu"}, `missing value after "mtu"`},
		{[]string{"link", "del"}, "missing device"},
		{[]string{"link", "del", "nosuch"}, `device "nosuch" does not exist`},
	}
	for _, tt := range tests {
		_, errOut, code := nlkit(t, append([]string{"-n", ns.Name}, tt.args...)...)
		if code == 0 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want an error containing %q", tt.args, code, errOut, tt.want)
		}
	}
	if after := ns.IP(t, "-d", "link", "show"); string(after) != string(before) {
		t.Fatalf("bad input changed the kernel's links:\nbefore %s\nafter  %s", before, after)
	}
}
