package vmtest

import (
	"bytes"
	"compress/gzip"
	"io"
	"os/exec"
	"runtime"
	"strconv"
	"testing"
	"time"
)

type cpioFile struct {
	mode         uint32
	nlink        uint32
	rmajor       uint32
	rminor       uint32
	data         string
	headerOffset int
}

// readNewc is an independent newc reader for the tests.
func readNewc(t *testing.T, b []byte) (map[string]cpioFile, []string) {
	t.Helper()
	files := map[string]cpioFile{}
	var order []string
	off := 0
	for {
		if off%4 != 0 {
			t.Fatalf("entry at unaligned offset %d", off)
		}
		if len(b)-off < 110 || string(b[off:off+6]) != "070701" {
			t.Fatalf("bad header at %d", off)
		}
		field := func(i int) uint32 {
			v, err := strconv.ParseUint(string(b[off+6+8*i:off+14+8*i]), 16, 32)
			if err != nil {
				t.Fatalf("field %d at %d: %v", i, off, err)
			}
			return uint32(v)
		}
		mode, nlink, size, rmajor, rminor, namesize := field(1), field(4), field(6), field(9), field(10), field(11)
		name := string(b[off+110 : off+110+int(namesize)-1])
		if b[off+110+int(namesize)-1] != 0 {
			t.Fatalf("name %q not NUL-terminated", name)
		}
		start := off
		off += 110 + int(namesize)
		off += pad4(off)
		data := string(b[off : off+int(size)])
		off += int(size)
		off += pad4(off)
		if name == "TRAILER!!!" {
			if off != len(b) {
				t.Fatalf("%d bytes after the trailer", len(b)-off)
			}
			return files, order
		}
		files[name] = cpioFile{mode, nlink, rmajor, rminor, data, start}
		order = append(order, name)
	}
}

func TestInitramfsNewc(t *testing.T) {
	var r Initramfs
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(r.AddFile("/bin/x", []byte("hello"), 0o755))
	must(r.AddFile("init", []byte("#!/bin/sh\n"), 0o755))
	must(r.AddSymlink("/bin/sh", "busybox"))
	must(r.AddCharDev("/dev/console", 0o600, 5, 1))
	must(r.AddDir("/a/b/c", 0o700))
	must(r.AddFile("/a/b/c/empty", nil, 0o644))
	if err := r.AddFile("/bin/x", nil, 0o644); err == nil {
		t.Error("adding /bin/x twice succeeded")
	}

	var raw bytes.Buffer
	must(r.WriteCPIO(&raw))
	files, order := readNewc(t, raw.Bytes())

	want := map[string]cpioFile{
		"a":           {mode: 0o040755, nlink: 2},
		"a/b":         {mode: 0o040755, nlink: 2},
		"a/b/c":       {mode: 0o040700, nlink: 2},
		"a/b/c/empty": {mode: 0o100644, nlink: 1},
		"bin":         {mode: 0o040755, nlink: 2},
		"bin/sh":      {mode: 0o120777, nlink: 1, data: "busybox"},
		"bin/x":       {mode: 0o100755, nlink: 1, data: "hello"},
		"dev":         {mode: 0o040755, nlink: 2},
		"dev/console": {mode: 0o020600, nlink: 1, rmajor: 5, rminor: 1},
		"init":        {mode: 0o100755, nlink: 1, data: "#!/bin/sh\n"},
	}
	if len(files) != len(want) {
		t.Errorf("got %d entries %v, want %d", len(files), order, len(want))
	}
	for n, w := range want {
		g, ok := files[n]
		if !ok {
			t.Errorf("%s missing", n)
			continue
		}
		g.headerOffset = 0
		if g != w {
			t.Errorf("%s = %+v, want %+v", n, g, w)
		}
	}
	// Parents come before children.
	seen := map[string]bool{}
	for _, n := range order {
		for d := n; ; {
			i := bytes.LastIndexByte([]byte(d), '/')
			if i < 0 {
				break
			}
			d = d[:i]
			if !seen[d] {
				t.Errorf("%s before its directory %s", n, d)
			}
		}
		seen[n] = true
	}

	var gz bytes.Buffer
	must(r.WriteGzip(&gz))
	zr, err := gzip.NewReader(&gz)
	must(err)
	unz, err := io.ReadAll(zr)
	must(err)
	if !bytes.Equal(unz, raw.Bytes()) {
		t.Error("gzip'd archive differs from the plain one")
	}
}

