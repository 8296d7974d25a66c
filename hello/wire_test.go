package hello

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nlkit/nlkit/netlink"
)

// attr builds one attribute by hand (independent of the encoder).
func attr(typ uint16, data []byte) []byte {
	b := binary.NativeEndian.AppendUint16(nil, uint16(4+len(data)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func u32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }
func u64(v uint64) []byte { return binary.NativeEndian.AppendUint64(nil, v) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

var fullStats = Stats{
	MsgsReceived: 1, RepliesSent: 2, PacketsPassed: 3, PacketsDroppedNoListener: 4,
	PacketsDroppedBufferFull: 5, ErrorsSent: 6, PacketsDroppedNoMem: 8,
}

// statsWire is fullStats as the module sends it on x86-64: 7 attributes
// of 12 bytes, in the order 1-6, 8 (README: "STATS request and reply").
var statsWire = cat(
	attr(1, u64(1)), attr(2, u64(2)), attr(3, u64(3)), attr(4, u64(4)),
	attr(5, u64(5)), attr(6, u64(6)), attr(8, u64(8)),
)

func TestStatsMarshal(t *testing.T) {
	b, err := fullStats.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, statsWire) {
		t.Fatalf("got  % x\nwant % x", b, statsWire)
	}
	if len(b) != 7*12 {
		t.Fatalf("%d bytes, the module's reply payload is 84", len(b))
	}
}

func TestStatsUnmarshal(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want Stats
	}{
		{"module order", statsWire, fullStats},
		{"empty", nil, Stats{}},
		{"reverse order", cat(attr(8, u64(8)), attr(1, u64(1))), Stats{MsgsReceived: 1, PacketsDroppedNoMem: 8}},
		// Architectures without efficient unaligned access put a PAD
		// attribute in front of a u64 to align it.
		{"with PAD", cat(attr(7, nil), attr(1, u64(1)), attr(7, u32(0)), attr(2, u64(2))), Stats{MsgsReceived: 1, RepliesSent: 2}},
		{"unknown counter of a newer module", cat(attr(9, u64(99)), attr(6, u64(6))), Stats{ErrorsSent: 6}},
		{"max value", attr(3, u64(math.MaxUint64)), Stats{PacketsPassed: math.MaxUint64}},
	}
	for _, tt := range tests {
		var s Stats
		if err := s.UnmarshalBinary(tt.in); err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if s != tt.want {
			t.Errorf("%s: got %+v, want %+v", tt.name, s, tt.want)
		}
	}
}

func TestStatsUnmarshalErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   []byte
	}{
		{"u32 counter", attr(1, u32(1))},
		{"truncated attribute", statsWire[:10]},
		{"length past the end", func() []byte { b := attr(1, u64(1)); b[0] = 40; return b }()},
		{"3 trailing bytes", append(attr(1, u64(1)), 1, 2, 3)},
	} {
		s := Stats{MsgsReceived: 42}
		err := s.UnmarshalBinary(tt.in)
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		if !errors.Is(err, netlink.ErrAttribute) || !strings.HasPrefix(err.Error(), "hello: decode stats: ") {
			t.Errorf("%s: error %q, want a wrapped netlink.ErrAttribute", tt.name, err)
		}
		if s.MsgsReceived != 42 {
			t.Errorf("%s: failed decode changed the receiver: %+v", tt.name, s)
		}
	}
}

func TestStatsSubAndCounters(t *testing.T) {
	d := fullStats.Sub(Stats{MsgsReceived: 1, ErrorsSent: 2})
	if d.MsgsReceived != 0 || d.ErrorsSent != 4 || d.PacketsDroppedNoMem != 8 {
		t.Errorf("Sub: %+v", d)
	}
	var names []string
	for _, c := range fullStats.Counters() {
		names = append(names, c.Attr.String())
		if c.Value != uint64(c.Attr) {
			t.Errorf("counter %v = %d, want %d", c.Attr, c.Value, c.Attr)
		}
	}
	want := "msgs_received replies_sent packets_passed packets_dropped_no_listener packets_dropped_buffer_full errors_sent packets_dropped_nomem"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("counters %q, want %q", got, want)
	}
}

var ts = time.Unix(1764308280, 123456789)

// packetWire builds a notification's attributes as the module writes them.
func packetWire(ifindex, length uint32, tsNS uint64, proto []byte, data []byte, caplen uint32) []byte {
	return cat(attr(1, u32(ifindex)), attr(2, u32(length)), attr(3, u64(tsNS)), attr(4, proto), attr(5, data), attr(6, u32(caplen)))
}

