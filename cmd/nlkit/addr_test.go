package main

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nlkit/nlkit/rtnl"
)

func TestParseAddrRequest(t *testing.T) {
	p := netip.MustParsePrefix
	tests := []struct {
		args   string
		verb   string
		family rtnl.AddrFamily
		want   rtnl.Address
		dev    string
	}{
		{"10.0.0.1/24 dev veth0", "add", 0,
			rtnl.Address{Family: rtnl.AddrFamilyIPv4, Prefix: p("10.0.0.1/24")}, "veth0"},
		{"dev veth0 local 10.0.0.1/24 brd + label veth0:a scope link metric 20", "add", 0,
			rtnl.Address{Family: rtnl.AddrFamilyIPv4, Prefix: p("10.0.0.1/24"), Broadcast: netip.MustParseAddr("10.0.0.255"),
				Label: "veth0:a", Scope: rtnl.ScopeLink, Metric: 20}, "veth0"},
		{"10.0.0.1/24 broadcast - dev x", "add", 0,
			rtnl.Address{Family: rtnl.AddrFamilyIPv4, Prefix: p("10.0.0.1/24"), Broadcast: netip.MustParseAddr("10.0.0.0")}, "x"},
		{"10.0.0.1/24 broadcast 10.0.0.127 dev x", "add", 0,
			rtnl.Address{Family: rtnl.AddrFamilyIPv4, Prefix: p("10.0.0.1/24"), Broadcast: netip.MustParseAddr("10.0.0.127")}, "x"},
		// The broadcast of a point-to-point address comes from the peer's subnet.
		{"10.0.1.1 peer 10.0.1.2/30 brd + dev x", "add", 0,
			rtnl.Address{Family: rtnl.AddrFamilyIPv4, Prefix: p("10.0.1.1/32"), Peer: p("10.0.1.2/30"),
				Broadcast: netip.MustParseAddr("10.0.1.3")}, "x"},
		// /31 and /32 have no broadcast: brd + adds none, as in ip.
		{"10.0.1.1/31 brd + dev x", "add", 0,
			rtnl.Address{Family: rtnl.AddrFamilyIPv4, Prefix: p("10.0.1.1/31")}, "x"},
		{"2001:db8::1/64 nodad noprefixroute mngtmpaddr valid_lft 300 preferred_lft 100 dev x", "replace", rtnl.AddrFamilyIPv6,
			rtnl.Address{Family: rtnl.AddrFamilyIPv6, Prefix: p("2001:db8::1/64"),
				Flags:         rtnl.AddrNoDAD | rtnl.AddrNoPrefixRoute | rtnl.AddrManageTempAddr,
				ValidLifetime: 300 * time.Second, PreferredLifetime: 100 * time.Second}, "x"},
		// Only valid_lft: preferred follows it. Only preferred_lft: valid is forever.
		{"10.0.0.1/8 valid_lft 60 dev x", "add", 0,
			rtnl.Address{Family: rtnl.AddrFamilyIPv4, Prefix: p("10.0.0.1/8"), ValidLifetime: time.Minute, PreferredLifetime: time.Minute}, "x"},
		{"10.0.0.1/8 preferred_lft 60 dev x", "add", 0,
			rtnl.Address{Family: rtnl.AddrFamilyIPv4, Prefix: p("10.0.0.1/8"), ValidLifetime: rtnl.Forever, PreferredLifetime: time.Minute}, "x"},
		{"10.0.0.1/8 valid_lft forever preferred_lft 0 dev x", "add", 0,
			rtnl.Address{Family: rtnl.AddrFamilyIPv4, Prefix: p("10.0.0.1/8"), ValidLifetime: rtnl.Forever}, "x"},
		// 127.0.0.0/8 gets host scope, as ip gives it, unless a scope is named.
		{"127.0.0.2/8 dev lo", "add", 0,
			rtnl.Address{Family: rtnl.AddrFamilyIPv4, Prefix: p("127.0.0.2/8"), Scope: rtnl.ScopeHost}, "lo"},
		{"127.0.0.2/8 scope global dev lo", "add", 0,
			rtnl.Address{Family: rtnl.AddrFamilyIPv4, Prefix: p("127.0.0.2/8")}, "lo"},
		{"10.0.0.1 dev x", "del", 0,
			rtnl.Address{Family: rtnl.AddrFamilyIPv4, Prefix: p("10.0.0.1/32")}, "x"},
	}
	for _, tt := range tests {
		r, err := parseAddrRequest(tt.verb, strings.Fields(tt.args))
		if err == nil {
			err = r.build(tt.verb, tt.family)
		}
		if err != nil {
			t.Errorf("%q: %v", tt.args, err)
			continue
		}
		if !reflect.DeepEqual(r.addr, tt.want) || r.dev != tt.dev {
			t.Errorf("%q:\n got %+v dev %q\nwant %+v dev %q", tt.args, r.addr, r.dev, tt.want, tt.dev)
		}
	}
}

