package vmtest

import (
	"bufio"
	"context"
	"crypto/rand"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// GuestModuleDir is where Boot/Run put Config.Modules (and their
// dependencies) in the guest: /modules/<file name>.
const GuestModuleDir = "/modules"

// Module is a kernel module that the guest's /init loads with insmod before
// running the command.
type Module struct {
	Path   string // host path of the .ko
	Params string // insmod arguments as is (split on spaces by sh), e.g. "ifname=nl0 protocol=30"
}

// Config describes one VM run.
type Config struct {
	Tools   *Tools
	Modules []Module          // loaded in order (dependencies first, automatically)
	Files   map[string]string // guest path -> host path, e.g. "/bin/check": "/tmp/x/check"
	Command []string          // guest command line; Command[0] is a guest path
	Env     []string          // extra KEY=value for the command

	Timeout time.Duration // whole run, boot included; default 3 minutes
	Memory  int           // MiB; default 512
	CPUs    int           // default 2
	Accel   string        // QEMU accelerator; default $NLKIT_VM_ACCEL or "tcg"
	Append  string        // extra kernel command line
}

// Result is what happened in the guest.
type Result struct {
	ExitCode int // exit status of Command (or of a failed insmod)

	BootTime      time.Duration // host clock, QEMU start until /init ran
	GuestBootTime time.Duration // guest clock (uptime) when /init ran
	RunTime       time.Duration // host clock, /init start until the result line
	Total         time.Duration // host clock, QEMU start until QEMU exited

	Console        string   // the whole serial console output
	Dmesg          string   // guest kernel log, taken after the command ended
	KernelProblems []string // dmesg lines that show a kernel bug (see KernelProblemRE)
	InitErrors     []string // errors reported by /init (e.g. insmod failed)
}

// Err returns an error if the command failed, /init reported an error or the
// guest kernel logged a bug.
func (r *Result) Err() error {
	var errs []string
	if len(r.InitErrors) > 0 {
		errs = append(errs, "guest /init: "+strings.Join(r.InitErrors, "; "))
	}
	if r.ExitCode != 0 {
		errs = append(errs, fmt.Sprintf("guest command exited with status %d", r.ExitCode))
	}
	if len(r.KernelProblems) > 0 {
		errs = append(errs, "guest kernel log shows problems:\n    "+strings.Join(r.KernelProblems, "\n    "))
	}
	if len(errs) == 0 {
		return nil
	}
	return errors.New(strings.Join(errs, "\n"))
}

// KernelProblemRE matches dmesg lines that mean a kernel bug: BUG:, a
// WARN() splat, an Oops, a stack dump, a panic, lockdep/KASAN-style reports.
var KernelProblemRE = regexp.MustCompile(
	`\bBUG[: ]|WARNING: (CPU|at|possible|suspicious|inconsistent)|\bOops\b|Call Trace|Kernel panic|general protection fault|kernel BUG|UBSAN:|KASAN:|refcount_t:|list_(add|del) corruption|RIP: 00`)

// ansiRE matches the terminal control sequences firmware prints.
var ansiRE = regexp.MustCompile(`\x1b(\[[0-9;?]*[A-Za-z]|[A-Za-z])`)

// Boot runs cfg in a VM and fails t if the run could not complete, the
// guest command failed, or the guest kernel logged a problem. It logs the
// console and the timings.
func Boot(t testing.TB, cfg Config) *Result {
	t.Helper()
	if cfg.Timeout == 0 {
		cfg.Timeout = 3 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()
	res, err := Run(ctx, t, cfg)
	if err != nil {
		t.Fatalf("VM run: %v", err)
	}
	t.Logf("VM timing: boot %v (guest uptime at /init %v), command %v, total %v",
		res.BootTime.Round(time.Millisecond), res.GuestBootTime.Round(time.Millisecond),
		res.RunTime.Round(time.Millisecond), res.Total.Round(time.Millisecond))
	if err := res.Err(); err != nil {
		t.Errorf("%v", err)
	}
	return res
}

// Run boots the VM described by cfg and waits until it powers off or ctx
// ends. It streams the console to t's log (t may be nil). The error is about
// the run itself (QEMU failed, timeout, no result line); the guest
// command's outcome is in the Result (see Result.Err).
func Run(ctx context.Context, t testing.TB, cfg Config) (*Result, error) {
	if t != nil {
		t.Helper()
	}
	if cfg.Tools == nil {
		return nil, errors.New("vmtest: Config.Tools is nil")
	}
	if len(cfg.Command) == 0 {
		return nil, errors.New("vmtest: Config.Command is empty")
	}
	if cfg.Memory == 0 {
		cfg.Memory = 512
	}
	if cfg.CPUs == 0 {
		cfg.CPUs = 2
	}
	if cfg.Accel == "" {
		cfg.Accel = os.Getenv("NLKIT_VM_ACCEL")
	}
	if cfg.Accel == "" {
		cfg.Accel = "tcg"
	}

	dir, err := os.MkdirTemp("", "nlkit-vm-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	var nonceb [6]byte
	if _, err := rand.Read(nonceb[:]); err != nil {
		return nil, err
	}
	tag := "NLKIT-VM-" + hex.EncodeToString(nonceb[:])

	initrd := filepath.Join(dir, "initrd.gz")
	if err := buildInitrd(cfg, tag, initrd); err != nil {
		return nil, fmt.Errorf("initramfs: %w", err)
	}

	appendLine := "console=ttyS0 panic=-1 quiet"
	if cfg.Append != "" {
		appendLine += " " + cfg.Append
	}
	args := []string{
		"-accel", cfg.Accel,
		"-m", strconv.Itoa(cfg.Memory),
		"-smp", strconv.Itoa(cfg.CPUs),
		"-nographic", "-nodefaults", "-serial", "stdio",
		"-no-reboot",
		"-kernel", cfg.Tools.Kernel,
		"-initrd", initrd,
		"-append", appendLine,
	}
	logf := func(format string, a ...any) {
		if t != nil {
			t.Logf(format, a...)
		}
	}
	logf("starting %s %s", cfg.Tools.QEMU, strings.Join(args, " "))

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(runCtx, cfg.Tools.QEMU, args...)
	cmd.WaitDelay = 5 * time.Second
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting QEMU: %w", err)
	}

	res := &Result{ExitCode: -1}
	p := &consoleParser{tag: tag}
	var once sync.Once
	done := make(chan struct{})
	go func() {
		defer close(done)
		br := bufio.NewReader(stdout)
		for {
			line, err := br.ReadString('\n')
			if line != "" {
				line = ansiRE.ReplaceAllString(strings.TrimRight(line, "\r\n"), "")
				now := time.Since(start)
				logf("vm %6.2fs| %s", now.Seconds(), line)
				switch p.line(line, now) {
				case evResult:
					// The guest powers off right after; don't wait forever if it doesn't.
					once.Do(func() {
						time.AfterFunc(15*time.Second, cancel)
					})
				}
			}
			if err != nil {
				if err != io.EOF {
					logf("console read: %v", err)
				}
				return
			}
		}
	}()
	<-done
	waitErr := cmd.Wait()
	res.Total = time.Since(start)

	res.Console = p.console.String()
	res.Dmesg = p.dmesg.String()
	res.InitErrors = p.initErrors
	res.GuestBootTime = p.guestInit
	if p.sawInit {
		res.BootTime = p.initAt
	}
	if p.sawResult {
		res.ExitCode = p.rc
		res.RunTime = p.resultAt - p.initAt
	}
	for _, l := range strings.Split(res.Dmesg, "\n") {
		if KernelProblemRE.MatchString(l) {
			res.KernelProblems = append(res.KernelProblems, l)
		}
	}
	// A panic or oops outside the dmesg dump (e.g. the guest died) still counts.
	if !p.sawDmesgEnd {
		for _, l := range strings.Split(res.Console, "\n") {
			if KernelProblemRE.MatchString(l) {
				res.KernelProblems = append(res.KernelProblems, l)
			}
		}
	}

	switch {
	case ctx.Err() != nil:
		return res, fmt.Errorf("VM timed out after %v (init seen: %v, result seen: %v)%s",
			time.Since(start).Round(time.Second), p.sawInit, p.sawResult, tail(res.Console, 20))
	case !p.sawResult:
		return res, fmt.Errorf("VM ended without a result line (QEMU: %v; stderr: %s)%s",
			waitErr, strings.TrimSpace(stderr.String()), tail(res.Console, 20))
	}
	if waitErr != nil && runCtx.Err() == nil {
		logf("QEMU exited with %v after the result line; stderr: %s", waitErr, strings.TrimSpace(stderr.String()))
	}
	return res, nil
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "\nlast console lines:\n  " + strings.Join(lines, "\n  ")
}

type consoleEvent int

const (
	evNone consoleEvent = iota
	evInit
	evResult
)

// consoleParser follows the markers /init prints: "<tag> INIT uptime=S",
// "<tag> ERROR text", "<tag> DMESG-BEGIN" ... "<tag> DMESG-END",
// "<tag> RESULT rc=N".
type consoleParser struct {
	tag string

	console     strings.Builder
	dmesg       strings.Builder
	inDmesg     bool
	sawInit     bool
	sawResult   bool
	sawDmesgEnd bool
	initAt      time.Duration
	resultAt    time.Duration
	guestInit   time.Duration
	rc          int
	initErrors  []string
}

func (p *consoleParser) line(l string, now time.Duration) consoleEvent {
	p.console.WriteString(l)
	p.console.WriteByte('\n')
	i := strings.Index(l, p.tag+" ")
	if i < 0 {
		if p.inDmesg {
			p.dmesg.WriteString(l)
			p.dmesg.WriteByte('\n')
		}
		return evNone
	}
	verb, arg, _ := strings.Cut(l[i+len(p.tag)+1:], " ")
	switch verb {
	case "INIT":
		p.sawInit, p.initAt = true, now
		if s, ok := strings.CutPrefix(arg, "uptime="); ok {
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				p.guestInit = time.Duration(f * float64(time.Second))
			}
		}
		return evInit
	case "ERROR":
		p.initErrors = append(p.initErrors, arg)
	case "DMESG-BEGIN":
		p.inDmesg = true
	case "DMESG-END":
		p.inDmesg, p.sawDmesgEnd = false, true
	case "RESULT":
		if s, ok := strings.CutPrefix(arg, "rc="); ok {
			if rc, err := strconv.Atoi(strings.Fields(s + " ")[0]); err == nil {
				p.sawResult, p.resultAt, p.rc = true, now, rc
				return evResult
			}
		}
	}
	return evNone
}

// buildInitrd packs busybox, the modules, the files and /init.
func buildInitrd(cfg Config, tag, out string) error {
	var r Initramfs
	for _, d := range []string{"bin", "sbin", "usr/bin", "usr/sbin", "proc", "sys", "dev", "tmp", "run", "root", "etc"} {
		if err := r.AddDir(d, 0o755); err != nil {
			return err
		}
	}
	if err := r.AddCharDev("dev/console", 0o600, 5, 1); err != nil {
		return err
	}
	if err := r.AddCharDev("dev/null", 0o666, 1, 3); err != nil {
		return err
	}
	if err := r.AddHostFile("bin/busybox", cfg.Tools.Busybox); err != nil {
		return err
	}
	if err := r.AddSymlink("bin/sh", "busybox"); err != nil {
		return err
	}

	// Modules, dependencies first, each once.
	type load struct{ guest, params string }
	var loads []load
	added := map[string]bool{}
	addKo := func(host, params string) error {
		guest := path.Join(GuestModuleDir, filepath.Base(host))
		if added[guest] {
			return nil
		}
		added[guest] = true
		loads = append(loads, load{guest, params})
		return r.AddHostFile(guest, host)
	}
	for _, m := range cfg.Modules {
		deps, err := ModuleDeps(cfg.Tools, m.Path)
		if err != nil {
			return err
		}
		for _, d := range deps {
			if err := addKo(d, ""); err != nil {
				return err
			}
		}
		if err := addKo(m.Path, m.Params); err != nil {
			return err
		}
	}
	for guest, host := range cfg.Files {
		if err := checkNotDynamic(host); err != nil {
			return err
		}
		if err := r.AddHostFile(guest, host); err != nil {
			return err
		}
	}

	var s strings.Builder
	s.WriteString("#!/bin/sh\n")
	s.WriteString("# generated by internal/vmtest\n")
	s.WriteString("export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root\n")
	s.WriteString("/bin/busybox mount -t proc proc /proc\n")
	s.WriteString("/bin/busybox --install -s\n")
	s.WriteString("mount -t sysfs sysfs /sys\n")
	s.WriteString("mount -t devtmpfs devtmpfs /dev 2>/dev/null || mount -t tmpfs tmpfs /dev\n")
	s.WriteString("mount -t tmpfs tmpfs /tmp\n")
	s.WriteString("mount -t tmpfs tmpfs /run\n")
	s.WriteString("ip link set lo up 2>/dev/null\n")
	fmt.Fprintf(&s, "echo \"%s INIT uptime=$(cut -d' ' -f1 /proc/uptime)\"\n", tag)
	s.WriteString("rc=0\n")
	for _, l := range loads {
		fmt.Fprintf(&s, "if [ $rc -eq 0 ]; then insmod %s %s || { rc=$?; echo \"%s ERROR insmod %s failed: status $rc\"; }; fi\n",
			shellQuote(l.guest), l.params, tag, l.guest)
	}
	s.WriteString("if [ $rc -eq 0 ]; then\n\tcd /\n\t")
	for _, e := range cfg.Env {
		s.WriteString("export " + shellQuote(e) + "\n\t")
	}
	quoted := make([]string, len(cfg.Command))
	for i, a := range cfg.Command {
		quoted[i] = shellQuote(a)
	}
	s.WriteString(strings.Join(quoted, " ") + "\n\trc=$?\nfi\n")
	fmt.Fprintf(&s, "echo \"%s DMESG-BEGIN\"\n", tag)
	s.WriteString("dmesg\n")
	fmt.Fprintf(&s, "echo \"%s DMESG-END\"\n", tag)
	fmt.Fprintf(&s, "echo \"%s RESULT rc=$rc uptime=$(cut -d' ' -f1 /proc/uptime)\"\n", tag)
	s.WriteString("sync\npoweroff -f\necho o > /proc/sysrq-trigger\nsleep 10\n")
	if err := r.AddFile("init", []byte(s.String()), 0o755); err != nil {
		return err
	}
	return r.WriteGzipFile(out)
}

// shellQuote quotes s for /bin/sh.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+%@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// checkNotDynamic rejects dynamically linked ELF programs: the guest has
// busybox and nothing else, no dynamic loader, no libc.
func checkNotDynamic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return nil // not ELF: a script or data
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked; build it static (CGO_ENABLED=0)", path)
		}
	}
	return nil
}
