package taskstats

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/nlkit/nlkit/netlink"
)

// The generic netlink family (linux/taskstats.h).
const (
	FamilyName    = "TASKSTATS" // TASKSTATS_GENL_NAME
	FamilyVersion = 1           // TASKSTATS_GENL_VERSION
)

// Commands (enum TASKSTATS_CMD_*).
const (
	cmdGet = 1 // TASKSTATS_CMD_GET: user to kernel, PID or TGID attribute
	cmdNew = 2 // TASKSTATS_CMD_NEW: kernel to user, the reply and exit records
)

// Attributes of requests (enum TASKSTATS_CMD_ATTR_*).
const (
	cmdAttrPID  = 1 // TASKSTATS_CMD_ATTR_PID: u32
	cmdAttrTGID = 2 // TASKSTATS_CMD_ATTR_TGID: u32
)

// Attributes of replies (enum TASKSTATS_TYPE_*).
const (
	typePID      = 1 // TASKSTATS_TYPE_PID: u32
	typeTGID     = 2 // TASKSTATS_TYPE_TGID: u32
	typeStats    = 3 // TASKSTATS_TYPE_STATS: struct taskstats
	typeAggrPID  = 4 // TASKSTATS_TYPE_AGGR_PID: nest of PID and STATS
	typeAggrTGID = 5 // TASKSTATS_TYPE_AGGR_TGID: nest of TGID and STATS
	typeNull     = 6 // TASKSTATS_TYPE_NULL: padding, carries nothing
)

// Versions of struct taskstats this package decodes. Newer versions only
// append fields (all but 15, see layout), so a newer struct is decoded up
// to what MaxVersion knows.
const (
	// MinVersion is the oldest struct taskstats decoded (its members
	// end with the memory reclaim delays).
	MinVersion = 8
	// MaxVersion is the newest struct taskstats whose fields are known:
	// the one that added the delay maximum timestamps.
	MaxVersion = 17
)

// commLen is TS_COMM_LEN, the size of ac_comm.
const commLen = 32

// AcctFlags are the accounting flags of a task (ac_flag, the A* flags of
// linux/acct.h).
type AcctFlags uint8

// Accounting flags.
const (
	AcctFork   AcctFlags = 0x01 // AFORK: forked but did not exec
	AcctSU     AcctFlags = 0x02 // ASU: used superuser privileges
	AcctCompat AcctFlags = 0x04 // ACOMPAT: used compatibility mode (unused on Linux)
	AcctCore   AcctFlags = 0x08 // ACORE: dumped core
	AcctXSig   AcctFlags = 0x10 // AXSIG: killed by a signal
	AcctGroup  AcctFlags = 0x20 // AGROUP: the record is for the whole thread group (version 12)
)

var acctFlagNames = []struct {
	f    AcctFlags
	name string
}{
	{AcctFork, "fork"}, {AcctSU, "su"}, {AcctCompat, "compat"}, {AcctCore, "core"},
	{AcctXSig, "xsig"}, {AcctGroup, "group"},
}

// Names returns the names of the flags set ("fork", "su", ...), unknown
// bits as one hexadecimal number; an empty, non-nil slice for none.
func (f AcctFlags) Names() []string {
	names := []string{}
	for _, n := range acctFlagNames {
		if f&n.f != 0 {
			names = append(names, n.name)
			f &^= n.f
		}
	}
	if f != 0 {
		names = append(names, fmt.Sprintf("%#x", uint8(f)))
	}
	return names
}

// String returns the flag names joined by commas, or "0" for none.
func (f AcctFlags) String() string {
	if f == 0 {
		return "0"
	}
	return strings.Join(f.Names(), ",")
}

// SchedPolicy is a scheduling policy (ac_sched: the task's policy,
// SCHED_* in linux/sched.h).
type SchedPolicy uint8

