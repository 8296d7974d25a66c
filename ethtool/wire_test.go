package ethtool

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/nlkit/nlkit/netlink"
)

func TestBitsetRoundTrip(t *testing.T) {
	for _, b := range []Bitset{
		{Size: 0},
		{Size: 0, Compact: true},
		{Size: 40, Bits: []Bit{{Index: 0, Name: "a", Value: true}, {Index: 33, Name: "b"}, {Index: 39, Name: "", Value: true}}},
		{Size: 40, Compact: true, Bits: []Bit{{Index: 0, Value: true}, {Index: 33}, {Index: 39, Value: true}}},
		{Size: 64, NoMask: true, Bits: []Bit{{Index: 1, Name: "x", Value: true}, {Index: 63, Name: "y", Value: true}}},
		{Size: 64, NoMask: true, Compact: true, Bits: []Bit{{Index: 1, Value: true}, {Index: 63, Value: true}}},
		{Size: 121, Compact: true},
	} {
		enc, err := b.MarshalBinary()
		if err != nil {
			t.Fatalf("%+v: %v", b, err)
		}
		var got Bitset
		if err := got.UnmarshalBinary(enc); err != nil {
			t.Fatalf("%+v: %v", b, err)
		}
		if !reflect.DeepEqual(got, b) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, b)
		}
	}
}

// The compact form: VALUE and MASK are u32 words, bit i in word i/32.
func TestBitsetCompactWire(t *testing.T) {
	b := Bitset{Size: 40, Compact: true, Bits: []Bit{{Index: 0, Value: true}, {Index: 33}, {Index: 39, Value: true}}}
	enc, err := b.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{
		8, 0, bitsetSize, 0, 40, 0, 0, 0,
		12, 0, bitsetValue, 0, 1, 0, 0, 0, 0x80, 0, 0, 0,
		12, 0, bitsetMask, 0, 1, 0, 0, 0, 0x82, 0, 0, 0,
	}
	if !reflect.DeepEqual(enc, want) {
		t.Errorf("compact encoding\n got % x\nwant % x", enc, want)
	}
	// A value bit outside the mask is dropped, as the verbose form would.
	in := append([]byte(nil), want...)
	in[12] = 3 // bit 1 in the value, not in the mask
	var got Bitset
	if err := got.UnmarshalBinary(in); err != nil || !reflect.DeepEqual(got, b) {
		t.Errorf("value outside mask: %+v %v", got, err)
	}
}

func TestBitsetQueries(t *testing.T) {
	b := Bitset{Size: 10, Bits: []Bit{{Index: 1, Name: "one", Value: true}, {Index: 4, Name: "four"}, {Index: 7, Value: true}}}
	for i, want := range map[uint32][2]bool{1: {true, true}, 4: {true, false}, 7: {true, true}, 0: {false, false}, 9: {false, false}} {
		if b.Has(i) != want[0] || b.Test(i) != want[1] {
			t.Errorf("bit %d: has %v test %v, want %v", i, b.Has(i), b.Test(i), want)
		}
	}
	if got := b.MaskNames(); !reflect.DeepEqual(got, []string{"one", "four", "7"}) {
		t.Errorf("mask names %q", got)
	}
	if got := b.SetNames(); !reflect.DeepEqual(got, []string{"one", "7"}) {
		t.Errorf("set names %q", got)
	}
	b.nameFrom([]string{"a", "b", "c", "d", "e", "f", "g", "seven"})
	if got := b.SetNames(); !reflect.DeepEqual(got, []string{"one", "seven"}) {
		t.Errorf("named from a string set: %q", got)
	}
	var empty Bitset
	if empty.Has(0) || empty.MaskNames() == nil || len(empty.SetNames()) != 0 {
		t.Error("empty set")
	}
}

// bitsetAttrs builds the payload of a bit set attribute.
func bitsetAttrs(fn func(e *netlink.AttributeEncoder)) []byte {
	var e netlink.AttributeEncoder
	fn(&e)
	b, _ := e.Encode()
	return b
}

func bit(e *netlink.AttributeEncoder, idx uint32, value bool) {
	e.Nested(bitsetBitsBit, func(e *netlink.AttributeEncoder) {
		e.Uint32(bitIndex, idx)
		e.Flag(bitValue, value)
	})
}

func TestBitsetErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		b    []byte
		want error
	}{
		{"no size", bitsetAttrs(func(e *netlink.AttributeEncoder) { e.Bytes(bitsetValue, []byte{1, 0, 0, 0}) }), errNoSize},
		{"beyond size", bitsetAttrs(func(e *netlink.AttributeEncoder) {
			e.Uint32(bitsetSize, 4)
			e.Nested(bitsetBits, func(e *netlink.AttributeEncoder) { bit(e, 4, true) })
		}), errBitRange},
		{"out of order", bitsetAttrs(func(e *netlink.AttributeEncoder) {
			e.Uint32(bitsetSize, 8)
			e.Nested(bitsetBits, func(e *netlink.AttributeEncoder) { bit(e, 3, true); bit(e, 2, true) })
		}), errBitOrder},
		{"twice", bitsetAttrs(func(e *netlink.AttributeEncoder) {
			e.Uint32(bitsetSize, 8)
			e.Nested(bitsetBits, func(e *netlink.AttributeEncoder) { bit(e, 3, true); bit(e, 3, false) })
		}), errBitOrder},
		{"no index", bitsetAttrs(func(e *netlink.AttributeEncoder) {
			e.Uint32(bitsetSize, 8)
			e.Nested(bitsetBits, func(e *netlink.AttributeEncoder) {
				e.Nested(bitsetBitsBit, func(e *netlink.AttributeEncoder) { e.String(bitName, "x") })
			})
		}), errBitNoIdx},
		{"short value", bitsetAttrs(func(e *netlink.AttributeEncoder) {
			e.Uint32(bitsetSize, 33)
			e.Bytes(bitsetValue, []byte{1, 0, 0, 0})
			e.Bytes(bitsetMask, []byte{1, 0, 0, 0, 0, 0, 0, 0})
		}), errWords},
		{"long mask", bitsetAttrs(func(e *netlink.AttributeEncoder) {
			e.Uint32(bitsetSize, 3)
			e.Bytes(bitsetValue, []byte{1, 0, 0, 0})
			e.Bytes(bitsetMask, []byte{1, 0, 0, 0, 0, 0, 0, 0})
		}), errWords},
		{"mask in a list", bitsetAttrs(func(e *netlink.AttributeEncoder) {
			e.Flag(bitsetNoMask, true)
			e.Uint32(bitsetSize, 3)
			e.Bytes(bitsetValue, []byte{1, 0, 0, 0})
			e.Bytes(bitsetMask, []byte{1, 0, 0, 0})
		}), errMaskNoMsk},
		{"bad size", bitsetAttrs(func(e *netlink.AttributeEncoder) { e.Uint16(bitsetSize, 3) }), netlink.ErrAttribute},
	} {
		var b Bitset
		err := b.UnmarshalBinary(tt.b)
		if !errors.Is(err, tt.want) || !strings.HasPrefix(err.Error(), "ethtool: decode bit set: ") {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
		if !reflect.DeepEqual(b, Bitset{}) {
			t.Errorf("%s: failed decoding left %+v", tt.name, b)
		}
	}
	for _, b := range []Bitset{
		{Size: 2, Bits: []Bit{{Index: 2}}},
		{Size: 4, Bits: []Bit{{Index: 2}, {Index: 1}}},
		{Size: 1 << 20, Compact: true},
	} {
		if _, err := b.MarshalBinary(); err == nil {
			t.Errorf("%+v encoded", b)
		}
	}
}

// A verbose list decodes every listed bit as set, VALUE flag or not.
func TestBitsetVerboseList(t *testing.T) {
	in := bitsetAttrs(func(e *netlink.AttributeEncoder) {
		e.Flag(bitsetNoMask, true)
		e.Uint32(bitsetSize, 8)
		e.Nested(bitsetBits, func(e *netlink.AttributeEncoder) { bit(e, 2, false); bit(e, 5, true) })
	})
	var b Bitset
	if err := b.UnmarshalBinary(in); err != nil {
		t.Fatal(err)
	}
	want := Bitset{Size: 8, NoMask: true, Bits: []Bit{{Index: 2, Value: true}, {Index: 5, Value: true}}}
	if !reflect.DeepEqual(b, want) {
		t.Errorf("got %+v want %+v", b, want)
	}
}

