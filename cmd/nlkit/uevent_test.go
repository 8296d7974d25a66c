package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/uevent"
	"github.com/nlkit/nlkit/uevent/ueventtest"
)

func TestUeventBadInput(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"uevent", "monitor", "--property", "INTERFACE"}, `uevent monitor: property filter "INTERFACE": want KEY=VALUE`},
		{[]string{"uevent", "monitor", "--property", "=eth0"}, `property filter "=eth0": empty key`},
		{[]string{"uevent", "monitor", "--property", "INTERFACE!=eth0"}, "negation (KEY!=VALUE) is not supported"},
		{[]string{"uevent", "monitor", "--property", "INTERFACE=eth[0"}, `property filter "INTERFACE=eth[0": bad pattern`},
		{[]string{"uevent", "monitor", "--subsystem", "net/wlan"}, `subsystem filter "net/wlan"`},
		{[]string{"uevent", "monitor", "--subsystem", ""}, "empty subsystem filter"},
		{[]string{"uevent", "monitor", "--devtype", "a b"}, `devtype filter "a b"`},
		{[]string{"uevent", "monitor", "net"}, `uevent monitor: unknown argument "net" (filters are flags`},
		{[]string{"uevent", "monitor", "-c", "-1"}, "--count -1: want a number of events"},
		{[]string{"uevent", "monitor", "--count", "x"}, `invalid argument "x"`},
		{[]string{"uevent", "monitor", "--subsystems", "net"}, "unknown flag: --subsystems"},
		{[]string{"uevent", "watch"}, `uevent: unknown command "watch" (want monitor)`},
	}
	for _, tt := range tests {
		out, errOut, code := nlkit(t, tt.args...)
		if code == 0 || !strings.HasPrefix(errOut, "nlkit: ") || !strings.Contains(errOut, tt.want) || out != "" {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want an error containing %q", tt.args, code, errOut, out, tt.want)
		}
		if strings.Contains(errOut, "uevent: uevent") || strings.Contains(errOut, "panic") {
			t.Errorf("%v: %s", tt.args, errOut)
		}
	}
	out, _, code := nlkit(t, "uevent", "monitor", "--help")
	if code != 0 || !strings.Contains(out, "nlkit uevent monitor --subsystem net") || !strings.Contains(out, "--udev") {
		t.Errorf("--help: exit %d\n%s", code, out)
	}
	out, _, code = nlkit(t, "uevent")
	if code != 0 || !strings.Contains(out, "monitor") {
		t.Errorf("uevent alone: exit %d\n%s", code, out)
	}
}

