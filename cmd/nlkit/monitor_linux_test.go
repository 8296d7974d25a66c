//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nlkit/nlkit/internal/nstest"
)

// startMonitor runs `nlkit -n NS ARGS...` and returns its lines as they
// come. It waits until the monitor is subscribed by toggling a probe link
// until the monitor reports it.
func startMonitor(t *testing.T, ns *nstest.NS, args ...string) (<-chan string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(buildNlkit(t), append([]string{"-n", ns.Name}, args...)...)
	out, err := cmd.StdoutPipe()
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
	lines := make(chan string, 1000)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	deadline := time.After(20 * time.Second)
	for i := 0; ; i++ {
		ns.IP(t, "link", "add", "probe0", "type", "bridge")
		ns.IP(t, "link", "del", "probe0")
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("monitor exited: %s", stderr.String())
			}
			if strings.Contains(l, "probe0") {
				// Drain the rest of the probe's events.
				for {
					select {
					case <-lines:
						continue
					case <-time.After(300 * time.Millisecond):
					}
					break
				}
				return lines, cmd
			}
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatalf("monitor never reported the probe link: %s", stderr.String())
		}
	}
}

func TestMonitorJSON(t *testing.T) {
	ns := nstest.New(t)
	lines, cmd := startMonitor(t, ns, "-j", "monitor", "link", "addr", "route")
	ns.IP(t, "link", "add", "mo0", "type", "veth", "peer", "name", "mo1")
	ns.IP(t, "addr", "add", "10.8.0.1/24", "dev", "mo0")
	ns.IP(t, "link", "set", "mo0", "up")
	ns.IP(t, "route", "add", "10.99.0.0/16", "via", "10.8.0.2", "dev", "mo0", "onlink")
	ns.IP(t, "link", "del", "mo0")
	want := map[string]bool{"new link mo0": false, "new addr 10.8.0.1": false, "new route 10.99.0.0/16": false, "del link mo0": false}
	deadline := time.After(20 * time.Second)
	for remaining := len(want); remaining > 0; {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("monitor exited early; missing %v", want)
			}
			var ev struct {
				Event, Type string
				Link        struct{ Ifname string }
				Addr        struct{ Local, Dev string }
				Route       struct{ Dst string }
			}
			if err := json.Unmarshal([]byte(l), &ev); err != nil {
				t.Fatalf("not a JSON line: %q: %v", l, err)
			}
			key := ev.Event + " " + ev.Type + " " + ev.Link.Ifname + ev.Addr.Local + ev.Route.Dst
			if done, ok := want[key]; ok && !done {
				want[key] = true
				remaining--
			}
			if ev.Type == "addr" && ev.Addr.Local == "10.8.0.1" && ev.Addr.Dev != "mo0" {
				t.Errorf("address event names device %q, want mo0", ev.Addr.Dev)
			}
		case <-deadline:
			t.Fatalf("events not seen: %v", want)
		}
	}
	// Interrupted, the monitor ends cleanly.
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("monitor after SIGINT: %v", err)
	}
}

func TestMonitorTextAndBadInput(t *testing.T) {
	ns := nstest.New(t)
	lines, _ := startMonitor(t, ns, "monitor", "link", "neigh")
	ns.IP(t, "link", "add", "mt0", "type", "veth", "peer", "name", "mt1")
	ns.IP(t, "neigh", "add", "10.1.1.1", "lladdr", "02:00:00:00:00:01", "dev", "mt0")
	seenLink, seenNeigh := false, false
	deadline := time.After(20 * time.Second)
	for !seenLink || !seenNeigh {
		select {
		case l := <-lines:
			seenLink = seenLink || (strings.HasPrefix(l, "[LINK] ") && strings.Contains(l, "mt0:"))
			seenNeigh = seenNeigh || (strings.HasPrefix(l, "[NEIGH] 10.1.1.1 dev mt0 lladdr 02:00:00:00:00:01") && strings.Contains(l, "PERMANENT"))
		case <-deadline:
			t.Fatalf("link %v neigh %v", seenLink, seenNeigh)
		}
	}
	_, errOut, code := nlkit(t, "-n", ns.Name, "monitor", "links")
	if code == 0 || !strings.Contains(errOut, `unknown event type "links"`) {
		t.Fatalf("bad monitor argument: %d %q", code, errOut)
	}
}
