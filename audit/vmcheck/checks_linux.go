package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/nlkit/nlkit/audit"
	"github.com/nlkit/nlkit/netlink"
)

// rawExchange sends a request of type t on a fresh socket and returns
// the raw datagrams that answer it (by sequence), up to and including
// the last one: the reply (multi false), the NLMSG_DONE (multi true) or
// an NLMSG_ERROR.
func rawExchange(t audit.MessageType, data []byte, multi bool) ([][]byte, error) {
	c, err := netlink.Dial(netlink.Audit, nil)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	sent, err := c.Send(netlink.Message{Header: netlink.Header{Type: netlink.HeaderType(t), Flags: netlink.Request}, Data: data})
	if err != nil {
		return nil, err
	}
	ctx, cancel := timeout(0)
	defer cancel()
	var out [][]byte
	for {
		b, _, err := c.ReceiveRaw(ctx)
		if err != nil {
			return out, err
		}
		msgs, err := netlink.ParseMessages(b)
		if err != nil || len(msgs) != 1 {
			return out, fmt.Errorf("reply datagram of %d bytes: %d messages, %v", len(b), len(msgs), err)
		}
		h := msgs[0].Header
		if h.Sequence != sent.Header.Sequence {
			continue
		}
		out = append(out, b)
		if h.Type == netlink.Error || h.Type == netlink.Done || !multi {
			return out, nil
		}
	}
}

func checkStatus(e *env) error {
	ctx, cancel := timeout(0)
	defer cancel()
	s, err := e.c.Status(ctx)
	if err != nil {
		return err
	}
	e.initial = s
	logf("status: %+v", s)
	if s.PID != 0 || s.Enabled > audit.Locked || s.Failure != audit.FailPrintk || s.FeatureBitmap == 0 || s.BacklogLimit == 0 {
		return fmt.Errorf("unexpected status at boot: %+v", s)
	}
	// The reply on the wire: one AUDIT_GET message of struct audit_status.
	dgrams, err := rawExchange(audit.MsgGet, nil, false)
	if err != nil {
		return err
	}
	msgs, _ := netlink.ParseMessages(dgrams[0])
	m := msgs[0]
	var raw audit.Status
	if m.Header.Type != netlink.HeaderType(audit.MsgGet) || raw.UnmarshalBinary(m.Data) != nil {
		return fmt.Errorf("AUDIT_GET answered with %s, %d bytes", netlink.FormatMessage(m), len(m.Data))
	}
	logf("AUDIT_GET reply: type %d, %d payload bytes, flags %v, pid %d", m.Header.Type, len(m.Data), m.Header.Flags, m.Header.PID)
	if raw.Enabled != s.Enabled || raw.Failure != s.Failure || raw.BacklogLimit != s.BacklogLimit || raw.FeatureBitmap != s.FeatureBitmap {
		return fmt.Errorf("raw reply %+v differs from Status %+v", raw, s)
	}
	e.captureDatagrams("status_get.hex", "AUDIT_GET reply: audit disabled (boot without audit=1), no daemon", dgrams)
	return nil
}

func checkEnable(e *env) error {
	ctx, cancel := timeout(0)
	defer cancel()
	if err := e.c.SetEnabled(ctx, audit.Enabled); err != nil {
		return err
	}
	s, err := e.c.Status(ctx)
	if err != nil {
		return err
	}
	if s.Enabled != audit.Enabled {
		return fmt.Errorf("after SetEnabled(Enabled): enabled %v", s.Enabled)
	}
	logf("SetEnabled(Enabled) -> status enabled %d", s.Enabled)
	// Bad values: EINVAL, nothing changed.
	for _, bad := range []audit.Status{
		{Mask: audit.StatusEnabled, Enabled: 3},
		{Mask: audit.StatusFailure, Failure: 7},
	} {
		err := e.c.SetStatus(ctx, bad)
		if !errors.Is(err, syscall.EINVAL) {
			return fmt.Errorf("SetStatus(%+v): %v, want EINVAL", bad, err)
		}
		logf("SetStatus %v -> %v", bad.Mask, err)
	}
	// A limit round trip, restored.
	if err := e.c.SetStatus(ctx, audit.Status{Mask: audit.StatusBacklogLimit, BacklogLimit: 321}); err != nil {
		return err
	}
	if s, err = e.c.Status(ctx); err != nil || s.BacklogLimit != 321 {
		return fmt.Errorf("backlog_limit after setting 321: %d, %v", s.BacklogLimit, err)
	}
	return e.c.SetStatus(ctx, audit.Status{Mask: audit.StatusBacklogLimit, BacklogLimit: e.initial.BacklogLimit})
}

