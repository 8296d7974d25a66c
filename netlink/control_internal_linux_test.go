//go:build linux

package netlink

import (
	"encoding/binary"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// cmsg encodes one control message as the kernel lays it out.
func cmsg(level, typ int32, data []byte) []byte {
	b := make([]byte, unix.CmsgSpace(len(data)))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = level, typ
	h.SetLen(unix.CmsgLen(len(data)))
	copy(b[unix.CmsgLen(0):], data)
	return b
}

// aligned copies b into memory aligned for a struct cmsghdr, as the
// receive path's control buffer is.
func aligned(b []byte) []byte {
	words := make([]uint64, (len(b)+7)/8+1)
	out := unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), len(words)*8)[:len(b)]
	copy(out, b)
	return out
}

func TestParseControl(t *testing.T) {
	nsid := binary.NativeEndian.AppendUint32(nil, 7)
	neg := binary.NativeEndian.AppendUint32(nil, uint32(0xfffffffe))
	join := func(bs ...[]byte) []byte {
		var out []byte
		for _, b := range bs {
			out = append(out, b...)
		}
		return out
	}
	hdr := cmsg(solNetlink, int32(ListenAllNSID), nsid)
	tests := []struct {
		name string
		in   []byte
		want Addr
	}{
		{"empty", nil, Addr{}},
		{"nsid", hdr, Addr{NSID: 7, HasNSID: true}},
		{"negative nsid", cmsg(solNetlink, int32(ListenAllNSID), neg), Addr{NSID: -2, HasNSID: true}},
		{"after another message", join(cmsg(solNetlink, int32(PacketInfo), nsid), hdr), Addr{NSID: 7, HasNSID: true}},
		{"other level", cmsg(solSocket, int32(ListenAllNSID), nsid), Addr{}},
		{"short payload", cmsg(solNetlink, int32(ListenAllNSID), nsid[:2]), Addr{}},
		{"truncated header", hdr[:unix.SizeofCmsghdr-1], Addr{}},
		{"length beyond buffer", hdr[:unix.CmsgLen(2)], Addr{}},
	}
	for _, tc := range tests {
		var got Addr
		parseControl(aligned(tc.in), &got)
		if got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
	// A length below a header stops the walk without looping.
	bad := aligned(hdr)
	(*unix.Cmsghdr)(unsafe.Pointer(&bad[0])).SetLen(3)
	var got Addr
	parseControl(bad, &got)
	if got.HasNSID {
		t.Error("parsed a control message whose length is below its header")
	}
}

func FuzzParseControl(f *testing.F) {
	f.Add(cmsg(solNetlink, int32(ListenAllNSID), []byte{7, 0, 0, 0}))
	f.Add(append(cmsg(solNetlink, int32(PacketInfo), []byte{1, 0, 0, 0}), cmsg(solNetlink, int32(ListenAllNSID), []byte{7, 0, 0, 0})...))
	f.Fuzz(func(t *testing.T, b []byte) {
		var from Addr
		parseControl(aligned(b), &from)
		if from.Port != 0 || from.Groups != 0 {
			t.Fatalf("parseControl changed the address: %+v", from)
		}
	})
}
