package sockdiag_test

import (
	"fmt"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/sockdiag"
)

// testdata/ was captured from the kernel named in testdata/KERNEL by
// TestCaptureSockDiag (NLKIT_SOCKDIAG_CAPTURE=1), in a namespace holding
// TCP listeners and a connection over IPv4 and IPv6, UDP sockets and
// UNIX sockets:
//
//	tcp.bin, udp.bin   SOCK_DIAG_BY_FAMILY replies, IPv4 then IPv6, with
//	                   INFO, CONG, MEMINFO and SKMEMINFO asked for
//	unix.bin           the UNIX dump (name, peer, queues, vfs, uid, meminfo)
//	ss_*.txt           `ss -H -tan`, `-uan`, `-xan` at the same moment

func captured(t *testing.T, name string) []netlink.Message {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := netlink.ParseMessages(b)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// ssText reads an ss capture: each line's first n fields.
func ssText(t *testing.T, name string, n int) []string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if f := strings.Fields(l); len(f) >= n {
			out = append(out, strings.Join(f[:n], " "))
		}
	}
	sort.Strings(out)
	return out
}

func ssAddr(ap netip.AddrPort, v6only bool) string {
	a := ap.Addr()
	host := a.String()
	switch {
	case a.Is6() && !v6only && a.IsUnspecified():
		host = "*"
	case a.Is6():
		host = "[" + host + "]"
	}
	port := "*"
	if ap.Port() != 0 {
		port = strconv.Itoa(int(ap.Port()))
	}
	return host + ":" + port
}

func TestCapturedInet(t *testing.T) {
	for _, c := range []struct {
		bin, txt string
		proto    sockdiag.Protocol
	}{{"tcp.bin", "ss_tan.txt", sockdiag.ProtocolTCP}, {"udp.bin", "ss_uan.txt", sockdiag.ProtocolUDP}} {
		t.Run(c.bin, func(t *testing.T) {
			var got []string
			for _, m := range captured(t, c.bin) {
				var s sockdiag.InetSocket
				if err := s.UnmarshalBinary(m.Data); err != nil {
					t.Fatal(err)
				}
				got = append(got, fmt.Sprintf("%s %d %d %s %s", s.State, s.RecvQueue, s.SendQueue, ssAddr(s.ID.Local, s.V6Only), ssAddr(s.ID.Remote, s.V6Only)))
				if s.Inode == 0 || s.ID.Cookie == 0 || s.SKMemInfo == nil || s.SKMemInfo.RecvBuf == 0 || s.MemInfo == nil {
					t.Errorf("%s: missing fields: %+v", got[len(got)-1], s)
				}
				if c.proto == sockdiag.ProtocolTCP {
					if s.TCPInfo == nil || s.TCPInfo.State != s.State || s.TCPInfo.Size != 280 || s.Congestion == "" {
						t.Errorf("%s: tcp_info %+v, congestion %q", got[len(got)-1], s.TCPInfo, s.Congestion)
					}
					if s.State == sockdiag.StateEstablished && (s.TCPInfo.RTT <= 0 || s.TCPInfo.SendCwnd == 0 || s.TCPInfo.SendMSS == 0 ||
						s.TCPInfo.Options&sockdiag.OptTimestamps == 0) {
						t.Errorf("%s: implausible tcp_info %+v", got[len(got)-1], s.TCPInfo)
					}
				} else if s.TCPInfo != nil {
					t.Errorf("UDP socket with tcp_info %+v", s.TCPInfo)
				}
			}
			sort.Strings(got)
			if want := ssText(t, c.txt, 5); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("decoded:\n%s\nss printed:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

func TestCapturedUnix(t *testing.T) {
	var got []string
	for _, m := range captured(t, "unix.bin") {
		var s sockdiag.UnixSocket
		if err := s.UnmarshalBinary(m.Data); err != nil {
			t.Fatal(err)
		}
		name := s.Address()
		if name == "" {
			name = "*"
		}
		got = append(got, fmt.Sprintf("%s %s %d %d %s %d * %d", s.Type, s.State, s.RecvQueue, s.SendQueue, name, s.Inode, s.Peer))
		if !s.HasQueues || !s.HasUID || s.MemInfo == nil || (s.Name != "" && !s.Abstract && s.VFS == nil) {
			t.Errorf("%s: missing fields: %+v", got[len(got)-1], s)
		}
	}
	sort.Strings(got)
	if want := ssText(t, "ss_xan.txt", 8); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("decoded:\n%s\nss printed:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
