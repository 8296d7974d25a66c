package netlink_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/nlkit/nlkit/netlink"
)

// wireAttr encodes a struct nlattr and its padded payload by hand.
func wireAttr(typ uint16, payload []byte) []byte {
	b := binary.NativeEndian.AppendUint16(nil, uint16(4+len(payload)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, payload...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func ne16(v uint16) []byte { return binary.NativeEndian.AppendUint16(nil, v) }
func ne32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }
func ne64(v uint64) []byte { return binary.NativeEndian.AppendUint64(nil, v) }

func TestAttributeEncodeDecode(t *testing.T) {
	v4 := netip.MustParseAddr("192.0.2.1")
	v6 := netip.MustParseAddr("2001:db8::1")
	tests := []struct {
		name  string
		order netlink.ByteOrder // of encoder and decoder; nil is native
		enc   func(e *netlink.AttributeEncoder)
		want  []byte
		dec   func(d *netlink.AttributeDecoder) any
		value any
	}{
		{
			name: "uint8",
			enc:  func(e *netlink.AttributeEncoder) { e.Uint8(1, 0xab) },
			want: wireAttr(1, []byte{0xab}),
			dec:  func(d *netlink.AttributeDecoder) any { return d.Uint8() }, value: uint8(0xab),
		},
		{
			name: "uint16",
			enc:  func(e *netlink.AttributeEncoder) { e.Uint16(1, 0x1234) },
			want: wireAttr(1, ne16(0x1234)),
			dec:  func(d *netlink.AttributeDecoder) any { return d.Uint16() }, value: uint16(0x1234),
		},
		{
			name: "uint32",
			enc:  func(e *netlink.AttributeEncoder) { e.Uint32(1, 0xdeadbeef) },
			want: wireAttr(1, ne32(0xdeadbeef)),
			dec:  func(d *netlink.AttributeDecoder) any { return d.Uint32() }, value: uint32(0xdeadbeef),
		},
		{
			name: "uint64",
			enc:  func(e *netlink.AttributeEncoder) { e.Uint64(1, 0x0102030405060708) },
			want: wireAttr(1, ne64(0x0102030405060708)),
			dec:  func(d *netlink.AttributeDecoder) any { return d.Uint64() }, value: uint64(0x0102030405060708),
		},
		{
			name: "int32",
			enc:  func(e *netlink.AttributeEncoder) { e.Int32(1, -5) },
			want: wireAttr(1, ne32(0xfffffffb)),
			dec:  func(d *netlink.AttributeDecoder) any { return d.Int32() }, value: int32(-5),
		},
		{
			name: "uint16 big-endian always",
			enc:  func(e *netlink.AttributeEncoder) { e.Uint16BE(1, 0x1234) },
			want: wireAttr(1, []byte{0x12, 0x34}),
			dec:  func(d *netlink.AttributeDecoder) any { return d.Uint16BE() }, value: uint16(0x1234),
		},
		{
			name: "uint32 big-endian always",
			enc:  func(e *netlink.AttributeEncoder) { e.Uint32BE(1, 0x01020304) },
			want: wireAttr(1, []byte{1, 2, 3, 4}),
			dec:  func(d *netlink.AttributeDecoder) any { return d.Uint32BE() }, value: uint32(0x01020304),
		},
		{
			name: "uint16 in big-endian order", order: binary.BigEndian,
			enc:  func(e *netlink.AttributeEncoder) { e.Uint16(1, 0x1234) },
			want: wireAttr(1, []byte{0x12, 0x34}),
			dec:  func(d *netlink.AttributeDecoder) any { return d.Uint16() }, value: uint16(0x1234),
		},
		{
			name: "uint32 in big-endian order", order: binary.BigEndian,
			enc:  func(e *netlink.AttributeEncoder) { e.Uint32(1, 0x01020304) },
			want: wireAttr(1, []byte{1, 2, 3, 4}),
			dec:  func(d *netlink.AttributeDecoder) any { return d.Uint32() }, value: uint32(0x01020304),
		},
		{
			name: "uint64 in big-endian order", order: binary.BigEndian,
			enc:  func(e *netlink.AttributeEncoder) { e.Uint64(1, 0x0102030405060708) },
			want: wireAttr(1, []byte{1, 2, 3, 4, 5, 6, 7, 8}),
			dec:  func(d *netlink.AttributeDecoder) any { return d.Uint64() }, value: uint64(0x0102030405060708),
		},
		{
			name: "int32 in big-endian order", order: binary.BigEndian,
			enc:  func(e *netlink.AttributeEncoder) { e.Int32(1, -2) },
			want: wireAttr(1, []byte{0xff, 0xff, 0xff, 0xfe}),
			dec:  func(d *netlink.AttributeDecoder) any { return d.Int32() }, value: int32(-2),
		},
		{
			name: "uint16BE in big-endian order", order: binary.BigEndian,
			enc:  func(e *netlink.AttributeEncoder) { e.Uint16BE(1, 0x1234) },
			want: wireAttr(1, []byte{0x12, 0x34}),
			dec:  func(d *netlink.AttributeDecoder) any { return d.Uint16BE() }, value: uint16(0x1234),
		},
		{
			name: "string",
			enc:  func(e *netlink.AttributeEncoder) { e.String(1, "eth0") },
			want: wireAttr(1, []byte("eth0\x00")),
			dec:  func(d *netlink.AttributeDecoder) any { return d.String() }, value: "eth0",
		},
		{
			name: "empty string",
			enc:  func(e *netlink.AttributeEncoder) { e.String(1, "") },
			want: wireAttr(1, []byte{0}),
			dec:  func(d *netlink.AttributeDecoder) any { return d.String() }, value: "",
		},
		{
			name: "string of aligned length",
			enc:  func(e *netlink.AttributeEncoder) { e.String(1, "abc") },
			want: wireAttr(1, []byte("abc\x00")),
			dec:  func(d *netlink.AttributeDecoder) any { return d.String() }, value: "abc",
		},
		{
			name: "bytes",
			enc:  func(e *netlink.AttributeEncoder) { e.Bytes(1, []byte{1, 2, 3, 4, 5}) },
			want: wireAttr(1, []byte{1, 2, 3, 4, 5}),
			dec:  func(d *netlink.AttributeDecoder) any { return string(d.Bytes()) }, value: "\x01\x02\x03\x04\x05",
		},
		{
			name: "empty bytes",
			enc:  func(e *netlink.AttributeEncoder) { e.Bytes(1, nil) },
			want: wireAttr(1, nil),
			dec:  func(d *netlink.AttributeDecoder) any { return d.Len() }, value: 0,
		},
		{
			name: "flag",
			enc:  func(e *netlink.AttributeEncoder) { e.Flag(1, true) },
			want: wireAttr(1, nil),
			dec:  func(d *netlink.AttributeDecoder) any { return d.Flag() }, value: true,
		},
		{
			name: "IPv4 address",
			enc:  func(e *netlink.AttributeEncoder) { e.Addr(1, v4) },
			want: wireAttr(1, []byte{192, 0, 2, 1}),
			dec:  func(d *netlink.AttributeDecoder) any { return d.Addr() }, value: v4,
		},
		{
			name: "IPv6 address",
			enc:  func(e *netlink.AttributeEncoder) { e.Addr(1, v6) },
			want: wireAttr(1, v6.AsSlice()),
			dec:  func(d *netlink.AttributeDecoder) any { return d.Addr() }, value: v6,
		},
		{
			name: "IPv4-mapped IPv6 address is unmapped",
			enc:  func(e *netlink.AttributeEncoder) { e.Addr(1, netip.AddrFrom16(v4.As16())) },
			want: wireAttr(1, []byte{192, 0, 2, 1}),
			dec:  func(d *netlink.AttributeDecoder) any { return d.Addr() }, value: v4,
		},
		{
			name: "raw keeps flag bits",
			enc:  func(e *netlink.AttributeEncoder) { e.Raw(1|netlink.AttrNetByteOrder, []byte{0, 80}) },
			want: wireAttr(1|netlink.AttrNetByteOrder, []byte{0, 80}),
			dec:  func(d *netlink.AttributeDecoder) any { return d.TypeWithFlags() }, value: 1 | netlink.AttrNetByteOrder,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := netlink.NewAttributeEncoder()
			e.ByteOrder = tc.order
			tc.enc(e)
			if e.Len() != len(tc.want) {
				t.Errorf("Len = %d, want %d", e.Len(), len(tc.want))
			}
			b, err := e.Encode()
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if !bytes.Equal(b, tc.want) {
				t.Fatalf("Encode =\n% x\nwant\n% x", b, tc.want)
			}

			d := netlink.NewAttributeDecoder(b)
			d.ByteOrder = tc.order
			if !d.Next() {
				t.Fatalf("Next = false, Err = %v", d.Err())
			}
			if d.Type() != 1 {
				t.Errorf("Type = %d, want 1", d.Type())
			}
			if got := tc.dec(d); got != tc.value {
				t.Errorf("decoded %v (%T), want %v (%T)", got, got, tc.value, tc.value)
			}
			if d.Next() {
				t.Error("Next = true after the only attribute")
			}
			if err := d.Err(); err != nil {
				t.Errorf("Err = %v", err)
			}
		})
	}
}

func TestAttributeEncoderFlagFalse(t *testing.T) {
	var e netlink.AttributeEncoder // the zero value is ready to use
	e.Flag(1, false)
	e.Flag(2, true)
	b, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if want := wireAttr(2, nil); !bytes.Equal(b, want) {
		t.Fatalf("Encode = % x, want % x (only the true flag)", b, want)
	}
}

func TestAttributeDecoderString(t *testing.T) {
	for _, tc := range []struct {
		payload string
		want    string
	}{
		{"eth0\x00", "eth0"},
		{"eth0", "eth0"}, // NLA_STRING need not be terminated
		{"a\x00b\x00", "a"},
		{"\x00", ""},
		{"", ""},
	} {
		d := netlink.NewAttributeDecoder(wireAttr(3, []byte(tc.payload)))
		if !d.Next() {
			t.Fatalf("%q: Next = false: %v", tc.payload, d.Err())
		}
		if got := d.String(); got != tc.want {
			t.Errorf("String of %q = %q, want %q", tc.payload, got, tc.want)
		}
		if d.Err() != nil {
			t.Errorf("String of %q: Err = %v", tc.payload, d.Err())
		}
	}
}

func TestAttributeSequence(t *testing.T) {
	var e netlink.AttributeEncoder
	e.String(1, "lo")
	e.Uint32(2, 65536)
	e.Uint8(3, 1)
	e.Flag(4, true)
	e.Uint16(5, 7)
	b, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Join([][]byte{
		wireAttr(1, []byte("lo\x00")), wireAttr(2, ne32(65536)), wireAttr(3, []byte{1}),
		wireAttr(4, nil), wireAttr(5, ne16(7)),
	}, nil)
	if !bytes.Equal(b, want) {
		t.Fatalf("Encode =\n% x\nwant\n% x", b, want)
	}

	var got []string
	d := netlink.NewAttributeDecoder(b)
	for d.Next() {
		switch d.Type() {
		case 1:
			got = append(got, "name="+d.String())
		case 2:
			got = append(got, fmt.Sprint("mtu=", d.Uint32()))
		case 3:
			got = append(got, fmt.Sprint("up=", d.Uint8()))
		case 4:
			got = append(got, fmt.Sprint("flag=", d.Flag()))
		case 5:
			got = append(got, fmt.Sprint("u16=", d.Uint16()))
		}
	}
	if err := d.Err(); err != nil {
		t.Fatal(err)
	}
	if s := strings.Join(got, " "); s != "name=lo mtu=65536 up=1 flag=true u16=7" {
		t.Fatalf("decoded %q", s)
	}
}

func TestAttributeEncoderReset(t *testing.T) {
	var e netlink.AttributeEncoder
	e.End() // an error...
	e.Reset(make([]byte, 0, 64))
	if e.Len() != 0 {
		t.Fatalf("Len after Reset = %d", e.Len())
	}
	e.Uint32(1, 1)
	b, err := e.Encode() // ...forgotten by Reset
	if err != nil {
		t.Fatalf("Encode after Reset: %v", err)
	}
	if !bytes.Equal(b, wireAttr(1, ne32(1))) {
		t.Fatalf("Encode = % x", b)
	}
	storage := make([]byte, 0, 64)
	e.Reset(storage)
	e.Uint32(1, 2)
	b, _ = e.Encode()
	if &b[0] != &storage[:1][0] {
		t.Error("Reset did not reuse the buffer's storage")
	}
	e.Reset(nil)
	if b, err := e.Encode(); err != nil || len(b) != 0 {
		t.Fatalf("Encode of nothing = % x, %v", b, err)
	}
}

func TestAttributeNesting(t *testing.T) {
	var e netlink.AttributeEncoder
	e.Uint32(1, 10)
	e.Nest(2)
	e.String(3, "inner")
	e.Nested(4, func(e *netlink.AttributeEncoder) {
		e.Uint16(5, 0x55)
		e.Flag(6, true)
	})
	e.End()
	e.Uint8(7, 7)
	b, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}

	inner := wireAttr(4|netlink.AttrNested, bytes.Join([][]byte{wireAttr(5, ne16(0x55)), wireAttr(6, nil)}, nil))
	outer := wireAttr(2|netlink.AttrNested, bytes.Join([][]byte{wireAttr(3, []byte("inner\x00")), inner}, nil))
	want := bytes.Join([][]byte{wireAttr(1, ne32(10)), outer, wireAttr(7, []byte{7})}, nil)
	if !bytes.Equal(b, want) {
		t.Fatalf("Encode =\n% x\nwant\n% x", b, want)
	}

	var trace []string
	d := netlink.NewAttributeDecoder(b)
	for d.Next() {
		switch d.Type() {
		case 1:
			trace = append(trace, fmt.Sprint("1=", d.Uint32()))
		case 2:
			if d.TypeWithFlags() != 2|netlink.AttrNested {
				t.Errorf("TypeWithFlags = %#x, want NLA_F_NESTED|2", d.TypeWithFlags())
			}
			d.Nested(func(nd *netlink.AttributeDecoder) error {
				for nd.Next() {
					switch nd.Type() {
					case 3:
						trace = append(trace, "3="+nd.String())
					case 4:
						nd.Nested(func(nnd *netlink.AttributeDecoder) error {
							for nnd.Next() {
								switch nnd.Type() {
								case 5:
									trace = append(trace, fmt.Sprint("5=", nnd.Uint16()))
								case 6:
									trace = append(trace, fmt.Sprint("6=", nnd.Flag()))
								}
							}
							return nil
						})
					}
				}
				return nil
			})
		case 7:
			trace = append(trace, fmt.Sprint("7=", d.Uint8()))
		}
	}
	if err := d.Err(); err != nil {
		t.Fatal(err)
	}
	if s := strings.Join(trace, " "); s != "1=10 3=inner 5=85 6=true 7=7" {
		t.Fatalf("decoded %q", s)
	}

	// Decoder gives the nested payload as a decoder of its own.
	d = netlink.NewAttributeDecoder(outer)
	d.ByteOrder = binary.BigEndian
	d.Next()
	nd := d.Decoder()
	if nd.ByteOrder != binary.BigEndian {
		t.Error("Decoder did not keep the byte order")
	}
	var types []uint16
	for nd.Next() {
		types = append(types, nd.TypeWithFlags())
	}
	if nd.Err() != nil || len(types) != 2 || types[0] != 3 || types[1] != 4|netlink.AttrNested {
		t.Fatalf("nested types = %#x, err %v", types, nd.Err())
	}
}

