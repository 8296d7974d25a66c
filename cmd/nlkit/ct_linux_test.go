//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/netip"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nlkit/nlkit/conntrack"
	"github.com/nlkit/nlkit/internal/nstest"
	"github.com/nlkit/nlkit/netlink"
)

// ctTestNS is a namespace that tracks connections (an nftables "ct
// state" rule on output, both families).
func ctTestNS(t *testing.T) *nstest.NS {
	t.Helper()
	ns := nstest.New(t)
	for _, tool := range []string{"conntrack", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed as the test oracle: %v (scripts/install-deps.sh)", tool, err)
		}
	}
	nft := exec.Command("ip", "netns", "exec", ns.Name, "nft", "-f", "-")
	nft.Stdin = strings.NewReader(`
table ip t { chain c { type filter hook output priority 0; ct state new counter; }; }
table ip6 t { chain c { type filter hook output priority 0; ct state new counter; }; }
`)
	if out, err := nft.CombinedOutput(); err != nil {
		t.Fatalf("nft: %v: %s", err, out)
	}
	return ns
}

// ctTool runs conntrack in the namespace; failure fails t.
func ctTool(t *testing.T, ns *nstest.NS, args ...string) string {
	t.Helper()
	return string(ns.Exec(t, "conntrack", args...))
}

