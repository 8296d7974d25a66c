package netlink_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/nlkit/nlkit/netlink"
)

// wireHeader encodes a struct nlmsghdr field by field, independently of
// the package's encoder, to check field order and sizes.
func wireHeader(length uint32, typ, flags uint16, seq, pid uint32) []byte {
	b := binary.NativeEndian.AppendUint32(nil, length)
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = binary.NativeEndian.AppendUint16(b, flags)
	b = binary.NativeEndian.AppendUint32(b, seq)
	return binary.NativeEndian.AppendUint32(b, pid)
}

// wireMessage is a whole message on the wire: header, data, zero padding.
func wireMessage(typ, flags uint16, seq, pid uint32, data []byte) []byte {
	b := wireHeader(uint32(16+len(data)), typ, flags, seq, pid)
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func TestAlign(t *testing.T) {
	for _, tc := range []struct{ in, want int }{
		{0, 0}, {1, 4}, {2, 4}, {3, 4}, {4, 4}, {5, 8}, {16, 16}, {17, 20}, {65535, 65536},
	} {
		if got := netlink.Align(tc.in); got != tc.want {
			t.Errorf("Align(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestMessageMarshalRoundTrip(t *testing.T) {
	hdr := netlink.Header{
		Type:     netlink.MinType + 2,
		Flags:    netlink.Request | netlink.Acknowledge | netlink.Create,
		Sequence: 0x01020304,
		PID:      0xa0b0c0d,
	}
	tests := []struct {
		name    string
		data    []byte
		length  uint32 // Header.Length set by the caller: ignored
		wantLen int    // encoded size, with padding
	}{
		{name: "no payload", data: nil, wantLen: 16},
		{name: "one byte", data: []byte{0xff}, wantLen: 20},
		{name: "three bytes", data: []byte("abc"), wantLen: 20},
		{name: "aligned", data: []byte("abcd"), wantLen: 20},
		{name: "five bytes", data: []byte("abcde"), wantLen: 24},
		{name: "wrong length ignored", data: []byte("xy"), length: 999, wantLen: 20},
		{name: "length too small ignored", data: []byte("hello world"), length: 3, wantLen: 28},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := hdr
			h.Length = tc.length
			m := netlink.Message{Header: h, Data: tc.data}
			b, err := m.MarshalBinary()
			if err != nil {
				t.Fatalf("MarshalBinary: %v", err)
			}
			want := wireMessage(uint16(h.Type), uint16(h.Flags), h.Sequence, h.PID, tc.data)
			if len(b) != tc.wantLen || !bytes.Equal(b, want) {
				t.Fatalf("MarshalBinary =\n% x\nwant (%d bytes)\n% x", b, tc.wantLen, want)
			}

			// AppendBinary appends after what is there.
			prefix := []byte{1, 2, 3, 4}
			ab, err := m.AppendBinary(append([]byte(nil), prefix...))
			if err != nil {
				t.Fatalf("AppendBinary: %v", err)
			}
			if !bytes.Equal(ab[:4], prefix) || !bytes.Equal(ab[4:], want) {
				t.Fatalf("AppendBinary = % x, want prefix then % x", ab, want)
			}

			var got netlink.Message
			if err := got.UnmarshalBinary(b); err != nil {
				t.Fatalf("UnmarshalBinary: %v", err)
			}
			wantHdr := h
			wantHdr.Length = uint32(16 + len(tc.data))
			if got.Header != wantHdr {
				t.Errorf("header = %+v, want %+v", got.Header, wantHdr)
			}
			if !bytes.Equal(got.Data, tc.data) {
				t.Errorf("data = %q, want %q", got.Data, tc.data)
			}
		})
	}
}

func TestMessageUnmarshal(t *testing.T) {
	good := wireMessage(0x10, 1, 7, 8, []byte("a")) // 17 bytes + 3 padding
	tests := []struct {
		name     string
		in       []byte
		wantErr  error // nil: success; errAny: any error
		wantData string
	}{
		{name: "with padding", in: good, wantData: "a"},
		{name: "without padding", in: good[:17], wantData: "a"},
		{name: "partial padding", in: good[:18], wantData: "a"},
		{name: "empty", in: nil, wantErr: netlink.ErrShortMessage},
		{name: "short header", in: good[:15], wantErr: netlink.ErrShortMessage},
		{name: "length below header", in: wireHeader(15, 0x10, 0, 0, 0), wantErr: netlink.ErrBadLength},
		{name: "zero length", in: wireHeader(0, 0x10, 0, 0, 0), wantErr: netlink.ErrBadLength},
		{name: "length beyond buffer", in: good[:16], wantErr: netlink.ErrBadLength},
		{name: "trailing bytes", in: append(append([]byte(nil), good...), 0, 0, 0, 0), wantErr: errAny},
		{name: "two messages", in: append(append([]byte(nil), good...), good...), wantErr: errAny},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var m netlink.Message
			err := m.UnmarshalBinary(tc.in)
			checkErr(t, err, tc.wantErr)
			if tc.wantErr == nil && string(m.Data) != tc.wantData {
				t.Errorf("data = %q, want %q", m.Data, tc.wantData)
			}
		})
	}
}

