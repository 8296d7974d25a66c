package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nlkit/nlkit/connector"
	"github.com/nlkit/nlkit/connector/connectortest"
)

var procNow = time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)

func TestProcEventText(t *testing.T) {
	tests := []struct {
		ev   connector.ProcEvent
		want string
	}{
		{connector.ProcEvent{What: connector.ProcEventFork, Fork: &connector.ForkEvent{ParentPID: 1, ParentTGID: 1, ChildPID: 50, ChildTGID: 50}},
			"fork pid=50 tgid=50 parent_pid=1 parent_tgid=1"},
		{connector.ProcEvent{What: connector.ProcEventExec, Exec: &connector.ExecEvent{PID: 50, TGID: 50}}, "exec pid=50 tgid=50"},
		{connector.ProcEvent{What: connector.ProcEventUID, UID: &connector.IDEvent{PID: 50, TGID: 50, Real: 1000, Effective: 0}},
			"uid pid=50 tgid=50 ruid=1000 euid=0"},
		{connector.ProcEvent{What: connector.ProcEventGID, GID: &connector.IDEvent{PID: 50, TGID: 50, Real: 100, Effective: 100}},
			"gid pid=50 tgid=50 rgid=100 egid=100"},
		{connector.ProcEvent{What: connector.ProcEventSID, SID: &connector.SIDEvent{PID: 50, TGID: 50}}, "sid pid=50 tgid=50"},
		{connector.ProcEvent{What: connector.ProcEventPtrace, Ptrace: &connector.PtraceEvent{PID: 50, TGID: 50, TracerPID: 7, TracerTGID: 7}},
			"ptrace pid=50 tgid=50 tracer_pid=7 tracer_tgid=7"},
		{connector.ProcEvent{What: connector.ProcEventComm, Comm: &connector.CommEvent{PID: 50, TGID: 50, Comm: "my worker"}},
			`comm pid=50 tgid=50 comm="my worker"`},
		{connector.ProcEvent{What: connector.ProcEventCoredump, Coredump: &connector.CoredumpEvent{PID: 50, TGID: 50, ParentPID: 1, ParentTGID: 1}},
			"coredump pid=50 tgid=50 parent_pid=1 parent_tgid=1"},
		{connector.ProcEvent{What: connector.ProcEventExit, Exit: &connector.ExitEvent{PID: 50, TGID: 50, Code: 3 << 8, ExitSignal: 17, ParentPID: 1, ParentTGID: 1}},
			"exit pid=50 tgid=50 parent_pid=1 parent_tgid=1 status=3 exit_signal=SIGCHLD"},
		{connector.ProcEvent{What: connector.ProcEventExit, Exit: &connector.ExitEvent{PID: 51, TGID: 50, Code: 0x80 | 11, ExitSignal: -1}},
			"exit pid=51 tgid=50 parent_pid=0 parent_tgid=0 signal=SIGSEGV core_dumped exit_signal=-1"},
		{connector.ProcEvent{What: connector.ProcEventNone, Ack: &connector.AckEvent{}}, "ack err=0"},
		{connector.ProcEvent{Lost: true}, "lost events were lost (receive buffer overrun): processes may have come and gone unseen"},
	}
	for _, tt := range tests {
		want := "2024-05-06T07:08:09.123456Z " + tt.want
		if got := procEventText(tt.ev, procNow); got != want {
			t.Errorf("got  %q\nwant %q", got, want)
		}
	}
}

func TestProcEventJSON(t *testing.T) {
	ev := connector.ProcEvent{What: connector.ProcEventExit, CPU: 3, Timestamp: 5 * time.Second,
		Exit: &connector.ExitEvent{PID: 50, TGID: 50, Code: 9, ExitSignal: 17, ParentPID: 1, ParentTGID: 1}}
	b, err := json.Marshal(toProcEventJSON(ev, procNow))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"time": "2024-05-06T07:08:09.123456Z", "event": "exit", "timestamp_ns": 5e9, "cpu": 3.0, "pid": 50.0, "tgid": 50.0,
		"parent_pid": 1.0, "parent_tgid": 1.0, "exit_code": 9.0, "signal": "SIGKILL", "exit_signal": 17.0,
	}
	if len(got) != len(want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %v, want %v", k, got[k], v)
		}
	}
	// Zero values that mean something are kept: pid 0, status 0.
	b, _ = json.Marshal(toProcEventJSON(connector.ProcEvent{What: connector.ProcEventExit, Exit: &connector.ExitEvent{}}, procNow))
	for _, field := range []string{`"pid":0`, `"status":0`, `"exit_code":0`} {
		if !strings.Contains(string(b), field) {
			t.Errorf("%s lacks %s", b, field)
		}
	}
}

// An overrun prints a lost line and monitoring goes on.
func TestProcMonitorOverrun(t *testing.T) {
	kernel := connectortest.New(nil)
	c, err := kernel.Dial(nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sub, err := connector.NewProcSubscription(ctx, c, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	exec := connector.ProcEvent{What: connector.ProcEventExec, Exec: &connector.ExecEvent{PID: 7, TGID: 7}}
	if _, err := kernel.Emit(exec); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	a := &app{out: &out}
	if err := procMonitor(ctx, a, sub, 1); err != nil {
		t.Fatal(err)
	}
	kernel.Overrun()
	if _, err := kernel.Emit(exec); err != nil {
		t.Fatal(err)
	}
	if err := procMonitor(ctx, a, sub, 2); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.HasSuffix(lines[0], "exec pid=7 tgid=7") || !strings.Contains(lines[1], " lost events were lost") ||
		!strings.HasSuffix(lines[2], "exec pid=7 tgid=7") {
		t.Fatalf("output:\n%s\nwant exec, lost, exec", out.String())
	}
	// The same in JSON.
	out.Reset()
	a.json = true
	kernel.Overrun()
	if err := procMonitor(ctx, a, sub, 1); err != nil {
		t.Fatal(err)
	}
	var j map[string]any
	if err := json.Unmarshal(out.Bytes(), &j); err != nil || j["event"] != "lost" || j["message"] == "" {
		t.Fatalf("JSON %s: %v", out.String(), err)
	}
}

// Ctrl-C (the context ending) is the normal end.
func TestProcMonitorCancel(t *testing.T) {
	kernel := connectortest.New(nil)
	c, _ := kernel.Dial(nil)
	ctx, cancel := context.WithCancel(context.Background())
	sub, err := connector.NewProcSubscription(ctx, c, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	cancel()
	if err := procMonitor(ctx, &app{out: new(bytes.Buffer)}, sub, 0); err != nil {
		t.Fatalf("cancelled monitor: %v", err)
	}
}

func TestProcBadInput(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"proc", "monitor", "-c", "-1"}, "want a number of events"},
		{[]string{"proc", "monitor", "--events", "fork,spawn"}, `unknown process event "spawn"`},
		{[]string{"proc", "monitor", "extra"}, `unknown command "extra"`},
		{[]string{"proc", "bogus"}, `unknown command "bogus"`},
		{[]string{"proc", "monitor", "--bogus"}, "unknown flag: --bogus"},
	}
	for _, tt := range tests {
		out, errOut, code := nlkit(t, tt.args...)
		if code == 0 || out != "" || !strings.HasPrefix(errOut, "nlkit: ") || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want an error containing %q", tt.args, code, out, errOut, tt.want)
		}
	}
}