// ctRun runs nlkit -n NS ARGS and fails t unless it succeeds.
func ctRun(t *testing.T, ns *nstest.NS, args ...string) string {
	t.Helper()
	out, errOut, code := nlkit(t, append([]string{"-n", ns.Name}, args...)...)
	if code != 0 {
		t.Fatalf("nlkit %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// ctCanon drops the timeout (it counts down between the two listings)
// and sorts: lines of -o extended,id, or events (timeoutField 4 or 5).
func ctCanon(out string, timeoutField int) []string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(l)
		if len(f) > timeoutField {
			if _, err := strconv.Atoi(f[timeoutField]); err == nil {
				f[timeoutField] = "T"
			}
		}
		if len(f) > 0 {
			lines = append(lines, strings.Join(f, " "))
		}
	}
	sort.Strings(lines)
	return lines
}

// ctCompare checks nlkit's listing against conntrack's, line by line.
func ctCompare(t *testing.T, ns *nstest.NS, nlkitArgs, toolArgs []string) []string {
	t.Helper()
	got := ctCanon(ctRun(t, ns, append([]string{"ct", "list", "-o", "extended,id"}, nlkitArgs...)...), 4)
	want := ctCanon(ctTool(t, ns, append([]string{"-L", "-o", "extended,id"}, toolArgs...)...), 4)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("nlkit ct list %v differs from conntrack -L %v:\nnlkit:\n%s\nconntrack:\n%s",
			nlkitArgs, toolArgs, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	return got
}

func TestCtCLIListMatchesConntrack(t *testing.T) {
	ns := ctTestNS(t)
	// Accounting on: the lines carry packets= and bytes= too.
	ns.Exec(t, "bash", "-c", "echo 1 > /proc/sys/net/netfilter/nf_conntrack_acct")
	ns.Exec(t, "bash", "-c", "echo a > /dev/udp/127.0.0.1/9999; echo b > /dev/udp/::1/9998")
	ctTool(t, ns, "-I", "-p", "tcp", "-s", "10.1.1.1", "-d", "10.2.2.2", "--sport", "1234", "--dport", "80",
		"-t", "300", "--state", "ESTABLISHED", "-u", "ASSURED,SEEN_REPLY", "-m", "7", "-w", "3")
	ctTool(t, ns, "-I", "-p", "icmp", "-s", "10.1.1.1", "-d", "10.2.2.2", "--icmp-type", "8", "--icmp-code", "0", "--icmp-id", "77", "-t", "30", "-m", "0x107")
	ctTool(t, ns, "-I", "-p", "udp", "-s", "2001:db8::1", "-d", "2001:db8::2", "--sport", "5", "--dport", "6", "-t", "30", "-w", "3")

	all := ctCompare(t, ns, nil, nil)
	if len(all) != 5 {
		t.Errorf("%d flows listed, want 5", len(all))
	}
	if !strings.Contains(strings.Join(all, "\n"), "dport=9999 packets=1 bytes=") {
		t.Errorf("no counters for the loopback datagram:\n%s", strings.Join(all, "\n"))
	}
	ctCompare(t, ns, []string{"family", "ipv6"}, []string{"-f", "ipv6"})
	ctCompare(t, ns, []string{"mark", "7"}, []string{"-m", "7"})
	ctCompare(t, ns, []string{"mark", "7/0xff"}, []string{"-m", "7/0xff"})
	ctCompare(t, ns, []string{"zone", "3"}, []string{"-w", "3"})
	ctCompare(t, ns, []string{"proto", "udp"}, []string{"-p", "udp"})
	ctCompare(t, ns, []string{"src", "10.1.1.1"}, []string{"-s", "10.1.1.1"})

	// Plain text is conntrack -L's default shape.
	got := ctCanon(ctRun(t, ns, "ct"), 2)
	want := ctCanon(ctTool(t, ns, "-L"), 2)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("nlkit ct differs from conntrack -L:\n%s\n---\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// JSON: the same flows, fields by name.
	var flows []ctFlowJSON
	if err := json.Unmarshal([]byte(ctRun(t, ns, "-j", "ct", "list", "zone", "3")), &flows); err != nil {
		t.Fatal(err)
	}
	if len(flows) != 2 {
		t.Fatalf("zone 3 in JSON: %d flows, want 2", len(flows))
	}
	for _, f := range flows {
		if f.Zone != 3 || f.Timeout == nil || len(f.Status) == 0 || f.ID == 0 {
			t.Errorf("JSON flow %+v", f)
		}
		if f.Protocol == "tcp" && (f.State != "ESTABLISHED" || f.Mark != 7 || *f.Original.SPort != 1234 || *f.Reply.SPort != 80 || f.Family != "ipv4") {
			t.Errorf("JSON tcp flow %+v", f)
		}
		if f.Protocol == "udp" && (f.Family != "ipv6" || f.Original.Src != "2001:db8::1" || f.Reply.Src != "2001:db8::2") {
			t.Errorf("JSON udp flow %+v", f)
		}
	}
}

func TestCtCLICreateUpdateDeleteFlush(t *testing.T) {
	ns := ctTestNS(t)
	tuple := []string{"proto", "tcp", "src", "192.0.2.1", "dst", "192.0.2.2", "sport", "40000", "dport", "443"}
	ctRun(t, ns, append(append([]string{"ct", "create"}, tuple...), "timeout", "120", "state", "ESTABLISHED", "status", "ASSURED,SEEN_REPLY", "mark", "5", "zone", "2")...)
	lines := ctCompare(t, ns, nil, nil)
	if len(lines) != 1 || !strings.Contains(lines[0], "tcp 6 T ESTABLISHED src=192.0.2.1 dst=192.0.2.2 sport=40000 dport=443 src=192.0.2.2 dst=192.0.2.1 sport=443 dport=40000 [ASSURED] mark=5 zone=2") {
		t.Errorf("created flow: %q", lines)
	}
	get := ctRun(t, ns, append(append([]string{"ct", "get"}, tuple...), "zone", "2")...)
	if !strings.Contains(get, "mark=5 zone=2") {
		t.Errorf("ct get: %q", get)
	}
	ctRun(t, ns, append(append([]string{"ct", "update"}, tuple...), "zone", "2", "mark", "0x20")...)
	if out := ctTool(t, ns, "-L", "-m", "32"); !strings.Contains(out, "sport=40000") {
		t.Errorf("after update conntrack -L -m 32: %q", out)
	}
	ctRun(t, ns, append(append([]string{"ct", "delete"}, tuple...), "zone", "2")...)
	if out := ctTool(t, ns, "-L"); strings.TrimSpace(out) != "" {
		t.Errorf("after delete: %q", out)
	}

	// Selections and flushes.
	for i, spec := range [][]string{{"udp", "10.0.0.1", "1"}, {"udp", "10.0.0.2", "2"}, {"udp", "2001:db8::1", "1"}} {
		dst := "10.0.0.9"
		if strings.Contains(spec[1], ":") {
			dst = "2001:db8::9"
		}
		ctRun(t, ns, "ct", "create", "proto", spec[0], "src", spec[1], "dst", dst, "sport", strconv.Itoa(100+i), "dport", "53", "timeout", "60", "mark", spec[2])
	}
	if n := len(ctCompare(t, ns, nil, nil)); n != 3 {
		t.Fatalf("%d flows, want 3", n)
	}
	ctRun(t, ns, "ct", "delete", "mark", "2")
	if n := len(ctCompare(t, ns, nil, nil)); n != 2 {
		t.Errorf("after delete mark 2: %d flows, want 2", n)
	}
	ctRun(t, ns, "ct", "flush", "family", "ipv6")
	if n := len(ctCompare(t, ns, nil, nil)); n != 1 {
		t.Errorf("after flush family ipv6: %d flows, want 1", n)
	}
	id := strings.TrimPrefix(strings.Fields(ctCompare(t, ns, nil, nil)[0])[len(strings.Fields(ctCompare(t, ns, nil, nil)[0]))-1], "id=")
	ctRun(t, ns, "ct", "delete", "flow-id", id)
	ctRun(t, ns, "ct", "create", "proto", "udp", "src", "10.0.0.1", "dst", "10.0.0.9", "sport", "1", "dport", "2", "timeout", "60")
	ctRun(t, ns, "ct", "flush")
	if out := ctTool(t, ns, "-L"); strings.TrimSpace(out) != "" {
		t.Errorf("after flush: %q", out)
	}
}

func TestCtCLIBadInput(t *testing.T) {
	ns := ctTestNS(t)
	ctTool(t, ns, "-I", "-p", "udp", "-s", "192.0.2.7", "-d", "192.0.2.8", "--sport", "1", "--dport", "2", "-t", "60", "-m", "3")
	before := ctCanon(ctTool(t, ns, "-L", "-o", "id"), 2)
	tuple := "proto udp src 192.0.2.7 dst 192.0.2.8 sport 1 dport 2"
	tests := []struct{ args, want string }{
		{"ct create proto udp src 192.0.2.7 dst 192.0.2.8 sport 1 dport 2 timeout 9", "exists already"},
		{"ct create proto udp src 192.0.2.300 dst 192.0.2.8 sport 1 dport 2 timeout 9", `bad address "192.0.2.300"`},
		{"ct create proto bogus src 192.0.2.1 dst 192.0.2.8 sport 1 dport 2 timeout 9", `unknown protocol "bogus"`},
		{"ct create proto udp src 192.0.2.1 dst 192.0.2.8 sport 1 timeout 9", `missing "dport"`},
		{"ct create proto udp dst 192.0.2.8 sport 1 dport 2 timeout 9", `missing "src"`},
		{"ct create proto udp src 192.0.2.1 dst 192.0.2.8 sport 1 dport 2", `missing "timeout"`},
		{"ct create proto udp src 192.0.2.1 dst 2001:db8::1 sport 1 dport 2 timeout 9", "different families"},
		{"ct create proto tcp src 192.0.2.1 dst 192.0.2.8 sport 1 dport 2 timeout 9 state OPEN", `unknown TCP state "OPEN"`},
		{"ct create proto udp src 192.0.2.1 dst 192.0.2.8 sport 1 dport 2 timeout 9 status FAST", `unknown status "FAST"`},
		{"ct create proto udp src 192.0.2.1 dst 192.0.2.8 sport 1 dport 2 timeout", `missing value after "timeout"`},
		{"ct create proto udp src 192.0.2.1 dst 192.0.2.8 sport 1 dport 2 timeout 9 mark 1/2", "mask is for selecting"},
		{"ct create proto udp src 192.0.2.1 dst 192.0.2.8 sport 1 dport 2 timeout 9 colour red", `unknown argument "colour"`},
		{"ct get proto udp src 192.0.2.7 dst 192.0.2.8 sport 1 dport 3", "no such flow"},
		{"ct update " + tuple + " mark x", `bad mark "x"`},
		{"ct update " + tuple, "nothing to change"},
		{"ct update proto udp src 192.0.2.7 dst 192.0.2.8 sport 1 dport 3 mark 4", "no such flow"},
		{"ct delete", "say which flows"},
		{"ct delete proto udp src 192.0.2.7 dst 192.0.2.8 sport 1 dport 3", "no such flow"},
		{"ct delete mark 99", "no flow matches"},
		{"ct delete flow-id 1", "no such flow"},
		{"ct flush family ipx", `unknown family "ipx"`},
		{"ct flush proto udp", `unknown argument "proto"`},
		{"ct list zone 70000", "not a number from 0 to 65535"},
		{"ct list -o wide", `unknown output format "wide"`},
		{"ct frob", `unknown command "frob"`},
	}
	for _, tt := range tests {
		_, errOut, code := nlkit(t, append([]string{"-n", ns.Name}, strings.Fields(tt.args)...)...)
		if code == 0 || !strings.Contains(errOut, tt.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("nlkit %s: exit %d, stderr %q; want a one-line error containing %q", tt.args, code, errOut, tt.want)
		}
	}
	if after := ctCanon(ctTool(t, ns, "-L", "-o", "id"), 2); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("bad input changed the table:\n%v\n%v", before, after)
	}
}

// ctMonitor runs `ct monitor ARGS` in-process and returns its lines; it
// returns once the monitor reported a probe flow (it is subscribed).
func ctMonitor(t *testing.T, ns *nstest.NS, rcvbuf int, args ...string) <-chan string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	a := &app{out: pw, errOut: io.Discard, netns: ns.Name}
	done := make(chan error, 1)
	go func() {
		err := a.ctMonitor(ctx, args, "", rcvbuf)
		pw.Close()
		done <- err
	}()
	lines := make(chan string, 10000)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		io.Copy(io.Discard, pr)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ct monitor: %v", err)
		}
	})
	deadline := time.After(20 * time.Second)
	for i := 1; ; i++ {
		ctRun(t, ns, "ct", "create", "proto", "udp", "src", "203.0.113.1", "dst", "203.0.113.2", "sport", strconv.Itoa(i), "dport", "1", "timeout", "60")
		select {
		case l := <-lines:
			if strings.Contains(l, "203.0.113.1") {
				ctRun(t, ns, "ct", "delete", "src", "203.0.113.1")
				for {
					select {
					case <-lines:
						continue
					case <-time.After(300 * time.Millisecond):
					}
					break
				}
				return lines
			}
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatal("ct monitor never reported the probe flow")
		}
	}
}

