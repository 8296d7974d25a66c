// Command nfqueue measures packets per second through an NFQUEUE queue:
// UDP datagrams sent from one network namespace over a veth pair to
// another, where an iptables rule queues them to queue 0 and a consumer
// gives every packet an accept verdict. The consumers, one child process
// each, run one after the other on the same traffic:
//
//   - nlkit: package nfqueue, accept-all;
//   - nlkit+ids: package nfqueue, each packet inspected by package ids with
//     a 1,000-rule set (no rule matches the traffic: the cost measured is
//     decoding and matching);
//   - nlkit ids (CLI): the `nlkit ids` command with the same rules;
//   - go-nfqueue: florianl/go-nfqueue, accept-all, and go-nfqueue+ids,
//     with the same ids engine;
//   - libnetfilter_queue: a small C program (csrc/nfqbench.c), accept-all.
//
// Each run sends for -duration as fast as one sender goroutine can; the
// kernel drops what the queue cannot hold (1,024 packets), so the rate
// of verdicts is the consumer's throughput. The median of -runs runs is
// printed as a markdown table.
//
//	cd bench && go run ./nfqueue            # root; iptables, nft, cc, libnetfilter-queue-dev
//	cd bench && go run ./nfqueue -duration 5s -runs 5 -impls nlkit,libnetfilter_queue
//
// It is not part of the test suite.
package main

import (
	"bufio"
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nlkit/nlkit/netlink"
)

//go:embed csrc/nfqbench.c
var cSource []byte

var implOrder = []string{"libnetfilter_queue", "nlkit", "go-nfqueue", "nlkit+ids", "go-nfqueue+ids", "nlkit-ids-cli"}

var implText = map[string]string{
	"libnetfilter_queue": "libnetfilter_queue (C), accept-all",
	"nlkit":              "nlkit nfqueue, accept-all",
	"go-nfqueue":         "florianl/go-nfqueue, accept-all",
	"nlkit+ids":          "nlkit nfqueue + ids, RULES rules",
	"go-nfqueue+ids":     "go-nfqueue + nlkit ids engine, RULES rules",
	"nlkit-ids-cli":      "`nlkit ids` CLI, RULES rules",
}

func main() {
	worker := flag.String("worker", "", "internal: run this Go consumer")
	ns := flag.String("ns", "", "internal: the consumer's namespace")
	rulesFile := flag.String("rules-file", "", "internal: the rules")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of each Go consumer to `FILE`.IMPL")
	duration := flag.Duration("duration", 3*time.Second, "how long each run sends")
	runs := flag.Int("runs", 3, "runs per implementation (the median is reported)")
	impls := flag.String("impls", strings.Join(implOrder, ","), "implementations to run")
	nrules := flag.Int("rules", 1000, "rules in the rule set")
	size := flag.Int("size", 64, "UDP payload bytes")
	flag.Parse()
	if *worker != "" {
		if err := runWorker(*worker, *ns, *rulesFile, *cpuProfile); err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			os.Exit(1)
		}
		return
	}
	if err := drive(*duration, *runs, strings.Split(*impls, ","), *nrules, *size, *cpuProfile); err != nil {
		fmt.Fprintln(os.Stderr, "nfqueue bench:", err)
		os.Exit(1)
	}
}

