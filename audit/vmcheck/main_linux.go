package main

import (
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"github.com/nlkit/nlkit/internal/vmcheck"
	"os"
	"regexp"
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

type check = vmcheck.Check[*env]

var checks = []check{
	{Name: "status", Fn: checkStatus},
	{Name: "enable", Fn: checkEnable},
	{Name: "rules", Fn: checkRules},
	{Name: "rules/errors", Fn: checkRuleErrors},
	{Name: "daemon/register", Fn: checkRegister},
	{Name: "daemon/events", Fn: checkEvents},
	{Name: "daemon/capture", Fn: checkCapture},
	{Name: "cli", Fn: checkCLI},
	{Name: "unprivileged", Fn: checkUnprivileged},
	{Name: "daemon/close", Fn: checkClose},
	{Name: "cli/watch", Fn: checkCLIWatch},
	{Name: "readlog", Fn: checkReadLog},
	{Name: "restore", Fn: checkRestore},
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
	if !vmcheck.Run(checks, e, func(name string) bool { return re.MatchString(name) || name == "restore" }) {
		os.Exit(1)
	}
}

// logf prints a detail line under the current check.
func logf(format string, a ...any) { vmcheck.Logf(format, a...) }

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