func TestCompareVersions(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"6.1.0-56-amd64", "6.1.0-9-amd64", 1},
		{"6.1.0-9-amd64", "6.1.0-56-amd64", -1},
		{"6.10.0-1-amd64", "6.9.0-1-amd64", 1},
		{"6.1.0-56-amd64", "6.1.0-56-amd64", 0},
		{"6.1.0-56-cloud-amd64", "6.1.0-56-amd64", 1},
	} {
		if got := compareVersions(c.a, c.b); got != c.want {
			t.Errorf("compareVersions(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestShellQuote(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /bin/sh")
	}
	for _, s := range []string{"plain", "with space", "it's", `"double"`, "$HOME", "a\nb", "", "-ko=/x.ko", "*"} {
		out, err := exec.Command("/bin/sh", "-c", "printf %s "+shellQuote(s)).Output()
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if string(out) != s {
			t.Errorf("shellQuote(%q) -> sh printed %q", s, out)
		}
	}
}

func TestConsoleParser(t *testing.T) {
	p := &consoleParser{tag: "NLKIT-VM-abc"}
	lines := []string{
		"SeaBIOS",
		"Booting from ROM..\x1b[2JNLKIT-VM-abc INIT uptime=1.85",
		"program output",
		"NLKIT-VM-abc ERROR insmod /modules/x.ko failed: status 1",
		"NLKIT-VM-abc DMESG-BEGIN",
		"[    1.0] hello",
		"[    2.0] WARNING: CPU: 0 PID: 1 at net/core/dev.c:1 foo+0x1/0x2",
		"NLKIT-VM-abc DMESG-END",
		"NLKIT-VM-abc RESULT rc=3 uptime=4.00",
		"NLKIT-VM-other RESULT rc=0",
	}
	var evs []consoleEvent
	for i, l := range lines {
		evs = append(evs, p.line(l, time.Duration(i)*time.Second))
	}
	if !p.sawInit || p.initAt != time.Second || p.guestInit != 1850*time.Millisecond {
		t.Errorf("init: %v %v %v", p.sawInit, p.initAt, p.guestInit)
	}
	if !p.sawResult || p.rc != 3 || p.resultAt != 8*time.Second {
		t.Errorf("result: %v rc=%d at %v", p.sawResult, p.rc, p.resultAt)
	}
	if evs[1] != evInit || evs[8] != evResult || evs[9] != evNone {
		t.Errorf("events %v", evs)
	}
	if got := p.dmesg.String(); got != lines[5]+"\n"+lines[6]+"\n" {
		t.Errorf("dmesg %q", got)
	}
	if len(p.initErrors) != 1 {
		t.Errorf("init errors %q", p.initErrors)
	}
}

func TestKernelProblemRE(t *testing.T) {
	bad := []string{
		"[    5.1] BUG: kernel NULL pointer dereference, address: 0000000000000000",
		"[    5.1] BUG: sleeping function called from invalid context at mm/slab.h:1",
		"[    5.1] WARNING: CPU: 1 PID: 42 at net/netlink/af_netlink.c:2400 netlink_ack+0x1/0x2",
		"[    5.1] Oops: 0000 [#1] PREEMPT SMP NOPTI",
		"[    5.1] Call Trace:",
		"[    5.1] Kernel panic - not syncing: Fatal exception",
		"[    5.1] kernel BUG at net/core/skbuff.c:100!",
		"[    5.1] general protection fault, probably for non-canonical address",
		"[    5.1] refcount_t: underflow; use-after-free.",
		"[    5.1] WARNING: possible circular locking dependency detected",
	}
	good := []string{
		"[    0.8] PCI: Using host bridge windows from ACPI; if necessary, use \"pci=nocrs\" and report a bug",
		"[    1.1] AMD-Vi: AMD IOMMUv2 functionality not available on this system - This is not a bug.",
		"[    2.2] nlhello: module verification failed: signature and/or required key missing - tainting kernel",
		"[    3.2] Zero length message leads to an empty skb",
		"[    6.0] netlink: 12 bytes leftover after parsing attributes in process `vmcheck'.",
		"[    1.5]   \"trace_clock=local\"",
	}
	for _, l := range bad {
		if !KernelProblemRE.MatchString(l) {
			t.Errorf("not flagged: %s", l)
		}
	}
	for _, l := range good {
		if KernelProblemRE.MatchString(l) {
			t.Errorf("flagged: %s", l)
		}
	}
}

func TestResultErr(t *testing.T) {
	r := &Result{ExitCode: 0}
	if err := r.Err(); err != nil {
		t.Errorf("clean result: %v", err)
	}
	for _, r := range []*Result{{ExitCode: 1}, {KernelProblems: []string{"Oops"}}, {InitErrors: []string{"insmod"}}} {
		if r.Err() == nil {
			t.Errorf("%+v: no error", r)
		}
	}
}
