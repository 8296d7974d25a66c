package netfilter_test

import (
	"bytes"
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/nlkit/nlkit/netfilter"
	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/nltest"
)

var ctGet = netfilter.NewMessageType(netfilter.SubsysCTNetlink, 1)

// fakeKernel answers ctGet requests by echoing their header and data,
// dumps with three messages, and fails everything else with ENOENT.
func fakeKernel(t *testing.T, seen *[]netfilter.Message) *nltest.Endpoint {
	t.Helper()
	return nltest.NewEndpoint(netlink.Netfilter, nltest.Config{
		Groups: 9,
		Input: func(r *nltest.Request) error {
			m, err := netfilter.ParseMessage(r.Message)
			if err != nil {
				return err
			}
			if seen != nil {
				*seen = append(*seen, netfilter.Message{Type: m.Type, Header: m.Header, Data: bytes.Clone(m.Data), Netlink: m.Netlink})
			}
			if m.Type != ctGet {
				return &nltest.Error{Errno: syscall.ENOENT, Message: "no such thing"}
			}
			reply, _ := m.NetlinkMessage(0)
			if r.Message.Header.Flags&netlink.Dump == netlink.Dump {
				return r.Dump([]netlink.Message{reply, reply, reply}, nltest.DumpOptions{})
			}
			return r.Reply(reply)
		},
	})
}

func dial(t *testing.T, ep *nltest.Endpoint) *netfilter.Conn {
	t.Helper()
	nc, err := ep.Dial(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := netfilter.NewConn(nc)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestExecute(t *testing.T) {
	var seen []netfilter.Message
	c := dial(t, fakeKernel(t, &seen))
	ctx := context.Background()
	req := netfilter.Message{Type: ctGet, Header: netfilter.Header{Family: netfilter.FamilyIPv6, ResourceID: 3}, Data: []byte{4, 0, 1, 0}}
	replies, err := c.Execute(ctx, req, netlink.Create|netlink.Excl)
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 {
		t.Fatalf("kernel saw %d requests", len(seen))
	}
	got := seen[0]
	if got.Netlink.Flags != netlink.Request|netlink.Acknowledge|netlink.Create|netlink.Excl {
		t.Errorf("request flags = %v", got.Netlink.Flags)
	}
	if got.Type != ctGet || got.Header != req.Header || !bytes.Equal(got.Data, req.Data) {
		t.Errorf("kernel saw %+v, want %+v", got, req)
	}
	if len(replies) != 1 || replies[0].Type != ctGet || replies[0].Header != req.Header || !bytes.Equal(replies[0].Data, req.Data) {
		t.Errorf("replies = %+v", replies)
	}

	_, err = c.Execute(ctx, netfilter.Message{Type: netfilter.NewMessageType(netfilter.SubsysQueue, 2)}, 0)
	var op *netlink.OpError
	if !errors.Is(err, syscall.ENOENT) || !errors.As(err, &op) || op.Message != "no such thing" {
		t.Errorf("err = %v, want an OpError wrapping ENOENT with the ack text", err)
	}
}

func TestDump(t *testing.T) {
	var seen []netfilter.Message
	c := dial(t, fakeKernel(t, &seen))
	n := 0
	for m, err := range c.Dump(context.Background(), netfilter.Message{Type: ctGet, Header: netfilter.Header{Family: netfilter.FamilyIPv4}}) {
		if err != nil {
			t.Fatal(err)
		}
		if m.Type != ctGet || m.Header.Family != netfilter.FamilyIPv4 || m.Netlink.Flags&netlink.Multi == 0 {
			t.Errorf("dump message %+v", m)
		}
		n++
	}
	if n != 3 {
		t.Errorf("dump yielded %d messages, want 3", n)
	}
	if len(seen) != 1 || seen[0].Netlink.Flags != netlink.Request|netlink.Dump {
		t.Errorf("kernel saw %+v", seen)
	}
	// An early break leaves the Conn usable.
	for range c.Dump(context.Background(), netfilter.Message{Type: ctGet}) {
		break
	}
	if _, err := c.Execute(context.Background(), netfilter.Message{Type: ctGet}, 0); err != nil {
		t.Errorf("execute after an abandoned dump: %v", err)
	}
}

func TestMessagesAndOverrun(t *testing.T) {
	ep := fakeKernel(t, nil)
	c := dial(t, ep)
	if err := c.JoinGroup(netfilter.GroupConntrackNew); err != nil {
		t.Fatal(err)
	}
	if err := c.JoinGroup(netfilter.Group(40)); err == nil {
		t.Error("joining a group the kernel does not have: no error")
	}
	ev := netfilter.Message{Type: netfilter.NewMessageType(netfilter.SubsysCTNetlink, 0), Header: netfilter.Header{Family: netfilter.FamilyIPv4}}
	nm, _ := ev.NetlinkMessage(0)
	port := c.Netlink().PortID()

	if _, err := ep.Multicast(uint32(netfilter.GroupConntrackNew), nm); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var kinds []string
	for m, err := range c.Messages(ctx) {
		switch {
		case errors.Is(err, netlink.ErrOverrun):
			kinds = append(kinds, "overrun")
			// After the overrun: a control message (skipped), a short
			// payload (an error, the stream goes on), then an event.
			ep.Unicast(port, netlink.Message{Header: netlink.Header{Type: netlink.Noop}})
			ep.Unicast(port, netlink.Message{Header: netlink.Header{Type: 0x0100}, Data: []byte{1}})
			ep.Multicast(uint32(netfilter.GroupConntrackNew), nm)
		case errors.Is(err, netfilter.ErrShortMessage):
			kinds = append(kinds, "short")
		case err != nil:
			t.Fatal(err)
		default:
			kinds = append(kinds, m.Type.String())
			if len(kinds) == 1 {
				if err := ep.Overrun(port); err != nil {
					t.Fatal(err)
				}
			}
		}
		if len(kinds) == 4 {
			break
		}
	}
	want := []string{"ctnetlink/0", "overrun", "short", "ctnetlink/0"}
	if len(kinds) != len(want) {
		t.Fatalf("stream = %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("stream = %v, want %v", kinds, want)
		}
	}
	if err := c.LeaveGroup(netfilter.GroupConntrackNew); err != nil {
		t.Error(err)
	}
}

func TestSendAndReceive(t *testing.T) {
	c := dial(t, fakeKernel(t, nil))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// A request sent without waiting; its reply, then an error ack of a
	// failing request, arrive through Receive.
	if _, err := c.Send(netfilter.Message{Type: ctGet, Header: netfilter.Header{ResourceID: 9}}, 0); err != nil {
		t.Fatal(err)
	}
	msgs, err := c.Receive(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Header.ResourceID != 9 {
		t.Errorf("Receive = %+v", msgs)
	}
	if _, err := c.Send(netfilter.Message{Type: netfilter.NewMessageType(netfilter.SubsysQueue, 1)}, netlink.Acknowledge); err != nil {
		t.Fatal(err)
	}
	_, err = c.Receive(ctx)
	if !errors.Is(err, syscall.ENOENT) {
		t.Errorf("Receive after a failing Send: err = %v, want ENOENT", err)
	}
}
