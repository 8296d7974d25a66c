package main

import (
	"encoding/json"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/nlkit/nlkit/rtnl"
)

func TestParseLLAddr(t *testing.T) {
	good := map[string]string{
		"02:00:00:00:00:01":       "02:00:00:00:00:01",
		"2:0:0:0:0:a":             "02:00:00:00:00:0a",
		"AA:BB:CC:DD:EE:FF":       "aa:bb:cc:dd:ee:ff",
		"01:02:03:04:05:06:07:08": "01:02:03:04:05:06:07:08",
		"192.0.2.1":               "c0:00:02:01",
		"7f":                      "7f",
	}
	for in, want := range good {
		hw, err := parseLLAddr("neigh add", in)
		if err != nil || hw.String() != want {
			t.Errorf("parseLLAddr(%q) = %v, %v; want %s", in, hw, err, want)
		}
	}
	for _, in := range []string{"", "02:00:00:00:00:zz", "02::00", "123:00", "02-00-00-00-00-01", "1.2.3", "2001:db8::1x",
		strings.Repeat("01:", 32) + "01"} {
		if hw, err := parseLLAddr("neigh add", in); err == nil || !strings.Contains(err.Error(), "bad lladdr") {
			t.Errorf("parseLLAddr(%q) = %v, %v; want a bad lladdr error", in, hw, err)
		}
	}
}

func TestParseNeighState(t *testing.T) {
	tests := []struct {
		in       string
		allowAll bool
		want     uint32
	}{
		{"permanent", false, 0x80}, {"noarp", false, 0x40}, {"reachable", false, 0x02},
		{"stale", false, 0x04}, {"none", false, neighNoneBit}, {"incomplete", false, 0x01},
		{"delay", false, 0x08}, {"probe", false, 0x10}, {"failed", false, 0x20},
		{"all", true, neighAllStates}, {"0x80", false, 0x80},
	}
	for _, tt := range tests {
		got, err := parseNeighState("neigh show", tt.in, tt.allowAll)
		if err != nil || got != tt.want {
			t.Errorf("parseNeighState(%q) = %#x, %v; want %#x", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"all", "bogus", "0x3", "256", ""} {
		if _, err := parseNeighState("neigh add", bad, false); err == nil || !strings.Contains(err.Error(), "unknown nud state") {
			t.Errorf("parseNeighState(%q): %v", bad, err)
		}
	}
}

func TestNeighJSONShape(t *testing.T) {
	names := &ipNames{files: map[string]map[uint32]string{"rt_protos": {4: "static"}}}
	links := map[int32]string{3: "va"}
	tests := []struct {
		n       rtnl.Neighbor
		showDev bool
		want    string
	}{
		{rtnl.Neighbor{Index: 3, State: rtnl.NeighPermanent, IP: netip.MustParseAddr("10.0.0.2"),
			HardwareAddr: net.HardwareAddr{2, 0, 0, 0, 0, 2}, CacheInfo: &rtnl.NeighCacheInfo{Used: time.Second}},
			true, `{"dst":"10.0.0.2","dev":"va","lladdr":"02:00:00:00:00:02","state":["PERMANENT"]}`},
		{rtnl.Neighbor{Index: 3, State: rtnl.NeighStale, Flags: rtnl.NeighFlagRouter, IP: netip.MustParseAddr("2001:db8::2"),
			HardwareAddr: net.HardwareAddr{2, 0, 0, 0, 0, 4}, Protocol: 4},
			true, `{"dst":"2001:db8::2","dev":"va","lladdr":"02:00:00:00:00:04","router":null,"state":["STALE"],"protocol":"static"}`},
		{rtnl.Neighbor{Index: 3, Flags: rtnl.NeighFlagProxy, IP: netip.MustParseAddr("10.0.0.9")},
			true, `{"dst":"10.0.0.9","dev":"va","proxy":null}`},
		{rtnl.Neighbor{Index: 3, State: rtnl.NeighFailed, IP: netip.MustParseAddr("10.0.0.7")},
			false, `{"dst":"10.0.0.7","state":["FAILED"]}`},
		{rtnl.Neighbor{Index: 9, State: rtnl.NeighNone, Flags: rtnl.NeighFlagExtLearned | rtnl.NeighFlagOffloaded, IP: netip.MustParseAddr("10.0.0.8")},
			true, `{"dst":"10.0.0.8","dev":"if9","extern_learn":null,"offload":null}`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(toNeighJSON(&tt.n, links, names, tt.showDev))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tt.want {
			t.Errorf("%+v:\n got %s\nwant %s", tt.n, b, tt.want)
		}
	}
}
