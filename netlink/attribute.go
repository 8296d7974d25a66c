package netlink

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/netip"
)

// ByteOrder is a byte order that can both read and append, as
// binary.NativeEndian and binary.BigEndian do.
type ByteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// AttrHeaderLen is the size of an attribute header (struct nlattr).
const AttrHeaderLen = 4

// Attribute type flags, in the top two bits of nlattr.nla_type.
const (
	AttrNested       uint16 = 0x8000 // NLA_F_NESTED: the payload holds attributes
	AttrNetByteOrder uint16 = 0x4000 // NLA_F_NET_BYTEORDER: the payload is big-endian
	attrTypeMask     uint16 = ^(AttrNested | AttrNetByteOrder)
)

// ErrAttribute reports a malformed attribute; decoding errors wrap it.
var ErrAttribute = errors.New("netlink: malformed attribute")

// Attribute is one TLV attribute (struct nlattr + payload). Type holds the
// type with its flag bits; Data aliases the decoded buffer.
type Attribute struct {
	Type uint16
	Data []byte
}

// ParseAttributes decodes all attributes in b (one level, no nesting).
// Payloads alias b.
func ParseAttributes(b []byte) ([]Attribute, error) {
	var attrs []Attribute
	d := NewAttributeDecoder(b)
	for d.Next() {
		attrs = append(attrs, Attribute{Type: d.TypeWithFlags(), Data: d.Bytes()})
	}
	return attrs, d.Err()
}

// MarshalAttributes encodes attrs, each padded to the netlink alignment.
func MarshalAttributes(attrs []Attribute) ([]byte, error) {
	var e AttributeEncoder
	for _, a := range attrs {
		e.Raw(a.Type, a.Data)
	}
	return e.Encode()
}

// AttributeEncoder builds a sequence of attributes into one buffer. Its
// zero value is ready to use and encodes integers in native byte order;
// set ByteOrder to binary.BigEndian for families such as netfilter whose
// attributes are big-endian. Errors (an attribute over 64 KiB, an unclosed
// nest) are sticky and reported by Encode.
type AttributeEncoder struct {
	// ByteOrder of Uint16, Uint32 and Uint64; nil means native.
	ByteOrder ByteOrder
	buf       []byte
	nests     []int
	err       error
}

// NewAttributeEncoder returns an encoder using native byte order.
func NewAttributeEncoder() *AttributeEncoder { return &AttributeEncoder{} }

// Reset empties e and makes it append to buf: Encode then returns buf's
// contents (such as a family header) followed by the attributes. Pass
// buf[:0] to reuse storage for a fresh encoding.
func (e *AttributeEncoder) Reset(buf []byte) {
	e.buf, e.nests, e.err = buf, e.nests[:0], nil
}

func (e *AttributeEncoder) order() ByteOrder {
	if e.ByteOrder == nil {
		return binary.NativeEndian
	}
	return e.ByteOrder
}

func (e *AttributeEncoder) header(typ uint16, n int) {
	if AttrHeaderLen+n > math.MaxUint16 {
		if e.err == nil {
			e.err = fmt.Errorf("%w: attribute type %d: payload of %d bytes exceeds 65531", ErrAttribute, typ&attrTypeMask, n)
		}
		n = 0
	}
	e.buf = binary.NativeEndian.AppendUint16(e.buf, uint16(AttrHeaderLen+n))
	e.buf = binary.NativeEndian.AppendUint16(e.buf, typ)
}

func (e *AttributeEncoder) pad() {
	for len(e.buf)%4 != 0 {
		e.buf = append(e.buf, 0)
	}
}

// Raw adds an attribute with typ (flag bits included) and payload b.
func (e *AttributeEncoder) Raw(typ uint16, b []byte) {
	e.header(typ, len(b))
	e.buf = append(e.buf, b...)
	e.pad()
}

// Bytes adds an attribute holding b (NLA_BINARY).
func (e *AttributeEncoder) Bytes(typ uint16, b []byte) { e.Raw(typ, b) }

