//go:build linux

package sockdiag_test

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nlkit/nlkit/internal/nstest"
	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/sockdiag"
)

// sockets are the test's own sockets, opened inside a namespace.
type sockets struct {
	ns             *nstest.NS
	cfg            *netlink.Config
	ln4, ln6       net.Listener
	c4, s4, c6, s6 net.Conn
	udp4, udp6     *net.UDPConn // unconnected
	udpc           net.Conn     // connected to udp4
	uln            net.Listener
	uc, us         net.Conn
	uabs           *net.UnixConn
	upath, uname   string
}

// openSockets opens, inside a fresh namespace, TCP listeners and a
// connection over IPv4 and IPv6, UDP sockets and UNIX sockets. Sockets
// are created on a thread inside the namespace (netlink.RunInNetNS), so
// they belong to it; using them afterwards needs no namespace.
func openSockets(t *testing.T) *sockets {
	t.Helper()
	ns := nstest.New(t)
	s := &sockets{ns: ns, cfg: &netlink.Config{NetNS: ns.Name}}
	s.upath = filepath.Join(t.TempDir(), "nlkit.sock")
	s.uname = fmt.Sprintf("nlkit-test-%d-%s", os.Getpid(), filepath.Base(t.TempDir()))
	err := netlink.RunInNetNS(s.cfg, func() error {
		var err error
		if s.ln4, err = net.Listen("tcp4", "127.0.0.1:0"); err != nil {
			return err
		}
		if s.ln6, err = net.Listen("tcp6", "[::1]:0"); err != nil {
			return err
		}
		if s.c4, err = net.Dial("tcp4", s.ln4.Addr().String()); err != nil {
			return err
		}
		if s.s4, err = s.ln4.Accept(); err != nil {
			return err
		}
		if s.c6, err = net.Dial("tcp6", s.ln6.Addr().String()); err != nil {
			return err
		}
		if s.s6, err = s.ln6.Accept(); err != nil {
			return err
		}
		if s.udp4, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
			return err
		}
		if s.udp6, err = net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback}); err != nil {
			return err
		}
		if s.udpc, err = net.Dial("udp4", s.udp4.LocalAddr().String()); err != nil {
			return err
		}
		if s.uln, err = net.Listen("unix", s.upath); err != nil {
			return err
		}
		if s.uc, err = net.Dial("unix", s.upath); err != nil {
			return err
		}
		if s.us, err = s.uln.Accept(); err != nil {
			return err
		}
		s.uabs, err = net.ListenUnixgram("unixgram", &net.UnixAddr{Name: "@" + s.uname, Net: "unixgram"})
		return err
	})
	t.Cleanup(func() {
		for _, c := range []io.Closer{s.ln4, s.ln6, s.c4, s.s4, s.c6, s.s6, s.udp4, s.udp6, s.udpc, s.uln, s.uc, s.us, s.uabs} {
			if c != nil && !reflectNil(c) {
				c.Close()
			}
		}
	})
	if err != nil {
		t.Fatalf("open sockets in %s: %v", ns.Name, err)
	}
	return s
}

func reflectNil(c io.Closer) bool {
	switch v := c.(type) {
	case *net.UDPConn:
		return v == nil
	case *net.UnixConn:
		return v == nil
	}
	return false
}

func addrPort(a net.Addr) netip.AddrPort {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.AddrPort()
	case *net.UDPAddr:
		return a.AddrPort()
	}
	panic(fmt.Sprintf("address %T", a))
}

