//go:build linux

package taskstats_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/nlkit/nlkit/genl"
	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/taskstats"
)

// captureExchange sends one TASKSTATS_CMD_GET (attribute attr = id) with
// NLM_F_ACK and returns every message the kernel answered with, up to
// and including the NLMSG_ERROR that ends it.
func captureExchange(t *testing.T, c *netlink.Conn, family uint16, attr uint16, id uint32) []netlink.Message {
	t.Helper()
	var e netlink.AttributeEncoder
	e.Uint32(attr, id)
	attrs, _ := e.Encode()
	data := append([]byte{1, taskstats.FamilyVersion, 0, 0}, attrs...) // TASKSTATS_CMD_GET
	sent, err := c.Send(netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(family), Flags: netlink.Request | netlink.Acknowledge},
		Data:   data,
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []netlink.Message
	for len(got) == 0 || got[len(got)-1].Header.Type != netlink.Error {
		msgs, err := c.Receive(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if m.Header.Sequence == sent.Header.Sequence {
				m.Data = append([]byte(nil), m.Data...)
				got = append(got, m)
			}
		}
	}
	return got
}

// TestCaptureTaskstats regenerates testdata/ from this machine's kernel:
// the replies to TASKSTATS_CMD_GET for a stopped child (by PID and by
// TGID) and for a PID no task has, with the child's /proc files read at
// the same moment. It runs only with NLKIT_TASKSTATS_CAPTURE=1, as root:
//
//	NLKIT_TASKSTATS_CAPTURE=1 go test -run TestCaptureTaskstats ./taskstats
func TestCaptureTaskstats(t *testing.T) {
	if os.Getenv("NLKIT_TASKSTATS_CAPTURE") != "1" {
		t.Skip("set NLKIT_TASKSTATS_CAPTURE=1 to regenerate testdata/ from this kernel")
	}
	ctx := context.Background()
	g, err := genl.Dial(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	f, err := g.Family(ctx, taskstats.FamilyName)
	if err != nil {
		t.Fatal(err)
	}
	c, err := netlink.Dial(netlink.Generic, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	pid := stoppedChild(t)
	save := func(name string, msgs []netlink.Message) {
		var b []byte
		for _, m := range msgs {
			if b, err = m.AppendBinary(b); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join("testdata", name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	save("task.bin", captureExchange(t, c, f.ID, 1, uint32(pid))) // TASKSTATS_CMD_ATTR_PID
	save("tgid.bin", captureExchange(t, c, f.ID, 2, uint32(pid))) // TASKSTATS_CMD_ATTR_TGID
	save("nosuch.bin", captureExchange(t, c, f.ID, 1, nosuchPID))
	files := readProc(t, pid)
	text := "pid " + strconv.Itoa(pid) + "\n"
	for _, name := range procFiles {
		text += "==> " + name + " <==\n" + files[name]
	}
	if err := os.WriteFile(filepath.Join("testdata", "proc.txt"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	uname, _ := exec.Command("uname", "-srm").Output()
	if err := os.WriteFile(filepath.Join("testdata", "KERNEL"), uname, 0o644); err != nil {
		t.Fatal(err)
	}
}
