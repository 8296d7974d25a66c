package connector

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/nlkit/nlkit/netlink"
)

// ProcEventType is the kind of a process event (proc_event.what, enum
// proc_cn_event). The values are bits, so a set of them is a filter for
// SubscribeProc.
type ProcEventType uint32

// Process event types (linux/cn_proc.h).
const (
	ProcEventNone     ProcEventType = 0x00000000 // PROC_EVENT_NONE: acknowledgement of a (un)subscription
	ProcEventFork     ProcEventType = 0x00000001 // PROC_EVENT_FORK
	ProcEventExec     ProcEventType = 0x00000002 // PROC_EVENT_EXEC
	ProcEventUID      ProcEventType = 0x00000004 // PROC_EVENT_UID
	ProcEventGID      ProcEventType = 0x00000040 // PROC_EVENT_GID
	ProcEventSID      ProcEventType = 0x00000080 // PROC_EVENT_SID
	ProcEventPtrace   ProcEventType = 0x00000100 // PROC_EVENT_PTRACE
	ProcEventComm     ProcEventType = 0x00000200 // PROC_EVENT_COMM
	ProcEventCoredump ProcEventType = 0x40000000 // PROC_EVENT_COREDUMP
	ProcEventExit     ProcEventType = 0x80000000 // PROC_EVENT_EXIT

	// ProcEventNonzeroExit is a filter bit only (PROC_EVENT_NONZERO_EXIT):
	// it selects the exits whose code is not 0 (use it without
	// ProcEventExit, which selects every exit). No event has this type.
	ProcEventNonzeroExit ProcEventType = 0x20000000

	// ProcEventAll is every event type (PROC_EVENT_ALL without the
	// NONZERO_EXIT filter bit).
	ProcEventAll = ProcEventFork | ProcEventExec | ProcEventUID | ProcEventGID | ProcEventSID |
		ProcEventPtrace | ProcEventComm | ProcEventCoredump | ProcEventExit
)

var procEventNames = []struct {
	t    ProcEventType
	name string
}{
	{ProcEventFork, "fork"}, {ProcEventExec, "exec"}, {ProcEventUID, "uid"}, {ProcEventGID, "gid"},
	{ProcEventSID, "sid"}, {ProcEventPtrace, "ptrace"}, {ProcEventComm, "comm"},
	{ProcEventNonzeroExit, "nonzero-exit"}, {ProcEventCoredump, "coredump"}, {ProcEventExit, "exit"},
}

// String returns the type's name ("fork", "exit", "none"), or for a set
// of several the names joined by "|".
func (t ProcEventType) String() string {
	if t == ProcEventNone {
		return "none"
	}
	var parts []string
	for _, n := range procEventNames {
		if t&n.t != 0 {
			parts = append(parts, n.name)
			t &^= n.t
		}
	}
	if t != 0 {
		parts = append(parts, fmt.Sprintf("%#x", uint32(t)))
	}
	return strings.Join(parts, "|")
}

// ParseProcEventTypes parses a comma-separated list of event names
// ("fork,exec,exit"; also "nonzero-exit" and "all") into a filter.
func ParseProcEventTypes(list string) (ProcEventType, error) {
	var t ProcEventType
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(strings.ToLower(name))
		if name == "all" {
			t |= ProcEventAll
			continue
		}
		found := false
		for _, n := range procEventNames {
			if n.name == name {
				t, found = t|n.t, true
			}
		}
		if !found {
			return 0, fmt.Errorf("connector: unknown process event %q (want fork, exec, uid, gid, sid, ptrace, comm, coredump, exit, nonzero-exit or all)", name)
		}
	}
	return t, nil
}

// Multicast operations of the process connector (enum proc_cn_mcast_op).
const (
	procListen = 1 // PROC_CN_MCAST_LISTEN
	procIgnore = 2 // PROC_CN_MCAST_IGNORE
)

// Sizes of struct proc_event: the common header (what, cpu,
// timestamp_ns), and the largest member of its union.
const (
	procHeaderLen = 16
	procEventLen  = 40 // sizeof(struct proc_event)
)

