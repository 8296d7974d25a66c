package ethtool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/nlkit/nlkit/netlink"
)

// The generic netlink family (linux/ethtool_netlink.h).
const (
	FamilyName    = "ethtool" // ETHTOOL_GENL_NAME
	FamilyVersion = 1         // ETHTOOL_GENL_VERSION
	// MonitorGroup is the family's multicast group of notifications.
	MonitorGroup = "monitor" // ETHTOOL_MCGRP_MONITOR_NAME
)

// Command is an ethtool message type (enum ETHTOOL_MSG_*), in
// genlmsghdr.cmd: user-to-kernel values for requests, kernel-to-user
// values (a separate enum) for replies and notifications.
type Command uint8

// Requests (user to kernel).
const (
	CmdStrsetGet    Command = 1  // ETHTOOL_MSG_STRSET_GET
	CmdLinkInfoGet  Command = 2  // ETHTOOL_MSG_LINKINFO_GET
	CmdLinkModesGet Command = 4  // ETHTOOL_MSG_LINKMODES_GET
	CmdLinkStateGet Command = 6  // ETHTOOL_MSG_LINKSTATE_GET
	CmdFeaturesGet  Command = 11 // ETHTOOL_MSG_FEATURES_GET
)

// Replies (kernel to user).
const (
	CmdStrsetGetReply    Command = 1  // ETHTOOL_MSG_STRSET_GET_REPLY
	CmdLinkInfoGetReply  Command = 2  // ETHTOOL_MSG_LINKINFO_GET_REPLY
	CmdLinkModesGetReply Command = 4  // ETHTOOL_MSG_LINKMODES_GET_REPLY
	CmdLinkStateGetReply Command = 6  // ETHTOOL_MSG_LINKSTATE_GET_REPLY
	CmdFeaturesGetReply  Command = 11 // ETHTOOL_MSG_FEATURES_GET_REPLY
)

var ne = binary.NativeEndian

// String returns the command's name as the kernel's netlink spec
// (Documentation/netlink/specs/ethtool.yaml) spells it ("linkinfo-get"),
// or "command(N)". The requests and replies here share their numbers.
func (c Command) String() string {
	switch c {
	case CmdStrsetGet:
		return "strset-get"
	case CmdLinkInfoGet:
		return "linkinfo-get"
	case CmdLinkModesGet:
		return "linkmodes-get"
	case CmdLinkStateGet:
		return "linkstate-get"
	case CmdFeaturesGet:
		return "features-get"
	}
	return fmt.Sprintf("command(%d)", uint8(c))
}

// attrHeader is the request header nest of every message
// (ETHTOOL_A_STRSET_HEADER, ETHTOOL_A_LINKINFO_HEADER, ...: all 1).
const attrHeader = 1

// Header attributes (enum ETHTOOL_A_HEADER_*).
const (
	headerDevIndex = 1 // ETHTOOL_A_HEADER_DEV_INDEX: u32
	headerDevName  = 2 // ETHTOOL_A_HEADER_DEV_NAME: string
	headerFlags    = 3 // ETHTOOL_A_HEADER_FLAGS: u32
)

// Flags are the request flags of the header (ETHTOOL_FLAG_*).
type Flags uint32

// Request flags.
const (
	FlagCompactBitsets Flags = 1 << 0 // ETHTOOL_FLAG_COMPACT_BITSETS: bit sets as bitmaps, without names
	FlagOmitReply      Flags = 1 << 1 // ETHTOOL_FLAG_OMIT_REPLY: no reply to set requests
	FlagStats          Flags = 1 << 2 // ETHTOOL_FLAG_STATS: include statistics
)

