package taskstats

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// gccOffsets are the offsets and sizes of struct taskstats version 13
// (linux-libc-dev 6.1, /usr/include/linux/taskstats.h) as gcc places
// them on x86-64, printed with offsetof and sizeof by a C program. The
// struct is 416 bytes.
var gccOffsets = []struct {
	name         string
	offset, size int
}{
	{"version", 0, 2}, {"ac_exitcode", 4, 4}, {"ac_flag", 8, 1}, {"ac_nice", 9, 1},
	{"cpu_count", 16, 8}, {"cpu_delay_total", 24, 8}, {"blkio_count", 32, 8},
	{"blkio_delay_total", 40, 8}, {"swapin_count", 48, 8}, {"swapin_delay_total", 56, 8},
	{"cpu_run_real_total", 64, 8}, {"cpu_run_virtual_total", 72, 8}, {"ac_comm", 80, 32},
	{"ac_sched", 112, 1}, {"ac_pad", 113, 3}, {"ac_uid", 120, 4}, {"ac_gid", 124, 4},
	{"ac_pid", 128, 4}, {"ac_ppid", 132, 4}, {"ac_btime", 136, 4}, {"ac_etime", 144, 8},
	{"ac_utime", 152, 8}, {"ac_stime", 160, 8}, {"ac_minflt", 168, 8}, {"ac_majflt", 176, 8},
	{"coremem", 184, 8}, {"virtmem", 192, 8}, {"hiwater_rss", 200, 8}, {"hiwater_vm", 208, 8},
	{"read_char", 216, 8}, {"write_char", 224, 8}, {"read_syscalls", 232, 8},
	{"write_syscalls", 240, 8}, {"read_bytes", 248, 8}, {"write_bytes", 256, 8},
	{"cancelled_write_bytes", 264, 8}, {"nvcsw", 272, 8}, {"nivcsw", 280, 8},
	{"ac_utimescaled", 288, 8}, {"ac_stimescaled", 296, 8}, {"cpu_scaled_run_real_total", 304, 8},
	{"freepages_count", 312, 8}, {"freepages_delay_total", 320, 8}, {"thrashing_count", 328, 8},
	{"thrashing_delay_total", 336, 8}, {"ac_btime64", 344, 8}, {"compact_count", 352, 8},
	{"compact_delay_total", 360, 8}, {"ac_tgid", 368, 4}, {"ac_tgetime", 376, 8},
	{"ac_exe_dev", 384, 8}, {"ac_exe_inode", 392, 8}, {"wpcopy_count", 400, 8},
	{"wpcopy_delay_total", 408, 8},
}

func offsets(v uint16) map[string][2]int {
	m := map[string][2]int{}
	for _, f := range layoutOf(v).fields {
		m[f.name] = [2]int{f.offset, f.c.size}
	}
	return m
}

func TestLayoutMatchesGCC(t *testing.T) {
	l := layoutOf(13)
	if len(l.fields) != len(gccOffsets) || l.size != 416 {
		t.Fatalf("version 13: %d fields, %d bytes; gcc: %d fields, 416 bytes", len(l.fields), l.size, len(gccOffsets))
	}
	for i, want := range gccOffsets {
		f := l.fields[i]
		if f.name != want.name || f.offset != want.offset || f.c.size != want.size {
			t.Errorf("field %d: %s at %d (%d bytes), gcc: %s at %d (%d bytes)", i, f.name, f.offset, f.c.size, want.name, want.offset, want.size)
		}
	}
	// Older versions are prefixes of it.
	for v := uint16(MinVersion); v < 13; v++ {
		for _, f := range layoutOf(v).fields {
			if got := offsets(13)[f.name]; got != [2]int{f.offset, f.c.size} {
				t.Errorf("version %d: %s at %d, version 13 has it at %d", v, f.name, f.offset, got[0])
			}
		}
	}
}

