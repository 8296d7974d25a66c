package conntrack_test

import (
	"bytes"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nlkit/nlkit/conntrack"
	"github.com/nlkit/nlkit/netfilter"
	"github.com/nlkit/nlkit/netlink"
)

var (
	v4a = netip.MustParseAddr("192.0.2.1")
	v4b = netip.MustParseAddr("192.0.2.2")
	v6a = netip.MustParseAddr("2001:db8::1")
	v6b = netip.MustParseAddr("2001:db8::2")
)

func TestFlowRoundTrip(t *testing.T) {
	tcp := conntrack.Tuple{Src: v4a, Dst: v4b, Proto: conntrack.ProtoTCP, SrcPort: 40000, DstPort: 443}
	icmp6 := conntrack.Tuple{Src: v6a, Dst: v6b, Proto: conntrack.ProtoICMPv6, ICMPType: 128, ICMPID: 9}
	flows := []conntrack.Flow{
		{Original: tcp, Reply: tcp.Reverse()},
		{
			Original: tcp, Reply: tcp.Reverse(), Status: conntrack.StatusAssured | conntrack.StatusSeenReply | conntrack.StatusConfirmed,
			Timeout: 431999 * time.Second, Mark: 0xdeadbeef, Zone: 7, ID: 12345, Use: 2,
			TCP:          &conntrack.TCPInfo{State: conntrack.TCPEstablished, WScaleOrig: 7, WScaleReply: 8, FlagsOrig: conntrack.TCPFlags{Flags: 0x0a, Mask: 0x0a}},
			CountersOrig: &conntrack.Counters{Packets: 3, Bytes: 180}, CountersReply: &conntrack.Counters{Packets: 1 << 40, Bytes: 1 << 50},
			Labels: bytes.Repeat([]byte{0x81}, 16), Helper: "ftp",
			Start: time.Unix(1700000000, 5), Stop: time.Unix(1700000100, 0),
		},
		{Original: icmp6, Reply: icmp6.Reverse(), Timeout: 30 * time.Second},
		{Original: conntrack.Tuple{Src: v4a, Dst: v4b, Proto: 200, Zone: 3}, Reply: conntrack.Tuple{Src: v4b, Dst: v4a, Proto: 200}},
	}
	for i, f := range flows {
		b, err := f.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var got conntrack.Flow
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatalf("flow %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, f) {
			t.Errorf("flow %d round trip:\n got %+v\nwant %+v", i, got, f)
		}
	}
	if r := icmp6.Reverse(); r.ICMPType != 129 || r.Src != v6b {
		t.Errorf("reverse of an echo request: %+v", r)
	}
}

// wireFlow is a flow as the kernel sends it for
// `conntrack -I -p udp -s 192.0.2.1 -d 192.0.2.2 --sport 1000 --dport 53 -t 30 -m 5`.
func wireFlow() []byte {
	e := netfilter.NewAttributeEncoder()
	tuple := func(src, dst netip.Addr, sport, dport uint16) func(*netlink.AttributeEncoder) {
		return func(e *netlink.AttributeEncoder) {
			e.Nested(1, func(e *netlink.AttributeEncoder) { e.Addr(1, src); e.Addr(2, dst) })
			e.Nested(2, func(e *netlink.AttributeEncoder) { e.Uint8(1, 17); e.Uint16BE(2, sport); e.Uint16BE(3, dport) })
		}
	}
	e.Nested(1, tuple(v4a, v4b, 1000, 53))
	e.Nested(2, tuple(v4b, v4a, 53, 1000))
	e.Uint32(3, 8)  // CTA_STATUS: CONFIRMED
	e.Uint32(7, 30) // CTA_TIMEOUT
	e.Uint32(8, 5)  // CTA_MARK
	e.Uint32(11, 1) // CTA_USE
	e.Uint32(12, 0x01020304)
	e.Raw(99, []byte{1, 2, 3}) // unknown attributes are skipped
	b, _ := e.Encode()
	return b
}

