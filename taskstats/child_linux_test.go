//go:build linux

package taskstats_test

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nlkit/nlkit/internal/nstest"
)

// The child runs as nobody, so that its UID and GID differ from the
// test's.
const childID = 65534

// childFile is what the child reads: world-readable, so nobody can.
const childFile = "/etc/passwd"

// stoppedChild starts a shell as user nobody that reads childFile line
// by line and then stops itself (SIGSTOP), and waits until it has
// stopped: from then on its counters do not move. The child is killed
// and reaped when the test ends.
func stoppedChild(t testing.TB) int {
	t.Helper()
	nstest.RequireRoot(t)
	cmd := exec.Command("/bin/sh", "-c", `while read -r l; do :; done < `+childFile+`; kill -STOP $$`)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: childID, Gid: childID}}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	pid := cmd.Process.Pid
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(pid, &ws, unix.WUNTRACED, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			t.Fatalf("wait for child %d to stop: %v", pid, err)
		}
		break
	}
	if !ws.Stopped() {
		t.Fatalf("child %d did not stop: wait status %#x", pid, ws)
	}
	return pid
}

// readProc reads the oracle's files of /proc/PID.
func readProc(t testing.TB, pid int) map[string]string {
	t.Helper()
	files := map[string]string{}
	for _, name := range procFiles {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = string(b)
	}
	return files
}