// theRules are the rules the checks add, in auditctl syntax, as auditctl
// -l prints them back.
var theRules = []string{
	"-w " + watched + " -p wa -k " + watchKey,
	"-a always,exit -F arch=b64 -S openat -F key=mykey",
	"-a always,exit -F arch=b64 -S execve -F key=" + execKey,
	"-a always,exit -F arch=b64 -S unlink,unlinkat -F auid>=1000 -F auid!=unset -F success=0 -F key=mixed",
	"-w /tmp/auditdir -p w -k dirkey",
}

func parseRule(s string) (audit.Rule, error) {
	p := audit.RuleParser{IsDir: func(p string) bool {
		fi, err := os.Stat(p)
		return err == nil && fi.IsDir()
	}}
	return p.Parse(strings.Fields(s))
}

func checkRules(e *env) error {
	if err := os.WriteFile(watched, []byte("first\n"), 0o644); err != nil {
		return err
	}
	if err := os.MkdirAll("/tmp/auditdir", 0o755); err != nil {
		return err
	}
	ctx, cancel := timeout(0)
	defer cancel()
	if rules, err := e.c.Rules(ctx); err != nil || len(rules) != 0 {
		return fmt.Errorf("rules at boot: %v, %v; want none", rules, err)
	}
	var want []audit.Rule
	for _, s := range theRules {
		r, err := parseRule(s)
		if err != nil {
			return fmt.Errorf("parse %q: %w", s, err)
		}
		if err := e.c.AddRule(ctx, r); err != nil {
			return err
		}
		logf("added %s", r)
		want = append(want, r)
	}
	if d, _ := parseRule(theRules[4]); d.Fields[0].Field != audit.FieldDir {
		return fmt.Errorf("-w on a directory gave field %v, want dir", d.Fields[0].Field)
	}
	got, err := e.c.Rules(ctx)
	if err != nil {
		return err
	}
	if len(got) != len(want) {
		return fmt.Errorf("listed %d rules, added %d", len(got), len(want))
	}
	for i := range want {
		logf("listed %s", got[i])
		if !got[i].Equal(want[i]) {
			return fmt.Errorf("rule %d listed as %+v, added %+v", i, got[i], want[i])
		}
		if got[i].String() != theRules[i] {
			return fmt.Errorf("rule %d prints as %q, want %q", i, got[i].String(), theRules[i])
		}
		// Field by field, as the kernel keeps them.
		for j, f := range want[i].Fields {
			g := got[i].Fields[j]
			if g.Field != f.Field || g.Op != f.Op || g.Str != f.Str || (!f.Field.IsString() && g.Value != f.Value) {
				return fmt.Errorf("rule %d field %d listed as %+v, added %+v", i, j, g, f)
			}
		}
	}
	// The syscall mask of a watch: every syscall, the class bits expanded.
	if w := got[0].Syscalls; !w.All() || w[63] != 0x0000ffff {
		return fmt.Errorf("watch rule mask word 63 = %#x, want 0x0000ffff (class bits cleared)", w[63])
	}
	if r := got[1]; !r.Syscalls.Has(257) || len(r.Syscalls.Numbers()) != 1 || r.Arch() != audit.ArchAMD64 {
		return fmt.Errorf("openat rule listed with syscalls %v arch %v", r.Syscalls.Numbers(), r.Arch())
	}
	// The listing on the wire, captured.
	dgrams, err := rawExchange(audit.MsgListRules, nil, true)
	if err != nil {
		return err
	}
	if len(dgrams) != len(want)+1 {
		return fmt.Errorf("AUDIT_LIST_RULES: %d datagrams, want %d rules and NLMSG_DONE", len(dgrams), len(want))
	}
	e.captureDatagrams("rules_list.hex", "AUDIT_LIST_RULES of: "+strings.Join(theRules, " | "), dgrams)

	// The openat rule and the mixed one would make noise: delete them.
	for _, i := range []int{3, 1} {
		if err := e.c.DeleteRule(ctx, got[i]); err != nil {
			return err
		}
		logf("deleted %s", got[i])
	}
	left, err := e.c.Rules(ctx)
	if err != nil {
		return err
	}
	if len(left) != 3 || !left[0].Equal(want[0]) || !left[1].Equal(want[2]) || !left[2].Equal(want[4]) {
		return fmt.Errorf("after deleting two rules: %v", left)
	}
	return nil
}

