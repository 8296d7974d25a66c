package sockdiag

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/nlkit/nlkit/netlink"
)

func TestUnixRequestMarshal(t *testing.T) {
	tests := []struct {
		name string
		req  UnixRequest
		want []byte
	}{
		{"defaults: all states, ss's attributes", UnixRequest{},
			cat([]byte{1, 0, 0, 0}, u32(0xffe), u32(0), u32(0x15), u32(0xffffffff), u32(0xffffffff))},
		{"listeners with everything", UnixRequest{States: States(StateListen), Show: ShowName | ShowVFS | ShowPeer | ShowIcons | ShowRQLen | ShowMemInfo | ShowUID},
			cat([]byte{1, 0, 0, 0}, u32(1<<10), u32(0), u32(0x7f), u32(0xffffffff), u32(0xffffffff))},
		{"one socket", UnixRequest{Inode: 4242, Cookie: 0x100000002, Show: ShowName},
			cat([]byte{1, 0, 0, 0}, u32(0xffe), u32(4242), u32(1), u32(2), u32(1))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.req.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, tt.want) {
				t.Fatalf("got\n % x\nwant\n % x", b, tt.want)
			}
			var back UnixRequest
			if err := back.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			if tt.req.Inode != back.Inode || (tt.req.Cookie != 0 && tt.req.Cookie != back.Cookie) {
				t.Fatalf("decoded %+v", back)
			}
		})
	}
	var r UnixRequest
	if err := r.UnmarshalBinary(make([]byte, 23)); !errors.Is(err, netlink.ErrShortMessage) {
		t.Fatalf("short request: %v", err)
	}
}

// unixMsg builds a struct unix_diag_msg by hand.
func unixMsg(typ, state uint8, ino uint32, cookie uint64, attrs ...[]byte) []byte {
	return cat([]byte{1, typ, state, 0}, u32(ino), u32(uint32(cookie)), u32(uint32(cookie>>32)), cat(attrs...))
}

func TestUnixSocketUnmarshal(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want UnixSocket
		addr string
	}{
		{"listening on a path", unixMsg(1, 10, 100, 7,
			attr(unixDiagName, []byte("/run/x.sock\x00")),
			attr(unixDiagVFS, cat(u32(555), u32(0xfd00))),
			attr(unixDiagIcons, cat(u32(201), u32(202))),
			attr(unixDiagRQLen, cat(u32(2), u32(128))),
			attr(unixDiagShutdown, []byte{0}),
			attr(unixDiagUID, u32(1000))),
			UnixSocket{Type: UnixStream, State: StateListen, Inode: 100, Cookie: 7, Name: "/run/x.sock",
				VFS: &UnixVFS{Inode: 555, Device: 0xfd00}, Pending: []uint32{201, 202},
				RecvQueue: 2, SendQueue: 128, HasQueues: true, UID: 1000, HasUID: true}, "/run/x.sock"},
		{"abstract, connected", unixMsg(2, 1, 101, 8,
			attr(unixDiagName, []byte("\x00abs\x00tract")),
			attr(unixDiagPeer, u32(102)),
			attr(unixDiagMemInfo, cat(u32(0), u32(212992), u32(0), u32(212992), u32(0), u32(0), u32(0), u32(0), u32(3)))),
			UnixSocket{Type: UnixDgram, State: StateEstablished, Inode: 101, Cookie: 8, Name: "abs\x00tract", Abstract: true,
				Peer: 102, MemInfo: &SKMemInfo{RecvBuf: 212992, SendBuf: 212992, Drops: 3}}, "@abs\x00tract"},
		{"unbound seqpacket", unixMsg(5, 7, 103, 9),
			UnixSocket{Type: UnixSeqPacket, State: StateClose, Inode: 103, Cookie: 9}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got UnixSocket
			if err := got.UnmarshalBinary(tt.in); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
			if a := got.Address(); a != tt.addr {
				t.Fatalf("Address() = %q, want %q", a, tt.addr)
			}
			enc, err := got.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var again UnixSocket
			if err := again.UnmarshalBinary(enc); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(again, got) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", again, got)
			}
		})
	}
}

func TestUnixSocketUnmarshalErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"short", make([]byte, 15)},
		{"inet family", cat([]byte{2, 1, 1, 0}, make([]byte, 12))},
		{"vfs cut", unixMsg(1, 1, 1, 1, attr(unixDiagVFS, u32(1)))},
		{"icons not a multiple of 4", unixMsg(1, 1, 1, 1, attr(unixDiagIcons, []byte{1, 2, 3}))},
		{"rqlen cut", unixMsg(1, 1, 1, 1, attr(unixDiagRQLen, u32(1)))},
		{"peer of 2 bytes", unixMsg(1, 1, 1, 1, attr(unixDiagPeer, u16(1)))},
		{"attribute past the end", unixMsg(1, 1, 1, 1, []byte{12, 0, 2, 0, 1, 0, 0, 0})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s UnixSocket
			err := s.UnmarshalBinary(tt.in)
			if err == nil || !strings.HasPrefix(err.Error(), "sockdiag: decode unix socket") {
				t.Fatalf("error %v, want one saying what was decoded", err)
			}
		})
	}
	if _, err := (UnixSocket{Name: "a\x00b"}).MarshalBinary(); err == nil {
		t.Fatal("a path with a NUL encoded")
	}
}
