package connector

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/nlkit/nlkit/netlink"
)

func u32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }
func u16(v uint16) []byte { return binary.NativeEndian.AppendUint16(nil, v) }
func u64(v uint64) []byte { return binary.NativeEndian.AppendUint64(nil, v) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// cnMsg builds a struct cn_msg by hand, independent of the encoder.
func cnMsg(idx, val, seq, ack uint32, length, flags uint16, data []byte) []byte {
	return cat(u32(idx), u32(val), u32(seq), u32(ack), u16(length), u16(flags), data)
}

// listenWire is the subscription request every process connector
// client sends (PROC_CN_MCAST_LISTEN, len 4).
var listenWire = cnMsg(1, 1, 0, 41, 4, 0, u32(1))

func TestMessageMarshal(t *testing.T) {
	b, err := Message{ID: ProcID, Ack: 41, Data: u32(procListen)}.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, listenWire) {
		t.Fatalf("got  % x\nwant % x", b, listenWire)
	}
	big := Message{Data: make([]byte, 1<<16)}
	if _, err := big.MarshalBinary(); err == nil {
		t.Fatal("a payload longer than cn_msg.len can say was encoded")
	}
}

func TestMessageUnmarshal(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    Message
		wantErr error
	}{
		{"listen", listenWire, Message{ID: ProcID, Ack: 41, Data: u32(1)}, nil},
		{"padding after the payload", cat(cnMsg(7, 9, 3, 4, 2, 5, []byte{0xaa, 0xbb}), []byte{0, 0}),
			Message{ID: CallbackID{7, 9}, Sequence: 3, Ack: 4, Flags: 5, Data: []byte{0xaa, 0xbb}}, nil},
		{"empty payload", cnMsg(1, 1, 0, 0, 0, 0, nil), Message{ID: ProcID, Data: []byte{}}, nil},
		{"short header", make([]byte, HeaderLen-1), Message{}, netlink.ErrShortMessage},
		{"len past the end", cnMsg(1, 1, 0, 0, 5, 0, u32(1)), Message{}, netlink.ErrBadLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m Message
			err := m.UnmarshalBinary(tt.in)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.HasPrefix(err.Error(), "connector: decode message") {
					t.Fatalf("error %v, want %v with context", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m, tt.want) {
				t.Fatalf("got %+v, want %+v", m, tt.want)
			}
		})
	}
}

// The decoded payload is the message's own: it survives the buffer.
func TestMessageOwnsData(t *testing.T) {
	in := append([]byte(nil), listenWire...)
	var m Message
	if err := m.UnmarshalBinary(in); err != nil {
		t.Fatal(err)
	}
	for i := range in {
		in[i] = 0xff
	}
	if !bytes.Equal(m.Data, u32(1)) {
		t.Fatalf("payload changed with the buffer: % x", m.Data)
	}
}

func TestCallbackIDString(t *testing.T) {
	if s := ProcID.String(); s != "1:1" {
		t.Fatalf("ProcID.String() = %q", s)
	}
}