// Scheduling policies.
const (
	SchedNormal   SchedPolicy = 0 // SCHED_NORMAL (SCHED_OTHER)
	SchedFIFO     SchedPolicy = 1 // SCHED_FIFO
	SchedRR       SchedPolicy = 2 // SCHED_RR
	SchedBatch    SchedPolicy = 3 // SCHED_BATCH
	SchedIdle     SchedPolicy = 5 // SCHED_IDLE
	SchedDeadline SchedPolicy = 6 // SCHED_DEADLINE
	SchedExt      SchedPolicy = 7 // SCHED_EXT
)

// String returns the policy's name as chrt prints it, in lower case
// ("normal", "fifo", ...), or "policy(N)".
func (p SchedPolicy) String() string {
	switch p {
	case SchedNormal:
		return "normal"
	case SchedFIFO:
		return "fifo"
	case SchedRR:
		return "rr"
	case SchedBatch:
		return "batch"
	case SchedIdle:
		return "idle"
	case SchedDeadline:
		return "deadline"
	case SchedExt:
		return "ext"
	}
	return fmt.Sprintf("policy(%d)", uint8(p))
}

// Delay is the delay accounting of one kind of wait: how often the task
// waited and for how long. Counts and totals are kept only while delay
// accounting is on (see DelayAccounting), except CPU's, which the
// scheduler keeps always.
type Delay struct {
	// Count is the number of delays recorded (xxx_count).
	Count uint64
	// Total is their sum (xxx_delay_total, ns); the kernel resets it to 0
	// when it would overflow, while Count goes on.
	Total time.Duration
	// Max and Min are the longest and shortest single delay
	// (xxx_delay_max, xxx_delay_min, ns; version 16).
	Max time.Duration
	Min time.Duration
	// MaxTime is when the longest delay ended (xxx_delay_max_ts,
	// CLOCK_REALTIME; version 17); zero if unknown.
	MaxTime time.Time
}

// Average returns Total / Count, or 0 without delays.
func (d Delay) Average() time.Duration {
	if d.Count == 0 {
		return 0
	}
	return d.Total / time.Duration(min(d.Count, math.MaxInt64))
}