// Sizes of each version: from the uapi headers' declarations (8 to 13:
// gcc; 16: what Linux 6.18 sends, see testdata/task.bin).
func TestLayoutSizes(t *testing.T) {
	want := map[uint16]int{8: 328, 9: 344, 10: 352, 11: 368, 12: 400, 13: 416, 14: 432, 15: 560, 16: 560, 17: 688, 18: 688, 0xffff: 688}
	for v, n := range want {
		if got := Size(v); got != n {
			t.Errorf("Size(%d) = %d, want %d", v, got, n)
		}
	}
	if Size(7) != 0 || Size(0) != 0 {
		t.Errorf("Size of an unsupported version: %d %d", Size(7), Size(0))
	}
}

// The fields after version 14, where 15 and 16 differ.
func TestLayoutNewFields(t *testing.T) {
	o16, o15, o17 := offsets(16), offsets(15), offsets(17)
	for name, want := range map[string]int{
		"irq_count": 416, "irq_delay_total": 424, "cpu_delay_max": 432, "cpu_delay_min": 440,
		"blkio_delay_max": 448, "irq_delay_min": 552,
	} {
		if o16[name][0] != want || o17[name][0] != want {
			t.Errorf("%s at %d (16), %d (17), want %d", name, o16[name][0], o17[name][0], want)
		}
	}
	for name, want := range map[string]int{"cpu_delay_max_ts": 560, "blkio_delay_max_ts": 576, "irq_delay_max_ts": 672} {
		if o17[name] != [2]int{want, 16} {
			t.Errorf("%s at %v, want %d", name, o17[name], want)
		}
	}
	// Version 15: each max and min after its total, shifting the rest.
	for name, want := range map[string]int{
		"cpu_delay_max": 32, "cpu_delay_min": 40, "blkio_count": 48, "ac_comm": 128,
		"irq_delay_total": 536, "irq_delay_max": 544, "irq_delay_min": 552,
	} {
		if o15[name][0] != want {
			t.Errorf("version 15: %s at %d, want %d", name, o15[name][0], want)
		}
	}
	if _, ok := o16["cpu_delay_max_ts"]; ok {
		t.Error("version 16 has timestamps")
	}
}

// full returns Stats of version v with every field it has set to a
// distinct value.
func full(v uint16) Stats {
	ts := time.Unix(1700000000, 123456789)
	d := func(n uint64) Delay {
		return Delay{Count: n, Total: time.Duration(n) * 1000, Max: time.Duration(n) * 10, Min: time.Duration(n), MaxTime: ts.Add(time.Duration(n))}
	}
	return Stats{
		Version: v, ExitCode: 256, Flags: AcctFork | AcctSU, Nice: -5,
		CPU: d(1), BlockIO: d(2), SwapIn: d(3), FreePages: d(4), Thrashing: d(5), Compact: d(6), WPCopy: d(7), IRQ: d(8),
		CPURunReal: 11, CPURunVirtual: 12, CPUScaledRunReal: 13,
		Comm: "sleep", Sched: SchedBatch, UID: 1000, GID: 100, PID: 42, PPID: 1, TGID: 41,
		BeginTime: time.Unix(1700000000, 0), Elapsed: 5 * time.Second, ThreadGroupElapsed: 6 * time.Second,
		UserTime: 7 * time.Millisecond, SystemTime: 8 * time.Millisecond,
		UserTimeScaled: 9 * time.Millisecond, SystemTimeScaled: 10 * time.Millisecond,
		MinorFaults: 14, MajorFaults: 15, CoreMem: 16, VirtMem: 17, HiwaterRSS: 18, HiwaterVM: 19,
		ReadChars: 20, WriteChars: 21, ReadSyscalls: 22, WriteSyscalls: 23,
		ReadBytes: 24, WriteBytes: 25, CancelledWriteBytes: 26,
		VoluntaryCtxSwitches: 27, InvoluntaryCtxSwitches: 28, ExeDev: 0xfe00, ExeInode: 29,
	}
}

// keep returns s with the fields version v lacks zeroed.
func keep(s Stats, v uint16) Stats {
	clear := func(d *Delay, count bool) {
		if count {
			d.Count, d.Total = 0, 0
		}
		if v < 15 {
			d.Max, d.Min = 0, 0
		}
		if v < 17 {
			d.MaxTime = time.Time{}
		}
	}
	for _, d := range []*Delay{&s.CPU, &s.BlockIO, &s.SwapIn, &s.FreePages} {
		clear(d, false)
	}
	clear(&s.Thrashing, v < 9)
	clear(&s.Compact, v < 11)
	clear(&s.WPCopy, v < 13)
	clear(&s.IRQ, v < 14)
	if v < 12 {
		s.TGID, s.ThreadGroupElapsed, s.ExeDev, s.ExeInode = 0, 0, 0, 0
	}
	return s
}

