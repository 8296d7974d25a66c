// Command route benchmarks route installation, dumps, deletion, events
// and request round trips with nlkit against vishvananda/netlink,
// jsimonetti/rtnetlink, iproute2 and a C program on libmnl, in one fresh
// network namespace, each implementation in a child process of its own
// (so its peak RSS and CPU time are its own).
//
//	cd bench && go run ./route -out results.json   # or: make bench
//
// It needs root (to create the namespace), iproute2, a C compiler and
// libmnl-dev. See BENCHMARKS.md at the repository root for the results
// and what they mean.
package main

import (
	_ "embed"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
)

//go:embed csrc/mnlbench.c
var mnlSource []byte

type options struct {
	sizes     []int
	runs      int
	eventRuns int
	rtCount   int
	impls     map[string]bool
	workloads map[string]bool
	out       string
	tmp       string
	nlkitBin  string
	mnlBin    string
	batchMsgs int
	sweep     []int
}

func main() {
	var (
		worker   = flag.String("worker", "", "internal: run one workload of this Go implementation")
		workload = flag.String("workload", "", "internal: the worker's workload")
		n        = flag.Int("n", 0, "internal: the worker's count")
		ifindex  = flag.Int("ifindex", 0, "internal: the veth's index")
		dev      = flag.String("dev", "veth0", "internal: the veth's name")
		inner    = flag.Bool("inner", false, "internal: the driver, inside the namespace")

		sizes     = flag.String("sizes", "100000,1000000", "route counts N, comma-separated")
		runs      = flag.Int("runs", 3, "runs of each measurement (the median is reported)")
		eventRuns = flag.Int("event-runs", 0, "runs of the events workload (0: as -runs)")
		rtCount   = flag.Int("roundtrips", 100000, "requests of the roundtrip workload")
		impls     = flag.String("impls", "nlkit,nlkit-raw,nlkit-cli,vishvananda,jsimonetti,iproute2,libmnl", "implementations")
		workloads = flag.String("workloads", "install,dump,delete,events,roundtrip", "workloads")
		out       = flag.String("out", "results.json", "where to write the results")
		tmp       = flag.String("tmp", "", "internal: scratch directory")
		nlkitBin  = flag.String("nlkit", "", "internal: the nlkit binary")
		mnlBin    = flag.String("mnl", "", "internal: the mnlbench binary")
		batchMsgs = flag.Int("mnl-msgs", 256, "messages per datagram of the C program's batches")
		sweep     = flag.String("sweep", "", "instead of the workloads: install N (the first of -sizes) routes with these numbers of messages per datagram, nlkit and libmnl, and check that pipelining is pointless")
		wMsgs     = flag.Int("batch-msgs", 0, "internal: the nlkit worker's BatchOptions.MaxMessages")
	)
	flag.Parse()
	if *worker != "" {
		err := runWorker(workerArgs{impl: *worker, workload: *workload, n: *n, ifindex: int32(*ifindex), dev: *dev, batchMsgs: *wMsgs})
		if err != nil {
			fmt.Fprintf(os.Stderr, "worker %s %s: %v\n", *worker, *workload, err)
			os.Exit(1)
		}
		return
	}
	o := &options{
		runs: *runs, eventRuns: *eventRuns, rtCount: *rtCount, out: *out, tmp: *tmp,
		nlkitBin: *nlkitBin, mnlBin: *mnlBin, batchMsgs: *batchMsgs,
		impls: set(*impls), workloads: set(*workloads),
	}
	if o.eventRuns == 0 {
		o.eventRuns = o.runs
	}
	o.sizes = ints("-sizes", *sizes)
	if *sweep != "" {
		o.sweep = ints("-sweep", *sweep)
	}
	var err error
	if *inner {
		err = runInner(o)
	} else {
		err = runOuter(o, os.Args[1:])
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "nlbench: %v\n", err)
		os.Exit(1)
	}
}

func ints(flagName, list string) []int {
	var out []int
	for _, s := range strings.Split(list, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || v <= 0 {
			fmt.Fprintf(os.Stderr, "bad %s %q\n", flagName, list)
			os.Exit(2)
		}
		out = append(out, v)
	}
	return out
}

func set(list string) map[string]bool {
	m := map[string]bool{}
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s != "" {
			m[s] = true
		}
	}
	return m
}