// Uint8 adds a one-byte attribute (NLA_U8).
func (e *AttributeEncoder) Uint8(typ uint16, v uint8) {
	e.header(typ, 1)
	e.buf = append(e.buf, v, 0, 0, 0)
}

// Uint16 adds a two-byte attribute (NLA_U16) in e's byte order.
func (e *AttributeEncoder) Uint16(typ uint16, v uint16) {
	e.header(typ, 2)
	e.buf = e.order().AppendUint16(e.buf, v)
	e.buf = append(e.buf, 0, 0)
}

// Uint32 adds a four-byte attribute (NLA_U32) in e's byte order.
func (e *AttributeEncoder) Uint32(typ uint16, v uint32) {
	e.header(typ, 4)
	e.buf = e.order().AppendUint32(e.buf, v)
}

// Uint64 adds an eight-byte attribute (NLA_U64) in e's byte order.
func (e *AttributeEncoder) Uint64(typ uint16, v uint64) {
	e.header(typ, 8)
	e.buf = e.order().AppendUint64(e.buf, v)
}

// Int32 adds a signed four-byte attribute (NLA_S32) in e's byte order.
func (e *AttributeEncoder) Int32(typ uint16, v int32) { e.Uint32(typ, uint32(v)) }

// Uint16BE adds a two-byte big-endian attribute (ports, EtherTypes)
// whatever e's byte order.
func (e *AttributeEncoder) Uint16BE(typ uint16, v uint16) {
	e.header(typ, 2)
	e.buf = binary.BigEndian.AppendUint16(e.buf, v)
	e.buf = append(e.buf, 0, 0)
}

// Uint32BE adds a four-byte big-endian attribute whatever e's byte order.
func (e *AttributeEncoder) Uint32BE(typ uint16, v uint32) {
	e.header(typ, 4)
	e.buf = binary.BigEndian.AppendUint32(e.buf, v)
}

// String adds a NUL-terminated string (NLA_NUL_STRING / NLA_STRING).
func (e *AttributeEncoder) String(typ uint16, s string) {
	e.header(typ, len(s)+1)
	e.buf = append(e.buf, s...)
	e.buf = append(e.buf, 0)
	e.pad()
}

// Flag adds an attribute with no payload (NLA_FLAG) if v is true.
func (e *AttributeEncoder) Flag(typ uint16, v bool) {
	if v {
		e.header(typ, 0)
	}
}

// Addr adds an IP address: 4 bytes for IPv4 (including IPv4-mapped IPv6
// addresses, which are unmapped), 16 for IPv6. An invalid Addr is an error.
func (e *AttributeEncoder) Addr(typ uint16, a netip.Addr) {
	switch {
	case a.Is4() || a.Is4In6():
		b := a.Unmap().As4()
		e.Raw(typ, b[:])
	case a.Is6():
		b := a.As16()
		e.Raw(typ, b[:])
	default:
		if e.err == nil {
			e.err = fmt.Errorf("%w: attribute type %d: invalid IP address", ErrAttribute, typ&attrTypeMask)
		}
	}
}

// Nest opens a nested attribute (with NLA_F_NESTED set); attributes added
// until the matching End go inside it. Nests may be nested.
func (e *AttributeEncoder) Nest(typ uint16) {
	e.nests = append(e.nests, len(e.buf))
	e.header(typ|AttrNested, 0)
}

// End closes the innermost open Nest, filling in its length.
func (e *AttributeEncoder) End() {
	if len(e.nests) == 0 {
		if e.err == nil {
			e.err = fmt.Errorf("%w: End without Nest", ErrAttribute)
		}
		return
	}
	start := e.nests[len(e.nests)-1]
	e.nests = e.nests[:len(e.nests)-1]
	n := len(e.buf) - start
	if n > math.MaxUint16 {
		if e.err == nil {
			e.err = fmt.Errorf("%w: nested attribute of %d bytes exceeds 65535", ErrAttribute, n)
		}
		return
	}
	binary.NativeEndian.PutUint16(e.buf[start:], uint16(n))
}

