package genl

import (
	"bytes"
	"os"
	"reflect"
	"testing"

	"github.com/nlkit/nlkit/netlink"
)

func FuzzHeaderUnmarshal(f *testing.F) {
	f.Add([]byte{3, 2, 0, 0})
	f.Add([]byte{1, 1, 0xff, 0xff})
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		var h Header
		if err := h.UnmarshalBinary(b); err != nil {
			if len(b) == HeaderLen {
				t.Fatalf("4 bytes rejected: %v", err)
			}
			return
		}
		enc, err := h.MarshalBinary()
		if err != nil || !bytes.Equal(enc, b) {
			t.Fatalf("round trip %x: %x %v", b, enc, err)
		}
	})
}

func FuzzMessageUnmarshal(f *testing.F) {
	f.Add([]byte{3, 2, 0, 0, 8, 0, 1, 0, 1, 2, 3, 4})
	f.Add([]byte{3, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Message
		if err := m.UnmarshalBinary(b); err != nil {
			return
		}
		enc, err := m.MarshalBinary()
		if err != nil || !bytes.Equal(enc, b) {
			t.Fatalf("round trip %x: %x %v", b, enc, err)
		}
	})
}

func FuzzFamilyUnmarshal(f *testing.F) {
	if b, err := os.ReadFile("testdata/ctrl_dump.bin"); err == nil {
		msgs, _ := netlink.ParseMessages(b)
		for _, m := range msgs {
			if len(m.Data) > HeaderLen {
				f.Add(m.Data[HeaderLen:])
			}
		}
	}
	f.Add([]byte{})
	f.Add([]byte{8, 0, ctrlAttrOps, 0x80, 4, 0, 1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var fam Family
		if err := fam.UnmarshalBinary(b); err != nil {
			return
		}
		// What decodes re-encodes and decodes to the same family, except
		// names cut at a NUL or too long for an attribute.
		for _, g := range fam.Groups {
			if len(g.Name) > 60000 {
				return
			}
		}
		enc, err := fam.MarshalBinary()
		if err != nil {
			return // a name too long to encode
		}
		var again Family
		if err := again.UnmarshalBinary(enc); err != nil {
			t.Fatalf("re-encoded family does not decode: %v\n%+v", err, fam)
		}
		if len(fam.Ops) == 0 {
			fam.Ops = nil
		}
		if len(fam.Groups) == 0 {
			fam.Groups = nil
		}
		if !reflect.DeepEqual(again, fam) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", again, fam)
		}
	})
}