// Stats are the statistics of a task or thread group (struct taskstats).
// Times are time.Duration whatever unit the kernel counts in (ns or µs);
// values beyond what a Duration holds (292 years) saturate. Fields the
// struct's Version does not have are zero.
type Stats struct {
	// Version of the struct the kernel sent (version).
	Version uint16
	// ExitCode is the exit status of an exited task (ac_exitcode), 0 for
	// a live one.
	ExitCode uint32
	// Flags are the accounting flags (ac_flag).
	Flags AcctFlags
	// Nice is the nice value (ac_nice).
	Nice int8

	// CPU is the time spent runnable but waiting for a CPU
	// (cpu_count, cpu_delay_total: run queue waits).
	CPU Delay
	// BlockIO is the time spent waiting for synchronous block I/O
	// (blkio_*).
	BlockIO Delay
	// SwapIn is the time spent waiting for pages to be swapped in
	// (swapin_*).
	SwapIn Delay
	// FreePages is the time spent in direct memory reclaim (freepages_*).
	FreePages Delay
	// Thrashing is the time spent waiting for thrashing pages
	// (thrashing_*; version 9).
	Thrashing Delay
	// Compact is the time spent in memory compaction (compact_*;
	// version 11).
	Compact Delay
	// WPCopy is the time spent copying write-protected pages
	// (wpcopy_*; version 13).
	WPCopy Delay
	// IRQ is the time stolen by hard and soft interrupts (irq_*;
	// version 14).
	IRQ Delay

	// CPURunReal is the CPU time used, user and system
	// (cpu_run_real_total, ns; may be adjusted for time stolen by a
	// hypervisor).
	CPURunReal time.Duration
	// CPURunVirtual is the CPU time the scheduler counted
	// (cpu_run_virtual_total, ns: se.sum_exec_runtime).
	CPURunVirtual time.Duration
	// CPUScaledRunReal is CPURunReal scaled by CPU frequency
	// (cpu_scaled_run_real_total, ns).
	CPUScaledRunReal time.Duration

	// Comm is the command name (ac_comm), at most 15 bytes on Linux.
	Comm string
	// Sched is the scheduling policy (ac_sched).
	Sched SchedPolicy
	// UID and GID are the real user and group IDs (ac_uid, ac_gid), as
	// seen from the requester's user namespace.
	UID uint32
	GID uint32
	// PID, PPID and TGID are the task's ID, its parent's and its thread
	// group's (ac_pid, ac_ppid, ac_tgid; TGID since version 12), in the
	// requester's PID namespace.
	PID  uint32
	PPID uint32
	TGID uint32
	// BeginTime is when the task started (ac_btime64 since version 10,
	// ac_btime before; whole seconds); zero if unknown.
	BeginTime time.Time
	// Elapsed is the time since the task started, or its lifetime if it
	// exited (ac_etime, µs).
	Elapsed time.Duration
	// ThreadGroupElapsed is the thread group's elapsed time (ac_tgetime,
	// µs; version 12).
	ThreadGroupElapsed time.Duration
	// UserTime and SystemTime are the CPU time used in user and kernel
	// mode (ac_utime, ac_stime, µs).
	UserTime   time.Duration
	SystemTime time.Duration
	// UserTimeScaled and SystemTimeScaled are the same scaled by CPU
	// frequency (ac_utimescaled, ac_stimescaled, µs).
	UserTimeScaled   time.Duration
	SystemTimeScaled time.Duration
	// MinorFaults and MajorFaults count page faults without and with I/O
	// (ac_minflt, ac_majflt).
	MinorFaults uint64
	MajorFaults uint64

	// CoreMem and VirtMem are the RSS and virtual memory size integrated
	// over system time (coremem, virtmem, MB·µs).
	CoreMem uint64
	VirtMem uint64
	// HiwaterRSS and HiwaterVM are the peak resident and virtual memory
	// sizes (hiwater_rss, hiwater_vm, KiB: /proc/PID/status VmHWM and
	// VmPeak; the kernel reads the RSS from per-CPU counters without
	// summing them, so it may be off by a few pages).
	HiwaterRSS uint64
	HiwaterVM  uint64

	// The I/O counters below are those of /proc/PID/io, rounded down by
	// the kernel to a multiple of 1024 (KB_MASK in kernel/tsacct.c).
	//
	// ReadChars and WriteChars are the bytes passed to read and write
	// system calls (read_char, write_char: rchar, wchar).
	ReadChars  uint64
	WriteChars uint64
	// ReadSyscalls and WriteSyscalls count read and write system calls
	// (read_syscalls, write_syscalls: syscr, syscw).
	ReadSyscalls  uint64
	WriteSyscalls uint64
	// ReadBytes, WriteBytes and CancelledWriteBytes are the bytes the
	// task made the storage layer read and write, and the written bytes
	// it cancelled by truncating dirty pages (read_bytes, write_bytes,
	// cancelled_write_bytes).
	ReadBytes           uint64
	WriteBytes          uint64
	CancelledWriteBytes uint64

	// VoluntaryCtxSwitches and InvoluntaryCtxSwitches count context
	// switches (nvcsw, nivcsw).
	VoluntaryCtxSwitches   uint64
	InvoluntaryCtxSwitches uint64

	// ExeDev and ExeInode identify the executable (ac_exe_dev, the device
	// in the encoding of stat's st_dev; ac_exe_inode; version 12); zero
	// for kernel threads.
	ExeDev   uint64
	ExeInode uint64
}

// ExeDevice splits ExeDev into the major and minor device numbers, as
// major(3) and minor(3) do.
func (s Stats) ExeDevice() (major, minor uint32) {
	d := s.ExeDev
	major = uint32((d>>8)&0xfff) | uint32((d>>32)&^0xfff)
	minor = uint32(d&0xff) | uint32((d>>12)&^0xff)
	return major, minor
}

// Errors of struct taskstats decoding.
var (
	// ErrVersion reports a struct taskstats older than MinVersion.
	ErrVersion = errors.New("unsupported struct taskstats version")
	// ErrShort reports a struct shorter than its version's layout.
	ErrShort = errors.New("struct taskstats shorter than its version's layout")
)

