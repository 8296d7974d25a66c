package main

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/nlkit/nlkit/taskstats"
)

func newTaskstatsCmd(a *app) *cobra.Command {
	var tgid bool
	cmd := &cobra.Command{
		Use:   "taskstats [--tgid] PID",
		Short: "Show the kernel's accounting of a process: CPU, memory, I/O and delays",
		Long: `Ask the kernel for the accounting of a task (the generic netlink family
TASKSTATS, as the kernel's getdelays tool does): CPU time, page faults,
context switches, memory high-water marks, I/O counters and delay
accounting, the time the task spent waiting for a CPU, for block I/O, for
swap-in, in memory reclaim and so on.

PID is a thread ID (the main thread's is the process ID); with --tgid it
is a thread group (process) whose delays, CPU times and context switches
are summed over its threads. Delays other than the CPU's are counted only
while delay accounting is on (sysctl kernel.task_delayacct=1). The kernel
reports the I/O counters rounded down to whole KiB. Needs root or
CAP_NET_ADMIN.

With -j, each field of struct taskstats under its C name, in the kernel's
units: nanoseconds for *_total, *_delay_* and cpu_run_*, microseconds for
ac_etime, ac_utime, ac_stime and their scaled forms, KiB for hiwater_*.

Examples:
  nlkit taskstats 1234           the task's accounting
  nlkit taskstats --tgid 1234    the thread group's sums
  nlkit -j taskstats 1234        struct taskstats as a JSON object`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return fmt.Errorf("taskstats: missing PID (usage: %s)", cmd.UseLine())
			}
			if len(args) > 1 {
				return fmt.Errorf("taskstats: unknown argument %q (see nlkit taskstats --help)", args[1])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			pid, err := strconv.ParseUint(args[0], 10, 32)
			if err != nil || pid == 0 {
				return fmt.Errorf("taskstats: bad PID %q: want a process ID, a number from 1", args[0])
			}
			ctx := cmd.Context()
			c, err := taskstats.Dial(ctx, a.config())
			if err != nil {
				return err
			}
			defer c.Close()
			return runTaskstats(ctx, a, c, uint32(pid), tgid)
		},
	}
	cmd.Flags().BoolVar(&tgid, "tgid", false, "PID is a thread group: sum over its threads")
	return cmd
}

func runTaskstats(ctx context.Context, a *app, c *taskstats.Client, pid uint32, tgid bool) error {
	get := c.Task
	if tgid {
		get = c.ThreadGroup
	}
	st, err := get(ctx, pid)
	if err != nil {
		return err
	}
	delayacct, daErr := taskstats.DelayAccounting()
	if a.json {
		return a.printJSON(taskstatsToJSON(st))
	}
	return printTaskstats(a, st, pid, tgid, delayacct, daErr == nil)
}

// delayKinds are the delays in the order of struct taskstats, with the
// version that added each.
var delayKinds = []struct {
	name  string
	since uint16
	get   func(*taskstats.Stats) taskstats.Delay
}{
	{"cpu", 1, func(s *taskstats.Stats) taskstats.Delay { return s.CPU }},
	{"blkio", 1, func(s *taskstats.Stats) taskstats.Delay { return s.BlockIO }},
	{"swapin", 1, func(s *taskstats.Stats) taskstats.Delay { return s.SwapIn }},
	{"freepages", 1, func(s *taskstats.Stats) taskstats.Delay { return s.FreePages }},
	{"thrashing", 9, func(s *taskstats.Stats) taskstats.Delay { return s.Thrashing }},
	{"compact", 11, func(s *taskstats.Stats) taskstats.Delay { return s.Compact }},
	{"wpcopy", 13, func(s *taskstats.Stats) taskstats.Delay { return s.WPCopy }},
	{"irq", 14, func(s *taskstats.Stats) taskstats.Delay { return s.IRQ }},
}

