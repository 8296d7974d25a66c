package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nlkit/nlkit/audit"
)

// nobody is the unprivileged user of the checks.
var nobody = &syscall.Credential{Uid: 65534, Gid: 65534}

// runNlkit runs the nlkit binary as a user would (as cred's user if not
// nil) and logs the command line and what it printed.
func runNlkit(e *env, cred *syscall.Credential, args ...string) (stdout, stderr string, code int) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.nlkit, args...)
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code = 0
	if err != nil {
		code = -1
		var xe *exec.ExitError
		if errors.As(err, &xe) {
			code = xe.ExitCode()
		}
	}
	who := "$"
	if cred != nil {
		who = "nobody$"
	}
	logf("%s nlkit %s  (exit %d)", who, strings.Join(args, " "), code)
	for _, l := range strings.Split(strings.TrimRight(out.String()+errOut.String(), "\n"), "\n") {
		if l != "" {
			logf("  %s", l)
		}
	}
	return out.String(), errOut.String(), code
}

// nlkitOK runs nlkit and fails unless it exits 0.
func nlkitOK(e *env, args ...string) (string, error) {
	out, errOut, code := runNlkit(e, nil, args...)
	if code != 0 {
		return out, fmt.Errorf("nlkit %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out, nil
}

// nlkitFails runs nlkit and fails unless it exits 1 with one line on
// standard error, nothing on standard output, containing every want.
func nlkitFails(e *env, cred *syscall.Credential, args []string, want ...string) error {
	out, errOut, code := runNlkit(e, cred, args...)
	if code != 1 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "nlkit: ") {
		return fmt.Errorf("nlkit %s: exit %d, stdout %q, stderr %q; want exit 1 and one error line", strings.Join(args, " "), code, out, errOut)
	}
	for _, w := range want {
		if !strings.Contains(errOut, w) {
			return fmt.Errorf("nlkit %s: error %q does not say %q", strings.Join(args, " "), errOut, w)
		}
	}
	return nil
}

// statusLines parses `nlkit audit status` ("name value" lines).
func statusLines(out string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if k, v, ok := strings.Cut(l, " "); ok {
			m[k] = v
		}
	}
	return m
}

