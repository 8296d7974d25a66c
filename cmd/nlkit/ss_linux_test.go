//go:build linux

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nlkit/nlkit/internal/nstest"
	"github.com/nlkit/nlkit/netlink"
)

// ssSockets opens, inside a fresh namespace, TCP listeners and
// connections over IPv4 and IPv6, UDP sockets (unconnected, connected,
// IPv6 dual-stack) and UNIX sockets (a listener and its connection on a
// path, an abstract datagram socket).
type ssSockets struct {
	ns              *nstest.NS
	ln4, ln6        net.Listener
	c4, s4, c6, s6  net.Conn
	udp4, udpAny    *net.UDPConn
	udpc, uc, us    net.Conn
	uln             net.Listener
	uabs            *net.UnixConn
	upath, abstract string
}

func openSSSockets(t *testing.T) *ssSockets {
	t.Helper()
	ns := nstest.New(t)
	s := &ssSockets{ns: ns, upath: filepath.Join(t.TempDir(), "ss.sock"), abstract: fmt.Sprintf("nlkit-ss-%d-%s", os.Getpid(), ns.Name)}
	var closers []io.Closer
	keep := func(c io.Closer, err error) error {
		if err == nil {
			closers = append(closers, c)
		}
		return err
	}
	err := netlink.RunInNetNS(&netlink.Config{NetNS: ns.Name}, func() error {
		var err error
		if s.ln4, err = net.Listen("tcp4", "127.0.0.1:0"); keep(s.ln4, err) != nil {
			return err
		}
		if s.ln6, err = net.Listen("tcp6", "[::1]:0"); keep(s.ln6, err) != nil {
			return err
		}
		if s.c4, err = net.Dial("tcp4", s.ln4.Addr().String()); keep(s.c4, err) != nil {
			return err
		}
		if s.s4, err = s.ln4.Accept(); keep(s.s4, err) != nil {
			return err
		}
		if s.c6, err = net.Dial("tcp6", s.ln6.Addr().String()); keep(s.c6, err) != nil {
			return err
		}
		if s.s6, err = s.ln6.Accept(); keep(s.s6, err) != nil {
			return err
		}
		if s.udp4, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); keep(s.udp4, err) != nil {
			return err
		}
		if s.udpAny, err = net.ListenUDP("udp", &net.UDPAddr{}); keep(s.udpAny, err) != nil {
			return err
		}
		if s.udpc, err = net.Dial("udp4", s.udp4.LocalAddr().String()); keep(s.udpc, err) != nil {
			return err
		}
		if s.uln, err = net.Listen("unix", s.upath); keep(s.uln, err) != nil {
			return err
		}
		if s.uc, err = net.Dial("unix", s.upath); keep(s.uc, err) != nil {
			return err
		}
		if s.us, err = s.uln.Accept(); keep(s.us, err) != nil {
			return err
		}
		s.uabs, err = net.ListenUnixgram("unixgram", &net.UnixAddr{Name: "@" + s.abstract, Net: "unixgram"})
		return keep(s.uabs, err)
	})
	t.Cleanup(func() {
		for _, c := range closers {
			c.Close()
		}
	})
	if err != nil {
		t.Fatalf("open sockets in %s: %v", ns.Name, err)
	}
	return s
}

// fieldsOf splits output into lines of single-space-separated fields;
// the header loses ss's Process column, which nlkit does not have.
func fieldsOf(out string) []string {
	var lines []string
	for i, l := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(l)
		if i == 0 && len(f) > 0 {
			last := strings.TrimSuffix(f[len(f)-1], "Process")
			if last == "" {
				f = f[:len(f)-1]
			} else {
				f[len(f)-1] = last
			}
		}
		if len(f) > 0 {
			lines = append(lines, strings.Join(f, " "))
		}
	}
	return lines
}

