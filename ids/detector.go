package ids

import (
	"sync/atomic"
	"time"
)

// Counters are a Detector's totals.
type Counters struct {
	Packets     uint64 // packets inspected
	Accepted    uint64 // verdicts: accept
	Dropped     uint64 // verdicts: drop
	Alerts      uint64 // EVE alerts written (one per matching alert or drop rule)
	Passed      uint64 // packets a pass rule let through uninspected by the rest
	Undecodable uint64 // packets that did not decode as IP (accepted)
	EVEErrors   uint64 // alerts that could not be written
}

// Detector inspects packets with the rules of an Engine that can be
// swapped at any time (a reload), counts verdicts and writes alerts. It
// is safe for concurrent use; each goroutine inspecting packets needs a
// Worker of its own.
type Detector struct {
	engine atomic.Pointer[Engine]
	eve    *EVEWriter

	packets, accepted, dropped, alerts, passed, undecodable, eveErrors atomic.Uint64
}

// NewDetector returns a Detector with engine e, writing alerts to eve
// (nil: alerts are counted, not written).
func NewDetector(e *Engine, eve *EVEWriter) *Detector {
	d := &Detector{eve: eve}
	d.engine.Store(e)
	return d
}

// Swap makes e the engine for every packet inspected from now on and
// returns the previous one. Packets being inspected finish with the
// engine they started with: no packet is inspected by a mix of both, and
// none waits.
func (d *Detector) Swap(e *Engine) *Engine { return d.engine.Swap(e) }

// Engine returns the engine in use.
func (d *Detector) Engine() *Engine { return d.engine.Load() }

// Counters returns the totals so far.
func (d *Detector) Counters() Counters {
	return Counters{
		Packets: d.packets.Load(), Accepted: d.accepted.Load(), Dropped: d.dropped.Load(),
		Alerts: d.alerts.Load(), Passed: d.passed.Load(), Undecodable: d.undecodable.Load(),
		EVEErrors: d.eveErrors.Load(),
	}
}

// Worker inspects packets for one goroutine: it owns a Decoder and a
// Result to reuse.
type Worker struct {
	d   *Detector
	dec *Decoder
	pkt Packet
	res Result
}

// NewWorker returns a Worker; it is not safe for concurrent use.
func (d *Detector) NewWorker() *Worker {
	return &Worker{d: d, dec: NewDecoder(), res: Result{Alerts: make([]*Rule, 0, 8)}}
}

// Inspect decodes raw (an IP packet from its network header), matches it
// against the rules, writes an EVE alert for each matching alert or drop
// rule, and returns the verdict. ts is when the packet was seen (zero:
// now); iface names its input interface for EVE (may be empty). A packet
// that does not decode as IP is accepted and counted as undecodable; one
// whose transport header is cut short is still matched by ip rules.
func (w *Worker) Inspect(raw []byte, ts time.Time, iface string) Verdict {
	d := w.d
	d.packets.Add(1)
	w.pkt.Timestamp, w.pkt.InIface = ts, iface
	if err := w.dec.Decode(raw, &w.pkt); err != nil && !w.pkt.Src.IsValid() {
		d.undecodable.Add(1)
		d.accepted.Add(1)
		return Accept
	}
	d.Engine().Inspect(&w.pkt, &w.res)
	if w.res.Pass != nil {
		d.passed.Add(1)
	}
	for _, r := range w.res.Alerts {
		d.alerts.Add(1)
		if d.eve != nil {
			if err := d.eve.Alert(&w.pkt, r); err != nil {
				d.eveErrors.Add(1)
			}
		}
	}
	if w.res.Verdict == Drop {
		d.dropped.Add(1)
	} else {
		d.accepted.Add(1)
	}
	return w.res.Verdict
}

// Result returns the details of the last Inspect (valid until the next).
func (w *Worker) Result() *Result { return &w.res }

// Packet returns the last packet decoded (valid until the next Inspect;
// its slices alias the raw bytes given to Inspect).
func (w *Worker) Packet() *Packet { return &w.pkt }
