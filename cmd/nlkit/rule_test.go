package main

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nlkit/nlkit/rtnl"
)

// testNames is an ipNames that never reads the host's files.
func testNames() *ipNames {
	return &ipNames{files: map[string]map[uint32]string{
		"rt_tables":  {0: "unspec", 253: "default", 254: "main", 255: "local", 100: "vpn"},
		"rt_protos":  {0: "unspec", 2: "kernel", 3: "boot", 4: "static"},
		"rt_dsfield": {0x28: "AF11"},
		"group":      {0: "default"},
		"rt_realms":  {0: "cosmos", 3: "three"},
	}}
}

func TestParseRuleArgs(t *testing.T) {
	u32 := func(v uint32) *uint32 { return &v }
	v4, v6 := rtnl.AddrFamilyIPv4, rtnl.AddrFamilyIPv6
	tests := []struct {
		args   string
		family rtnl.AddrFamily
		want   rtnl.Rule
		fam    rtnl.AddrFamily
	}{
		{"from 10.1.0.0/16 to 10.2.0.0/24 tos 0x10 fwmark 0x10/0xff iif va oif vb pref 100 table 200", 0,
			rtnl.Rule{Src: netip.MustParsePrefix("10.1.0.0/16"), Dst: netip.MustParsePrefix("10.2.0.0/24"), TOS: 0x10,
				Mark: 0x10, Mask: 0xff, IIFName: "va", OIFName: "vb", Priority: 100, HasPriority: true, Table: 200,
				Action: rtnl.RuleActionLookup}, v4},
		{"not from all lookup vpn priority 0", 0,
			rtnl.Rule{Invert: true, Table: 100, Action: rtnl.RuleActionLookup, HasPriority: true}, v4},
		{"from 2001:db8::/32 order 5 prohibit", 0,
			rtnl.Rule{Src: netip.MustParsePrefix("2001:db8::/32"), Priority: 5, HasPriority: true, Action: rtnl.RuleActionProhibit}, v6},
		{"from all to default", v6, rtnl.Rule{}, v6},
		{"pref 7 goto 200", 0, rtnl.Rule{Priority: 7, HasPriority: true, Goto: 200, Action: rtnl.RuleActionGoto}, 0},
		{"type unreachable tos AF11 dev lo", 0, rtnl.Rule{Action: rtnl.RuleActionUnreachable, TOS: 0x28, IIFName: "lo"}, 0},
		{"nop fwmark 7", 0, rtnl.Rule{Action: rtnl.RuleActionNop, Mark: 7}, 0},
		{"lookup main suppress_prefixlength 0 suppress_ifgroup default proto static", 0,
			rtnl.Rule{Table: 254, Action: rtnl.RuleActionLookup, SuppressPrefixLen: u32(0), SuppressIfGroup: u32(0), Protocol: 4}, 0},
		{"uidrange 100-200 ipproto tcp sport 80 dport 1000-2000 l3mdev tun_id 9 realms three/4", 0,
			rtnl.Rule{UIDRange: &rtnl.RuleUIDRange{Start: 100, End: 200}, IPProto: 6, SrcPorts: &rtnl.RulePortRange{Start: 80, End: 80},
				DstPorts: &rtnl.RulePortRange{Start: 1000, End: 2000}, L3MDev: true, TunID: 9, Realms: 3<<16 | 4}, 0},
		{"ipproto ipproto-17 dsfield 8", 0, rtnl.Rule{IPProto: 17, TOS: 8}, 0},
	}
	for _, tt := range tests {
		ra, err := parseRuleArgs("rule add", tt.family, strings.Fields(tt.args), testNames())
		if err != nil {
			t.Errorf("%q: %v", tt.args, err)
			continue
		}
		if !reflect.DeepEqual(ra.rule, tt.want) || ra.family != tt.fam {
			t.Errorf("%q:\n got %+v (family %v)\nwant %+v (family %v)", tt.args, ra.rule, ra.family, tt.want, tt.fam)
		}
	}
}