func checkRuleErrors(e *env) error {
	ctx, cancel := timeout(0)
	defer cancel()
	exists, _ := parseRule(theRules[0])
	missing, _ := parseRule("-w /tmp/nosuchwatch -p r")
	entry := audit.Rule{Filter: audit.FilterEntry, Action: audit.ActionAlways}
	entry.Syscalls.SetAll()
	cases := []struct {
		name  string
		do    func() error
		errno syscall.Errno
		text  string
	}{
		{"add an existing rule", func() error { return e.c.AddRule(ctx, exists) }, syscall.EEXIST, "exists already"},
		{"delete a missing rule", func() error { return e.c.DeleteRule(ctx, missing) }, syscall.ENOENT, "no such rule"},
		{"watch a relative path", func() error { return e.c.AddRule(ctx, audit.WatchRule("tmp/x", audit.PermWrite, "")) }, syscall.EINVAL, ""},
		{"watch path ending in /", func() error { return e.c.AddRule(ctx, audit.WatchRule("/tmp/x/", audit.PermWrite, "")) }, syscall.EINVAL, ""},
		{"key longer than 256", func() error {
			return e.c.AddRule(ctx, audit.WatchRule("/tmp/x", audit.PermWrite, strings.Repeat("k", 300)))
		}, syscall.EINVAL, ""},
		{"the deprecated entry list", func() error { return e.c.AddRule(ctx, entry) }, syscall.EINVAL, ""},
	}
	for _, tc := range cases {
		err := tc.do()
		if !errors.Is(err, tc.errno) || !strings.Contains(fmt.Sprint(err), tc.text) {
			return fmt.Errorf("%s: %v, want %v with %q", tc.name, err, tc.errno, tc.text)
		}
		logf("%-28s -> %v", tc.name, err)
	}
	// The kernel's answer on the wire: the duplicate's NLMSG_ERROR.
	data, _ := exists.MarshalBinary()
	dgrams, err := rawExchange(audit.MsgAddRule, data, false)
	if err != nil {
		return err
	}
	e.captureDatagrams("add_rule_eexist.hex", "AUDIT_ADD_RULE of an existing rule ("+theRules[0]+"): NLMSG_ERROR EEXIST", dgrams)
	if rules, err := e.c.Rules(ctx); err != nil || len(rules) != 3 {
		return fmt.Errorf("rules after the refused changes: %d, %v; want 3", len(rules), err)
	}
	return nil
}

func checkRegister(e *env) error {
	ctx, cancel := timeout(0)
	defer cancel()
	l, err := audit.Register(ctx, nil)
	if err != nil {
		return err
	}
	e.daemon = l
	s, err := e.c.Status(ctx)
	if err != nil {
		return err
	}
	if s.PID != uint32(os.Getpid()) {
		return fmt.Errorf("status pid %d after Register, want %d", s.PID, os.Getpid())
	}
	logf("registered: status pid %d", s.PID)
	// A second daemon is refused, naming the first.
	_, err = audit.Register(ctx, nil)
	var dr *audit.DaemonRegisteredError
	if !errors.Is(err, audit.ErrDaemonRegistered) || !errors.Is(err, syscall.EEXIST) || !errors.As(err, &dr) || dr.PID != s.PID {
		return fmt.Errorf("second Register: %v; want ErrDaemonRegistered naming pid %d", err, s.PID)
	}
	logf("second Register -> %v", err)
	return nil
}

