// Package taskstats reads the kernel's per-task accounting through the
// generic netlink family "TASKSTATS" (linux/taskstats.h): CPU, memory and
// I/O usage, context switches, and delay accounting, the time a task
// spent waiting for a CPU, for block I/O, for swap-in, for memory
// reclaim and so on.
//
//	c, err := taskstats.Dial(ctx, nil)
//	if err != nil { ... }
//	defer c.Close()
//	st, err := c.Task(ctx, uint32(pid)) // errors.Is(err, taskstats.ErrNoProcess)
//	fmt.Println(st.Comm, st.UserTime+st.SystemTime, st.ReadChars, st.CPU.Total)
//
// Stats is struct taskstats with Go types: durations as time.Duration
// whether the kernel counts in ns or µs, times as time.Time. The struct is
// versioned: the kernel sends its own version (16 on Linux 6.18) and
// Stats.UnmarshalBinary decodes it by that version's offsets, computed
// from the uapi header's declarations (with its explicit aligned(8)
// members) as a C compiler lays them out on a 64-bit system, from
// MinVersion to MaxVersion; a newer struct is decoded up to MaxVersion's
// fields. (On a 32-bit kernel only the version 17 timestamps, whose
// nanoseconds are a C long, would sit elsewhere.) Record is a reply's
// TASKSTATS_TYPE_AGGR_PID or _AGGR_TGID nest.
//
// # What the kernel fills
//
// A task's record (Task) has every field. A thread group's
// (ThreadGroup) has only the delays, CPU times, elapsed time and context
// switches, summed over its threads. The delay counts and totals other
// than CPU's are recorded only while delay accounting is on
// (DelayAccounting: sysctl kernel.task_delayacct, off by default); CPU's
// come from the scheduler and are always there (the same numbers as
// /proc/PID/schedstat), as are the I/O counters (CONFIG_TASK_XACCT,
// CONFIG_TASK_IO_ACCOUNTING: the numbers of /proc/PID/io, rounded down
// to whole KiB). Maxima and minima need version 16, their timestamps 17.
//
// # Privileges
//
// TASKSTATS_CMD_GET needs CAP_NET_ADMIN in the initial user namespace
// (the op is GENL_ADMIN_PERM): without it every request fails with an
// error matching syscall.EPERM. Resolving the family needs nothing.
//
// # Namespaces
//
// The family is registered in every network namespace (netnsok), so a
// Client may be dialled in any. PIDs are those of the PID namespace of
// the process sending the request, not of the socket's network
// namespace, and user and group IDs are translated into the sender's
// user namespace.
//
// # Concurrency and lifetimes
//
// A Client is safe for concurrent use; requests are serialized on its
// socket. Returned Stats are the caller's. Statistics are a snapshot:
// a running task's counters move on at once.
//
// # Not covered
//
// Exit records (TASKSTATS_CMD_ATTR_REGISTER_CPUMASK: the kernel sends a
// Record when each task on the listed CPUs exits) are decoded by Record
// but not subscribed to by this package, and cgroup statistics
// (CGROUPSTATS_CMD_GET) are not read.
package taskstats
