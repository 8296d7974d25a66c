package main

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"runtime/debug"
	"time"
)

// env is what every check gets.
type env struct {
	ko           string // path of nlhello.ko, for reloading
	ifname       string
	protocol     int
	floodWorkers int
	floodCount   int
	seed         int64
	nlkit        string // path of the nlkit binary, for the cli check
}

type check struct {
	name string
	fn   func(*env) error
}

var checks = []check{
	{"raw/hello", checkRawHello},
	{"raw/hello-ack", checkRawHelloAck},
	{"raw/malformed", checkRawMalformed},
	{"raw/ignored", checkRawIgnored},
	{"raw/control", checkRawControl},
	{"raw/batch", checkRawBatch},
	{"raw/big-hello", checkRawBigHello},
	{"raw/stats", checkRawStats},
	{"raw/fuzz", checkRawFuzz},
	{"genl/hello", checkGenlHello},
	{"genl/malformed", checkGenlMalformed},
	{"genl/stats", checkGenlStats},
	{"genl/fuzz", checkGenlFuzz},
	{"unprivileged", checkUnprivileged},
	{"packets/no-listener", checkPacketsNoListener},
	{"packets/listeners", checkPacketsListeners},
	{"packets/buffer-full", checkPacketsBufferFull},
	{"cli", checkCLI},
	{"netns", checkNetNS},
	{"flood", checkFlood},
	{"rmmod/busy", checkRmmodBusy},
	{"rmmod/under-load", checkRmmodUnderLoad},
	{"insmod/bad-params", checkInsmodBadParams},
	{"insmod/params", checkInsmodParams},
}

func main() {
	e := &env{}
	flag.StringVar(&e.ko, "ko", "/modules/nlhello.ko", "path of nlhello.ko (for the unload/reload checks)")
	flag.StringVar(&e.ifname, "ifname", "my_if0", "interface name the module was loaded with")
	flag.IntVar(&e.protocol, "protocol", 31, "netlink protocol the module was loaded with")
	flag.IntVar(&e.floodWorkers, "flood-workers", 8, "goroutines (each with its own socket) in the flood check")
	flag.IntVar(&e.floodCount, "flood-count", 10000, "hellos per flood goroutine")
	flag.StringVar(&e.nlkit, "nlkit", "/bin/nlkit", "path of the nlkit binary (for the cli check)")
	flag.Int64Var(&e.seed, "seed", time.Now().UnixNano(), "seed of the fuzz checks")
	run := flag.String("run", "", "run only the checks whose name matches this regexp")
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
	fmt.Printf("vmcheck: ko=%s ifname=%s protocol=%d seed=%d\n", e.ko, e.ifname, e.protocol, e.seed)

	start := time.Now()
	passed, failed := 0, 0
	for _, c := range checks {
		if !re.MatchString(c.name) {
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
