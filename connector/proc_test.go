package connector

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nlkit/nlkit/netlink"
)

// procEvent builds a struct proc_event by hand: what, cpu, timestamp,
// then the union member, zero-padded to 40 bytes as the kernel sends it.
func procEvent(what, cpu uint32, ts uint64, member ...[]byte) []byte {
	b := cat(u32(what), u32(cpu), u64(ts), cat(member...))
	for len(b) < procEventLen {
		b = append(b, 0)
	}
	return b
}

func i32s(vs ...int32) []byte {
	var b []byte
	for _, v := range vs {
		b = append(b, u32(uint32(v))...)
	}
	return b
}

func comm16(s string) []byte {
	b := make([]byte, 16)
	copy(b, s)
	return b
}

const ts = 3*time.Hour + 123456789

func TestProcEventUnmarshal(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want ProcEvent
	}{
		{"ack", procEvent(0, 1, uint64(ts), u32(0)),
			ProcEvent{What: ProcEventNone, CPU: 1, Timestamp: ts, Ack: &AckEvent{}}},
		{"ack with error", procEvent(0, 1, uint64(ts), u32(22)),
			ProcEvent{What: ProcEventNone, CPU: 1, Timestamp: ts, Ack: &AckEvent{Err: 22}}},
		{"fork", procEvent(1, 2, uint64(ts), i32s(100, 100, 101, 101)),
			ProcEvent{What: ProcEventFork, CPU: 2, Timestamp: ts, Fork: &ForkEvent{ParentPID: 100, ParentTGID: 100, ChildPID: 101, ChildTGID: 101}}},
		{"thread", procEvent(1, 0, uint64(ts), i32s(100, 100, 102, 100)),
			ProcEvent{What: ProcEventFork, Timestamp: ts, Fork: &ForkEvent{ParentPID: 100, ParentTGID: 100, ChildPID: 102, ChildTGID: 100}}},
		{"exec", procEvent(2, 0, uint64(ts), i32s(101, 101)),
			ProcEvent{What: ProcEventExec, Timestamp: ts, Exec: &ExecEvent{PID: 101, TGID: 101}}},
		{"uid", procEvent(4, 0, uint64(ts), i32s(101, 101), u32(1000), u32(0)),
			ProcEvent{What: ProcEventUID, Timestamp: ts, UID: &IDEvent{PID: 101, TGID: 101, Real: 1000, Effective: 0}}},
		{"gid", procEvent(0x40, 0, uint64(ts), i32s(101, 101), u32(65534), u32(65534)),
			ProcEvent{What: ProcEventGID, Timestamp: ts, GID: &IDEvent{PID: 101, TGID: 101, Real: 65534, Effective: 65534}}},
		{"sid", procEvent(0x80, 0, uint64(ts), i32s(101, 101)),
			ProcEvent{What: ProcEventSID, Timestamp: ts, SID: &SIDEvent{PID: 101, TGID: 101}}},
		{"ptrace attach", procEvent(0x100, 0, uint64(ts), i32s(101, 101, 200, 200)),
			ProcEvent{What: ProcEventPtrace, Timestamp: ts, Ptrace: &PtraceEvent{PID: 101, TGID: 101, TracerPID: 200, TracerTGID: 200}}},
		{"ptrace detach", procEvent(0x100, 0, uint64(ts), i32s(101, 101, 0, 0)),
			ProcEvent{What: ProcEventPtrace, Timestamp: ts, Ptrace: &PtraceEvent{PID: 101, TGID: 101}}},
		{"comm", procEvent(0x200, 0, uint64(ts), i32s(101, 101), comm16("worker")),
			ProcEvent{What: ProcEventComm, Timestamp: ts, Comm: &CommEvent{PID: 101, TGID: 101, Comm: "worker"}}},
		{"comm of 15 bytes", procEvent(0x200, 0, uint64(ts), i32s(101, 101), comm16("abcdefghijklmno")),
			ProcEvent{What: ProcEventComm, Timestamp: ts, Comm: &CommEvent{PID: 101, TGID: 101, Comm: "abcdefghijklmno"}}},
		{"coredump", procEvent(0x40000000, 0, uint64(ts), i32s(101, 101, 100, 100)),
			ProcEvent{What: ProcEventCoredump, Timestamp: ts, Coredump: &CoredumpEvent{PID: 101, TGID: 101, ParentPID: 100, ParentTGID: 100}}},
		{"exit", procEvent(0x80000000, 3, uint64(ts), i32s(101, 101), u32(3<<8), u32(17), i32s(100, 100)),
			ProcEvent{What: ProcEventExit, CPU: 3, Timestamp: ts, Exit: &ExitEvent{PID: 101, TGID: 101, Code: 768, ExitSignal: 17, ParentPID: 100, ParentTGID: 100}}},
		{"thread exit", procEvent(0x80000000, 0, uint64(ts), i32s(102, 100), u32(0), u32(0xffffffff), i32s(0, 0)),
			ProcEvent{What: ProcEventExit, Timestamp: ts, Exit: &ExitEvent{PID: 102, TGID: 100, ExitSignal: -1}}},
		{"unknown type: header only", procEvent(0x1000, 0, uint64(ts)), ProcEvent{What: 0x1000, Timestamp: ts}},
		{"an older, shorter exit event", cat(u32(0x80000000), u32(0), u64(uint64(ts)), i32s(101, 101), u32(9), u32(17), i32s(100, 100)),
			ProcEvent{What: ProcEventExit, Timestamp: ts, Exit: &ExitEvent{PID: 101, TGID: 101, Code: 9, ExitSignal: 17, ParentPID: 100, ParentTGID: 100}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got ProcEvent
			if err := got.UnmarshalBinary(tt.in); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
			// Every known type encodes back to the kernel's bytes.
			if memberLen(tt.want.What) == 0 && tt.want.What != ProcEventNone {
				return
			}
			b, err := got.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			want := tt.in
			for len(want) < procEventLen {
				want = append(want, 0)
			}
			if string(b) != string(want) {
				t.Fatalf("encoded\n % x\nwant\n % x", b, want)
			}
		})
	}
}

func TestProcEventUnmarshalErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, netlink.ErrShortMessage},
		{"header cut", make([]byte, 15), netlink.ErrShortMessage},
		{"fork without its member", cat(u32(1), u32(0), u64(0), i32s(1, 2, 3)), errEventLen},
		{"exit cut", cat(u32(0x80000000), u32(0), u64(0), make([]byte, 20)), errEventLen},
		{"comm cut", cat(u32(0x200), u32(0), u64(0), make([]byte, 23)), errEventLen},
		{"ack without err", cat(u32(0), u32(0), u64(0)), errEventLen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ev ProcEvent
			err := ev.UnmarshalBinary(tt.in)
			if !errors.Is(err, tt.want) || !strings.HasPrefix(err.Error(), "connector: decode") {
				t.Fatalf("error %v, want %v with context", err, tt.want)
			}
		})
	}
}

func TestProcEventMarshalErrors(t *testing.T) {
	for _, ev := range []ProcEvent{
		{What: ProcEventFork}, {What: ProcEventExec}, {What: ProcEventUID}, {What: ProcEventGID, UID: &IDEvent{}},
		{What: ProcEventSID}, {What: ProcEventPtrace}, {What: ProcEventComm}, {What: ProcEventCoredump},
		{What: ProcEventExit}, {What: ProcEventComm, Comm: &CommEvent{Comm: "seventeen bytes!!"}},
		{What: ProcEventComm, Comm: &CommEvent{Comm: "a\x00b"}}, {What: ProcEventExec, Exec: &ExecEvent{}, Timestamp: -1},
	} {
		if _, err := ev.MarshalBinary(); err == nil {
			t.Errorf("%v event %+v encoded", ev.What, ev)
		}
	}
}