// runMonitor feeds the fake socket's events to ueventMonitor with the
// options args give (with a count, or it never stops), and returns
// stdout and stderr.
func runMonitor(t *testing.T, a *app, args []string, feed func(*ueventtest.Socket)) (string, string) {
	t.Helper()
	var errOut bytes.Buffer
	a.errOut = &errOut
	o := &ueventOpts{}
	cmd := ueventMonitorCmd(a, o)
	if err := cmd.Flags().Parse(args); err != nil {
		t.Fatal(err)
	}
	opts, err := o.options(a, cmd.Flags().Args())
	if err != nil {
		t.Fatal(err)
	}
	sock := ueventtest.New()
	sub, err := uevent.NewSubscription(sock.Conn(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	feed(sock)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := ueventMonitor(ctx, a, sub, opts, o.count); err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatal("the monitor did not stop after its count")
	}
	return a.out.(*bytes.Buffer).String(), errOut.String()
}

func captured(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../uevent/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var kernelGroup = netlink.Addr{Groups: 1, HasCreds: true}
var udevGroup = netlink.Addr{Port: 3538932513, Groups: 2, HasCreds: true, Creds: netlink.Ucred{PID: 28321}}

func TestUeventMonitorText(t *testing.T) {
	a, _ := testApp(false)
	out, errOut := runMonitor(t, a, []string{"--subsystem", "net", "-c", "1"}, func(s *ueventtest.Socket) {
		s.Deliver(captured(t, "01-kernel-add-net_cap1_queues_rx-0.bin"), kernelGroup) // queues: filtered
		s.Deliver(captured(t, "05-kernel-add-net_cap0.bin"), kernelGroup)
	})
	lines := strings.Split(out, "\n")
	want := []string{
		"monitor will print the received events for:",
		"KERNEL - the kernel uevent",
		"",
		"KERNEL[*] add      /devices/virtual/net/cap0 (net)",
		"  ACTION=add",
		"  DEVPATH=/devices/virtual/net/cap0",
		"  SUBSYSTEM=net",
		"  INTERFACE=cap0",
		"  IFINDEX=5",
		"  SEQNUM=27871",
		"",
		"",
	}
	if len(lines) != len(want) {
		t.Fatalf("output:\n%s", out)
	}
	for i := range want {
		got := lines[i]
		if strings.HasPrefix(got, "KERNEL[") {
			// The time is the monotonic clock at receipt: seconds.micro.
			ts, rest, _ := strings.Cut(strings.TrimPrefix(got, "KERNEL["), "]")
			sec, usec, ok := strings.Cut(ts, ".")
			if !ok || len(usec) != 6 || sec == "" || strings.Trim(sec+usec, "0123456789") != "" {
				t.Errorf("timestamp %q", ts)
			}
			got = "KERNEL[*]" + rest
		}
		if got != want[i] {
			t.Errorf("line %d: %q, want %q", i, got, want[i])
		}
	}
	if errOut != "" {
		t.Errorf("stderr: %q", errOut)
	}
}

func TestUeventMonitorJSON(t *testing.T) {
	a, _ := testApp(true)
	out, errOut := runMonitor(t, a, []string{"--udev", "--kernel", "--property", "INTERFACE=cap*", "--property", "ID_NET_DRIVER=veth", "-c", "1"}, func(s *ueventtest.Socket) {
		s.Deliver(captured(t, "00-kernel-add-net_cap1.bin"), kernelGroup) // no ID_NET_DRIVER: filtered
		s.Overrun()
		s.Deliver(captured(t, "29-udev-move-net_capx.bin"), udevGroup)
	})
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("output:\n%s", out)
	}
	var lost map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &lost); err != nil || lost["lost"] != true || lost["message"] == "" {
		t.Fatalf("lost line %q: %v", lines[0], err)
	}
	var ev map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &ev); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{
		"source": "udev", "action": "move", "devpath": "/devices/virtual/net/capx", "subsystem": "net",
		"devtype": "", "seqnum": float64(27880),
	} {
		if ev[k] != v {
			t.Errorf("%s: %v, want %v", k, ev[k], v)
		}
	}
	if ts, ok := ev["timestamp"].(float64); !ok || ts <= 0 {
		t.Errorf("timestamp %v", ev["timestamp"])
	}
	props, _ := ev["properties"].(map[string]any)
	if props["DEVPATH_OLD"] != "/devices/virtual/net/cap0" || props["ID_NET_DRIVER"] != "veth" || len(props) != 15 {
		t.Errorf("properties %v", props)
	}
	if errOut != "" {
		t.Errorf("stderr: %q", errOut)
	}
}

// Forgeries are counted and reported at the end; -d shows each.
// Malformed messages from the kernel are reported and skipped.
func TestUeventMonitorRejections(t *testing.T) {
	forge := func(s *ueventtest.Socket) {
		s.Deliver(captured(t, "05-kernel-add-net_cap0.bin"), netlink.Addr{Port: 4242, Groups: 1, HasCreds: true})
		s.Deliver([]byte("bogus\x00"), kernelGroup)
		s.Deliver(captured(t, "00-kernel-add-net_cap1.bin"), kernelGroup)
	}
	for _, details := range []bool{false, true} {
		a, _ := testApp(false)
		a.details = details
		out, errOut := runMonitor(t, a, []string{"--count=1"}, forge)
		if !strings.Contains(out, "/devices/virtual/net/cap1 (net)") || strings.Contains(out, "cap0") {
			t.Errorf("details %v: output:\n%s", details, out)
		}
		if !strings.Contains(errOut, `nlkit: uevent monitor: skipped: decode kernel message: malformed uevent: header "bogus" is not ACTION@DEVPATH`) {
			t.Errorf("details %v: no word of the malformed message: %q", details, errOut)
		}
		if !strings.Contains(errOut, "nlkit: uevent monitor: rejected 1 message(s) from untrusted senders") {
			t.Errorf("details %v: no count of rejections: %q", details, errOut)
		}
		each := strings.Contains(errOut, "nlkit: uevent monitor: message rejected: sent to the kernel group by user port 4242, not by the kernel (port 0)")
		if each != details {
			t.Errorf("details %v: rejection shown %v: %q", details, each, errOut)
		}
	}
}
