//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nlkit/nlkit/internal/nstest"
	"github.com/nlkit/nlkit/netlink"
)

// forgeUevent multicasts b to the kernel's uevent group from a user
// socket inside ns, as any root process there can.
func forgeUevent(t *testing.T, ns *nstest.NS, b []byte) {
	t.Helper()
	err := netlink.RunInNetNS(&netlink.Config{NetNS: ns.Name}, func() error {
		fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, netlink.KObjectUevent)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		return unix.Sendto(fd, b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: 1})
	})
	if err != nil {
		t.Fatal(err)
	}
}

type ueventLine struct {
	Source     string
	Action     string
	DevPath    string
	Subsystem  string
	SeqNum     uint64
	Timestamp  float64
	Properties map[string]string
}

// A veth created in the namespace shows up as the kernel sent it, with
// the interface index ip reports; a forged event does not, and is
// reported on stderr.
func TestUeventMonitorKernel(t *testing.T) {
	ns := nstest.New(t)
	cmd := exec.Command(buildNlkit(t), "-n", ns.Name, "-j", "-d", "uevent", "monitor", "--subsystem", "net")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	lines := make(chan ueventLine, 1000)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var l ueventLine
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Errorf("not a JSON line: %q: %v", sc.Text(), err)
				continue
			}
			lines <- l
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	next := func(deadline <-chan time.Time) ueventLine {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("monitor exited: %s", stderr.String())
			}
			return l
		case <-deadline:
			t.Fatalf("no event; stderr: %s", stderr.String())
		}
		panic("unreachable")
	}
	// Wait until the monitor is subscribed: probe links until it reports one.
	deadline := time.After(20 * time.Second)
	for subscribed := false; !subscribed; {
		ns.IP(t, "link", "add", "uprobe0", "type", "veth", "peer", "name", "uprobe1")
		ns.IP(t, "link", "del", "uprobe0")
		select {
		case l := <-lines:
			subscribed = strings.HasPrefix(l.Properties["INTERFACE"], "uprobe")
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatalf("monitor never reported the probe link: %s", stderr.String())
		}
	}

	forgeUevent(t, ns, []byte("add@/devices/virtual/net/ue9\x00ACTION=add\x00DEVPATH=/devices/virtual/net/ue9\x00SUBSYSTEM=net\x00INTERFACE=ue9\x00SEQNUM=1\x00"))
	ns.IP(t, "link", "add", "ue0", "type", "veth", "peer", "name", "ue1")
	var links []struct {
		Index int `json:"ifindex"`
	}
	ns.IPJSON(t, &links, "link", "show", "ue0")
	var got *ueventLine
	for got == nil {
		l := next(deadline)
		switch ifname := l.Properties["INTERFACE"]; {
		case ifname == "ue9":
			t.Fatalf("the forged event was printed: %+v", l)
		case ifname == "ue0" && l.Action == "add":
			got = &l
		}
	}
	if got.Source != "kernel" || got.DevPath != "/devices/virtual/net/ue0" || got.Subsystem != "net" || got.SeqNum == 0 ||
		got.Timestamp <= 0 || got.Properties["IFINDEX"] != strconv.Itoa(links[0].Index) || got.Properties["SEQNUM"] == "" {
		t.Fatalf("%+v; ip says ifindex %d", got, links[0].Index)
	}

	// Interrupted, the monitor ends cleanly and accounts for the forgery.
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("monitor after SIGINT: %v: %s", err, stderr.String())
	}
	for _, want := range []string{
		"nlkit: uevent monitor: message rejected: sent to the kernel group by user port",
		"nlkit: uevent monitor: rejected 1 message(s) from untrusted senders\n",
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}
