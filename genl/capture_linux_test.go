//go:build linux

package genl_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/nlkit/nlkit/netlink"
)

// TestCaptureController regenerates the golden files in testdata/ from
// this machine's kernel: the raw messages of a controller dump and of
// get-by-name requests, and `genl ctrl list` printed at the same moment.
// It runs only with NLKIT_GENL_CAPTURE=1:
//
//	NLKIT_GENL_CAPTURE=1 go test -run TestCaptureController ./genl
func TestCaptureController(t *testing.T) {
	if os.Getenv("NLKIT_GENL_CAPTURE") != "1" {
		t.Skip("set NLKIT_GENL_CAPTURE=1 to regenerate testdata/ from this kernel")
	}
	c, err := netlink.Dial(netlink.Generic, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
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
	// CTRL_CMD_GETFAMILY (3), version 2, as a dump.
	var dump []netlink.Message
	req := netlink.Message{Header: netlink.Header{Type: 0x10}, Data: []byte{3, 2, 0, 0}}
	for m, err := range c.Dump(ctx, req) {
		if err != nil {
			t.Fatal(err)
		}
		m.Data = append([]byte(nil), m.Data...)
		dump = append(dump, m)
	}
	save("ctrl_dump.bin", dump)
	// Get by name: nlctrl, and one that does not exist (the error).
	for _, name := range []string{"nlctrl", "nlkit-nosuch"} {
		var e netlink.AttributeEncoder
		e.String(2, name) // CTRL_ATTR_FAMILY_NAME
		attrs, _ := e.Encode()
		req := netlink.Message{Header: netlink.Header{Type: 0x10}, Data: append([]byte{3, 2, 0, 0}, attrs...)}
		sent, err := c.Send(netlink.Message{Header: netlink.Header{Type: req.Header.Type, Flags: netlink.Request | netlink.Acknowledge}, Data: req.Data})
		if err != nil {
			t.Fatal(err)
		}
		var got []netlink.Message
		for len(got) == 0 || got[len(got)-1].Header.Type != netlink.Error {
			msgs, err := c.Receive(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range msgs {
				if m.Header.Sequence == sent.Header.Sequence {
					got = append(got, m)
				}
			}
		}
		save("ctrl_get_"+name+".bin", got)
	}
	out, err := exec.Command("genl", "ctrl", "list").Output()
	if err != nil {
		t.Fatalf("genl ctrl list: %v", err)
	}
	if err := os.WriteFile(filepath.Join("testdata", "genl_ctrl_list.txt"), out, 0o644); err != nil {
		t.Fatal(err)
	}
	uname, _ := exec.Command("uname", "-srm").Output()
	if err := os.WriteFile(filepath.Join("testdata", "KERNEL"), uname, 0o644); err != nil {
		t.Fatal(err)
	}
}
