package rtnl

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"

	"github.com/nlkit/nlkit/netlink"
)

// Group is an rtnetlink multicast group (enum rtnetlink_groups).
type Group uint32

// Groups of the objects this package decodes.
const (
	GroupLink      Group = 1  // RTNLGRP_LINK
	GroupNeigh     Group = 3  // RTNLGRP_NEIGH
	GroupIPv4Addr  Group = 5  // RTNLGRP_IPV4_IFADDR
	GroupIPv4Route Group = 7  // RTNLGRP_IPV4_ROUTE
	GroupIPv4Rule  Group = 8  // RTNLGRP_IPV4_RULE
	GroupIPv6Addr  Group = 9  // RTNLGRP_IPV6_IFADDR
	GroupIPv6Route Group = 11 // RTNLGRP_IPV6_ROUTE
	GroupIPv6Rule  Group = 19 // RTNLGRP_IPV6_RULE
)

var groupNames = map[Group]string{
	GroupLink: "link", GroupNeigh: "neigh", GroupIPv4Addr: "ipv4-addr", GroupIPv4Route: "ipv4-route",
	GroupIPv4Rule: "ipv4-rule", GroupIPv6Addr: "ipv6-addr", GroupIPv6Route: "ipv6-route", GroupIPv6Rule: "ipv6-rule",
}

// String returns the group's name.
func (g Group) String() string {
	if s, ok := groupNames[g]; ok {
		return s
	}
	return fmt.Sprintf("group(%d)", uint32(g))
}

// Group sets by object, for both address families.
var (
	LinkGroups     = []Group{GroupLink}
	AddressGroups  = []Group{GroupIPv4Addr, GroupIPv6Addr}
	RouteGroups    = []Group{GroupIPv4Route, GroupIPv6Route}
	NeighborGroups = []Group{GroupNeigh}
	RuleGroups     = []Group{GroupIPv4Rule, GroupIPv6Rule}
)

// AllGroups returns the groups of every object type this package decodes.
func AllGroups() []Group {
	var all []Group
	for _, gs := range [][]Group{LinkGroups, AddressGroups, RouteGroups, NeighborGroups, RuleGroups} {
		all = append(all, gs...)
	}
	return all
}

// Event is one change the kernel announced: exactly one of the object
// fields is set, or Lost.
type Event struct {
	// Deleted is true for RTM_DEL* messages (the object went away), false
	// for RTM_NEW* (created or changed).
	Deleted bool

	Link     *Link
	Address  *Address
	Route    *Route
	Neighbor *Neighbor
	Rule     *Rule

	// Lost reports that the kernel dropped events because the socket's
	// receive buffer overflowed (ENOBUFS). The subscription goes on, but
	// state mirrored from events is now stale: dump it again.
	Lost bool
}

// Kind names what the event is about: "link", "addr", "route", "neigh",
// "rule", or "lost".
func (e Event) Kind() string {
	switch {
	case e.Lost:
		return "lost"
	case e.Link != nil:
		return "link"
	case e.Address != nil:
		return "addr"
	case e.Route != nil:
		return "route"
	case e.Neighbor != nil:
		return "neigh"
	case e.Rule != nil:
		return "rule"
	}
	return "unknown"
}

// ParseEvent decodes an rtnetlink notification. It reports false for
// message types this package does not decode.
func ParseEvent(m netlink.Message) (Event, bool, error) {
	var ev Event
	var obj interface{ UnmarshalBinary([]byte) error }
	switch uint16(m.Header.Type) {
	case msgNewLink, msgDelLink:
		ev.Link = new(Link)
		obj = ev.Link
	case msgNewAddr, msgDelAddr:
		ev.Address = new(Address)
		obj = ev.Address
	case msgNewRoute, msgDelRoute:
		ev.Route = new(Route)
		obj = ev.Route
	case msgNewNeigh, msgDelNeigh:
		ev.Neighbor = new(Neighbor)
		obj = ev.Neighbor
	case msgNewRule, msgDelRule:
		ev.Rule = new(Rule)
		obj = ev.Rule
	default:
		return Event{}, false, nil
	}
	switch uint16(m.Header.Type) {
	case msgDelLink, msgDelAddr, msgDelRoute, msgDelNeigh, msgDelRule:
		ev.Deleted = true
	}
	if err := obj.UnmarshalBinary(m.Data); err != nil {
		return Event{}, true, err
	}
	return ev, true, nil
}