func checkCLI(e *env) error {
	if _, err := os.Stat(e.nlkit); err != nil {
		return fmt.Errorf("nlkit binary: %w (give its path with -nlkit)", err)
	}
	pid := strconv.Itoa(os.Getpid())
	out, err := nlkitOK(e, "audit", "status")
	if err != nil {
		return err
	}
	st := statusLines(out)
	if len(st) != 9 || st["enabled"] != "1" || st["pid"] != pid || st["failure"] != "1" {
		return fmt.Errorf("nlkit audit status printed %v; want 9 lines, enabled 1, failure 1, pid %s", st, pid)
	}
	if out, err = nlkitOK(e, "-j", "audit", "status"); err != nil {
		return err
	}
	var js struct {
		Enabled  int      `json:"enabled"`
		PID      int      `json:"pid"`
		Backlog  *int     `json:"backlog"`
		Features []string `json:"features"`
	}
	if err := json.Unmarshal([]byte(out), &js); err != nil || js.Enabled != 1 || strconv.Itoa(js.PID) != pid || js.Backlog == nil || len(js.Features) == 0 {
		return fmt.Errorf("nlkit -j audit status: %v: %s", err, out)
	}

	wantRules := []string{theRules[0], theRules[2], theRules[4]}
	if out, err = nlkitOK(e, "audit", "rules"); err != nil {
		return err
	}
	if got := strings.Split(strings.TrimSpace(out), "\n"); strings.Join(got, "\n") != strings.Join(wantRules, "\n") {
		return fmt.Errorf("nlkit audit rules printed %q, want %q", got, wantRules)
	}
	if out, err = nlkitOK(e, "-j", "audit", "rules"); err != nil {
		return err
	}
	var jr []struct {
		Rule     string   `json:"rule"`
		List     string   `json:"list"`
		Action   string   `json:"action"`
		Syscalls []string `json:"syscalls"`
		Keys     []string `json:"keys"`
		Fields   []struct {
			Field, Op, Value string
		} `json:"fields"`
	}
	if err := json.Unmarshal([]byte(out), &jr); err != nil || len(jr) != 3 {
		return fmt.Errorf("nlkit -j audit rules: %v: %s", err, out)
	}
	if jr[0].Rule != wantRules[0] || jr[0].List != "exit" || jr[0].Action != "always" || jr[0].Syscalls[0] != "all" ||
		jr[0].Keys[0] != watchKey || jr[0].Fields[1].Field != "perm" || jr[0].Fields[1].Value != "wa" ||
		jr[1].Syscalls[0] != "execve" || jr[1].Fields[0].Value != "b64" {
		return fmt.Errorf("nlkit -j audit rules: %+v", jr)
	}

	// add and del, as auditctl's words.
	cliRule := []string{"-w", "/tmp/audit-cli", "-p", "w", "-k", "clikey"}
	if _, err := nlkitOK(e, append([]string{"audit", "rules", "add"}, cliRule...)...); err != nil {
		return err
	}
	if err := hasRule(e, "-w /tmp/audit-cli -p w -k clikey", true); err != nil {
		return err
	}
	if err := nlkitFails(e, nil, append([]string{"audit", "rules", "add"}, cliRule...), "exists already"); err != nil {
		return err
	}
	del := append([]string{"audit", "rules", "del"}, cliRule...)
	del[3] = "-W"
	if _, err := nlkitOK(e, del...); err != nil {
		return err
	}
	if err := hasRule(e, "-w /tmp/audit-cli -p w -k clikey", false); err != nil {
		return err
	}
	if err := nlkitFails(e, nil, del, "no such rule"); err != nil {
		return err
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"audit", "rules", "add", "-a", "always,exit", "-S", "nosuchcall", "-k", "x"}, `unknown syscall "nosuchcall" for arch x86_64`},
		{[]string{"audit", "rules", "add", "-w", "relative/path"}, "must be absolute"},
		{[]string{"audit", "rules", "add", "-a", "always,exits"}, `unknown list "exits"`},
		{[]string{"audit", "rules", "add", "-a", "always,exit", "-F", "bogus=1"}, `unknown field "bogus"`},
		{[]string{"audit", "rules", "add", "-w", "/tmp/x", "-p", "rq"}, "bad permission 'q'"},
		{[]string{"audit", "rules", "add"}, "missing rule"},
		{[]string{"audit", "rules", "del", "-w"}, `missing value after "-w"`},
		{[]string{"audit", "set", "enabled", "5"}, "want 0, 1 or 2"},
		{[]string{"audit", "set", "bogus", "1"}, `unknown argument "bogus"`},
		{[]string{"audit", "set"}, "nothing to set"},
		{[]string{"audit", "watch", "-c", "-1"}, "want a number of events"},
	} {
		if err := nlkitFails(e, nil, bad.args, bad.want); err != nil {
			return err
		}
	}
	if out, err = nlkitOK(e, "audit", "rules"); err != nil || strings.Count(out, "\n") != 3 {
		return fmt.Errorf("rules after the refused commands: %q, %v", out, err)
	}

	// set, read back, restore.
	if _, err := nlkitOK(e, "audit", "set", "backlog_limit", "500", "rate_limit", "0"); err != nil {
		return err
	}
	if out, err = nlkitOK(e, "audit", "status"); err != nil || statusLines(out)["backlog_limit"] != "500" {
		return fmt.Errorf("backlog_limit after nlkit audit set backlog_limit 500: %q, %v", out, err)
	}
	if _, err := nlkitOK(e, "audit", "set", "backlog_limit", strconv.Itoa(int(e.initial.BacklogLimit))); err != nil {
		return err
	}

	// A second daemon: refused with the first one's pid, and what to do.
	return nlkitFails(e, nil, []string{"audit", "watch", "-c", "1"}, "pid "+pid+" is registered as the audit daemon already", "--readlog")
}

// hasRule checks through the library whether the rule auditctl -l would
// print as s is (or is not) in the kernel.
func hasRule(e *env, s string, want bool) error {
	ctx, cancel := timeout(0)
	defer cancel()
	rules, err := e.c.Rules(ctx)
	if err != nil {
		return err
	}
	r, err := parseRule(s)
	if err != nil {
		return err
	}
	for _, have := range rules {
		if have.Equal(r) {
			if !want {
				return fmt.Errorf("rule %q still there", s)
			}
			return nil
		}
	}
	if want {
		return fmt.Errorf("rule %q not in the kernel's list %v", s, rules)
	}
	return nil
}

func checkUnprivileged(e *env) error {
	args := []string{"-child", "unprivileged", "-nlkit", e.nlkit}
	if e.capture {
		args = append(args, "-capture")
	}
	cmd := exec.Command("/proc/self/exe", args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: nobody}
	out, err := cmd.CombinedOutput()
	for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if strings.HasPrefix(l, "CAPTURE") {
			fmt.Println(l)
		} else if l != "" {
			logf("child: %s", l)
		}
	}
	if err != nil {
		return fmt.Errorf("unprivileged child: %w", err)
	}
	for _, args := range [][]string{{"audit", "status"}, {"audit", "rules"}, {"audit", "rules", "add", "-w", "/tmp/x"}, {"audit", "watch"}} {
		if err := nlkitFails(e, nobody, args, "operation not permitted", "CAP_AUDIT_CONTROL"); err != nil {
			return err
		}
	}
	if err := nlkitFails(e, nobody, []string{"audit", "watch", "--readlog"}, "operation not permitted", "CAP_AUDIT_READ"); err != nil {
		return err
	}
	// Nothing changed.
	return hasRule(e, theRules[0], true)
}