func TestParseRuleArgsErrors(t *testing.T) {
	tests := []struct {
		args   string
		family rtnl.AddrFamily
		want   string
	}{
		{"from", 0, `missing value after "from"`},
		{"from 10.0.0.0/33", 0, `bad prefix "10.0.0.0/33"`},
		{"from nonsense", 0, `bad address "nonsense"`},
		{"from 10.0.0.0/8", rtnl.AddrFamilyIPv6, "is not an inet6 prefix"},
		{"from 10.0.0.0/8 to 2001:db8::/32", 0, "mixes IPv4 and IPv6"},
		{"pref -1", 0, `pref "-1": not a number`},
		{"pref 4294967296", 0, "not a number from 0 to 4294967295"},
		{"fwmark 0x10/zz", 0, `fwmark "0x10/zz"`},
		{"table nosuch", 0, `table "nosuch"`},
		{"table 0", 0, `table "0"`},
		{"tos 256", 0, `tos "256"`},
		{"iif a/b", 0, "not a valid interface name"},
		{"oif 0123456789abcdef", 0, "not a valid interface name"},
		{"blackhole table 5", 0, "more than one action"},
		{"goto 5 prohibit", 0, "more than one action"},
		{"type frob", 0, `unknown rule type "frob"`},
		{"uidrange 5", 0, `uidrange "5"`},
		{"uidrange 9-5", 0, `uidrange "9-5"`},
		{"sport 70000", 0, `sport "70000"`},
		{"dport 9-5", 0, `dport "9-5"`},
		{"ipproto frob", 0, `unknown IP protocol "frob"`},
		{"protocol 256", 0, `protocol "256"`},
		{"realms a/b/c", 0, `realms "a/b/c"`},
		{"frobnicate", 0, `unknown argument "frobnicate" (see nlkit rule add --help)`},
	}
	for _, tt := range tests {
		_, err := parseRuleArgs("rule add", tt.family, strings.Fields(tt.args), testNames())
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "rule add: ") {
			t.Errorf("%q: %v; want an error containing %q", tt.args, err, tt.want)
		}
	}
}