// Subscription receives rtnetlink events on a socket of its own.
type Subscription struct {
	c *netlink.Conn
}

// DefaultEventBuffer is the receive buffer a Subscription asks for (the
// kernel doubles it): room for a burst of some 80,000 IPv4 route events
// that nobody reads before the kernel drops any (measured on Linux 6.18,
// see BENCHMARKS.md). A reader that keeps up needs far less: every event
// of a million routes installed at full speed by ip -batch arrives.
// When events are lost all the same, Events yields Event.Lost and goes
// on; dump the objects again to resynchronise.
const DefaultEventBuffer = 32 << 20

// Subscribe opens an event socket in cfg's namespace (nil for the
// current one) and joins groups (all of them if none are given). The
// socket is subscribed when Subscribe returns: no later change is missed.
// Its receive buffer is set to DefaultEventBuffer, with SO_RCVBUFFORCE
// when privileged (otherwise capped by net.core.rmem_max), unless
// cfg.ReceiveBuffer says otherwise.
//
// Equivalent to: `ip monitor link address route neigh rule`.
func Subscribe(cfg *netlink.Config, groups ...Group) (*Subscription, error) {
	var dc netlink.Config
	if cfg != nil {
		dc = *cfg
	}
	if dc.ReceiveBuffer == 0 {
		dc.ReceiveBuffer, dc.ForceReceiveBuffer = DefaultEventBuffer, true
	}
	if len(groups) == 0 {
		groups = AllGroups()
	}
	c, err := netlink.Dial(netlink.Route, &dc)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		if err := c.JoinGroup(uint32(g)); err != nil {
			c.Close()
			return nil, fmt.Errorf("rtnl: subscribe to %s: %w", g, err)
		}
	}
	return &Subscription{c: c}, nil
}

// NewSubscription returns a Subscription on a Conn that already joined
// its groups (for example one from a fake kernel). It takes ownership of c.
func NewSubscription(c *netlink.Conn) *Subscription { return &Subscription{c: c} }

// Conn returns the subscription's socket.
func (s *Subscription) Conn() *netlink.Conn { return s.c }

// Close closes the socket; a running Events loop ends with an error
// matching net.ErrClosed.
func (s *Subscription) Close() error { return s.c.Close() }

// Events streams events until ctx ends or the socket fails. An overrun
// yields an Event with Lost set and the stream goes on; a message that
// fails to decode ends the stream with its error. The end of ctx ends the
// stream with ctx's error.
func (s *Subscription) Events(ctx context.Context) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		for m, err := range s.c.Messages(ctx) {
			if errors.Is(err, netlink.ErrOverrun) {
				if !yield(Event{Lost: true}, nil) {
					return
				}
				continue
			}
			if err != nil {
				yield(Event{}, err)
				return
			}
			ev, ok, err := ParseEvent(m)
			if err != nil {
				yield(Event{}, fmt.Errorf("rtnl: event: %w", err))
				return
			}
			if ok && !yield(ev, nil) {
				return
			}
		}
	}
}

// ParseGroups parses object names as `ip monitor` takes them ("link",
// "addr"/"address", "route", "neigh", "rule", "all") into groups.
func ParseGroups(names []string) ([]Group, error) {
	if len(names) == 0 {
		return AllGroups(), nil
	}
	var out []Group
	for _, n := range names {
		switch strings.ToLower(n) {
		case "link":
			out = append(out, LinkGroups...)
		case "addr", "address":
			out = append(out, AddressGroups...)
		case "route":
			out = append(out, RouteGroups...)
		case "neigh", "neighbor", "neighbour":
			out = append(out, NeighborGroups...)
		case "rule":
			out = append(out, RuleGroups...)
		case "all":
			out = append(out, AllGroups()...)
		default:
			return nil, fmt.Errorf("unknown event type %q (want link, addr, route, neigh, rule or all)", n)
		}
	}
	return out, nil
}
