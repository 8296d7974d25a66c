package connector

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"sync"
	"syscall"
	"time"

	"github.com/nlkit/nlkit/netlink"
)

// ErrUnavailable reports that the process connector cannot be reached
// from here: a kernel without it (CONFIG_PROC_EVENTS), a socket outside
// the initial network namespace, or a caller outside the initial user and
// PID namespaces. errors.Is(err, ErrUnavailable) holds for such errors,
// and so does errors.Is with the kernel's errno when there was one.
var ErrUnavailable = errors.New("process connector unavailable")

// unavailableError is an ErrUnavailable with what happened and why.
type unavailableError struct {
	what string
	why  string
	err  error
}

func (e *unavailableError) Error() string {
	s := "connector: " + e.what + ": " + ErrUnavailable.Error() + ": " + e.why
	if e.err != nil {
		s += " (" + e.err.Error() + ")"
	}
	return s
}

func (e *unavailableError) Unwrap() []error {
	if e.err == nil {
		return []error{ErrUnavailable}
	}
	return []error{ErrUnavailable, e.err}
}

// DefaultProcBuffer is the receive buffer SubscribeProc asks for: room
// for tens of thousands of events (each costs about 1 KiB of buffer)
// before the kernel drops any.
const DefaultProcBuffer = 16 << 20

// AckTimeout bounds how long SubscribeProc waits for the kernel to
// acknowledge the subscription when ctx has no earlier deadline.
const AckTimeout = 5 * time.Second

// ProcSubscription receives process events on a socket of its own.
type ProcSubscription struct {
	c *netlink.Conn

	filter ProcEventType // kernelFilter of the filter asked for; 0 for none

	mu      sync.Mutex
	pending []ProcEvent // events read while waiting for the acknowledgement
}

// SubscribeProc opens a NETLINK_CONNECTOR socket, joins the process
// events group (CN_IDX_PROC) and asks the kernel to send events
// (PROC_CN_MCAST_LISTEN); it returns once the kernel acknowledged, so no
// later event is missed.
//
// filter selects event types, as an OR of ProcEvent* bits (0 means all):
// ProcEventExit selects every exit, ProcEventNonzeroExit only exits with
// a non-zero code. Linux 6.6 and later apply it in the kernel (struct
// proc_input), which then sends the socket nothing else; the
// subscription also applies it to what it reads, so older kernels give
// the same stream. With a filter, other listeners' acknowledgements
// (ProcEventNone) are not reported either.
//
// The receive buffer is DefaultProcBuffer (SO_RCVBUFFORCE when
// privileged) unless cfg.ReceiveBuffer says otherwise. Joining the group
// needs CAP_NET_ADMIN before Linux 6.6 (EPERM otherwise; any user may
// since). The connector exists only in the initial network namespace: a
// cfg.NetNS elsewhere gives ErrUnavailable, as does a caller in another
// user or PID namespace (the kernel ignores it, and SubscribeProc gives
// up after AckTimeout).
//
// Equivalent to: `forkstat` (the process connector has no iproute2 tool).
func SubscribeProc(ctx context.Context, cfg *netlink.Config, filter ProcEventType) (*ProcSubscription, error) {
	var dc netlink.Config
	if cfg != nil {
		dc = *cfg
	}
	if dc.ReceiveBuffer == 0 {
		dc.ReceiveBuffer, dc.ForceReceiveBuffer = DefaultProcBuffer, true
	}
	c, err := netlink.Dial(netlink.Connector, &dc)
	if err != nil {
		if errors.Is(err, syscall.EPROTONOSUPPORT) {
			return nil, &unavailableError{what: "subscribe to process events", why: "the kernel has no connector (CONFIG_CONNECTOR, CONFIG_PROC_EVENTS)", err: err}
		}
		return nil, fmt.Errorf("connector: subscribe to process events: %w", err)
	}
	s, err := NewProcSubscription(ctx, c, filter)
	if err != nil {
		c.Close()
		return nil, err
	}
	return s, nil
}

// NewProcSubscription subscribes c, an open NETLINK_CONNECTOR Conn (for
// example one from a fake kernel), to process events as SubscribeProc
// does, and returns a ProcSubscription that owns c. On error c is left
// open.
func NewProcSubscription(ctx context.Context, c *netlink.Conn, filter ProcEventType) (*ProcSubscription, error) {
	const what = "subscribe to process events"
	if err := c.JoinGroup(ProcID.Index); err != nil {
		return nil, fmt.Errorf("connector: %s: join group %d: %w", what, ProcID.Index, err)
	}
	s := &ProcSubscription{c: c}
	// The kernel numbers its messages itself (a per-CPU count in seq);
	// only the ack field, the request's plus one, identifies the answer.
	// The request carries no filter: the kernel filters its own
	// acknowledgement like any event, and would drop it.
	ack := rand.Uint32() >> 1
	if err := s.send(procListen, 0, ack); err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return nil, &unavailableError{what: what, why: "the process connector serves the initial network namespace only", err: err}
		}
		return nil, fmt.Errorf("connector: %s: %w", what, err)
	}
	if err := s.waitAck(ctx, ack+1); err != nil {
		return nil, err
	}
	if f := kernelFilter(filter); f != kernelAll {
		// Now the filter: the kernel applies it before the send returns
		// (Linux 6.6; older kernels ignore a request of this size).
		if err := s.send(procListen, f, rand.Uint32()>>1); err != nil {
			return nil, fmt.Errorf("connector: %s: set event filter: %w", what, err)
		}
		s.filter = f
	}
	return s, nil
}

