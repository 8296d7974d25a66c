//go:build linux

package netlink

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"
)

func ucredBytes(pid int32, uid, gid uint32) []byte {
	b := binary.NativeEndian.AppendUint32(nil, uint32(pid))
	b = binary.NativeEndian.AppendUint32(b, uid)
	return binary.NativeEndian.AppendUint32(b, gid)
}

func TestParseControlCredentials(t *testing.T) {
	creds := cmsg(solSocket, unix.SCM_CREDENTIALS, ucredBytes(1234, 1000, 100))
	nsid := cmsg(solNetlink, int32(ListenAllNSID), binary.NativeEndian.AppendUint32(nil, 3))
	want := Ucred{PID: 1234, UID: 1000, GID: 100}
	tests := []struct {
		name string
		in   []byte
		want Addr
	}{
		{"credentials", creds, Addr{Creds: want, HasCreds: true}},
		{"kernel", cmsg(solSocket, unix.SCM_CREDENTIALS, ucredBytes(0, 0, 0)), Addr{HasCreds: true}},
		{"with nsid after", append(append([]byte(nil), creds...), nsid...), Addr{Creds: want, HasCreds: true, NSID: 3, HasNSID: true}},
		{"with nsid before", append(append([]byte(nil), nsid...), creds...), Addr{Creds: want, HasCreds: true, NSID: 3, HasNSID: true}},
		{"short", cmsg(solSocket, unix.SCM_CREDENTIALS, ucredBytes(1, 2, 3)[:8]), Addr{}},
		{"wrong level", cmsg(solNetlink, unix.SCM_CREDENTIALS, ucredBytes(1, 2, 3)), Addr{}},
		{"rights, not credentials", cmsg(solSocket, unix.SCM_RIGHTS, ucredBytes(1, 2, 3)), Addr{}},
	}
	for _, tc := range tests {
		var got Addr
		parseControl(aligned(tc.in), &got)
		if got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