func sh(args ...string) error {
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

type result struct {
	impl     string
	verdicts []float64 // per second, per run
	sent     []float64
}

func drive(duration time.Duration, runs int, impls []string, nrules, size int, cpuProfile string) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("needs root (network namespaces, iptables)")
	}
	tmp, err := os.MkdirTemp("", "nfqbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	a, b := fmt.Sprintf("nfqbench-a-%d", os.Getpid()), fmt.Sprintf("nfqbench-b-%d", os.Getpid())
	for _, n := range []string{a, b} {
		if err := sh("ip", "netns", "add", n); err != nil {
			return err
		}
		defer exec.Command("ip", "netns", "del", n).Run()
	}
	for _, c := range [][]string{
		{"ip", "-n", a, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", b},
		{"ip", "-n", a, "addr", "add", "10.79.0.1/24", "dev", "va"},
		{"ip", "-n", b, "addr", "add", "10.79.0.2/24", "dev", "vb"},
		{"ip", "-n", a, "link", "set", "va", "up"},
		{"ip", "-n", b, "link", "set", "vb", "up"},
		{"ip", "-n", b, "link", "set", "lo", "up"},
		{"ip", "netns", "exec", b, "iptables", "-A", "INPUT", "-p", "udp", "--dport", "9000", "-j", "NFQUEUE", "--queue-num", "0"},
		// Accepted packets are dropped right after, by a later chain:
		// no socket or ICMP error needed.
		{"ip", "netns", "exec", b, "nft", "add table inet sink; add chain inet sink c { type filter hook input priority 10; }; add rule inet sink c udp dport 9000 drop"},
	} {
		if err := sh(c...); err != nil {
			return err
		}
	}
	rules := filepath.Join(tmp, "bench.rules")
	if err := os.WriteFile(rules, []byte(genRules(nrules)), 0o644); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, i := range impls {
		want[strings.TrimSpace(i)] = true
	}
	cBin, nlkitBin := filepath.Join(tmp, "nfqbench"), filepath.Join(tmp, "nlkit")
	if want["libnetfilter_queue"] {
		src := filepath.Join(tmp, "nfqbench.c")
		if err := os.WriteFile(src, cSource, 0o644); err != nil {
			return err
		}
		if err := sh("cc", "-O2", "-o", cBin, src, "-lnetfilter_queue"); err != nil {
			return fmt.Errorf("build the C consumer (apt-get install gcc libnetfilter-queue-dev): %w", err)
		}
	}
	if want["nlkit-ids-cli"] {
		if err := sh("go", "build", "-C", "..", "-o", nlkitBin, "./cmd/nlkit"); err != nil {
			return err
		}
	}
	// The sender, in namespace a.
	var conn *net.UDPConn
	if err := netlink.RunInNetNS(&netlink.Config{NetNS: a}, func() error {
		var err error
		conn, err = net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.ParseIP("10.79.0.2"), Port: 9000})
		return err
	}); err != nil {
		return err
	}
	defer conn.Close()
	payload := make([]byte, size)
	copy(payload, "GET /index.html HTTP/1.1\r\nHost: bench.example\r\n\r\n")

	var results []result
	for _, impl := range implOrder {
		if !want[impl] {
			continue
		}
		res := result{impl: impl}
		for r := 0; r < runs; r++ {
			var cmd *exec.Cmd
			ready := "ready"
			// The consumer has CPU 1 to itself; the sender (and the
			// kernel's work of queueing, in its softirq) has CPU 0.
			pin := []string{"taskset", "-c", "1"}
			switch impl {
			case "libnetfilter_queue":
				cmd = exec.Command(pin[0], append(pin[1:], "ip", "netns", "exec", b, cBin, "0")...)
			case "nlkit-ids-cli":
				cmd = exec.Command(pin[0], append(pin[1:], nlkitBin, "-n", b, "-j", "ids", "-q", "0", "-r", rules, "--eve", os.DevNull)...)
				ready = "inspecting"
			default:
				args := []string{self, "-worker", impl, "-ns", b, "-rules-file", rules}
				if cpuProfile != "" {
					args = append(args, "-cpuprofile", cpuProfile+"."+impl)
				}
				cmd = exec.Command(pin[0], append(pin[1:], args...)...)
			}
			v, s, err := runOnce(cmd, ready, conn, payload, duration)
			if err != nil {
				return fmt.Errorf("%s: %w", impl, err)
			}
			res.verdicts = append(res.verdicts, v)
			res.sent = append(res.sent, s)
			fmt.Fprintf(os.Stderr, "%s run %d: %.0f verdicts/s (%.0f sent/s)\n", impl, r+1, v, s)
		}
		results = append(results, res)
	}
	printTable(results, nrules, size, duration, runs)
	return nil
}

// runOnce starts a consumer, waits until it is bound, sends for d and
// returns its verdicts and the datagrams sent, per second.
func runOnce(cmd *exec.Cmd, ready string, conn *net.UDPConn, payload []byte, d time.Duration) (float64, float64, error) {
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, 0, err
	}
	var lines chan string = make(chan string, 16)
	if ready == "inspecting" { // the CLI reports on standard error
		cmd.Stdout = nil
		errPipe, err := cmd.StderrPipe()
		if err != nil {
			return 0, 0, err
		}
		out = errPipe
	}
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	defer cmd.Process.Kill()
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	timeout := time.After(20 * time.Second)
	for bound := false; !bound; {
		select {
		case l, ok := <-lines:
			if !ok {
				return 0, 0, fmt.Errorf("consumer exited before binding")
			}
			bound = strings.Contains(l, ready)
		case <-timeout:
			return 0, 0, fmt.Errorf("consumer did not bind")
		}
	}
	sent, elapsed, err := send(conn, payload, d)
	if err != nil {
		return 0, 0, err
	}
	time.Sleep(300 * time.Millisecond) // let the queue drain
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return 0, 0, err
	}
	var verdicts float64 = -1
	for l := range lines {
		if v, ok := strings.CutPrefix(l, "verdicts "); ok {
			verdicts, _ = strconv.ParseFloat(v, 64)
		}
		if strings.HasPrefix(l, "{") {
			var c struct{ Accepted float64 }
			if json.Unmarshal([]byte(l), &c) == nil {
				verdicts = c.Accepted
			}
		}
	}
	cmd.Wait()
	if verdicts < 0 {
		return 0, 0, fmt.Errorf("consumer reported no count")
	}
	return verdicts / elapsed.Seconds(), float64(sent) / elapsed.Seconds(), nil
}

