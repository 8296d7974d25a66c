package netfilter_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/nlkit/nlkit/netfilter"
	"github.com/nlkit/nlkit/netlink"
)

func TestHeaderRoundTrip(t *testing.T) {
	tests := []struct {
		h    netfilter.Header
		wire []byte
	}{
		{netfilter.Header{}, []byte{0, 0, 0, 0}},
		{netfilter.Header{Family: netfilter.FamilyIPv4}, []byte{2, 0, 0, 0}},
		{netfilter.Header{Family: netfilter.FamilyIPv6, Version: 1, ResourceID: 0x0102}, []byte{10, 1, 1, 2}},
		{netfilter.Header{Family: netfilter.FamilyUnspec, ResourceID: 65535}, []byte{0, 0, 0xff, 0xff}},
	}
	for _, tt := range tests {
		b, err := tt.h.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, tt.wire) {
			t.Errorf("%+v: marshal = %x, want %x", tt.h, b, tt.wire)
		}
		var got netfilter.Header
		if err := got.UnmarshalBinary(tt.wire); err != nil {
			t.Fatal(err)
		}
		if got != tt.h {
			t.Errorf("unmarshal %x = %+v, want %+v", tt.wire, got, tt.h)
		}
	}
	var h netfilter.Header
	for _, b := range [][]byte{nil, {1, 2, 3}, {1, 2, 3, 4, 5}} {
		if err := h.UnmarshalBinary(b); err == nil {
			t.Errorf("unmarshal %x: no error", b)
		}
	}
}

func TestMessage(t *testing.T) {
	typ := netfilter.NewMessageType(netfilter.SubsysCTNetlink, 2)
	if typ != 0x0102 || typ.Subsystem() != netfilter.SubsysCTNetlink || typ.Message() != 2 {
		t.Fatalf("NewMessageType = %#x (%v, %d)", uint16(typ), typ.Subsystem(), typ.Message())
	}
	m := netfilter.Message{Type: typ, Header: netfilter.Header{Family: netfilter.FamilyIPv4, ResourceID: 7}, Data: []byte{4, 0, 1, 0}}
	nm, err := m.NetlinkMessage(netlink.Dump)
	if err != nil {
		t.Fatal(err)
	}
	if nm.Header.Type != 0x0102 || nm.Header.Flags != netlink.Dump {
		t.Errorf("netlink header = %+v", nm.Header)
	}
	if want := []byte{2, 0, 0, 7, 4, 0, 1, 0}; !bytes.Equal(nm.Data, want) {
		t.Errorf("payload = %x, want %x", nm.Data, want)
	}
	got, err := netfilter.ParseMessage(nm)
	if err != nil {
		t.Fatal(err)
	}
	if got.Type != typ || got.Header != m.Header || !bytes.Equal(got.Data, m.Data) || got.Netlink != nm.Header {
		t.Errorf("ParseMessage = %+v, want %+v", got, m)
	}
	_, err = netfilter.ParseMessage(netlink.Message{Data: []byte{1, 2}})
	if !errors.Is(err, netfilter.ErrShortMessage) {
		t.Errorf("short message: err = %v, want ErrShortMessage", err)
	}
}

func TestStrings(t *testing.T) {
	tests := []struct{ got, want string }{
		{netfilter.SubsysCTNetlink.String(), "ctnetlink"},
		{netfilter.SubsysQueue.String(), "queue"},
		{netfilter.SubsysULOG.String(), "ulog"},
		{netfilter.SubsysHook.String(), "hook"},
		{netfilter.Subsystem(99).String(), "subsys(99)"},
		{netfilter.NewMessageType(netfilter.SubsysQueue, 2).String(), "queue/2"},
		{netfilter.BatchBegin.String(), "batch-begin"},
		{netfilter.FamilyIPv6.String(), "ipv6"},
		{netfilter.Family(42).String(), "family(42)"},
		{netfilter.GroupConntrackDestroy.String(), "conntrack-destroy"},
		{netfilter.Group(77).String(), "group(77)"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestAttributesBigEndian(t *testing.T) {
	e := netfilter.NewAttributeEncoder()
	e.Uint32(1, 0x01020304)
	e.Nested(2, func(e *netlink.AttributeEncoder) { e.Uint16(3, 0x0506) })
	b, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{8, 0, 1, 0, 1, 2, 3, 4, 12, 0, 2, 0x80, 6, 0, 3, 0, 5, 6, 0, 0}
	if !bytes.Equal(b, want) {
		t.Fatalf("encoded %x, want %x", b, want)
	}
	d := netfilter.NewAttributeDecoder(b)
	var v32 uint32
	var v16 uint16
	for d.Next() {
		switch d.Type() {
		case 1:
			v32 = d.Uint32()
		case 2:
			d.Nested(func(nd *netlink.AttributeDecoder) error {
				for nd.Next() {
					v16 = nd.Uint16()
				}
				return nil
			})
		}
	}
	if err := d.Err(); err != nil {
		t.Fatal(err)
	}
	if v32 != 0x01020304 || v16 != 0x0506 {
		t.Errorf("decoded %#x %#x", v32, v16)
	}
}

func FuzzMessageUnmarshal(f *testing.F) {
	f.Add([]byte{2, 0, 0, 0, 8, 0, 1, 0, 1, 2, 3, 4})
	f.Add([]byte{10, 1, 0xff, 0xff})
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		var m netfilter.Message
		if err := m.UnmarshalBinary(b); err != nil {
			if len(b) >= netfilter.HeaderLen {
				t.Fatalf("unmarshal %x: %v", b, err)
			}
			return
		}
		out, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("round trip %x -> %x", b, out)
		}
	})
}