// String lists the flags by name, joined by "|" ("compact-bitsets"),
// unknown bits as a number; "0" for none.
func (f Flags) String() string {
	if f == 0 {
		return "0"
	}
	var parts []string
	for _, n := range []struct {
		f    Flags
		name string
	}{{FlagCompactBitsets, "compact-bitsets"}, {FlagOmitReply, "omit-reply"}, {FlagStats, "stats"}} {
		if f&n.f != 0 {
			parts = append(parts, n.name)
			f &^= n.f
		}
	}
	if f != 0 {
		parts = append(parts, fmt.Sprintf("%#x", uint32(f)))
	}
	return strings.Join(parts, "|")
}

// Device names the network interface of a request, by index or by name
// (the kernel checks that both match when both are given).
type Device struct {
	// Index is the interface index (ETHTOOL_A_HEADER_DEV_INDEX), 0 for
	// none.
	Index int32
	// Name is the interface name (ETHTOOL_A_HEADER_DEV_NAME), "" for
	// none.
	Name string
}

// String returns the name in quotes, or "index N".
func (d Device) String() string {
	if d.Name != "" {
		return strconv.Quote(d.Name)
	}
	return fmt.Sprintf("index %d", d.Index)
}

// Header is the header nest of a request or reply
// (ETHTOOL_A_*_HEADER): the device and the flags. Replies name the
// device by both index and name.
type Header struct {
	Device
	// Flags of the request (ETHTOOL_A_HEADER_FLAGS).
	Flags Flags
}

// encode adds h as the header nest: the index, name and flags that are
// set.
func (h Header) encode(e *netlink.AttributeEncoder) {
	e.Nest(attrHeader)
	if h.Index != 0 {
		e.Uint32(headerDevIndex, uint32(h.Index))
	}
	if h.Name != "" {
		e.String(headerDevName, h.Name)
	}
	if h.Flags != 0 {
		e.Uint32(headerFlags, uint32(h.Flags))
	}
	e.End()
}

// decodeHeader decodes the header nest at d.
func decodeHeader(d *netlink.AttributeDecoder, h *Header) {
	d.Nested(func(d *netlink.AttributeDecoder) error {
		for d.Next() {
			switch d.Type() {
			case headerDevIndex:
				h.Index = int32(d.Uint32())
			case headerDevName:
				h.Name = d.String()
			case headerFlags:
				h.Flags = Flags(d.Uint32())
			}
		}
		return nil
	})
}

// Bit set attributes (enum ETHTOOL_A_BITSET_*).
const (
	bitsetNoMask = 1 // ETHTOOL_A_BITSET_NOMASK: flag
	bitsetSize   = 2 // ETHTOOL_A_BITSET_SIZE: u32
	bitsetBits   = 3 // ETHTOOL_A_BITSET_BITS: nest of BITS_BIT
	bitsetValue  = 4 // ETHTOOL_A_BITSET_VALUE: u32 words
	bitsetMask   = 5 // ETHTOOL_A_BITSET_MASK: u32 words

	bitsetBitsBit = 1 // ETHTOOL_A_BITSET_BITS_BIT: nest of BIT_*

	bitIndex = 1 // ETHTOOL_A_BITSET_BIT_INDEX: u32
	bitName  = 2 // ETHTOOL_A_BITSET_BIT_NAME: string
	bitValue = 3 // ETHTOOL_A_BITSET_BIT_VALUE: flag
)

// maxBitsetWords is the most u32 words a VALUE or MASK attribute holds.
const maxBitsetWords = (0xffff - netlink.AttrHeaderLen) / 4

// Bit is one bit of a Bitset.
type Bit struct {
	// Index is the bit's number.
	Index uint32
	// Name is the bit's name: from the kernel in the verbose form, from
	// the matching string set (filled in by Client) in the compact one.
	Name string
	// Value is the bit's value: set or not. In a list (NoMask), every
	// bit listed is set.
	Value bool
}

