package netlink

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"
)

// ErrDumpInterrupted reports that the kernel flagged a dump with
// NLM_F_DUMP_INTR: the table changed while it was being dumped, so the
// objects received may be inconsistent (missing or duplicated). The dump
// was read to its end; the only remedy is to dump again.
var ErrDumpInterrupted = errors.New("netlink: dump interrupted by a concurrent change; dump again")

// ErrOverrun reports that the socket's receive buffer overflowed and the
// kernel dropped messages (ENOBUFS, or an NLMSG_OVERRUN message). For an
// event subscription this means events were lost: the only honest recovery
// is to dump the state again. The Conn stays usable. The kernel reports an
// overrun once: until the socket's backlog has been read empty it drops
// further events without a new report, so read the backlog, then dump.
// errors.Is(ErrOverrun, syscall.ENOBUFS) holds.
var ErrOverrun error = overrunError{}

type overrunError struct{}

func (overrunError) Error() string {
	return "netlink: receive buffer overrun, messages were lost (ENOBUFS)"
}
func (overrunError) Is(target error) bool { return target == syscall.ENOBUFS }

// ErrTruncated reports a datagram larger than the receive buffer. Conn
// returns it only with Config.ReadBufferSize set (it otherwise sizes the
// buffer first, so nothing is ever cut); the datagram is then lost, and
// reported rather than handed out cut.
var ErrTruncated = errors.New("netlink: datagram truncated")

// ErrSpoofed is the reason recorded (in debug output and Stats) for a
// message dropped because its sender was not the kernel.
var ErrSpoofed = errors.New("netlink: message from a non-kernel port rejected")

// OpError is the error of a netlink operation, modelled on net.OpError.
// Err is the cause; a kernel error is a bare syscall.Errno (unix.Errno), so
// errors.Is(err, unix.ENOENT) works on any error a Conn returns.
type OpError struct {
	// Op is the operation: "dial", "send", "receive", "execute", "dump", ...
	Op string
	// Err is the underlying error, often a syscall.Errno from the kernel.
	Err error
	// Message is the kernel's extended-ack text (NLMSGERR_ATTR_MSG), if any.
	Message string
	// Offset is the byte offset in the request of the attribute the kernel
	// complained about (NLMSGERR_ATTR_OFFS), or -1 if the kernel gave none.
	Offset int
	// Sequence is the sequence number of the failing request, if known.
	Sequence uint32
	// MissingType, if non-zero, is the attribute type the kernel said was
	// missing (NLMSGERR_ATTR_MISS_TYPE).
	MissingType uint16
}

func (e *OpError) Error() string {
	if e == nil {
		return "<nil>"
	}
	// The sequence number is in e.Sequence and in NLKIT_DEBUG traces; it
	// would only be noise in a message meant for people.
	s := "netlink " + e.Op + ": " + e.Err.Error()
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.MissingType != 0 {
		s += fmt.Sprintf(" (missing attribute type %d)", e.MissingType)
	}
	if e.Offset >= 0 {
		s += fmt.Sprintf(" (at offset %d)", e.Offset)
	}
	return s
}

// Unwrap returns the underlying error.
func (e *OpError) Unwrap() error { return e.Err }

// Timeout reports whether the error was a deadline being reached.
func (e *OpError) Timeout() bool {
	var t interface{ Timeout() bool }
	return errors.As(e.Err, &t) && t.Timeout()
}

// Extended-ack attribute types (enum nlmsgerr_attrs).
const (
	extAckMsg      = 1 // NLMSGERR_ATTR_MSG
	extAckOffs     = 2 // NLMSGERR_ATTR_OFFS
	extAckCookie   = 3 // NLMSGERR_ATTR_COOKIE
	extAckPolicy   = 4 // NLMSGERR_ATTR_POLICY
	extAckMissType = 5 // NLMSGERR_ATTR_MISS_TYPE
	extAckMissNest = 6 // NLMSGERR_ATTR_MISS_NEST
)

