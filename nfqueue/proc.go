package nfqueue

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/nlkit/nlkit/netlink"
)

// ProcPath is the kernel's table of bound queues, per network namespace.
const ProcPath = "/proc/net/netfilter/nfnetlink_queue"

// KernelStats is one line of /proc/net/netfilter/nfnetlink_queue: the
// kernel's counters for a bound queue. They count from the bind and
// vanish with the queue.
type KernelStats struct {
	// Queue is the queue number.
	Queue uint16
	// PortID is the netlink port of the socket bound to it.
	PortID uint32
	// Waiting is the number of packets waiting for a verdict now
	// (queue_total); it never exceeds the queue's MaxLen.
	Waiting uint32
	// CopyMode and CopyRange are the configured copy settings.
	CopyMode  CopyMode
	CopyRange uint32
	// QueueDropped counts packets dropped because the queue was full
	// (Waiting reached MaxLen) and FailOpen was off. With FailOpen they
	// are accepted and counted nowhere.
	QueueDropped uint32
	// UserDropped counts packets dropped because the socket's receive
	// buffer was full (a socket overrun) and FailOpen was off. With
	// FailOpen they are accepted, uncounted here; see Stats.Lost.
	UserDropped uint32
	// IDSequence is the last packet ID given out.
	IDSequence uint32
}

// ParseKernelStats parses the contents of ProcPath.
func ParseKernelStats(r io.Reader) ([]KernelStats, error) {
	var out []KernelStats
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) < 8 {
			return nil, fmt.Errorf("nfqueue: %s line %d: %d fields, want at least 8", ProcPath, line, len(f))
		}
		var v [8]uint64
		for i := range v {
			bits := 32
			switch i {
			case 0:
				bits = 16
			case 3:
				bits = 8
			}
			n, err := strconv.ParseUint(f[i], 10, bits)
			if err != nil {
				return nil, fmt.Errorf("nfqueue: %s line %d field %d: %w", ProcPath, line, i+1, err)
			}
			v[i] = n
		}
		out = append(out, KernelStats{
			Queue: uint16(v[0]), PortID: uint32(v[1]), Waiting: uint32(v[2]), CopyMode: CopyMode(v[3]),
			CopyRange: uint32(v[4]), QueueDropped: uint32(v[5]), UserDropped: uint32(v[6]), IDSequence: uint32(v[7]),
		})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("nfqueue: read %s: %w", ProcPath, err)
	}
	return out, nil
}

// ReadKernelStats reads the kernel's counters of every bound queue in
// nc's network namespace (nil: the current one). The file is readable by
// root only.
//
// Equivalent to: `cat /proc/net/netfilter/nfnetlink_queue`.
func ReadKernelStats(nc *netlink.Config) ([]KernelStats, error) {
	var f *os.File
	// A /proc/net file shows the namespace of the thread that opens it.
	err := netlink.RunInNetNS(nc, func() error {
		var err error
		f, err = os.Open("/proc/thread-self/net/netfilter/nfnetlink_queue")
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("nfqueue: kernel counters: %w", err)
	}
	defer f.Close()
	return ParseKernelStats(f)
}

// KernelStats returns the kernel's counters of this queue, in the
// namespace nc names (the Queue's own; nil for the current one).
//
// Equivalent to: `grep '^ *NUM ' /proc/net/netfilter/nfnetlink_queue`.
func (q *Queue) KernelStats(nc *netlink.Config) (KernelStats, error) {
	all, err := ReadKernelStats(nc)
	if err != nil {
		return KernelStats{}, err
	}
	port := q.c.Netlink().PortID()
	for _, s := range all {
		if s.Queue == q.num && s.PortID == port {
			return s, nil
		}
	}
	return KernelStats{}, fmt.Errorf("nfqueue: queue %d is not bound to this socket (port %d) in %s", q.num, port, ProcPath)
}