// Saturation bounds: a value past them decodes as the bound, which
// encodes back to itself.
const (
	maxNanos  = math.MaxInt64        // ns in a Duration
	maxMicros = math.MaxInt64 / 1000 // µs in a Duration
	maxUnix   = 1 << 40              // seconds since 1970 kept in a time.Time (year 36812)
	maxNsec   = int64(time.Second) - 1
	tsLen     = 16 // struct __kernel_timespec: s64 seconds, s64 nanoseconds
	minLenVer = 2  // bytes needed to read the version
)

// codec reads and writes one field of Stats at its place in the struct.
type codec struct {
	size int
	dec  func(s *Stats, b []byte)
	enc  func(s *Stats, b []byte)
}

var ne = binary.NativeEndian

func u8(p func(*Stats) *uint8) codec {
	return codec{1, func(s *Stats, b []byte) { *p(s) = b[0] }, func(s *Stats, b []byte) { b[0] = *p(s) }}
}

func u32(p func(*Stats) *uint32) codec {
	return codec{4, func(s *Stats, b []byte) { *p(s) = ne.Uint32(b) }, func(s *Stats, b []byte) { ne.PutUint32(b, *p(s)) }}
}

func u64(p func(*Stats) *uint64) codec {
	return codec{8, func(s *Stats, b []byte) { *p(s) = ne.Uint64(b) }, func(s *Stats, b []byte) { ne.PutUint64(b, *p(s)) }}
}

// nanos is a u64 count of nanoseconds.
func nanos(p func(*Stats) *time.Duration) codec {
	return codec{8,
		func(s *Stats, b []byte) { *p(s) = time.Duration(min(ne.Uint64(b), maxNanos)) },
		func(s *Stats, b []byte) { ne.PutUint64(b, uint64(max(*p(s), 0))) },
	}
}

// micros is a u64 count of microseconds.
func micros(p func(*Stats) *time.Duration) codec {
	return codec{8,
		func(s *Stats, b []byte) { *p(s) = time.Duration(min(ne.Uint64(b), maxMicros)) * time.Microsecond },
		func(s *Stats, b []byte) { ne.PutUint64(b, uint64(max(*p(s), 0)/time.Microsecond)) },
	}
}

// unixTime converts seconds and nanoseconds since 1970 to a time, 0 and
// 0 to the zero time, clamping both to what round-trips.
func unixTime(sec, nsec int64) time.Time {
	sec, nsec = min(max(sec, 0), maxUnix), min(max(nsec, 0), maxNsec)
	if sec == 0 && nsec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, nsec)
}

// unixParts is the inverse of unixTime.
func unixParts(t time.Time) (sec, nsec int64) {
	if t.IsZero() {
		return 0, 0
	}
	return min(max(t.Unix(), 0), maxUnix), int64(t.Nanosecond())
}

// timespec is a struct __kernel_timespec (s64 seconds, s64 nanoseconds).
func timespec(p func(*Stats) *time.Time) codec {
	return codec{tsLen,
		func(s *Stats, b []byte) { *p(s) = unixTime(int64(ne.Uint64(b)), int64(ne.Uint64(b[8:]))) },
		func(s *Stats, b []byte) {
			sec, nsec := unixParts(*p(s))
			ne.PutUint64(b, uint64(sec))
			ne.PutUint64(b[8:], uint64(nsec))
		},
	}
}

// btime32 is ac_btime, seconds in a u32; ignored on decode from version
// 10, where ac_btime64 says the same without the 2106 limit.
func btime32() codec {
	return codec{4,
		func(s *Stats, b []byte) {
			if s.Version < 10 {
				s.BeginTime = unixTime(int64(ne.Uint32(b)), 0)
			}
		},
		func(s *Stats, b []byte) {
			sec, _ := unixParts(s.BeginTime)
			ne.PutUint32(b, uint32(min(sec, math.MaxUint32)))
		},
	}
}

func btime64() codec {
	return codec{8,
		func(s *Stats, b []byte) { s.BeginTime = unixTime(int64(min(ne.Uint64(b), maxUnix)), 0) },
		func(s *Stats, b []byte) {
			sec, _ := unixParts(s.BeginTime)
			ne.PutUint64(b, uint64(sec))
		},
	}
}