// Nested adds a nested attribute whose content fn writes.
func (e *AttributeEncoder) Nested(typ uint16, fn func(*AttributeEncoder)) {
	e.Nest(typ)
	fn(e)
	e.End()
}

// Len returns the number of bytes in the buffer so far.
func (e *AttributeEncoder) Len() int { return len(e.buf) }

// Encode returns the encoded attributes, or the first error met. The
// result aliases e's buffer until the next Reset.
func (e *AttributeEncoder) Encode() ([]byte, error) {
	if e.err != nil {
		return nil, e.err
	}
	if len(e.nests) != 0 {
		return nil, fmt.Errorf("%w: %d nested attributes not closed", ErrAttribute, len(e.nests))
	}
	return e.buf, nil
}

// AttributeDecoder walks a buffer of attributes without copying. Every
// length is checked before use, so no input can make it panic. The zero
// value decodes nothing; use NewAttributeDecoder or Reset. Accessors that
// meet a payload of the wrong size return the zero value and record an
// error, reported by Err; decoding stops at the first error.
//
//	d := netlink.NewAttributeDecoder(b)
//	for d.Next() {
//		switch d.Type() {
//		case unix.IFLA_MTU:
//			mtu = d.Uint32()
//		}
//	}
//	if err := d.Err(); err != nil { ... }
type AttributeDecoder struct {
	// ByteOrder of Uint16, Uint32 and Uint64; nil means native.
	ByteOrder ByteOrder
	rest      []byte
	typ       uint16
	data      []byte
	err       error
}

// NewAttributeDecoder returns a decoder over b in native byte order.
func NewAttributeDecoder(b []byte) *AttributeDecoder {
	return &AttributeDecoder{rest: b}
}

// Reset makes d walk b from the start, keeping its ByteOrder.
func (d *AttributeDecoder) Reset(b []byte) {
	// Field by field: a whole AttributeDecoder built and copied into *d
	// stalls on the copy and cost a fifth of decoding a route
	// (BenchmarkRouteDecode in rtnl).
	d.rest, d.typ, d.data, d.err = b, 0, nil, nil
}

func (d *AttributeDecoder) order() ByteOrder {
	if d.ByteOrder == nil {
		return binary.NativeEndian
	}
	return d.ByteOrder
}

// Next advances to the next attribute, reporting whether there is one.
func (d *AttributeDecoder) Next() bool {
	rest := d.rest
	if d.err != nil || len(rest) == 0 {
		return false
	}
	if len(rest) < AttrHeaderLen {
		d.malformed()
		return false
	}
	n := int(binary.NativeEndian.Uint16(rest[0:2]))
	d.typ = binary.NativeEndian.Uint16(rest[2:4])
	if n < AttrHeaderLen || n > len(rest) {
		d.malformed()
		return false
	}
	d.data = rest[AttrHeaderLen:n:n]
	next := Align(n)
	if next > len(rest) {
		next = len(rest)
	}
	d.rest = rest[next:]
	return true
}

// malformed records why the attribute at d.rest cannot be decoded. It is
// apart from Next so that Next stays small: it runs for every attribute.
func (d *AttributeDecoder) malformed() {
	if len(d.rest) < AttrHeaderLen {
		d.err = fmt.Errorf("%w: %d trailing bytes, shorter than a header", ErrAttribute, len(d.rest))
		return
	}
	n := int(binary.NativeEndian.Uint16(d.rest[0:2]))
	d.err = fmt.Errorf("%w: type %d: length %d, %d bytes remain", ErrAttribute, d.typ&attrTypeMask, n, len(d.rest))
}

// Type returns the current attribute's type without its flag bits.
func (d *AttributeDecoder) Type() uint16 { return d.typ & attrTypeMask }

