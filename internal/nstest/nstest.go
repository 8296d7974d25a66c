// Package nstest gives real-kernel tests a throwaway network namespace
// each, and runs iproute2 inside it as an independent oracle.
//
// Namespaces are created with `ip netns add` under a unique name and
// removed by t.Cleanup, also when the test fails. Tests that need root skip
// with the reason when run without it, except under CI (CI=true), where
// root is available and a skip would hide a missing capability: there they
// fail.
package nstest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// RequireRoot skips t (or fails it under CI) unless running as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal("this test needs root, which CI has; refusing to skip")
	}
	t.Skip("needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN) to create network namespaces")
}

// NS is a named network namespace owned by one test.
type NS struct {
	Name string
}

// Path returns the namespace's file (/run/netns/NAME).
func (ns *NS) Path() string { return "/run/netns/" + ns.Name }

// New creates a fresh network namespace with its loopback up and
// registers its removal.
func New(t testing.TB) *NS {
	t.Helper()
	RequireRoot(t)
	if _, err := exec.LookPath("ip"); err != nil {
		t.Fatalf("iproute2's ip is needed as the test oracle: %v (apt-get install iproute2)", err)
	}
	sweepOnce.Do(sweep)
	var r [4]byte
	_, _ = rand.Read(r[:])
	ns := &NS{Name: fmt.Sprintf("%s%d-%s", prefix, os.Getpid(), hex.EncodeToString(r[:]))}
	run(t, "ip", "netns", "add", ns.Name)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", ns.Name).CombinedOutput(); err != nil {
			t.Errorf("remove namespace %s: %v: %s", ns.Name, err, out)
		}
	})
	ns.IP(t, "link", "set", "lo", "up")
	return ns
}

// prefix starts every test namespace's name; the owning process's pid
// follows, so a later run can tell namespaces left by a killed test binary
// (a timeout panic skips cleanups) from those of a test still running.
const prefix = "nlkit-test-"

var sweepOnce sync.Once

// sweep removes test namespaces whose owning process no longer exists.
func sweep() {
	entries, err := os.ReadDir("/run/netns")
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok {
			continue
		}
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil {
			continue // not ours to judge
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			continue // still running
		}
		_ = exec.Command("ip", "netns", "del", e.Name()).Run()
	}
}

func run(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// IP runs `ip -n NAME args...` and returns its output; failure fails t.
func (ns *NS) IP(t testing.TB, args ...string) []byte {
	t.Helper()
	return run(t, "ip", append([]string{"-n", ns.Name}, args...)...)
}

// TryIP runs `ip -n NAME args...` and returns its error and combined
// output, for checks that expect failure.
func (ns *NS) TryIP(args ...string) ([]byte, error) {
	return exec.Command("ip", append([]string{"-n", ns.Name}, args...)...).CombinedOutput()
}

// IPJSON runs `ip -n NAME -j args...` and decodes its output into v.
func (ns *NS) IPJSON(t testing.TB, v any, args ...string) {
	t.Helper()
	out := ns.IP(t, append([]string{"-j"}, args...)...)
	if len(bytes.TrimSpace(out)) == 0 {
		out = []byte("[]")
	}
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("decode ip -j %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// Batch feeds lines to `ip -n NAME -batch -`.
func (ns *NS) Batch(t testing.TB, lines string) {
	t.Helper()
	cmd := exec.Command("ip", "-n", ns.Name, "-batch", "-")
	cmd.Stdin = strings.NewReader(lines)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ip -batch: %v: %s", err, out)
	}
}

// Exec runs a command inside the namespace (`ip netns exec`).
func (ns *NS) Exec(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	return run(t, "ip", append([]string{"netns", "exec", ns.Name, name}, args...)...)
}