func comm() codec {
	return codec{commLen,
		func(s *Stats, b []byte) {
			n := 0 // up to the NUL, which the kernel always puts in the last byte or before
			for n < commLen-1 && b[n] != 0 {
				n++
			}
			s.Comm = string(b[:n])
		},
		func(s *Stats, b []byte) { copy(b[:commLen-1], s.Comm) },
	}
}

// field is one member of struct taskstats.
type field struct {
	name   string // the C name
	since  uint16 // the version that added it
	align8 bool   // __attribute__((aligned(8)))
	c      codec
	offset int // filled by layout
}

// pad is padding the struct declares (ac_pad): encoded as zeros.
func pad(n int) codec {
	return codec{n, func(*Stats, []byte) {}, func(*Stats, []byte) {}}
}

// delayFields returns the count and total of a delay.
func delayFields(name string, since uint16, d func(*Stats) *Delay) []field {
	return []field{
		{name: name + "_count", since: since, c: u64(func(s *Stats) *uint64 { return &d(s).Count })},
		{name: name + "_delay_total", since: since, c: nanos(func(s *Stats) *time.Duration { return &d(s).Total })},
	}
}

// maxMinFields returns a delay's max and min.
func maxMinFields(name string, since uint16, d func(*Stats) *Delay) []field {
	return []field{
		{name: name + "_delay_max", since: since, c: nanos(func(s *Stats) *time.Duration { return &d(s).Max })},
		{name: name + "_delay_min", since: since, c: nanos(func(s *Stats) *time.Duration { return &d(s).Min })},
	}
}

// The delays in the order of their max, min and max_ts fields.
var delayOrder = []struct {
	name string
	d    func(*Stats) *Delay
}{
	{"cpu", func(s *Stats) *Delay { return &s.CPU }},
	{"blkio", func(s *Stats) *Delay { return &s.BlockIO }},
	{"swapin", func(s *Stats) *Delay { return &s.SwapIn }},
	{"freepages", func(s *Stats) *Delay { return &s.FreePages }},
	{"thrashing", func(s *Stats) *Delay { return &s.Thrashing }},
	{"compact", func(s *Stats) *Delay { return &s.Compact }},
	{"wpcopy", func(s *Stats) *Delay { return &s.WPCopy }},
	{"irq", func(s *Stats) *Delay { return &s.IRQ }},
}

func delayOf(name string) func(*Stats) *Delay {
	for _, d := range delayOrder {
		if d.name == name {
			return d.d
		}
	}
	panic("taskstats: no delay " + name)
}

