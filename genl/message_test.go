package genl

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/nlkit/nlkit/netlink"
)

func TestHeaderRoundTrip(t *testing.T) {
	tests := []Header{{}, {Command: 3, Version: 2}, {Command: 0xff, Version: 0xff, Reserved: 0xbeef}}
	for _, h := range tests {
		b, err := h.MarshalBinary()
		if err != nil || len(b) != HeaderLen {
			t.Fatalf("%+v: %x %v", h, b, err)
		}
		if b[0] != h.Command || b[1] != h.Version {
			t.Fatalf("%+v encoded as %x: cmd and version must be the first two bytes", h, b)
		}
		var out Header
		if err := out.UnmarshalBinary(b); err != nil || out != h {
			t.Fatalf("round trip %+v: got %+v %v", h, out, err)
		}
	}
	var h Header
	for _, n := range []int{0, 3, 5} {
		if err := h.UnmarshalBinary(make([]byte, n)); err == nil {
			t.Errorf("%d-byte header accepted", n)
		}
	}
}

func TestMessageRoundTrip(t *testing.T) {
	tests := []Message{
		{Header: Header{Command: 1, Version: 1}},
		{Header: Header{Command: 3, Version: 2}, Data: []byte{10, 0, 2, 0, 'n', 'l', 'c', 't', 'r', 'l', 0, 0}},
	}
	for _, m := range tests {
		b, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != HeaderLen+len(m.Data) {
			t.Fatalf("%d bytes for %d of data", len(b), len(m.Data))
		}
		var out Message
		if err := out.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		if out.Header != m.Header || !bytes.Equal(out.Data, m.Data) {
			t.Fatalf("round trip: got %+v want %+v", out, m)
		}
	}
	var m Message
	for _, n := range []int{0, 1, 3} {
		err := m.UnmarshalBinary(make([]byte, n))
		if !errors.Is(err, ErrShortMessage) {
			t.Errorf("%d bytes: got %v, want ErrShortMessage", n, err)
		}
	}
}

func TestParseMessage(t *testing.T) {
	nl := netlink.Message{
		Header: netlink.Header{Type: 0x1a, Flags: netlink.Multi, Sequence: 7, PID: 9},
		Data:   []byte{2, 1, 0, 0, 8, 0, 1, 0, 1, 2, 3, 4},
	}
	m, err := ParseMessage(nl)
	if err != nil {
		t.Fatal(err)
	}
	want := Message{Header: Header{Command: 2, Version: 1}, Data: nl.Data[4:], Netlink: nl.Header}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("got %+v want %+v", m, want)
	}
	// Appending to Data must not write into the buffer it came from.
	_ = append(m.Data, 0xff)
	if len(nl.Data) != 12 {
		t.Fatal("length changed")
	}
	if _, err := ParseMessage(netlink.Message{Data: []byte{1, 2}}); !errors.Is(err, ErrShortMessage) {
		t.Fatalf("short payload: %v", err)
	}
}
