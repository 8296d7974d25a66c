//go:build linux

package taskstats_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nlkit/nlkit/internal/nstest"
	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/taskstats"
)

func dialKernel(t *testing.T, cfg *netlink.Config) *taskstats.Client {
	t.Helper()
	nstest.RequireRoot(t)
	c, err := taskstats.Dial(ctxT(t), cfg)
	if err != nil {
		t.Fatal(err) // CONFIG_TASKSTATS is on in every distribution kernel
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestTaskKernel asks for the statistics of a child the test started
// and stopped, and compares them with /proc/PID and with what the test
// knows of the child.
func TestTaskKernel(t *testing.T) {
	start := time.Now()
	c := dialKernel(t, nil)
	pid := stoppedChild(t)
	st, err := c.Task(ctxT(t), uint32(pid))
	if err != nil {
		t.Fatal(err)
	}
	compareProc(t, st, mustParse(t, readProc(t, pid)))
	if st.Version < 13 {
		t.Errorf("struct taskstats version %d; this kernel (6.18) sends 16", st.Version)
	}
	if st.PID != uint32(pid) || st.TGID != uint32(pid) || st.PPID != uint32(os.Getpid()) {
		t.Errorf("pid %d tgid %d ppid %d; want %d %d %d", st.PID, st.TGID, st.PPID, pid, pid, os.Getpid())
	}
	if st.Comm != "sh" || st.UID != childID || st.GID != childID {
		t.Errorf("comm %q uid %d gid %d; want sh, %d, %d", st.Comm, st.UID, st.GID, childID, childID)
	}
	fi, err := os.Stat(childFile)
	if err != nil {
		t.Fatal(err)
	}
	if st.ReadChars < uint64(fi.Size())&^1023 || st.ReadSyscalls < uint64(fi.Size())&^1023 {
		t.Errorf("the child read %s (%d bytes) a byte at a time; read_char %d, read_syscalls %d", childFile, fi.Size(), st.ReadChars, st.ReadSyscalls)
	}
	if st.UserTime < 0 || st.SystemTime < 0 || st.CPURunVirtual <= 0 || st.Elapsed <= 0 {
		t.Errorf("times: user %v system %v run %v elapsed %v", st.UserTime, st.SystemTime, st.CPURunVirtual, st.Elapsed)
	}
	// The executable: the inode and device stat gives for /proc/PID/exe.
	var exe unix.Stat_t
	if err := unix.Stat(fmt.Sprintf("/proc/%d/exe", pid), &exe); err != nil {
		t.Fatal(err)
	}
	if st.ExeInode != exe.Ino || st.ExeDev != exe.Dev {
		t.Errorf("exe dev %#x inode %d; stat says %#x %d", st.ExeDev, st.ExeInode, exe.Dev, exe.Ino)
	}
	maj, minor := st.ExeDevice()
	if maj != unix.Major(exe.Dev) || minor != unix.Minor(exe.Dev) {
		t.Errorf("exe device %d:%d, stat %d:%d", maj, minor, unix.Major(exe.Dev), unix.Minor(exe.Dev))
	}
	// Whole seconds, from the boot-time clock: allow for both.
	if st.BeginTime.Before(start.Add(-2*time.Second)) || st.BeginTime.After(time.Now().Add(2*time.Second)) {
		t.Errorf("begin time %v, the child started after %v", st.BeginTime, start)
	}
	// Delay accounting: CPU delays are the scheduler's, always kept; the
	// others only with kernel.task_delayacct=1 (off on this machine; the
	// test does not turn it on, a system-wide setting).
	on, err := taskstats.DelayAccounting()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("delay accounting on: %v; blkio %+v", on, st.BlockIO)
	if st.CPU.Count == 0 || (st.Version >= 16 && st.CPU.Max < st.CPU.Min) {
		t.Errorf("CPU delays %+v", st.CPU)
	}
}

func mustParse(t *testing.T, files map[string]string) procSnapshot {
	t.Helper()
	p, err := parseProc(files)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestThreadGroupKernel(t *testing.T) {
	c := dialKernel(t, nil)
	pid := stoppedChild(t)
	st, err := c.ThreadGroup(ctxT(t), uint32(pid))
	if err != nil {
		t.Fatal(err)
	}
	p := mustParse(t, readProc(t, pid))
	if st.CPURunVirtual != p.runtime || st.VoluntaryCtxSwitches != p.nvcsw || st.InvoluntaryCtxSwitches != p.nivcsw || st.CPU.Count != p.pcount {
		t.Errorf("one thread's group: %+v, /proc %+v", st, p)
	}
	if st.Comm != "" || st.PID != 0 {
		t.Errorf("thread group record with comm %q pid %d", st.Comm, st.PID)
	}
}

func TestNoProcessKernel(t *testing.T) {
	c := dialKernel(t, nil)
	_, err := c.Task(ctxT(t), nosuchPID)
	if !errors.Is(err, taskstats.ErrNoProcess) || !errors.Is(err, syscall.ESRCH) || err.Error() != "taskstats: no process with pid 4194304" {
		t.Fatalf("Task(%d): %v", nosuchPID, err)
	}
	_, err = c.ThreadGroup(ctxT(t), nosuchPID)
	if !errors.Is(err, taskstats.ErrNoProcess) {
		t.Fatalf("ThreadGroup(%d): %v", nosuchPID, err)
	}
}

// withoutCapabilities runs fn on an OS thread whose capabilities are
// all dropped, as an unprivileged caller's. The thread is never handed
// back to the scheduler: it ends with fn's goroutine.
func withoutCapabilities(t *testing.T, fn func()) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // not unlocked: the thread dies with the goroutine
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			done <- err
			return
		}
		fn()
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatalf("drop capabilities: %v", err)
	}
}

// TASKSTATS_CMD_GET is GENL_ADMIN_PERM: without CAP_NET_ADMIN the kernel
// refuses it (resolving the family still works).
func TestUnprivilegedKernel(t *testing.T) {
	nstest.RequireRoot(t)
	ctx := ctxT(t)
	var err error
	withoutCapabilities(t, func() {
		var c *taskstats.Client
		c, err = taskstats.Dial(ctx, nil)
		if err != nil {
			err = fmt.Errorf("dial: %w", err)
			return
		}
		defer c.Close()
		_, err = c.Task(ctx, uint32(os.Getpid()))
	})
	if !errors.Is(err, syscall.EPERM) {
		t.Fatalf("Task without CAP_NET_ADMIN: %v, want EPERM", err)
	}
	want := fmt.Sprintf("taskstats: stats of pid %d: netlink execute: operation not permitted", os.Getpid())
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

// The family exists in every network namespace; PIDs are the sender's.
func TestOtherNetNSKernel(t *testing.T) {
	ns := nstest.New(t)
	c := dialKernel(t, &netlink.Config{NetNS: ns.Name})
	st, err := c.Task(context.Background(), uint32(os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	if st.PID != uint32(os.Getpid()) {
		t.Errorf("pid %d, want %d", st.PID, os.Getpid())
	}
}
