package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// workerArgs is what a worker child is told on its command line.
type workerArgs struct {
	impl, workload string
	n              int
	ifindex        int32
	dev            string
	batchMsgs      int // nlkit: BatchOptions.MaxMessages; 0 for the default
}

// workerOut is the JSON line a worker prints last on standard output.
type workerOut struct {
	Count   int64   `json:"count"`
	Errors  int64   `json:"errors,omitempty"`
	Allocs  uint64  `json:"allocs"`
	Overrun bool    `json:"overrun,omitempty"`
	WallS   float64 `json:"wall_s,omitempty"`
	// LastUnixNs is when an events worker saw its last event.
	LastUnixNs int64 `json:"last_unix_ns,omitempty"`
}

// gateway is the next hop of every benchmark route; routeDst(i) is the
// destination of route i (11.0.0.1, 11.0.0.2, ...), as in mnlbench.c.
var gateway = netip.AddrFrom4([4]byte{10, 0, 0, 2})

func routeDst(i int) netip.Addr {
	v := uint32(0x0b000000) + uint32(i) + 1
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// isBenchRoute reports whether a route's destination is one of ours.
func isBenchRoute(dst netip.Addr, bits int) bool {
	return bits == 32 && dst.Is4() && dst.As4()[0] == 11
}

type worker interface {
	install(ctx context.Context, a workerArgs) (workerOut, error)
	dump(ctx context.Context, a workerArgs) (workerOut, error)
	remove(ctx context.Context, a workerArgs) (workerOut, error)
	// events subscribes, calls ready, then counts route additions until
	// a.n were seen or ctx ends.
	events(ctx context.Context, a workerArgs, ready func(), seen func()) (workerOut, error)
	roundtrip(ctx context.Context, a workerArgs) (workerOut, error)
}

var workers = map[string]worker{
	"nlkit":       nlkitWorker{},
	"nlkit-raw":   nlkitRawWorker{},
	"vishvananda": vishWorker{},
	"jsimonetti":  jsimWorker{},
}

// runWorker is the body of a worker child: one workload, one result line.
func runWorker(a workerArgs) error {
	w, ok := workers[a.impl]
	if !ok {
		return fmt.Errorf("no Go worker %q", a.impl)
	}
	ctx := context.Background()
	var out workerOut
	var err error
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	switch a.workload {
	case "install":
		out, err = w.install(ctx, a)
	case "dump":
		out, err = w.dump(ctx, a)
	case "delete":
		out, err = w.remove(ctx, a)
	case "roundtrip":
		start := time.Now()
		out, err = w.roundtrip(ctx, a)
		out.WallS = time.Since(start).Seconds()
	case "events":
		out, err = runEvents(ctx, w, a)
	default:
		return fmt.Errorf("unknown workload %q", a.workload)
	}
	runtime.ReadMemStats(&after)
	if err != nil {
		return err
	}
	out.Allocs = after.Mallocs - before.Mallocs
	return json.NewEncoder(os.Stdout).Encode(out)
}

// runEvents runs an events worker: it prints "ready" once subscribed;
// the driver then installs routes and closes our standard input when
// done. The worker stops when it has seen all routes, or a second after
// standard input closed with no event in that second.
func runEvents(ctx context.Context, w worker, a workerArgs) (workerOut, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var last atomic.Int64 // unix ns of the last event
	var eof atomic.Bool
	var once sync.Once
	ready := func() {
		once.Do(func() {
			fmt.Println("ready")
			go func() {
				_, _ = io.Copy(io.Discard, bufio.NewReader(os.Stdin))
				if last.Load() == 0 {
					last.Store(time.Now().UnixNano())
				}
				eof.Store(true)
			}()
			go func() {
				t := time.NewTicker(50 * time.Millisecond)
				defer t.Stop()
				for {
					select {
					case <-ctx.Done():
						return
					case <-t.C:
						if eof.Load() && time.Since(time.Unix(0, last.Load())) > time.Second {
							cancel()
							return
						}
					}
				}
			}()
		})
	}
	out, err := w.events(ctx, a, ready, func() { last.Store(time.Now().UnixNano()) })
	out.LastUnixNs = last.Load()
	return out, err
}
