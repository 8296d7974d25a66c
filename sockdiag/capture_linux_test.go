//go:build linux

package sockdiag_test

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/sockdiag"
)

// TestCaptureSockDiag regenerates testdata/ from this machine's kernel:
// the raw replies of SOCK_DIAG_BY_FAMILY dumps of the sockets
// openSockets makes, and ss's view of them at the same moment. It runs
// only with NLKIT_SOCKDIAG_CAPTURE=1:
//
//	NLKIT_SOCKDIAG_CAPTURE=1 go test -run TestCaptureSockDiag ./sockdiag
func TestCaptureSockDiag(t *testing.T) {
	if os.Getenv("NLKIT_SOCKDIAG_CAPTURE") != "1" {
		t.Skip("set NLKIT_SOCKDIAG_CAPTURE=1 to regenerate testdata/ from this kernel")
	}
	s := openSockets(t)
	c := dial(t, s.cfg)
	dump := func(name string, reqs ...interface{ MarshalBinary() ([]byte, error) }) {
		var raw []byte
		for _, r := range reqs {
			data, err := r.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			for m, err := range c.Conn().Dump(ctxT(t), netlink.Message{Header: netlink.Header{Type: 20}, Data: data}) {
				if err != nil {
					t.Fatal(err)
				}
				if raw, err = m.AppendBinary(raw); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := os.WriteFile(filepath.Join("testdata", name), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ext := sockdiag.ExtInfo | sockdiag.ExtCongestion | sockdiag.ExtSKMemInfo | sockdiag.ExtMemInfo
	dump("tcp.bin",
		sockdiag.InetRequest{Family: sockdiag.FamilyIPv4, Protocol: sockdiag.ProtocolTCP, Extensions: ext},
		sockdiag.InetRequest{Family: sockdiag.FamilyIPv6, Protocol: sockdiag.ProtocolTCP, Extensions: ext})
	dump("udp.bin",
		sockdiag.InetRequest{Family: sockdiag.FamilyIPv4, Protocol: sockdiag.ProtocolUDP, Extensions: ext},
		sockdiag.InetRequest{Family: sockdiag.FamilyIPv6, Protocol: sockdiag.ProtocolUDP, Extensions: ext})
	dump("unix.bin", sockdiag.UnixRequest{Show: sockdiag.ShowDefault | sockdiag.ShowVFS | sockdiag.ShowUID | sockdiag.ShowMemInfo})
	for name, flag := range map[string]string{"ss_tan.txt": "-tan", "ss_uan.txt": "-uan", "ss_xan.txt": "-xan"} {
		if err := os.WriteFile(filepath.Join("testdata", name), s.ns.Exec(t, "ss", "-H", flag), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatal(err)
	}
	kernel := "Linux " + unix.ByteSliceToString(u.Release[:]) + " " + unix.ByteSliceToString(u.Machine[:]) + "\n"
	if err := os.WriteFile(filepath.Join("testdata", "KERNEL"), []byte(kernel), 0o644); err != nil {
		t.Fatal(err)
	}
}
