package rtnl

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestNeighborRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   Neighbor
	}{
		{"empty", Neighbor{}},
		{"ipv4 permanent", Neighbor{
			Family: AddrFamilyIPv4, Index: 3, State: NeighPermanent, Type: 1,
			IP: netip.MustParseAddr("10.0.0.2"), HardwareAddr: net.HardwareAddr{2, 0, 0, 0, 0, 2},
		}},
		{"ipv6 router", Neighbor{
			Family: AddrFamilyIPv6, Index: 3, State: NeighStale, Flags: NeighFlagRouter,
			IP: netip.MustParseAddr("2001:db8::2"), HardwareAddr: net.HardwareAddr{2, 0, 0, 0, 0, 4},
			Protocol: 4,
		}},
		{"proxy without device", Neighbor{Family: AddrFamilyIPv4, Flags: NeighFlagProxy, IP: netip.MustParseAddr("10.0.0.9")}},
		{"fdb-like", Neighbor{Family: 7, Index: 5, State: NeighReachable, Flags: NeighFlagMaster,
			HardwareAddr: net.HardwareAddr{2, 0, 0, 0, 0, 5}, Vlan: 10, Master: 4}},
		{"empty lladdr", Neighbor{Family: AddrFamilyIPv4, Index: 1, IP: netip.MustParseAddr("10.0.0.1"), HardwareAddr: net.HardwareAddr{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.in.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var out Neighbor
			if err := out.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(out, tt.in) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", out, tt.in)
			}
		})
	}
}

// A message as the kernel sends it for `ip neigh add 10.0.0.2 lladdr
// 02:00:00:00:00:02 dev va nud permanent` (ifindex 3), read-only
// attributes included.
func kernelNeighMessage() []byte {
	b := make([]byte, ndMsgLen)
	b[0] = uint8(AddrFamilyIPv4)
	binary.NativeEndian.PutUint32(b[4:], 3)
	binary.NativeEndian.PutUint16(b[8:], uint16(NeighPermanent))
	b[11] = 1
	attr := func(typ uint16, data []byte) {
		b = binary.NativeEndian.AppendUint16(b, uint16(4+len(data)))
		b = binary.NativeEndian.AppendUint16(b, typ)
		b = append(b, data...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	attr(ndaDst, []byte{10, 0, 0, 2})
	attr(ndaLLAddr, []byte{2, 0, 0, 0, 0, 2})
	attr(ndaProbes, binary.NativeEndian.AppendUint32(nil, 3))
	ci := binary.NativeEndian.AppendUint32(nil, 150) // confirmed 1.5 s ago
	ci = binary.NativeEndian.AppendUint32(ci, 20)
	ci = binary.NativeEndian.AppendUint32(ci, 6000)
	ci = binary.NativeEndian.AppendUint32(ci, 1)
	attr(ndaCacheInfo, ci)
	return b
}

func TestNeighborUnmarshalKernel(t *testing.T) {
	var n Neighbor
	if err := n.UnmarshalBinary(kernelNeighMessage()); err != nil {
		t.Fatal(err)
	}
	want := Neighbor{
		Family: AddrFamilyIPv4, Index: 3, State: NeighPermanent, Type: 1,
		IP: netip.MustParseAddr("10.0.0.2"), HardwareAddr: net.HardwareAddr{2, 0, 0, 0, 0, 2},
		Probes: 3,
		CacheInfo: &NeighCacheInfo{Confirmed: 1500 * time.Millisecond, Used: 200 * time.Millisecond,
			Updated: time.Minute, RefCount: 1},
	}
	if !reflect.DeepEqual(n, want) {
		t.Fatalf("got  %+v %+v\nwant %+v %+v", n, n.CacheInfo, want, want.CacheInfo)
	}
}

func TestNeighborMarshalFamily(t *testing.T) {
	n := Neighbor{Index: 1, IP: netip.MustParseAddr("2001:db8::1")}
	b, err := n.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if AddrFamily(b[0]) != AddrFamilyIPv6 {
		t.Fatalf("family %d, want AF_INET6 derived from the address", b[0])
	}
	n = Neighbor{Index: 1, IP: netip.MustParseAddr("::ffff:10.0.0.1")}
	if b, err = n.MarshalBinary(); err != nil || AddrFamily(b[0]) != AddrFamilyIPv4 || len(b) != ndMsgLen+8 {
		t.Fatalf("IPv4-mapped address: %v %v", b, err)
	}
	n = Neighbor{Family: AddrFamilyIPv6, Index: 1, IP: netip.MustParseAddr("10.0.0.1")}
	if _, err := n.MarshalBinary(); err == nil || !strings.Contains(err.Error(), "family") {
		t.Fatalf("IPv4 address in an AF_INET6 entry: %v", err)
	}
}

func TestNeighborUnmarshalErrors(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
	}{
		{"short ndmsg", make([]byte, ndMsgLen-1)},
		{"3-byte address", append(make([]byte, ndMsgLen), 7, 0, ndaDst, 0, 1, 2, 3, 0)},
		{"2-byte probes", append(make([]byte, ndMsgLen), 6, 0, ndaProbes, 0, 1, 2, 0, 0)},
		{"short cache info", append(make([]byte, ndMsgLen), 8, 0, ndaCacheInfo, 0, 1, 2, 3, 4)},
		{"overlong attribute", append(make([]byte, ndMsgLen), 40, 0, ndaDst, 0, 1, 2, 3, 4)},
		{"truncated header", append(make([]byte, ndMsgLen), 8, 0)},
	}
	for _, tt := range tests {
		var n Neighbor
		err := n.UnmarshalBinary(tt.b)
		if err == nil {
			t.Errorf("%s: accepted", tt.name)
		} else if !strings.HasPrefix(err.Error(), "rtnl: decode neighbour") {
			t.Errorf("%s: error %q does not say what was decoded", tt.name, err)
		}
	}
}

func TestNeighborUnmarshalCopies(t *testing.T) {
	b := kernelNeighMessage()
	var n Neighbor
	if err := n.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 0xff
	}
	if !bytes.Equal(n.HardwareAddr, net.HardwareAddr{2, 0, 0, 0, 0, 2}) {
		t.Fatal("decoded neighbour aliases the message buffer")
	}
}

