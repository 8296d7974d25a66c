package netlink

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// HeaderLen is the size of a netlink message header (struct nlmsghdr).
const HeaderLen = 16

// Align rounds n up to the 4-byte netlink alignment (NLMSG_ALIGN, NLA_ALIGN).
func Align(n int) int { return (n + 3) &^ 3 }

// HeaderType is the type of a netlink message (nlmsghdr.nlmsg_type). Values
// below 16 are reserved for control messages; families define the rest.
type HeaderType uint16

// Control message types.
const (
	Noop    HeaderType = 0x1 // NLMSG_NOOP: to be ignored
	Error   HeaderType = 0x2 // NLMSG_ERROR: error or acknowledgement
	Done    HeaderType = 0x3 // NLMSG_DONE: end of a multi-part message
	Overrun HeaderType = 0x4 // NLMSG_OVERRUN: data lost

	// MinType is the first type a family may use (NLMSG_MIN_TYPE).
	MinType HeaderType = 0x10
)

// String returns the control message name, or the number for family types.
func (t HeaderType) String() string {
	switch t {
	case Noop:
		return "noop"
	case Error:
		return "error"
	case Done:
		return "done"
	case Overrun:
		return "overrun"
	}
	return fmt.Sprintf("%#x", uint16(t))
}

// HeaderFlags is the set of flags in nlmsghdr.nlmsg_flags. The meaning of
// bits 8 and up depends on the request kind (get, new, delete) and on
// whether the message is an acknowledgement.
type HeaderFlags uint16

// Flags valid on every message.
const (
	Request      HeaderFlags = 0x01 // NLM_F_REQUEST: a request to the kernel
	Multi        HeaderFlags = 0x02 // NLM_F_MULTI: part of a multi-part answer ending in NLMSG_DONE
	Acknowledge  HeaderFlags = 0x04 // NLM_F_ACK: reply with an NLMSG_ERROR, error 0, on success
	Echo         HeaderFlags = 0x08 // NLM_F_ECHO: echo this request back
	DumpIntr     HeaderFlags = 0x10 // NLM_F_DUMP_INTR: the dump saw a change and is inconsistent
	DumpFiltered HeaderFlags = 0x20 // NLM_F_DUMP_FILTERED: the kernel applied the dump filter
)

// Flags of get requests.
const (
	Root   HeaderFlags = 0x100        // NLM_F_ROOT: return the whole table
	Match  HeaderFlags = 0x200        // NLM_F_MATCH: return all matching entries
	Atomic HeaderFlags = 0x400        // NLM_F_ATOMIC: atomic snapshot
	Dump   HeaderFlags = Root | Match // NLM_F_DUMP
)

// Flags of new requests.
const (
	Replace HeaderFlags = 0x100 // NLM_F_REPLACE: replace an existing object
	Excl    HeaderFlags = 0x200 // NLM_F_EXCL: fail if the object exists
	Create  HeaderFlags = 0x400 // NLM_F_CREATE: create if it does not exist
	Append  HeaderFlags = 0x800 // NLM_F_APPEND: add at the end of the list
)

// Flags of delete requests.
const (
	NonRecursive HeaderFlags = 0x100 // NLM_F_NONREC: do not delete recursively
	Bulk         HeaderFlags = 0x200 // NLM_F_BULK: delete many objects
)

// Flags of acknowledgements (NLMSG_ERROR messages).
const (
	Capped  HeaderFlags = 0x100 // NLM_F_CAPPED: the echoed request was cut to its header
	AckTLVs HeaderFlags = 0x200 // NLM_F_ACK_TLVS: extended-ack attributes follow
)

var flagNames = []struct {
	f    HeaderFlags
	name string
}{
	{Request, "request"}, {Multi, "multi"}, {Acknowledge, "ack"}, {Echo, "echo"},
	{DumpIntr, "dump-intr"}, {DumpFiltered, "dump-filtered"},
}

// String lists the flags by name. Bits 8 and up are shown as numbers
// because their meaning depends on the request kind; see FormatFlags.
func (f HeaderFlags) String() string {
	if f == 0 {
		return "0"
	}
	var parts []string
	for _, n := range flagNames {
		if f&n.f != 0 {
			parts = append(parts, n.name)
			f &^= n.f
		}
	}
	if f != 0 {
		parts = append(parts, fmt.Sprintf("%#x", uint16(f)))
	}
	return strings.Join(parts, "|")
}

// Header is a netlink message header (struct nlmsghdr).
type Header struct {
	// Length of the message including the header (nlmsg_len). Marshal
	// fills it in; Unmarshal checks it.
	Length uint32
	// Type of the message (nlmsg_type).
	Type HeaderType
	// Flags (nlmsg_flags).
	Flags HeaderFlags
	// Sequence number (nlmsg_seq). Conn fills it in on requests if zero;
	// the kernel echoes it in replies.
	Sequence uint32
	// PID is the port ID of the sending socket (nlmsg_pid). The kernel
	// is port 0. Conn fills it in on requests.
	PID uint32
}