// fieldsOf returns the members of struct taskstats of version v in
// order, as include/uapi/linux/taskstats.h declares them. Version 15
// had each delay's max and min after its total, which moved the fields
// of older versions; version 16 moved them to the end, where they stay.
func fieldsOf(v uint16) []field {
	v15 := v == 15
	var fs []field
	add := func(f ...field) {
		for _, x := range f {
			if x.since <= v {
				fs = append(fs, x)
			}
		}
	}
	delay := func(name string, since uint16) {
		add(delayFields(name, since, delayOf(name))...)
		if v15 {
			add(maxMinFields(name, 15, delayOf(name))...)
		}
	}
	add(
		field{name: "version", since: 1, c: codec{2,
			func(s *Stats, b []byte) { s.Version = ne.Uint16(b) },
			func(s *Stats, b []byte) { ne.PutUint16(b, s.Version) }}},
		field{name: "ac_exitcode", since: 1, c: u32(func(s *Stats) *uint32 { return &s.ExitCode })},
		field{name: "ac_flag", since: 1, c: u8(func(s *Stats) *uint8 { return (*uint8)(&s.Flags) })},
		field{name: "ac_nice", since: 1, c: codec{1,
			func(s *Stats, b []byte) { s.Nice = int8(b[0]) },
			func(s *Stats, b []byte) { b[0] = uint8(s.Nice) }}},
	)
	cpu := delayFields("cpu", 1, delayOf("cpu"))
	cpu[0].align8 = true
	add(cpu...)
	if v15 {
		add(maxMinFields("cpu", 15, delayOf("cpu"))...)
	}
	delay("blkio", 1)
	delay("swapin", 1)
	add(
		field{name: "cpu_run_real_total", since: 1, c: nanos(func(s *Stats) *time.Duration { return &s.CPURunReal })},
		field{name: "cpu_run_virtual_total", since: 1, c: nanos(func(s *Stats) *time.Duration { return &s.CPURunVirtual })},
		field{name: "ac_comm", since: 1, c: comm()},
		field{name: "ac_sched", since: 1, align8: true, c: u8(func(s *Stats) *uint8 { return (*uint8)(&s.Sched) })},
		field{name: "ac_pad", since: 1, c: pad(3)},
		field{name: "ac_uid", since: 1, align8: true, c: u32(func(s *Stats) *uint32 { return &s.UID })},
		field{name: "ac_gid", since: 1, c: u32(func(s *Stats) *uint32 { return &s.GID })},
		field{name: "ac_pid", since: 1, c: u32(func(s *Stats) *uint32 { return &s.PID })},
		field{name: "ac_ppid", since: 1, c: u32(func(s *Stats) *uint32 { return &s.PPID })},
		field{name: "ac_btime", since: 1, c: btime32()},
		field{name: "ac_etime", since: 1, align8: true, c: micros(func(s *Stats) *time.Duration { return &s.Elapsed })},
		field{name: "ac_utime", since: 1, c: micros(func(s *Stats) *time.Duration { return &s.UserTime })},
		field{name: "ac_stime", since: 1, c: micros(func(s *Stats) *time.Duration { return &s.SystemTime })},
		field{name: "ac_minflt", since: 1, c: u64(func(s *Stats) *uint64 { return &s.MinorFaults })},
		field{name: "ac_majflt", since: 1, c: u64(func(s *Stats) *uint64 { return &s.MajorFaults })},
		field{name: "coremem", since: 1, c: u64(func(s *Stats) *uint64 { return &s.CoreMem })},
		field{name: "virtmem", since: 1, c: u64(func(s *Stats) *uint64 { return &s.VirtMem })},
		field{name: "hiwater_rss", since: 1, c: u64(func(s *Stats) *uint64 { return &s.HiwaterRSS })},
		field{name: "hiwater_vm", since: 1, c: u64(func(s *Stats) *uint64 { return &s.HiwaterVM })},
		field{name: "read_char", since: 1, c: u64(func(s *Stats) *uint64 { return &s.ReadChars })},
		field{name: "write_char", since: 1, c: u64(func(s *Stats) *uint64 { return &s.WriteChars })},
		field{name: "read_syscalls", since: 1, c: u64(func(s *Stats) *uint64 { return &s.ReadSyscalls })},
		field{name: "write_syscalls", since: 1, c: u64(func(s *Stats) *uint64 { return &s.WriteSyscalls })},
		field{name: "read_bytes", since: 1, c: u64(func(s *Stats) *uint64 { return &s.ReadBytes })},
		field{name: "write_bytes", since: 1, c: u64(func(s *Stats) *uint64 { return &s.WriteBytes })},
		field{name: "cancelled_write_bytes", since: 1, c: u64(func(s *Stats) *uint64 { return &s.CancelledWriteBytes })},
		field{name: "nvcsw", since: 1, c: u64(func(s *Stats) *uint64 { return &s.VoluntaryCtxSwitches })},
		field{name: "nivcsw", since: 1, c: u64(func(s *Stats) *uint64 { return &s.InvoluntaryCtxSwitches })},
		field{name: "ac_utimescaled", since: 1, c: micros(func(s *Stats) *time.Duration { return &s.UserTimeScaled })},
		field{name: "ac_stimescaled", since: 1, c: micros(func(s *Stats) *time.Duration { return &s.SystemTimeScaled })},
		field{name: "cpu_scaled_run_real_total", since: 1, c: nanos(func(s *Stats) *time.Duration { return &s.CPUScaledRunReal })},
	)
	delay("freepages", 1)
	delay("thrashing", 9)
	add(field{name: "ac_btime64", since: 10, c: btime64()})
	delay("compact", 11)
	add(
		field{name: "ac_tgid", since: 12, c: u32(func(s *Stats) *uint32 { return &s.TGID })},
		field{name: "ac_tgetime", since: 12, align8: true, c: micros(func(s *Stats) *time.Duration { return &s.ThreadGroupElapsed })},
		field{name: "ac_exe_dev", since: 12, c: u64(func(s *Stats) *uint64 { return &s.ExeDev })},
		field{name: "ac_exe_inode", since: 12, c: u64(func(s *Stats) *uint64 { return &s.ExeInode })},
	)
	delay("wpcopy", 13)
	delay("irq", 14)
	if !v15 {
		for _, d := range delayOrder {
			add(maxMinFields(d.name, 16, d.d)...)
		}
	}
	for _, d := range delayOrder {
		add(field{name: d.name + "_delay_max_ts", since: 17, c: timespec(func(s *Stats) *time.Time { return &d.d(s).MaxTime })})
	}
	return fs
}

