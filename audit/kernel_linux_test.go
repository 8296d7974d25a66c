//go:build linux

package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// These tests run against the host's kernel and only read: the status
// and the rule list. Everything that changes the audit configuration
// (enabling, rules, registering as the daemon) runs in the VM of
// internal/vmtest (TestAuditVM), never here.

func hostCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestKernelStatus reads the host's status: as root it must succeed and
// agree with auditctl -s where auditctl is installed; without
// CAP_AUDIT_CONTROL it must fail with EPERM, saying so.
func TestKernelStatus(t *testing.T) {
	c, err := Dial(nil)
	if err != nil {
		t.Fatalf("NETLINK_AUDIT: %v", err)
	}
	defer c.Close()
	ctx := hostCtx(t)
	s, err := c.Status(ctx)
	if os.Geteuid() != 0 {
		if !errors.Is(err, syscall.EPERM) || !strings.Contains(err.Error(), "CAP_AUDIT_CONTROL") {
			t.Fatalf("Status without root: %v, want EPERM naming CAP_AUDIT_CONTROL", err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("host audit status: %+v", s)
	if s.Enabled > Locked || s.Failure > FailPanic || s.FeatureBitmap == 0 {
		t.Errorf("implausible status %+v", s)
	}
	if s.PID != 0 {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", s.PID)); err != nil {
			t.Errorf("audit daemon pid %d: %v", s.PID, err)
		}
	}
	again, err := c.Status(ctx)
	if err != nil || again.Enabled != s.Enabled || again.PID != s.PID || again.Failure != s.Failure || again.BacklogLimit != s.BacklogLimit {
		t.Errorf("second read %+v, %v; first %+v", again, err, s)
	}
	out, err := exec.Command("auditctl", "-s").Output()
	if errors.Is(err, exec.ErrNotFound) {
		t.Log("auditctl is not installed: status read without comparing")
		return
	}
	if err != nil {
		t.Fatalf("auditctl -s: %v", err)
	}
	want := map[string]uint32{
		"enabled": uint32(s.Enabled), "failure": uint32(s.Failure), "pid": s.PID, "rate_limit": s.RateLimit,
		"backlog_limit": s.BacklogLimit, "backlog_wait_time": s.BacklogWaitTime,
	}
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		w, ok := want[f[0]]
		if !ok {
			continue
		}
		if v, err := strconv.ParseUint(f[1], 10, 32); err != nil || uint32(v) != w {
			t.Errorf("auditctl -s: %s %s, nlkit read %d", f[0], f[1], w)
		}
	}
}

// TestKernelRules lists the host's rules (reading only) and, where
// auditctl is installed, compares them with auditctl -l.
func TestKernelRules(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("listing rules needs CAP_AUDIT_CONTROL; TestKernelStatus checks the refusal")
	}
	c, err := Dial(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rules, err := c.Rules(hostCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("host has %d audit rules", len(rules))
	out, err := exec.Command("auditctl", "-l").Output()
	if errors.Is(err, exec.ErrNotFound) {
		return
	}
	if err != nil {
		t.Fatalf("auditctl -l: %v", err)
	}
	var want []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l != "" && l != "No rules" {
			want = append(want, l)
		}
	}
	if len(want) != len(rules) {
		t.Fatalf("auditctl -l lists %d rules, nlkit %d", len(want), len(rules))
	}
	for i, r := range rules {
		if r.String() != want[i] {
			t.Errorf("rule %d: %q, auditctl -l %q", i, r.String(), want[i])
		}
	}
}

// TestKernelUnprivileged runs this test binary as nobody: reading the
// status and the rules and joining the read-log group are refused with
// EPERM, and the errors name the capability. (The child sends nothing
// that would change the configuration, should it have been allowed.)
func TestKernelUnprivileged(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a child as nobody; TestKernelStatus checks the refusal")
	}
	// The test binary lives in a directory only root may enter: copy it.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "nlkit-audit-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "audit.test")
	if err := copyExecutable(bin, self); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestUnprivilegedChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "NLKIT_AUDIT_CHILD=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	t.Logf("child as nobody:\n%s", out)
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	if !strings.Contains(string(out), "CHILD-OK") {
		t.Fatal("the child did not run its checks")
	}
}

func copyExecutable(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// TestUnprivilegedChild is the child of TestKernelUnprivileged; it does
// nothing unless started by it.
func TestUnprivilegedChild(t *testing.T) {
	if os.Getenv("NLKIT_AUDIT_CHILD") != "1" {
		t.Skip("runs as the child of TestKernelUnprivileged")
	}
	if os.Geteuid() == 0 {
		t.Fatal("the child runs as root")
	}
	c, err := Dial(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := hostCtx(t)
	_, err = c.Status(ctx)
	if !errors.Is(err, syscall.EPERM) || !strings.Contains(err.Error(), "needs CAP_AUDIT_CONTROL") {
		t.Errorf("Status as nobody: %v", err)
	}
	if _, err := c.Rules(ctx); !errors.Is(err, syscall.EPERM) {
		t.Errorf("Rules as nobody: %v", err)
	}
	if l, err := ReadLog(nil); !errors.Is(err, syscall.EPERM) || !strings.Contains(err.Error(), "CAP_AUDIT_READ") {
		if l != nil {
			l.Close()
		}
		t.Errorf("ReadLog as nobody: %v", err)
	}
	if !t.Failed() {
		fmt.Println("CHILD-OK")
	}
}
