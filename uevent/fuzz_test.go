package uevent_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/uevent"
)

// roundTrip checks the property every decoded event has: it encodes, and
// the encoding decodes to the same event.
func roundTrip(t *testing.T, b []byte) {
	var ev uevent.Event
	if err := ev.UnmarshalBinary(b); err != nil {
		if !errors.Is(err, uevent.ErrMalformed) {
			t.Fatalf("error %v does not wrap ErrMalformed", err)
		}
		return
	}
	if len(ev.Properties) < 2 || !strings.HasPrefix(ev.DevPath, "/") {
		t.Fatalf("accepted an event without ACTION and DEVPATH: %+v", ev)
	}
	out, err := ev.MarshalBinary()
	if err != nil {
		t.Fatalf("decoded %q but cannot encode it: %v", b, err)
	}
	var back uevent.Event
	if err := back.UnmarshalBinary(out); err != nil {
		t.Fatalf("re-decode of %q: %v", out, err)
	}
	if !reflect.DeepEqual(back, ev) {
		t.Fatalf("round trip of %q:\n got %+v\nwant %+v", b, back, ev)
	}
}

func FuzzUnmarshalKernel(f *testing.F) {
	for _, c := range captures(f) {
		if c.source == uevent.Kernel {
			f.Add(c.b)
		}
	}
	f.Add([]byte("change@/devices/x\x00ACTION=change\x00DEVPATH=/devices/x\x00SEQNUM=1"))
	f.Add([]byte("add@/x\x00ACTION=add\x00DEVPATH=/x\x00\x00=\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		roundTrip(t, b)
	})
}

// FuzzUnmarshalUdev builds the libudev header from the fuzzer's numbers,
// so the engine explores the properties and the header's offsets rather
// than spending its time finding the prefix and magic.
func FuzzUnmarshalUdev(f *testing.F) {
	for _, c := range captures(f) {
		if c.source == uevent.Udev {
			h := c.b[:40]
			f.Add(binary.NativeEndian.Uint32(h[12:]), binary.NativeEndian.Uint32(h[16:]), binary.NativeEndian.Uint32(h[20:]), true, c.b[40:])
		}
	}
	f.Add(uint32(40), uint32(48), uint32(3), false, []byte("12345678ACTION=add\x00"))
	f.Fuzz(func(t *testing.T, hsize, off, n uint32, magic bool, body []byte) {
		h := make([]byte, 40)
		copy(h, "libudev\x00")
		if magic {
			binary.BigEndian.PutUint32(h[8:], 0xfeedcafe)
		}
		binary.NativeEndian.PutUint32(h[12:], hsize)
		binary.NativeEndian.PutUint32(h[16:], off)
		binary.NativeEndian.PutUint32(h[20:], n)
		b := append(h, body...)
		roundTrip(t, b)
		var ev uevent.Event
		if err := ev.UnmarshalBinary(b); err == nil && ev.Source != uevent.Udev {
			t.Fatalf("a libudev message decoded as %v", ev.Source)
		}
		// Any prefix of a datagram is handled too.
		for i := 0; i < len(b); i += 7 {
			roundTrip(t, b[:i])
		}
	})
}

func FuzzCheckSender(f *testing.F) {
	for _, c := range captures(f) {
		f.Add(c.b, uint32(0), uint32(1), true, uint32(0))
	}
	f.Add([]byte("libudev\x00\xfe\xed\xca\xfe"), uint32(77), uint32(2), true, uint32(0))
	f.Fuzz(func(t *testing.T, b []byte, port, groups uint32, hasCreds bool, uid uint32) {
		from := netlink.Addr{Port: port, Groups: groups, HasCreds: hasCreds, Creds: netlink.Ucred{UID: uid}}
		err := uevent.CheckSender(b, from)
		if err != nil {
			if !errors.Is(err, uevent.ErrRejected) {
				t.Fatalf("error %v does not wrap ErrRejected", err)
			}
			return
		}
		// What was accepted meets the documented rules.
		if !hasCreds || uid != 0 {
			t.Fatalf("accepted without root credentials: %+v", from)
		}
		udev := bytes.HasPrefix(b, []byte("libudev\x00")) && len(b) >= 12 && binary.BigEndian.Uint32(b[8:]) == 0xfeedcafe
		switch groups {
		case 1:
			if port != 0 || bytes.HasPrefix(b, []byte("libudev\x00")) {
				t.Fatalf("accepted on the kernel group: %+v %q", from, b)
			}
		case 2:
			if !udev {
				t.Fatalf("accepted on the udev group without the libudev header: %q", b)
			}
		default:
			t.Fatalf("accepted from groups %#x", groups)
		}
	})
}

func FuzzParseMatch(f *testing.F) {
	f.Add("INTERFACE=veth*", "veth0")
	f.Add("DEVPATH=/devices/*/net/[!l]*", "/devices/virtual/net/v0")
	f.Add("K=[a-", "x")
	f.Add(`K=a\*`, "a*")
	f.Fuzz(func(t *testing.T, s, value string) {
		m, err := uevent.ParseMatch(s)
		if err != nil {
			return
		}
		again, err := uevent.ParseMatch(m.String())
		if err != nil || again != m {
			t.Fatalf("%q parsed as %+v, which reparses as %+v, %v", s, m, again, err)
		}
		ev := uevent.Event{Properties: []uevent.Property{{Key: m.Key, Value: value}}}
		got := m.Matches(&ev)
		// A pattern without special characters matches only itself.
		if !strings.ContainsAny(m.Pattern, `*?[\`) && got != (value == m.Pattern) {
			t.Fatalf("%q on %q: %v", m.Pattern, value, got)
		}
		if strings.Trim(m.Pattern, "*") == "" && m.Pattern != "" && !got {
			t.Fatalf("%q did not match %q", m.Pattern, value)
		}
	})
}