func dial(t *testing.T, cfg *netlink.Config) *sockdiag.Client {
	t.Helper()
	c, err := sockdiag.Dial(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func list(t *testing.T, c *sockdiag.Client, f sockdiag.Family, p sockdiag.Protocol, ext sockdiag.Extensions) []*sockdiag.InetSocket {
	t.Helper()
	socks, err := c.ListInetSockets(ctxT(t), sockdiag.InetRequest{Family: f, Protocol: p, Extensions: ext})
	if err != nil {
		t.Fatal(err)
	}
	return socks
}

// byLocal finds the socket with local address l and remote r.
func byLocal(socks []*sockdiag.InetSocket, l, r netip.AddrPort) *sockdiag.InetSocket {
	for _, s := range socks {
		if s.ID.Local == l && (!r.IsValid() || s.ID.Remote == r) {
			return s
		}
	}
	return nil
}

func TestKernelInetSockets(t *testing.T) {
	s := openSockets(t)
	c := dial(t, s.cfg)
	for _, v := range []struct {
		name           string
		family         sockdiag.Family
		ln             net.Listener
		client, server net.Conn
	}{
		{"IPv4", sockdiag.FamilyIPv4, s.ln4, s.c4, s.s4},
		{"IPv6", sockdiag.FamilyIPv6, s.ln6, s.c6, s.s6},
	} {
		t.Run(v.name, func(t *testing.T) {
			socks := list(t, c, v.family, sockdiag.ProtocolTCP, sockdiag.ExtInfo|sockdiag.ExtCongestion|sockdiag.ExtSKMemInfo)
			if len(socks) != 3 {
				t.Fatalf("%d sockets, want the listener and both ends of the connection: %+v", len(socks), socks)
			}
			ln := byLocal(socks, addrPort(v.ln.Addr()), netip.AddrPort{})
			if ln == nil || ln.State != sockdiag.StateListen || ln.Protocol != sockdiag.ProtocolTCP || ln.Family != v.family ||
				ln.ID.Remote.Port() != 0 || ln.SendQueue == 0 || ln.Inode == 0 || ln.UID != 0 {
				t.Errorf("listener %+v", ln)
			}
			cl := byLocal(socks, addrPort(v.client.LocalAddr()), addrPort(v.client.RemoteAddr()))
			sv := byLocal(socks, addrPort(v.server.LocalAddr()), addrPort(v.server.RemoteAddr()))
			for _, e := range []*sockdiag.InetSocket{cl, sv} {
				if e == nil || e.State != sockdiag.StateEstablished || e.TCPInfo == nil || e.TCPInfo.State != sockdiag.StateEstablished ||
					e.Congestion == "" || e.SKMemInfo == nil || e.SKMemInfo.RecvBuf == 0 || e.ID.Cookie == 0 {
					t.Fatalf("connection end %+v", e)
				}
			}
			if cl.ID.Cookie == sv.ID.Cookie || cl.Inode == sv.Inode {
				t.Errorf("both ends have cookie %d, inode %d", cl.ID.Cookie, cl.Inode)
			}
			if v.family == sockdiag.FamilyIPv6 && !ln.V6Only {
				t.Errorf("a listener bound to ::1 is not IPv6-only (the kernel sets it for a specific address)")
			}
			// tcp_info as the kernel gives it through getsockopt(TCP_INFO)
			// agrees with INET_DIAG_INFO on what does not change.
			own := tcpInfo(t, v.client)
			got := cl.TCPInfo
			if got.Options != sockdiag.TCPOptions(own.Options) || got.SendMSS != own.Snd_mss || got.AdvMSS != own.Advmss ||
				got.PMTU != own.Pmtu || got.Size != unix.SizeofTCPInfo || got.SendCwnd != own.Snd_cwnd {
				t.Errorf("INET_DIAG_INFO %+v\ndisagrees with TCP_INFO %+v", got, own)
			}
			// The exact lookup finds the same socket.
			one, err := c.InetSocket(ctxT(t), sockdiag.InetRequest{Family: v.family, Protocol: sockdiag.ProtocolTCP, ID: cl.ID})
			if err != nil || one.ID.Cookie != cl.ID.Cookie || one.Inode != cl.Inode {
				t.Errorf("InetSocket(%v): %+v, %v", cl.ID, one, err)
			}
		})
	}
	// Kernel-side state filter.
	listening, err := c.ListInetSockets(ctxT(t), sockdiag.InetRequest{Family: sockdiag.FamilyIPv4, Protocol: sockdiag.ProtocolTCP,
		States: sockdiag.States(sockdiag.StateListen)})
	if err != nil || len(listening) != 1 || listening[0].ID.Local != addrPort(s.ln4.Addr()) {
		t.Errorf("listening IPv4 TCP: %+v, %v", listening, err)
	}
	// UDP: an unconnected socket is UNCONN, a connected one ESTAB.
	udp := list(t, c, sockdiag.FamilyIPv4, sockdiag.ProtocolUDP, 0)
	if u := byLocal(udp, addrPort(s.udp4.LocalAddr()), netip.AddrPort{}); u == nil || u.State != sockdiag.StateClose || u.Protocol != sockdiag.ProtocolUDP {
		t.Errorf("unconnected UDP socket: %+v", u)
	}
	if u := byLocal(udp, addrPort(s.udpc.LocalAddr()), addrPort(s.udpc.RemoteAddr())); u == nil || u.State != sockdiag.StateEstablished {
		t.Errorf("connected UDP socket: %+v", u)
	}
	udp6 := list(t, c, sockdiag.FamilyIPv6, sockdiag.ProtocolUDP, 0)
	if len(udp6) != 1 || udp6[0].ID.Local != addrPort(s.udp6.LocalAddr()) {
		t.Errorf("IPv6 UDP: %+v", udp6)
	}
	// This kernel has no raw sock_diag handler (CONFIG_INET_RAW_DIAG).
	_, err = c.ListInetSockets(ctxT(t), sockdiag.InetRequest{Family: sockdiag.FamilyIPv4, Protocol: sockdiag.ProtocolRaw})
	if kernelConfig(t, "CONFIG_INET_RAW_DIAG") == "" && (!errors.Is(err, sockdiag.ErrNotSupported) || !strings.Contains(err.Error(), "CONFIG_INET_RAW_DIAG")) {
		t.Errorf("raw dump without CONFIG_INET_RAW_DIAG: %v, want ErrNotSupported naming it", err)
	}
}

func tcpInfo(t *testing.T, c net.Conn) *unix.TCPInfo {
	t.Helper()
	rc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var info *unix.TCPInfo
	var gerr error
	if err := rc.Control(func(fd uintptr) { info, gerr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO) }); err != nil {
		t.Fatal(err)
	}
	if gerr != nil {
		t.Fatal(gerr)
	}
	return info
}

func TestKernelUnixSockets(t *testing.T) {
	s := openSockets(t)
	c := dial(t, s.cfg)
	socks, err := c.ListUnixSockets(ctxT(t), sockdiag.UnixRequest{Show: sockdiag.ShowDefault | sockdiag.ShowVFS | sockdiag.ShowIcons | sockdiag.ShowUID | sockdiag.ShowMemInfo})
	if err != nil {
		t.Fatal(err)
	}
	var ln, abs *sockdiag.UnixSocket
	var conns []*sockdiag.UnixSocket
	for _, u := range socks {
		switch {
		case u.State == sockdiag.StateListen:
			ln = u
		case u.Abstract:
			abs = u
		case u.Type == sockdiag.UnixStream && u.State == sockdiag.StateEstablished:
			conns = append(conns, u)
		}
	}
	if ln == nil || ln.Name != s.upath || ln.Abstract || ln.VFS == nil || ln.Type != sockdiag.UnixStream || !ln.HasQueues || ln.SendQueue == 0 ||
		!ln.HasUID || ln.MemInfo == nil {
		t.Errorf("listener %+v", ln)
	}
	if abs == nil || abs.Name != s.uname || abs.Address() != "@"+s.uname || abs.Type != sockdiag.UnixDgram || abs.State != sockdiag.StateClose {
		t.Errorf("abstract datagram socket %+v", abs)
	}
	if len(conns) != 2 || conns[0].Peer != conns[1].Inode || conns[1].Peer != conns[0].Inode {
		t.Fatalf("connected pair %+v, want two sockets naming each other as peers", conns)
	}
	one, err := c.UnixSocket(ctxT(t), sockdiag.UnixRequest{Inode: conns[0].Inode})
	if err != nil || one.Peer != conns[1].Inode {
		t.Errorf("UnixSocket(%d): %+v, %v", conns[0].Inode, one, err)
	}
	established, err := c.ListUnixSockets(ctxT(t), sockdiag.UnixRequest{States: sockdiag.States(sockdiag.StateEstablished)})
	if err != nil || len(established) != 2 {
		t.Errorf("established UNIX sockets: %+v, %v", established, err)
	}
}

// ssFormat writes an address as ss does (see inet_addr_print in ss.c).
func ssFormat(ap netip.AddrPort, v6only bool) string {
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

// ssLines runs ss in the namespace without a header and returns its
// lines' first fields, joined by spaces, sorted.
func ssLines(t *testing.T, ns *nstest.NS, fields int, args ...string) []string {
	t.Helper()
	out := ns.Exec(t, "ss", append([]string{"-H"}, args...)...)
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < fields {
			continue
		}
		lines = append(lines, strings.Join(f[:fields], " "))
	}
	sort.Strings(lines)
	return lines
}

// ss, run in the same namespace, lists the same sockets in the same
// states with the same addresses.
func TestKernelAgreesWithSS(t *testing.T) {
	s := openSockets(t)
	c := dial(t, s.cfg)
	for _, tt := range []struct {
		proto sockdiag.Protocol
		flag  string
		n     int // the test's sockets: 2 listeners and 2 connections; 3 UDP sockets
	}{{sockdiag.ProtocolTCP, "-tan", 6}, {sockdiag.ProtocolUDP, "-uan", 3}} {
		var ours []string
		for _, f := range []sockdiag.Family{sockdiag.FamilyIPv4, sockdiag.FamilyIPv6} {
			for _, so := range list(t, c, f, tt.proto, 0) {
				ours = append(ours, fmt.Sprintf("%s %d %d %s %s", so.State, so.RecvQueue, so.SendQueue,
					ssFormat(so.ID.Local, so.V6Only), ssFormat(so.ID.Remote, so.V6Only)))
			}
		}
		sort.Strings(ours)
		// State Recv-Q Send-Q Local Peer
		theirs := ssLines(t, s.ns, 5, tt.flag)
		if len(theirs) != tt.n {
			t.Errorf("ss %s lists %d sockets, want %d:\n%s", tt.flag, len(theirs), tt.n, strings.Join(theirs, "\n"))
		}
		if strings.Join(ours, "\n") != strings.Join(theirs, "\n") {
			t.Errorf("ss %s:\n%s\nnlkit:\n%s", tt.flag, strings.Join(theirs, "\n"), strings.Join(ours, "\n"))
		}
	}
	var ours []string
	for _, u := range mustUnix(t, c) {
		name := u.Address()
		if name == "" {
			name = "*"
		}
		ours = append(ours, fmt.Sprintf("%s %s %d %d %s %d * %d", u.Type, u.State, u.RecvQueue, u.SendQueue, name, u.Inode, u.Peer))
	}
	sort.Strings(ours)
	// Netid State Recv-Q Send-Q Local Inode Peer PeerInode
	theirs := ssLines(t, s.ns, 8, "-xan")
	if len(theirs) != 4 {
		t.Errorf("ss -xan lists %d sockets, want the listener, the pair and the datagram socket:\n%s", len(theirs), strings.Join(theirs, "\n"))
	}
	if strings.Join(ours, "\n") != strings.Join(theirs, "\n") {
		t.Errorf("ss -xan:\n%s\nnlkit:\n%s", strings.Join(theirs, "\n"), strings.Join(ours, "\n"))
	}
}

func mustUnix(t *testing.T, c *sockdiag.Client) []*sockdiag.UnixSocket {
	t.Helper()
	socks, err := c.ListUnixSockets(ctxT(t), sockdiag.UnixRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return socks
}

// kernelConfig returns the value of option in /proc/config.gz ("y",
// "m"), "" if it is not set, and skips the caller's check if the kernel
// does not publish its configuration.
func kernelConfig(t *testing.T, option string) string {
	t.Helper()
	f, err := os.Open("/proc/config.gz")
	if err != nil {
		t.Skipf("no /proc/config.gz to tell whether %s is set: %v", option, err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(z)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), option+"="); ok {
			return v
		}
	}
	return ""
}

// withoutCap runs fn on a thread whose effective capabilities lack cap.
// Capabilities are per thread and sock_diag checks the sender's, so this
// is an unprivileged caller without leaving the test process. If the
// capability cannot be restored, the thread stays locked and dies.
func withoutCap(t *testing.T, capability uint, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			t.Errorf("capget: %v", err)
			return
		}
		saved := data
		data[capability/32].Effective &^= 1 << (capability % 32)
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			t.Errorf("capset: %v", err)
			return
		}
		fn()
		if err := unix.Capset(&hdr, &saved[0]); err != nil {
			t.Errorf("restore capabilities: %v", err)
			return
		}
		runtime.UnlockOSThread()
	}()
	<-done
}