func TestEnumStrings(t *testing.T) {
	for _, tt := range []struct {
		v    interface{ String() string }
		want string
	}{
		{Speed(10000), "10000Mb/s"}, {SpeedUnknown, "Unknown!"}, {Speed(0), "Unknown!"}, {Speed(65535), "Unknown!"},
		{DuplexFull, "Full"}, {DuplexHalf, "Half"}, {DuplexUnknown, "Unknown! (255)"},
		{PortTP, "Twisted Pair"}, {PortDA, "Direct Attach Copper"}, {PortOther, "Other"}, {Port(9), "Unknown! (9)"},
		{TransceiverInternal, "internal"}, {TransceiverExternal, "external"}, {Transceiver(5), "Unknown! (5)"},
		{MDIXInvalid, "invalid"}, {MDIXOn, "on"}, {MDIXOff, "off"}, {MDIXAuto, "auto"}, {MDIX(7), "mdix(7)"},
		{Device{Name: "eth0"}, `"eth0"`}, {Device{Index: 4}, "index 4"}, {Device{Index: 4, Name: "a"}, `"a"`},
		{CmdLinkModesGet, "linkmodes-get"}, {Command(99), "command(99)"},
		{FlagCompactBitsets | FlagStats | 0x10, "compact-bitsets|stats|0x10"}, {Flags(0), "0"},
		{StringSetLinkModes, "link-modes"}, {StringSetID(0), "string-set(0)"},
	} {
		if got := tt.v.String(); got != tt.want {
			t.Errorf("%#v: %q, want %q", tt.v, got, tt.want)
		}
	}
}

// MDIXString prints the MDI-X line as ethtool's dump_mdix does.
func TestMDIXString(t *testing.T) {
	for _, tt := range []struct {
		state, ctrl MDIX
		want        string
	}{
		{MDIXInvalid, MDIXInvalid, "Unknown"},
		{MDIXOn, MDIXInvalid, "on"},
		{MDIXOff, MDIXAuto, "off (auto)"},
		{MDIXOn, MDIXAuto, "on (auto)"},
		{MDIXOn, MDIXOff, "off (forced)"},
		{MDIXOff, MDIXOn, "on (forced)"},
		{MDIXInvalid, MDIXAuto, "Unknown"},
	} {
		li := LinkInfo{TPMDIX: tt.state, TPMDIXCtrl: tt.ctrl}
		if got := li.MDIXString(); got != tt.want {
			t.Errorf("state %v control %v: %q, want %q", tt.state, tt.ctrl, got, tt.want)
		}
	}
}

func TestMatchPattern(t *testing.T) {
	for _, tt := range []struct {
		name, pattern string
		want          bool
	}{
		{"rx-checksum", "rx-checksum", true},
		{"rx-checksumx", "rx-checksum", false},
		{"tx-checksum-ipv4", "tx-checksum-*", true},
		{"tx-checksum-", "tx-checksum-*", true},
		{"tx-checksum", "tx-checksum-*", false},
		{"tx-scatter-gather", "tx-scatter-gather*", true},
		{"tx-tcp6-segmentation", "tx-tcp*-segmentation", true},
		{"tx-tcp-segmentation", "tx-tcp*-segmentation", true},
		{"tx-tcp-segmentatio", "tx-tcp*-segmentation", false},
		{"tx-tcp-segmentation", "tx-tcp-*-segmentation", false},
		{"tx-udp-segmentation", "tx-tcp*-segmentation", false},
	} {
		if got := matchPattern(tt.name, tt.pattern); got != tt.want {
			t.Errorf("matchPattern(%q, %q) = %v", tt.name, tt.pattern, got)
		}
	}
}

// Features with made-up names: grouping as ethtool -k does, states from
// the four sets.
func TestFeaturesGroups(t *testing.T) {
	names := []string{"tx-scatter-gather", "tx-checksum-ipv4", "", "rx-checksum", "my-feature", "tx-generic-segmentation"}
	list := func(idx ...uint32) *Bitset {
		b := &Bitset{Size: 6, NoMask: true}
		for _, i := range idx {
			b.Bits = append(b.Bits, Bit{Index: i, Value: true})
		}
		return b
	}
	hw := &Bitset{Size: 6}
	for i := uint32(0); i < 6; i++ {
		hw.Bits = append(hw.Bits, Bit{Index: i, Value: i != 1 && i != 4}) // 1 and 4 not changeable
	}
	f := Features{
		HW: hw, Wanted: list(0, 3, 5), Active: list(0, 1, 3), NoChange: list(5), Names: names,
	}
	want := []Feature{
		{Index: 0, Name: "tx-scatter-gather", Active: true, Requested: true},
		{Index: 1, Name: "tx-checksum-ipv4", Active: true, Fixed: true},
		{Index: 3, Name: "rx-checksum", Active: true, Requested: true},
		{Index: 4, Name: "my-feature", Fixed: true},
		{Index: 5, Name: "tx-generic-segmentation", Requested: true, Fixed: true, NoChange: true},
	}
	if got := f.List(); !reflect.DeepEqual(got, want) {
		t.Fatalf("list:\n got %+v\nwant %+v", got, want)
	}
	if m := f.Map(); len(m) != 5 || m["my-feature"] != want[3] {
		t.Errorf("map %+v", m)
	}
	var got []string
	for _, g := range f.Groups() {
		var members []string
		for _, x := range g.Features {
			members = append(members, x.Name)
		}
		got = append(got, g.Name+"="+strings.Join(members, ",")+map[bool]string{true: "+", false: "-"}[g.Active()])
	}
	wantGroups := []string{
		"rx-checksumming=rx-checksum+", "tx-checksumming=tx-checksum-ipv4+", "scatter-gather=tx-scatter-gather+",
		"tcp-segmentation-offload=-", "generic-segmentation-offload=tx-generic-segmentation-",
		"generic-receive-offload=-", "large-receive-offload=-", "rx-vlan-offload=-", "tx-vlan-offload=-",
		"ntuple-filters=-", "receive-hashing=-", "my-feature=my-feature-",
	}
	if !reflect.DeepEqual(got, wantGroups) {
		t.Errorf("groups:\n got %q\nwant %q", got, wantGroups)
	}
	// Without Names, the names come from verbose bit sets.
	f.Names = nil
	hw.Bits[4].Name = "named-in-hw"
	if l := f.List(); len(l) != 1 || l[0].Name != "named-in-hw" {
		t.Errorf("names from bit sets: %+v", l)
	}
}