func TestAttributeDecoderNestedErrors(t *testing.T) {
	errStop := errors.New("stop here")
	good := wireAttr(1|netlink.AttrNested, wireAttr(2, ne32(5)))
	bad := wireAttr(1|netlink.AttrNested, []byte{8, 0, 2, 0, 0}) // inner length beyond payload
	wrongSize := wireAttr(1|netlink.AttrNested, wireAttr(2, ne16(5)))
	tests := []struct {
		name    string
		in      []byte
		fn      func(*netlink.AttributeDecoder) error
		wantErr error
	}{
		{
			name:    "callback error",
			in:      good,
			fn:      func(*netlink.AttributeDecoder) error { return errStop },
			wantErr: errStop,
		},
		{
			name: "malformed nested data",
			in:   bad,
			fn: func(nd *netlink.AttributeDecoder) error {
				for nd.Next() {
				}
				return nil
			},
			wantErr: netlink.ErrAttribute,
		},
		{
			name: "wrong size inside",
			in:   wrongSize,
			fn: func(nd *netlink.AttributeDecoder) error {
				for nd.Next() {
					nd.Uint32()
				}
				return nil
			},
			wantErr: netlink.ErrAttribute,
		},
		{
			name: "callback returning the nested error",
			in:   bad,
			fn: func(nd *netlink.AttributeDecoder) error {
				for nd.Next() {
				}
				return nd.Err()
			},
			wantErr: netlink.ErrAttribute,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// A second attribute after the nest must not be reached.
			in := append(append([]byte(nil), tc.in...), wireAttr(9, nil)...)
			d := netlink.NewAttributeDecoder(in)
			var seen []uint16
			for d.Next() {
				seen = append(seen, d.Type())
				if d.Type() == 1 {
					d.Nested(tc.fn)
				}
			}
			if !errors.Is(d.Err(), tc.wantErr) {
				t.Fatalf("Err = %v, want %v", d.Err(), tc.wantErr)
			}
			if !strings.Contains(d.Err().Error(), "type 1") {
				t.Errorf("Err %q does not name the nest", d.Err())
			}
			if len(seen) != 1 {
				t.Errorf("decoded types %v, want [1]: decoding must stop at the error", seen)
			}
		})
	}

	// A successful Nested leaves the outer decoder going.
	d := netlink.NewAttributeDecoder(append(append([]byte(nil), good...), wireAttr(9, nil)...))
	n := 0
	for d.Next() {
		n++
		d.Nested(func(nd *netlink.AttributeDecoder) error {
			for nd.Next() {
			}
			return nil
		})
	}
	if d.Err() != nil || n != 2 {
		t.Fatalf("after a good Nested: %d attributes, Err %v", n, d.Err())
	}
}