func TestNeighStateNames(t *testing.T) {
	tests := []struct {
		s    NeighState
		want string
	}{
		{NeighReachable, "REACHABLE"},
		{NeighPermanent, "PERMANENT"},
		{NeighNoARP, "NOARP"},
		{NeighNone, "NONE"},
		{NeighStale | NeighDelay, "STALE,DELAY"},
		{NeighFailed | 0x100, "FAILED,100"},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("%#x: got %q want %q", uint16(tt.s), got, tt.want)
		}
	}
	if got := NeighNone.Names(); len(got) != 0 {
		t.Errorf("NONE names: %v, want none (ip prints no state)", got)
	}
	for _, s := range []string{"permanent", "NOARP", "reachable", "stale", "none", "incomplete", "delay", "probe", "failed"} {
		st, err := ParseNeighState(s)
		if err != nil {
			t.Errorf("ParseNeighState(%q): %v", s, err)
		}
		if !strings.EqualFold(st.String(), s) {
			t.Errorf("ParseNeighState(%q) = %v", s, st)
		}
	}
	if _, err := ParseNeighState("bogus"); err == nil || !strings.Contains(err.Error(), `"bogus"`) {
		t.Errorf("bad state: %v", err)
	}
	if got := (NeighFlagRouter | NeighFlagProxy | NeighFlagExtLearned).String(); got != "proxy,extern_learn,router" {
		t.Errorf("flags: %q", got)
	}
	if NeighFlags(0).String() != "0" {
		t.Error("no flags")
	}
}

func TestNeighborFilterRequest(t *testing.T) {
	b := NeighborFilter{Family: AddrFamilyIPv6, Index: 7, Proxy: true}.request()
	if len(b) != ndMsgLen+8 || AddrFamily(b[0]) != AddrFamilyIPv6 || NeighFlags(b[10]) != NeighFlagProxy {
		t.Fatalf("request header: % x", b)
	}
	if binary.NativeEndian.Uint32(b[4:]) != 0 {
		t.Fatal("ifindex in the header: strict kernels refuse it, it belongs in NDA_IFINDEX")
	}
	if typ := binary.NativeEndian.Uint16(b[ndMsgLen+2:]); typ != ndaIfindex || binary.NativeEndian.Uint32(b[ndMsgLen+4:]) != 7 {
		t.Fatalf("NDA_IFINDEX: % x", b[ndMsgLen:])
	}
	if b := (NeighborFilter{}).request(); len(b) != ndMsgLen || !bytes.Equal(b, make([]byte, ndMsgLen)) {
		t.Fatalf("empty filter: % x", b)
	}
	f := NeighborFilter{Family: AddrFamilyIPv4, Index: 2}
	if f.match(&Neighbor{Family: AddrFamilyIPv6, Index: 2}) || f.match(&Neighbor{Family: AddrFamilyIPv4, Index: 3}) || !f.match(&Neighbor{Family: AddrFamilyIPv4, Index: 2}) {
		t.Fatal("filter match")
	}
}

func FuzzNeighborUnmarshal(f *testing.F) {
	f.Add(kernelNeighMessage())
	full := Neighbor{Family: AddrFamilyIPv6, Index: 2, State: NeighStale, Flags: NeighFlagRouter,
		IP: netip.MustParseAddr("fe80::1"), HardwareAddr: net.HardwareAddr{1, 2, 3, 4, 5, 6}, Vlan: 3, Master: 9, Protocol: 4}
	b, _ := full.MarshalBinary()
	f.Add(b)
	f.Add(make([]byte, ndMsgLen))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		var n Neighbor
		if err := n.UnmarshalBinary(b); err != nil {
			return
		}
		// What decodes re-encodes and decodes to the same writable fields.
		w := n
		w.Probes, w.CacheInfo = 0, nil
		if w.IP.IsValid() && (ndFamily(w.IP) != w.Family || w.IP.Is4In6()) {
			return // family and address disagree: Marshal refuses or unmaps it
		}
		enc, err := w.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded neighbour does not encode: %v", err)
		}
		var again Neighbor
		if err := again.UnmarshalBinary(enc); err != nil {
			t.Fatalf("re-encoded neighbour does not decode: %v", err)
		}
		if !reflect.DeepEqual(again, w) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", again, w)
		}
	})
}
