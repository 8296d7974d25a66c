package audittest_test

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/nlkit/nlkit/audit"
	"github.com/nlkit/nlkit/audit/audittest"
)

func TestKernelWithoutDaemon(t *testing.T) {
	k := audittest.New(nil)
	// Without a daemon or a reader, records are dropped, as the kernel
	// prints them instead.
	if err := k.Log(audit.MsgSyscall, k.NextSerial(), "syscall=1"); err != nil {
		t.Errorf("Log without a daemon: %v", err)
	}
	if err := k.Replace(1); err == nil {
		t.Error("Replace without a daemon succeeded")
	}
	if a, b := k.NextSerial(), k.NextSerial(); b != a+1 {
		t.Errorf("serials %d, %d", a, b)
	}
}

func TestKernelRefusesWhatTheKernelRefuses(t *testing.T) {
	k := audittest.New(nil)
	c, err := k.Dial(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	entry := audit.Rule{Filter: audit.FilterEntry, Action: audit.ActionAlways}
	for name, r := range map[string]audit.Rule{
		"entry list":         entry,
		"relative watch":     audit.WatchRule("x", 0, ""),
		"watch ending in /":  audit.WatchRule("/x/", 0, ""),
		"watch on task list": {Filter: audit.FilterTask, Fields: []audit.RuleField{{Field: audit.FieldWatch, Op: audit.OpEqual, Str: "/x"}}},
	} {
		if err := c.AddRule(ctx, r); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("%s: %v, want EINVAL", name, err)
		}
	}
	if len(k.Rules()) != 0 {
		t.Errorf("rules after refusals: %v", k.Rules())
	}
	if err := c.SetStatus(ctx, audit.Status{Mask: audit.StatusFailure, Failure: 3}); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("failure 3: %v", err)
	}
}