func TestExitStatus(t *testing.T) {
	tests := []struct {
		code   uint32
		status int
		signal Signal
		core   bool
		text   string
	}{
		{0, 0, 0, false, "signal 0"},
		{3 << 8, 3, 0, false, "signal 0"},
		{255 << 8, 255, 0, false, "signal 0"},
		{9, 0, 9, false, "SIGKILL"},
		{0x80 | 11, 0, 11, true, "SIGSEGV"},
		{0x80 | 6, 0, 6, true, "SIGABRT"},
		{15, 0, 15, false, "SIGTERM"},
		{34, 0, 34, false, "SIGRTMIN+0"},
	}
	for _, tt := range tests {
		e := &ExitEvent{Code: tt.code}
		if e.Status() != tt.status || e.Signal() != tt.signal || e.CoreDumped() != tt.core || e.Signal().String() != tt.text {
			t.Errorf("code %#x: status %d signal %v core %v; want %d %v %v (%s)", tt.code, e.Status(), e.Signal(), e.CoreDumped(), tt.status, tt.signal, tt.core, tt.text)
		}
	}
}

func TestProcEventPID(t *testing.T) {
	evs := []ProcEvent{
		{Fork: &ForkEvent{ParentPID: 1, ChildPID: 7}}, {Exec: &ExecEvent{PID: 7}}, {UID: &IDEvent{PID: 7}},
		{GID: &IDEvent{PID: 7}}, {SID: &SIDEvent{PID: 7}}, {Ptrace: &PtraceEvent{PID: 7, TracerPID: 1}},
		{Comm: &CommEvent{PID: 7}}, {Coredump: &CoredumpEvent{PID: 7, ParentPID: 1}}, {Exit: &ExitEvent{PID: 7, ParentPID: 1}},
	}
	for _, ev := range evs {
		if ev.PID() != 7 {
			t.Errorf("%+v: PID() = %d, want 7", ev, ev.PID())
		}
	}
	if (&ProcEvent{Ack: &AckEvent{}}).PID() != 0 {
		t.Error("an ack has a PID")
	}
}

func TestProcEventTypes(t *testing.T) {
	if s := (ProcEventFork | ProcEventExit).String(); s != "fork|exit" {
		t.Errorf("String() = %q", s)
	}
	if s := ProcEventNone.String(); s != "none" {
		t.Errorf("String() = %q", s)
	}
	if s := ProcEventType(0x400).String(); s != "0x400" {
		t.Errorf("String() = %q", s)
	}
	got, err := ParseProcEventTypes("fork, EXEC,exit,nonzero-exit")
	if err != nil || got != ProcEventFork|ProcEventExec|ProcEventExit|ProcEventNonzeroExit {
		t.Errorf("ParseProcEventTypes: %v, %v", got, err)
	}
	if got, err := ParseProcEventTypes("all"); err != nil || got != ProcEventAll {
		t.Errorf("all: %v, %v", got, err)
	}
	if _, err := ParseProcEventTypes("fork,spawn"); err == nil || !strings.Contains(err.Error(), `"spawn"`) {
		t.Errorf("unknown name: %v", err)
	}
}

func TestParseProcEvent(t *testing.T) {
	exec := procEvent(2, 0, 5, i32s(9, 9))
	m := netlink.Message{Header: netlink.Header{Type: MessageType}, Data: cnMsg(1, 1, 7, 0, uint16(len(exec)), 0, exec)}
	ev, ok, err := ParseProcEvent(m)
	if err != nil || !ok || ev.Exec == nil || ev.Exec.PID != 9 {
		t.Fatalf("ParseProcEvent: %+v, %v, %v", ev, ok, err)
	}
	other := netlink.Message{Data: cnMsg(10, 0, 0, 0, 4, 0, u32(1))} // CN_IDX_DRBD
	if _, ok, err := ParseProcEvent(other); ok || err != nil {
		t.Fatalf("another connector user's message: %v, %v", ok, err)
	}
	if _, _, err := ParseProcEvent(netlink.Message{Data: []byte{1}}); err == nil {
		t.Fatal("a cut cn_msg decoded")
	}
	bad := netlink.Message{Data: cnMsg(1, 1, 0, 0, 4, 0, u32(1))}
	if _, ok, err := ParseProcEvent(bad); !ok || err == nil {
		t.Fatalf("a cut proc_event: %v, %v", ok, err)
	}
}
