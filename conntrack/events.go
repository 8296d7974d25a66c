package conntrack

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/nlkit/nlkit/netfilter"
	"github.com/nlkit/nlkit/netlink"
)

// EventType is what happened to a flow.
type EventType uint8

// Event types.
const (
	EventNew     EventType = 1 // IPCTNL_MSG_CT_NEW with NLM_F_CREATE: a flow was created
	EventUpdate  EventType = 2 // IPCTNL_MSG_CT_NEW: a flow changed (state, status, mark)
	EventDestroy EventType = 3 // IPCTNL_MSG_CT_DELETE: a flow went away
	// EventLost reports that the kernel dropped events because the
	// socket's receive buffer overflowed (ENOBUFS). The stream goes on,
	// but state mirrored from events is stale: list again.
	EventLost EventType = 4
)

// String returns the type as `conntrack -E` tags it: "NEW", "UPDATE",
// "DESTROY", or "LOST".
func (t EventType) String() string {
	switch t {
	case EventNew:
		return "NEW"
	case EventUpdate:
		return "UPDATE"
	case EventDestroy:
		return "DESTROY"
	case EventLost:
		return "LOST"
	}
	return fmt.Sprintf("event(%d)", uint8(t))
}

// Event is one conntrack event: a flow and what happened to it, or a
// report of lost events (Type EventLost, Flow nil).
type Event struct {
	Type EventType
	Flow *Flow
}

// Groups of the conntrack events, for Subscribe.
var (
	GroupNew     = netfilter.GroupConntrackNew     // NFNLGRP_CONNTRACK_NEW
	GroupUpdate  = netfilter.GroupConntrackUpdate  // NFNLGRP_CONNTRACK_UPDATE
	GroupDestroy = netfilter.GroupConntrackDestroy // NFNLGRP_CONNTRACK_DESTROY
)

// ParseEvent decodes a ctnetlink event message. It reports false for
// messages that are not flow events (other subsystems, expectations).
func ParseEvent(m netfilter.Message) (Event, bool, error) {
	if m.Type.Subsystem() != netfilter.SubsysCTNetlink {
		return Event{}, false, nil
	}
	var ev Event
	switch m.Type.Message() {
	case msgNew:
		ev.Type = EventUpdate
		if m.Netlink.Flags&(netlink.Create|netlink.Excl) != 0 {
			ev.Type = EventNew
		}
	case msgDelete:
		ev.Type = EventDestroy
	default:
		return Event{}, false, nil
	}
	f, err := ParseFlow(m)
	if err != nil {
		return Event{}, true, fmt.Errorf("conntrack: %s event: %w", ev.Type, err)
	}
	ev.Flow = f
	return ev, true, nil
}

// Subscription receives conntrack events on a socket of its own.
type Subscription struct {
	c *netfilter.Conn
}

// DefaultEventBuffer is the receive buffer a Subscription asks for: room
// for a burst of some 50,000 events before the kernel drops any.
const DefaultEventBuffer = 32 << 20

// Subscribe opens an event socket in cfg's namespace (nil for the
// current one) and joins groups (new, update and destroy if none are
// given). The socket is subscribed when Subscribe returns: no later
// change is missed. Its receive buffer is DefaultEventBuffer, with
// SO_RCVBUFFORCE when privileged, unless cfg.ReceiveBuffer says
// otherwise. Joining needs CAP_NET_ADMIN (EPERM otherwise).
//
// With net.netfilter.nf_conntrack_events at its default (2), the kernel
// reports events only for flows created while some socket listens: a
// flow older than every subscription is destroyed without an event.
//
// Equivalent to: `conntrack -E`.
func Subscribe(cfg *netlink.Config, groups ...netfilter.Group) (*Subscription, error) {
	var dc netlink.Config
	if cfg != nil {
		dc = *cfg
	}
	if dc.ReceiveBuffer == 0 {
		dc.ReceiveBuffer, dc.ForceReceiveBuffer = DefaultEventBuffer, true
	}
	if len(groups) == 0 {
		groups = []netfilter.Group{GroupNew, GroupUpdate, GroupDestroy}
	}
	c, err := netfilter.Dial(&dc)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		if err := c.JoinGroup(g); err != nil {
			c.Close()
			return nil, fmt.Errorf("conntrack: subscribe: %w", err)
		}
	}
	return &Subscription{c: c}, nil
}

// NewSubscription returns a Subscription on a Conn that already joined
// its groups (for example one on a fake kernel). It takes ownership of c.
func NewSubscription(c *netfilter.Conn) *Subscription { return &Subscription{c: c} }

// Conn returns the subscription's socket.
func (s *Subscription) Conn() *netfilter.Conn { return s.c }

// Close closes the socket; a running Events loop ends with an error
// matching net.ErrClosed.
func (s *Subscription) Close() error { return s.c.Close() }

// Events streams events until ctx ends or the socket fails. An overrun
// yields an Event of type EventLost and the stream goes on; so does a
// message that fails to decode, yielded as an error. The end of ctx ends
// the stream with ctx's error; so does any other socket error.
//
// Equivalent to: `conntrack -E`.
func (s *Subscription) Events(ctx context.Context) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		for m, err := range s.c.Messages(ctx) {
			if errors.Is(err, netlink.ErrOverrun) {
				if !yield(Event{Type: EventLost}, nil) {
					return
				}
				continue
			}
			if errors.Is(err, netfilter.ErrShortMessage) {
				if !yield(Event{}, fmt.Errorf("conntrack: event: %w", err)) {
					return
				}
				continue
			}
			if err != nil {
				yield(Event{}, fmt.Errorf("conntrack: events: %w", err))
				return
			}
			ev, ok, err := ParseEvent(m)
			if err != nil {
				if !yield(Event{}, err) {
					return
				}
				continue
			}
			if ok && !yield(ev, nil) {
				return
			}
		}
	}
}