// nlkit ss prints what ss prints, column for column and line for line,
// for the same flags in the same namespace.
func TestSSMatchesSS(t *testing.T) {
	s := openSSSockets(t)
	for _, flags := range [][]string{
		nil, {"-a"}, {"-l"}, {"-t"}, {"-ta"}, {"-tan"}, {"-tl"}, {"-u"}, {"-ua"}, {"-ul"}, {"-x"}, {"-xa"}, {"-xl"},
		{"-4"}, {"-4a"}, {"-6", "-a"}, {"-tu", "-a"}, {"-t", "-6", "-l"}, {"-ta", "state", "established"},
		{"-a", "exclude", "listening"}, {"-tan", "state", "listening"}, {"-Ma"}, {"-tMl"},
	} {
		want := fieldsOf(string(s.ns.Exec(t, "ss", flags...)))
		args := append([]string{"-n", s.ns.Name, "ss"}, flags...)
		out, errOut, code := nlkit(t, args...)
		if code != 0 {
			t.Fatalf("nlkit %v: exit %d: %s", args, code, errOut)
		}
		// ss also lists netlink sockets (nl), which nlkit does not.
		var ssRows []string
		for _, l := range want {
			if !strings.HasPrefix(l, "nl ") {
				ssRows = append(ssRows, l)
			}
		}
		got := fieldsOf(out)
		if strings.Join(got, "\n") != strings.Join(ssRows, "\n") {
			t.Errorf("ss %s:\n%s\n\nnlkit ss %s:\n%s", strings.Join(flags, " "), strings.Join(ssRows, "\n"), strings.Join(flags, " "), strings.Join(got, "\n"))
		}
		if len(ssRows) < 2 && len(flags) > 0 && flags[0] != "-u" {
			t.Errorf("ss %s lists nothing of the test's sockets: the comparison proves little", strings.Join(flags, " "))
		}
	}
}

// The -j output names every field; its sockets are the namespace's.
func TestSSJSON(t *testing.T) {
	s := openSSSockets(t)
	out, errOut, code := nlkit(t, "-j", "-n", s.ns.Name, "ss", "-tuxa", "-e", "-i", "-m")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("not a JSON array: %v\n%s", err, out)
	}
	find := func(netid, local string, state ...string) map[string]any {
		for _, r := range rows {
			lp, _ := r["local_port"].(float64)
			addr := fmt.Sprintf("%v", r["local_address"])
			if len(state) > 0 && r["state"] != state[0] {
				continue
			}
			if r["netid"] == netid && (addr == local || net.JoinHostPort(addr, fmt.Sprint(lp)) == local) {
				return r
			}
		}
		t.Fatalf("no %s socket at %s in %s", netid, local, out)
		return nil
	}
	ln := find("tcp", s.ln4.Addr().String())
	if ln["state"] != "LISTEN" || ln["peer_address"] != "0.0.0.0" || ln["peer_port"] != 0.0 || ln["send_q"] == 0.0 || ln["inode"] == 0.0 ||
		ln["uid"] != 0.0 || ln["cookie"] == "" || ln["tcp_info"] == nil || ln["skmem"] == nil {
		t.Errorf("listener %v", ln)
	}
	c := find("tcp", s.c6.LocalAddr().String())
	info, _ := c["tcp_info"].(map[string]any)
	if c["state"] != "ESTAB" || c["peer_address"] != "::1" || c["v6only"] != false || info == nil || info["rtt"] == 0.0 || info["cwnd"] == 0.0 || c["cong"] == "" {
		t.Errorf("IPv6 connection %v", c)
	}
	u := find("udp", s.udp4.LocalAddr().String())
	if u["state"] != "UNCONN" || u["tcp_info"] != nil {
		t.Errorf("UDP socket %v", u)
	}
	x := find("u_str", s.upath, "LISTEN")
	if x["state"] != "LISTEN" || x["peer_inode"] != 0.0 || x["local_port"] != nil {
		t.Errorf("UNIX listener %v", x)
	}
	if a := find("u_dgr", "@"+s.abstract); a["state"] != "UNCONN" {
		t.Errorf("abstract socket %v", a)
	}
	// Nothing found is an empty array, not null.
	out, _, code = nlkit(t, "-n", s.ns.Name, "ss", "-j", "-t", "state", "time-wait")
	if code != 0 || strings.TrimSpace(out) != "[]" {
		t.Errorf("empty JSON: exit %d, %q", code, out)
	}
}

