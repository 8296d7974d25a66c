//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nlkit/nlkit/internal/nstest"
)

// stoppedShell starts `sh` as user nobody (65534:65534) that stops
// itself, waits until it has stopped, and returns its PID; it is killed
// when the test ends.
func stoppedShell(t *testing.T) int {
	t.Helper()
	nstest.RequireRoot(t)
	cmd := exec.Command("/bin/sh", "-c", `kill -STOP $$`)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(cmd.Process.Pid, &ws, unix.WUNTRACED, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil || !ws.Stopped() {
			t.Fatalf("wait for the child to stop: %v, status %#x", err, ws)
		}
		return cmd.Process.Pid
	}
}

func TestTaskstatsJSON(t *testing.T) {
	pid := stoppedShell(t)
	out, errOut, code := nlkit(t, "-j", "taskstats", strconv.Itoa(pid))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not a JSON object: %v\n%s", err, out)
	}
	for k, v := range map[string]any{
		"ac_pid": float64(pid), "ac_tgid": float64(pid), "ac_ppid": float64(os.Getpid()),
		"ac_comm": "sh", "ac_uid": 65534.0, "ac_gid": 65534.0, "ac_sched": "normal", "version": 16.0,
	} {
		if got[k] != v {
			t.Errorf("%s: %#v, want %#v", k, got[k], v)
		}
	}
	// struct taskstats version 16 has 72 members; nlkit prints every
	// one but the padding (ac_pad).
	if len(got) != 71 {
		t.Errorf("%d members, want 71: %s", len(got), out)
	}
	if got["cpu_run_virtual_total"].(float64) <= 0 || got["hiwater_vm"].(float64) <= 0 {
		t.Errorf("zero counters: %s", out)
	}
	// The thread group: sums only; identity fields are zero.
	out, errOut, code = nlkit(t, "-j", "taskstats", "--tgid", strconv.Itoa(pid))
	if code != 0 {
		t.Fatalf("--tgid: exit %d: %s", code, errOut)
	}
	var tg map[string]any
	if err := json.Unmarshal([]byte(out), &tg); err != nil {
		t.Fatal(err)
	}
	if tg["ac_pid"] != 0.0 || tg["ac_comm"] != "" || tg["cpu_run_virtual_total"] != got["cpu_run_virtual_total"] || tg["nvcsw"] != got["nvcsw"] {
		t.Errorf("thread group %v\ntask %v", tg, got)
	}
}

func TestTaskstatsText(t *testing.T) {
	pid := stoppedShell(t)
	out, errOut, code := nlkit(t, "taskstats", strconv.Itoa(pid))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	first := fmt.Sprintf("pid %d (sh) tgid %d ppid %d uid 65534 gid 65534\n", pid, pid, os.Getpid())
	if !strings.HasPrefix(out, first) {
		t.Errorf("first line:\n%s\nwant %q", out, first)
	}
	lines := strings.Split(out, "\n")
	var table []string
	for i, l := range lines {
		if strings.HasPrefix(l, "DELAY ") {
			table = lines[i : i+9]
		}
	}
	if len(table) != 9 || strings.Join(strings.Fields(table[0]), " ") != "DELAY COUNT TOTAL AVERAGE MAX MIN" {
		t.Fatalf("delay table:\n%s", out)
	}
	for i, name := range []string{"cpu", "blkio", "swapin", "freepages", "thrashing", "compact", "wpcopy", "irq"} {
		if f := strings.Fields(table[i+1]); len(f) != 6 || f[0] != name {
			t.Errorf("row %d: %q", i, table[i+1])
		}
	}
	// Columns are aligned.
	col := strings.Index(table[0], "COUNT")
	for _, r := range table[1:] {
		if r[col-1] != ' ' || r[col] == ' ' {
			t.Errorf("misaligned row %q", r)
		}
	}
}

func TestTaskstatsErrors(t *testing.T) {
	nstest.RequireRoot(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"taskstats", "4194304"}, "nlkit: taskstats: no process with pid 4194304\n"},
		{[]string{"-j", "taskstats", "--tgid", "4194304"}, "nlkit: taskstats: no process with tgid 4194304\n"},
		{[]string{"taskstats"}, "nlkit: taskstats: missing PID (usage: nlkit taskstats [--tgid] PID [flags])\n"},
		{[]string{"taskstats", "self"}, "nlkit: taskstats: bad PID \"self\": want a process ID, a number from 1\n"},
		{[]string{"taskstats", "0"}, "nlkit: taskstats: bad PID \"0\": want a process ID, a number from 1\n"},
		{[]string{"taskstats", "--", "-1"}, "nlkit: taskstats: bad PID \"-1\": want a process ID, a number from 1\n"},
		{[]string{"taskstats", "1", "2"}, "nlkit: taskstats: unknown argument \"2\" (see nlkit taskstats --help)\n"},
		{[]string{"taskstats", "--pid", "1"}, "nlkit: unknown flag: --pid\n"},
	} {
		out, errOut, code := nlkit(t, tt.args...)
		if code != 1 || out != "" || errOut != tt.want {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want %q", tt.args, code, out, errOut, tt.want)
		}
	}
}

// Without CAP_NET_ADMIN the kernel refuses TASKSTATS_CMD_GET; nlkit says
// what is needed.
func TestTaskstatsUnprivileged(t *testing.T) {
	nstest.RequireRoot(t)
	var out, errOut bytes.Buffer
	code := make(chan int, 1)
	go func() {
		runtime.LockOSThread() // not unlocked: the thread dies with the goroutine
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			fmt.Fprintf(&errOut, "capset: %v", err)
			code <- -1
			return
		}
		code <- run([]string{"taskstats", strconv.Itoa(os.Getpid())}, &out, &errOut)
	}()
	c := <-code
	want := fmt.Sprintf("nlkit: taskstats: stats of pid %d: operation not permitted (this needs root or CAP_NET_ADMIN)\n", os.Getpid())
	if c != 1 || out.Len() != 0 || errOut.String() != want {
		t.Errorf("exit %d, stdout %q, stderr %q; want %q", c, out.String(), errOut.String(), want)
	}
}
