package netlink_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/nlkit/nlkit/netlink"
)

func TestAckRoundTrip(t *testing.T) {
	req := netlink.Message{
		Header: netlink.Header{Type: 0x10, Flags: netlink.Request | netlink.Acknowledge, Sequence: 77, PID: 4000},
		Data:   []byte("hello"), // odd length: the echo is padded
	}
	reqHdr := req.Header
	reqHdr.Length = 16 + 5
	tests := []struct {
		name      string
		info      netlink.AckInfo
		capped    bool
		wantFlags netlink.HeaderFlags
		wantEcho  bool // the request payload follows its header
	}{
		{
			name:      "ack",
			info:      netlink.AckInfo{Offset: -1},
			capped:    true,
			wantFlags: netlink.Capped,
		},
		{
			name:      "ack asked uncapped is still capped",
			info:      netlink.AckInfo{Offset: -1},
			capped:    false,
			wantFlags: netlink.Capped,
		},
		{
			name:      "ack with warning",
			info:      netlink.AckInfo{Offset: -1, Message: "deprecated attribute"},
			wantFlags: netlink.Capped | netlink.AckTLVs,
		},
		{
			name:     "error with payload",
			info:     netlink.AckInfo{Errno: syscall.ENOENT, Offset: -1},
			wantEcho: true,
		},
		{
			name:      "error capped",
			info:      netlink.AckInfo{Errno: syscall.ENOENT, Offset: -1},
			capped:    true,
			wantFlags: netlink.Capped,
		},
		{
			name: "error with extended ack",
			info: netlink.AckInfo{
				Errno: syscall.EINVAL, Message: "bad thing", Offset: 20,
				MissingType: 3, Cookie: []byte{1, 2, 3, 4, 5, 6, 7, 8},
			},
			wantFlags: netlink.AckTLVs,
			wantEcho:  true,
		},
		{
			name:      "error capped with extended ack",
			info:      netlink.AckInfo{Errno: syscall.EPERM, Message: "no", Offset: 0},
			capped:    true,
			wantFlags: netlink.Capped | netlink.AckTLVs,
		},
		{
			name:      "largest errno",
			info:      netlink.AckInfo{Errno: 4095, Offset: -1},
			capped:    true,
			wantFlags: netlink.Capped,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, flags := netlink.MarshalAck(req, tc.info, tc.capped)
			if flags != tc.wantFlags {
				t.Errorf("flags = %v, want %v", flags, tc.wantFlags)
			}
			// Layout: int32 error, then the request header.
			if got := int32(binary.NativeEndian.Uint32(b)); got != -int32(tc.info.Errno) {
				t.Errorf("error field = %d, want %d", got, -int32(tc.info.Errno))
			}
			if !bytes.Equal(b[4:20], wireHeader(21, 0x10, uint16(req.Header.Flags), 77, 4000)) {
				t.Errorf("echoed header = % x", b[4:20])
			}
			if echoed := len(b) >= 28 && bytes.Equal(b[20:28], []byte("hello\x00\x00\x00")); echoed != tc.wantEcho {
				t.Errorf("request payload echoed: %v, want %v (% x)", echoed, tc.wantEcho, b)
			}
			if flags&netlink.AckTLVs == 0 && len(b) != 20 && !tc.wantEcho {
				t.Errorf("capped error without TLVs is %d bytes, want 20", len(b))
			}

			got, err := netlink.ParseAck(flags, b)
			if err != nil {
				t.Fatalf("ParseAck: %v", err)
			}
			want := tc.info
			want.Request = reqHdr
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("ParseAck =\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

// TestParseAckKernel decodes NLMSG_ERROR payloads laid out as
// net/netlink/af_netlink.c:netlink_ack writes them.
func TestParseAckKernel(t *testing.T) {
	reqHdr := wireHeader(40, 16, 0x405, 1700000000, 0) // RTM_NEWLINK, REQUEST|ACK|CREATE
	reqData := make([]byte, 24)                        // struct ifinfomsg + 8 bytes of attributes

	// EEXIST with the request echoed and an extended-ack message and offset.
	var b []byte
	b = binary.NativeEndian.AppendUint32(b, uint32(0xffffffef)) // -17
	b = append(b, reqHdr...)
	b = append(b, reqData...)
	b = append(b, wireAttr(1, []byte("File exists\x00"))...)
	b = append(b, wireAttr(2, ne32(32))...)
	info, err := netlink.ParseAck(netlink.AckTLVs, b)
	if err != nil {
		t.Fatal(err)
	}
	if info.Errno != syscall.EEXIST || info.Message != "File exists" || info.Offset != 32 ||
		info.Request.Type != 16 || info.Request.Sequence != 1700000000 || info.Request.Length != 40 {
		t.Fatalf("ParseAck = %+v", info)
	}

	// An ack from a kernel older than NLM_F_CAPPED: header only, no flag.
	b = binary.NativeEndian.AppendUint32(nil, 0)
	b = append(b, reqHdr...)
	info, err = netlink.ParseAck(0, b)
	if err != nil || info.Errno != 0 || info.Offset != -1 || info.Request.Sequence != 1700000000 {
		t.Fatalf("ParseAck of a bare ack = %+v, %v", info, err)
	}
}

func TestParseAckMalformed(t *testing.T) {
	hdr := wireHeader(16, 0x10, 5, 1, 2)
	errno := func(v int32) []byte { return binary.NativeEndian.AppendUint32(nil, uint32(v)) }
	join := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	tests := []struct {
		name    string
		flags   netlink.HeaderFlags
		in      []byte
		wantErr error // errAny: some error
	}{
		{name: "empty", in: nil, wantErr: netlink.ErrShortMessage},
		{name: "errno only", in: errno(-2), wantErr: netlink.ErrShortMessage},
		{name: "header cut", in: join(errno(-2), hdr[:15]), wantErr: netlink.ErrShortMessage},
		{name: "positive errno", in: join(errno(1), hdr), wantErr: errAny},
		{name: "errno out of range", in: join(errno(-4096), hdr), wantErr: errAny},
		{name: "most negative errno", in: join(errno(-1<<31), hdr), wantErr: errAny},
		{
			name:  "echoed request longer than the message",
			flags: netlink.AckTLVs, in: join(errno(-22), wireHeader(100, 0x10, 5, 1, 2), wireAttr(1, []byte("x\x00"))),
			wantErr: netlink.ErrBadLength,
		},
		{
			name:  "echoed length below a header",
			flags: netlink.AckTLVs, in: join(errno(-22), wireHeader(3, 0x10, 5, 1, 2)),
			wantErr: netlink.ErrBadLength,
		},
		{
			name:  "truncated TLV",
			flags: netlink.Capped | netlink.AckTLVs, in: join(errno(-22), hdr, []byte{12, 0, 1, 0, 'a'}),
			wantErr: netlink.ErrAttribute,
		},
		{
			name:  "offset of wrong size",
			flags: netlink.Capped | netlink.AckTLVs, in: join(errno(-22), hdr, wireAttr(2, []byte{1, 2})),
			wantErr: netlink.ErrAttribute,
		},
		{
			name:  "missing type of wrong size",
			flags: netlink.Capped | netlink.AckTLVs, in: join(errno(-22), hdr, wireAttr(5, []byte{1})),
			wantErr: netlink.ErrAttribute,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info, err := netlink.ParseAck(tc.flags, tc.in)
			checkErr(t, err, tc.wantErr)
			if info.Offset != -1 && tc.wantErr != netlink.ErrAttribute {
				t.Errorf("Offset = %d on error, want -1", info.Offset)
			}
		})
	}

	// Without NLM_F_ACK_TLVS an echo that does not fit is tolerated: old
	// kernels echo only the header and leave the length as sent.
	info, err := netlink.ParseAck(0, join(errno(-22), wireHeader(100, 0x10, 5, 1, 2), []byte("abcd")))
	if err != nil || info.Errno != syscall.EINVAL || info.Request.Length != 100 {
		t.Fatalf("lenient ParseAck = %+v, %v", info, err)
	}
}

func TestOpError(t *testing.T) {
	tests := []struct {
		name string
		err  *netlink.OpError
		want string
	}{
		{
			name: "bare",
			err:  &netlink.OpError{Op: "receive", Err: syscall.ENOBUFS, Offset: -1},
			want: "netlink receive: no buffer space available",
		},
		{
			name: "kernel error with everything",
			err: &netlink.OpError{
				Op: "execute", Err: syscall.EINVAL, Message: "bad name", Offset: 24, Sequence: 9, MissingType: 3,
			},
			want: "netlink execute: invalid argument: bad name (missing attribute type 3) (at offset 24)",
		},
		{
			name: "offset zero is an offset",
			err:  &netlink.OpError{Op: "dump", Err: syscall.ENOENT, Offset: 0},
			want: "netlink dump: no such file or directory (at offset 0)",
		},
		{
			name: "nil",
			err:  nil,
			want: "<nil>",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestOpErrorIs(t *testing.T) {
	var err error = &netlink.OpError{Op: "execute", Err: syscall.ENOENT, Offset: -1}
	if !errors.Is(err, syscall.ENOENT) {
		t.Error("errors.Is(OpError{ENOENT}, syscall.ENOENT) = false")
	}
	if errors.Is(err, syscall.EEXIST) {
		t.Error("errors.Is(OpError{ENOENT}, syscall.EEXIST) = true")
	}
	if !errors.Is(err, os.ErrNotExist) {
		t.Error("errors.Is(OpError{ENOENT}, os.ErrNotExist) = false")
	}
	var oe *netlink.OpError
	if !errors.As(err, &oe) || oe.Op != "execute" {
		t.Error("errors.As to *OpError failed")
	}

	if !errors.Is(netlink.ErrOverrun, syscall.ENOBUFS) {
		t.Error("errors.Is(ErrOverrun, syscall.ENOBUFS) = false")
	}
	if errors.Is(netlink.ErrOverrun, syscall.ENOMEM) {
		t.Error("errors.Is(ErrOverrun, syscall.ENOMEM) = true")
	}
	wrapped := &netlink.OpError{Op: "receive", Err: netlink.ErrOverrun, Offset: -1}
	if !errors.Is(wrapped, netlink.ErrOverrun) || !errors.Is(wrapped, syscall.ENOBUFS) {
		t.Error("OpError{ErrOverrun} matches neither ErrOverrun nor ENOBUFS")
	}
	if !strings.Contains(netlink.ErrOverrun.Error(), "ENOBUFS") {
		t.Errorf("ErrOverrun text %q does not mention ENOBUFS", netlink.ErrOverrun)
	}
}

func TestOpErrorTimeout(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{os.ErrDeadlineExceeded, true},
		{context.DeadlineExceeded, true},
		{&os.SyscallError{Syscall: "recvmsg", Err: syscall.ETIMEDOUT}, true},
		{syscall.EAGAIN, true}, // syscall.Errno's own Timeout
		{context.Canceled, false},
		{syscall.ENOENT, false},
		{errors.New("plain"), false},
	}
	for _, tc := range tests {
		oe := &netlink.OpError{Op: "receive", Err: tc.err, Offset: -1}
		if got := oe.Timeout(); got != tc.want {
			t.Errorf("OpError{%v}.Timeout() = %v, want %v", tc.err, got, tc.want)
		}
	}
}
