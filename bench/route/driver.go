package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
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

	"github.com/nlkit/nlkit/netlink"
)

// runOuter prepares the tools and the namespace and runs the driver
// inside it (`ip netns exec`), so that every child it starts is there.
func runOuter(o *options, args []string) error {
	if os.Geteuid() != 0 {
		return errors.New("needs root: it creates a network namespace")
	}
	for _, tool := range []string{"ip", "cc", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found: %w", tool, err)
		}
	}
	base := os.TempDir()
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		base = "/dev/shm" // batch files and outputs in memory, not on disk
	}
	tmp, err := os.MkdirTemp(base, "nlbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	src := filepath.Join(tmp, "mnlbench.c")
	mnl := filepath.Join(tmp, "mnlbench")
	if err := os.WriteFile(src, mnlSource, 0o644); err != nil {
		return err
	}
	if out, err := exec.Command("cc", "-O2", "-Wall", "-o", mnl, src, "-lmnl").CombinedOutput(); err != nil {
		return fmt.Errorf("compile mnlbench.c (apt-get install libmnl-dev): %v\n%s", err, out)
	}
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/nlkit/nlkit").Output()
	if err != nil {
		return fmt.Errorf("find the nlkit module: %w", err)
	}
	nlkit := filepath.Join(tmp, "nlkit")
	build := exec.Command("go", "build", "-o", nlkit, "./cmd/nlkit")
	build.Dir = strings.TrimSpace(string(root))
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build nlkit: %v\n%s", err, out)
	}

	ns := fmt.Sprintf("nlbench-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		return fmt.Errorf("ip netns add: %v: %s", err, out)
	}
	defer exec.Command("ip", "netns", "del", ns).Run()
	for _, c := range [][]string{
		{"link", "set", "lo", "up"},
		{"link", "add", "veth0", "type", "veth", "peer", "name", "veth1"},
		{"addr", "add", "10.0.0.1/24", "dev", "veth0"},
		{"link", "set", "veth0", "up"},
		{"link", "set", "veth1", "up"},
	} {
		if out, err := exec.Command("ip", append([]string{"-n", ns}, c...)...).CombinedOutput(); err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(c, " "), err, out)
		}
	}
	outPath, err := filepath.Abs(o.out)
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command("ip", append(append([]string{"netns", "exec", ns, exe}, args...),
		"-inner", "-tmp", tmp, "-nlkit", nlkit, "-mnl", mnl, "-out", outPath)...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Run()
}

// sample is one measured run of one implementation.
type sample struct {
	wall, cpu, rssMiB float64
	allocs            float64 // per operation; NaN if unknown
	count             int64
	overrun           bool
}

type key struct {
	workload string
	n        int
	impl     string
}

type driver struct {
	o        *options
	ifindex  int
	exe      string
	samples  map[key][]sample
	failures map[key][]string
	order    []key
}

// implOrder is the column order of the tables.
var implOrder = []string{"nlkit", "nlkit-raw", "nlkit-cli", "vishvananda", "jsimonetti", "iproute2", "libmnl"}

// implsFor lists who takes part in each workload.
var implsFor = map[string][]string{
	"install":   {"nlkit", "nlkit-cli", "vishvananda", "jsimonetti", "iproute2", "libmnl"},
	"dump":      {"nlkit", "nlkit-raw", "nlkit-cli", "vishvananda", "jsimonetti", "iproute2", "libmnl"},
	"delete":    {"nlkit", "nlkit-cli", "vishvananda", "jsimonetti", "iproute2", "libmnl"},
	"events":    {"nlkit", "vishvananda", "jsimonetti", "iproute2", "libmnl"},
	"roundtrip": {"nlkit", "vishvananda", "jsimonetti", "iproute2", "libmnl"},
}

func (d *driver) impls(workload string) []string {
	var out []string
	for _, i := range implsFor[workload] {
		if d.o.impls[i] {
			out = append(out, i)
		}
	}
	return out
}

