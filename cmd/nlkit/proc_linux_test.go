//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nlkit/nlkit/internal/nstest"
)

// nlkit -j proc monitor, in the host's namespace (the only one with a
// process connector), sees a child of the test fork, exec and exit with
// its status. It only watches.
func TestProcMonitorKernel(t *testing.T) {
	nstest.RequireRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pr, pw := io.Pipe()
	var errOut bytes.Buffer
	a := &app{out: pw, errOut: &errOut}
	root := newRoot(a)
	root.SetArgs(normalizeArgs([]string{"-j", "proc", "monitor"}))
	root.SetOut(pw)
	root.SetErr(&errOut)
	var runErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		runErr = root.ExecuteContext(ctx)
		pw.Close()
	}()

	// Children started before the subscription is in force go unseen,
	// so start them until one is seen to exit.
	type line struct {
		Event      string `json:"event"`
		PID        *int   `json:"pid"`
		TGID       *int   `json:"tgid"`
		ParentTGID *int   `json:"parent_tgid"`
		Status     *int   `json:"status"`
		ExitSignal *int   `json:"exit_signal"`
	}
	children := map[int]bool{}
	var mu sync.Mutex
	stop := make(chan struct{})
	go func() {
		for i := 0; i < 100; i++ {
			cmd := exec.Command("/bin/sh", "-c", "exit 5")
			if err := cmd.Start(); err == nil {
				mu.Lock()
				children[cmd.Process.Pid] = true
				mu.Unlock()
				_ = cmd.Wait()
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	byPID := map[int][]line{}
	var seen int
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("not a JSON line: %q: %v", sc.Text(), err)
		}
		if l.Event == "lost" || l.PID == nil {
			continue
		}
		mu.Lock()
		ours := children[*l.PID]
		mu.Unlock()
		if !ours {
			continue
		}
		byPID[*l.PID] = append(byPID[*l.PID], l)
		if l.Event == "exit" && byPID[*l.PID][0].Event == "fork" {
			seen = *l.PID
			break
		}
	}
	close(stop)
	cancel()
	go io.Copy(io.Discard, pr) // let the command finish writing
	wg.Wait()
	if runErr != nil {
		t.Fatalf("nlkit proc monitor: %v (%s)", runErr, errOut.String())
	}
	if seen == 0 {
		t.Fatal("no child of the test was seen from fork to exit")
	}
	evs := byPID[seen]
	var names []string
	for _, l := range evs {
		names = append(names, l.Event)
	}
	if got := strings.Join(names, ","); got != "fork,exec,exit" {
		t.Errorf("events of child %d: %s, want fork,exec,exit", seen, got)
	}
	fork, exit := evs[0], evs[len(evs)-1]
	if fork.ParentTGID == nil || *fork.ParentTGID != os.Getpid() || *fork.TGID != seen {
		t.Errorf("fork %+v, want child %d of %d", fork, seen, os.Getpid())
	}
	if exit.Status == nil || *exit.Status != 5 || exit.ExitSignal == nil || *exit.ExitSignal != 17 {
		t.Errorf("exit %+v, want status 5 and SIGCHLD", exit)
	}
}

func TestProcMonitorOtherNamespace(t *testing.T) {
	ns := nstest.New(t)
	out, errOut, code := nlkit(t, "-n", ns.Name, "proc", "monitor")
	if code == 0 || out != "" || !strings.Contains(errOut, "initial network namespace") || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("exit %d, stdout %q, stderr %q; want one line saying the connector is in the initial namespace only", code, out, errOut)
	}
}