// Bitset is an ethtool bit set (ETHTOOL_A_BITSET_*): a value and a mask
// of Size bits, or with NoMask a list of the bits set. The kernel sends
// it in one of two forms, both decoded to the same Bits: compact
// (ETHTOOL_FLAG_COMPACT_BITSETS: VALUE and MASK bitmaps of u32 words)
// or verbose (a BITS nest with each bit's index, name and value).
type Bitset struct {
	// Size is the number of bits (ETHTOOL_A_BITSET_SIZE).
	Size uint32
	// NoMask says the set is a list: there is no mask, Bits are the bits
	// set (ETHTOOL_A_BITSET_NOMASK).
	NoMask bool
	// Compact says the set came, or goes, as bitmaps rather than a list
	// of named bits.
	Compact bool
	// Bits are the bits in the mask (with NoMask: the bits set), in
	// index order.
	Bits []Bit
}

// Has reports whether bit i is in the mask (with NoMask: is set).
func (b *Bitset) Has(i uint32) bool {
	_, ok := b.find(i)
	return ok
}

// Test reports whether bit i is set.
func (b *Bitset) Test(i uint32) bool {
	n, ok := b.find(i)
	return ok && b.Bits[n].Value
}

func (b *Bitset) find(i uint32) (int, bool) {
	return slices.BinarySearchFunc(b.Bits, i, func(x Bit, i uint32) int {
		switch {
		case x.Index < i:
			return -1
		case x.Index > i:
			return 1
		}
		return 0
	})
}

// MaskNames returns the names of the bits in the mask (with NoMask: of
// the bits set), in index order; bits without a name as their number.
func (b *Bitset) MaskNames() []string {
	out := []string{}
	for _, x := range b.Bits {
		out = append(out, x.label())
	}
	return out
}

// SetNames returns the names of the bits set, in index order; bits
// without a name as their number.
func (b *Bitset) SetNames() []string {
	out := []string{}
	for _, x := range b.Bits {
		if x.Value {
			out = append(out, x.label())
		}
	}
	return out
}

func (x Bit) label() string {
	if x.Name != "" {
		return x.Name
	}
	return strconv.FormatUint(uint64(x.Index), 10)
}

// nameFrom fills in the names of unnamed bits from a string set.
func (b *Bitset) nameFrom(names []string) {
	for i := range b.Bits {
		if b.Bits[i].Name == "" && uint64(b.Bits[i].Index) < uint64(len(names)) {
			b.Bits[i].Name = names[b.Bits[i].Index]
		}
	}
}

// Errors of bit set decoding and encoding.
var (
	errBitRange  = errors.New("bit index beyond the set's size")
	errBitOrder  = errors.New("bits out of order or listed twice")
	errBitNoIdx  = errors.New("bit without an index")
	errWords     = errors.New("bitmap length does not match the set's size")
	errTooLarge  = errors.New("bit set too large for an attribute")
	errNoSize    = errors.New("bit set without a size")
	errMaskNoMsk = errors.New("mask in a list (NOMASK) bit set")
)

// encode adds b as nested attribute typ, as the kernel's
// ethnl_put_bitset32 does: NOMASK, SIZE, then VALUE and MASK (compact)
// or BITS (verbose: each bit in the mask with its index, its name, and
// VALUE if set; in a list, each bit set without VALUE).
func (b *Bitset) encode(e *netlink.AttributeEncoder, typ uint16) error {
	for i, x := range b.Bits {
		if x.Index >= b.Size {
			return fmt.Errorf("%w: bit %d of %d", errBitRange, x.Index, b.Size)
		}
		if i > 0 && x.Index <= b.Bits[i-1].Index {
			return fmt.Errorf("%w: bit %d after %d", errBitOrder, x.Index, b.Bits[i-1].Index)
		}
	}
	e.Nest(typ)
	e.Flag(bitsetNoMask, b.NoMask)
	e.Uint32(bitsetSize, b.Size)
	if b.Compact {
		n := (uint64(b.Size) + 31) / 32
		if n > maxBitsetWords {
			return fmt.Errorf("%w: %d bits", errTooLarge, b.Size)
		}
		value, mask := make([]byte, 4*n), make([]byte, 4*n)
		for _, x := range b.Bits {
			w, bit := 4*(x.Index/32), uint32(1)<<(x.Index%32)
			if x.Value || b.NoMask {
				ne.PutUint32(value[w:], ne.Uint32(value[w:])|bit)
			}
			ne.PutUint32(mask[w:], ne.Uint32(mask[w:])|bit)
		}
		e.Bytes(bitsetValue, value)
		if !b.NoMask {
			e.Bytes(bitsetMask, mask)
		}
	} else {
		e.Nest(bitsetBits)
		for _, x := range b.Bits {
			if b.NoMask && !x.Value {
				continue
			}
			e.Nest(bitsetBitsBit)
			e.Uint32(bitIndex, x.Index)
			e.String(bitName, x.Name) // the kernel names every bit, "" for unnamed ones
			e.Flag(bitValue, x.Value && !b.NoMask)
			e.End()
		}
		e.End()
	}
	e.End()
	return nil
}