// SOCK_DESTROY: this kernel is built with CONFIG_INET_DIAG_DESTROY, so
// the test's own sockets are closed; without it, the error must say so.
func TestKernelDestroy(t *testing.T) {
	s := openSockets(t)
	c := dial(t, s.cfg)
	target := byLocal(list(t, c, sockdiag.FamilyIPv4, sockdiag.ProtocolTCP, 0), addrPort(s.c4.LocalAddr()), addrPort(s.c4.RemoteAddr()))
	if target == nil {
		t.Fatal("the test's connection is not listed")
	}

	// Without CAP_NET_ADMIN: EPERM, and the socket lives on.
	var err error
	withoutCap(t, unix.CAP_NET_ADMIN, func() { err = c.Destroy(ctxT(t), target) })
	if !errors.Is(err, syscall.EPERM) {
		t.Fatalf("destroy without CAP_NET_ADMIN: %v, want EPERM", err)
	}
	if byLocal(list(t, c, sockdiag.FamilyIPv4, sockdiag.ProtocolTCP, 0), target.ID.Local, target.ID.Remote) == nil {
		t.Fatal("the socket is gone after a refused destroy")
	}

	err = c.Destroy(ctxT(t), target)
	if kernelConfig(t, "CONFIG_INET_DIAG_DESTROY") != "y" {
		if !errors.Is(err, sockdiag.ErrNotSupported) || !errors.Is(err, syscall.EOPNOTSUPP) {
			t.Fatalf("destroy without CONFIG_INET_DIAG_DESTROY: %v, want ErrNotSupported", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("destroy: %v", err)
	}
	// The owner learns it was aborted; the peer gets a reset.
	if _, err := s.c4.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNABORTED) {
		t.Errorf("read on the destroyed socket: %v, want ECONNABORTED", err)
	}
	if _, err := s.s4.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, io.EOF) {
		t.Errorf("read on its peer: %v, want a reset", err)
	}
	if byLocal(list(t, c, sockdiag.FamilyIPv4, sockdiag.ProtocolTCP, 0), target.ID.Local, target.ID.Remote) != nil {
		t.Error("the destroyed socket is still listed")
	}
	if err := c.Destroy(ctxT(t), target); !errors.Is(err, sockdiag.ErrNoSocket) {
		t.Errorf("destroying it again: %v, want ErrNoSocket", err)
	}
	// UDP sockets can be destroyed too (udp_abort).
	u := byLocal(list(t, c, sockdiag.FamilyIPv6, sockdiag.ProtocolUDP, 0), addrPort(s.udp6.LocalAddr()), netip.AddrPort{})
	if u == nil {
		t.Fatal("the test's UDP socket is not listed")
	}
	if err := c.Destroy(ctxT(t), u); err != nil {
		t.Fatalf("destroy UDP: %v", err)
	}
	if _, _, err := s.udp6.ReadFrom(make([]byte, 1)); !errors.Is(err, syscall.ECONNABORTED) {
		t.Errorf("read on the destroyed UDP socket: %v, want ECONNABORTED", err)
	}
}