// ProcEvent is a process event (struct proc_event). What says which of
// the pointer fields is set: Fork for ProcEventFork, and so on; Ack for
// ProcEventNone. Lost, set alone, reports an overrun instead of an event.
type ProcEvent struct {
	// What is the event's type.
	What ProcEventType
	// CPU is the processor the event happened on.
	CPU uint32
	// Timestamp is when it happened, on the kernel's monotonic clock
	// (ktime_get_ns: CLOCK_MONOTONIC, time since boot without suspend).
	Timestamp time.Duration

	Ack      *AckEvent      // ProcEventNone
	Fork     *ForkEvent     // ProcEventFork
	Exec     *ExecEvent     // ProcEventExec
	UID      *IDEvent       // ProcEventUID: real and effective user IDs
	GID      *IDEvent       // ProcEventGID: real and effective group IDs
	SID      *SIDEvent      // ProcEventSID
	Ptrace   *PtraceEvent   // ProcEventPtrace
	Comm     *CommEvent     // ProcEventComm
	Coredump *CoredumpEvent // ProcEventCoredump
	Exit     *ExitEvent     // ProcEventExit

	// Lost reports that the kernel dropped events because the socket's
	// receive buffer overflowed (ENOBUFS); the subscription goes on.
	Lost bool
}

// PID returns the process (thread) ID the event is about: the child for
// a fork, the process for the others; 0 for acknowledgements.
func (e *ProcEvent) PID() int {
	switch {
	case e.Fork != nil:
		return e.Fork.ChildPID
	case e.Exec != nil:
		return e.Exec.PID
	case e.UID != nil:
		return e.UID.PID
	case e.GID != nil:
		return e.GID.PID
	case e.SID != nil:
		return e.SID.PID
	case e.Ptrace != nil:
		return e.Ptrace.PID
	case e.Comm != nil:
		return e.Comm.PID
	case e.Coredump != nil:
		return e.Coredump.PID
	case e.Exit != nil:
		return e.Exit.PID
	}
	return 0
}

// AckEvent acknowledges a subscription or unsubscription (the ack
// member): Err is 0 or a positive errno.
type AckEvent struct {
	Err uint32
}

// ForkEvent: a task was created (fork_proc_event). For a new thread,
// ChildPID differs from ChildTGID (the process it belongs to).
type ForkEvent struct {
	ParentPID, ParentTGID int // the creating task's parent
	ChildPID, ChildTGID   int
}

// ExecEvent: a process called execve (exec_proc_event).
type ExecEvent struct {
	PID, TGID int
}

// IDEvent: a process changed its user or group IDs (id_proc_event).
type IDEvent struct {
	PID, TGID int
	// Real and Effective IDs after the change (ruid/rgid, euid/egid).
	Real, Effective uint32
}

// SIDEvent: a process started a session (sid_proc_event, setsid).
type SIDEvent struct {
	PID, TGID int
}

// PtraceEvent: a process was attached to or detached from a tracer
// (ptrace_proc_event). TracerPID is 0 on detach.
type PtraceEvent struct {
	PID, TGID             int
	TracerPID, TracerTGID int
}

// CommEvent: a thread changed its name (comm_proc_event) with
// prctl(PR_SET_NAME) or by writing /proc/PID/comm; the name an exec sets
// is not reported.
type CommEvent struct {
	PID, TGID int
	// Comm is the new name: at most 15 bytes from the kernel.
	Comm string
}

// CoredumpEvent: a process dumped core (coredump_proc_event).
type CoredumpEvent struct {
	PID, TGID             int
	ParentPID, ParentTGID int
}

// ExitEvent: a task exited (exit_proc_event). Every thread's exit is
// reported; the process is gone when PID equals TGID.
type ExitEvent struct {
	PID, TGID int
	// Code is the wait status as the kernel packs it (task->exit_code):
	// exit status in bits 8-15, or the killing signal in bits 0-6 and
	// bit 7 set if it dumped core. See Status, Signal and CoreDumped.
	Code uint32
	// ExitSignal is the signal the parent is sent (task->exit_signal:
	// usually SIGCHLD, -1 for a thread).
	ExitSignal int32
	// ParentPID and ParentTGID are the task's parent.
	ParentPID, ParentTGID int
}

// Status returns the exit status (Code>>8), meaningful when Signal is 0.
func (e *ExitEvent) Status() int { return int(e.Code>>8) & 0xff }

// Signal returns the signal that killed the task (Code&0x7f), 0 if it
// exited by itself.
func (e *ExitEvent) Signal() Signal { return Signal(e.Code & 0x7f) }

// CoreDumped reports whether the killing signal dumped core (Code&0x80).
func (e *ExitEvent) CoreDumped() bool { return e.Code&0x80 != 0 }

