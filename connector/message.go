package connector

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/nlkit/nlkit/netlink"
)

// HeaderLen is the size of a connector message header (struct cn_msg).
const HeaderLen = 20

// MaxMessageSize is the largest connector message the kernel accepts,
// header included (CONNECTOR_MAX_MSG_SIZE).
const MaxMessageSize = 16384

// MessageType is the netlink message type connector messages travel in,
// both ways: the connector sends NLMSG_DONE and ignores the type of what
// it receives.
const MessageType = netlink.Done

// CallbackID names a connector user: a kernel service registered with
// cn_add_callback (struct cb_id). Its Index is also the multicast group
// its events go to.
type CallbackID struct {
	Index uint32 // idx
	Value uint32 // val
}

// Connector users with fixed IDs (linux/connector.h).
var (
	// ProcID is the process events connector (CN_IDX_PROC, CN_VAL_PROC).
	ProcID = CallbackID{Index: 1, Value: 1}
)

// String returns the ID as "idx:val".
func (id CallbackID) String() string { return fmt.Sprintf("%d:%d", id.Index, id.Value) }

// Message is a connector message (struct cn_msg and its payload),
// carried in the payload of a netlink message of type MessageType.
type Message struct {
	// ID is the connector user the message is for or from.
	ID CallbackID
	// Sequence and Ack number the message (seq, ack); a reply carries
	// the request's Sequence and its Ack plus one.
	Sequence, Ack uint32
	// Flags are the connector flags (flags); unused by current users.
	Flags uint16
	// Data is the payload (its length is cn_msg.len).
	Data []byte
}

// MarshalBinary encodes the header and the payload. The payload's
// length must fit cn_msg.len (16 bits); the kernel accepts messages of
// up to MaxMessageSize.
func (m Message) MarshalBinary() ([]byte, error) {
	if len(m.Data) > math.MaxUint16 {
		return nil, fmt.Errorf("connector: encode message: %d payload bytes exceed %d", len(m.Data), math.MaxUint16)
	}
	b := make([]byte, 0, HeaderLen+len(m.Data))
	for _, v := range []uint32{m.ID.Index, m.ID.Value, m.Sequence, m.Ack} {
		b = binary.NativeEndian.AppendUint32(b, v)
	}
	b = binary.NativeEndian.AppendUint16(b, uint16(len(m.Data)))
	b = binary.NativeEndian.AppendUint16(b, m.Flags)
	return append(b, m.Data...), nil
}

// UnmarshalBinary decodes a connector message. The payload is copied;
// its length is the header's len, which must fit in b (bytes after it,
// such as alignment padding, are ignored).
func (m *Message) UnmarshalBinary(b []byte) error {
	if len(b) < HeaderLen {
		return fmt.Errorf("connector: decode message: %w: %d bytes, want %d", netlink.ErrShortMessage, len(b), HeaderLen)
	}
	n := int(binary.NativeEndian.Uint16(b[16:18]))
	if n > len(b)-HeaderLen {
		return fmt.Errorf("connector: decode message: %w: header says %d payload bytes, %d remain", netlink.ErrBadLength, n, len(b)-HeaderLen)
	}
	*m = Message{
		ID:       CallbackID{Index: binary.NativeEndian.Uint32(b[0:4]), Value: binary.NativeEndian.Uint32(b[4:8])},
		Sequence: binary.NativeEndian.Uint32(b[8:12]),
		Ack:      binary.NativeEndian.Uint32(b[12:16]),
		Flags:    binary.NativeEndian.Uint16(b[18:20]),
		Data:     append([]byte{}, b[HeaderLen:HeaderLen+n]...),
	}
	return nil
}
