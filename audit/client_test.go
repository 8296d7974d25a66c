package audit_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nlkit/nlkit/audit"
	"github.com/nlkit/nlkit/audit/audittest"
	"github.com/nlkit/nlkit/netlink"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func dial(t *testing.T, k *audittest.Kernel) *audit.Client {
	t.Helper()
	c, err := k.Dial(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func mustParse(t *testing.T, s string) audit.Rule {
	t.Helper()
	r, err := audit.ParseRule(strings.Fields(s))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestClientStatus(t *testing.T) {
	k := audittest.New(nil)
	c := dial(t, k)
	ctx := testCtx(t)
	s, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s != k.Status() || s.Enabled != audit.Disabled || s.BacklogLimit != 64 {
		t.Errorf("status %+v, kernel has %+v", s, k.Status())
	}
	if err := c.SetEnabled(ctx, audit.Enabled); err != nil {
		t.Fatal(err)
	}
	if err := c.SetStatus(ctx, audit.Status{Mask: audit.StatusBacklogLimit | audit.StatusRateLimit, BacklogLimit: 8192, RateLimit: 100}); err != nil {
		t.Fatal(err)
	}
	s, err = c.Status(ctx)
	if err != nil || s.Enabled != audit.Enabled || s.BacklogLimit != 8192 || s.RateLimit != 100 {
		t.Errorf("after setting: %+v, %v", s, err)
	}
	// Errors: the kernel's EINVAL, and what the client refuses itself.
	if err := c.SetEnabled(ctx, 3); !errors.Is(err, syscall.EINVAL) || !strings.Contains(err.Error(), "audit: set status enabled: ") {
		t.Errorf("SetEnabled(3): %v", err)
	}
	if err := c.SetStatus(ctx, audit.Status{}); err == nil {
		t.Error("empty mask accepted")
	}
	if err := c.SetStatus(ctx, audit.Status{Mask: audit.StatusLost}); err == nil {
		t.Error("lost reset accepted")
	}
	// Locked: every change refused, reading still works.
	if err := c.SetEnabled(ctx, audit.Locked); err != nil {
		t.Fatal(err)
	}
	if err := c.SetEnabled(ctx, audit.Disabled); !errors.Is(err, syscall.EPERM) {
		t.Errorf("change while locked: %v", err)
	}
	if err := c.AddRule(ctx, mustParse(t, "-w /x")); !errors.Is(err, syscall.EPERM) {
		t.Errorf("add rule while locked: %v", err)
	}
}

func TestClientRules(t *testing.T) {
	k := audittest.New(nil)
	c := dial(t, k)
	ctx := testCtx(t)
	if rules, err := c.Rules(ctx); err != nil || len(rules) != 0 {
		t.Fatalf("rules of a new kernel: %v, %v", rules, err)
	}
	texts := []string{
		"-w /etc/passwd -p wa -k passwd",
		"-a always,exit -F arch=b64 -S 257 -F key=mykey",
		"-A never,exit -S all -F uid=0",
	}
	for _, s := range texts {
		if err := c.AddRule(ctx, mustParse(t, s)); err != nil {
			t.Fatalf("add %q: %v", s, err)
		}
	}
	rules, err := c.Rules(ctx)
	if err != nil || len(rules) != 3 {
		t.Fatalf("rules: %v, %v", rules, err)
	}
	// The prepended rule first, then in order; the watch's class bits
	// cleared as the kernel lists them, still Equal.
	for i, s := range []string{texts[2], texts[0], texts[1]} {
		if !rules[i].Equal(mustParse(t, s)) {
			t.Errorf("rule %d: %v, want %s", i, rules[i], s)
		}
	}
	if rules[1].Syscalls[63] != 0x0000ffff {
		t.Errorf("watch listed with mask word 63 %#x", rules[1].Syscalls[63])
	}
	err = c.AddRule(ctx, mustParse(t, texts[0]))
	if !errors.Is(err, syscall.EEXIST) || !strings.Contains(err.Error(), `add rule "-w /etc/passwd -p wa -k passwd"`) ||
		!strings.Contains(err.Error(), "exists already") {
		t.Errorf("duplicate: %v", err)
	}
	if err := c.DeleteRule(ctx, rules[1]); err != nil {
		t.Fatal(err)
	}
	err = c.DeleteRule(ctx, rules[1])
	if !errors.Is(err, syscall.ENOENT) || !strings.Contains(err.Error(), "no such rule") {
		t.Errorf("delete twice: %v", err)
	}
	if err := c.AddRule(ctx, audit.WatchRule("relative", 0, "")); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("relative watch: %v", err)
	}
	n, err := c.DeleteAllRules(ctx)
	if err != nil || n != 2 || len(k.Rules()) != 0 {
		t.Errorf("DeleteAllRules: %d, %v; %d left", n, err, len(k.Rules()))
	}
}

func TestClientUnprivileged(t *testing.T) {
	k := audittest.New(&audittest.Config{Unprivileged: true})
	c := dial(t, k)
	ctx := testCtx(t)
	_, err := c.Status(ctx)
	var oe *netlink.OpError
	if !errors.Is(err, syscall.EPERM) || !errors.As(err, &oe) || !strings.Contains(err.Error(), "needs CAP_AUDIT_CONTROL") ||
		!strings.HasPrefix(err.Error(), "audit: status: ") {
		t.Errorf("Status: %v", err)
	}
	if _, err := c.Rules(ctx); !errors.Is(err, syscall.EPERM) {
		t.Errorf("Rules: %v", err)
	}
	if err := c.SetEnabled(ctx, audit.Enabled); !errors.Is(err, syscall.EPERM) {
		t.Errorf("SetEnabled: %v", err)
	}
	if _, err := k.Register(ctx); !errors.Is(err, syscall.EPERM) {
		t.Errorf("Register: %v", err)
	}
}

// TestClientConcurrent runs requests from many goroutines on one
// Client: each gets its own answer (go test -race).
func TestClientConcurrent(t *testing.T) {
	k := audittest.New(nil)
	c := dial(t, k)
	ctx := testCtx(t)
	errs := make(chan error, 40)
	for i := range 20 {
		go func() {
			_, err := c.Status(ctx)
			errs <- err
		}()
		go func() {
			errs <- c.AddRule(ctx, audit.WatchRule("/w"+strings.Repeat("x", i), audit.PermWrite, ""))
		}()
	}
	for range 40 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if rules, err := c.Rules(ctx); err != nil || len(rules) != 20 {
		t.Errorf("%d rules, %v", len(rules), err)
	}
}

// syscallEvent logs the records of one syscall event with serial s.
func syscallEvent(t *testing.T, k *audittest.Kernel, s uint64, key string) {
	t.Helper()
	for _, r := range []struct {
		typ  audit.MessageType
		text string
	}{
		{audit.MsgSyscall, `arch=c000003e syscall=257 success=yes comm="sh" exe="/bin/busybox" key="` + key + `"`},
		{audit.MsgCWD, `cwd="/"`},
		{audit.MsgPath, `item=0 name="/etc/passwd" nametype=NORMAL`},
		{audit.MsgProctitle, `proctitle=2F62696E2F7368002D63`},
		{audit.MsgEOE, ``},
	} {
		if err := k.Log(r.typ, s, r.text); err != nil {
			t.Fatal(err)
		}
	}
}

func TestListenerEvents(t *testing.T) {
	k := audittest.New(nil)
	ctx := testCtx(t)
	l, err := k.Register(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if !l.Registered() || k.Status().PID == 0 || k.DaemonPort() != l.Conn().PortID() {
		t.Fatalf("registered: %v, kernel status %+v, daemon port %d", l.Registered(), k.Status(), k.DaemonPort())
	}
	// A second daemon is refused, naming the first.
	_, err = k.Register(ctx)
	var dr *audit.DaemonRegisteredError
	if !errors.Is(err, audit.ErrDaemonRegistered) || !errors.Is(err, syscall.EEXIST) || !errors.As(err, &dr) || dr.PID != k.Status().PID {
		t.Errorf("second Register: %v", err)
	}
	if err := k.Replace(4321); err != nil { // a binary probe: skipped
		t.Fatal(err)
	}
	syscallEvent(t, k, 10, "passwd")
	if err := k.SendRaw(audit.MsgPath, []byte("not a record")); err != nil {
		t.Fatal(err)
	}
	if err := k.Log(1105, 11, `pid=1 msg='op=login res=success'`); err != nil {
		t.Fatal(err)
	}
	var got []audit.Event
	var malformed int
	for ev, err := range l.Events(ctx) {
		if errors.Is(err, audit.ErrMalformedRecord) {
			malformed++
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ev)
		if len(got) == 2 {
			break
		}
	}
	if malformed != 1 {
		t.Errorf("%d malformed records reported, want 1", malformed)
	}
	e := got[0]
	if e.Serial != 10 || len(e.Records) != 5 || !e.Complete() || !e.Time.Equal(audittest.Time) {
		t.Fatalf("event %+v", e)
	}
	if v, _ := e.Get(audit.MsgSyscall, "key"); v != "passwd" {
		t.Errorf("key %q", v)
	}
	if v, _ := e.Get(audit.MsgProctitle, "proctitle"); v != "/bin/sh -c" {
		t.Errorf("proctitle %q", v)
	}
	if got[1].Serial != 11 || got[1].Records[0].Type != 1105 || !got[1].Complete() {
		t.Errorf("user event %+v", got[1])
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if k.Status().PID != 0 || k.DaemonPort() != 0 {
		t.Errorf("after Close: %+v", k.Status())
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestListenerExpiry(t *testing.T) {
	k := audittest.New(nil)
	ctx := testCtx(t)
	l, err := k.Register(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.MaxAge = 10 * time.Millisecond
	// A record logged outside a syscall: no EOE will come.
	if err := k.Log(audit.MsgConfigChange, 20, "op=set audit_pid=0 old=1 res=1"); err != nil {
		t.Fatal(err)
	}
	for ev, err := range l.Events(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if ev.Serial != 20 || ev.Complete() || ev.Records[0].Type != audit.MsgConfigChange {
			t.Errorf("event %+v", ev)
		}
		break
	}
}

func TestListenerCloseEndsLoop(t *testing.T) {
	k := audittest.New(nil)
	ctx := testCtx(t)
	l, err := k.Register(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Event 30 stays open (no EOE); event 31 is a user message, an event
	// by itself, read after 30's record. Closing then ends the loop: the
	// open event comes first, then net.ErrClosed.
	if err := k.Log(audit.MsgSyscall, 30, "syscall=1"); err != nil {
		t.Fatal(err)
	}
	if err := k.Log(1105, 31, "pid=1"); err != nil {
		t.Fatal(err)
	}
	var serials []uint64
	var errs []error
	for ev, err := range l.Events(ctx) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		serials = append(serials, ev.Serial)
		if ev.Serial == 31 {
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(serials) != 2 || serials[0] != 31 || serials[1] != 30 {
		t.Errorf("events %v, want 31 then the open 30", serials)
	}
	if len(errs) != 1 || !errors.Is(errs[0], net.ErrClosed) {
		t.Errorf("loop ended with %v, want net.ErrClosed", errs)
	}
	if k.Status().PID != 0 {
		t.Error("Close did not unregister")
	}
}

func TestListenerRecordsAndOverrun(t *testing.T) {
	k := audittest.New(nil)
	ctx := testCtx(t)
	l, err := k.Register(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	syscallEvent(t, k, 40, "k")
	if err := k.Endpoint().Overrun(l.Conn().PortID()); err != nil {
		t.Fatal(err)
	}
	var types []string
	overruns := 0
	for r, err := range l.Records(ctx) {
		if errors.Is(err, netlink.ErrOverrun) {
			overruns++
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		types = append(types, r.Type.String())
		if r.Type == audit.MsgEOE {
			break
		}
	}
	if overruns != 1 || strings.Join(types, ",") != "SYSCALL,CWD,PATH,PROCTITLE,EOE" {
		t.Errorf("overruns %d, records %v", overruns, types)
	}
}

func TestReadLog(t *testing.T) {
	k := audittest.New(nil)
	ctx := testCtx(t)
	r, err := k.ReadLog()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Registered() {
		t.Error("a read-log listener claims to be the daemon")
	}
	syscallEvent(t, k, 50, "rl")
	for ev, err := range r.Events(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if ev.Serial != 50 || !ev.Complete() {
			t.Errorf("event %+v", ev)
		}
		break
	}
	if k.Status().PID != 0 {
		t.Error("reading the log registered a daemon")
	}
}