// kernelAll is what the kernel stores for "all events" (PROC_EVENT_ALL,
// which includes the NONZERO_EXIT bit).
const kernelAll = ProcEventAll | ProcEventNonzeroExit

// kernelFilter normalizes a filter as the kernel does (valid_event, and
// none meaning all).
func kernelFilter(f ProcEventType) ProcEventType {
	f &= kernelAll
	if f == 0 {
		return kernelAll
	}
	return f
}

// passes reports whether ev gets through filter f, as the kernel's
// cn_filter decides.
func passes(f ProcEventType, ev *ProcEvent) bool {
	switch {
	case f == 0 || f == kernelAll || ev.Lost:
		return true
	case f&ProcEventNonzeroExit != 0 && ev.What == ProcEventExit && ev.Exit != nil && ev.Exit.Code != 0:
		return true
	}
	return f&ev.What != 0
}

// send sends a multicast operation numbered ack, with the filter if any
// (struct proc_input), else the bare operation (enum proc_cn_mcast_op).
func (s *ProcSubscription) send(op uint32, filter ProcEventType, ack uint32) error {
	data := binary.NativeEndian.AppendUint32(nil, op)
	if filter != 0 {
		data = binary.NativeEndian.AppendUint32(data, uint32(filter))
	}
	b, err := Message{ID: ProcID, Ack: ack, Data: data}.MarshalBinary()
	if err != nil {
		return err
	}
	_, err = s.c.Send(netlink.Message{Header: netlink.Header{Type: MessageType}, Data: b})
	return err
}

// waitAck reads until the acknowledgement whose ack field is want,
// keeping the events read meanwhile.
func (s *ProcSubscription) waitAck(ctx context.Context, want uint32) error {
	const what = "subscribe to process events"
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, AckTimeout)
	defer cancel()
	for {
		msgs, err := s.c.Receive(ctx)
		if errors.Is(err, netlink.ErrOverrun) {
			s.pending = append(s.pending, ProcEvent{Lost: true})
			continue
		}
		if err != nil && parent.Err() != nil {
			return fmt.Errorf("connector: %s: waiting for the acknowledgement: %w", what, parent.Err())
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return &unavailableError{
				what: what,
				why: fmt.Sprintf("no acknowledgement from the kernel within %v: it answers only callers in the initial user and PID namespaces",
					AckTimeout),
			}
		}
		if err != nil {
			return fmt.Errorf("connector: %s: %w", what, err)
		}
		for _, m := range msgs {
			var cm Message
			if err := cm.UnmarshalBinary(m.Data); err != nil || cm.ID != ProcID {
				continue // not for us; a malformed one will show in Events
			}
			var ev ProcEvent
			if err := ev.UnmarshalBinary(cm.Data); err != nil {
				continue
			}
			if ev.Ack != nil && cm.Ack == want {
				if ev.Ack.Err != 0 {
					return fmt.Errorf("connector: %s: kernel answered: %w", what, syscall.Errno(ev.Ack.Err))
				}
				return nil
			}
			s.pending = append(s.pending, ev)
		}
	}
}

// Conn returns the subscription's socket.
func (s *ProcSubscription) Conn() *netlink.Conn { return s.c }

// Close asks the kernel to stop sending events to this socket
// (PROC_CN_MCAST_IGNORE, which keeps the kernel's count of listeners
// right: it stops producing events when none is left) and closes the
// socket. A running Events loop ends with an error matching
// net.ErrClosed.
func (s *ProcSubscription) Close() error {
	ignoreErr := s.send(procIgnore, 0, rand.Uint32()>>1)
	if err := s.c.Close(); err != nil {
		return err
	}
	if ignoreErr != nil {
		return fmt.Errorf("connector: unsubscribe from process events: %w", ignoreErr)
	}
	return nil
}

// Events streams process events until ctx ends or the socket fails,
// starting with those that arrived while SubscribeProc waited for its
// acknowledgement. Acknowledgements of other listeners' subscriptions
// are events too (ProcEventNone), unless a filter was set. An overrun yields a ProcEvent with
// Lost set and the stream goes on; a message that fails to decode ends
// the stream with its error, as does the end of ctx (with ctx's error).
// Messages of other connector users are skipped.
//
// Equivalent to: `forkstat -e all`.
func (s *ProcSubscription) Events(ctx context.Context) iter.Seq2[ProcEvent, error] {
	return func(yield func(ProcEvent, error) bool) {
		s.mu.Lock()
		pending := s.pending
		s.pending = nil
		s.mu.Unlock()
		for _, ev := range pending {
			if passes(s.filter, &ev) && !yield(ev, nil) {
				return
			}
		}
		for m, err := range s.c.Messages(ctx) {
			if errors.Is(err, netlink.ErrOverrun) {
				if !yield(ProcEvent{Lost: true}, nil) {
					return
				}
				continue
			}
			if err != nil {
				yield(ProcEvent{}, fmt.Errorf("connector: process events: %w", err))
				return
			}
			ev, ok, err := ParseProcEvent(m)
			if err != nil {
				yield(ProcEvent{}, err)
				return
			}
			if ok && passes(s.filter, &ev) && !yield(ev, nil) {
				return
			}
		}
	}
}