// decodeBitset decodes the bit set nested at d into b.
func decodeBitset(d *netlink.AttributeDecoder, b *Bitset) {
	d.Nested(func(d *netlink.AttributeDecoder) error {
		return b.decode(d)
	})
}

func (b *Bitset) decode(d *netlink.AttributeDecoder) error {
	*b = Bitset{}
	var value, mask []byte
	hasSize, hasBits := false, false
	for d.Next() {
		switch d.Type() {
		case bitsetNoMask:
			b.NoMask = d.Flag()
		case bitsetSize:
			b.Size, hasSize = d.Uint32(), true
		case bitsetValue:
			value = d.Bytes()
		case bitsetMask:
			mask = d.Bytes()
		case bitsetBits:
			hasBits = true
			d.Nested(b.decodeBits)
		}
	}
	if err := d.Err(); err != nil {
		return err
	}
	if !hasSize {
		return errNoSize
	}
	if hasBits {
		for i, x := range b.Bits {
			if x.Index >= b.Size {
				return fmt.Errorf("%w: bit %d of %d", errBitRange, x.Index, b.Size)
			}
			if i > 0 && x.Index <= b.Bits[i-1].Index {
				return fmt.Errorf("%w: bit %d after %d", errBitOrder, x.Index, b.Bits[i-1].Index)
			}
		}
		return nil
	}
	if value == nil && mask == nil {
		return nil // an empty verbose set without BITS
	}
	b.Compact = true
	words := (uint64(b.Size) + 31) / 32
	if uint64(len(value)) != 4*words || (mask != nil && uint64(len(mask)) != 4*words) {
		return fmt.Errorf("%w: %d bits in %d value and %d mask bytes", errWords, b.Size, len(value), len(mask))
	}
	if b.NoMask && mask != nil {
		return errMaskNoMsk
	}
	if mask == nil {
		// A list: the bits set. (A masked set without MASK, which the
		// kernel never sends, is taken as the value masked by itself.)
		mask = value
	}
	for i := uint32(0); i < b.Size; i++ {
		w, bit := 4*(i/32), uint32(1)<<(i%32)
		if ne.Uint32(mask[w:])&bit != 0 {
			b.Bits = append(b.Bits, Bit{Index: i, Value: ne.Uint32(value[w:])&bit != 0})
		}
	}
	return nil
}

// decodeBits decodes ETHTOOL_A_BITSET_BITS.
func (b *Bitset) decodeBits(d *netlink.AttributeDecoder) error {
	for d.Next() {
		if d.Type() != bitsetBitsBit {
			continue
		}
		var x Bit
		hasIndex := false
		d.Nested(func(d *netlink.AttributeDecoder) error {
			for d.Next() {
				switch d.Type() {
				case bitIndex:
					x.Index, hasIndex = d.Uint32(), true
				case bitName:
					x.Name = d.String()
				case bitValue:
					x.Value = d.Flag()
				}
			}
			if !hasIndex && d.Err() == nil {
				return errBitNoIdx
			}
			return nil
		})
		if b.NoMask {
			x.Value = true // a list names the bits set
		}
		b.Bits = append(b.Bits, x)
	}
	return d.Err()
}

