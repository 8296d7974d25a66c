package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/nlkit/nlkit/connector"
)

func newProcCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "proc monitor",
		Short: "Watch process events: fork, exec, exit, ... (process connector)",
		Long: `Watch the kernel's process events connector: every fork, exec, exit,
user, group and session ID change, name change, ptrace attach and core
dump on the machine.

Needs root or CAP_NET_ADMIN before Linux 6.6 (any user since). The
connector exists only in the initial network namespace (so not with -n
NAME), and answers only processes in the initial user and PID namespaces.

Examples:
  nlkit proc monitor
  nlkit proc monitor --events exec,exit
  nlkit -j proc monitor -c 100`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(newProcMonitorCmd(a))
	return cmd
}

func newProcMonitorCmd(a *app) *cobra.Command {
	var count int
	var events string
	cmd := &cobra.Command{
		Use:   "monitor",
		Short: "Print one line per process event until interrupted",
		Long: `Print one line per process event until interrupted (or -c events):

  TIME TYPE pid=PID tgid=TGID ...

where TYPE is fork (with parent_pid and parent_tgid), exec, uid (ruid
euid), gid (rgid egid), sid, ptrace (tracer_pid tracer_tgid; 0 on
detach), comm (comm=NAME), coredump, exit (status=N, or signal=NAME and
core_dumped; exit_signal is what the parent gets), or ack (another
listener subscribed). PIDs are thread IDs; TGID is the process. TIME is
when nlkit read the event; -j adds the kernel's monotonic timestamp
(timestamp_ns) and prints one JSON object per line.

If nlkit falls behind and the kernel drops events (a receive buffer
overrun), a "lost" line says so and monitoring goes on.

--events restricts the kernel's output (Linux 6.6 or later) to a comma
list of fork, exec, uid, gid, sid, ptrace, comm, coredump, exit and
nonzero-exit (exits with a non-zero status only).

Examples:
  nlkit proc monitor
  nlkit proc monitor --events exec,exit -c 10
  nlkit -j proc monitor`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if count < 0 {
				return fmt.Errorf("proc monitor: -c %d: want a number of events, 0 for no limit", count)
			}
			var filter connector.ProcEventType
			if events != "" {
				var err error
				if filter, err = connector.ParseProcEventTypes(events); err != nil {
					return fmt.Errorf("proc monitor: --events: %w", err)
				}
			}
			ctx := cmd.Context()
			sub, err := connector.SubscribeProc(ctx, a.config(), filter)
			if err != nil {
				return err
			}
			defer sub.Close()
			return procMonitor(ctx, a, sub, count)
		},
	}
	cmd.Flags().IntVarP(&count, "count", "c", 0, "stop after `N` events (0: no limit)")
	cmd.Flags().StringVar(&events, "events", "", "only these event types, a comma `LIST` (fork,exec,exit,...)")
	return cmd
}

// procLostText explains an overrun.
const procLostText = "events were lost (receive buffer overrun): processes may have come and gone unseen"

// procMonitor prints events from sub until ctx ends, the stream fails
// or count events (if positive) were printed.
func procMonitor(ctx context.Context, a *app, sub *connector.ProcSubscription, count int) error {
	n := 0
	for ev, err := range sub.Events(ctx) {
		if err != nil {
			if errors.Is(err, context.Canceled) && ctx.Err() != nil {
				return nil // Ctrl-C: the normal way to stop
			}
			return err
		}
		now := time.Now()
		if a.json {
			err = a.printJSON(toProcEventJSON(ev, now))
		} else {
			_, err = fmt.Fprintln(a.out, procEventText(ev, now))
		}
		if err != nil {
			return err
		}
		if n++; count > 0 && n >= count {
			return nil
		}
	}
	return nil
}

// procEventJSON is one line of `nlkit -j proc monitor`. Fields a type
// does not have are left out.
type procEventJSON struct {
	Time        string  `json:"time"`
	Event       string  `json:"event"` // fork, exec, ..., "ack", "lost"
	TimestampNS *int64  `json:"timestamp_ns,omitempty"`
	CPU         *uint32 `json:"cpu,omitempty"`
	PID         *int    `json:"pid,omitempty"`
	TGID        *int    `json:"tgid,omitempty"`
	ParentPID   *int    `json:"parent_pid,omitempty"`
	ParentTGID  *int    `json:"parent_tgid,omitempty"`
	TracerPID   *int    `json:"tracer_pid,omitempty"`
	TracerTGID  *int    `json:"tracer_tgid,omitempty"`
	RUID        *uint32 `json:"ruid,omitempty"`
	EUID        *uint32 `json:"euid,omitempty"`
	RGID        *uint32 `json:"rgid,omitempty"`
	EGID        *uint32 `json:"egid,omitempty"`
	Comm        *string `json:"comm,omitempty"`
	ExitCode    *uint32 `json:"exit_code,omitempty"` // raw wait status
	Status      *int    `json:"status,omitempty"`    // exit status, if not killed
	Signal      string  `json:"signal,omitempty"`    // killing signal
	CoreDumped  bool    `json:"core_dumped,omitempty"`
	ExitSignal  *int32  `json:"exit_signal,omitempty"`
	Err         *uint32 `json:"err,omitempty"` // of an ack
	Message     string  `json:"message,omitempty"`
}