// errAny in a table means "some error, whichever".
var errAny = errors.New("any error")

func checkErr(t *testing.T, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want == errAny && err == nil:
		t.Fatalf("no error, want one")
	case want != nil && want != errAny && !errors.Is(err, want):
		t.Fatalf("error = %v, want %v", err, want)
	}
}

func TestParser(t *testing.T) {
	var buf []byte
	datas := [][]byte{nil, []byte("x"), []byte("four"), []byte("seven!!")}
	var offsets []int
	for i, d := range datas {
		offsets = append(offsets, len(buf)+16)
		buf = append(buf, wireMessage(uint16(0x10+i), uint16(netlink.Multi), uint32(100+i), 42, d)...)
	}
	buf = buf[:len(buf)-1] // the last message without its padding byte

	var p netlink.Parser
	p.Reset(buf)
	var n int
	for p.Next() {
		m := p.Message()
		if n >= len(datas) {
			t.Fatalf("extra message %+v", m)
		}
		want := netlink.Header{
			Length: uint32(16 + len(datas[n])), Type: netlink.HeaderType(0x10 + n),
			Flags: netlink.Multi, Sequence: uint32(100 + n), PID: 42,
		}
		if m.Header != want {
			t.Errorf("message %d header = %+v, want %+v", n, m.Header, want)
		}
		if !bytes.Equal(m.Data, datas[n]) {
			t.Errorf("message %d data = %q, want %q", n, m.Data, datas[n])
		}
		if len(m.Data) > 0 {
			// Zero copy: Data is the buffer itself...
			if &m.Data[0] != &buf[offsets[n]] {
				t.Errorf("message %d data does not alias the buffer", n)
			}
			// ...but capped, so appending cannot overwrite the next message.
			if cap(m.Data) != len(m.Data) {
				t.Errorf("message %d data cap = %d, want %d", n, cap(m.Data), len(m.Data))
			}
		}
		n++
	}
	if err := p.Err(); err != nil {
		t.Fatalf("Err = %v", err)
	}
	if n != len(datas) {
		t.Fatalf("parsed %d messages, want %d", n, len(datas))
	}
	if p.Next() {
		t.Fatal("Next after the end returned true")
	}

	// Reset starts over and clears state.
	p.Reset(buf[:4])
	if p.Next() || !errors.Is(p.Err(), netlink.ErrShortMessage) {
		t.Fatalf("after Reset on 4 bytes: Err = %v, want ErrShortMessage", p.Err())
	}
	p.Reset(buf)
	if !p.Next() || p.Err() != nil {
		t.Fatalf("after Reset: Next false, Err = %v", p.Err())
	}
}

func TestParserMalformed(t *testing.T) {
	good := wireMessage(0x10, 0, 1, 0, []byte("ok"))
	join := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	tests := []struct {
		name    string
		in      []byte
		wantN   int // messages parsed before the error
		wantErr error
	}{
		{name: "empty", in: nil, wantN: 0},
		{name: "short header", in: good[:10], wantErr: netlink.ErrShortMessage},
		{name: "good then short", in: join(good, good[:8]), wantN: 1, wantErr: netlink.ErrShortMessage},
		{name: "length below header", in: join(good, wireHeader(12, 0x10, 0, 0, 0)), wantN: 1, wantErr: netlink.ErrBadLength},
		{name: "zero length", in: wireHeader(0, 0x10, 0, 0, 0), wantErr: netlink.ErrBadLength},
		{name: "length beyond buffer", in: join(good, wireHeader(64, 0x10, 0, 0, 0), make([]byte, 8)), wantN: 1, wantErr: netlink.ErrBadLength},
		{name: "huge length", in: wireHeader(0xffffffff, 0x10, 0, 0, 0), wantErr: netlink.ErrBadLength},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p netlink.Parser
			p.Reset(tc.in)
			n := 0
			for p.Next() {
				n++
			}
			if n != tc.wantN {
				t.Errorf("parsed %d messages, want %d", n, tc.wantN)
			}
			checkErr(t, p.Err(), tc.wantErr)
			if p.Next() {
				t.Error("Next returned true after an error")
			}

			msgs, err := netlink.ParseMessages(tc.in)
			if len(msgs) != tc.wantN {
				t.Errorf("ParseMessages returned %d messages, want %d", len(msgs), tc.wantN)
			}
			checkErr(t, err, tc.wantErr)
		})
	}
}

