package rtnl

import (
	"bytes"
	"net"
	"reflect"
	"testing"
)

func TestLinkRoundTrip(t *testing.T) {
	carrier := true
	tests := []struct {
		name string
		in   Link
	}{
		{"empty", Link{}},
		{"request by name", Link{Name: "eth0"}},
		{"full", Link{
			Index: 7, Type: LinkTypeEther, Flags: FlagUp | FlagBroadcast | FlagLowerUp, Change: FlagUp,
			Name: "veth0", MTU: 1400, HardwareAddr: net.HardwareAddr{2, 0, 0, 0, 0, 1},
			Broadcast: net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, Master: 3,
			ParentIndex: 8, TxQueueLen: 1000, Alias: "uplink", Group: 2,
			Info: &LinkInfo{Kind: "ipvlan", RawData: []byte{6, 0, 1, 0, 1, 0, 0, 0}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.in.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var out Link
			if err := out.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(out, tt.in) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", out, tt.in)
			}
		})
	}
	_ = carrier
}

func TestLinkUnmarshalErrors(t *testing.T) {
	var l Link
	if err := l.UnmarshalBinary(make([]byte, 15)); err == nil {
		t.Fatal("short ifinfomsg accepted")
	}
	// An MTU attribute of 2 bytes.
	b := append(make([]byte, ifInfoLen), 6, 0, iflaMTU, 0, 1, 2, 0, 0)
	if err := l.UnmarshalBinary(b); err == nil {
		t.Fatal("2-byte MTU accepted")
	}
	// Attribute length past the end.
	b = append(make([]byte, ifInfoLen), 40, 0, iflaIfname, 0, 'a', 0, 0, 0)
	if err := l.UnmarshalBinary(b); err == nil {
		t.Fatal("overlong attribute accepted")
	}
}

func TestLinkUnmarshalCopies(t *testing.T) {
	in := Link{Name: "x", HardwareAddr: net.HardwareAddr{1, 2, 3, 4, 5, 6}}
	b, _ := in.MarshalBinary()
	var out Link
	if err := out.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 0
	}
	if !bytes.Equal(out.HardwareAddr, in.HardwareAddr) {
		t.Fatal("decoded link aliases the message buffer")
	}
}

func TestLinkFlagNames(t *testing.T) {
	tests := []struct {
		f    LinkFlags
		want string
	}{
		{FlagLoopback | FlagUp | FlagRunning | FlagLowerUp, "LOOPBACK,UP,LOWER_UP"},
		{FlagBroadcast | FlagMulticast | FlagUp, "NO-CARRIER,BROADCAST,MULTICAST,UP"},
		{FlagBroadcast | FlagNoARP, "BROADCAST,NOARP"},
		{0, ""},
		{1 << 30, "40000000"},
	}
	for _, tt := range tests {
		if got := tt.f.String(); got != tt.want {
			t.Errorf("%#x: got %q want %q", uint32(tt.f), got, tt.want)
		}
	}
	if OperUp.String() != "UP" || OperState(42).String() != "42" || LinkTypeLoopback.String() != "loopback" {
		t.Error("enum names")
	}
}

func FuzzLinkUnmarshal(f *testing.F) {
	full := Link{Index: 2, Name: "eth0", MTU: 1500, HardwareAddr: net.HardwareAddr{1, 2, 3, 4, 5, 6}, Info: &LinkInfo{Kind: "bridge"}}
	b, _ := full.MarshalBinary()
	f.Add(b)
	f.Add(make([]byte, ifInfoLen))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		var l Link
		if err := l.UnmarshalBinary(b); err != nil {
			return
		}
		// What decodes re-encodes and decodes to the same writable fields.
		w := Link{Family: l.Family, Index: l.Index, Type: l.Type, Flags: l.Flags, Change: l.Change,
			Name: l.Name, MTU: l.MTU, HardwareAddr: l.HardwareAddr, Broadcast: l.Broadcast,
			Master: l.Master, ParentIndex: l.ParentIndex, TxQueueLen: l.TxQueueLen, Alias: l.Alias, Group: l.Group}
		if w.Name != "" && bytes.IndexByte([]byte(w.Name), 0) >= 0 {
			return
		}
		enc, err := w.MarshalBinary()
		if err != nil {
			return
		}
		var again Link
		if err := again.UnmarshalBinary(enc); err != nil {
			t.Fatalf("re-encoded link does not decode: %v", err)
		}
		if !reflect.DeepEqual(again, w) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", again, w)
		}
	})
}