func TestAttributeDecoderWrongSize(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		get     func(*netlink.AttributeDecoder) any
		zero    any
	}{
		{"uint8 of 2", []byte{1, 2}, func(d *netlink.AttributeDecoder) any { return d.Uint8() }, uint8(0)},
		{"uint8 of 0", nil, func(d *netlink.AttributeDecoder) any { return d.Uint8() }, uint8(0)},
		{"uint16 of 4", []byte{1, 2, 3, 4}, func(d *netlink.AttributeDecoder) any { return d.Uint16() }, uint16(0)},
		{"uint32 of 2", []byte{1, 2}, func(d *netlink.AttributeDecoder) any { return d.Uint32() }, uint32(0)},
		{"uint32 of 8", make([]byte, 8), func(d *netlink.AttributeDecoder) any { return d.Uint32() }, uint32(0)},
		{"uint64 of 4", []byte{1, 2, 3, 4}, func(d *netlink.AttributeDecoder) any { return d.Uint64() }, uint64(0)},
		{"int32 of 3", []byte{1, 2, 3}, func(d *netlink.AttributeDecoder) any { return d.Int32() }, int32(0)},
		{"uint16BE of 1", []byte{1}, func(d *netlink.AttributeDecoder) any { return d.Uint16BE() }, uint16(0)},
		{"uint32BE of 5", []byte{1, 2, 3, 4, 5}, func(d *netlink.AttributeDecoder) any { return d.Uint32BE() }, uint32(0)},
		{"flag with payload", []byte{1}, func(d *netlink.AttributeDecoder) any { return d.Flag() }, false},
		{"address of 5", []byte{1, 2, 3, 4, 5}, func(d *netlink.AttributeDecoder) any { return d.Addr() }, netip.Addr{}},
		{"address of 0", nil, func(d *netlink.AttributeDecoder) any { return d.Addr() }, netip.Addr{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := append(wireAttr(7, tc.payload), wireAttr(8, ne32(1))...)
			d := netlink.NewAttributeDecoder(in)
			if !d.Next() {
				t.Fatalf("Next = false: %v", d.Err())
			}
			if got := tc.get(d); got != tc.zero {
				t.Errorf("got %v, want the zero value %v", got, tc.zero)
			}
			if !errors.Is(d.Err(), netlink.ErrAttribute) {
				t.Fatalf("Err = %v, want ErrAttribute", d.Err())
			}
			if !strings.Contains(d.Err().Error(), "type 7") {
				t.Errorf("Err %q does not name the attribute type", d.Err())
			}
			if d.Next() {
				t.Error("Next = true after an error: decoding must stop")
			}
		})
	}
}

