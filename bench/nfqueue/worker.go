package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"sync/atomic"
	"syscall"
	"time"

	gonfq "github.com/florianl/go-nfqueue"
	mdnetlink "github.com/mdlayher/netlink"

	"github.com/nlkit/nlkit/ids"
	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/nfqueue"
)

// runWorker runs one Go consumer on queue 0 in namespace ns until
// SIGTERM, printing "ready" once bound and "verdicts N" at the end.
func runWorker(impl, ns, rulesFile, cpuProfile string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var det *ids.Detector
	if impl == "nlkit+ids" || impl == "go-nfqueue+ids" {
		rs, err := ids.ParseFile(rulesFile, nil)
		if err != nil {
			return err
		}
		det = ids.NewDetector(ids.NewEngine(rs), nil)
	}
	var n uint64
	switch impl {
	case "nlkit", "nlkit+ids":
		q, err := nfqueue.Open(ctx, 0, nfqueue.Config{}, &netlink.Config{NetNS: ns})
		if err != nil {
			return err
		}
		defer q.Close()
		var w *ids.Worker
		if det != nil {
			w = det.NewWorker()
		}
		fmt.Println("ready")
		for p, err := range q.Packets(ctx) {
			if err != nil {
				if ctx.Err() != nil {
					break
				}
				continue
			}
			if w != nil {
				w.Inspect(p.Payload, p.Timestamp, "")
			}
			if err := q.SetVerdict(p.ID, nfqueue.Accept); err != nil {
				return err
			}
			n++
		}
	case "go-nfqueue", "go-nfqueue+ids":
		fd, err := syscall.Open("/run/netns/"+ns, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer syscall.Close(fd)
		nf, err := gonfq.Open(&gonfq.Config{
			NetNS: fd, NfQueue: 0, MaxPacketLen: 0xffff, MaxQueueLen: 1024,
			Copymode: gonfq.NfQnlCopyPacket, WriteTimeout: 100 * time.Millisecond,
		})
		if err != nil {
			return err
		}
		defer nf.Close()
		// The same socket settings as nlkit's: no ENOBUFS, 16 MiB.
		_ = nf.SetOption(mdnetlink.NoENOBUFS, true)
		_ = nf.Con.SetReadBuffer(16 << 20)
		var w *ids.Worker
		if det != nil {
			w = det.NewWorker()
		}
		var count atomic.Uint64
		fn := func(a gonfq.Attribute) int {
			if w != nil && a.Payload != nil {
				w.Inspect(*a.Payload, time.Time{}, "")
			}
			if err := nf.SetVerdict(*a.PacketID, gonfq.NfAccept); err == nil {
				count.Add(1)
			}
			return 0
		}
		if err := nf.RegisterWithErrorFunc(ctx, fn, func(error) int { return 0 }); err != nil {
			return err
		}
		fmt.Println("ready")
		<-ctx.Done()
		n = count.Load()
	default:
		return fmt.Errorf("unknown consumer %q", impl)
	}
	fmt.Printf("verdicts %d\n", n)
	return nil
}