// childUnprivileged runs as nobody: every command is refused with EPERM,
// and the errors say which capability is missing.
func childUnprivileged(e *env) error {
	c, err := audit.Dial(nil)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := timeout(0)
	defer cancel()
	for name, do := range map[string]func() error{
		"Status":     func() error { _, err := c.Status(ctx); return err },
		"Rules":      func() error { _, err := c.Rules(ctx); return err },
		"SetEnabled": func() error { return c.SetEnabled(ctx, audit.Disabled) },
		"AddRule":    func() error { return c.AddRule(ctx, audit.WatchRule("/tmp/x", 0, "")) },
		"Register":   func() error { l, err := audit.Register(ctx, nil); closeIf(l); return err },
	} {
		err := do()
		if !errors.Is(err, syscall.EPERM) || !strings.Contains(err.Error(), "CAP_AUDIT_CONTROL") {
			return fmt.Errorf("%s as nobody: %v; want EPERM naming CAP_AUDIT_CONTROL", name, err)
		}
		fmt.Printf("%s as nobody -> %v\n", name, err)
	}
	l, err := audit.ReadLog(nil)
	closeIf(l)
	if !errors.Is(err, syscall.EPERM) || !strings.Contains(err.Error(), "CAP_AUDIT_READ") {
		return fmt.Errorf("ReadLog as nobody: %v; want EPERM naming CAP_AUDIT_READ", err)
	}
	fmt.Printf("ReadLog as nobody -> %v\n", err)
	dgrams, err := rawExchange(audit.MsgGet, nil, false)
	if err != nil {
		return err
	}
	e.captureDatagrams("status_get_eperm.hex", "AUDIT_GET from uid 65534: NLMSG_ERROR EPERM", dgrams)
	return nil
}

func closeIf(l *audit.Listener) {
	if l != nil {
		l.Close()
	}
}

// watchWhileTriggering runs nlkit args (a watch that stops by itself)
// and execs /bin/true every 100 ms until it ends, for at most 15 s.
func watchWhileTriggering(e *env, args ...string) (string, error) {
	done := make(chan struct{})
	var out, errOut string
	var code int
	go func() {
		defer close(done)
		out, errOut, code = runNlkit(e, nil, args...)
	}()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case <-done:
			if code != 0 {
				return out, fmt.Errorf("nlkit %s: exit %d: %s", strings.Join(args, " "), code, errOut)
			}
			return out, nil
		case <-deadline:
			return "", fmt.Errorf("nlkit %s did not end within 15 s", strings.Join(args, " "))
		case <-time.After(100 * time.Millisecond):
			if err := exec.Command("/bin/true").Run(); err != nil {
				return "", err
			}
		}
	}
}

func checkCLIWatch(e *env) error {
	out, err := watchWhileTriggering(e, "-j", "audit", "watch", "-c", "3")
	if err != nil {
		return err
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		return fmt.Errorf("nlkit -j audit watch -c 3 printed %d lines, want 3", len(lines))
	}
	execs := 0
	for _, l := range lines {
		var ev struct {
			Serial  uint64 `json:"serial"`
			Time    string `json:"time"`
			Records []struct {
				Type   string            `json:"type"`
				Fields map[string]string `json:"fields"`
			} `json:"records"`
		}
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			return fmt.Errorf("event line %q: %w", l, err)
		}
		if ev.Serial == 0 || len(ev.Records) == 0 || ev.Records[len(ev.Records)-1].Type != "EOE" {
			return fmt.Errorf("event line %q: want a serial and records ending in EOE", l)
		}
		if _, err := time.Parse(time.RFC3339, ev.Time); err != nil {
			return fmt.Errorf("event line %q: time: %w", l, err)
		}
		if r := ev.Records[0]; r.Type == "SYSCALL" && r.Fields["key"] == execKey {
			for _, r := range ev.Records {
				if r.Type == "EXECVE" && r.Fields["a0"] == "/bin/true" {
					execs++
				}
			}
		}
	}
	if execs == 0 {
		return errors.New("no exec event of /bin/true among the three")
	}
	ctx, cancel := timeout(0)
	defer cancel()
	if s, err := e.c.Status(ctx); err != nil || s.PID != 0 {
		return fmt.Errorf("status pid %d after nlkit audit watch ended (%v), want 0: it must unregister", s.PID, err)
	}
	logf("nlkit -j audit watch -c 3: 3 events, %d of /bin/true; unregistered on exit", execs)

	out, err = watchWhileTriggering(e, "audit", "watch", "--readlog", "--log", "-c", "1")
	if err != nil {
		return err
	}
	lines = strings.Split(strings.TrimSpace(out), "\n")
	for _, l := range lines {
		if !strings.HasPrefix(l, "type=") || !strings.Contains(l, " msg=audit(") {
			return fmt.Errorf("--log line %q: want audit.log's form", l)
		}
	}
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "type=EOE msg=audit(") {
		return fmt.Errorf("--log -c 1 ended with %q, want the event's EOE", last)
	}
	return nil
}
