package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nlkit/nlkit/audit"
	"github.com/nlkit/nlkit/audit/audittest"
	"github.com/nlkit/nlkit/netlink"
)

func auditCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func fakeAudit(t *testing.T, cfg *audittest.Config) (*audittest.Kernel, *audit.Client) {
	t.Helper()
	k := audittest.New(cfg)
	c, err := k.Dial(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return k, c
}

func TestAuditStatusOutput(t *testing.T) {
	_, c := fakeAudit(t, &audittest.Config{Status: audit.Status{
		Enabled: audit.Enabled, Failure: audit.FailPrintk, PID: 77, RateLimit: 5, BacklogLimit: 8192, Lost: 3,
		Backlog: 2, FeatureBitmap: audit.FeatureBacklogLimit | audit.FeatureLostReset, BacklogWaitTime: 15000, BacklogWaitTimeActual: 9,
	}})
	a, out := testApp(false)
	if err := auditStatus(auditCtx(t), a, c); err != nil {
		t.Fatal(err)
	}
	want := "enabled 1\nfailure 1\npid 77\nrate_limit 5\nbacklog_limit 8192\nlost 3\nbacklog 2\nbacklog_wait_time 15000\nbacklog_wait_time_actual 9\n"
	if out.String() != want {
		t.Errorf("status:\n%s\nwant (as auditctl -s):\n%s", out, want)
	}
	a, out = testApp(true)
	if err := auditStatus(auditCtx(t), a, c); err != nil {
		t.Fatal(err)
	}
	want = `{"enabled":1,"failure":1,"pid":77,"rate_limit":5,"backlog_limit":8192,"lost":3,"backlog":2,"feature_bitmap":33,` +
		`"backlog_wait_time":15000,"backlog_wait_time_actual":9,"features":["backlog_limit","lost_reset"]}` + "\n"
	if out.String() != want {
		t.Errorf("status -j:\n%s\nwant\n%s", out, want)
	}
}

func TestAuditRulesOutput(t *testing.T) {
	_, c := fakeAudit(t, nil)
	ctx := auditCtx(t)
	a, out := testApp(false)
	if err := auditRules(ctx, a, c); err != nil || out.String() != "No rules\n" {
		t.Fatalf("no rules: %q, %v", out, err)
	}
	a, out = testApp(true)
	if err := auditRules(ctx, a, c); err != nil || out.String() != "[]\n" {
		t.Fatalf("no rules -j: %q, %v", out, err)
	}
	texts := []string{
		"-w /etc/passwd -p wa -k passwd",
		"-a always,exit -F arch=b64 -S 257,59 -F auid>=1000 -F key=k1 -F key=k2",
	}
	for _, s := range texts {
		r, err := parseAuditRule("add", strings.Fields(s))
		if err != nil {
			t.Fatal(err)
		}
		if err := auditRuleChange(ctx, c, "add", r); err != nil {
			t.Fatal(err)
		}
	}
	a, out = testApp(false)
	if err := auditRules(ctx, a, c); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || lines[0] != texts[0] || !strings.HasPrefix(lines[1], "-a always,exit -F arch=b64 -S ") ||
		!strings.HasSuffix(lines[1], " -F auid>=1000 -F key=k1 -F key=k2") {
		t.Errorf("rules:\n%s", out)
	}
	a, out = testApp(true)
	if err := auditRules(ctx, a, c); err != nil {
		t.Fatal(err)
	}
	var got []auditRuleJSON
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || len(got) != 2 {
		t.Fatalf("rules -j: %v\n%s", err, out)
	}
	w := got[0]
	if w.Rule != texts[0] || w.List != "exit" || w.Action != "always" || fmt.Sprint(w.Syscalls) != "[all]" ||
		fmt.Sprint(w.Keys) != "[passwd]" || len(w.Fields) != 3 || w.Fields[0] != (auditRuleFieldJSON{"path", "=", "/etc/passwd"}) ||
		w.Fields[1] != (auditRuleFieldJSON{"perm", "=", "wa"}) || w.Fields[2] != (auditRuleFieldJSON{"key", "=", "passwd"}) {
		t.Errorf("watch as JSON: %+v", w)
	}
	s := got[1]
	if len(s.Syscalls) != 2 || fmt.Sprint(s.Keys) != "[k1 k2]" || s.Fields[0] != (auditRuleFieldJSON{"arch", "=", "b64"}) && audit.NativeArch() == audit.ArchAMD64 ||
		s.Fields[1] != (auditRuleFieldJSON{"auid", ">=", "1000"}) {
		t.Errorf("syscall rule as JSON: %+v", s)
	}
	// del, then del again: the kernel's ENOENT, worded.
	r, _ := parseAuditRule("del", strings.Fields("-W /etc/passwd -p wa -k passwd"))
	if err := auditRuleChange(ctx, c, "del", r); err != nil {
		t.Fatal(err)
	}
	if err := auditRuleChange(ctx, c, "del", r); !errors.Is(err, syscall.ENOENT) || !strings.Contains(describeError(err), "no such rule") {
		t.Errorf("second del: %v", err)
	}
}

func TestParseAuditSet(t *testing.T) {
	good := []struct {
		in   string
		want audit.Status
	}{
		{"enabled 1", audit.Status{Mask: audit.StatusEnabled, Enabled: audit.Enabled}},
		{"enabled 0 failure 2", audit.Status{Mask: audit.StatusEnabled | audit.StatusFailure, Failure: audit.FailPanic}},
		{"rate_limit 100 backlog_limit 0x2000 backlog_wait_time 0", audit.Status{
			Mask: audit.StatusRateLimit | audit.StatusBacklogLimit | audit.StatusBacklogWaitTime, RateLimit: 100, BacklogLimit: 8192}},
	}
	for _, g := range good {
		s, err := parseAuditSet(strings.Fields(g.in))
		if err != nil || s != g.want {
			t.Errorf("%q: %+v, %v; want %+v", g.in, s, err, g.want)
		}
	}
	bad := []struct{ in, want string }{
		{"", "nothing to set"},
		{"enabled", `missing value after "enabled"`},
		{"enabled 3", "want 0, 1 or 2"},
		{"failure x", `failure "x": not a number`},
		{"enabled 1 enabled 0", "enabled given twice"},
		{"rate_limit 4294967296", "not a number"},
		{"pid 1", `unknown argument "pid"`},
		{"lost 0", `unknown argument "lost"`},
	}
	for _, b := range bad {
		_, err := parseAuditSet(strings.Fields(b.in))
		if err == nil || !strings.Contains(err.Error(), b.want) || !strings.HasPrefix(err.Error(), "audit set: ") {
			t.Errorf("%q: %v, want an error saying %q", b.in, err, b.want)
		}
	}
}

// Errors that happen before anything is sent: every subcommand's bad
// input, through the whole command, on any machine.
func TestAuditBadInput(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"audit", "rules", "add"}, "audit rules add: missing rule"},
		{[]string{"audit", "rules", "del"}, "audit rules del: missing rule"},
		{[]string{"audit", "rules", "add", "-w", "etc/passwd"}, "-w etc/passwd: the path must be absolute"},
		{[]string{"audit", "rules", "add", "-w", "/etc/passwd", "-p", "rwq"}, `bad permission 'q' in "rwq"`},
		{[]string{"audit", "rules", "add", "-a", "always,exit", "-F", "arch=b64", "-S", "nosuchcall"}, `unknown syscall "nosuchcall"`},
		{[]string{"audit", "rules", "add", "-a", "maybe,exit"}, `unknown action "maybe"`},
		{[]string{"audit", "rules", "add", "-a", "always,exit", "-F", "nosuch=1"}, `unknown field "nosuch"`},
		{[]string{"audit", "rules", "add", "-a", "always,exit", "-F", "auid>=x"}, `bad value "x"`},
		{[]string{"audit", "rules", "del", "-w"}, `missing value after "-w"`},
		{[]string{"audit", "rules", "del", "-q", "x"}, `unknown option "-q"`},
		{[]string{"audit", "rules", "del", "stray"}, `unexpected "stray"`},
		{[]string{"audit", "set"}, "nothing to set"},
		{[]string{"audit", "set", "enabled", "7"}, "want 0, 1 or 2"},
		{[]string{"audit", "set", "speed", "1"}, `unknown argument "speed"`},
		{[]string{"audit", "watch", "-c", "-2"}, "want a number of events"},
		{[]string{"audit", "watch", "--max-age", "-1s"}, "want a positive duration"},
		{[]string{"audit", "watch", "--rcvbuf", "-1"}, "want a size in bytes"},
		{[]string{"audit", "watch", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"audit", "status", "extra"}, `unknown command "extra"`},
		{[]string{"audit", "rules", "flush", "x"}, `unknown command "x"`},
	}
	for _, tt := range tests {
		out, errOut, code := nlkit(t, tt.args...)
		if code != 1 || out != "" || !strings.HasPrefix(errOut, "nlkit: ") || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want one error line saying %q", tt.args, code, out, errOut, tt.want)
		}
	}
	for _, args := range [][]string{{"audit", "--help"}, {"audit", "rules", "add", "--help"}, {"audit", "set", "-h"}, {"audit", "watch", "--help"}} {
		out, errOut, code := nlkit(t, args...)
		if code != 0 || !strings.Contains(out, "Examples:") || errOut != "" {
			t.Errorf("%v: exit %d, %q %q", args, code, out, errOut)
		}
	}
}

