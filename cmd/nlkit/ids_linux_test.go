//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nlkit/nlkit/internal/nstest"
	"github.com/nlkit/nlkit/netlink"
)

// idsPair makes a sender namespace a (10.78.0.1, fd78::1) and a receiver
// b (10.78.0.2, fd78::2) joined by a veth pair.
func idsPair(t *testing.T) (a, b *nstest.NS) {
	t.Helper()
	for _, tool := range []string{"iptables", "ip6tables", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed (scripts/install-deps.sh installs it): %v", tool, err)
		}
	}
	a, b = nstest.New(t), nstest.New(t)
	a.IP(t, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", b.Name)
	a.IP(t, "addr", "add", "10.78.0.1/24", "dev", "va")
	a.IP(t, "addr", "add", "fd78::1/64", "dev", "va", "nodad")
	b.IP(t, "addr", "add", "10.78.0.2/24", "dev", "vb")
	b.IP(t, "addr", "add", "fd78::2/64", "dev", "vb", "nodad")
	a.IP(t, "link", "set", "va", "up")
	b.IP(t, "link", "set", "vb", "up")
	return a, b
}

// child is a running nlkit process.
type child struct {
	cmd    *exec.Cmd
	stdout chan string
	stderr chan string
	errBuf *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// startNlkit runs nlkit with args, streaming its output lines.
func startNlkit(t *testing.T, bin string, args ...string) *child {
	t.Helper()
	c := &child{cmd: exec.Command(bin, args...), stdout: make(chan string, 100000), stderr: make(chan string, 1000), errBuf: &syncBuffer{}}
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	errOut, err := c.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.cmd.Process.Kill()
		_ = c.cmd.Wait()
	})
	pump := func(r io.Reader, ch chan string, keep *syncBuffer) {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if keep != nil {
				keep.mu.Lock()
				keep.b.WriteString(sc.Text() + "\n")
				keep.mu.Unlock()
			}
			ch <- sc.Text()
		}
		close(ch)
	}
	go pump(out, c.stdout, nil)
	go pump(errOut, c.stderr, c.errBuf)
	return c
}

// waitLine waits for a line of ch containing s.
func waitLine(t *testing.T, ch chan string, s string, c *child) string {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case l, ok := <-ch:
			if !ok {
				t.Fatalf("nlkit ended before printing %q; stderr:\n%s", s, c.errBuf.String())
			}
			if strings.Contains(l, s) {
				return l
			}
		case <-deadline:
			t.Fatalf("nlkit did not print %q; stderr:\n%s", s, c.errBuf.String())
		}
	}
}

// inNS runs fn in ns's network namespace (sockets opened there stay there).
func inNS(t *testing.T, ns *nstest.NS, fn func() error) {
	t.Helper()
	if err := netlink.RunInNetNS(&netlink.Config{NetNS: ns.Name}, fn); err != nil {
		t.Fatal(err)
	}
}

// udpReceiver counts datagrams by their first 4 bytes.
type udpReceiver struct {
	mu     sync.Mutex
	counts map[string]int
	total  int
}

func (r *udpReceiver) get(k string) int { r.mu.Lock(); defer r.mu.Unlock(); return r.counts[k] }
func (r *udpReceiver) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return fmt.Sprintf("(received %v, %d in all)", r.counts, r.total)
}
func (r *udpReceiver) sum() int { r.mu.Lock(); defer r.mu.Unlock(); return r.total }

func listenUDP(t *testing.T, ns *nstest.NS, network, addr string) *udpReceiver {
	t.Helper()
	r := &udpReceiver{counts: map[string]int{}}
	r.listen(t, ns, network, addr)
	return r
}

// listen adds a socket whose datagrams r counts too.
func (r *udpReceiver) listen(t *testing.T, ns *nstest.NS, network, addr string) {
	t.Helper()
	var c net.PacketConn
	inNS(t, ns, func() (err error) { c, err = net.ListenPacket(network, addr); return err })
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 2000)
		for {
			n, _, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			r.mu.Lock()
			r.counts[string(buf[:min(n, 4)])]++
			r.total++
			r.mu.Unlock()
		}
	}()
}