// MarshalBinary encodes b as the payload of a bit set attribute (the
// attributes inside the nest).
func (b Bitset) MarshalBinary() ([]byte, error) {
	var e netlink.AttributeEncoder
	if err := b.encode(&e, 1); err != nil {
		return nil, fmt.Errorf("ethtool: encode bit set: %w", err)
	}
	out, err := e.Encode()
	if err != nil {
		return nil, fmt.Errorf("ethtool: encode bit set: %w", err)
	}
	return out[netlink.AttrHeaderLen:], nil
}

// UnmarshalBinary decodes the payload of a bit set attribute, in either
// form. Bits of a compact MASK whose VALUE bit is clear are kept with
// Value false; VALUE bits outside the mask are dropped, as the verbose
// form omits them.
func (b *Bitset) UnmarshalBinary(data []byte) error {
	d := netlink.NewAttributeDecoder(data)
	if err := b.decode(d); err != nil {
		*b = Bitset{}
		return fmt.Errorf("ethtool: decode bit set: %w", err)
	}
	return nil
}

// String set attributes (ETHTOOL_A_STRSET_*, _STRINGSETS_*,
// _STRINGSET_*, _STRINGS_*, _STRING_*).
const (
	strsetStringsets  = 2 // ETHTOOL_A_STRSET_STRINGSETS: nest of STRINGSET
	strsetCountsOnly  = 3 // ETHTOOL_A_STRSET_COUNTS_ONLY: flag
	stringsetsSet     = 1 // ETHTOOL_A_STRINGSETS_STRINGSET: nest
	stringsetID       = 1 // ETHTOOL_A_STRINGSET_ID: u32
	stringsetCount    = 2 // ETHTOOL_A_STRINGSET_COUNT: u32
	stringsetStrings  = 3 // ETHTOOL_A_STRINGSET_STRINGS: nest of STRING
	stringsString     = 1 // ETHTOOL_A_STRINGS_STRING: nest
	stringIndex       = 1 // ETHTOOL_A_STRING_INDEX: u32
	stringValue       = 2 // ETHTOOL_A_STRING_VALUE: string
	maxStringSetCount = 1 << 16
)

// StringSetID names a string set (enum ethtool_stringset, ETH_SS_*).
type StringSetID uint32

// String sets this package uses.
const (
	StringSetFeatures  StringSetID = 4  // ETH_SS_FEATURES: netdev feature names
	StringSetLinkModes StringSetID = 9  // ETH_SS_LINK_MODES: link mode names
	StringSetWoLModes  StringSetID = 11 // ETH_SS_WOL_MODES: wake-on-LAN modes
)

// String returns the set's name ("features", "link-modes",
// "wol-modes"), or "string-set(N)".
func (id StringSetID) String() string {
	switch id {
	case StringSetFeatures:
		return "features"
	case StringSetLinkModes:
		return "link-modes"
	case StringSetWoLModes:
		return "wol-modes"
	}
	return fmt.Sprintf("string-set(%d)", uint32(id))
}

// StringSet is a string set of a STRSET_GET reply (ETHTOOL_A_STRINGSET_*):
// the names of the bits of bit sets such as features and link modes.
type StringSet struct {
	// ID says which set (ETHTOOL_A_STRINGSET_ID).
	ID StringSetID
	// Count is the number of strings (ETHTOOL_A_STRINGSET_COUNT).
	Count uint32
	// Strings are the strings by index; nil if the reply had only the
	// count. A string the reply lacks is "".
	Strings []string
}

// Errors of string set decoding.
var (
	errStringIndex = errors.New("string index beyond the set's count")
	errStringCount = errors.New("string set too large")
)