func TestAuditPermissionWording(t *testing.T) {
	_, c := fakeAudit(t, &audittest.Config{Unprivileged: true})
	a, _ := testApp(false)
	err := auditErr(auditStatus(auditCtx(t), a, c))
	msg := describeError(err)
	if msg != "audit: status: operation not permitted (needs CAP_AUDIT_CONTROL, in the initial PID namespace)" {
		t.Errorf("EPERM described as %q", msg)
	}
	// An EPERM without the library's words gets them.
	msg = describeError(auditErr(fmt.Errorf("audit: x: %w", syscall.EPERM)))
	if !strings.Contains(msg, "CAP_AUDIT_CONTROL") || strings.Contains(msg, "CAP_NET_ADMIN") {
		t.Errorf("bare EPERM described as %q", msg)
	}
	if auditErr(nil) != nil {
		t.Error("auditErr(nil)")
	}
	other := errors.New("x")
	if auditErr(other) != other {
		t.Error("other errors changed")
	}
}

func TestAuditWatchOutput(t *testing.T) {
	k := audittest.New(nil)
	ctx := auditCtx(t)
	l, err := k.Register(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, r := range []struct {
		t    audit.MessageType
		s    uint64
		text string
	}{
		{audit.MsgSyscall, 5, `syscall=59 key="k"`},
		{audit.MsgExecve, 5, `argc=2 a0="/bin/ls" a1=2D6C61`},
		{audit.MsgEOE, 5, ``},
		{1105, 6, `pid=1 msg='op=x'`},
	} {
		if err := k.Log(r.t, r.s, r.text); err != nil {
			t.Fatal(err)
		}
	}
	if err := k.SendRaw(audit.MsgPath, []byte("junk")); err != nil {
		t.Fatal(err)
	}
	if err := k.Endpoint().Overrun(l.Conn().PortID()); err != nil {
		t.Fatal(err)
	}
	if err := k.Log(audit.MsgEOE, 7, ""); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	a := &app{out: &out, errOut: &errOut}
	if err := auditWatch(ctx, a, l, &auditWatchOpts{count: 3}); err != nil {
		t.Fatal(err)
	}
	// The fake kernel reports the overrun at the next read, before what
	// is queued; where it comes is not the point.
	var lines []string
	lost := 0
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if l == `{"lost":true}` {
			lost++
			continue
		}
		lines = append(lines, l)
	}
	if lost != 1 {
		t.Errorf("%d lost lines, want 1", lost)
	}
	want := []string{
		`{"serial":5,"time":"2023-11-14T22:13:20.123Z","records":[{"type":"SYSCALL","fields":{"syscall":"59","key":"k"}},` +
			`{"type":"EXECVE","fields":{"argc":"2","a0":"/bin/ls","a1":"-la"}},{"type":"EOE","fields":{}}]}`,
		`{"serial":6,"time":"2023-11-14T22:13:20.123Z","records":[{"type":"USER_START","fields":{"pid":"1","msg":"op=x"}}]}`,
		`{"serial":7,"time":"2023-11-14T22:13:20.123Z","records":[{"type":"EOE","fields":{}}]}`,
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("watch printed\n%s\nwant\n%s", out.String(), strings.Join(want, "\n"))
	}
	if !strings.Contains(errOut.String(), "malformed record") {
		t.Errorf("malformed record not reported: %q", errOut.String())
	}

	// --log: audit.log lines; -c counts events.
	syscallRecords := []struct {
		t    audit.MessageType
		text string
	}{{audit.MsgSyscall, `syscall=2`}, {audit.MsgCWD, `cwd="/"`}, {audit.MsgEOE, ``}}
	for _, r := range syscallRecords {
		if err := k.Log(r.t, 8, r.text); err != nil {
			t.Fatal(err)
		}
	}
	out.Reset()
	if err := auditWatch(ctx, a, l, &auditWatchOpts{count: 1, log: true}); err != nil {
		t.Fatal(err)
	}
	wantLog := "type=SYSCALL msg=audit(1700000000.123:8): syscall=2\ntype=CWD msg=audit(1700000000.123:8): cwd=\"/\"\ntype=EOE msg=audit(1700000000.123:8): \n"
	if out.String() != wantLog {
		t.Errorf("--log printed\n%q\nwant\n%q", out.String(), wantLog)
	}
	// Ctrl-C ends the watch without an error.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := auditWatch(cctx, a, l, &auditWatchOpts{}); err != nil {
		t.Errorf("cancelled watch: %v", err)
	}
	if errors.Is(netlink.ErrOverrun, syscall.ENOBUFS) != true {
		t.Error("overrun identity")
	}
}