// runShell runs /bin/sh -c cmd: an exec (the execve rule) whose shell
// may write the watched file (the watch).
func runShell(cmd string) error {
	out, err := exec.Command("/bin/sh", "-c", cmd).CombinedOutput()
	if err != nil {
		return fmt.Errorf("sh -c %q: %w: %s", cmd, err, out)
	}
	return nil
}

// waitEvents reads events from l until every matcher has matched one,
// for up to 10 s, and returns the matches by name.
func waitEvents(l *audit.Listener, matchers map[string]func(audit.Event) bool) (map[string]audit.Event, error) {
	ctx, cancel := timeout(10 * time.Second)
	defer cancel()
	found := map[string]audit.Event{}
	for ev, err := range l.Events(ctx) {
		if err != nil {
			missing := []string{}
			for n := range matchers {
				if _, ok := found[n]; !ok {
					missing = append(missing, n)
				}
			}
			return found, fmt.Errorf("waiting for events %v: %w", missing, err)
		}
		var types []string
		for _, r := range ev.Records {
			types = append(types, r.Type.String())
		}
		key, _ := ev.Get(audit.MsgSyscall, "key")
		logf("event %d: %s key=%s", ev.Serial, strings.Join(types, ","), key)
		for n, m := range matchers {
			if _, ok := found[n]; !ok && m(ev) {
				found[n] = ev
			}
		}
		if len(found) == len(matchers) {
			return found, nil
		}
	}
	return found, errors.New("event stream ended")
}

func hasKey(key string) func(audit.Event) bool {
	return func(ev audit.Event) bool {
		k, _ := ev.Get(audit.MsgSyscall, "key")
		return k == key
	}
}

const shellCmd = "echo hi >> " + watched

func checkEvents(e *env) error {
	if e.daemon == nil {
		return errors.New("no daemon registered")
	}
	if err := runShell(shellCmd); err != nil {
		return err
	}
	found, err := waitEvents(e.daemon, map[string]func(audit.Event) bool{"watch": hasKey(watchKey), "exec": hasKey(execKey)})
	if err != nil {
		return err
	}
	if err := checkWatchEvent(found["watch"]); err != nil {
		return fmt.Errorf("watch event: %w", err)
	}
	if err := checkExecEvent(found["exec"], "/bin/sh", []string{"/bin/sh", "-c", shellCmd}); err != nil {
		return fmt.Errorf("exec event: %w", err)
	}
	return nil
}

// checkGrouping checks what every syscall event has: SYSCALL first, EOE
// last, one serial and time, CWD and PROCTITLE.
func checkGrouping(ev audit.Event) error {
	if len(ev.Records) < 4 || ev.Records[0].Type != audit.MsgSyscall || ev.Records[len(ev.Records)-1].Type != audit.MsgEOE || !ev.Complete() {
		return fmt.Errorf("records %v: want SYSCALL first and EOE last", ev.Records)
	}
	for _, r := range ev.Records {
		if r.Serial != ev.Serial || !r.Time.Equal(ev.Time) {
			return fmt.Errorf("record %v has serial %d time %v, event %d %v", r.Type, r.Serial, r.Time, ev.Serial, ev.Time)
		}
	}
	for _, t := range []audit.MessageType{audit.MsgCWD, audit.MsgPath, audit.MsgProctitle} {
		if _, ok := ev.Record(t); !ok {
			return fmt.Errorf("no %v record", t)
		}
	}
	if cwd, _ := ev.Get(audit.MsgCWD, "cwd"); cwd != "/" {
		return fmt.Errorf("CWD cwd=%q, want /", cwd)
	}
	return nil
}

// want checks fields of the event's first record of type t.
func want(ev audit.Event, t audit.MessageType, kv ...string) error {
	for i := 0; i+1 < len(kv); i += 2 {
		v, ok := ev.Get(t, kv[i])
		if !ok || v != kv[i+1] {
			r, _ := ev.Record(t)
			return fmt.Errorf("%v %s=%q (present %v), want %q; record: %s", t, kv[i], v, ok, kv[i+1], r.Text)
		}
	}
	return nil
}