func TestParseAddrRequestErrors(t *testing.T) {
	tests := []struct {
		args   string
		family rtnl.AddrFamily
		want   string
	}{
		{"", 0, "missing address"},
		{"dev x", 0, "missing address"},
		{"10.0.0.1/24", 0, `missing "dev DEVICE"`},
		{"10.0.0.1/33 dev x", 0, `bad prefix "10.0.0.1/33"`},
		{"10.0.0.256 dev x", 0, `bad address "10.0.0.256"`},
		{"default dev x", 0, `bad address "default"`},
		{"10.0.0.1/24 10.0.0.2/24 dev x", 0, "unknown argument"},
		{"local 10.0.0.1/24 local 10.0.0.2/24 dev x", 0, "given twice"},
		{"10.0.0.1/24 dev x dev y", 0, "device given twice"},
		{"10.0.0.1/24 dev", 0, `missing value after "dev"`},
		{"10.0.0.1/24 peer", 0, `missing value after "peer"`},
		{"10.0.0.1/24 peer bogus dev x", 0, `peer: bad prefix "bogus"`},
		{"10.0.0.1/24 peer 2001:db8::1 dev x", 0, "different families"},
		{"10.0.0.1/24 brd 300.1.1.1 dev x", 0, "broadcast"},
		{"2001:db8::1/64 brd + dev x", 0, "only for IPv4"},
		{"2001:db8::1/64 brd 10.0.0.255 dev x", 0, "only for IPv4"},
		{"2001:db8::1/64 label x:1 dev x", 0, "only IPv4 addresses have labels"},
		{"10.0.0.1/24 label 0123456789abcdef dev x", 0, "1 to 15 characters"},
		{"10.0.0.1/24 scope galaxy dev x", 0, `unknown scope "galaxy"`},
		{"10.0.0.1/24 valid_lft soon dev x", 0, `valid_lft "soon"`},
		{"10.0.0.1/24 valid_lft 4294967295 dev x", 0, "valid_lft"},
		{"10.0.0.1/24 valid_lft 0 dev x", 0, "valid_lft is zero"},
		{"10.0.0.1/24 valid_lft 10 preferred_lft 20 dev x", 0, "preferred_lft (20sec) is greater than valid_lft (10sec)"},
		{"10.0.0.1/24 metric -1 dev x", 0, `metric "-1"`},
		{"10.0.0.1/24 dev x", rtnl.AddrFamilyIPv6, "not an inet6 address"},
		{"::ffff:10.0.0.1/120 dev x", 0, "IPv4-mapped"},
	}
	for _, tt := range tests {
		r, err := parseAddrRequest("add", strings.Fields(tt.args))
		if err == nil {
			err = r.build("add", tt.family)
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want one containing %q", tt.args, err, tt.want)
		}
	}
}

