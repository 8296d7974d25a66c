package taskstats_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nlkit/nlkit/genl"
	"github.com/nlkit/nlkit/genl/genltest"
	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/nltest"
	"github.com/nlkit/nlkit/taskstats"
)

// The golden files in testdata/ were captured from the kernel named in
// testdata/KERNEL by TestCaptureTaskstats (NLKIT_TASKSTATS_CAPTURE=1):
//
//	task.bin    TASKSTATS_CMD_GET by PID of a stopped child: reply and ack
//	tgid.bin    the same by TGID
//	nosuch.bin  TASKSTATS_CMD_GET of PID 4194304: ESRCH
//	proc.txt    the child's PID and /proc/PID/{stat,status,io,schedstat}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func readMessages(t testing.TB, name string) []netlink.Message {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := netlink.ParseMessages(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return msgs
}

// capturedProc returns the captured child's PID and its /proc snapshot.
func capturedProc(t testing.TB) (uint32, procSnapshot) {
	t.Helper()
	b, err := os.ReadFile("testdata/proc.txt")
	if err != nil {
		t.Fatal(err)
	}
	head, rest, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.ParseUint(strings.TrimPrefix(head, "pid "), 10, 32)
	if err != nil {
		t.Fatalf("proc.txt: %q: %v", head, err)
	}
	files := map[string]string{}
	parts := strings.Split(rest, "==> ")
	for _, p := range parts[1:] {
		name, content, _ := strings.Cut(p, " <==\n")
		files[name] = content
	}
	snap, err := parseProc(files)
	if err != nil {
		t.Fatalf("proc.txt: %v", err)
	}
	return uint32(pid), snap
}

// fakeKernel is the TASKSTATS family on a fake generic netlink kernel,
// answering with the captured replies: by PID or TGID for the captured
// child, ESRCH (with the captured error) for anything else, EPERM for
// the PIDs in eperm.
type fakeKernel struct {
	k        *genltest.Kernel
	requests [][]byte // the attributes of each request, in order
}

func newFakeKernel(t *testing.T, eperm ...uint32) *fakeKernel {
	t.Helper()
	pid, _ := capturedProc(t)
	replies := map[[2]uint32][]netlink.Message{
		{1, pid}: readMessages(t, "task.bin"),
		{2, pid}: readMessages(t, "tgid.bin"),
	}
	nosuch := readMessages(t, "nosuch.bin")
	esrch, err := netlink.ParseAck(nosuch[0].Header.Flags, nosuch[0].Data)
	if err != nil || esrch.Errno != syscall.ESRCH {
		t.Fatalf("nosuch.bin: %v %v", esrch, err)
	}
	fk := &fakeKernel{k: genltest.New()}
	fk.k.Register(genl.Family{
		Name: taskstats.FamilyName, Version: taskstats.FamilyVersion, MaxAttr: 4,
		Ops: []genl.Op{
			{ID: 1, Flags: genl.OpAdminPerm | genl.OpCapDo | genl.OpCapHasPolicy},
			{ID: 4, Flags: genl.OpCapDo | genl.OpCapHasPolicy},
		},
	}, func(r *genltest.Request) error {
		fk.requests = append(fk.requests, append([]byte(nil), r.Message.Data...))
		var key [2]uint32
		d := netlink.NewAttributeDecoder(r.Message.Data)
		for d.Next() {
			key = [2]uint32{uint32(d.Type()), d.Uint32()}
		}
		if d.Err() != nil {
			return syscall.EINVAL
		}
		for _, p := range eperm {
			if key[1] == p {
				return syscall.EPERM
			}
		}
		msgs, ok := replies[key]
		if !ok {
			return &nltest.Error{Errno: esrch.Errno, Message: esrch.Message}
		}
		var out []genl.Message
		for _, m := range msgs {
			if m.Header.Type == netlink.Error {
				continue // the fake sends its own ack
			}
			gm, err := genl.ParseMessage(m)
			if err != nil {
				return err
			}
			gm.Netlink = netlink.Header{} // the fake fills in this request's
			out = append(out, gm)
		}
		return r.Reply(out...)
	})
	return fk
}