// encodeStringSets adds sets as ETHTOOL_A_STRSET_STRINGSETS.
func encodeStringSets(e *netlink.AttributeEncoder, sets []StringSet) {
	e.Nest(strsetStringsets)
	for _, s := range sets {
		e.Nest(stringsetsSet)
		e.Uint32(stringsetID, uint32(s.ID))
		e.Uint32(stringsetCount, s.Count)
		if s.Strings != nil {
			e.Nest(stringsetStrings)
			for i, str := range s.Strings {
				e.Nest(stringsString)
				e.Uint32(stringIndex, uint32(i))
				e.String(stringValue, str)
				e.End()
			}
			e.End()
		}
		e.End()
	}
	e.End()
}

// decodeStringSets decodes ETHTOOL_A_STRSET_STRINGSETS.
func decodeStringSets(d *netlink.AttributeDecoder) ([]StringSet, error) {
	var sets []StringSet
	for d.Next() {
		if d.Type() != stringsetsSet {
			continue
		}
		var s StringSet
		var strs []struct {
			i uint32
			v string
		}
		hasStrings := false
		d.Nested(func(d *netlink.AttributeDecoder) error {
			for d.Next() {
				switch d.Type() {
				case stringsetID:
					s.ID = StringSetID(d.Uint32())
				case stringsetCount:
					s.Count = d.Uint32()
				case stringsetStrings:
					hasStrings = true
					d.Nested(func(d *netlink.AttributeDecoder) error {
						for d.Next() {
							if d.Type() != stringsString {
								continue
							}
							var str struct {
								i uint32
								v string
							}
							d.Nested(func(d *netlink.AttributeDecoder) error {
								for d.Next() {
									switch d.Type() {
									case stringIndex:
										str.i = d.Uint32()
									case stringValue:
										str.v = d.String()
									}
								}
								return nil
							})
							strs = append(strs, str)
						}
						return nil
					})
				}
			}
			return nil
		})
		if err := d.Err(); err != nil {
			return nil, err
		}
		if hasStrings {
			if s.Count > maxStringSetCount {
				return nil, fmt.Errorf("%w: %d strings", errStringCount, s.Count)
			}
			s.Strings = make([]string, s.Count)
			for _, str := range strs {
				if str.i >= s.Count {
					return nil, fmt.Errorf("%w: string %d of %d", errStringIndex, str.i, s.Count)
				}
				s.Strings[str.i] = str.v
			}
		}
		sets = append(sets, s)
	}
	return sets, d.Err()
}

// StringSets is the reply to a STRSET_GET request
// (ETHTOOL_MSG_STRSET_GET_REPLY): the header and the string sets.
type StringSets struct {
	Header Header
	Sets   []StringSet
}

// MarshalBinary encodes s as the attributes of a STRSET_GET_REPLY as
// the kernel does: the header (if any), then the sets, each with its ID,
// count and strings.
func (s StringSets) MarshalBinary() ([]byte, error) {
	var e netlink.AttributeEncoder
	if s.Header != (Header{}) { // the reply to a request without a device has none
		s.Header.encode(&e)
	}
	encodeStringSets(&e, s.Sets)
	b, err := e.Encode()
	if err != nil {
		return nil, fmt.Errorf("ethtool: encode string sets: %w", err)
	}
	return b, nil
}

// UnmarshalBinary decodes the attributes of a STRSET_GET_REPLY. Strings
// are placed by their index; an index beyond the set's count is an
// error, as is a count over 65536.
func (s *StringSets) UnmarshalBinary(b []byte) error {
	var out StringSets
	d := netlink.NewAttributeDecoder(b)
	for d.Next() {
		switch d.Type() {
		case attrHeader:
			decodeHeader(d, &out.Header)
		case strsetStringsets:
			d.Nested(func(d *netlink.AttributeDecoder) error {
				var err error
				out.Sets, err = decodeStringSets(d)
				return err
			})
		}
	}
	if err := d.Err(); err != nil {
		return fmt.Errorf("ethtool: decode string sets: %w", err)
	}
	*s = out
	return nil
}
