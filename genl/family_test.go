package genl

import (
	"errors"
	"reflect"
	"testing"

	"github.com/nlkit/nlkit/netlink"
)

func TestFamilyRoundTrip(t *testing.T) {
	tests := []Family{
		{Name: "x"},
		{ID: 0x10, Name: "nlctrl", Version: 2, Ops: []Op{
			{ID: 3, Flags: OpCapDo | OpCapDump | OpCapHasPolicy}, {ID: 10, Flags: OpCapDump | OpCapHasPolicy},
		}, Groups: []MulticastGroup{{ID: 0x10, Name: "notify"}}},
		{ID: 0xffff, Name: "fifteen-bytes-x", Version: 0xff, HeaderSize: 8, MaxAttr: 77,
			Ops: []Op{{ID: 1, Flags: OpAdminPerm | OpUnsAdminPerm | 0x80}}},
	}
	for _, f := range tests {
		b, err := f.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var out Family
		if err := out.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(out, f) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", out, f)
		}
	}
}

func TestFamilyUnmarshalErrors(t *testing.T) {
	var e netlink.AttributeEncoder
	e.String(ctrlAttrFamilyName, "x")
	e.Uint32(ctrlAttrVersion, 256)
	b, _ := e.Encode()
	tests := map[string][]byte{
		"version over 255":  b,
		"2-byte version":    {6, 0, ctrlAttrVersion, 0, 1, 0, 0, 0},
		"1-byte family ID":  {5, 0, ctrlAttrFamilyID, 0, 1, 0, 0, 0},
		"truncated":         {40, 0, ctrlAttrFamilyName, 0, 'a', 0, 0, 0},
		"short op":          {16, 0, ctrlAttrOps, 0x80, 12, 0, 1, 0, 6, 0, ctrlAttrOpID, 0, 1, 0, 0, 0},
		"group past nest":   {12, 0, ctrlAttrMcastGroups, 0x80, 12, 0, 1, 0, 6, 0, 1, 0},
		"trailing 2 bytes":  {8, 0, ctrlAttrMaxAttr, 0, 1, 0, 0, 0, 1, 2},
		"op ID of 8 bytes":  {20, 0, ctrlAttrOps, 0, 16, 0, 1, 0, 12, 0, ctrlAttrOpID, 0, 1, 0, 0, 0, 0, 0, 0, 0},
		"group ID of 2":     {16, 0, ctrlAttrMcastGroups, 0, 12, 0, 1, 0, 6, 0, ctrlAttrMcastGrpID, 0, 1, 0, 0, 0},
		"header size 1byte": {5, 0, ctrlAttrHdrSize, 0, 1, 0, 0, 0},
	}
	for name, b := range tests {
		var f Family
		if err := f.UnmarshalBinary(b); err == nil {
			t.Errorf("%s: accepted: %+v", name, f)
		}
	}
	// Unknown attributes are skipped; an empty payload is an empty family.
	var f Family
	if err := f.UnmarshalBinary([]byte{8, 0, 99, 0, 1, 2, 3, 4}); err != nil || !reflect.DeepEqual(f, Family{}) {
		t.Errorf("unknown attribute: %+v %v", f, err)
	}
}

func TestFamilyUnmarshalOwnsMemory(t *testing.T) {
	in := Family{Name: "abc", Groups: []MulticastGroup{{ID: 5, Name: "grp"}}}
	b, _ := in.MarshalBinary()
	var out Family
	if err := out.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 'z'
	}
	if !reflect.DeepEqual(out, in) {
		t.Fatalf("decoded family changed with its buffer: %+v", out)
	}
}

func TestFamilyGroupAndOp(t *testing.T) {
	f := &Family{Name: "nlctrl", Ops: []Op{{ID: 3, Flags: OpCapDo}}, Groups: []MulticastGroup{{ID: 16, Name: "notify"}}}
	g, err := f.Group("notify")
	if err != nil || g.ID != 16 {
		t.Fatalf("Group(notify): %+v %v", g, err)
	}
	_, err = f.Group("nope")
	if !errors.Is(err, ErrGroupNotFound) || err.Error() != `genl: family "nlctrl" has no multicast group "nope": generic netlink multicast group not found` {
		t.Fatalf("Group(nope): %v", err)
	}
	if op, ok := f.Op(3); !ok || op.Flags != OpCapDo {
		t.Fatalf("Op(3): %+v %v", op, ok)
	}
	if _, ok := f.Op(4); ok {
		t.Fatal("Op(4) found")
	}
	c := f.clone()
	c.Ops[0].ID, c.Groups[0].Name = 9, "x"
	if f.Ops[0].ID != 3 || f.Groups[0].Name != "notify" {
		t.Fatal("clone shares slices")
	}
}

func TestOpFlagsString(t *testing.T) {
	tests := []struct {
		f    OpFlags
		want string
	}{
		{0, "0"},
		{OpCapDo | OpCapDump | OpCapHasPolicy, "cmd-cap-do,cmd-cap-dump,cmd-cap-haspol"},
		{OpAdminPerm | OpCapDo, "admin-perm,cmd-cap-do"},
		{OpUnsAdminPerm | 0x100, "uns-admin-perm,0x100"},
	}
	for _, tt := range tests {
		if got := tt.f.String(); got != tt.want {
			t.Errorf("%#x: got %q want %q", uint32(tt.f), got, tt.want)
		}
	}
	if n := OpFlags(0).Names(); n == nil || len(n) != 0 {
		t.Errorf("Names of 0: %#v, want an empty slice (JSON [])", n)
	}
}
