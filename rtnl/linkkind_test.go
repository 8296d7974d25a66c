package rtnl

import (
	"net/netip"
	"reflect"
	"testing"
	"time"
)

func TestLinkKindRoundTrip(t *testing.T) {
	on, off := true, false
	prio := uint16(4096)
	tests := []LinkData{
		&Veth{Peer: &Link{Name: "peer0", MTU: 1400, NetNSFD: 5}},
		&Veth{},
		&Bridge{ForwardDelay: 2 * time.Second, HelloTime: time.Second, MaxAge: 20 * time.Second, AgeingTime: 300 * time.Second, STP: &on, Priority: &prio, VlanFiltering: &off},
		&Macvlan{Mode: MacvlanBridge},
		&Macvlan{Mode: MacvlanPassthru, Tap: true},
		&Vxlan{VNI: 42, Group: netip.MustParseAddr("239.1.1.1"), Local: netip.MustParseAddr("10.0.0.1"), Dev: 3, TTL: 64, Port: 4789, Learning: &off},
		&Vxlan{VNI: 1 << 23, Group: netip.MustParseAddr("2001:db8::1"), Local: netip.MustParseAddr("2001:db8::2")},
	}
	for _, in := range tests {
		t.Run(in.Kind(), func(t *testing.T) {
			l := Link{Name: "x", Info: &LinkInfo{Data: in}}
			b, err := l.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var out Link
			if err := out.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			if out.Info == nil || out.Info.Kind != in.Kind() {
				t.Fatalf("kind: got %+v", out.Info)
			}
			if v, ok := in.(*Veth); ok && v.Peer != nil {
				v.Peer.NetNSFD = 0 // a request-only field, never decoded
			}
			if !reflect.DeepEqual(out.Info.Data, in) {
				t.Fatalf("round trip:\n got %#v\nwant %#v", out.Info.Data, in)
			}
		})
	}
}

func TestLinkKindErrors(t *testing.T) {
	for _, l := range []Link{
		{Name: "t", Info: &LinkInfo{Data: &Tun{}}},               // not through rtnetlink
		{Name: "v", Info: &LinkInfo{Data: &Vxlan{VNI: 1 << 24}}}, // 25 bits
		{Name: "b", Info: &LinkInfo{Data: &Bridge{HelloTime: -time.Second}}},
	} {
		if _, err := l.MarshalBinary(); err == nil {
			t.Errorf("%s: marshalled %#v", l.Name, l.Info.Data)
		}
	}
	if _, err := ParseMacvlanMode("weird"); err == nil {
		t.Error("bad macvlan mode accepted")
	}
	for _, bad := range []string{"", "sixteen-chars-xx", ".", "..", "a/b", "a b", "a:b"} {
		if ValidLinkName(bad) == nil {
			t.Errorf("name %q accepted", bad)
		}
	}
	if err := ValidLinkName("fifteen-chars-x"); err != nil {
		t.Error(err)
	}
}

func TestTunDecode(t *testing.T) {
	// IFLA_TUN_TYPE tap, PI 0, persist 1, owner 1000: as the kernel sends them.
	raw := []byte{
		5, 0, iflaTunType, 0, 2, 0, 0, 0,
		5, 0, iflaTunPersist, 0, 1, 0, 0, 0,
		8, 0, iflaTunOwner, 0, 0xe8, 3, 0, 0,
	}
	l := Link{Name: "tap0", Info: &LinkInfo{Kind: "tun", RawData: raw}}
	b, err := l.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var out Link
	if err := out.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	tun, ok := out.Info.Data.(*Tun)
	if !ok || !tun.Tap || !tun.Persist || tun.Owner == nil || *tun.Owner != 1000 || tun.TypeName() != "tap" {
		t.Fatalf("got %#v", out.Info.Data)
	}
}