// layout is the members of one version with their offsets, and the size
// of the struct.
type layout struct {
	fields []field
	size   int
}

// layoutOf places the members of version v as a C compiler does on a
// 64-bit system: each at its natural alignment (or 8 where the header
// says aligned(8)), the struct padded to 8.
func layoutOf(v uint16) layout {
	fs := fieldsOf(v)
	off := 0
	for i := range fs {
		var a int
		switch n := fs[i].c.size; {
		case fs[i].align8 || n == tsLen:
			a = 8 // aligned(8), or a timespec of two s64
		case n == 1 || n == 2 || n == 4 || n == 8:
			a = n
		default:
			a = 1 // char arrays: ac_comm, ac_pad
		}
		off = (off + a - 1) &^ (a - 1)
		fs[i].offset = off
		off += fs[i].c.size
	}
	return layout{fields: fs, size: (off + 7) &^ 7}
}

// layouts holds the layout of every version decoded, computed once.
var layouts = func() map[uint16]layout {
	m := map[uint16]layout{}
	for v := uint16(MinVersion); v <= MaxVersion; v++ {
		m[v] = layoutOf(v)
	}
	return m
}()

// layoutFor returns the layout to use for version v (MaxVersion's for
// newer ones: they only add fields at the end).
func layoutFor(v uint16) (layout, error) {
	if v < MinVersion {
		return layout{}, fmt.Errorf("%w %d (want %d or newer)", ErrVersion, v, MinVersion)
	}
	return layouts[min(v, MaxVersion)], nil
}

// Size returns the size of struct taskstats of version v in bytes (the
// size of MaxVersion's for newer ones), or 0 for a version not decoded.
func Size(v uint16) int {
	l, err := layoutFor(v)
	if err != nil {
		return 0
	}
	return l.size
}

// MarshalBinary encodes s as struct taskstats of s.Version (the payload of
// TASKSTATS_TYPE_STATS), padding zeroed. A version newer than MaxVersion
// is encoded with MaxVersion's fields. Comm is cut to 31 bytes.
func (s Stats) MarshalBinary() ([]byte, error) {
	l, err := layoutFor(s.Version)
	if err != nil {
		return nil, fmt.Errorf("taskstats: encode stats: %w", err)
	}
	b := make([]byte, l.size)
	for _, f := range l.fields {
		f.c.enc(&s, b[f.offset:f.offset+f.c.size])
	}
	return b, nil
}

// UnmarshalBinary decodes struct taskstats (the payload of
// TASKSTATS_TYPE_STATS) by the offsets of the version it carries. Bytes
// past the version's layout (fields of a newer version) are ignored; a
// struct shorter than its version's layout is an error.
func (s *Stats) UnmarshalBinary(b []byte) error {
	if err := s.unmarshal(b); err != nil {
		return fmt.Errorf("taskstats: decode stats: %w", err)
	}
	return nil
}