// AckInfo is the decoded payload of an NLMSG_ERROR message.
type AckInfo struct {
	// Errno is the error; 0 for an acknowledgement.
	Errno syscall.Errno
	// Request is the header of the request being answered.
	Request Header
	// Message is the extended-ack text (an error, or a warning on an ack).
	Message string
	// Offset of the offending attribute in the request, or -1.
	Offset int
	// MissingType is the type of a required attribute that was missing.
	MissingType uint16
	// Cookie is the extended-ack cookie, if any (aliases the message).
	Cookie []byte
}

// ParseAck decodes the payload of an NLMSG_ERROR message. flags are the
// header flags of that message (they say whether the echoed request was
// capped and whether extended-ack attributes follow).
func ParseAck(flags HeaderFlags, b []byte) (AckInfo, error) {
	info := AckInfo{Offset: -1}
	if len(b) < 4+HeaderLen {
		return info, fmt.Errorf("%w: error message of %d bytes", ErrShortMessage, len(b))
	}
	code := int32(binary.NativeEndian.Uint32(b[:4]))
	if code > 0 || code < -4095 {
		return info, fmt.Errorf("netlink: error message with bad errno %d", code)
	}
	info.Errno = syscall.Errno(-code)
	info.Request = parseHeader(b[4:])
	rest := b[4+HeaderLen:]
	if flags&Capped == 0 {
		// The kernel echoed the whole request (it always caps acks).
		n := Align(int(info.Request.Length) - HeaderLen)
		if n < 0 || n > len(rest) {
			if flags&AckTLVs != 0 {
				return info, fmt.Errorf("%w: echoed request of %d bytes exceeds error message", ErrBadLength, info.Request.Length)
			}
			n = len(rest)
		}
		rest = rest[n:]
	}
	if flags&AckTLVs == 0 {
		return info, nil
	}
	d := NewAttributeDecoder(rest)
	for d.Next() {
		switch d.Type() {
		case extAckMsg:
			info.Message = d.String()
		case extAckOffs:
			off := d.Uint32()
			// The kernel reports the offset from the start of the request
			// header; keep it as is, it is what iproute2 reports too.
			info.Offset = int(off)
		case extAckMissType:
			info.MissingType = uint16(d.Uint32())
		case extAckCookie:
			info.Cookie = d.Bytes()
		}
	}
	if err := d.Err(); err != nil {
		return info, fmt.Errorf("netlink: extended ack: %w", err)
	}
	return info, nil
}

// MarshalAck encodes an NLMSG_ERROR payload answering req, as the kernel's
// netlink_ack does: error, the request header (and, for errors when not
// capped, its payload), then extended-ack attributes if info carries any.
// It returns the flags the NLMSG_ERROR header must carry. It is the inverse
// of ParseAck, used by fake kernels.
func MarshalAck(req Message, info AckInfo, capped bool) ([]byte, HeaderFlags) {
	var flags HeaderFlags
	b := binary.NativeEndian.AppendUint32(nil, uint32(-int32(info.Errno)))
	h := req.Header
	h.Length = uint32(HeaderLen + len(req.Data))
	b = appendHeader(b, h)
	if info.Errno != 0 && !capped {
		b = append(b, req.Data...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	} else {
		flags |= Capped
	}
	if info.Message != "" || info.Offset >= 0 || info.MissingType != 0 || info.Cookie != nil {
		flags |= AckTLVs
		var e AttributeEncoder
		if info.Message != "" {
			e.String(extAckMsg, info.Message)
		}
		if info.Offset >= 0 {
			e.Uint32(extAckOffs, uint32(info.Offset))
		}
		if info.MissingType != 0 {
			e.Uint32(extAckMissType, uint32(info.MissingType))
		}
		if info.Cookie != nil {
			e.Bytes(extAckCookie, info.Cookie)
		}
		tlvs, _ := e.Encode() // cannot fail: no nests, small payloads
		b = append(b, tlvs...)
	}
	return b, flags
}
