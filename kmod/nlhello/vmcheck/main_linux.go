package main

import (
	"flag"
	"fmt"
	"github.com/nlkit/nlkit/internal/vmcheck"
	"os"
	"regexp"
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

type check = vmcheck.Check[*env]

var checks = []check{
	{Name: "raw/hello", Fn: checkRawHello},
	{Name: "raw/hello-ack", Fn: checkRawHelloAck},
	{Name: "raw/malformed", Fn: checkRawMalformed},
	{Name: "raw/ignored", Fn: checkRawIgnored},
	{Name: "raw/control", Fn: checkRawControl},
	{Name: "raw/batch", Fn: checkRawBatch},
	{Name: "raw/big-hello", Fn: checkRawBigHello},
	{Name: "raw/stats", Fn: checkRawStats},
	{Name: "raw/fuzz", Fn: checkRawFuzz},
	{Name: "genl/hello", Fn: checkGenlHello},
	{Name: "genl/malformed", Fn: checkGenlMalformed},
	{Name: "genl/stats", Fn: checkGenlStats},
	{Name: "genl/fuzz", Fn: checkGenlFuzz},
	{Name: "unprivileged", Fn: checkUnprivileged},
	{Name: "packets/no-listener", Fn: checkPacketsNoListener},
	{Name: "packets/listeners", Fn: checkPacketsListeners},
	{Name: "packets/buffer-full", Fn: checkPacketsBufferFull},
	{Name: "cli", Fn: checkCLI},
	{Name: "netns", Fn: checkNetNS},
	{Name: "flood", Fn: checkFlood},
	{Name: "rmmod/busy", Fn: checkRmmodBusy},
	{Name: "rmmod/under-load", Fn: checkRmmodUnderLoad},
	{Name: "insmod/bad-params", Fn: checkInsmodBadParams},
	{Name: "insmod/params", Fn: checkInsmodParams},
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

	if !vmcheck.Run(checks, e, func(name string) bool { return re.MatchString(name) }) {
		os.Exit(1)
	}
}

// logf prints a detail line under the current check.
func logf(format string, a ...any) { vmcheck.Logf(format, a...) }