func TestCtCLIMonitor(t *testing.T) {
	ns := ctTestNS(t)
	lines := ctMonitor(t, ns, 0)
	tuple := []string{"proto", "udp", "src", "198.51.100.1", "dst", "198.51.100.2", "sport", "7", "dport", "8"}
	ctRun(t, ns, append(append([]string{"ct", "create"}, tuple...), "timeout", "60", "mark", "4")...)
	ctRun(t, ns, append([]string{"ct", "delete"}, tuple...)...)
	want := []string{
		"    [NEW] udp      17 60 src=198.51.100.1 dst=198.51.100.2 sport=7 dport=8 [UNREPLIED] src=198.51.100.2 dst=198.51.100.1 sport=8 dport=7 mark=4",
		"[DESTROY] udp      17 ",
	}
	for _, w := range want {
		select {
		case l := <-lines:
			if !strings.HasPrefix(l, w) {
				t.Errorf("event line %q, want it to start with %q", l, w)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("no event line for %q", w)
		}
	}
}

func TestCtCLIMonitorOverrun(t *testing.T) {
	ns := ctTestNS(t)
	lines := ctMonitor(t, ns, 1)
	// A burst of creations overflows the tiny buffer.
	c, err := conntrack.Dial(&netlink.Config{NetNS: ns.Name})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range 300 {
		err := c.Create(context.Background(), &conntrack.Flow{Original: conntrack.Tuple{
			Src: netip.MustParseAddr("198.51.100.1"), Dst: netip.MustParseAddr("198.51.100.2"),
			Proto: conntrack.ProtoUDP, SrcPort: uint16(1000 + i), DstPort: 53,
		}, Timeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
	}
	lost := false
	deadline := time.After(20 * time.Second)
	for i := 0; ; i++ {
		select {
		case l := <-lines:
			if strings.HasPrefix(l, "   [LOST]") {
				lost = true
			}
			if lost && strings.Contains(l, "198.51.100.99") {
				return // the stream went on after the loss
			}
			if lost {
				err := c.Create(context.Background(), &conntrack.Flow{Original: conntrack.Tuple{
					Src: netip.MustParseAddr("198.51.100.99"), Dst: netip.MustParseAddr("198.51.100.2"),
					Proto: conntrack.ProtoUDP, SrcPort: uint16(i + 1), DstPort: 53,
				}, Timeout: time.Minute})
				if err != nil {
					t.Fatal(err)
				}
			}
		case <-deadline:
			t.Fatalf("no [LOST] line followed by events (lost: %v)", lost)
		}
	}
}