// withoutCap runs fn on a thread whose effective capabilities lack cap:
// an unprivileged caller inside the test process (capabilities are per
// thread, and the kernel checks the sender's).
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
			return // the thread stays locked and is destroyed
		}
		runtime.UnlockOSThread()
	}()
	<-done
}

// -K closes the sockets the filter selects, and only them.
func TestSSKill(t *testing.T) {
	s := openSSSockets(t)
	port := s.ln4.Addr().(*net.TCPAddr).Port
	filter := []string{"-n", s.ns.Name, "ss", "-K", "-t", "dport", "=", fmt.Sprintf(":%d", port)}

	// Unprivileged: a clear error, and nothing closed.
	var out, errOut string
	var code int
	withoutCap(t, unix.CAP_NET_ADMIN, func() { out, errOut, code = nlkit(t, filter...) })
	if code == 0 || out != "" || !strings.Contains(errOut, "operation not permitted") || !strings.Contains(errOut, "CAP_NET_ADMIN") ||
		strings.Count(errOut, "\n") != 1 {
		t.Fatalf("unprivileged -K: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if n := len(fieldsOf(string(s.ns.Exec(t, "ss", "-Htn", "state", "established")))); n != 4 {
		t.Fatalf("%d established sockets after a refused -K, want 4", n)
	}

	out, errOut, code = nlkit(t, filter...)
	if code != 0 {
		t.Fatalf("-K: exit %d: %s", code, errOut)
	}
	// It prints what it closed: the client end of the IPv4 connection.
	rows := fieldsOf(out)
	if len(rows) != 2 || !strings.Contains(rows[1], s.c4.LocalAddr().String()) {
		t.Fatalf("-K printed:\n%s", out)
	}
	if _, err := s.c4.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNABORTED) {
		t.Errorf("read on the killed socket: %v, want ECONNABORTED", err)
	}
	// ss agrees: the IPv4 connection is gone (its server end got a
	// reset), the IPv6 one and the listeners are still there.
	left := strings.Join(fieldsOf(string(s.ns.Exec(t, "ss", "-Htan"))), "\n")
	if strings.Contains(left, s.c4.LocalAddr().String()) || !strings.Contains(left, s.c6.LocalAddr().String()) ||
		!strings.Contains(left, s.ln4.Addr().String()) {
		t.Errorf("after -K, ss -tan shows:\n%s", left)
	}
}

// Bad input: a clear one-line error, exit 1, and no socket touched.
func TestSSBadInput(t *testing.T) {
	s := openSSSockets(t)
	before := string(s.ns.Exec(t, "ss", "-Htuxan"))
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"ss", "--bogus"}, `unknown option "--bogus"`},
		{[]string{"ss", "-tz"}, "unknown option -z"},
		{[]string{"ss", "-tlnp"}, "-p (show processes) is not supported"},
		{[]string{"ss", "-K", "-x"}, "UNIX sockets cannot be closed"},
		{[]string{"ss", "state", "bogus"}, `state "bogus": unknown state`},
		{[]string{"ss", "-K", "dport", "http"}, `dport "http": want a port number`},
		{[]string{"ss", "-K", "sport", ":1", "or", "sport", ":2"}, "only conditions joined by and"},
		{[]string{"ss", "bogus"}, `unknown argument "bogus"`},
		{[]string{"-n", "nlkit-no-such-ns", "ss"}, `network namespace "nlkit-no-such-ns"`},
	}
	for _, tt := range tests {
		args := tt.args
		if args[0] == "ss" {
			args = append([]string{"-n", s.ns.Name}, args...)
		}
		out, errOut, code := nlkit(t, args...)
		if code == 0 || out != "" || !strings.HasPrefix(errOut, "nlkit: ") || !strings.Contains(errOut, tt.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want one line containing %q", args, code, out, errOut, tt.want)
		}
	}
	if after := string(s.ns.Exec(t, "ss", "-Htuxan")); after != before {
		t.Errorf("sockets changed:\nbefore\n%s\nafter\n%s", before, after)
	}
}