func TestAttributeDecoderMalformed(t *testing.T) {
	good := wireAttr(1, ne32(1))
	join := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	tests := []struct {
		name    string
		in      []byte
		wantN   int
		wantErr bool
	}{
		{name: "empty", in: nil},
		{name: "one good", in: good, wantN: 1},
		{name: "last without padding", in: join(good, wireAttr(2, []byte{1})[:5]), wantN: 2},
		{name: "three bytes", in: []byte{4, 0, 1}, wantErr: true},
		{name: "good then three bytes", in: join(good, []byte{4, 0, 1}), wantN: 1, wantErr: true},
		{name: "length below header", in: join(good, []byte{3, 0, 1, 0}), wantN: 1, wantErr: true},
		{name: "zero length", in: []byte{0, 0, 1, 0, 0, 0, 0, 0}, wantErr: true},
		{name: "length beyond buffer", in: join(good, []byte{9, 0, 1, 0, 1, 2, 3, 4}), wantN: 1, wantErr: true},
		{name: "truncated payload", in: good[:6], wantErr: true},
	}
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("table written for little-endian lengths")
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := netlink.NewAttributeDecoder(tc.in)
			n := 0
			for d.Next() {
				n++
			}
			if n != tc.wantN {
				t.Errorf("decoded %d attributes, want %d", n, tc.wantN)
			}
			if got := d.Err() != nil; got != tc.wantErr {
				t.Fatalf("Err = %v, want error: %v", d.Err(), tc.wantErr)
			}
			if tc.wantErr && !errors.Is(d.Err(), netlink.ErrAttribute) {
				t.Errorf("Err = %v, does not wrap ErrAttribute", d.Err())
			}

			attrs, err := netlink.ParseAttributes(tc.in)
			if len(attrs) != tc.wantN || (err != nil) != tc.wantErr {
				t.Errorf("ParseAttributes = %d attributes, %v", len(attrs), err)
			}
		})
	}

	// The zero decoder decodes nothing; Reset keeps the byte order.
	var d netlink.AttributeDecoder
	if d.Next() || d.Err() != nil {
		t.Fatalf("zero decoder: Next true or Err %v", d.Err())
	}
	d.ByteOrder = binary.BigEndian
	d.Reset(wireAttr(1, []byte{0, 0, 0, 9}))
	if !d.Next() || d.Uint32() != 9 {
		t.Fatalf("after Reset: big-endian value not decoded, Err %v", d.Err())
	}
	d.Reset([]byte{1})
	if d.Next() || d.Err() == nil {
		t.Fatal("Reset did not clear the state")
	}
	d.Reset(good)
	if !d.Next() || d.Err() != nil {
		t.Fatalf("Reset did not clear the error: %v", d.Err())
	}
}