// TypeWithFlags returns the current attribute's type including
// AttrNested and AttrNetByteOrder.
func (d *AttributeDecoder) TypeWithFlags() uint16 { return d.typ }

// Len returns the current attribute's payload length.
func (d *AttributeDecoder) Len() int { return len(d.data) }

// Bytes returns the current payload, aliasing the decoded buffer.
func (d *AttributeDecoder) Bytes() []byte { return d.data }

func (d *AttributeDecoder) size(want int) bool {
	if len(d.data) == want {
		return true
	}
	d.fail(fmt.Errorf("%w: type %d: %d bytes, want %d", ErrAttribute, d.Type(), len(d.data), want))
	return false
}

func (d *AttributeDecoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
	d.rest = nil
}

// Uint8 returns a one-byte payload.
func (d *AttributeDecoder) Uint8() uint8 {
	if !d.size(1) {
		return 0
	}
	return d.data[0]
}

// Uint16 returns a two-byte payload in d's byte order.
func (d *AttributeDecoder) Uint16() uint16 {
	if !d.size(2) {
		return 0
	}
	return d.order().Uint16(d.data)
}

// Uint32 returns a four-byte payload in d's byte order.
func (d *AttributeDecoder) Uint32() uint32 {
	if !d.size(4) {
		return 0
	}
	return d.order().Uint32(d.data)
}

// Uint64 returns an eight-byte payload in d's byte order.
func (d *AttributeDecoder) Uint64() uint64 {
	if !d.size(8) {
		return 0
	}
	return d.order().Uint64(d.data)
}

// Int32 returns a signed four-byte payload in d's byte order.
func (d *AttributeDecoder) Int32() int32 { return int32(d.Uint32()) }

// Uint16BE returns a two-byte big-endian payload whatever d's byte order.
func (d *AttributeDecoder) Uint16BE() uint16 {
	if !d.size(2) {
		return 0
	}
	return binary.BigEndian.Uint16(d.data)
}

// Uint32BE returns a four-byte big-endian payload whatever d's byte order.
func (d *AttributeDecoder) Uint32BE() uint32 {
	if !d.size(4) {
		return 0
	}
	return binary.BigEndian.Uint32(d.data)
}

// String returns the payload as text, up to its first NUL. A payload
// without NUL is accepted whole (the kernel's NLA_STRING allows that).
func (d *AttributeDecoder) String() string {
	for i, c := range d.data {
		if c == 0 {
			return string(d.data[:i])
		}
	}
	return string(d.data)
}

// Flag reports true: a flag attribute is true by being present. A flag
// with a payload is an error.
func (d *AttributeDecoder) Flag() bool { return d.size(0) }

// Addr returns a 4-byte (IPv4) or 16-byte (IPv6) address payload.
func (d *AttributeDecoder) Addr() netip.Addr {
	switch len(d.data) {
	case 4:
		return netip.AddrFrom4([4]byte(d.data))
	case 16:
		return netip.AddrFrom16([16]byte(d.data))
	}
	d.fail(fmt.Errorf("%w: type %d: %d-byte address", ErrAttribute, d.Type(), len(d.data)))
	return netip.Addr{}
}

// Decoder returns a decoder over the current payload (a nested attribute),
// with d's byte order. Check its Err separately, or use Nested.
func (d *AttributeDecoder) Decoder() AttributeDecoder {
	return AttributeDecoder{ByteOrder: d.ByteOrder, rest: d.data}
}

// Nested decodes the current payload as nested attributes with fn. An
// error from fn or from the nested data stops d and is reported by Err.
func (d *AttributeDecoder) Nested(fn func(*AttributeDecoder) error) {
	nd := d.Decoder()
	if err := fn(&nd); err != nil {
		d.fail(fmt.Errorf("type %d: %w", d.Type(), err))
		return
	}
	if err := nd.Err(); err != nil {
		d.fail(fmt.Errorf("type %d: %w", d.Type(), err))
	}
}

// Err returns the first error met while decoding.
func (d *AttributeDecoder) Err() error { return d.err }