func checkWatchEvent(ev audit.Event) error {
	if err := checkGrouping(ev); err != nil {
		return err
	}
	if err := want(ev, audit.MsgSyscall, "arch", "c000003e", "syscall", "257", "success", "yes",
		"comm", "sh", "exe", "/bin/busybox", "key", watchKey); err != nil {
		return err
	}
	named := false
	for _, r := range ev.Records {
		if n, _ := r.Get("name"); r.Type == audit.MsgPath && n == watched {
			named = true
		}
	}
	if !named {
		return fmt.Errorf("no PATH record with name=%s", watched)
	}
	if err := want(ev, audit.MsgProctitle, "proctitle", "/bin/sh -c "+shellCmd); err != nil {
		return err
	}
	logf("watch event %d: openat by sh (/bin/busybox) of %s, key %s, proctitle decoded", ev.Serial, watched, watchKey)
	return nil
}

func checkExecEvent(ev audit.Event, path string, argv []string) error {
	if err := checkGrouping(ev); err != nil {
		return err
	}
	if err := want(ev, audit.MsgSyscall, "arch", "c000003e", "syscall", "59", "success", "yes",
		"exe", "/bin/busybox", "key", execKey); err != nil {
		return err
	}
	kv := []string{"argc", fmt.Sprint(len(argv))}
	for i, a := range argv {
		kv = append(kv, fmt.Sprintf("a%d", i), a)
	}
	if err := want(ev, audit.MsgExecve, kv...); err != nil {
		return err
	}
	if err := want(ev, audit.MsgPath, "name", path); err != nil {
		return err
	}
	if err := want(ev, audit.MsgProctitle, "proctitle", strings.Join(argv, " ")); err != nil {
		return err
	}
	logf("exec event %d: execve of %s, argv %q, key %s", ev.Serial, path, argv, execKey)
	return nil
}

// checkCapture triggers both events again and reads their datagrams raw
// from the daemon's socket: the nlmsg_len quirk, and testdata.
func checkCapture(e *env) error {
	if e.daemon == nil {
		return errors.New("no daemon registered")
	}
	if err := runShell(shellCmd); err != nil {
		return err
	}
	ctx, cancel := timeout(10 * time.Second)
	defer cancel()
	bySerial := map[uint64][][]byte{}
	keys := map[uint64]string{}
	done := map[string]bool{}
	for !done[watchKey] || !done[execKey] {
		b, from, err := e.daemon.Conn().ReceiveRaw(ctx)
		if err != nil {
			return err
		}
		if from.Port != 0 || from.Groups != 0 {
			return fmt.Errorf("record from %+v, want a unicast from the kernel", from)
		}
		t, payload, err := audit.ParseDatagram(b)
		if err != nil {
			return err
		}
		if t == audit.MsgReplace {
			continue // the kernel's probe of the daemon, binary
		}
		// Records to the daemon count only the payload in nlmsg_len.
		if l := binary.NativeEndian.Uint32(b); int(l) != len(b)-16 {
			return fmt.Errorf("%v datagram of %d bytes with nlmsg_len %d, want the payload's length %d", t, len(b), l, len(b)-16)
		}
		r, err := audit.ParseRecord(t, payload)
		if err != nil {
			return err
		}
		bySerial[r.Serial] = append(bySerial[r.Serial], b)
		if k, ok := r.Get("key"); ok && r.Type == audit.MsgSyscall {
			keys[r.Serial] = k
		}
		if r.Type == audit.MsgEOE && (keys[r.Serial] == watchKey || keys[r.Serial] == execKey) && !done[keys[r.Serial]] {
			k := keys[r.Serial]
			done[k] = true
			name := "event_watch.hex"
			what := "the watch event of `sh -c '" + shellCmd + "'` with rule " + theRules[0]
			if k == execKey {
				name = "event_exec.hex"
				what = "the exec event of `sh -c '" + shellCmd + "'` with rule " + theRules[2]
			}
			logf("%s: %d datagrams, serial %d, nlmsg_len = payload length", name, len(bySerial[r.Serial]), r.Serial)
			e.captureDatagrams(name, "records unicast to the registered daemon: "+what, bySerial[r.Serial])
		}
	}
	return nil
}