func TestRuleJSONShape(t *testing.T) {
	zero := uint32(0)
	five := uint32(5)
	tests := []struct {
		r    rtnl.Rule
		want string
		text string
	}{
		{rtnl.Rule{Family: rtnl.AddrFamilyIPv4, Table: 255, Action: rtnl.RuleActionLookup, Protocol: 2},
			`{"priority":0,"src":"all","table":"local"}`, "from all|lookup local"},
		// As ip -j rule printed these on iproute2 6.1.
		{rtnl.Rule{Family: rtnl.AddrFamilyIPv4, Priority: 100, Src: netip.MustParsePrefix("10.1.0.0/16"), Dst: netip.MustParsePrefix("10.2.0.0/24"),
			TOS: 0x10, Mark: 0x10, Mask: 0xff, IIFName: "va", OIFName: "vb", Table: 200, Action: rtnl.RuleActionLookup},
			`{"priority":100,"src":"10.1.0.0","srclen":16,"dst":"10.2.0.0","dstlen":24,"tos":"0x10","fwmark":"0x10","fwmask":"0xff","iif":"va","oif":"vb","table":"200"}`,
			"from 10.1.0.0/16 to 10.2.0.0/24 tos 0x10 fwmark 0x10/0xff iif va oif vb|lookup 200"},
		{rtnl.Rule{Family: rtnl.AddrFamilyIPv4, Priority: 101, Invert: true, Src: netip.MustParsePrefix("10.3.0.0/16"), Table: 300000, Action: rtnl.RuleActionLookup},
			`{"priority":101,"not":null,"src":"10.3.0.0","srclen":16,"table":"300000"}`, "not from 10.3.0.0/16|lookup 300000"},
		{rtnl.Rule{Family: rtnl.AddrFamilyIPv4, Priority: 102, Goto: 200, Action: rtnl.RuleActionGoto},
			`{"priority":102,"src":"all","goto":200}`, "from all|goto 200"},
		{rtnl.Rule{Family: rtnl.AddrFamilyIPv4, Priority: 206, Goto: 9999, Action: rtnl.RuleActionGoto, Flags: rtnl.RuleFlagUnresolved},
			`{"priority":206,"src":"all","goto":9999,"unresolved":null}`, "from all|goto 9999 [unresolved]"},
		{rtnl.Rule{Family: rtnl.AddrFamilyIPv4, Priority: 103, Action: rtnl.RuleActionBlackhole},
			`{"priority":103,"src":"all","action":"blackhole"}`, "from all|blackhole"},
		{rtnl.Rule{Family: rtnl.AddrFamilyIPv4, Priority: 106, Action: rtnl.RuleActionNop},
			`{"priority":106,"src":"all","nop":null}`, "from all|nop"},
		{rtnl.Rule{Family: rtnl.AddrFamilyIPv4, Priority: 107, Mark: 0x20, Mask: 0xffffffff, Table: 254, Action: rtnl.RuleActionLookup, SuppressPrefixLen: &zero},
			`{"priority":107,"src":"all","fwmark":"0x20","table":"main","suppress_prefixlen":0}`, "from all fwmark 0x20|lookup main suppress_prefixlength 0"},
		{rtnl.Rule{Family: rtnl.AddrFamilyIPv4, Priority: 108, UIDRange: &rtnl.RuleUIDRange{Start: 100, End: 200}, IPProto: 6,
			SrcPorts: &rtnl.RulePortRange{Start: 80, End: 80}, DstPorts: &rtnl.RulePortRange{Start: 1000, End: 2000}, Table: 10, Protocol: 4,
			Action: rtnl.RuleActionLookup},
			`{"priority":108,"src":"all","uid_start":100,"uid_end":200,"ipproto":"tcp","sport":80,"dport_start":1000,"dport_end":2000,"table":"10","protocol":"static"}`,
			"from all uidrange 100-200 ipproto tcp sport 80 dport 1000-2000|lookup 10 proto static"},
		{rtnl.Rule{Family: rtnl.AddrFamilyIPv4, Priority: 200, Table: 12, Action: rtnl.RuleActionLookup, SuppressIfGroup: &five},
			`{"priority":200,"src":"all","table":"12","suppress_ifgroup":"5"}`, "from all|lookup 12 suppress_ifgroup 5"},
		{rtnl.Rule{Family: rtnl.AddrFamilyIPv4, Priority: 203, Mask: 0xff, Table: 6, Action: rtnl.RuleActionLookup},
			`{"priority":203,"src":"all","fwmark":"0","fwmask":"0xff","table":"6"}`, "from all fwmark 0/0xff|lookup 6"},
		{rtnl.Rule{Family: rtnl.AddrFamilyIPv4, Priority: 205, IIFName: "nosuchdev", Flags: rtnl.RuleFlagIIFDetached, Table: 8, Action: rtnl.RuleActionLookup},
			`{"priority":205,"src":"all","iif":"nosuchdev","iif_detached":null,"table":"8"}`, "from all iif nosuchdev [detached]|lookup 8"},
		{rtnl.Rule{Family: rtnl.AddrFamilyIPv4, Priority: 207, L3MDev: true, Action: rtnl.RuleActionLookup},
			`{"priority":207,"src":"all","l3mdev":null}`, "from all|lookup [l3mdev-table]"},
		{rtnl.Rule{Family: rtnl.AddrFamilyIPv4, Priority: 204, Realms: 3<<16 | 4, Table: 7, Action: rtnl.RuleActionLookup, TOS: 0x28},
			`{"priority":204,"src":"all","tos":"AF11","table":"7","flow_from":"three","flow_to":"4"}`, "from all tos AF11|lookup 7 realms three/4"},
		{rtnl.Rule{Family: rtnl.AddrFamilyIPv6, Priority: 300, Src: netip.MustParsePrefix("2001:db8::/32"), Dst: netip.MustParsePrefix("2001:db8::1/128"),
			Table: 100, Action: rtnl.RuleActionLookup},
			`{"priority":300,"src":"2001:db8::","srclen":32,"dst":"2001:db8::1","table":"vpn"}`, "from 2001:db8::/32 to 2001:db8::1|lookup vpn"},
	}
	for _, tt := range tests {
		j := toRuleJSON(&tt.r, testNames(), false)
		b, err := json.Marshal(j)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tt.want {
			t.Errorf("%+v:\n got %s\nwant %s", tt.r, b, tt.want)
		}
		sel, act := ruleText(j)
		if sel+"|"+act != tt.text {
			t.Errorf("text of rule %d: %q, want %q", tt.r.Priority, sel+"|"+act, tt.text)
		}
	}
}

