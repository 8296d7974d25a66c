//go:build linux

package connector_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nlkit/nlkit/connector"
)

// captured describes the child whose events testdata/proc_events.bin
// holds, as the capturing test knew it independently of the events.
type captured struct {
	PID        int    `json:"pid"`
	ParentTGID int    `json:"parent_tgid"`
	Status     int    `json:"status"`
	Comm       string `json:"comm"`
	UID        uint32 `json:"uid"`
	GID        uint32 `json:"gid"`
}

// TestCaptureProcEvents regenerates testdata/ from this machine's kernel:
// the raw netlink messages of every process event about one child (as
// in TestKernelProcEvents), what the child was, and the kernel's name.
// It runs only with NLKIT_CONNECTOR_CAPTURE=1:
//
//	NLKIT_CONNECTOR_CAPTURE=1 go test -run TestCaptureProcEvents ./connector
func TestCaptureProcEvents(t *testing.T) {
	if os.Getenv("NLKIT_CONNECTOR_CAPTURE") != "1" {
		t.Skip("set NLKIT_CONNECTOR_CAPTURE=1 to regenerate testdata/ from this kernel")
	}
	sub := subscribeKernel(t, 0)
	cmd := exec.Command("/bin/sh", "-c", "printf nlkit-proc > /proc/self/comm; exit 3")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	_ = cmd.Wait()
	var raw []byte
	for m, err := range sub.Conn().Messages(ctxT(t)) {
		if err != nil {
			t.Fatal(err)
		}
		ev, ok, err := connector.ParseProcEvent(m)
		if err != nil || !ok || ev.PID() != pid {
			continue
		}
		if raw, err = m.AppendBinary(raw); err != nil {
			t.Fatal(err)
		}
		if ev.Exit != nil && ev.Exit.TGID == pid {
			break
		}
	}
	desc, _ := json.MarshalIndent(captured{PID: pid, ParentTGID: os.Getpid(), Status: 3, Comm: "nlkit-proc", UID: 65534, GID: 65534}, "", "  ")
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatal(err)
	}
	kernel := "Linux " + unix.ByteSliceToString(u.Release[:]) + " " + unix.ByteSliceToString(u.Machine[:]) + "\n"
	for name, b := range map[string][]byte{"proc_events.bin": raw, "proc_events.json": append(desc, '\n'), "KERNEL": []byte(kernel)} {
		if err := os.WriteFile(filepath.Join("testdata", name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
