package rtnl

import (
	"context"
	"errors"
	"iter"
	"testing"

	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/nltest"
)

func TestParseEvent(t *testing.T) {
	link, _ := (&Link{Index: 3, Name: "x"}).MarshalBinary()
	tests := []struct {
		typ     uint16
		kind    string
		deleted bool
	}{
		{msgNewLink, "link", false}, {msgDelLink, "link", true},
	}
	for _, tt := range tests {
		ev, ok, err := ParseEvent(netlink.Message{Header: netlink.Header{Type: netlink.HeaderType(tt.typ)}, Data: link})
		if err != nil || !ok || ev.Kind() != tt.kind || ev.Deleted != tt.deleted || ev.Link.Name != "x" {
			t.Errorf("type %d: %+v %v %v", tt.typ, ev, ok, err)
		}
	}
	if _, ok, err := ParseEvent(netlink.Message{Header: netlink.Header{Type: 99}}); ok || err != nil {
		t.Errorf("unknown type: %v %v", ok, err)
	}
	if _, ok, err := ParseEvent(netlink.Message{Header: netlink.Header{Type: msgNewRoute}, Data: []byte{1}}); !ok || err == nil {
		t.Errorf("short route: %v %v", ok, err)
	}
	for _, n := range []string{"link", "addr", "route", "neigh", "rule", "all"} {
		if gs, err := ParseGroups([]string{n}); err != nil || len(gs) == 0 {
			t.Errorf("group %q: %v %v", n, gs, err)
		}
	}
	if (Event{Lost: true}).Kind() != "lost" || GroupLink.String() != "link" || Group(99).String() != "group(99)" {
		t.Error("names")
	}
}

// pull is iter.Pull2 with a friendlier signature for tests.
func pull(seq iter.Seq2[Event, error]) (func() (Event, error), func()) {
	next, stop := iter.Pull2(seq)
	return func() (Event, error) {
		ev, err, ok := next()
		if !ok {
			return Event{}, errors.New("stream ended")
		}
		return ev, err
	}, stop
}

func TestSubscriptionOnFakeKernel(t *testing.T) {
	ep := nltest.NewEndpoint(netlink.Route, nltest.Config{Groups: 32})
	c, err := ep.Dial(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.JoinGroup(uint32(GroupLink)); err != nil {
		t.Fatal(err)
	}
	sub := NewSubscription(c)
	defer sub.Close()
	next, stop := pull(sub.Events(context.Background()))
	defer stop()
	link, _ := (&Link{Index: 5, Name: "fake0"}).MarshalBinary()
	if _, err := ep.Multicast(uint32(GroupLink), netlink.Message{Header: netlink.Header{Type: msgNewLink}, Data: link}); err != nil {
		t.Fatal(err)
	}
	if ev, err := next(); err != nil || ev.Link == nil || ev.Link.Name != "fake0" {
		t.Fatalf("first event: %+v %v", ev, err)
	}
	// A forged event from a user port is not believed.
	if _, err := ep.SpoofMulticast(4242, uint32(GroupLink), netlink.Message{Header: netlink.Header{Type: msgDelLink}, Data: link}); err != nil {
		t.Fatal(err)
	}
	ep.Overrun(c.PortID())
	if ev, err := next(); err != nil || !ev.Lost {
		t.Fatalf("want a lost event, got %+v %v", ev, err)
	}
	if _, err := ep.Multicast(uint32(GroupLink), netlink.Message{Header: netlink.Header{Type: msgDelLink}, Data: link}); err != nil {
		t.Fatal(err)
	}
	if ev, err := next(); err != nil || ev.Link == nil || !ev.Deleted {
		t.Fatalf("after the overrun: %+v %v", ev, err)
	}
	if c.Stats().Spoofed != 1 {
		t.Fatalf("spoofed = %d", c.Stats().Spoofed)
	}
	// A malformed event ends the stream with an error.
	if _, err := ep.Multicast(uint32(GroupLink), netlink.Message{Header: netlink.Header{Type: msgNewLink}, Data: []byte{1, 2}}); err != nil {
		t.Fatal(err)
	}
	if _, err := next(); err == nil {
		t.Fatal("malformed event accepted")
	}
}