func TestStatsRoundTrip(t *testing.T) {
	for v := uint16(MinVersion); v <= MaxVersion+1; v++ {
		in := keep(full(v), v)
		b, err := in.MarshalBinary()
		if err != nil {
			t.Fatalf("version %d: %v", v, err)
		}
		if len(b) != Size(v) {
			t.Errorf("version %d: %d bytes, want %d", v, len(b), Size(v))
		}
		var out Stats
		if err := out.UnmarshalBinary(append(b, 0xff, 0xff)); err != nil { // trailing bytes of a newer version
			t.Fatalf("version %d: %v", v, err)
		}
		if !reflect.DeepEqual(out, in) {
			t.Errorf("version %d:\n got %+v\nwant %+v", v, out, in)
		}
	}
}

func TestStatsEncoding(t *testing.T) {
	s := full(16)
	s.Comm = strings.Repeat("x", 40) // cut to 31 bytes and a NUL
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]byte{
		"version":     {16, 0},
		"ac_exitcode": {0, 1, 0, 0},
		"ac_flag":     {3},
		"ac_nice":     {0xfb},
		"ac_comm":     append([]byte(strings.Repeat("x", 31)), 0),
		"ac_sched":    {3},
		"ac_pad":      {0, 0, 0},
		"ac_etime":    {0x40, 0x4b, 0x4c, 0, 0, 0, 0, 0}, // 5 s in µs
		"ac_btime":    {0x00, 0xf1, 0x53, 0x65},
		"ac_btime64":  {0x00, 0xf1, 0x53, 0x65, 0, 0, 0, 0},
	} {
		o := offsets(16)[name]
		if got := b[o[0] : o[0]+o[1]]; !bytes.Equal(got, want) {
			t.Errorf("%s: % x, want % x", name, got, want)
		}
	}
	// Padding the compiler adds (after ac_nice, ac_pad, ac_btime, ac_tgid) stays zero.
	for _, at := range [][2]int{{2, 4}, {10, 16}, {116, 120}, {140, 144}, {372, 376}} {
		if !bytes.Equal(b[at[0]:at[1]], make([]byte, at[1]-at[0])) {
			t.Errorf("padding %v: % x", at, b[at[0]:at[1]])
		}
	}
}

func TestStatsDecodeVersion9BeginTime(t *testing.T) {
	// Before version 10 the begin time is ac_btime, a u32.
	s := keep(full(9), 9)
	b, _ := s.MarshalBinary()
	var out Stats
	if err := out.UnmarshalBinary(b); err != nil || !out.BeginTime.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("begin time %v, %v", out.BeginTime, err)
	}
}

func TestStatsSaturates(t *testing.T) {
	s := full(17)
	b, _ := s.MarshalBinary()
	o := offsets(17)
	put := func(name string, v uint64) { ne.PutUint64(b[o[name][0]:], v) }
	put("cpu_delay_total", math.MaxUint64)
	put("ac_etime", math.MaxUint64)
	put("ac_btime64", math.MaxUint64)
	put("cpu_delay_max_ts", math.MaxUint64) // seconds: negative as s64
	var out Stats
	if err := out.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if out.CPU.Total != math.MaxInt64 || out.Elapsed != time.Duration(maxMicros)*time.Microsecond {
		t.Errorf("durations did not saturate: %v %v", out.CPU.Total, out.Elapsed)
	}
	if out.BeginTime.Unix() != maxUnix || out.CPU.MaxTime.Unix() != 0 {
		t.Errorf("times did not saturate: %v %v", out.BeginTime, out.CPU.MaxTime)
	}
	// What saturated encodes to itself.
	b2, _ := out.MarshalBinary()
	var again Stats
	if err := again.UnmarshalBinary(b2); err != nil || !reflect.DeepEqual(again, out) {
		t.Errorf("saturated values do not round-trip: %v\n%+v\n%+v", err, again, out)
	}
}