func TestParseAddrSelect(t *testing.T) {
	s, err := parseAddrSelect("show", strings.Fields("dev va up scope link label va:*"))
	if err != nil || s.dev != "va" || !s.up || s.scope == nil || *s.scope != rtnl.ScopeLink || s.label != "va:*" {
		t.Fatalf("%+v %v", s, err)
	}
	if s, err := parseAddrSelect("show", []string{"va"}); err != nil || s.dev != "va" {
		t.Fatalf("bare device: %+v %v", s, err)
	}
	for args, want := range map[string]string{
		"va vb":          `unknown argument "vb"`,
		"dev va dev vb":  "device given twice",
		"scope":          `missing value after "scope"`,
		"scope galaxy":   `unknown scope "galaxy"`,
		"label [":        "bad label pattern",
		"dev va nothing": `unknown argument "nothing"`,
	} {
		if _, err := parseAddrSelect("show", strings.Fields(args)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", args, err, want)
		}
	}
	links := map[int32]*rtnl.Link{3: {Index: 3, Name: "va"}}
	sel := addrSelect{label: "va*"}
	if !sel.matches(&rtnl.Address{Index: 3, Label: "va:1"}, links) || !sel.matches(&rtnl.Address{Index: 3}, links) ||
		sel.matches(&rtnl.Address{Index: 3, Label: "x"}, links) {
		t.Error("label matching: an address without label is matched by its interface name")
	}
}

func TestParseFamily(t *testing.T) {
	for s, want := range map[string]rtnl.AddrFamily{"": 0, "inet": 2, "4": 2, "ipv4": 2, "inet6": 10, "6": 10, "IPv6": 10} {
		if f, err := parseFamily(s); err != nil || f != want {
			t.Errorf("%q: %v %v", s, f, err)
		}
	}
	if _, err := parseFamily("link"); err == nil || !strings.Contains(err.Error(), `unknown family "link"`) {
		t.Errorf("link: %v", err)
	}
}

func TestAddrJSONShape(t *testing.T) {
	a := &rtnl.Address{
		Family: rtnl.AddrFamilyIPv4, Index: 3, Prefix: netip.MustParsePrefix("10.0.1.1/30"),
		Peer: netip.MustParsePrefix("10.0.1.2/30"), Broadcast: netip.MustParseAddr("10.0.1.3"),
		Label: "va:p", Scope: rtnl.ScopeLink, Flags: rtnl.AddrSecondary | rtnl.AddrNoPrefixRoute | 0x10000,
		ValidLifetime: 99 * time.Second, PreferredLifetime: rtnl.Forever, Metric: 7, Protocol: 3,
	}
	b, err := json.Marshal(toAddrJSON(a))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"family":"inet","local":"10.0.1.1","address":"10.0.1.2","prefixlen":30,"broadcast":"10.0.1.3",` +
		`"metric":7,"scope":"link","secondary":true,"dynamic":true,"noprefixroute":true,"ifa_flags":"10000","label":"va:p",` +
		`"valid_life_time":99,"preferred_life_time":4294967295,"protocol":"kernel_ll"}`
	if string(b) != want {
		t.Fatalf("\n got %s\nwant %s", b, want)
	}
	v6 := &rtnl.Address{Family: rtnl.AddrFamilyIPv6, Prefix: netip.MustParsePrefix("2001:db8::1/64"),
		Flags: rtnl.AddrTemporary | rtnl.AddrPermanent | rtnl.AddrTentative, ValidLifetime: rtnl.Forever, PreferredLifetime: rtnl.Forever}
	b, _ = json.Marshal(toAddrJSON(v6))
	if want := `{"family":"inet6","local":"2001:db8::1","prefixlen":64,"scope":"global","temporary":true,"tentative":true,"valid_life_time":4294967295,"preferred_life_time":4294967295}`; string(b) != want {
		t.Fatalf("ipv6:\n got %s\nwant %s", b, want)
	}
	if lifetimeText(rtnl.Forever) != "forever" || lifetimeText(42*time.Second) != "42sec" {
		t.Error("lifetimeText")
	}
}