// Message is one netlink message: a header and its payload. The payload
// of a received message aliases the receive buffer; see Conn.Receive for
// how long it stays valid.
type Message struct {
	Header Header
	Data   []byte
}

// Errors returned when decoding malformed messages.
var (
	ErrShortMessage = errors.New("netlink: message shorter than its header")
	ErrBadLength    = errors.New("netlink: message length out of bounds")
)

// MarshalBinary encodes m. Header.Length is computed from the payload.
func (m Message) MarshalBinary() ([]byte, error) {
	return m.AppendBinary(make([]byte, 0, HeaderLen+Align(len(m.Data))))
}

// AppendBinary appends the encoding of m to b, padded to the netlink
// alignment, computing Header.Length from the payload.
func (m Message) AppendBinary(b []byte) ([]byte, error) {
	n := HeaderLen + len(m.Data)
	if uint64(n) > 1<<31 { // uint64: 1<<31 overflows int on 32-bit systems
		return b, ErrBadLength
	}
	b = appendHeader(b, Header{
		Length:   uint32(n),
		Type:     m.Header.Type,
		Flags:    m.Header.Flags,
		Sequence: m.Header.Sequence,
		PID:      m.Header.PID,
	})
	b = append(b, m.Data...)
	for i := n; i < Align(n); i++ {
		b = append(b, 0)
	}
	return b, nil
}

func appendHeader(b []byte, h Header) []byte {
	b = binary.NativeEndian.AppendUint32(b, h.Length)
	b = binary.NativeEndian.AppendUint16(b, uint16(h.Type))
	b = binary.NativeEndian.AppendUint16(b, uint16(h.Flags))
	b = binary.NativeEndian.AppendUint32(b, h.Sequence)
	b = binary.NativeEndian.AppendUint32(b, h.PID)
	return b
}

func parseHeader(b []byte) Header {
	return Header{
		Length:   binary.NativeEndian.Uint32(b[0:4]),
		Type:     HeaderType(binary.NativeEndian.Uint16(b[4:6])),
		Flags:    HeaderFlags(binary.NativeEndian.Uint16(b[6:8])),
		Sequence: binary.NativeEndian.Uint32(b[8:12]),
		PID:      binary.NativeEndian.Uint32(b[12:16]),
	}
}

// UnmarshalBinary decodes a single message from b. The payload aliases b.
// Trailing alignment padding is allowed; anything else after the message
// is an error (use Messages or Parser for a buffer of many).
func (m *Message) UnmarshalBinary(b []byte) error {
	var p Parser
	p.Reset(b)
	if !p.Next() {
		if p.Err() != nil {
			return p.Err()
		}
		return ErrShortMessage
	}
	if len(p.rest) != 0 {
		return fmt.Errorf("netlink: %d trailing bytes after message", len(p.rest))
	}
	*m = p.Message()
	return nil
}

// Parser walks a buffer holding many netlink messages without copying or
// allocating. Use it as:
//
//	var p netlink.Parser
//	p.Reset(buf)
//	for p.Next() {
//		m := p.Message() // m.Data aliases buf
//	}
//	if err := p.Err(); err != nil { ... }
type Parser struct {
	rest []byte
	cur  Message
	err  error
}

// Reset makes p walk b from the start.
func (p *Parser) Reset(b []byte) { *p = Parser{rest: b} }

// Next advances to the next message, reporting whether there is one. It
// returns false at the end of the buffer or on a malformed message (see Err).
func (p *Parser) Next() bool {
	rest := p.rest
	if p.err != nil || len(rest) == 0 {
		return false
	}
	if len(rest) < HeaderLen {
		p.err = ErrShortMessage
		return false
	}
	l := binary.NativeEndian.Uint32(rest)
	if l < HeaderLen || uint64(l) > uint64(len(rest)) {
		p.err = fmt.Errorf("%w: header says %d bytes, %d remain", ErrBadLength, l, len(rest))
		return false
	}
	// Stored field by field, the length checked apart: a Message built
	// whole and copied into p.cur, or a Header read back from the copy,
	// made Next two to three times slower (BenchmarkParser).
	p.cur.Header = parseHeader(rest)
	p.cur.Data = rest[HeaderLen:l:l]
	next := Align(int(l))
	if next > len(rest) {
		next = len(rest) // last message may omit its padding
	}
	p.rest = rest[next:]
	return true
}

// Message returns the current message; its Data aliases the buffer.
func (p *Parser) Message() Message { return p.cur }

// Err returns the error that stopped Next, if any.
func (p *Parser) Err() error { return p.err }

// ParseMessages decodes every message in b into a new slice. Payloads alias
// b. For a loop that allocates nothing, use Parser.
func ParseMessages(b []byte) ([]Message, error) {
	var msgs []Message
	var p Parser
	p.Reset(b)
	for p.Next() {
		msgs = append(msgs, p.Message())
	}
	return msgs, p.Err()
}