func (s *Stats) unmarshal(b []byte) error {
	if len(b) < minLenVer {
		return fmt.Errorf("%w: %d bytes", ErrShort, len(b))
	}
	out := Stats{Version: ne.Uint16(b)}
	l, err := layoutFor(out.Version)
	if err != nil {
		return err
	}
	if len(b) < l.size {
		return fmt.Errorf("%w: version %d has %d bytes, got %d", ErrShort, out.Version, l.size, len(b))
	}
	for _, f := range l.fields {
		f.c.dec(&out, b[f.offset:f.offset+f.c.size])
	}
	*s = out
	return nil
}

// Record is one record of the family: the statistics of a task
// (TASKSTATS_TYPE_AGGR_PID: PID and STATS) or of a thread group
// (TASKSTATS_TYPE_AGGR_TGID: TGID and STATS), as a TASKSTATS_CMD_NEW
// message carries it.
type Record struct {
	// PID is set for a task's record, TGID for a thread group's.
	PID  uint32
	TGID uint32
	// Stats are the statistics.
	Stats Stats
}

// ErrNoRecord reports a message without a task or thread group record.
var ErrNoRecord = errors.New("no statistics in the message")

// MarshalBinary encodes r as the attributes of a TASKSTATS_CMD_NEW
// message byte for byte as the kernel's mk_reply does on a 64-bit system
// with efficient unaligned access: the AGGR nest, without NLA_F_NESTED,
// holding the PID (or TGID) then STATS. (Elsewhere the kernel may put a
// TASKSTATS_TYPE_NULL pad before STATS to align it; UnmarshalBinary
// skips it.) A record with a TGID and no PID is a thread group's.
func (r Record) MarshalBinary() ([]byte, error) {
	st, err := r.Stats.MarshalBinary()
	if err != nil {
		return nil, err
	}
	var in, e netlink.AttributeEncoder
	aggr := uint16(typeAggrPID)
	if r.PID == 0 && r.TGID != 0 {
		aggr = typeAggrTGID
		in.Uint32(typeTGID, r.TGID)
	} else {
		in.Uint32(typePID, r.PID)
	}
	in.Bytes(typeStats, st)
	nest, err := in.Encode()
	if err != nil {
		return nil, fmt.Errorf("taskstats: encode record: %w", err)
	}
	e.Raw(aggr, nest)
	b, err := e.Encode()
	if err != nil {
		return nil, fmt.Errorf("taskstats: encode record: %w", err)
	}
	return b, nil
}

// UnmarshalBinary decodes the attributes of a TASKSTATS_CMD_NEW message:
// the first AGGR_PID nest (its PID) or AGGR_TGID nest (its TGID); NULL
// pads and other attributes are skipped. A nest without STATS, or a message without a nest, is
// an error matching ErrNoRecord.
func (r *Record) UnmarshalBinary(b []byte) error {
	if err := r.unmarshal(b); err != nil {
		return fmt.Errorf("taskstats: %w", err)
	}
	return nil
}

func (r *Record) unmarshal(b []byte) error {
	var out Record
	found := false
	d := netlink.NewAttributeDecoder(b)
	for !found && d.Next() {
		switch d.Type() {
		case typeAggrPID, typeAggrTGID:
			found = true
			hasStats := false
			id := uint16(typePID)
			if d.Type() == typeAggrTGID {
				id = typeTGID
			}
			d.Nested(func(d *netlink.AttributeDecoder) error {
				for d.Next() {
					switch d.Type() {
					case id:
						if id == typePID {
							out.PID = d.Uint32()
						} else {
							out.TGID = d.Uint32()
						}
					case typeStats:
						if err := out.Stats.unmarshal(d.Bytes()); err != nil {
							return err
						}
						hasStats = true
					}
				}
				if !hasStats && d.Err() == nil {
					return ErrNoRecord
				}
				return nil
			})
		}
	}
	if err := d.Err(); err != nil {
		return fmt.Errorf("decode record: %w", err)
	}
	if !found {
		return fmt.Errorf("decode record: %w", ErrNoRecord)
	}
	*r = out
	return nil
}
