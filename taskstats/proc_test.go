package taskstats_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nlkit/nlkit/taskstats"
)

// procFiles are the files of /proc/PID the oracle reads, in the order
// capture writes them to testdata/proc.txt.
var procFiles = []string{"stat", "status", "io", "schedstat"}

// procSnapshot is what /proc/PID says of a stopped task, to compare with
// its taskstats.
type procSnapshot struct {
	pid, ppid, tgid, uid, gid uint32
	comm                      string
	nice                      int8
	minflt, majflt            uint64
	nvcsw, nivcsw             uint64
	vmHWM, vmPeak             uint64            // status: VmHWM, VmPeak, kB
	io                        map[string]uint64 // rchar, wchar, syscr, ...
	runtime, runDelay         time.Duration     // schedstat: sum_exec_runtime, run_delay
	pcount                    uint64            // schedstat: timeslices run
}

// parseProc parses the contents of /proc/PID/{stat,status,io,schedstat}.
func parseProc(files map[string]string) (procSnapshot, error) {
	var p procSnapshot
	stat := files["stat"]
	open, end := strings.IndexByte(stat, '('), strings.LastIndexByte(stat, ')')
	if open < 0 || end < open {
		return p, fmt.Errorf("stat: %q", stat)
	}
	p.comm = stat[open+1 : end]
	// Fields after the comm, numbered as in proc(5) from 3 (state).
	f := strings.Fields(stat[end+1:])
	field := func(n int) (int64, error) {
		if n-3 >= len(f) {
			return 0, fmt.Errorf("stat has no field %d", n)
		}
		return strconv.ParseInt(f[n-3], 10, 64)
	}
	var err error
	num := func(n int) int64 {
		v, e := field(n)
		if e != nil && err == nil {
			err = e
		}
		return v
	}
	pid, _ := strconv.ParseUint(strings.TrimSpace(stat[:open]), 10, 32)
	p.pid = uint32(pid)
	p.ppid = uint32(num(4))
	p.minflt = uint64(num(10))
	p.majflt = uint64(num(12))
	p.nice = int8(num(19))
	for _, line := range strings.Split(files["status"], "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		fs := strings.Fields(v)
		if len(fs) == 0 {
			continue
		}
		n, _ := strconv.ParseUint(fs[0], 10, 64)
		switch k {
		case "Tgid":
			p.tgid = uint32(n)
		case "Uid":
			p.uid = uint32(n)
		case "Gid":
			p.gid = uint32(n)
		case "voluntary_ctxt_switches":
			p.nvcsw = n
		case "nonvoluntary_ctxt_switches":
			p.nivcsw = n
		case "VmHWM":
			p.vmHWM = n
		case "VmPeak":
			p.vmPeak = n
		}
	}
	p.io = map[string]uint64{}
	for _, line := range strings.Split(files["io"], "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, e := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		if e != nil {
			return p, fmt.Errorf("io %q: %w", line, e)
		}
		p.io[k] = n
	}
	ss := strings.Fields(files["schedstat"])
	if len(ss) != 3 {
		return p, fmt.Errorf("schedstat: %q", files["schedstat"])
	}
	var v [3]uint64
	for i := range ss {
		if v[i], err = strconv.ParseUint(ss[i], 10, 64); err != nil {
			return p, fmt.Errorf("schedstat: %w", err)
		}
	}
	p.runtime, p.runDelay, p.pcount = time.Duration(v[0]), time.Duration(v[1]), v[2]
	return p, err
}

// compareProc checks st against what /proc said of the same stopped task.
// The kernel rounds the I/O counters of taskstats down to whole KiB
// (xacct_add_tsk's KB_MASK); /proc/PID/io has them exact.
func compareProc(t *testing.T, st *taskstats.Stats, p procSnapshot) {
	t.Helper()
	kb := func(name string) uint64 { return p.io[name] &^ 1023 }
	checks := []struct {
		name      string
		got, want any
	}{
		{"pid", st.PID, p.pid},
		{"ppid", st.PPID, p.ppid},
		{"tgid", st.TGID, p.tgid},
		{"uid", st.UID, p.uid},
		{"gid", st.GID, p.gid},
		{"comm", st.Comm, p.comm},
		{"nice", st.Nice, p.nice},
		{"minflt", st.MinorFaults, p.minflt},
		{"majflt", st.MajorFaults, p.majflt},
		{"nvcsw", st.VoluntaryCtxSwitches, p.nvcsw},
		{"nivcsw", st.InvoluntaryCtxSwitches, p.nivcsw},
		{"read_char (rchar)", st.ReadChars, kb("rchar")},
		{"write_char (wchar)", st.WriteChars, kb("wchar")},
		{"read_syscalls (syscr)", st.ReadSyscalls, kb("syscr")},
		{"write_syscalls (syscw)", st.WriteSyscalls, kb("syscw")},
		{"read_bytes", st.ReadBytes, kb("read_bytes")},
		{"write_bytes", st.WriteBytes, kb("write_bytes")},
		{"cancelled_write_bytes", st.CancelledWriteBytes, kb("cancelled_write_bytes")},
		{"cpu_run_virtual_total (schedstat runtime)", st.CPURunVirtual, p.runtime},
		{"cpu_delay_total (schedstat run_delay)", st.CPU.Total, p.runDelay},
		{"cpu_count (schedstat pcount)", st.CPU.Count, p.pcount},
		{"hiwater_vm (VmPeak)", st.HiwaterVM, p.vmPeak},
	}
	// hiwater_rss reads the RSS counters without summing their per-CPU
	// parts (get_mm_counter), /proc/PID/status sums them: the two differ
	// by a few pages. Neither exceeds the other by more than that.
	if d := int64(st.HiwaterRSS) - int64(p.vmHWM); st.HiwaterRSS == 0 || d > 1024 || d < -1024 {
		t.Errorf("hiwater_rss %d KiB, /proc VmHWM %d kB", st.HiwaterRSS, p.vmHWM)
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: taskstats %v, /proc %v", c.name, c.got, c.want)
		}
	}
}

// nosuchPID is a PID no task can have: PID_MAX_LIMIT, which pid_max
// cannot exceed and PIDs stay below.
const nosuchPID = 1 << 22