func TestRuleJSONDetails(t *testing.T) {
	for proto, want := range map[uint8]string{0: "unspec", 2: "kernel", 4: "static"} {
		r := rtnl.Rule{Family: rtnl.AddrFamilyIPv4, Table: 254, Action: rtnl.RuleActionLookup, Protocol: proto}
		if j := toRuleJSON(&r, testNames(), true); j.Protocol != want {
			t.Errorf("-d, protocol %d: %q, want %q", proto, j.Protocol, want)
		}
	}
}

func TestRuleShowFilter(t *testing.T) {
	rules := []*rtnl.Rule{
		{Family: rtnl.AddrFamilyIPv4, Priority: 0, Table: 255, Action: rtnl.RuleActionLookup},
		{Family: rtnl.AddrFamilyIPv4, Priority: 100, Src: netip.MustParsePrefix("10.1.0.0/16"), IIFName: "va", Table: 200, Action: rtnl.RuleActionLookup},
		{Family: rtnl.AddrFamilyIPv4, Priority: 101, Invert: true, Mark: 0x10, Mask: 0xff, Table: 254, Action: rtnl.RuleActionLookup},
		{Family: rtnl.AddrFamilyIPv4, Priority: 103, Action: rtnl.RuleActionBlackhole},
	}
	tests := []struct {
		args string
		want []uint32
	}{
		{"", []uint32{0, 100, 101, 103}},
		{"table main", []uint32{101}},
		{"pref 0", []uint32{0}},
		{"not", []uint32{101}},
		{"from 10.0.0.0/8", []uint32{100}},
		{"from 10.1.2.0/24", nil},
		{"iif va", []uint32{100}},
		{"fwmark 0x10", []uint32{101}},
		{"fwmark 0x10/0xf", nil},
		{"blackhole", []uint32{103}},
	}
	for _, tt := range tests {
		ra, err := parseRuleArgs("rule show", 0, strings.Fields(tt.args), testNames())
		if err != nil {
			t.Fatal(err)
		}
		var got []uint32
		for _, r := range rules {
			if ra.matches(r) {
				got = append(got, r.Priority)
			}
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("show %q: %v, want %v", tt.args, got, tt.want)
		}
	}
}

func TestIPNamesFiles(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "rt_tables")
	content := "# comment\n255\tlocal\n0x10 sixteen # trailing\nbad line\n100 vpn\n"
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	got := map[uint32]string{}
	readIPNames(file, got)
	readIPNames(filepath.Join(dir, "missing"), got)
	if !reflect.DeepEqual(got, map[uint32]string{255: "local", 16: "sixteen", 100: "vpn"}) {
		t.Fatalf("read %v", got)
	}
	n := testNames()
	if v, err := n.number("rt_tables", "vpn", 0xffffffff); err != nil || v != 100 {
		t.Errorf("vpn: %d %v", v, err)
	}
	if v, err := n.number("rt_tables", "0x20", 0xffffffff); err != nil || v != 32 {
		t.Errorf("0x20: %d %v", v, err)
	}
	if _, err := n.number("rt_dsfield", "300", 255); err == nil {
		t.Error("300 accepted as a DS field")
	}
	if n.name("rt_tables", 7) != "7" || n.name("rt_tables", 254) != "main" || n.dsfieldName(0x10) != "0x10" || n.dsfieldName(0x28) != "AF11" {
		t.Error("names")
	}
}