// Signal is a Linux signal number.
type Signal int

var signalNames = [...]string{
	1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS",
	8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE",
	14: "SIGALRM", 15: "SIGTERM", 16: "SIGSTKFLT", 17: "SIGCHLD", 18: "SIGCONT", 19: "SIGSTOP",
	20: "SIGTSTP", 21: "SIGTTIN", 22: "SIGTTOU", 23: "SIGURG", 24: "SIGXCPU", 25: "SIGXFSZ",
	26: "SIGVTALRM", 27: "SIGPROF", 28: "SIGWINCH", 29: "SIGIO", 30: "SIGPWR", 31: "SIGSYS",
}

// String returns the signal's name ("SIGKILL"), or "SIGRTMIN+n", or the
// number.
func (s Signal) String() string {
	switch {
	case s > 0 && int(s) < len(signalNames):
		return signalNames[s]
	case s >= 34 && s <= 64:
		return fmt.Sprintf("SIGRTMIN+%d", int(s)-34)
	}
	return fmt.Sprintf("signal %d", int(s))
}

// memberLen returns the size of the union member of events of type t
// (0 for unknown types).
func memberLen(t ProcEventType) int {
	switch t {
	case ProcEventNone:
		return 4
	case ProcEventExec, ProcEventSID:
		return 8
	case ProcEventFork, ProcEventUID, ProcEventGID, ProcEventPtrace, ProcEventCoredump:
		return 16
	case ProcEventComm, ProcEventExit:
		return 24
	}
	return 0
}

// Errors of event decoding.
var errEventLen = errors.New("event too short for its type")

// UnmarshalBinary decodes a struct proc_event (the payload of a
// connector message from ProcID). The common header and the union
// member of the event's type must be present; bytes after it are
// ignored. An unknown type decodes with only the header set.
func (e *ProcEvent) UnmarshalBinary(b []byte) error {
	if len(b) < procHeaderLen {
		return fmt.Errorf("connector: decode process event: %w: %d bytes, want %d", netlink.ErrShortMessage, len(b), procHeaderLen)
	}
	ts := binary.NativeEndian.Uint64(b[8:16])
	if ts > math.MaxInt64 {
		ts = math.MaxInt64
	}
	out := ProcEvent{
		What:      ProcEventType(binary.NativeEndian.Uint32(b[0:4])),
		CPU:       binary.NativeEndian.Uint32(b[4:8]),
		Timestamp: time.Duration(ts),
	}
	u := b[procHeaderLen:]
	if need := memberLen(out.What); len(u) < need {
		return fmt.Errorf("connector: decode %v event: %w: %d bytes of data, want %d", out.What, errEventLen, len(u), need)
	}
	i32 := func(off int) int { return int(int32(binary.NativeEndian.Uint32(u[off:]))) }
	u32 := func(off int) uint32 { return binary.NativeEndian.Uint32(u[off:]) }
	switch out.What {
	case ProcEventNone:
		out.Ack = &AckEvent{Err: u32(0)}
	case ProcEventFork:
		out.Fork = &ForkEvent{ParentPID: i32(0), ParentTGID: i32(4), ChildPID: i32(8), ChildTGID: i32(12)}
	case ProcEventExec:
		out.Exec = &ExecEvent{PID: i32(0), TGID: i32(4)}
	case ProcEventUID, ProcEventGID:
		id := &IDEvent{PID: i32(0), TGID: i32(4), Real: u32(8), Effective: u32(12)}
		if out.What == ProcEventUID {
			out.UID = id
		} else {
			out.GID = id
		}
	case ProcEventSID:
		out.SID = &SIDEvent{PID: i32(0), TGID: i32(4)}
	case ProcEventPtrace:
		out.Ptrace = &PtraceEvent{PID: i32(0), TGID: i32(4), TracerPID: i32(8), TracerTGID: i32(12)}
	case ProcEventComm:
		comm := u[8:24]
		for i, c := range comm {
			if c == 0 {
				comm = comm[:i]
				break
			}
		}
		out.Comm = &CommEvent{PID: i32(0), TGID: i32(4), Comm: string(comm)}
	case ProcEventCoredump:
		out.Coredump = &CoredumpEvent{PID: i32(0), TGID: i32(4), ParentPID: i32(8), ParentTGID: i32(12)}
	case ProcEventExit:
		out.Exit = &ExitEvent{
			PID: i32(0), TGID: i32(4), Code: u32(8), ExitSignal: int32(u32(12)),
			ParentPID: i32(16), ParentTGID: i32(20),
		}
	}
	*e = out
	return nil
}