func runInner(o *options) error {
	ifi, err := net.InterfaceByName("veth0")
	if err != nil {
		return fmt.Errorf("not in the benchmark namespace: %w", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	d := &driver{o: o, ifindex: ifi.Index, exe: exe, samples: map[key][]sample{}, failures: map[key][]string{}}
	fmt.Printf("nlbench: %s, %d CPUs, kernel %s, namespace with veth0 (index %d) 10.0.0.1/24; runs %d\n",
		runtime.Version(), runtime.NumCPU(), kernelRelease(), ifi.Index, o.runs)
	if len(o.sweep) > 0 {
		return d.runSweep(o.sizes[0])
	}
	for _, n := range o.sizes {
		if err := d.writeBatchFiles(n); err != nil {
			return err
		}
		if err := d.clear(n); err != nil {
			return err
		}
		if o.workloads["install"] || o.workloads["dump"] || o.workloads["delete"] {
			for run := 0; run < o.runs; run++ {
				if err := d.changeRun(n, run); err != nil {
					return err
				}
			}
		}
		if o.workloads["events"] {
			for run := 0; run < o.eventRuns; run++ {
				for _, impl := range d.impls("events") {
					d.eventsRun(n, impl)
				}
			}
		}
	}
	if o.workloads["roundtrip"] {
		for run := 0; run < o.runs; run++ {
			for _, impl := range d.impls("roundtrip") {
				d.record(key{"roundtrip", o.rtCount, impl}, func() (sample, error) { return d.roundtrip(impl) })
			}
		}
	}
	recs := d.records()
	b, err := json.MarshalIndent(recs, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(o.out, append(b, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Printf("\nwrote %s\n\n", o.out)
	printTables(os.Stdout, recs, d.failures)
	return nil
}

func kernelRelease() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}

// record runs fn and files its sample, or its failure.
func (d *driver) record(k key, fn func() (sample, error)) {
	if _, ok := d.samples[k]; !ok && len(d.failures[k]) == 0 {
		d.order = append(d.order, k)
	}
	s, err := fn()
	if err != nil {
		d.failures[k] = append(d.failures[k], err.Error())
		fmt.Printf("  %-9s n=%-8d %-12s FAILED: %v\n", k.workload, k.n, k.impl, err)
		return
	}
	d.samples[k] = append(d.samples[k], s)
	extra := ""
	if !math.IsNaN(s.allocs) {
		extra = fmt.Sprintf(" allocs/op %.2f", s.allocs)
	}
	if k.workload == "events" {
		extra += fmt.Sprintf(" overrun %v", s.overrun)
	}
	fmt.Printf("  %-9s n=%-8d %-12s wall %8.3fs cpu %8.3fs rss %7.1fMiB count %d%s\n",
		k.workload, k.n, k.impl, s.wall, s.cpu, s.rssMiB, s.count, extra)
}

// changeRun installs N routes with each implementation in turn; after
// the first install it runs every dump; each install is followed by the
// same implementation's delete.
func (d *driver) changeRun(n, run int) error {
	fmt.Printf("n=%d run %d\n", n, run+1)
	dumped := false
	for _, impl := range d.impls("install") {
		if d.o.workloads["install"] {
			d.record(key{"install", n, impl}, func() (sample, error) { return d.change("install", impl, n) })
		} else if err := d.fill(n); err != nil {
			return err
		}
		if got := d.count(); got != n {
			d.failures[key{"install", n, impl}] = append(d.failures[key{"install", n, impl}], fmt.Sprintf("%d routes installed, want %d", got, n))
			if err := d.fill(n); err != nil {
				return err
			}
		}
		if !dumped && d.o.workloads["dump"] {
			dumped = true
			for _, di := range d.impls("dump") {
				d.record(key{"dump", n, di}, func() (sample, error) { return d.dump(di, n) })
			}
		}
		if d.o.workloads["delete"] {
			d.record(key{"delete", n, impl}, func() (sample, error) { return d.change("delete", impl, n) })
		}
		if err := d.clear(n); err != nil {
			return err
		}
		if !d.o.workloads["install"] {
			break
		}
	}
	return nil
}

// count returns the number of benchmark routes in the main table.
func (d *driver) count() int {
	c, err := netlink.Dial(netlink.Route, nil)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	req := netlink.Message{Header: netlink.Header{Type: 26}, Data: make([]byte, 12)}
	req.Data[0] = 2
	n := 0
	for m, err := range c.Dump(context.Background(), req) {
		if err != nil {
			panic(err)
		}
		if m.Header.Type == 24 && len(m.Data) >= 12 && m.Data[1] == 32 && m.Data[4] == 254 {
			n++
		}
	}
	return n
}

// fill installs n routes with the C program, unmeasured.
func (d *driver) fill(n int) error {
	if out, err := exec.Command(d.o.mnlBin, "install", strconv.Itoa(n), strconv.Itoa(d.ifindex)).CombinedOutput(); err != nil {
		return fmt.Errorf("fill: %v: %s", err, out)
	}
	if got := d.count(); got != n {
		return fmt.Errorf("fill: %d routes, want %d", got, n)
	}
	return nil
}

// clear deletes every benchmark route, unmeasured, and checks.
func (d *driver) clear(n int) error {
	if d.count() == 0 {
		return nil
	}
	_ = exec.Command(d.o.mnlBin, "delete", strconv.Itoa(n), strconv.Itoa(d.ifindex)).Run()
	if got := d.count(); got != 0 {
		return fmt.Errorf("clear: %d routes left", got)
	}
	return nil
}

func (d *driver) batchFile(kind string, n int) string {
	return filepath.Join(d.o.tmp, fmt.Sprintf("%s-%d.batch", kind, n))
}

func (d *driver) writeBatchFiles(n int) error {
	// Written through a small buffer: the driver stays small (its
	// children's peak RSS is measured apart from it anyway).
	for _, verb := range []string{"add", "del"} {
		f, err := os.Create(d.batchFile(verb, n))
		if err != nil {
			return err
		}
		w := bufio.NewWriter(f)
		for i := 0; i < n; i++ {
			fmt.Fprintf(w, "route %s %s/32 via 10.0.0.2 dev veth0\n", verb, routeDst(i))
		}
		if err := w.Flush(); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

// measure runs cmd to its end and reads its wall time, CPU time and
// peak RSS (getrusage of the child: ru_maxrss).
func (d *driver) measure(cmd *exec.Cmd) (sample, error) {
	var stderr bytes.Buffer
	if cmd.Stderr == nil {
		cmd.Stderr = &stderr
	}
	p, err := d.start(cmd)
	if err != nil {
		return sample{}, err
	}
	s, err := p.wait()
	if err != nil {
		return sample{}, fmt.Errorf("%v: %s", err, lastLines(stderr.String()))
	}
	return s, nil
}

// proc is a measured child, started through `mnlbench run` so that its
// ru_maxrss is its own (see mnlbench.c).
type proc struct {
	cmd   *exec.Cmd
	usage *os.File
	name  string
}

func (d *driver) start(cmd *exec.Cmd) (*proc, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	name := filepath.Base(cmd.Path)
	cmd.Args = append([]string{d.o.mnlBin, "run", cmd.Path}, cmd.Args[1:]...)
	cmd.Path = d.o.mnlBin
	cmd.ExtraFiles = []*os.File{w}
	err = cmd.Start()
	w.Close()
	if err != nil {
		r.Close()
		return nil, err
	}
	return &proc{cmd: cmd, usage: r, name: name}, nil
}

// signal sends sig to the program (the runner forwards it).
func (p *proc) signal(sig os.Signal) { _ = p.cmd.Process.Signal(sig) }

// runnerUsage is what `mnlbench run` writes to file descriptor 3.
type runnerUsage struct {
	Wall   float64 `json:"wall_s"`
	User   float64 `json:"user_s"`
	Sys    float64 `json:"sys_s"`
	MaxRSS int64   `json:"maxrss_kib"`
}

func (p *proc) wait() (sample, error) {
	werr := p.cmd.Wait()
	b, rerr := io.ReadAll(p.usage)
	p.usage.Close()
	if werr != nil {
		return sample{}, fmt.Errorf("%s: %w", p.name, werr)
	}
	var u runnerUsage
	if err := json.Unmarshal(b, &u); err != nil || rerr != nil {
		return sample{}, fmt.Errorf("%s: no usage from the runner (%q): %v %v", p.name, b, err, rerr)
	}
	return sample{wall: u.Wall, cpu: u.User + u.Sys, rssMiB: float64(u.MaxRSS) / 1024, allocs: math.NaN()}, nil
}

func lastLines(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, "\n")
}

// runResult runs a child that prints a workerOut JSON line last.
func (d *driver) runResult(cmd *exec.Cmd) (sample, workerOut, error) {
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	s, err := d.measure(cmd)
	if err != nil {
		return s, workerOut{}, err
	}
	var out workerOut
	if err := json.Unmarshal(lastLine(stdout.Bytes()), &out); err != nil {
		return s, out, fmt.Errorf("%s: bad result %q: %w", filepath.Base(cmd.Path), stdout.String(), err)
	}
	return s, out, nil
}

func lastLine(b []byte) []byte {
	b = bytes.TrimSpace(b)
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		return b[i+1:]
	}
	return b
}

func (d *driver) workerCmd(impl, workload string, n int) *exec.Cmd {
	return exec.Command(d.exe, "-worker", impl, "-workload", workload, "-n", strconv.Itoa(n),
		"-ifindex", strconv.Itoa(d.ifindex), "-dev", "veth0")
}

func isGo(impl string) bool {
	_, ok := workers[impl]
	return ok
}

// change runs an install or delete of n routes and checks the table.
func (d *driver) change(workload, impl string, n int) (sample, error) {
	verb := map[string]string{"install": "add", "delete": "del"}[workload]
	var s sample
	var err error
	switch {
	case isGo(impl):
		var out workerOut
		s, out, err = d.runResult(d.workerCmd(impl, workload, n))
		if err == nil {
			s.allocs = float64(out.Allocs) / float64(n)
		}
	case impl == "libmnl":
		s, _, err = d.runResult(exec.Command(d.o.mnlBin, workload, strconv.Itoa(n), strconv.Itoa(d.ifindex), strconv.Itoa(d.o.batchMsgs)))
	case impl == "iproute2":
		s, err = d.measure(exec.Command("ip", "-batch", d.batchFile(verb, n)))
	case impl == "nlkit-cli":
		s, err = d.measure(exec.Command(d.o.nlkitBin, "-batch", d.batchFile(verb, n)))
	default:
		return s, fmt.Errorf("no %s for %s", workload, impl)
	}
	if err != nil {
		return s, err
	}
	got := d.count()
	want := n
	if workload == "delete" {
		want = 0
	}
	if got != want {
		return s, fmt.Errorf("%d routes in the table after %s, want %d", got, workload, want)
	}
	s.count = int64(n)
	return s, nil
}

// dump lists the table with impl and checks it saw all n routes.
func (d *driver) dump(impl string, n int) (sample, error) {
	var s sample
	var err error
	switch {
	case isGo(impl):
		var out workerOut
		s, out, err = d.runResult(d.workerCmd(impl, "dump", n))
		s.count, s.allocs = out.Count, float64(out.Allocs)/float64(n)
	case impl == "libmnl":
		var out workerOut
		s, out, err = d.runResult(exec.Command(d.o.mnlBin, "dump"))
		s.count = out.Count
	case impl == "iproute2", impl == "nlkit-cli":
		file := filepath.Join(d.o.tmp, "show.out")
		f, ferr := os.Create(file)
		if ferr != nil {
			return s, ferr
		}
		cmd := exec.Command("ip", "route", "show")
		if impl == "nlkit-cli" {
			cmd = exec.Command(d.o.nlkitBin, "route", "show")
		}
		cmd.Stdout = f
		s, err = d.measure(cmd)
		f.Close()
		if err == nil {
			s.count, err = countLines(file, "11.")
		}
		os.Remove(file)
	}
	if err != nil {
		return s, err
	}
	if s.count != int64(n) {
		return s, fmt.Errorf("dump saw %d of %d routes", s.count, n)
	}
	return s, nil
}

func countLines(file, prefix string) (int64, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	var n int64
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), prefix) {
			n++
		}
	}
	return n, sc.Err()
}

// roundtrip makes rtCount RTM_GETLINK requests by index.
func (d *driver) roundtrip(impl string) (sample, error) {
	k := d.o.rtCount
	var s sample
	var out workerOut
	var err error
	switch {
	case isGo(impl):
		s, out, err = d.runResult(d.workerCmd(impl, "roundtrip", k))
		s.allocs = float64(out.Allocs) / float64(k)
	case impl == "libmnl":
		s, out, err = d.runResult(exec.Command(d.o.mnlBin, "roundtrip", strconv.Itoa(k), strconv.Itoa(d.ifindex)))
	case impl == "iproute2":
		in := filepath.Join(d.o.tmp, "rt.batch")
		if err := os.WriteFile(in, bytes.Repeat([]byte("link show dev veth0\n"), k), 0o644); err != nil {
			return s, err
		}
		file := filepath.Join(d.o.tmp, "rt.out")
		f, ferr := os.Create(file)
		if ferr != nil {
			return s, ferr
		}
		cmd := exec.Command("ip", "-batch", in)
		cmd.Stdout = f
		s, err = d.measure(cmd)
		f.Close()
		if err == nil {
			out.Count, err = countLines(file, fmt.Sprintf("%d: veth0", d.ifindex))
			out.WallS = s.wall
		}
		os.Remove(file)
	}
	if err != nil {
		return s, err
	}
	if out.Count != int64(k) {
		return s, fmt.Errorf("%d of %d requests answered", out.Count, k)
	}
	s.count = out.Count
	s.wall = out.WallS // the loop alone, not process start-up
	return s, nil
}

// eventsRun starts impl's listener, installs n routes with ip -batch at
// full speed, and counts what the listener received.
func (d *driver) eventsRun(n int, impl string) {
	k := key{"events", n, impl}
	d.record(k, func() (sample, error) {
		defer func() {
			if err := d.clear(n); err != nil {
				panic(err)
			}
		}()
		if impl == "iproute2" {
			return d.ipMonitor(n)
		}
		var cmd *exec.Cmd
		if isGo(impl) {
			cmd = d.workerCmd(impl, "events", n)
		} else {
			cmd = exec.Command(d.o.mnlBin, "events", strconv.Itoa(n))
		}
		stdin, err := cmd.StdinPipe()
		if err != nil {
			return sample{}, err
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return sample{}, err
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		p, err := d.start(cmd)
		if err != nil {
			return sample{}, err
		}
		rd := bufio.NewReader(stdout)
		line, err := rd.ReadString('\n')
		if err != nil || strings.TrimSpace(line) != "ready" {
			p.signal(syscall.SIGTERM) // the runner passes it on
			_, _ = p.wait()
			return sample{}, fmt.Errorf("listener did not start: %q %v: %s", line, err, stderr.String())
		}
		ipStart := time.Now()
		ipErr := exec.Command("ip", "-batch", d.batchFile("add", n)).Run()
		_ = stdin.Close()
		rest, _ := io.ReadAll(rd)
		s, werr := p.wait()
		if ipErr != nil {
			return sample{}, fmt.Errorf("ip -batch: %w", ipErr)
		}
		if werr != nil {
			return sample{}, fmt.Errorf("listener: %v: %s", werr, lastLines(stderr.String()))
		}
		var out workerOut
		if err := json.Unmarshal(lastLine(rest), &out); err != nil {
			return sample{}, fmt.Errorf("listener: bad result %q: %w", rest, err)
		}
		s.count, s.overrun = out.Count, out.Overrun
		if out.LastUnixNs > 0 {
			s.wall = time.Unix(0, out.LastUnixNs).Sub(ipStart).Seconds()
		}
		if isGo(impl) {
			s.allocs = float64(out.Allocs) / float64(max(out.Count, 1))
		}
		return s, nil
	})
}

// ipMonitor runs `ip monitor route` as the listener. It has no "ready"
// signal: a sentinel route is added until it shows up in the output.
func (d *driver) ipMonitor(n int) (sample, error) {
	file := filepath.Join(d.o.tmp, "monitor.out")
	defer os.Remove(file)
	f, err := os.Create(file)
	if err != nil {
		return sample{}, err
	}
	defer f.Close()
	// Line-buffered, as on a terminal: with a file for standard output
	// ip would hold its lines back in a 4 KiB stdio buffer.
	cmd := exec.Command("stdbuf", "-oL", "ip", "monitor", "route")
	cmd.Stdout = f
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	p, err := d.start(cmd)
	if err != nil {
		return sample{}, err
	}
	// A new sentinel each time: a route replaced by an identical one
	// makes no event.
	ready := false
	for i := 1; i <= 100 && !ready; i++ {
		sentinel := fmt.Sprintf("12.0.0.%d/32", i)
		_ = exec.Command("ip", "route", "add", sentinel, "via", "10.0.0.2", "dev", "veth0").Run()
		time.Sleep(20 * time.Millisecond)
		_ = exec.Command("ip", "route", "del", sentinel).Run()
		b, _ := os.ReadFile(file)
		ready = bytes.Contains(b, []byte("12.0.0."))
	}
	if !ready {
		p.signal(syscall.SIGTERM) // the runner passes it on
		_, werr := p.wait()
		b, _ := os.ReadFile(file)
		return sample{}, fmt.Errorf("ip monitor did not start: %v: %q %s", werr, b, stderr.String())
	}
	ipStart := time.Now()
	ipErr := exec.Command("ip", "-batch", d.batchFile("add", n)).Run()
	// Wait until the output stops growing for a second.
	var size int64 = -1
	last := time.Now()
	for time.Since(last) < time.Second {
		time.Sleep(100 * time.Millisecond)
		if st, err := f.Stat(); err == nil && st.Size() != size {
			size, last = st.Size(), time.Now()
		}
	}
	p.signal(syscall.SIGTERM)
	s, werr := p.wait()
	if ipErr != nil {
		return sample{}, fmt.Errorf("ip -batch: %w", ipErr)
	}
	if werr != nil {
		return sample{}, fmt.Errorf("ip monitor: %v: %s", werr, lastLines(stderr.String()))
	}
	s.count, err = countLines(file, "11.")
	if err != nil {
		return s, err
	}
	if st, err := os.Stat(file); err == nil {
		s.wall = st.ModTime().Sub(ipStart).Seconds()
	}
	s.overrun = strings.Contains(stderr.String(), "No buffer space")
	return s, nil
}

// Record is one line of results.json: the medians of a measurement's
// successful runs.
type Record struct {
	Workload    string   `json:"workload"`
	N           int      `json:"n"`
	Impl        string   `json:"impl"`
	WallS       float64  `json:"wall_s"`
	CPUS        float64  `json:"cpu_s"`
	RSSMiB      float64  `json:"rss_mib"`
	AllocsPerOp *float64 `json:"allocs_per_op"`
	Count       int64    `json:"count"`
	// Overrun (events only): whether any run's listener was told that
	// events were lost.
	Overrun *bool `json:"overrun,omitempty"`
	// OpsPerS (roundtrip only): requests per second.
	OpsPerS float64 `json:"ops_per_s,omitempty"`
	Runs    int     `json:"runs"`
	// FailedRuns are runs left out: an error, or a count that was not N.
	FailedRuns int `json:"failed_runs,omitempty"`
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s) == 0 {
		return math.NaN()
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (d *driver) records() []Record {
	var out []Record
	for _, k := range d.order {
		ss := d.samples[k]
		r := Record{Workload: k.workload, N: k.n, Impl: k.impl, Runs: len(ss), FailedRuns: len(d.failures[k])}
		if len(ss) == 0 {
			out = append(out, r)
			continue
		}
		pick := func(f func(sample) float64) float64 {
			var v []float64
			for _, s := range ss {
				v = append(v, f(s))
			}
			return median(v)
		}
		r.WallS = round(pick(func(s sample) float64 { return s.wall }), 4)
		r.CPUS = round(pick(func(s sample) float64 { return s.cpu }), 4)
		r.RSSMiB = round(pick(func(s sample) float64 { return s.rssMiB }), 1)
		if a := pick(func(s sample) float64 { return s.allocs }); !math.IsNaN(a) {
			a = round(a, 3)
			r.AllocsPerOp = &a
		}
		r.Count = int64(pick(func(s sample) float64 { return float64(s.count) }))
		if k.workload == "events" {
			o := false
			for _, s := range ss {
				o = o || s.overrun
			}
			r.Overrun = &o
		}
		if k.workload == "roundtrip" && r.WallS > 0 {
			r.OpsPerS = math.Round(float64(r.Count) / r.WallS)
		}
		out = append(out, r)
	}
	return out
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

// runSweep installs (and deletes) n routes with each number of messages
// per datagram in d.o.sweep, with the C program and with nlkit's typed
// Batch, and prints the medians; then it checks with the C program that
// the kernel has processed a datagram when sendto returns (the
// acknowledgement is already queued) and that sending every datagram
// before reading any acknowledgement gains nothing.
func (d *driver) runSweep(n int) error {
	if err := d.writeBatchFiles(n); err != nil {
		return err
	}
	if err := d.clear(n); err != nil {
		return err
	}
	type row struct{ mnl, nlkit []float64 }
	rows := map[int]*row{}
	for _, k := range d.o.sweep {
		rows[k] = &row{}
	}
	for run := 0; run < d.o.runs; run++ {
		for _, k := range d.o.sweep {
			s, _, err := d.runResult(exec.Command(d.o.mnlBin, "install", strconv.Itoa(n), strconv.Itoa(d.ifindex), strconv.Itoa(k)))
			if err != nil {
				return err
			}
			rows[k].mnl = append(rows[k].mnl, s.wall)
			if err := d.clear(n); err != nil {
				return err
			}
			cmd := d.workerCmd("nlkit", "install", n)
			cmd.Args = append(cmd.Args, "-batch-msgs", strconv.Itoa(k))
			s, _, err = d.runResult(cmd)
			if err != nil {
				return err
			}
			if got := d.count(); got != n {
				return fmt.Errorf("nlkit with %d messages per datagram installed %d routes, want %d", k, got, n)
			}
			rows[k].nlkit = append(rows[k].nlkit, s.wall)
			if err := d.clear(n); err != nil {
				return err
			}
			fmt.Printf("  run %d: %5d messages per datagram: libmnl %.3fs nlkit %.3fs\n", run+1, k, rows[k].mnl[run], rows[k].nlkit[run])
		}
	}
	fmt.Printf("\n### Install %d routes: messages per datagram (median of %d runs)\n\n| messages per datagram | datagram bytes | libmnl s | nlkit s |\n|---|---|---|---|\n", n, d.o.runs)
	for _, k := range d.o.sweep {
		fmt.Printf("| %d | %d | %.3f | %.3f |\n", k, k*60, median(rows[k].mnl), median(rows[k].nlkit))
	}
	var plain, piped []float64
	var immediate, datagrams int64
	for run := 0; run < d.o.runs; run++ {
		for _, mode := range []string{"install", "install-pipelined", "install-sync"} {
			var out struct {
				WallS     float64 `json:"wall_s"`
				Datagrams int64   `json:"datagrams"`
				Immediate int64   `json:"immediate"`
			}
			b, err := exec.Command(d.o.mnlBin, mode, strconv.Itoa(n), strconv.Itoa(d.ifindex), "256").Output()
			if err != nil {
				return fmt.Errorf("%s: %w", mode, err)
			}
			if err := json.Unmarshal(lastLine(b), &out); err != nil {
				return fmt.Errorf("%s: %q: %w", mode, b, err)
			}
			switch mode {
			case "install":
				plain = append(plain, out.WallS)
			case "install-pipelined":
				piped = append(piped, out.WallS)
			case "install-sync":
				immediate += out.Immediate
				datagrams += out.Datagrams
			}
			if err := d.clear(n); err != nil {
				return err
			}
		}
	}
	held, err := d.heldEvents(n)
	if err != nil {
		return err
	}
	fmt.Printf("\n### Is pipelining worth it? (C, 256 messages per datagram, median of %d runs)\n\n", d.o.runs)
	fmt.Printf("- acknowledgement already queued when sendto returned: %d of %d datagrams\n", immediate, datagrams)
	fmt.Printf("- send, then read its acknowledgement: %.3f s; send every datagram first, read after: %.3f s\n\n", median(plain), median(piped))
	fmt.Printf("### Event burst capacity\n\n- a listener with a 32 MiB receive buffer (SO_RCVBUFFORCE, as rtnl.Subscribe asks) that reads nothing while ip -batch adds %d routes holds %s\n\n", n, held)
	return nil
}

// heldEvents measures how many route events a 32 MiB receive buffer
// holds when nobody reads it during an install of n routes.
func (d *driver) heldEvents(n int) (string, error) {
	cmd := exec.Command(d.o.mnlBin, "events-held", strconv.Itoa(n))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	if err := cmd.Start(); err != nil {
		return "", err
	}
	rd := bufio.NewReader(stdout)
	if line, err := rd.ReadString('\n'); err != nil || strings.TrimSpace(line) != "ready" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return "", fmt.Errorf("events-held did not start: %q %v", line, err)
	}
	ipOut, ipErr := exec.Command("ip", "-batch", d.batchFile("add", n)).CombinedOutput()
	_ = stdin.Close()
	rest, _ := io.ReadAll(rd)
	if err := cmd.Wait(); err != nil {
		return "", fmt.Errorf("events-held: %w", err)
	}
	if ipErr != nil {
		return "", fmt.Errorf("ip -batch: %w: %s", ipErr, lastLines(string(ipOut)))
	}
	if err := d.clear(n); err != nil {
		return "", err
	}
	var out workerOut
	if err := json.Unmarshal(lastLine(rest), &out); err != nil {
		return "", fmt.Errorf("events-held: %q: %w", rest, err)
	}
	s := fmt.Sprintf("%d events", out.Count)
	if out.Overrun {
		s += ", then the kernel reported an overrun (ENOBUFS) and dropped the rest"
	} else {
		s += " (all of them, no overrun)"
	}
	return s, nil
}
