//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nlkit/nlkit/audit"
)

// The host tests of nlkit audit only read (status, rules) or fail before
// sending anything: the audit configuration is global, and changing it
// is done in the VM of internal/vmtest (TestAuditVM), never here.

// hostAudit reads the host's status and rules through the library.
func hostAudit(t *testing.T) (audit.Status, []audit.Rule) {
	t.Helper()
	c, err := audit.Dial(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := c.Rules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return s, rules
}

func TestAuditCLIHost(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("reading the audit status needs CAP_AUDIT_CONTROL; TestAuditCLIUnprivileged checks the refusal")
	}
	s, rules := hostAudit(t)
	out, errOut, code := nlkit(t, "audit", "status")
	if code != 0 {
		t.Fatalf("nlkit audit status: exit %d: %s", code, errOut)
	}
	want := fmt.Sprintf("enabled %d\nfailure %d\npid %d\nrate_limit %d\nbacklog_limit %d\n", s.Enabled, s.Failure, s.PID, s.RateLimit, s.BacklogLimit)
	if !strings.HasPrefix(out, want) || strings.Count(out, "\n") != 9 {
		t.Errorf("nlkit audit status:\n%s\nwant it to start\n%s", out, want)
	}
	if out2, _, _ := nlkit(t, "audit"); out2 != out && s.Lost == 0 && s.Backlog == 0 {
		t.Errorf("nlkit audit printed %q, nlkit audit status %q", out2, out)
	}
	out, _, code = nlkit(t, "-j", "audit", "status")
	var js map[string]any
	if err := json.Unmarshal([]byte(out), &js); code != 0 || err != nil {
		t.Fatalf("nlkit -j audit status: %v: %s", err, out)
	}
	for k, v := range map[string]uint32{"enabled": uint32(s.Enabled), "failure": uint32(s.Failure), "pid": s.PID, "backlog_limit": s.BacklogLimit, "feature_bitmap": uint32(s.FeatureBitmap)} {
		if got, ok := js[k].(float64); !ok || uint32(got) != v {
			t.Errorf("-j %s = %v, want %d", k, js[k], v)
		}
	}
	out, errOut, code = nlkit(t, "audit", "rules")
	if code != 0 {
		t.Fatalf("nlkit audit rules: exit %d: %s", code, errOut)
	}
	wantRules := "No rules\n"
	if len(rules) > 0 {
		wantRules = ""
		for _, r := range rules {
			wantRules += r.String() + "\n"
		}
	}
	if out != wantRules {
		t.Errorf("nlkit audit rules printed %q, want %q", out, wantRules)
	}
	out, _, code = nlkit(t, "-j", "audit", "rules")
	var jr []auditRuleJSON
	if err := json.Unmarshal([]byte(out), &jr); code != 0 || err != nil || len(jr) != len(rules) {
		t.Errorf("nlkit -j audit rules: %v: %s", err, out)
	}

	// Bad input changes nothing: every refusal happens before a request.
	for _, args := range [][]string{
		{"audit", "rules", "add", "-w", "relative"},
		{"audit", "rules", "add", "-a", "always,exit", "-S", "nosuchcall"},
		{"audit", "rules", "del", "-a", "always,exit", "-F", "auid>="},
		{"audit", "set", "enabled", "3"},
		{"audit", "set", "enabled"},
		{"audit", "watch", "-c", "-1"},
	} {
		if _, errOut, code := nlkit(t, args...); code != 1 || !strings.HasPrefix(errOut, "nlkit: ") {
			t.Errorf("%v: exit %d, %q", args, code, errOut)
		}
	}
	s2, rules2 := hostAudit(t)
	if s2.Enabled != s.Enabled || s2.PID != s.PID || s2.Failure != s.Failure || s2.BacklogLimit != s.BacklogLimit || s2.RateLimit != s.RateLimit || len(rules2) != len(rules) {
		t.Errorf("audit state changed: %+v %d rules, was %+v %d rules", s2, len(rules2), s, len(rules))
	}
}

// TestAuditCLIUnprivileged runs nlkit audit as nobody (this test binary,
// copied where nobody may run it, as the command): refused, with the
// capability named and no CAP_NET_ADMIN hint.
func TestAuditCLIUnprivileged(t *testing.T) {
	if os.Geteuid() != 0 {
		// Already unprivileged: run in process.
		_, errOut, code := nlkit(t, "audit", "status")
		if code != 1 || !strings.Contains(errOut, "CAP_AUDIT_CONTROL") {
			t.Errorf("nlkit audit status without root: exit %d, %q", code, errOut)
		}
		return
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "nlkit-audit-cli-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "nlkit.test")
	if err := copyBinary(bin, self); err != nil {
		t.Fatal(err)
	}
	cmds := [][]string{{"audit", "status"}, {"-j", "audit", "rules"}, {"audit", "watch", "--readlog"}}
	var enc []string
	for _, args := range cmds {
		enc = append(enc, strings.Join(args, "\x1f"))
	}
	cmd := exec.Command(bin, "-test.run=^TestAuditCLIChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "NLKIT_AUDIT_CLI_ARGS="+strings.Join(enc, "\x1e"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	parts := strings.Split(string(out), "CHILD-CMD ")
	if len(parts) != len(cmds)+1 {
		t.Fatalf("child ran %d commands:\n%s", len(parts)-1, out)
	}
	for i, args := range cmds {
		got := parts[i+1]
		capName := "CAP_AUDIT_CONTROL"
		if args[len(args)-1] == "--readlog" {
			capName = "CAP_AUDIT_READ"
		}
		if !strings.Contains(got, "CHILD-EXIT 1") || !strings.Contains(got, "nlkit: audit") || !strings.Contains(got, "operation not permitted") ||
			!strings.Contains(got, capName) || strings.Contains(got, "CAP_NET_ADMIN") {
			t.Errorf("nlkit %v as nobody:\n%s", args, got)
		}
	}
}

func copyBinary(dst, src string) error {
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

// TestAuditCLIChild is the command run by TestAuditCLIUnprivileged.
func TestAuditCLIChild(t *testing.T) {
	args := os.Getenv("NLKIT_AUDIT_CLI_ARGS")
	if args == "" {
		t.Skip("runs as the child of TestAuditCLIUnprivileged")
	}
	for i, cmd := range strings.Split(args, "\x1e") {
		fmt.Printf("CHILD-CMD %d\n", i)
		code := run(strings.Split(cmd, "\x1f"), os.Stdout, os.Stdout)
		fmt.Printf("CHILD-EXIT %d\n", code)
	}
}