func TestLinkStateRoundTrip(t *testing.T) {
	yes, sqi, max, st, sub, cnt := true, uint32(3), uint32(7), uint8(5), uint8(2), uint32(9)
	for _, ls := range []LinkState{
		{},
		{Header: Header{Device: Device{Index: 2, Name: "eth0"}}, Link: &yes},
		{Link: new(bool), SQI: &sqi, SQIMax: &max, ExtState: &st, ExtSubstate: &sub, ExtDownCount: &cnt},
	} {
		b, err := ls.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var got LinkState
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, ls) {
			t.Errorf("got %+v want %+v", got, ls)
		}
	}
}

func TestLinkModesRoundTrip(t *testing.T) {
	for _, lm := range []LinkModes{
		{Speed: SpeedUnknown, Duplex: DuplexUnknown},
		{Header: Header{Device: Device{Index: 2, Name: "eth0"}, Flags: FlagCompactBitsets}, Autoneg: true, Speed: 100000, Duplex: DuplexFull,
			Lanes: 4, MasterSlaveCfg: 1, MasterSlaveState: 2, RateMatching: 1,
			Ours: &Bitset{Size: 8, Compact: true, Bits: []Bit{{Index: 1, Value: true}}},
			Peer: &Bitset{Size: 8, NoMask: true, Bits: []Bit{{Index: 3, Name: "x", Value: true}}}},
	} {
		b, err := lm.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var got LinkModes
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, lm) {
			t.Errorf("got %+v want %+v", got, lm)
		}
	}
	// Speeds above INT_MAX are SPEED_UNKNOWN.
	var e netlink.AttributeEncoder
	e.Uint32(linkModesSpeed, 0x80000000)
	b, _ := e.Encode()
	var lm LinkModes
	if err := lm.UnmarshalBinary(b); err != nil || lm.Speed != SpeedUnknown || lm.Speed.Known() {
		t.Errorf("speed 0x80000000: %v %v", lm.Speed, err)
	}
}

func TestStringSetsErrors(t *testing.T) {
	set := func(count uint32, idx ...uint32) []byte {
		var e netlink.AttributeEncoder
		e.Nested(strsetStringsets, func(e *netlink.AttributeEncoder) {
			e.Nested(stringsetsSet, func(e *netlink.AttributeEncoder) {
				e.Uint32(stringsetID, 4)
				e.Uint32(stringsetCount, count)
				e.Nested(stringsetStrings, func(e *netlink.AttributeEncoder) {
					for _, i := range idx {
						e.Nested(stringsString, func(e *netlink.AttributeEncoder) {
							e.Uint32(stringIndex, i)
							e.String(stringValue, "s")
						})
					}
				})
			})
		})
		b, _ := e.Encode()
		return b
	}
	var ss StringSets
	if err := ss.UnmarshalBinary(set(3, 2, 0)); err != nil || !reflect.DeepEqual(ss.Sets, []StringSet{{ID: 4, Count: 3, Strings: []string{"s", "", "s"}}}) {
		t.Errorf("sparse set: %+v %v", ss, err)
	}
	if err := ss.UnmarshalBinary(set(3, 3)); !errors.Is(err, errStringIndex) {
		t.Errorf("index beyond count: %v", err)
	}
	if err := ss.UnmarshalBinary(set(1<<20, 0)); !errors.Is(err, errStringCount) {
		t.Errorf("huge count: %v", err)
	}
}
