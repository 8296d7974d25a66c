package rtnl

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func u32p(v uint32) *uint32 { return &v }

func TestRuleRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   Rule
	}{
		{"empty", Rule{}},
		{"priority 0 set", Rule{Family: AddrFamilyIPv4, HasPriority: true, Table: 255, Action: RuleActionLookup}},
		{"ipv4 selector", Rule{
			Family: AddrFamilyIPv4, Priority: 100, HasPriority: true,
			Src: netip.MustParsePrefix("10.1.0.0/16"), Dst: netip.MustParsePrefix("10.2.0.0/24"),
			IIFName: "va", OIFName: "vb", Mark: 0x10, Mask: 0xff, TOS: 0x10,
			Action: RuleActionLookup, Table: 200, Protocol: 4,
		}},
		{"large table, inverted", Rule{Family: AddrFamilyIPv4, Priority: 101, HasPriority: true, Invert: true,
			Src: netip.MustParsePrefix("10.3.0.0/16"), Action: RuleActionLookup, Table: 300000}},
		{"goto, unresolved", Rule{Family: AddrFamilyIPv4, Priority: 102, HasPriority: true, Action: RuleActionGoto, Goto: 200,
			Flags: RuleFlagUnresolved}},
		{"suppressors", Rule{Family: AddrFamilyIPv6, Priority: 107, HasPriority: true, Action: RuleActionLookup, Table: 254,
			SuppressPrefixLen: u32p(0), SuppressIfGroup: u32p(5)}},
		{"ports and uids", Rule{Family: AddrFamilyIPv4, Priority: 108, HasPriority: true, Action: RuleActionLookup, Table: 10,
			UIDRange: &RuleUIDRange{100, 200}, IPProto: 6, SrcPorts: &RulePortRange{80, 80},
			DstPorts: &RulePortRange{1000, 2000}, TunID: 0x0102030405060708, Realms: 0x00010002}},
		{"l3mdev", Rule{Family: AddrFamilyIPv4, Priority: 1000, HasPriority: true, Action: RuleActionLookup, L3MDev: true}},
		{"ipv6 blackhole", Rule{Family: AddrFamilyIPv6, Priority: 5, HasPriority: true,
			Dst: netip.MustParsePrefix("2001:db8::/32"), Action: RuleActionBlackhole}},
		{"all-zero prefix", Rule{Family: AddrFamilyIPv4, Src: netip.MustParsePrefix("0.0.0.0/0")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.in.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var out Rule
			if err := out.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(out, tt.in) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", out, tt.in)
			}
		})
	}
}

// Golden bytes: the payload `ip rule add from 10.9.0.0/16 to 10.8.0.0/24
// not iif va fwmark 0x10/0xff pref 500 table 300000 tos 0x10` (iproute2
// 6.1) sends, taken with `strace -e trace=sendmsg -e write=3`.
const ipRuleAddGolden = "021810100000000102000000" + // fib_rule_hdr: AF_INET, dst 24, src 16, tos 0x10, table 0, action to_tbl, flags invert
	"080002000a090000" + // FRA_SRC 10.9.0.0
	"080001000a080000" + // FRA_DST 10.8.0.0
	"0700030076610000" + // FRA_IIFNAME "va"
	"08000a0010000000" + // FRA_FWMARK 0x10
	"08001000ff000000" + // FRA_FWMASK 0xff
	"08000600f4010000" + // FRA_PRIORITY 500
	"08000f00e0930400" // FRA_TABLE 300000

func TestRuleGoldenIP(t *testing.T) {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("golden bytes are little-endian")
	}
	golden, _ := hex.DecodeString(ipRuleAddGolden)
	want := Rule{
		Family: AddrFamilyIPv4, Priority: 500, HasPriority: true, Invert: true,
		Src: netip.MustParsePrefix("10.9.0.0/16"), Dst: netip.MustParsePrefix("10.8.0.0/24"),
		IIFName: "va", Mark: 0x10, Mask: 0xff, TOS: 0x10, Action: RuleActionLookup, Table: 300000,
	}
	var got Rule
	if err := got.UnmarshalBinary(golden); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decoding ip's request:\n got %+v\nwant %+v", got, want)
	}
	enc, err := want.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(enc, golden) {
		t.Fatalf("encoding differs from ip's request:\n got % x\nwant % x", enc, golden)
	}
}

