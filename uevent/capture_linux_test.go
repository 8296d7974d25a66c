//go:build linux

package uevent_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nlkit/nlkit/internal/nstest"
	"github.com/nlkit/nlkit/netlink"
)

// TestCaptureUevents regenerates testdata/ from this machine: the
// datagrams the kernel and udevd send while a veth pair is created,
// renamed and deleted in a throwaway namespace. It runs only with
// NLKIT_UEVENT_CAPTURE=1:
//
//	NLKIT_UEVENT_CAPTURE=1 go test -run TestCaptureUevents ./uevent
//
// udevd runs inside the namespace, in the mount namespace `ip netns exec`
// makes, with tmpfs over /run and /dev, so its database, control socket
// and device nodes stay private; its rules still see the kernel's events
// of devices outside any network namespace for the few seconds it runs.
func TestCaptureUevents(t *testing.T) {
	if os.Getenv("NLKIT_UEVENT_CAPTURE") != "1" {
		t.Skip("set NLKIT_UEVENT_CAPTURE=1 to regenerate testdata/ from this machine")
	}
	ns := nstest.New(t)
	c, err := netlink.Dial(netlink.KObjectUevent, &netlink.Config{
		NetNS: ns.Name, Groups: 1 | 2, PassCredentials: true, AllowUserSenders: true, ReceiveBuffer: 4 << 20,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	udevd := exec.Command("ip", "netns", "exec", ns.Name, "sh", "-c",
		"mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /dev && mknod -m 666 /dev/null c 1 3 && exec /lib/systemd/systemd-udevd")
	udevd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var log bytes.Buffer
	udevd.Stdout, udevd.Stderr = &log, &log
	if err := udevd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = syscall.Kill(-udevd.Process.Pid, syscall.SIGTERM)
		_ = udevd.Wait()
		t.Logf("udevd: %s", log.String())
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	type datagram struct {
		b    []byte
		from netlink.Addr
	}
	read := func(until func(datagram) bool) []datagram {
		var got []datagram
		for {
			b, from, err := c.ReceiveRaw(ctx)
			if err != nil {
				t.Fatalf("after %d datagrams: %v", len(got), err)
			}
			d := datagram{b, from}
			got = append(got, d)
			if until(d) {
				return got
			}
		}
	}
	udevSaw := func(action, ifname string) func(datagram) bool {
		return func(d datagram) bool {
			return d.from.Groups == 2 && bytes.Contains(d.b, []byte("ACTION="+action+"\x00")) &&
				bytes.Contains(d.b, []byte("INTERFACE="+ifname+"\x00"))
		}
	}
	// Wait until udevd is up: it rebroadcasts a probe link's event.
	for i := 0; ; i++ {
		ns.IP(t, "link", "add", "probe0", "type", "bridge")
		probeCtx, probeCancel := context.WithTimeout(ctx, time.Second)
		seen := false
		for !seen {
			b, from, err := c.ReceiveRaw(probeCtx)
			if err != nil {
				break
			}
			seen = udevSaw("add", "probe0")(datagram{b, from})
		}
		probeCancel()
		ns.IP(t, "link", "del", "probe0")
		if seen {
			break
		}
		if i == 20 {
			t.Fatalf("udevd never rebroadcast an event: %s", log.String())
		}
	}
	read(udevSaw("remove", "probe0"))

	ns.IP(t, "link", "add", "cap0", "type", "veth", "peer", "name", "cap1")
	got := read(udevSaw("add", "cap1"))
	ns.IP(t, "link", "set", "cap0", "name", "capx")
	got = append(got, read(udevSaw("move", "capx"))...)
	ns.IP(t, "link", "del", "capx")
	got = append(got, read(udevSaw("remove", "cap1"))...)

	old, _ := filepath.Glob("testdata/*.bin")
	for _, f := range old {
		os.Remove(f)
	}
	for i, d := range got {
		source := "kernel"
		if d.from.Groups == 2 {
			source = "udev"
		}
		action := "x"
		if k := bytes.Index(d.b, []byte("ACTION=")); k >= 0 {
			action, _, _ = strings.Cut(string(d.b[k+7:]), "\x00")
		}
		devpath := "x"
		if k := bytes.Index(d.b, []byte("DEVPATH=")); k >= 0 {
			devpath, _, _ = strings.Cut(string(d.b[k+8:]), "\x00")
		}
		name := fmt.Sprintf("%02d-%s-%s-%s.bin", i, source, action, strings.ReplaceAll(strings.TrimPrefix(devpath, "/devices/virtual/"), "/", "_"))
		if err := os.WriteFile(filepath.Join("testdata", name), d.b, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: from port %d groups %d creds %+v %v", name, d.from.Port, d.from.Groups, d.from.Creds, d.from.HasCreds)
	}
	uname, err := exec.Command("uname", "-srvm").Output()
	if err != nil {
		t.Fatal(err)
	}
	version, err := exec.Command("udevadm", "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	info := fmt.Sprintf("kernel: %sudevd (systemd): %s", uname, version)
	if err := os.WriteFile("testdata/SOURCE", []byte(info), 0o644); err != nil {
		t.Fatal(err)
	}
}