func TestStatsErrors(t *testing.T) {
	good, _ := keep(full(16), 16).MarshalBinary()
	v7 := append([]byte(nil), good...)
	v7[0] = 7
	for _, tt := range []struct {
		b    []byte
		want error
	}{
		{nil, ErrShort},
		{[]byte{16}, ErrShort},
		{good[:559], ErrShort},
		{good[:2], ErrShort},
		{v7, ErrVersion},
		{[]byte{0, 0}, ErrVersion},
	} {
		var s Stats
		if err := s.UnmarshalBinary(tt.b); !errors.Is(err, tt.want) {
			t.Errorf("%d bytes: %v, want %v", len(tt.b), err, tt.want)
		}
	}
	if _, err := (&Stats{Version: 7}).MarshalBinary(); !errors.Is(err, ErrVersion) {
		t.Errorf("encode version 7: %v", err)
	}
}

func TestRecord(t *testing.T) {
	for _, r := range []Record{
		{PID: 42, Stats: keep(full(16), 16)},
		{TGID: 41, Stats: keep(full(14), 14)},
	} {
		b, err := r.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		// A NULL pad before the nest and unknown attributes are skipped.
		b = append([]byte{4, 0, typeNull, 0, 8, 0, 99, 0, 1, 2, 3, 4}, b...)
		var out Record
		if err := out.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(out, r) {
			t.Errorf("got %+v\nwant %+v", out, r)
		}
	}
	for _, tt := range []struct {
		b    []byte
		want string
	}{
		{nil, "no statistics"},
		{[]byte{8, 0, typePID, 0, 1, 0, 0, 0}, "no statistics"},
		{[]byte{12, 0, typeAggrPID, 0, 8, 0, typePID, 0, 1, 0, 0, 0}, "no statistics"},
		{[]byte{12, 0, typeAggrPID, 0, 6, 0, typeStats, 0, 16, 0, 0, 0}, "type 4: struct taskstats shorter than its version's layout: version 16 has 560 bytes, got 2"},
		{[]byte{12, 0, typeAggrPID, 0, 7, 0, typePID, 0, 1, 0, 0, 0}, "3 bytes, want 4"},
		{[]byte{12, 0, typeAggrPID, 0, 9, 0}, "malformed attribute"},
	} {
		var r Record
		err := r.UnmarshalBinary(tt.b)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "taskstats: decode record: ") {
			t.Errorf("% x: %v, want an error containing %q", tt.b, err, tt.want)
		}
	}
}

func TestNames(t *testing.T) {
	if s := (AcctFork | AcctXSig | 0x80).String(); s != "fork,xsig,0x80" {
		t.Errorf("flags: %q", s)
	}
	if s := AcctFlags(0).String(); s != "0" {
		t.Errorf("no flags: %q", s)
	}
	if n := AcctFlags(0).Names(); n == nil || len(n) != 0 {
		t.Errorf("no flags: %#v", n)
	}
	for p, want := range map[SchedPolicy]string{SchedNormal: "normal", SchedFIFO: "fifo", SchedDeadline: "deadline", 4: "policy(4)"} {
		if p.String() != want {
			t.Errorf("policy %d: %q, want %q", p, p, want)
		}
	}
	if (Delay{Count: 4, Total: 10}).Average() != 2 || (Delay{Total: 10}).Average() != 0 {
		t.Error("Delay.Average")
	}
	// The kernel's new_encode_dev format, as stat's st_dev.
	maj, minor := Stats{ExeDev: 0xfe01}.ExeDevice()
	if maj != 254 || minor != 1 {
		t.Errorf("0xfe01: %d:%d, want 254:1", maj, minor)
	}
	maj, minor = Stats{ExeDev: (0x1234 & 0xfff << 8) | (0x1234 &^ 0xfff << 32) | (0x56789 & 0xff) | (0x56789 &^ 0xff << 12)}.ExeDevice()
	if maj != 0x1234 || minor != 0x56789 {
		t.Errorf("large numbers: %#x:%#x", maj, minor)
	}
}