// MarshalBinary encodes e as the kernel sends it: a zero-filled struct
// proc_event of 40 bytes with the header and the member of e.What (for
// fake kernels and tests). A Comm longer than 16 bytes (the kernel's
// are at most 15, then a NUL) or holding a NUL is an error.
func (e ProcEvent) MarshalBinary() ([]byte, error) {
	if e.Timestamp < 0 {
		return nil, fmt.Errorf("connector: encode process event: negative timestamp %v", e.Timestamp)
	}
	b := make([]byte, procEventLen)
	binary.NativeEndian.PutUint32(b[0:], uint32(e.What))
	binary.NativeEndian.PutUint32(b[4:], e.CPU)
	binary.NativeEndian.PutUint64(b[8:], uint64(e.Timestamp))
	u := b[procHeaderLen:]
	put := func(off int, vs ...int) {
		for i, v := range vs {
			binary.NativeEndian.PutUint32(u[off+4*i:], uint32(int32(v)))
		}
	}
	missing := func() error {
		return fmt.Errorf("connector: encode %v event: its member is nil", e.What)
	}
	switch e.What {
	case ProcEventNone:
		if e.Ack != nil {
			binary.NativeEndian.PutUint32(u, e.Ack.Err)
		}
	case ProcEventFork:
		if e.Fork == nil {
			return nil, missing()
		}
		put(0, e.Fork.ParentPID, e.Fork.ParentTGID, e.Fork.ChildPID, e.Fork.ChildTGID)
	case ProcEventExec:
		if e.Exec == nil {
			return nil, missing()
		}
		put(0, e.Exec.PID, e.Exec.TGID)
	case ProcEventUID, ProcEventGID:
		id := e.UID
		if e.What == ProcEventGID {
			id = e.GID
		}
		if id == nil {
			return nil, missing()
		}
		put(0, id.PID, id.TGID)
		binary.NativeEndian.PutUint32(u[8:], id.Real)
		binary.NativeEndian.PutUint32(u[12:], id.Effective)
	case ProcEventSID:
		if e.SID == nil {
			return nil, missing()
		}
		put(0, e.SID.PID, e.SID.TGID)
	case ProcEventPtrace:
		if e.Ptrace == nil {
			return nil, missing()
		}
		put(0, e.Ptrace.PID, e.Ptrace.TGID, e.Ptrace.TracerPID, e.Ptrace.TracerTGID)
	case ProcEventComm:
		if e.Comm == nil {
			return nil, missing()
		}
		if len(e.Comm.Comm) > 16 || strings.IndexByte(e.Comm.Comm, 0) >= 0 {
			return nil, fmt.Errorf("connector: encode comm event: name %q longer than 16 bytes or holding a NUL", e.Comm.Comm)
		}
		put(0, e.Comm.PID, e.Comm.TGID)
		copy(u[8:24], e.Comm.Comm)
	case ProcEventCoredump:
		if e.Coredump == nil {
			return nil, missing()
		}
		put(0, e.Coredump.PID, e.Coredump.TGID, e.Coredump.ParentPID, e.Coredump.ParentTGID)
	case ProcEventExit:
		if e.Exit == nil {
			return nil, missing()
		}
		put(0, e.Exit.PID, e.Exit.TGID)
		binary.NativeEndian.PutUint32(u[8:], e.Exit.Code)
		binary.NativeEndian.PutUint32(u[12:], uint32(e.Exit.ExitSignal))
		put(16, e.Exit.ParentPID, e.Exit.ParentTGID)
	}
	return b, nil
}

// ParseProcEvent decodes a netlink message from the connector as a
// process event. It reports false for messages of other connector users.
func ParseProcEvent(m netlink.Message) (ProcEvent, bool, error) {
	var cm Message
	if err := cm.UnmarshalBinary(m.Data); err != nil {
		return ProcEvent{}, false, err
	}
	if cm.ID != ProcID {
		return ProcEvent{}, false, nil
	}
	var ev ProcEvent
	if err := ev.UnmarshalBinary(cm.Data); err != nil {
		return ProcEvent{}, true, err
	}
	return ev, true, nil
}