// taskstatsToJSON is struct taskstats in `nlkit -j taskstats`: its
// members under their C names, in the kernel's units, the delays last;
// members of versions newer than the kernel's are left out.
func taskstatsToJSON(st *taskstats.Stats) orderedJSON {
	us := func(d time.Duration) int64 { return d.Microseconds() }
	ns := func(d time.Duration) int64 { return d.Nanoseconds() }
	var btime int64
	if !st.BeginTime.IsZero() {
		btime = st.BeginTime.Unix()
	}
	o := orderedJSON{
		{"version", st.Version},
		{"ac_exitcode", st.ExitCode},
		{"ac_flag", st.Flags.Names()},
		{"ac_nice", st.Nice},
		{"ac_comm", st.Comm},
		{"ac_sched", st.Sched.String()},
		{"ac_uid", st.UID},
		{"ac_gid", st.GID},
		{"ac_pid", st.PID},
		{"ac_ppid", st.PPID},
	}
	if st.Version >= 12 {
		o = append(o, orderedField{"ac_tgid", st.TGID})
	}
	o = append(o, orderedField{"ac_btime", min(btime, math.MaxUint32)})
	if st.Version >= 10 {
		o = append(o, orderedField{"ac_btime64", btime})
	}
	o = append(o, orderedField{"ac_etime", us(st.Elapsed)})
	if st.Version >= 12 {
		o = append(o, orderedField{"ac_tgetime", us(st.ThreadGroupElapsed)})
	}
	o = append(o,
		orderedField{"ac_utime", us(st.UserTime)},
		orderedField{"ac_stime", us(st.SystemTime)},
		orderedField{"ac_utimescaled", us(st.UserTimeScaled)},
		orderedField{"ac_stimescaled", us(st.SystemTimeScaled)},
		orderedField{"ac_minflt", st.MinorFaults},
		orderedField{"ac_majflt", st.MajorFaults},
		orderedField{"cpu_run_real_total", ns(st.CPURunReal)},
		orderedField{"cpu_run_virtual_total", ns(st.CPURunVirtual)},
		orderedField{"cpu_scaled_run_real_total", ns(st.CPUScaledRunReal)},
		orderedField{"coremem", st.CoreMem},
		orderedField{"virtmem", st.VirtMem},
		orderedField{"hiwater_rss", st.HiwaterRSS},
		orderedField{"hiwater_vm", st.HiwaterVM},
		orderedField{"read_char", st.ReadChars},
		orderedField{"write_char", st.WriteChars},
		orderedField{"read_syscalls", st.ReadSyscalls},
		orderedField{"write_syscalls", st.WriteSyscalls},
		orderedField{"read_bytes", st.ReadBytes},
		orderedField{"write_bytes", st.WriteBytes},
		orderedField{"cancelled_write_bytes", st.CancelledWriteBytes},
		orderedField{"nvcsw", st.VoluntaryCtxSwitches},
		orderedField{"nivcsw", st.InvoluntaryCtxSwitches},
	)
	if st.Version >= 12 {
		o = append(o, orderedField{"ac_exe_dev", st.ExeDev}, orderedField{"ac_exe_inode", st.ExeInode})
	}
	for _, k := range delayKinds {
		if st.Version < k.since {
			continue
		}
		d := k.get(st)
		o = append(o, orderedField{k.name + "_count", d.Count}, orderedField{k.name + "_delay_total", ns(d.Total)})
		if st.Version >= 15 {
			o = append(o, orderedField{k.name + "_delay_max", ns(d.Max)}, orderedField{k.name + "_delay_min", ns(d.Min)})
		}
		if st.Version >= 17 {
			var ts any // null when no delay was recorded
			if !d.MaxTime.IsZero() {
				ts = d.MaxTime.UTC().Format(time.RFC3339Nano)
			}
			o = append(o, orderedField{k.name + "_delay_max_ts", ts})
		}
	}
	return o
}

// printTaskstats prints the accounting of one task or thread group.
func printTaskstats(a *app, st *taskstats.Stats, id uint32, tgid, delayacct, delayacctKnown bool) error {
	w := a.out
	if tgid {
		fmt.Fprintf(w, "thread group %d (sums over its threads)\n", id)
	} else {
		fmt.Fprintf(w, "pid %d (%s) tgid %d ppid %d uid %d gid %d\n", st.PID, st.Comm, st.TGID, st.PPID, st.UID, st.GID)
		started := "-"
		if !st.BeginTime.IsZero() {
			started = st.BeginTime.Local().Format(time.RFC3339)
		}
		fmt.Fprintf(w, "  started %s  nice %d  sched %s  flags %s  exit code %d\n", started, st.Nice, st.Sched, st.Flags, st.ExitCode)
	}
	fmt.Fprintf(w, "  elapsed %v  user %v  system %v  cpu run %v (real %v)\n",
		st.Elapsed, st.UserTime, st.SystemTime, st.CPURunVirtual, st.CPURunReal)
	fmt.Fprintf(w, "  context switches: voluntary %d involuntary %d\n", st.VoluntaryCtxSwitches, st.InvoluntaryCtxSwitches)
	if !tgid {
		fmt.Fprintf(w, "  page faults: minor %d major %d\n", st.MinorFaults, st.MajorFaults)
		fmt.Fprintf(w, "  memory: peak rss %d KiB  peak vm %d KiB\n", st.HiwaterRSS, st.HiwaterVM)
		fmt.Fprintf(w, "  io: read %d bytes in %d calls, wrote %d bytes in %d calls (KiB granularity)\n",
			st.ReadChars, st.ReadSyscalls, st.WriteChars, st.WriteSyscalls)
		fmt.Fprintf(w, "  storage: read %d bytes, wrote %d bytes, cancelled %d bytes\n",
			st.ReadBytes, st.WriteBytes, st.CancelledWriteBytes)
		if st.ExeInode != 0 {
			major, minor := st.ExeDevice()
			fmt.Fprintf(w, "  executable: device %d:%d inode %d\n", major, minor, st.ExeInode)
		}
	}
	fmt.Fprintln(w)
	headers := []string{"DELAY", "COUNT", "TOTAL", "AVERAGE"}
	if st.Version >= 15 {
		headers = append(headers, "MAX", "MIN")
	}
	tw := a.table(headers...)
	for _, k := range delayKinds {
		if st.Version < k.since {
			continue
		}
		d := k.get(st)
		fmt.Fprintf(tw, "%s\t%d\t%v\t%v", k.name, d.Count, d.Total, d.Average())
		if st.Version >= 15 {
			fmt.Fprintf(tw, "\t%v\t%v", d.Max, d.Min)
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if delayacctKnown && !delayacct {
		_, err := fmt.Fprintln(w, "\ndelay accounting is off (sysctl kernel.task_delayacct=0): only cpu delays are counted")
		return err
	}
	return nil
}
