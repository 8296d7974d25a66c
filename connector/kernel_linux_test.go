//go:build linux

package connector_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nlkit/nlkit/connector"
	"github.com/nlkit/nlkit/internal/nstest"
	"github.com/nlkit/nlkit/netlink"
)

// These tests run in the host's network namespace, the only one with a
// process connector. They only read: they subscribe, start a child of
// their own and watch it.

func subscribeKernel(t *testing.T, filter connector.ProcEventType) *connector.ProcSubscription {
	t.Helper()
	nstest.RequireRoot(t)
	sub, err := connector.SubscribeProc(ctxT(t), nil, filter)
	if err != nil {
		t.Fatalf("SubscribeProc: %v", err)
	}
	t.Cleanup(func() {
		if err := sub.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return sub
}

// watch runs cmd to its end and returns the events about it, from its
// fork to its exit, read from sub. Other processes' events are skipped.
func watch(t *testing.T, sub *connector.ProcSubscription, cmd *exec.Cmd) (pid int, evs []connector.ProcEvent) {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid = cmd.Process.Pid
	_ = cmd.Wait() // the exit status is checked from the events
	for ev, err := range sub.Events(ctxT(t)) {
		if err != nil {
			t.Fatalf("events: %v", err)
		}
		if ev.Lost {
			t.Fatal("events were lost (receive buffer overrun): the machine is too busy for this test")
		}
		if ev.PID() != pid {
			continue
		}
		evs = append(evs, ev)
		if ev.Exit != nil && ev.Exit.TGID == pid {
			return pid, evs
		}
	}
	t.Fatal("event stream ended")
	return 0, nil
}

func find(evs []connector.ProcEvent, what connector.ProcEventType) []connector.ProcEvent {
	var out []connector.ProcEvent
	for _, ev := range evs {
		if ev.What == what {
			out = append(out, ev)
		}
	}
	return out
}

func TestKernelProcEvents(t *testing.T) {
	sub := subscribeKernel(t, 0)
	// A child that starts a session, drops to nobody, execs a shell that
	// renames itself and exits with 3: fork, sid, gid, uid, exec, comm,
	// exit, all about one PID.
	cmd := exec.Command("/bin/sh", "-c", "printf nlkit-proc > /proc/self/comm; exit 3")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	pid, evs := watch(t, sub, cmd)
	if cmd.ProcessState.ExitCode() != 3 {
		t.Fatalf("child exited with %v", cmd.ProcessState)
	}
	if evs[0].Fork == nil || evs[0].Fork.ChildTGID != pid || evs[0].Fork.ParentTGID != os.Getpid() {
		t.Errorf("first event %+v (fork %+v), want the fork of %d by %d", evs[0], evs[0].Fork, pid, os.Getpid())
	}
	if sids := find(evs, connector.ProcEventSID); len(sids) != 1 || sids[0].SID.TGID != pid {
		t.Errorf("sid events %+v", sids)
	}
	gids, uids := find(evs, connector.ProcEventGID), find(evs, connector.ProcEventUID)
	if len(gids) == 0 || gids[len(gids)-1].GID.Real != 65534 || gids[len(gids)-1].GID.Effective != 65534 {
		t.Errorf("gid events %+v, want one to 65534", gids)
	}
	if len(uids) == 0 || uids[len(uids)-1].UID.Real != 65534 || uids[len(uids)-1].UID.Effective != 65534 {
		t.Errorf("uid events %+v, want one to 65534", uids)
	}
	if execs := find(evs, connector.ProcEventExec); len(execs) != 1 || execs[0].Exec.TGID != pid {
		t.Errorf("exec events %+v", execs)
	}
	if comms := find(evs, connector.ProcEventComm); len(comms) != 1 || comms[0].Comm.Comm != "nlkit-proc" {
		t.Errorf("comm events %+v, want one naming nlkit-proc", comms)
	}
	last := evs[len(evs)-1].Exit
	if last.Status() != 3 || last.Signal() != 0 || last.CoreDumped() || last.ExitSignal != int32(syscall.SIGCHLD) || last.ParentTGID != os.Getpid() {
		t.Errorf("exit %+v: status %d, signal %v; want status 3 to %d with SIGCHLD", last, last.Status(), last.Signal(), os.Getpid())
	}
	// Events are in time order.
	for i := 1; i < len(evs); i++ {
		if evs[i].Timestamp < evs[i-1].Timestamp {
			t.Errorf("event %d (%v) is older than event %d (%v)", i, evs[i].What, i-1, evs[i-1].What)
		}
	}

	// Killed by a signal: the exit says which.
	_, evs = watch(t, sub, exec.Command("/bin/sh", "-c", "kill -KILL $$"))
	if x := evs[len(evs)-1].Exit; x.Signal() != connector.Signal(syscall.SIGKILL) || x.Status() != 0 {
		t.Errorf("exit %+v: signal %v, want SIGKILL", x, x.Signal())
	}
}

// With a filter (Linux 6.6), the kernel itself sends only the chosen
// events: here exits with a non-zero code. The socket is read raw, below
// the subscription's own filtering: of the two children started after
// the subscription, only the exit of the one that fails may arrive.
func TestKernelProcFilter(t *testing.T) {
	if !kernelAtLeast(t, 6, 6) {
		t.Skip("event filters need Linux 6.6")
	}
	sub := subscribeKernel(t, connector.ProcEventNonzeroExit)
	quiet := exec.Command("/bin/sh", "-c", "exit 0")
	if err := quiet.Run(); err != nil {
		t.Fatal(err)
	}
	loud := exec.Command("/bin/sh", "-c", "exit 4")
	if err := loud.Run(); err == nil {
		t.Fatal("exit 4 succeeded")
	}
	for m, err := range sub.Conn().Messages(ctxT(t)) {
		if errors.Is(err, netlink.ErrOverrun) {
			t.Fatal("events were lost (receive buffer overrun): the machine is too busy for this test")
		}
		if err != nil {
			t.Fatal(err)
		}
		ev, ok, err := connector.ParseProcEvent(m)
		if err != nil || !ok {
			t.Fatalf("message %+v: %v", m, err)
		}
		switch ev.PID() {
		case quiet.Process.Pid:
			t.Fatalf("the kernel sent an event of the child that exited with 0: %v %+v", ev.What, ev)
		case loud.Process.Pid:
			if ev.Exit == nil || ev.Exit.Status() != 4 {
				t.Fatalf("the kernel sent %v %+v, want only the exit with status 4", ev.What, ev)
			}
			return
		}
	}
}

// The connector lives in the initial network namespace only.
func TestKernelProcOtherNamespace(t *testing.T) {
	ns := nstest.New(t)
	_, err := connector.SubscribeProc(ctxT(t), &netlink.Config{NetNS: ns.Name}, 0)
	if !errors.Is(err, connector.ErrUnavailable) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("error %v, want ErrUnavailable with ECONNREFUSED", err)
	}
	if !strings.Contains(err.Error(), "initial network namespace") {
		t.Fatalf("error %q does not say why", err)
	}
}

// kernelAtLeast reports whether the running kernel is major.minor or newer.
func kernelAtLeast(t *testing.T, major, minor int) bool {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatal(err)
	}
	rel := unix.ByteSliceToString(u.Release[:])
	parts := strings.SplitN(rel, ".", 3)
	if len(parts) < 2 {
		t.Fatalf("kernel release %q", rel)
	}
	ma, _ := strconv.Atoi(parts[0])
	mi, _ := strconv.Atoi(strings.TrimFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	return ma > major || ma == major && mi >= minor
}

// withoutCap runs fn on a thread whose effective capabilities lack cap.
// Capabilities are per thread, and netlink checks the sender's, so this
// is an unprivileged caller without leaving the test process. If the
// capability cannot be restored, the thread is left locked and dies with
// its goroutine.
func withoutCap(t *testing.T, capability uint, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			t.Errorf("capget: %v", err)
			return
		}
		saved := data
		data[capability/32].Effective &^= 1 << (capability % 32)
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			t.Errorf("capset: %v", err)
			return
		}
		fn()
		if err := unix.Capset(&hdr, &saved[0]); err != nil {
			t.Errorf("restore capabilities: %v", err)
			return // the thread stays locked and is destroyed
		}
		runtime.UnlockOSThread()
	}()
	<-done
}

// Since Linux 6.6 any user may subscribe to process events; before, the
// group needed CAP_NET_ADMIN.
func TestKernelProcUnprivileged(t *testing.T) {
	nstest.RequireRoot(t)
	var err error
	var sub *connector.ProcSubscription
	withoutCap(t, unix.CAP_NET_ADMIN, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		sub, err = connector.SubscribeProc(ctx, nil, 0)
	})
	if kernelAtLeast(t, 6, 6) {
		if err != nil {
			t.Fatalf("without CAP_NET_ADMIN on Linux 6.6+: %v", err)
		}
		sub.Close()
		return
	}
	if !errors.Is(err, syscall.EPERM) {
		t.Fatalf("without CAP_NET_ADMIN before Linux 6.6: %v, want EPERM", err)
	}
}