// readEVE reads the EVE alerts written so far.
type eveLine struct {
	Timestamp string `json:"timestamp"`
	EventType string `json:"event_type"`
	SrcIP     string `json:"src_ip"`
	SrcPort   *int   `json:"src_port"`
	DestIP    string `json:"dest_ip"`
	DestPort  *int   `json:"dest_port"`
	Proto     string `json:"proto"`
	Payload   string `json:"payload_printable"`
	InIface   string `json:"in_iface"`
	FlowID    uint64 `json:"flow_id"`
	EveAlert  struct {
		Action      string `json:"action"`
		GID         int    `json:"gid"`
		SignatureID int    `json:"signature_id"`
		Rev         int    `json:"rev"`
		Signature   string `json:"signature"`
		Category    string `json:"category"`
		Severity    int    `json:"severity"`
	} `json:"alert"`
}

func readEVE(t *testing.T, path string) []eveLine {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []eveLine
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if l == "" {
			continue
		}
		var e eveLine
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("EVE line is not JSON: %v: %s", err, l)
		}
		out = append(out, e)
	}
	return out
}

// waitFor polls cond until it holds or 20 s pass.
func waitFor(t *testing.T, what string, cond func() bool, state ...func() string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			s := ""
			for _, f := range state {
				s += " " + f()
			}
			t.Fatalf("timed out waiting for %s%s", what, s)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestIDSKernel runs nlkit ids and nlkit nflog as child processes on
// traffic between two namespaces (one build of nlkit for all subtests).
func TestIDSKernel(t *testing.T) {
	nstest.RequireRoot(t)
	bin := buildNlkit(t)
	t.Run("traffic", func(t *testing.T) { testIDSTraffic(t, bin) })
	t.Run("fail-open-killed", func(t *testing.T) { testIDSFailOpenKilled(t, bin) })
	t.Run("install-nft", func(t *testing.T) { testIDSInstallNFT(t, bin) })
}

const idsTestRules = `# nlkit ids test rules
var TARGET [10.78.0.2,fd78::2]
drop udp any any -> $TARGET 5001 (msg:"evil udp"; content:"EVIL"; depth:4; sid:1000001; rev:3; classtype:trojan-activity;)
alert udp any any -> $TARGET 5001 (msg:"look udp"; content:"look"; nocase; sid:1000002;)
drop tcp any any -> $TARGET 5002 (msg:"evil tcp"; content:"EVIL"; sid:1000003; priority:2;)
alert tcp any any -> $TARGET 5002 (msg:"look tcp"; content:"lo"; content:"ok"; distance:0; within:2; sid:1000004;)
pass udp any any -> any 5001 (msg:"never alerted"; content:"PASS"; sid:1000005;)
`

func testIDSTraffic(t *testing.T, bin string) {
	a, b := idsPair(t)
	dir := t.TempDir()
	rules := filepath.Join(dir, "test.rules")
	if err := os.WriteFile(rules, []byte(idsTestRules), 0o644); err != nil {
		t.Fatal(err)
	}
	evePath := filepath.Join(dir, "eve.json")

	// NFLOG: an nft log rule ahead of the queue logs every UDP packet
	// to 5001; nlkit nflog prints them.
	b.Exec(t, "nft", `add table inet logt; add chain inet logt c { type filter hook input priority -10; }; add rule inet logt c udp dport 5001 log group 5 prefix "x"`)
	nflogChild := startNlkit(t, bin, "-n", b.Name, "-j", "nflog", "5")

	ids := startNlkit(t, bin, "-n", b.Name, "-j", "ids", "--queue", "3", "--rules", rules, "--eve", evePath, "--eve-payload",
		"--install-rule", "iptables", "--match", "-p udp", "--match", "-p tcp")
	waitLine(t, ids.stderr, "inspecting", ids)
	for _, tool := range []string{"iptables", "ip6tables"} {
		if out := string(b.Exec(t, tool, "-S", "INPUT")); strings.Count(out, "NFQUEUE --queue-num 3") != 2 {
			t.Fatalf("%s rule not installed:\n%s", tool, out)
		}
	}
	// Wait until nflog is bound: probe packets to 5001 until one shows.
	probe := listenUDP(t, b, "udp4", "10.78.0.2:5001")
	probe.listen(t, b, "udp6", "[fd78::2]:5001")
	var sender4, sender6 net.PacketConn
	inNS(t, a, func() (err error) {
		if sender4, err = net.ListenPacket("udp4", "10.78.0.1:0"); err != nil {
			return err
		}
		sender6, err = net.ListenPacket("udp6", "[fd78::1]:0")
		return err
	})
	defer sender4.Close()
	defer sender6.Close()
	dst4 := &net.UDPAddr{IP: net.ParseIP("10.78.0.2"), Port: 5001}
	dst6 := &net.UDPAddr{IP: net.ParseIP("fd78::2"), Port: 5001}
	probes := 0
	waitFor(t, "nlkit nflog to report a probe", func() bool {
		sender4.WriteTo([]byte("prob"), dst4)
		probes++
		select {
		case l := <-nflogChild.stdout:
			return strings.Contains(l, `"prefix":"x"`)
		case <-time.After(50 * time.Millisecond):
			return false
		}
	})
	waitFor(t, "probes to arrive", func() bool { return probe.get("prob") == probes })

	// UDP, IPv4 and IPv6: 250 of each kind per family, paced in rounds
	// so the queue (1024 packets) never overflows.
	const perKind = 250
	kinds := []string{"EVIL", "LoOk", "pure", "PASS"}
	sent := 0
	for i := 0; i < perKind; i++ {
		for _, k := range kinds {
			for _, s := range []struct {
				c   net.PacketConn
				dst net.Addr
			}{{sender4, dst4}, {sender6, dst6}} {
				if _, err := s.c.WriteTo([]byte(fmt.Sprintf("%s %d", k, i)), s.dst); err != nil {
					t.Fatal(err)
				}
				sent++
			}
		}
		if i%25 == 24 {
			want := 6 * (i + 1) // all but EVIL, two families
			waitFor(t, "UDP round to arrive", func() bool { return probe.sum()-probes >= want }, probe.String)
		}
	}
	waitFor(t, "UDP to arrive", func() bool { return probe.sum()-probes == 6*perKind })
	for _, k := range kinds {
		want := 2 * perKind
		if k == "EVIL" {
			want = 0
		}
		if got := probe.get(k); got != want {
			t.Errorf("received %d %q datagrams, want %d", got, k, want)
		}
	}

	// Counters on SIGUSR1 (JSON with -j).
	if err := ids.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	var counters struct {
		Packets, Accepted, Dropped, Alerts, Passed, Lost uint64
		QueueDropped                                     uint64 `json:"queue_dropped"`
		UserDropped                                      uint64 `json:"user_dropped"`
	}
	line := waitLine(t, ids.stderr, `"packets"`, ids)
	if err := json.Unmarshal([]byte(line), &counters); err != nil {
		t.Fatal(err)
	}
	udpTotal := uint64(sent + probes)
	if counters.Packets != udpTotal || counters.Dropped != 2*perKind || counters.Accepted != udpTotal-2*perKind ||
		counters.Alerts != 2*2*perKind || counters.Passed != 2*perKind || counters.Lost != 0 || counters.QueueDropped != 0 || counters.UserDropped != 0 {
		t.Errorf("counters %+v: want %d packets, %d dropped, %d alerts, %d passed, nothing lost", counters, udpTotal, 2*perKind, 4*perKind, 2*perKind)
	}

	// EVE: one alert per EVIL packet (blocked) and per LoOk packet
	// (allowed), none for pass or clean packets; fields as Suricata's.
	eve := readEVE(t, evePath)
	bySID := map[int]int{}
	for _, e := range eve {
		bySID[e.EveAlert.SignatureID]++
		if e.EventType != "alert" || e.Proto != "UDP" || e.SrcPort == nil || *e.DestPort != 5001 || e.InIface != "vb" || e.FlowID == 0 {
			t.Fatalf("EVE alert %+v", e)
		}
		if _, err := time.Parse("2006-01-02T15:04:05.000000-0700", e.Timestamp); err != nil {
			t.Fatalf("EVE timestamp: %v", err)
		}
		switch e.EveAlert.SignatureID {
		case 1000001:
			if e.EveAlert.Action != "blocked" || e.EveAlert.Rev != 3 || e.EveAlert.Signature != "evil udp" ||
				e.EveAlert.Category != "A Network Trojan was detected" || e.EveAlert.Severity != 1 || e.EveAlert.GID != 1 ||
				!strings.HasPrefix(e.Payload, "EVIL ") {
				t.Fatalf("drop alert %+v", e)
			}
		case 1000002:
			if e.EveAlert.Action != "allowed" || e.EveAlert.Severity != 3 || !strings.HasPrefix(e.Payload, "LoOk ") {
				t.Fatalf("alert %+v", e)
			}
		default:
			t.Fatalf("unexpected alert %+v", e)
		}
	}
	if bySID[1000001] != 2*perKind || bySID[1000002] != 2*perKind {
		t.Errorf("alerts by sid %v, want %d each for 1000001 and 1000002", bySID, 2*perKind)
	}
	// Both families are there.
	fam := map[bool]int{}
	for _, e := range eve {
		fam[strings.Contains(e.SrcIP, ":")]++
	}
	if fam[true] != fam[false] {
		t.Errorf("IPv6 alerts %d, IPv4 alerts %d: want the same", fam[true], fam[false])
	}

	// NFLOG saw every UDP packet to 5001, dropped ones included, with
	// its prefix and metadata.
	logged := map[string]int{}
	waitFor(t, "NFLOG lines", func() bool {
		for {
			select {
			case l := <-nflogChild.stdout:
				var p struct {
					Prefix, Proto, Src, Hook, Indev, Family string
					Dport                                   int
				}
				if err := json.Unmarshal([]byte(l), &p); err != nil {
					t.Fatalf("nflog line: %v: %s", err, l)
				}
				if p.Prefix != "x" || p.Proto != "udp" || p.Dport != 5001 || p.Hook != "input" || p.Indev != "vb" {
					t.Fatalf("nflog packet %s", l)
				}
				logged[p.Family]++
			default:
				return logged["ipv4"]+logged["ipv6"] == sent+probes-1
			}
		}
	})
	if logged["ipv6"] != sent/2 {
		t.Errorf("NFLOG IPv6 packets %d, want %d", logged["ipv6"], sent/2)
	}

	// TCP, IPv4 and IPv6: each connection sends one "look ok" segment
	// (alerted, delivered) and its FIN; "EVIL" segments never arrive.
	var ln4, ln6 net.Listener
	inNS(t, b, func() (err error) {
		if ln4, err = net.Listen("tcp4", "10.78.0.2:5002"); err != nil {
			return err
		}
		ln6, err = net.Listen("tcp6", "[fd78::2]:5002")
		return err
	})
	defer ln4.Close()
	defer ln6.Close()
	var recvMu sync.Mutex
	received := map[string]bool{}
	for _, ln := range []net.Listener{ln4, ln6} {
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					data, _ := io.ReadAll(c)
					recvMu.Lock()
					received[string(data)] = true
					recvMu.Unlock()
				}()
			}
		}()
	}
	var dialer net.Dialer
	dial := func(addr string) net.Conn {
		var c net.Conn
		inNS(t, a, func() (err error) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err = dialer.DialContext(ctx, "tcp", addr)
			return err
		})
		return c
	}
	const conns = 100
	for i := 0; i < conns; i++ {
		for _, addr := range []string{"10.78.0.2:5002", "[fd78::2]:5002"} {
			c := dial(addr)
			if _, err := fmt.Fprintf(c, "look ok %s %d", addr, i); err != nil {
				t.Fatal(err)
			}
			c.Close()
		}
	}
	evil := dial("10.78.0.2:5002")
	fmt.Fprintf(evil, "EVIL tcp")
	waitFor(t, "TCP data to arrive", func() bool {
		recvMu.Lock()
		defer recvMu.Unlock()
		return len(received) >= 2*conns
	})
	waitFor(t, "the EVIL segment to be alerted", func() bool {
		_ = ids.cmd.Process.Signal(syscall.SIGUSR1) // flushes EVE
		time.Sleep(50 * time.Millisecond)
		for _, e := range readEVE(t, evePath) {
			if e.EveAlert.SignatureID == 1000003 {
				return true
			}
		}
		return false
	})
	evil.(*net.TCPConn).SetLinger(0)
	evil.Close()
	recvMu.Lock()
	for k := range received {
		if strings.Contains(k, "EVIL") {
			t.Errorf("dropped TCP data arrived: %q", k)
		}
	}
	recvMu.Unlock()
	tcpAlerts := map[string]int{}
	for _, e := range readEVE(t, evePath) {
		switch e.EveAlert.SignatureID {
		case 1000004:
			if e.Proto != "TCP" || *e.DestPort != 5002 || e.EveAlert.Action != "allowed" {
				t.Fatalf("TCP alert %+v", e)
			}
			tcpAlerts[e.Payload]++
		case 1000003:
			if e.EveAlert.Action != "blocked" || e.EveAlert.Severity != 2 || e.Payload != "EVIL tcp" {
				t.Fatalf("TCP drop alert %+v", e)
			}
		}
	}
	// One alert per distinct segment (a retransmission would be a
	// second packet with the same payload, alerted again).
	if len(tcpAlerts) != 2*conns {
		t.Errorf("TCP alerts for %d distinct segments, want %d", len(tcpAlerts), 2*conns)
	}

	// SIGHUP with a broken file keeps the rules; a good one replaces them.
	if err := os.WriteFile(rules, []byte("alert udp any any -> any 5001 (msg:\"x\"; sid:1;)\ndrop udp any any -> any any (content:\"a\"; sid:2; bogus:1;)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ids.cmd.Process.Signal(syscall.SIGHUP)
	l := waitLine(t, ids.stderr, "reload", ids)
	if !strings.Contains(l, "test.rules:2") || !strings.Contains(l, `"bogus"`) || !strings.Contains(l, "keeping the 5 rules") {
		t.Errorf("bad reload reported as %q", l)
	}
	if _, err := sender4.WriteTo([]byte("EVIL after bad reload"), dst4); err != nil {
		t.Fatal(err)
	}
	// The old rules drop it: wait for its alert before reloading again.
	waitFor(t, "the alert of the EVIL datagram after the bad reload", func() bool {
		_ = ids.cmd.Process.Signal(syscall.SIGUSR1) // flushes EVE
		time.Sleep(50 * time.Millisecond)
		for _, e := range readEVE(t, evePath) {
			if e.Payload == "EVIL after bad reload" && e.EveAlert.Action == "blocked" {
				return true
			}
		}
		return false
	})
	if err := os.WriteFile(rules, []byte("drop udp any any -> any 5001 (msg:\"new\"; content:\"NEW\"; sid:7;)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ids.cmd.Process.Signal(syscall.SIGHUP)
	waitLine(t, ids.stderr, "reloaded 1 rules", ids)
	before := probe.sum()
	for _, m := range []string{"NEW x", "EVIL now passes"} {
		if _, err := sender4.WriteTo([]byte(m), dst4); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the EVIL datagram after reload", func() bool { return probe.get("EVIL") == 1 }, probe.String, ids.errBuf.String)
	if probe.sum() != before+1 || probe.get("NEW ") != 0 {
		t.Errorf("after reload: %d more datagrams arrived, NEW %d; want only the EVIL one", probe.sum()-before, probe.get("NEW "))
	}

	// SIGINT: counters, rules removed, exit 0.
	ids.cmd.Process.Signal(syscall.SIGINT)
	if err := ids.cmd.Wait(); err != nil {
		t.Fatalf("nlkit ids after SIGINT: %v\n%s", err, ids.errBuf.String())
	}
	if !strings.Contains(ids.errBuf.String(), `"dropped"`) {
		t.Errorf("no counters on exit:\n%s", ids.errBuf.String())
	}
	for _, tool := range []string{"iptables", "ip6tables"} {
		if out := string(b.Exec(t, tool, "-S")); strings.Contains(out, "NFQUEUE") {
			t.Errorf("%s rule left behind:\n%s", tool, out)
		}
	}
}

// A consumer killed mid-stream with --fail-open leaves traffic flowing:
// the installed rule has the bypass flag.
func testIDSFailOpenKilled(t *testing.T, bin string) {
	a, b := idsPair(t)
	rules := filepath.Join(t.TempDir(), "r.rules")
	if err := os.WriteFile(rules, []byte("drop udp any any -> any 5003 (msg:\"evil\"; content:\"EVIL\"; sid:1;)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ids := startNlkit(t, bin, "-n", b.Name, "ids", "-q", "4:5", "-r", rules, "--eve", os.DevNull, "--fail-open",
		"--install-rule", "iptables", "--match", "-p udp --dport 5003")
	waitLine(t, ids.stderr, "inspecting", ids)
	if out := string(b.Exec(t, "iptables", "-S", "INPUT")); !strings.Contains(out, "--queue-balance 4:5") || !strings.Contains(out, "--queue-bypass") {
		t.Fatalf("rule:\n%s", out)
	}
	recv := listenUDP(t, b, "udp4", "10.78.0.2:5003")
	var s net.PacketConn
	inNS(t, a, func() (err error) { s, err = net.ListenPacket("udp4", "10.78.0.1:0"); return err })
	defer s.Close()
	dst := &net.UDPAddr{IP: net.ParseIP("10.78.0.2"), Port: 5003}
	send := func(text string, n int) {
		for i := 0; i < n; i++ {
			if _, err := s.WriteTo([]byte(text), dst); err != nil {
				t.Fatal(err)
			}
		}
	}
	send("EVIL", 100)
	send("good", 100)
	waitFor(t, "good datagrams", func() bool { return recv.get("good") == 100 })
	if recv.get("EVIL") != 0 {
		t.Fatalf("%d EVIL datagrams arrived while nlkit ids ran", recv.get("EVIL"))
	}
	// Killed mid-stream: no cleanup runs, the rule stays, traffic flows.
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				send("midd", 1)
			}
		}
	}()
	time.Sleep(20 * time.Millisecond)
	if err := ids.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	ids.cmd.Wait()
	close(stop)
	<-done
	if out := string(b.Exec(t, "iptables", "-S", "INPUT")); !strings.Contains(out, "NFQUEUE") {
		t.Fatalf("the rule vanished with the process:\n%s", out)
	}
	send("EVIL", 100)
	send("late", 100)
	waitFor(t, "traffic after the kill", func() bool { return recv.get("late") == 100 && recv.get("EVIL") == 100 })
}

// --install-rule nft adds a table of its own and removes it on exit; on
// a kernel without nft_queue it fails with an error saying so and leaves
// nothing behind.
func testIDSInstallNFT(t *testing.T, bin string) {
	_, b := idsPair(t)
	rules := filepath.Join(t.TempDir(), "r.rules")
	if err := os.WriteFile(rules, []byte("alert udp any any -> any 5004 (msg:\"x\"; sid:1;)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ids := startNlkit(t, bin, "-n", b.Name, "ids", "-q", "6", "-r", rules, "--eve", os.DevNull, "--install-rule", "nft",
		"--match", "udp dport 5004", "--hook", "input,forward")
	var first string
	select {
	case first = <-ids.stderr:
	case <-time.After(20 * time.Second):
		t.Fatal("nlkit ids said nothing")
	}
	table := fmt.Sprintf("nlkit_ids_%d", ids.cmd.Process.Pid)
	if strings.Contains(first, "inspecting") {
		out := string(b.Exec(t, "nft", "list", "table", "inet", table))
		if !strings.Contains(out, "hook input") || !strings.Contains(out, "hook forward") || !strings.Contains(out, "udp dport 5004 queue") {
			t.Errorf("installed table:\n%s", out)
		}
		ids.cmd.Process.Signal(syscall.SIGTERM)
		if err := ids.cmd.Wait(); err != nil {
			t.Fatalf("after SIGTERM: %v\n%s", err, ids.errBuf.String())
		}
	} else {
		ids.cmd.Wait()
		if ids.cmd.ProcessState.ExitCode() != 1 || !strings.Contains(first, "CONFIG_NFT_QUEUE") || !strings.Contains(first, "--install-rule iptables") ||
			strings.Count(strings.TrimSpace(ids.errBuf.String()), "\n") != 0 {
			t.Fatalf("exit %d: %s%s", ids.cmd.ProcessState.ExitCode(), first, ids.errBuf.String())
		}
	}
	if out := string(b.Exec(t, "nft", "list", "tables")); strings.Contains(out, table) {
		t.Errorf("table %s left behind:\n%s", table, out)
	}
	if out, _ := os.ReadFile("/proc/net/netfilter/nfnetlink_queue"); strings.Contains(string(out), "    6 ") {
		t.Logf("note: queue 6 in the host namespace: %s", out)
	}
}