func checkClose(e *env) error {
	if e.daemon == nil {
		return errors.New("no daemon registered")
	}
	// Close while an Events loop runs: the loop ends with net.ErrClosed.
	ended := make(chan error, 1)
	go func() {
		var last error
		for _, err := range e.daemon.Events(context.Background()) {
			if err != nil {
				last = err
			}
		}
		ended <- last
	}()
	time.Sleep(50 * time.Millisecond)
	if err := e.daemon.Close(); err != nil {
		return err
	}
	select {
	case err := <-ended:
		logf("Events loop after Close: %v", err)
		if err == nil {
			return errors.New("Events ended without an error after Close")
		}
	case <-time.After(5 * time.Second):
		return errors.New("Events loop still running 5 s after Close")
	}
	e.daemon = nil
	ctx, cancel := timeout(0)
	defer cancel()
	s, err := e.c.Status(ctx)
	if err != nil {
		return err
	}
	if s.PID != 0 {
		return fmt.Errorf("status pid %d after Close, want 0", s.PID)
	}
	logf("closed: status pid 0")
	return nil
}

func checkReadLog(e *env) error {
	l, err := audit.ReadLog(nil)
	if err != nil {
		return err
	}
	defer l.Close()
	if err := runShell("true"); err != nil {
		return err
	}
	found, err := waitEvents(l, map[string]func(audit.Event) bool{"exec": hasKey(execKey)})
	if err != nil {
		return err
	}
	if err := checkExecEvent(found["exec"], "/bin/sh", []string{"/bin/sh", "-c", "true"}); err != nil {
		return err
	}
	// Capture the multicast copies: these carry the real nlmsg_len.
	if err := runShell("true"); err != nil {
		return err
	}
	ctx, cancel := timeout(10 * time.Second)
	defer cancel()
	var dgrams [][]byte
	var serial uint64
	key := ""
	for {
		b, from, err := l.Conn().ReceiveRaw(ctx)
		if err != nil {
			return err
		}
		t, payload, err := audit.ParseDatagram(b)
		if err != nil {
			return err
		}
		if from.Groups != 1 || int(binary.NativeEndian.Uint32(b)) != len(b) {
			return fmt.Errorf("read-log datagram from %+v with nlmsg_len %d of %d bytes; want group 1, the real length", from, binary.NativeEndian.Uint32(b), len(b))
		}
		r, err := audit.ParseRecord(t, payload)
		if err != nil {
			return err
		}
		if r.Type == audit.MsgSyscall {
			if k, _ := r.Get("key"); k == execKey {
				serial, key, dgrams = r.Serial, k, nil
			}
		}
		if key != "" && r.Serial == serial {
			dgrams = append(dgrams, b)
			if r.Type == audit.MsgEOE {
				break
			}
		}
	}
	logf("read-log exec event: %d datagrams with the real nlmsg_len", len(dgrams))
	e.captureDatagrams("event_readlog.hex", "multicast copies (AUDIT_NLGRP_READLOG) of the exec event of `sh -c true` with rule "+theRules[2], dgrams)
	return nil
}

func checkRestore(e *env) error {
	var errs []error
	if e.daemon != nil {
		errs = append(errs, e.daemon.Close())
	}
	ctx, cancel := timeout(0)
	defer cancel()
	n, err := e.c.DeleteAllRules(ctx)
	errs = append(errs, err)
	logf("deleted %d rules", n)
	errs = append(errs, e.c.SetEnabled(ctx, e.initial.Enabled))
	if err := errors.Join(errs...); err != nil {
		return err
	}
	s, err := e.c.Status(ctx)
	if err != nil {
		return err
	}
	rules, err := e.c.Rules(ctx)
	if err != nil {
		return err
	}
	if s.Enabled != e.initial.Enabled || s.PID != 0 || s.BacklogLimit != e.initial.BacklogLimit || len(rules) != 0 {
		return fmt.Errorf("after restoring: %+v with %d rules; want %+v and none", s, len(rules), e.initial)
	}
	logf("restored: enabled %d, pid 0, no rules", s.Enabled)
	return nil
}