func TestFlowUnmarshalKernelBytes(t *testing.T) {
	var f conntrack.Flow
	if err := f.UnmarshalBinary(wireFlow()); err != nil {
		t.Fatal(err)
	}
	want := conntrack.Flow{
		Original: conntrack.Tuple{Src: v4a, Dst: v4b, Proto: conntrack.ProtoUDP, SrcPort: 1000, DstPort: 53},
		Reply:    conntrack.Tuple{Src: v4b, Dst: v4a, Proto: conntrack.ProtoUDP, SrcPort: 53, DstPort: 1000},
		Status:   conntrack.StatusConfirmed, Timeout: 30 * time.Second, Mark: 5, Use: 1, ID: 0x01020304,
	}
	if !reflect.DeepEqual(f, want) {
		t.Errorf("got %+v\nwant %+v", f, want)
	}
	if f.Family() != netfilter.FamilyIPv4 {
		t.Errorf("family %v", f.Family())
	}
}

func TestFlowUnmarshalErrors(t *testing.T) {
	nest := func(typ uint16, fn func(*netlink.AttributeEncoder)) []byte {
		e := netfilter.NewAttributeEncoder()
		e.Nested(typ, fn)
		b, _ := e.Encode()
		return b
	}
	tests := []struct {
		name string
		b    []byte
		want string
	}{
		{"truncated attribute", []byte{8, 0, 3, 0, 1}, "decode flow"},
		{"short status", []byte{6, 0, 3, 0, 1, 2, 0, 0}, "decode flow"},
		{"3-byte IPv4 address", nest(1, func(e *netlink.AttributeEncoder) {
			e.Nested(1, func(e *netlink.AttributeEncoder) { e.Raw(1, []byte{1, 2, 3}) })
		}), "original tuple: type 1: addresses"},
		{"4-byte IPv6 address", nest(2, func(e *netlink.AttributeEncoder) {
			e.Nested(1, func(e *netlink.AttributeEncoder) { e.Raw(3, []byte{1, 2, 3, 4}) })
		}), "reply tuple: type 1: addresses"},
		{"short port", nest(1, func(e *netlink.AttributeEncoder) {
			e.Nested(2, func(e *netlink.AttributeEncoder) { e.Uint8(2, 1) })
		}), "original tuple"},
		{"short counters", nest(9, func(e *netlink.AttributeEncoder) { e.Uint32(1, 1) }), "original counters"},
		{"bad TCP flags", nest(4, func(e *netlink.AttributeEncoder) {
			e.Nested(1, func(e *netlink.AttributeEncoder) { e.Raw(4, []byte{1}) })
		}), "protocol info"},
	}
	for _, tt := range tests {
		var f conntrack.Flow
		err := f.UnmarshalBinary(tt.b)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "conntrack: decode flow") {
			t.Errorf("%s: err = %v, want one naming %q", tt.name, err, tt.want)
		}
		if err != nil && tt.name != "truncated attribute" && !errors.Is(err, netlink.ErrAttribute) {
			t.Errorf("%s: %v does not wrap netlink.ErrAttribute", tt.name, err)
		}
	}
}

