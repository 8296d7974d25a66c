package main

import (
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"regexp"
	"runtime/debug"
	"time"

	"github.com/nlkit/nlkit/audit"
)

// env is the state the checks share: they run in order, each building
// on the previous ones (the rules added, the daemon registered).
type env struct {
	nlkit   string
	capture bool

	c       *audit.Client
	initial audit.Status    // as found, to restore
	daemon  *audit.Listener // registered by the daemon check
}

type check struct {
	name string
	fn   func(*env) error
}

var checks = []check{
	{"status", checkStatus},
	{"enable", checkEnable},
	{"rules", checkRules},
	{"rules/errors", checkRuleErrors},
	{"daemon/register", checkRegister},
	{"daemon/events", checkEvents},
	{"daemon/capture", checkCapture},
	{"cli", checkCLI},
	{"unprivileged", checkUnprivileged},
	{"daemon/close", checkClose},
	{"cli/watch", checkCLIWatch},
	{"readlog", checkReadLog},
	{"restore", checkRestore},
}

// Paths and keys of the rules the checks add.
const (
	watched  = "/tmp/audit-watched"
	watchKey = "watchkey"
	execKey  = "execkey"
)

func main() {
	e := &env{}
	flag.StringVar(&e.nlkit, "nlkit", "/bin/nlkit", "path of the nlkit binary (for the cli checks)")
	flag.BoolVar(&e.capture, "capture", false, "print raw datagrams as CAPTURE lines for audit/testdata")
	run := flag.String("run", "", "run only the checks whose name matches this regexp (restore always runs)")
	child := flag.String("child", "", "internal: run as a child process for a check")
	flag.Parse()

	if *child == "unprivileged" {
		if err := childUnprivileged(e); err != nil {
			fmt.Println("FAIL:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	re, err := regexp.Compile(*run)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vmcheck:", err)
		os.Exit(2)
	}
	if e.c, err = audit.Dial(nil); err != nil {
		fmt.Println("--- FAIL dial:", err)
		os.Exit(1)
	}
	fmt.Printf("vmcheck: pid %d\n", os.Getpid())
	start := time.Now()
	passed, failed := 0, 0
	for _, c := range checks {
		if !re.MatchString(c.name) && c.name != "restore" {
			continue
		}
		fmt.Printf("=== CHECK %s\n", c.name)
		t0 := time.Now()
		err := runCheck(c, e)
		d := time.Since(t0).Round(time.Millisecond)
		if err != nil {
			failed++
			fmt.Printf("--- FAIL %s (%v): %v\n", c.name, d, err)
		} else {
			passed++
			fmt.Printf("--- PASS %s (%v)\n", c.name, d)
		}
	}
	fmt.Printf("vmcheck: %d passed, %d failed in %v\n", passed, failed, time.Since(start).Round(time.Millisecond))
	if failed > 0 || passed == 0 {
		os.Exit(1)
	}
}

func runCheck(c check, e *env) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return c.fn(e)
}

// logf prints a detail line under the current check.
func logf(format string, a ...any) {
	fmt.Printf("    "+format+"\n", a...)
}

// timeout returns a context that ends after d (5 s if d is 0).
func timeout(d time.Duration) (context.Context, context.CancelFunc) {
	if d == 0 {
		d = 5 * time.Second
	}
	return context.WithTimeout(context.Background(), d)
}

// capture prints raw datagrams for TestAuditVM to save in
// audit/testdata/NAME, with a comment line first.
func (e *env) captureDatagrams(name, comment string, dgrams [][]byte) {
	if !e.capture {
		return
	}
	fmt.Printf("CAPTURE-NOTE %s %s\n", name, comment)
	for _, b := range dgrams {
		fmt.Printf("CAPTURE %s %s\n", name, hex.EncodeToString(b))
	}
}