func TestParseMessages(t *testing.T) {
	buf := bytes.Join([][]byte{
		wireMessage(0x10, uint16(netlink.Multi), 5, 9, []byte("first")),
		wireMessage(0x11, uint16(netlink.Multi), 5, 9, nil),
		wireMessage(uint16(netlink.Done), uint16(netlink.Multi), 5, 9, []byte{0, 0, 0, 0}),
	}, nil)
	msgs, err := netlink.ParseMessages(buf)
	if err != nil {
		t.Fatal(err)
	}
	wantTypes := []netlink.HeaderType{0x10, 0x11, netlink.Done}
	if len(msgs) != len(wantTypes) {
		t.Fatalf("got %d messages, want %d", len(msgs), len(wantTypes))
	}
	for i, m := range msgs {
		if m.Header.Type != wantTypes[i] || m.Header.Sequence != 5 || m.Header.PID != 9 {
			t.Errorf("message %d = %+v", i, m.Header)
		}
	}
	if string(msgs[0].Data) != "first" || len(msgs[1].Data) != 0 || len(msgs[2].Data) != 4 {
		t.Errorf("payloads = %q %q %q", msgs[0].Data, msgs[1].Data, msgs[2].Data)
	}
	buf[16] = 'F'
	if string(msgs[0].Data) != "First" {
		t.Errorf("payload does not alias the buffer: %q", msgs[0].Data)
	}
}

func TestHeaderTypeString(t *testing.T) {
	for _, tc := range []struct {
		t    netlink.HeaderType
		want string
	}{
		{netlink.Noop, "noop"}, {netlink.Error, "error"}, {netlink.Done, "done"},
		{netlink.Overrun, "overrun"}, {0, "0x0"}, {netlink.MinType, "0x10"}, {0xffff, "0xffff"},
	} {
		if got := tc.t.String(); got != tc.want {
			t.Errorf("HeaderType(%d).String() = %q, want %q", uint16(tc.t), got, tc.want)
		}
	}
}

func TestHeaderFlagsString(t *testing.T) {
	for _, tc := range []struct {
		f    netlink.HeaderFlags
		want string
	}{
		{0, "0"},
		{netlink.Request, "request"},
		{netlink.Request | netlink.Acknowledge, "request|ack"},
		{netlink.Multi | netlink.DumpIntr | netlink.DumpFiltered, "multi|dump-intr|dump-filtered"},
		{netlink.Echo, "echo"},
		{netlink.Request | netlink.Dump, "request|0x300"},
		{netlink.Create | netlink.Excl, "0x600"},
		{0xffff, "request|multi|ack|echo|dump-intr|dump-filtered|0xffc0"},
	} {
		if got := tc.f.String(); got != tc.want {
			t.Errorf("HeaderFlags(%#x).String() = %q, want %q", uint16(tc.f), got, tc.want)
		}
	}
}

func TestFlagValues(t *testing.T) {
	// The kernel's values (include/uapi/linux/netlink.h).
	for _, tc := range []struct {
		name string
		got  netlink.HeaderFlags
		want uint16
	}{
		{"NLM_F_REQUEST", netlink.Request, 1}, {"NLM_F_MULTI", netlink.Multi, 2},
		{"NLM_F_ACK", netlink.Acknowledge, 4}, {"NLM_F_ECHO", netlink.Echo, 8},
		{"NLM_F_DUMP_INTR", netlink.DumpIntr, 0x10}, {"NLM_F_DUMP_FILTERED", netlink.DumpFiltered, 0x20},
		{"NLM_F_ROOT", netlink.Root, 0x100}, {"NLM_F_MATCH", netlink.Match, 0x200},
		{"NLM_F_ATOMIC", netlink.Atomic, 0x400}, {"NLM_F_DUMP", netlink.Dump, 0x300},
		{"NLM_F_REPLACE", netlink.Replace, 0x100}, {"NLM_F_EXCL", netlink.Excl, 0x200},
		{"NLM_F_CREATE", netlink.Create, 0x400}, {"NLM_F_APPEND", netlink.Append, 0x800},
		{"NLM_F_NONREC", netlink.NonRecursive, 0x100}, {"NLM_F_BULK", netlink.Bulk, 0x200},
		{"NLM_F_CAPPED", netlink.Capped, 0x100}, {"NLM_F_ACK_TLVS", netlink.AckTLVs, 0x200},
	} {
		if uint16(tc.got) != tc.want {
			t.Errorf("%s = %#x, want %#x", tc.name, uint16(tc.got), tc.want)
		}
	}
}