func (fk *fakeKernel) client(t *testing.T) *taskstats.Client {
	t.Helper()
	g, err := fk.k.Dial(nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := taskstats.NewClient(ctxT(t), g)
	if err != nil {
		g.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestTaskCaptured(t *testing.T) {
	pid, snap := capturedProc(t)
	fk := newFakeKernel(t)
	c := fk.client(t)
	st, err := c.Task(ctxT(t), pid)
	if err != nil {
		t.Fatal(err)
	}
	compareProc(t, st, snap)
	if st.Version != 16 || st.Comm != "sh" || st.UID != 65534 || st.GID != 65534 || st.Sched != taskstats.SchedNormal {
		t.Errorf("stats: %+v", st)
	}
	if st.ReadChars < 1000 || st.ReadSyscalls < 1000 {
		t.Errorf("the child read /etc/passwd byte by byte, yet read_char %d, read_syscalls %d", st.ReadChars, st.ReadSyscalls)
	}
	if st.BeginTime.IsZero() || st.Elapsed <= 0 || st.CPURunVirtual <= 0 || st.HiwaterRSS == 0 || st.ExeInode == 0 {
		t.Errorf("zero where the kernel sent values: %+v", st)
	}
	// The request: TASKSTATS_CMD_ATTR_PID, a u32.
	want := []byte{8, 0, 1, 0, 0, 0, 0, 0}
	binary.NativeEndian.PutUint32(want[4:], pid)
	if len(fk.requests) != 1 || !bytes.Equal(fk.requests[0], want) {
		t.Errorf("request attributes %x, want %x", fk.requests, want)
	}
}

func TestThreadGroupCaptured(t *testing.T) {
	pid, snap := capturedProc(t)
	c := newFakeKernel(t).client(t)
	st, err := c.ThreadGroup(ctxT(t), pid)
	if err != nil {
		t.Fatal(err)
	}
	// One thread: the sums are the thread's; identity and I/O are empty.
	if st.CPURunVirtual != snap.runtime || st.CPU.Count != snap.pcount || st.CPU.Total != snap.runDelay ||
		st.VoluntaryCtxSwitches != snap.nvcsw || st.InvoluntaryCtxSwitches != snap.nivcsw {
		t.Errorf("thread group sums %+v, /proc %+v", st, snap)
	}
	if st.PID != 0 || st.Comm != "" || st.ReadChars != 0 || st.Elapsed <= 0 {
		t.Errorf("thread group stats: %+v", st)
	}
}

func TestNoProcessCaptured(t *testing.T) {
	c := newFakeKernel(t).client(t)
	for _, tt := range []struct {
		get  func(context.Context, uint32) (*taskstats.Stats, error)
		want string
	}{
		{c.Task, "taskstats: no process with pid 4194304"},
		{c.ThreadGroup, "taskstats: no process with tgid 4194304"},
	} {
		_, err := tt.get(ctxT(t), nosuchPID)
		if !errors.Is(err, taskstats.ErrNoProcess) || !errors.Is(err, syscall.ESRCH) {
			t.Errorf("error %v does not match ErrNoProcess and ESRCH", err)
		}
		var op *netlink.OpError
		if !errors.As(err, &op) {
			t.Errorf("kernel error lost: %#v", err)
		}
		if err == nil || err.Error() != tt.want {
			t.Errorf("error %q, want %q", err, tt.want)
		}
	}
}

func TestPermissionDenied(t *testing.T) {
	c := newFakeKernel(t, 1).client(t)
	_, err := c.Task(ctxT(t), 1)
	if !errors.Is(err, syscall.EPERM) || errors.Is(err, taskstats.ErrNoProcess) {
		t.Fatalf("error %v, want EPERM", err)
	}
	if want := "taskstats: stats of pid 1: "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q, want prefix %q", err, want)
	}
}

func TestNotSupported(t *testing.T) {
	g, err := genltest.New().Dial(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	_, err = taskstats.NewClient(ctxT(t), g)
	if !errors.Is(err, taskstats.ErrNotSupported) || !errors.Is(err, genl.ErrFamilyNotFound) || !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("NewClient without the family: %v", err)
	}
}

// A reply for another task than the one asked for is refused.
func TestWrongRecord(t *testing.T) {
	k := genltest.New()
	k.Register(genl.Family{Name: taskstats.FamilyName, Version: 1}, func(r *genltest.Request) error {
		rec := taskstats.Record{PID: 7, Stats: taskstats.Stats{Version: 16}}
		b, err := rec.MarshalBinary()
		if err != nil {
			return err
		}
		m := genl.Message{Header: genl.Header{Command: 2, Version: 1}, Data: b}
		d := netlink.NewAttributeDecoder(r.Message.Data)
		if d.Next() && d.Type() == 2 { // TASKSTATS_CMD_ATTR_TGID: two records
			return r.Reply(m, m)
		}
		return r.Reply(m)
	})
	g, _ := k.Dial(nil)
	c, err := taskstats.NewClient(ctxT(t), g)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Task(ctxT(t), 8); err == nil || !strings.Contains(err.Error(), "kernel answered for pid 7") {
		t.Errorf("Task(8) answered for 7: %v", err)
	}
	if _, err := c.Task(ctxT(t), 7); err != nil {
		t.Errorf("Task(7): %v", err)
	}
	if _, err := c.ThreadGroup(ctxT(t), 7); err == nil || !strings.Contains(err.Error(), "kernel sent 2 records") {
		t.Errorf("ThreadGroup(7) with two records: %v", err)
	}
}

// The captured replies re-encode to the kernel's bytes: Record and Stats
// encode byte for byte as mk_reply and fill_stats do.
func TestRecordMarshalMatchesKernel(t *testing.T) {
	for _, name := range []string{"task.bin", "tgid.bin"} {
		msgs := readMessages(t, name)
		if len(msgs) != 2 || msgs[1].Header.Type != netlink.Error {
			t.Fatalf("%s: want a reply and an ack, got %+v", name, msgs)
		}
		gm, err := genl.ParseMessage(msgs[0])
		if err != nil {
			t.Fatal(err)
		}
		if gm.Header.Command != 2 || gm.Header.Version != 1 {
			t.Errorf("%s: genl header %+v, want TASKSTATS_CMD_NEW version 1", name, gm.Header)
		}
		var r taskstats.Record
		if err := r.UnmarshalBinary(gm.Data); err != nil {
			t.Fatal(err)
		}
		b, err := r.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, gm.Data) {
			t.Errorf("%s: encoding differs from the kernel's\n got %x\nwant %x", name, b, gm.Data)
		}
		// AGGR header, PID or TGID attribute, STATS header, struct.
		if want := 4 + 8 + 4 + taskstats.Size(16); len(gm.Data) != want {
			t.Errorf("%s: %d bytes of attributes, want %d", name, len(gm.Data), want)
		}
	}
}
