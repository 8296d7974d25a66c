//go:build linux

package genl_test

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nlkit/nlkit/genl"
	"github.com/nlkit/nlkit/internal/nstest"
	"github.com/nlkit/nlkit/netlink"
)

// genlCtrlList runs `genl ctrl list`, in namespace ns if not empty.
func genlCtrlList(t *testing.T, ns string) []genl.Family {
	t.Helper()
	if _, err := exec.LookPath("genl"); err != nil {
		t.Fatalf("iproute2's genl is the oracle of this test: %v (apt-get install iproute2)", err)
	}
	args := []string{"genl", "ctrl", "list"}
	if ns != "" {
		args = append([]string{"ip", "netns", "exec", ns}, args...)
	}
	out, err := exec.Command(args[0], args[1:]...).Output()
	if err != nil {
		t.Fatalf("%s: %v", strings.Join(args, " "), err)
	}
	return ctrlList(t, string(out))
}

func listFamilies(t *testing.T, cfg *netlink.Config) []genl.Family {
	t.Helper()
	c, err := genl.Dial(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fams, err := c.ListFamilies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]genl.Family, len(fams))
	for i, f := range fams {
		out[i] = *f
	}
	return out
}

// TestKernelFamiliesMatchGenl lists the host's families (read-only;
// families are global) and compares them with `genl ctrl list`.
func TestKernelFamiliesMatchGenl(t *testing.T) {
	got := listFamilies(t, nil)
	compareFamilies(t, got, genlCtrlList(t, ""))
	names := map[string]bool{}
	for _, f := range got {
		names[f.Name] = true
	}
	if !names["nlctrl"] {
		t.Fatalf("no nlctrl among %v", names)
	}
}

// TestKernelFamiliesInNetNS lists the families visible in a fresh
// namespace: only the namespace-aware ones (netnsok), as genl run there
// shows them.
func TestKernelFamiliesInNetNS(t *testing.T) {
	ns := nstest.New(t)
	got := listFamilies(t, &netlink.Config{NetNS: ns.Name})
	compareFamilies(t, got, genlCtrlList(t, ns.Name))
}

func TestKernelResolve(t *testing.T) {
	c, err := genl.Dial(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f, err := c.Family(ctx, "nlctrl")
	if err != nil {
		t.Fatal(err)
	}
	if f.ID != 0x10 || f.Version != 2 {
		t.Fatalf("nlctrl: %+v", f)
	}
	if op, ok := f.Op(3); !ok || op.Flags&(genl.OpCapDo|genl.OpCapDump) != genl.OpCapDo|genl.OpCapDump {
		t.Fatalf("CTRL_CMD_GETFAMILY op: %+v %v", op, ok)
	}
	g, err := c.JoinGroup(ctx, "nlctrl", "notify")
	if err != nil || g.ID != 0x10 {
		t.Fatalf("join nlctrl notify: %+v %v", g, err)
	}
	if err := c.LeaveGroup(ctx, "nlctrl", "notify"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.JoinGroup(ctx, "nlctrl", "nlkit-nosuch"); !errors.Is(err, genl.ErrGroupNotFound) {
		t.Fatalf("unknown group: %v", err)
	}

	_, err = c.Family(ctx, "nlkit-nosuch")
	var oe *netlink.OpError
	if !errors.Is(err, genl.ErrFamilyNotFound) || !errors.Is(err, syscall.ENOENT) || !errors.As(err, &oe) ||
		!strings.Contains(err.Error(), `generic netlink family "nlkit-nosuch" not found`) {
		t.Fatalf("unknown family: %v", err)
	}
	// The controller's own policy check: a request the kernel rejects
	// keeps its extended ack (CTRL_CMD_GETFAMILY with neither name nor ID).
	_, err = c.Execute(ctx, 0x10, genl.Message{Header: genl.Header{Command: 3, Version: 2}}, 0)
	if !errors.Is(err, syscall.EINVAL) || !errors.As(err, &oe) {
		t.Fatalf("GETFAMILY without a name: %v", err)
	}
	t.Logf("GETFAMILY without a name: %v", err)
	// A family ID nobody registered.
	_, err = c.Execute(ctx, 0xfff0, genl.Message{Header: genl.Header{Command: 1}}, 0)
	if !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("unregistered family ID: %v", err)
	}
	// A request the kernel rejects before the family sees it keeps its
	// extended ack: a truncated attribute after the genl header.
	_, err = c.Execute(ctx, 0x10, genl.Message{Header: genl.Header{Command: 3, Version: 2}, Data: []byte{12, 0, 2, 0, 'n'}}, 0)
	t.Logf("truncated attribute: %v", err)
	if !errors.Is(err, syscall.EINVAL) || !errors.As(err, &oe) || oe.Message == "" {
		t.Fatalf("truncated attribute: want EINVAL with the kernel's explanation, got %v", err)
	}
}