func TestAttributeEncoderErrors(t *testing.T) {
	big := make([]byte, 65532) // 4 + 65532 > 65535
	tests := []struct {
		name string
		enc  func(e *netlink.AttributeEncoder)
		want string // in the error text
	}{
		{"invalid address", func(e *netlink.AttributeEncoder) { e.Addr(3, netip.Addr{}) }, "invalid IP address"},
		{"End without Nest", func(e *netlink.AttributeEncoder) { e.End() }, "End without Nest"},
		{"unclosed nest", func(e *netlink.AttributeEncoder) { e.Nest(1); e.Nest(2); e.End() }, "1 nested attributes not closed"},
		{"attribute over 64 KiB", func(e *netlink.AttributeEncoder) { e.Bytes(5, big) }, "type 5: payload of 65532 bytes"},
		{"string over 64 KiB", func(e *netlink.AttributeEncoder) { e.String(5, string(big[1:])) }, "payload of 65532 bytes"},
		{"nest over 64 KiB", func(e *netlink.AttributeEncoder) {
			e.Nested(1, func(e *netlink.AttributeEncoder) {
				e.Bytes(2, big[:40000])
				e.Bytes(3, big[:40000])
			})
		}, "nested attribute of 80012 bytes"},
		{"first error sticks", func(e *netlink.AttributeEncoder) {
			e.End()
			e.Addr(3, netip.Addr{})
		}, "End without Nest"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var e netlink.AttributeEncoder
			tc.enc(&e)
			b, err := e.Encode()
			if !errors.Is(err, netlink.ErrAttribute) {
				t.Fatalf("Encode = %d bytes, %v; want ErrAttribute", len(b), err)
			}
			if b != nil {
				t.Errorf("Encode returned %d bytes with the error", len(b))
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}

	// The largest payload that fits is accepted.
	var e netlink.AttributeEncoder
	e.Bytes(5, big[:65531])
	b, err := e.Encode()
	if err != nil {
		t.Fatalf("65531-byte payload: %v", err)
	}
	if binary.NativeEndian.Uint16(b) != 65535 {
		t.Fatalf("length field = %d, want 65535", binary.NativeEndian.Uint16(b))
	}
}

func TestAttributesRoundTrip(t *testing.T) {
	attrs := []netlink.Attribute{
		{Type: 1, Data: []byte("eth0\x00")},
		{Type: 2, Data: nil},
		{Type: 3 | netlink.AttrNested, Data: wireAttr(4, ne32(9))},
		{Type: 5 | netlink.AttrNetByteOrder, Data: []byte{0, 1}},
		{Type: 0x3fff, Data: []byte{1, 2, 3, 4, 5, 6, 7}},
	}
	b, err := netlink.MarshalAttributes(attrs)
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	for _, a := range attrs {
		want = append(want, wireAttr(a.Type, a.Data)...)
	}
	if !bytes.Equal(b, want) {
		t.Fatalf("MarshalAttributes =\n% x\nwant\n% x", b, want)
	}
	got, err := netlink.ParseAttributes(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(attrs) {
		t.Fatalf("parsed %d attributes, want %d", len(got), len(attrs))
	}
	for i := range attrs {
		if got[i].Type != attrs[i].Type || !bytes.Equal(got[i].Data, attrs[i].Data) {
			t.Errorf("attribute %d = %#x % x, want %#x % x", i, got[i].Type, got[i].Data, attrs[i].Type, attrs[i].Data)
		}
	}
	if _, err := netlink.MarshalAttributes([]netlink.Attribute{{Type: 1, Data: make([]byte, 70000)}}); !errors.Is(err, netlink.ErrAttribute) {
		t.Fatalf("MarshalAttributes of a 70000-byte attribute: %v, want ErrAttribute", err)
	}
}