// procEventName is the event's name in text and JSON.
func procEventName(ev connector.ProcEvent) string {
	switch {
	case ev.Lost:
		return "lost"
	case ev.Ack != nil:
		return "ack"
	}
	return ev.What.String()
}

func toProcEventJSON(ev connector.ProcEvent, now time.Time) procEventJSON {
	j := procEventJSON{Time: now.Format(timeLayout), Event: procEventName(ev)}
	if ev.Lost {
		j.Message = procLostText
		return j
	}
	ts, cpu := int64(ev.Timestamp), ev.CPU
	j.TimestampNS, j.CPU = &ts, &cpu
	pids := func(pid, tgid int) { j.PID, j.TGID = &pid, &tgid }
	parent := func(pid, tgid int) { j.ParentPID, j.ParentTGID = &pid, &tgid }
	switch {
	case ev.Ack != nil:
		e := ev.Ack.Err
		j.Err = &e
	case ev.Fork != nil:
		pids(ev.Fork.ChildPID, ev.Fork.ChildTGID)
		parent(ev.Fork.ParentPID, ev.Fork.ParentTGID)
	case ev.Exec != nil:
		pids(ev.Exec.PID, ev.Exec.TGID)
	case ev.UID != nil:
		pids(ev.UID.PID, ev.UID.TGID)
		r, e := ev.UID.Real, ev.UID.Effective
		j.RUID, j.EUID = &r, &e
	case ev.GID != nil:
		pids(ev.GID.PID, ev.GID.TGID)
		r, e := ev.GID.Real, ev.GID.Effective
		j.RGID, j.EGID = &r, &e
	case ev.SID != nil:
		pids(ev.SID.PID, ev.SID.TGID)
	case ev.Ptrace != nil:
		pids(ev.Ptrace.PID, ev.Ptrace.TGID)
		tp, tt := ev.Ptrace.TracerPID, ev.Ptrace.TracerTGID
		j.TracerPID, j.TracerTGID = &tp, &tt
	case ev.Comm != nil:
		pids(ev.Comm.PID, ev.Comm.TGID)
		c := ev.Comm.Comm
		j.Comm = &c
	case ev.Coredump != nil:
		pids(ev.Coredump.PID, ev.Coredump.TGID)
		parent(ev.Coredump.ParentPID, ev.Coredump.ParentTGID)
	case ev.Exit != nil:
		x := ev.Exit
		pids(x.PID, x.TGID)
		parent(x.ParentPID, x.ParentTGID)
		code, sig := x.Code, x.ExitSignal
		j.ExitCode, j.ExitSignal = &code, &sig
		if x.Signal() != 0 {
			j.Signal, j.CoreDumped = x.Signal().String(), x.CoreDumped()
		} else {
			st := x.Status()
			j.Status = &st
		}
	}
	return j
}

// procEventText is one line of `nlkit proc monitor`.
func procEventText(ev connector.ProcEvent, now time.Time) string {
	j := toProcEventJSON(ev, now)
	if ev.Lost {
		return j.Time + " lost " + procLostText
	}
	var b strings.Builder
	b.WriteString(j.Time + " " + j.Event)
	kv := func(k string, v *int) {
		if v != nil {
			fmt.Fprintf(&b, " %s=%d", k, *v)
		}
	}
	ku := func(k string, v *uint32) {
		if v != nil {
			fmt.Fprintf(&b, " %s=%d", k, *v)
		}
	}
	kv("pid", j.PID)
	kv("tgid", j.TGID)
	kv("parent_pid", j.ParentPID)
	kv("parent_tgid", j.ParentTGID)
	kv("tracer_pid", j.TracerPID)
	kv("tracer_tgid", j.TracerTGID)
	ku("ruid", j.RUID)
	ku("euid", j.EUID)
	ku("rgid", j.RGID)
	ku("egid", j.EGID)
	if j.Comm != nil {
		fmt.Fprintf(&b, " comm=%q", *j.Comm)
	}
	kv("status", j.Status)
	if j.Signal != "" {
		b.WriteString(" signal=" + j.Signal)
	}
	if j.CoreDumped {
		b.WriteString(" core_dumped")
	}
	if j.ExitSignal != nil {
		if *j.ExitSignal > 0 {
			b.WriteString(" exit_signal=" + connector.Signal(*j.ExitSignal).String())
		} else {
			fmt.Fprintf(&b, " exit_signal=%d", *j.ExitSignal)
		}
	}
	ku("err", j.Err)
	return b.String()
}