// send writes payload to conn for d from a thread pinned to CPU 0.
func send(conn *net.UDPConn, payload []byte, d time.Duration) (int, time.Duration, error) {
	type res struct {
		n   int
		d   time.Duration
		err error
	}
	ch := make(chan res, 1)
	go func() {
		runtime.LockOSThread() // the thread dies with the goroutine
		var set unix.CPUSet
		set.Set(0)
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			ch <- res{err: fmt.Errorf("pin the sender to CPU 0: %w", err)}
			return
		}
		sent := 0
		start := time.Now()
		for time.Since(start) < d {
			for i := 0; i < 64; i++ {
				if _, err := conn.Write(payload); err == nil {
					sent++
				}
			}
		}
		ch <- res{n: sent, d: time.Since(start)}
	}()
	r := <-ch
	return r.n, r.d, r.err
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func printTable(results []result, nrules, size int, d time.Duration, runs int) {
	fmt.Printf("NFQUEUE throughput: UDP, %d-byte payloads, one sender pinned to CPU 0, the consumer pinned to CPU 1, veth between two namespaces, queue 0 (max 1024); median of %d runs of %v; %d CPUs.\n\n", size, runs, d, nproc())
	base := 0.0
	for _, r := range results {
		if r.impl == "libnetfilter_queue" {
			base = median(r.verdicts)
		}
	}
	fmt.Println("| consumer | verdicts/s | offered/s | vs libnetfilter_queue |")
	fmt.Println("| --- | ---: | ---: | ---: |")
	for _, r := range results {
		ratio := "-"
		if base > 0 {
			ratio = fmt.Sprintf("%.2f", median(r.verdicts)/base)
		}
		name := strings.ReplaceAll(implText[r.impl], "RULES", fmt.Sprintf("%d", nrules))
		fmt.Printf("| %s | %.0f | %.0f | %s |\n", name, median(r.verdicts), median(r.sent), ratio)
	}
}

func nproc() int {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return 0
	}
	return strings.Count(string(b), "processor\t:")
}

// genRules makes n rules in the shapes real rule sets have (single
// contents, chained contents with distance/within, nocase, pcre behind a
// content, drop rules on addresses), none of which matches the benchmark
// traffic.
func genRules(n int) string {
	rng := rand.New(rand.NewSource(42))
	word := func(k int) string {
		b := make([]byte, k)
		for i := range b {
			b[i] = byte('a' + rng.Intn(26))
		}
		return string(b)
	}
	var s strings.Builder
	for i := 0; i < n; i++ {
		sid := 2000000 + i
		switch i % 10 {
		case 0, 1, 2, 3:
			fmt.Fprintf(&s, "alert udp any any -> any any (msg:\"bench %d\"; content:\"%s\"; sid:%d; rev:1;)\n", i, word(8), sid)
		case 4, 5:
			fmt.Fprintf(&s, "alert udp any any -> any 9000 (msg:\"bench %d\"; content:\"%s\"; nocase; content:\"%s\"; distance:0; within:20; sid:%d;)\n", i, word(6), word(4), sid)
		case 6:
			fmt.Fprintf(&s, "alert udp any any -> any any (msg:\"bench %d\"; content:\"%s\"; pcre:\"/%s[0-9]+/i\"; sid:%d;)\n", i, word(7), word(3), sid)
		case 7:
			fmt.Fprintf(&s, "drop udp 10.%d.%d.0/24 any -> any any (msg:\"bench %d\"; content:\"|%02x %02x|%s\"; sid:%d;)\n", rng.Intn(256), rng.Intn(256), i, rng.Intn(256), rng.Intn(256), word(5), sid)
		case 8:
			fmt.Fprintf(&s, "alert tcp any any -> any [80,443,8080] (msg:\"bench %d\"; content:\"%s\"; depth:64; classtype:web-application-attack; sid:%d;)\n", i, word(9), sid)
		case 9:
			fmt.Fprintf(&s, "alert udp any any -> any 53 (msg:\"bench %d\"; content:\"|05|%s\"; sid:%d;)\n", i, word(5), sid)
		}
	}
	return s.String()
}
