package audit

import (
	"encoding/json"
	"slices"
	"time"
)

// Event is one audit event: the records the kernel logged with one
// serial number, in the order it sent them. A syscall event is, for
// example, SYSCALL, CWD, PATH..., PROCTITLE and EOE.
type Event struct {
	Serial  uint64
	Time    time.Time
	Records []Record
}

// Record returns the event's first record of type t.
func (e Event) Record(t MessageType) (Record, bool) {
	for _, r := range e.Records {
		if r.Type == t {
			return r, true
		}
	}
	return Record{}, false
}

// Get returns the value of field key in the event's first record of type t.
func (e Event) Get(t MessageType, key string) (string, bool) {
	r, ok := e.Record(t)
	if !ok {
		return "", false
	}
	return r.Get(key)
}

// Complete reports whether the event ended by the grouping rule (an
// AUDIT_EOE, or a standalone record) rather than by age or a flush; see
// Assembler.
func (e Event) Complete() bool {
	if len(e.Records) == 0 {
		return false
	}
	last := e.Records[len(e.Records)-1].Type
	return last == MsgEOE || (len(e.Records) == 1 && last.standalone())
}

// eventJSON is an event in JSON.
type eventJSON struct {
	Serial  uint64   `json:"serial"`
	Time    string   `json:"time"`
	Records []Record `json:"records"`
}

// TimeLayout is the layout of times in JSON: RFC 3339 in UTC with the
// milliseconds the kernel gives.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// MarshalJSON writes {"serial":456,"time":"2023-11-14T22:13:20.123Z",
// "records":[{"type":"SYSCALL","fields":{...}},...]}.
func (e Event) MarshalJSON() ([]byte, error) {
	rs := e.Records
	if rs == nil {
		rs = []Record{}
	}
	return json.Marshal(eventJSON{Serial: e.Serial, Time: e.Time.UTC().Format(TimeLayout), Records: rs})
}

// Defaults of an Assembler.
const (
	// DefaultMaxAge is how long an event without AUDIT_EOE waits for
	// more records.
	DefaultMaxAge = 2 * time.Second
	// DefaultMaxPending is how many events may be open at once.
	DefaultMaxPending = 256
)

// Assembler groups records into events. The rule:
//
//  1. Records with the same serial belong to one event, in arrival order.
//  2. An AUDIT_EOE record ends its event (and is its last record): every
//     syscall event ends with one.
//  3. A record of a type that never belongs to a syscall event is an
//     event by itself: AUDIT_USER, the user-space and daemon messages
//     (1100-1299, 2100-2999) and AUDIT_KERNEL.
//  4. Other records logged outside a syscall (an AUDIT_CONFIG_CHANGE
//     by a kernel thread, for example) have a serial of their own and no
//     EOE: their event ends when no record for it arrived for MaxAge, or
//     when more than MaxPending events are open (the oldest goes first),
//     or at Flush. Event.Complete tells these apart.
//
// An Assembler is not safe for concurrent use; the zero value is ready.
type Assembler struct {
	// MaxAge is how long an open event waits for its next record;
	// 0 means DefaultMaxAge.
	MaxAge time.Duration
	// MaxPending bounds the open events; 0 means DefaultMaxPending.
	MaxPending int

	open  map[uint64]*openEvent
	order []uint64 // serials of open events, oldest first
}

type openEvent struct {
	ev   Event
	last time.Time // arrival of its latest record
}

func (a *Assembler) maxAge() time.Duration {
	if a.MaxAge > 0 {
		return a.MaxAge
	}
	return DefaultMaxAge
}

func (a *Assembler) maxPending() int {
	if a.MaxPending > 0 {
		return a.MaxPending
	}
	return DefaultMaxPending
}

// Push adds a record that arrived at now and returns the events it
// completed (usually none or one), oldest first.
func (a *Assembler) Push(r Record, now time.Time) []Event {
	if a.open == nil {
		a.open = map[uint64]*openEvent{}
	}
	o, ok := a.open[r.Serial]
	if !ok {
		if r.Type.standalone() {
			return []Event{{Serial: r.Serial, Time: r.Time, Records: []Record{r}}}
		}
		o = &openEvent{ev: Event{Serial: r.Serial, Time: r.Time}}
		a.open[r.Serial] = o
		a.order = append(a.order, r.Serial)
	}
	o.ev.Records = append(o.ev.Records, r)
	o.last = now
	var done []Event
	for len(a.order) > a.maxPending() {
		done = append(done, a.remove(a.order[0]))
	}
	if r.Type == MsgEOE || r.Type.standalone() {
		done = append(done, a.remove(r.Serial))
	}
	return done
}

// remove takes an open event out.
func (a *Assembler) remove(serial uint64) Event {
	o := a.open[serial]
	delete(a.open, serial)
	if i := slices.Index(a.order, serial); i >= 0 {
		a.order = slices.Delete(a.order, i, i+1)
	}
	return o.ev
}

// Expire returns, oldest first, the open events whose last record
// arrived MaxAge or more before now.
func (a *Assembler) Expire(now time.Time) []Event {
	var done []Event
	for _, s := range slices.Clone(a.order) {
		if !now.Before(a.open[s].last.Add(a.maxAge())) {
			done = append(done, a.remove(s))
		}
	}
	return done
}

// NextExpiry returns when the next open event expires, or false if none
// is open.
func (a *Assembler) NextExpiry() (time.Time, bool) {
	var t time.Time
	for _, s := range a.order {
		if e := a.open[s].last.Add(a.maxAge()); t.IsZero() || e.Before(t) {
			t = e
		}
	}
	return t, !t.IsZero()
}

// Flush returns every open event, oldest first, and forgets them.
func (a *Assembler) Flush() []Event {
	var done []Event
	for len(a.order) > 0 {
		done = append(done, a.remove(a.order[0]))
	}
	return done
}

// Pending returns the number of open events.
func (a *Assembler) Pending() int { return len(a.order) }