func TestTypesStrings(t *testing.T) {
	tests := []struct{ got, want string }{
		{conntrack.ProtoTCP.String(), "tcp"},
		{conntrack.ProtoICMPv6.String(), "icmpv6"},
		{conntrack.Protocol(200).String(), "200"},
		{(conntrack.StatusSeenReply | conntrack.StatusAssured).String(), "SEEN_REPLY,ASSURED"},
		{conntrack.Status(0).String(), "0"},
		{conntrack.Status(1 << 20).String(), "0x100000"},
		{conntrack.TCPEstablished.String(), "ESTABLISHED"},
		{conntrack.TCPSynSent2.String(), "SYN_SENT2"},
		{conntrack.TCPState(42).String(), "state(42)"},
		{conntrack.EventDestroy.String(), "DESTROY"},
		{conntrack.EventLost.String(), "LOST"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	for _, s := range []string{"tcp", "UDP", "icmpv6", "ipv6-icmp", "47", "255"} {
		if _, err := conntrack.ParseProtocol(s); err != nil {
			t.Errorf("ParseProtocol(%q): %v", s, err)
		}
	}
	for _, s := range []string{"", "0", "256", "tcpx"} {
		if _, err := conntrack.ParseProtocol(s); err == nil {
			t.Errorf("ParseProtocol(%q): no error", s)
		}
	}
	if st, err := conntrack.ParseStatus("assured,SEEN_REPLY"); err != nil || st != conntrack.StatusAssured|conntrack.StatusSeenReply {
		t.Errorf("ParseStatus = %v, %v", st, err)
	}
	if _, err := conntrack.ParseStatus("ASSURED,FAST"); err == nil {
		t.Error("ParseStatus of an unknown bit: no error")
	}
	if s, err := conntrack.ParseTCPState("listen"); err != nil || s != conntrack.TCPSynSent2 {
		t.Errorf("ParseTCPState(listen) = %v, %v", s, err)
	}
	if _, err := conntrack.ParseTCPState("OPEN"); err == nil {
		t.Error("ParseTCPState(OPEN): no error")
	}
}

func TestFilterMatch(t *testing.T) {
	f := &conntrack.Flow{
		Original: conntrack.Tuple{Src: v4a, Dst: v4b, Proto: conntrack.ProtoUDP, SrcPort: 1, DstPort: 2},
		Mark:     0x105, Zone: 3, Status: conntrack.StatusAssured,
	}
	u32 := func(v uint32) *uint32 { return &v }
	u16 := func(v uint16) *uint16 { return &v }
	tests := []struct {
		filter *conntrack.Filter
		want   bool
	}{
		{nil, true},
		{&conntrack.Filter{}, true},
		{&conntrack.Filter{Family: netfilter.FamilyIPv6}, false},
		{&conntrack.Filter{Mark: u32(0x105)}, true},
		{&conntrack.Filter{Mark: u32(5)}, false},
		{&conntrack.Filter{Mark: u32(5), MarkMask: 0xff}, true},
		{&conntrack.Filter{Zone: u16(3)}, true},
		{&conntrack.Filter{Zone: u16(0)}, false},
		{&conntrack.Filter{Status: conntrack.StatusAssured}, true},
		{&conntrack.Filter{Status: conntrack.StatusSeenReply}, false},
		{&conntrack.Filter{Protocol: conntrack.ProtoTCP}, false},
		{&conntrack.Filter{Src: netip.MustParseAddr("::ffff:192.0.2.1"), DstPort: 2}, true},
		{&conntrack.Filter{Dst: v4a}, false},
		{&conntrack.Filter{SrcPort: 9}, false},
	}
	for i, tt := range tests {
		if got := tt.filter.Match(f); got != tt.want {
			t.Errorf("filter %d %+v: Match = %v, want %v", i, tt.filter, got, tt.want)
		}
	}
}

func FuzzFlowUnmarshal(f *testing.F) {
	f.Add(wireFlow())
	full := conntrack.Flow{
		Original: conntrack.Tuple{Src: v6a, Dst: v6b, Proto: conntrack.ProtoTCP, SrcPort: 1, DstPort: 2},
		TCP:      &conntrack.TCPInfo{State: 3}, CountersOrig: &conntrack.Counters{Packets: 1, Bytes: 2},
		Labels: []byte{1}, Helper: "ftp", Start: time.Unix(1, 0),
	}
	b, _ := full.MarshalBinary()
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		var fl conntrack.Flow
		if err := fl.UnmarshalBinary(b); err != nil {
			return
		}
		// What decodes re-encodes to bytes that decode to the same flow
		// and encode to the same bytes again.
		b1, err := fl.MarshalBinary()
		if err != nil {
			t.Fatalf("marshal %+v: %v", fl, err)
		}
		var f2 conntrack.Flow
		if err := f2.UnmarshalBinary(b1); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		b2, err := f2.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b1, b2) {
			t.Fatalf("encoding not stable:\n%x\n%x", b1, b2)
		}
	})
}

func FuzzTupleUnmarshal(f *testing.F) {
	tu := conntrack.Tuple{Src: v4a, Dst: v4b, Proto: conntrack.ProtoICMP, ICMPType: 8, ICMPID: 3, Zone: 1}
	b, _ := tu.MarshalBinary()
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		var tu conntrack.Tuple
		if err := tu.UnmarshalBinary(b); err != nil {
			return
		}
		b1, err := tu.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var t2 conntrack.Tuple
		if err := t2.UnmarshalBinary(b1); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		b2, _ := t2.MarshalBinary()
		if !bytes.Equal(b1, b2) {
			t.Fatalf("encoding not stable:\n%x\n%x", b1, b2)
		}
	})
}