func TestPacketMarshalGolden(t *testing.T) {
	data := []byte{0x45, 0, 0, 0x1c, 1}
	p := Packet{IfIndex: 2, Length: 5, Timestamp: ts, Protocol: 0x0800, Data: data, CapLen: 5}
	b, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	// PROTOCOL is big-endian whatever the host: 08 00 for IPv4.
	want := packetWire(2, 5, uint64(ts.UnixNano()), []byte{0x08, 0x00}, data, 5)
	if !bytes.Equal(b, want) {
		t.Fatalf("got  % x\nwant % x", b, want)
	}
	// README: nlmsg_len = 60 + align4(4 + CAPLEN) with the 16-byte header.
	if n := netlink.HeaderLen + len(b); n != 60+netlink.Align(4+5) {
		t.Errorf("message of %d bytes, want %d", n, 60+netlink.Align(4+5))
	}
}

func TestPacketRoundTrip(t *testing.T) {
	big := bytes.Repeat([]byte{0xab}, PacketCap)
	for _, p := range []Packet{
		{IfIndex: 2, Length: 84, Timestamp: ts, Protocol: 0x0800, Data: []byte{0x45, 0, 0, 84}, CapLen: 4},
		{IfIndex: 7, Length: 1500, Timestamp: ts, Protocol: 0x88b5, Data: big, CapLen: PacketCap},
		{IfIndex: math.MaxInt32, Length: math.MaxUint32, Timestamp: time.Unix(0, math.MaxInt64), Protocol: 0xffff, Data: []byte{1}, CapLen: 1},
		{IfIndex: -1, Length: 0, Data: []byte{}},
	} {
		b, err := p.MarshalBinary()
		if err != nil {
			t.Errorf("%+v: marshal: %v", p, err)
			continue
		}
		var got Packet
		if err := got.UnmarshalBinary(b); err != nil {
			t.Errorf("%+v: unmarshal: %v", p, err)
			continue
		}
		if !got.Timestamp.Equal(p.Timestamp) {
			t.Errorf("timestamp %v, want %v", got.Timestamp, p.Timestamp)
		}
		got.Timestamp, p.Timestamp = time.Time{}, time.Time{}
		if !reflect.DeepEqual(got, p) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, p)
		}
	}
}

func TestPacketUnmarshalForms(t *testing.T) {
	// Without CAPLEN, CapLen is the size of DATA; PAD and unknown
	// attributes are skipped; a zero timestamp is the zero time.
	in := cat(attr(7, nil), attr(1, u32(3)), attr(2, u32(10)), attr(3, u64(0)), attr(5, []byte{1, 2}), attr(42, []byte("x")))
	var p Packet
	if err := p.UnmarshalBinary(in); err != nil {
		t.Fatal(err)
	}
	want := Packet{IfIndex: 3, Length: 10, Data: []byte{1, 2}, CapLen: 2}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("got %+v, want %+v", p, want)
	}
}

func TestPacketUnmarshalCopies(t *testing.T) {
	b := packetWire(2, 3, 1, []byte{8, 0}, []byte{1, 2, 3}, 3)
	var p Packet
	if err := p.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 0xff
	}
	if !bytes.Equal(p.Data, []byte{1, 2, 3}) {
		t.Errorf("Data aliases the input: %x", p.Data)
	}
}

func TestPacketUnmarshalErrors(t *testing.T) {
	ok := packetWire(2, 3, 1, []byte{8, 0}, []byte{1, 2, 3}, 3)
	for _, tt := range []struct {
		name string
		in   []byte
		want error
	}{
		{"caplen above the data", packetWire(2, 3, 1, []byte{8, 0}, []byte{1, 2, 3}, 4), errCapLen},
		{"caplen above len", packetWire(2, 2, 1, []byte{8, 0}, []byte{1, 2, 3}, 3), errCapLen},
		{"timestamp past 2262", packetWire(2, 3, math.MaxUint64, []byte{8, 0}, []byte{1, 2, 3}, 3), errTimestamp},
		{"2-byte ifindex", cat(attr(1, []byte{1, 0})), netlink.ErrAttribute},
		{"4-byte timestamp", cat(attr(3, u32(1))), netlink.ErrAttribute},
		{"4-byte protocol", cat(attr(4, u32(8))), netlink.ErrAttribute},
		{"truncated", ok[:len(ok)-3], netlink.ErrAttribute},
		{"header only", []byte{1, 0}, netlink.ErrAttribute},
	} {
		p := Packet{IfIndex: 42}
		err := p.UnmarshalBinary(tt.in)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: error %v, want %v", tt.name, err, tt.want)
			continue
		}
		if !strings.HasPrefix(err.Error(), "hello: decode packet: ") {
			t.Errorf("%s: error %q does not say what was decoded", tt.name, err)
		}
		if p.IfIndex != 42 {
			t.Errorf("%s: failed decode changed the receiver", tt.name)
		}
	}
}

func TestPacketMarshalErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		p    Packet
		want error
	}{
		{"caplen without data", Packet{Length: 4, CapLen: 4}, errCapLen},
		{"data without caplen", Packet{Length: 1, Data: []byte{1}}, errCapLen},
		{"caplen above length", Packet{Length: 1, Data: []byte{1, 2}, CapLen: 2}, errCapLen},
		{"before 1970", Packet{Timestamp: time.Unix(-1, 0)}, errTimestamp},
		{"after 2262", Packet{Timestamp: time.Unix(1<<40, 0)}, errTimestamp},
	} {
		if _, err := tt.p.MarshalBinary(); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestText(t *testing.T) {
	b, err := marshalText("Hello world")
	if err != nil || string(b) != "Hello world\x00" {
		t.Errorf("marshalText: %q %v", b, err)
	}
	if b, err := marshalText(""); err != nil || string(b) != "\x00" {
		t.Errorf("empty text: %q %v", b, err)
	}
	if _, err := marshalText("a\x00b"); err == nil || !strings.Contains(err.Error(), "NUL byte at offset 1") {
		t.Errorf("text with NUL: %v", err)
	}
	for in, want := range map[string]string{"Thank you\x00": "Thank you", "a\x00junk": "a", "\x00": ""} {
		if got, err := parseText([]byte(in)); err != nil || got != want {
			t.Errorf("parseText(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := parseText([]byte("no NUL")); err == nil {
		t.Error("parseText accepted text without NUL")
	}
}

func TestStrings(t *testing.T) {
	for got, want := range map[string]string{
		CmdHello.String(): "hello", CmdGetStats.String(): "get-stats", CmdPacket.String(): "packet",
		Command(9).String(): "command(9)", StatsAttr(99).String(): "stats-attr(99)",
		PacketProtocol.String(): "protocol", PacketAttr(0).String(): "packet-attr(0)",
		StatsPad.String(): "pad",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

func FuzzStatsUnmarshal(f *testing.F) {
	f.Add(statsWire)
	f.Add(attr(7, nil))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		var s Stats
		if err := s.UnmarshalBinary(b); err != nil {
			return
		}
		enc, err := s.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded stats do not encode: %v", err)
		}
		var again Stats
		if err := again.UnmarshalBinary(enc); err != nil {
			t.Fatalf("re-encoded stats do not decode: %v", err)
		}
		if again != s {
			t.Fatalf("round trip: got %+v, want %+v", again, s)
		}
	})
}

func FuzzPacketUnmarshal(f *testing.F) {
	f.Add(packetWire(2, 84, uint64(ts.UnixNano()), []byte{8, 0}, []byte{0x45, 0, 0, 84}, 4))
	f.Add(packetWire(2, 3, 0, []byte{8, 0}, []byte{1, 2, 3}, 4))
	f.Add(attr(5, nil))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Packet
		if err := p.UnmarshalBinary(b); err != nil {
			return
		}
		if uint64(p.CapLen) != uint64(len(p.Data)) || p.CapLen > p.Length {
			t.Fatalf("decoded an inconsistent packet: %+v", p)
		}
		enc, err := p.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded packet does not encode: %v", err)
		}
		var again Packet
		if err := again.UnmarshalBinary(enc); err != nil {
			t.Fatalf("re-encoded packet does not decode: %v", err)
		}
		if !again.Timestamp.Equal(p.Timestamp) || again.IfIndex != p.IfIndex || again.Length != p.Length ||
			again.Protocol != p.Protocol || !bytes.Equal(again.Data, p.Data) || again.CapLen != p.CapLen {
			t.Fatalf("round trip:\n got %+v\nwant %+v", again, p)
		}
	})
}
