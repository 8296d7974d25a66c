package genl

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/nlkit/nlkit/netlink"
)

// HeaderLen is the size of the generic netlink header (struct
// genlmsghdr, GENL_HDRLEN).
const HeaderLen = 4

// ErrShortMessage reports a message payload shorter than the generic
// netlink header.
var ErrShortMessage = errors.New("genl: message shorter than the generic netlink header")

// Header is the generic netlink header (struct genlmsghdr) that starts
// the payload of every generic netlink message.
type Header struct {
	// Command is the family-specific command (cmd).
	Command uint8
	// Version is the family's interface version (version); most
	// families ignore it in requests.
	Version uint8
	// Reserved must be 0 in requests: families with strict validation
	// reject anything else (reserved).
	Reserved uint16
}

// MarshalBinary encodes h in its 4 bytes.
func (h Header) MarshalBinary() ([]byte, error) {
	return h.AppendBinary(make([]byte, 0, HeaderLen))
}

// AppendBinary appends the 4-byte encoding of h to b.
func (h Header) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, h.Command, h.Version)
	return binary.NativeEndian.AppendUint16(b, h.Reserved), nil
}

// UnmarshalBinary decodes a header from exactly HeaderLen bytes.
func (h *Header) UnmarshalBinary(b []byte) error {
	if len(b) != HeaderLen {
		return fmt.Errorf("genl: decode header: %d bytes, want %d", len(b), HeaderLen)
	}
	*h = parseHeader(b)
	return nil
}

func parseHeader(b []byte) Header {
	return Header{Command: b[0], Version: b[1], Reserved: binary.NativeEndian.Uint16(b[2:4])}
}

// Message is a generic netlink message: the genl header and what follows
// it (the family's own header, if it has one, then attributes). It is
// the payload of a netlink message whose type is the family's ID.
type Message struct {
	Header Header
	// Data is everything after the genl header: usually attributes, to
	// build with a netlink.AttributeEncoder and read with a
	// netlink.AttributeDecoder.
	Data []byte
	// Netlink is the netlink header the message arrived in: Type is the
	// family ID, Sequence is 0 for multicast notifications. Set on
	// received messages; ignored when sending (Conn fills it in).
	Netlink netlink.Header
}

// MarshalBinary encodes m as a netlink message payload: the genl header
// followed by Data.
func (m Message) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, HeaderLen+len(m.Data))
	b, _ = m.Header.AppendBinary(b)
	return append(b, m.Data...), nil
}

// UnmarshalBinary decodes a netlink message payload into m.Header and
// m.Data. Data aliases b; m.Netlink is left as it is.
func (m *Message) UnmarshalBinary(b []byte) error {
	if len(b) < HeaderLen {
		return fmt.Errorf("%w: %d bytes", ErrShortMessage, len(b))
	}
	m.Header = parseHeader(b)
	m.Data = b[HeaderLen:len(b):len(b)]
	return nil
}

// ParseMessage decodes a received netlink message into a Message whose
// Netlink is m's header and whose Data aliases m.Data.
func ParseMessage(m netlink.Message) (Message, error) {
	out := Message{Netlink: m.Header}
	if err := out.UnmarshalBinary(m.Data); err != nil {
		return Message{}, err
	}
	return out, nil
}