func TestRuleMarshalFamily(t *testing.T) {
	r := Rule{Dst: netip.MustParsePrefix("2001:db8::/32")}
	b, err := r.MarshalBinary()
	if err != nil || AddrFamily(b[0]) != AddrFamilyIPv6 || b[1] != 32 {
		t.Fatalf("family from Dst: % x %v", b, err)
	}
	for _, bad := range []Rule{
		{Family: AddrFamilyIPv6, Src: netip.MustParsePrefix("10.0.0.0/8")},
		{Src: netip.MustParsePrefix("10.0.0.0/8"), Dst: netip.MustParsePrefix("2001:db8::/32")},
		{Src: netip.MustParsePrefix("::ffff:10.0.0.0/104")},
	} {
		if _, err := bad.MarshalBinary(); err == nil || !strings.HasPrefix(err.Error(), "rtnl: encode rule") {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	// Priority 0 is sent only when asked for.
	for _, tt := range []struct {
		r    Rule
		want bool
	}{{Rule{Family: 2}, false}, {Rule{Family: 2, HasPriority: true}, true}, {Rule{Family: 2, Priority: 7}, true}} {
		b, _ := tt.r.MarshalBinary()
		var has bool
		var d Rule
		if err := d.UnmarshalBinary(b); err == nil {
			has = d.HasPriority
		}
		if has != tt.want {
			t.Errorf("%+v: FRA_PRIORITY sent %v, want %v", tt.r, has, tt.want)
		}
	}
}

func TestRuleUnmarshalKernel(t *testing.T) {
	// The kernel reports unset suppressors as -1 and sends FRA_PROTOCOL
	// and FRA_TABLE always; priority 0 without FRA_PRIORITY.
	b := make([]byte, fibRuleHdrLen)
	b[0], b[4], b[7] = uint8(AddrFamilyIPv4), 255, 1
	attr := func(typ uint16, data []byte) {
		b = binary.NativeEndian.AppendUint16(b, uint16(4+len(data)))
		b = binary.NativeEndian.AppendUint16(b, typ)
		b = append(b, data...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	attr(fraTable, binary.NativeEndian.AppendUint32(nil, 255))
	attr(fraSuppressPrefixlen, binary.NativeEndian.AppendUint32(nil, frUnset))
	attr(fraProtocol, []byte{2})
	var r Rule
	if err := r.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	want := Rule{Family: AddrFamilyIPv4, Table: 255, Action: RuleActionLookup, Protocol: 2}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("got  %+v\nwant %+v", r, want)
	}
}

func TestRuleUnmarshalErrors(t *testing.T) {
	hdr := func(dstLen, srcLen byte) []byte {
		b := make([]byte, fibRuleHdrLen)
		b[0], b[1], b[2] = uint8(AddrFamilyIPv4), dstLen, srcLen
		return b
	}
	tests := []struct {
		name string
		b    []byte
	}{
		{"short header", make([]byte, fibRuleHdrLen-1)},
		{"prefix longer than address", append(hdr(33, 0), 8, 0, fraDst, 0, 10, 0, 0, 0)},
		{"3-byte source", append(hdr(0, 8), 7, 0, fraSrc, 0, 10, 0, 0, 0)},
		{"2-byte priority", append(hdr(0, 0), 6, 0, fraPriority, 0, 1, 0, 0, 0)},
		{"short UID range", append(hdr(0, 0), 8, 0, fraUIDRange, 0, 1, 0, 0, 0)},
		{"short port range", append(hdr(0, 0), 6, 0, fraDportRange, 0, 1, 0, 0, 0)},
		{"short tunnel ID", append(hdr(0, 0), 8, 0, fraTunID, 0, 1, 0, 0, 0)},
		{"bad suppressor", append(hdr(0, 0), 6, 0, fraSuppressPrefixlen, 0, 1, 0, 0, 0)},
		{"overlong attribute", append(hdr(0, 0), 40, 0, fraTable, 0, 1, 0, 0, 0)},
	}
	for _, tt := range tests {
		var r Rule
		err := r.UnmarshalBinary(tt.b)
		if err == nil {
			t.Errorf("%s: accepted: %+v", tt.name, r)
		} else if !strings.HasPrefix(err.Error(), "rtnl: decode rule") {
			t.Errorf("%s: error %q does not say what was decoded", tt.name, err)
		}
	}
}

func TestRuleEnumNames(t *testing.T) {
	for a, want := range map[RuleAction]string{
		RuleActionLookup: "lookup", RuleActionGoto: "goto", RuleActionNop: "nop",
		RuleActionBlackhole: "blackhole", RuleActionUnreachable: "unreachable",
		RuleActionProhibit: "prohibit", 42: "42",
	} {
		if a.String() != want {
			t.Errorf("action %d: %q, want %q", uint8(a), a.String(), want)
		}
	}
	if got := (RuleFlagUnresolved | RuleFlagIIFDetached | 0x100).String(); got != "unresolved,iif_detached,0x100" {
		t.Errorf("flags: %q", got)
	}
	if RuleFlags(0).String() != "0" {
		t.Error("no flags")
	}
}

func FuzzRuleUnmarshal(f *testing.F) {
	golden, _ := hex.DecodeString(ipRuleAddGolden)
	f.Add(golden)
	full := Rule{Family: AddrFamilyIPv6, Priority: 9, HasPriority: true, Dst: netip.MustParsePrefix("2001:db8::/32"),
		OIFName: "x", Action: RuleActionLookup, Table: 7, SuppressPrefixLen: u32p(0), UIDRange: &RuleUIDRange{1, 2},
		SrcPorts: &RulePortRange{1, 2}, DstPorts: &RulePortRange{3, 4}, TunID: 1, L3MDev: true, IPProto: 17}
	b, _ := full.MarshalBinary()
	f.Add(b)
	f.Add(make([]byte, fibRuleHdrLen))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Rule
		if err := r.UnmarshalBinary(b); err != nil {
			return
		}
		w := r
		// Marshal refuses a family that disagrees with the prefixes, and
		// IPv4-mapped prefixes.
		if fam, err := w.family(); err != nil || fam != w.Family {
			return
		}
		enc, err := w.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded rule does not encode: %v", err)
		}
		var again Rule
		if err := again.UnmarshalBinary(enc); err != nil {
			t.Fatalf("re-encoded rule does not decode: %v", err)
		}
		if !reflect.DeepEqual(again, w) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", again, w)
		}
	})
}
