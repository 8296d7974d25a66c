package conntrack_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nlkit/nlkit/conntrack"
	"github.com/nlkit/nlkit/netfilter"
	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/nltest"
)

// fakeCT is a fake ctnetlink: it records requests, answers dumps with
// flows and fails deletes of unknown flows with ENOENT.
type fakeCT struct {
	mu    sync.Mutex
	seen  []netfilter.Message
	flows []conntrack.Flow
}

func (k *fakeCT) endpoint() *nltest.Endpoint {
	return nltest.NewEndpoint(netlink.Netfilter, nltest.Config{Groups: 3, Input: func(r *nltest.Request) error {
		m, err := netfilter.ParseMessage(r.Message)
		if err != nil {
			return err
		}
		k.mu.Lock()
		m.Data = bytes.Clone(m.Data)
		k.seen = append(k.seen, m)
		flows := k.flows
		k.mu.Unlock()
		switch m.Type.Message() {
		case 1: // IPCTNL_MSG_CT_GET
			var out []netlink.Message
			for _, f := range flows {
				b, _ := f.MarshalBinary()
				nm, _ := netfilter.Message{Type: netfilter.NewMessageType(netfilter.SubsysCTNetlink, 0), Header: netfilter.Header{Family: f.Family()}, Data: b}.NetlinkMessage(0)
				out = append(out, nm)
			}
			if r.Message.Header.Flags&netlink.Dump == netlink.Dump {
				return r.Dump(out, nltest.DumpOptions{})
			}
			if len(out) == 0 {
				return syscall.ENOENT
			}
			return r.Reply(out[0])
		case 2: // IPCTNL_MSG_CT_DELETE
			var f conntrack.Flow
			if err := f.UnmarshalBinary(m.Data); err != nil {
				return err
			}
			if f.Original.Src.IsValid() && (len(flows) == 0 || f.ID != 0 && f.ID != flows[0].ID) {
				return syscall.ENOENT
			}
		}
		return nil
	}})
}

func (k *fakeCT) last(t *testing.T) (netfilter.Message, conntrack.Flow) {
	t.Helper()
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.seen) == 0 {
		t.Fatal("no request")
	}
	m := k.seen[len(k.seen)-1]
	var f conntrack.Flow
	if err := f.UnmarshalBinary(m.Data); err != nil {
		t.Fatal(err)
	}
	return m, f
}

func fakeClient(t *testing.T, k *fakeCT) (*conntrack.Client, *nltest.Endpoint) {
	ep := k.endpoint()
	nc, err := ep.Dial(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := conntrack.NewClient(netfilter.NewConn(nc))
	t.Cleanup(func() { c.Close() })
	return c, ep
}

func TestClientRequests(t *testing.T) {
	tu := conntrack.Tuple{Src: v4a, Dst: v4b, Proto: conntrack.ProtoUDP, SrcPort: 1, DstPort: 2}
	k := &fakeCT{flows: []conntrack.Flow{{Original: tu, Reply: tu.Reverse(), ID: 77, Mark: 5, Zone: 2}}}
	c, _ := fakeClient(t, k)
	ctx := context.Background()

	// Dump with a kernel-side filter.
	mark, zone := uint32(5), uint16(2)
	flows, err := c.List(ctx, &conntrack.Filter{Family: netfilter.FamilyIPv4, Mark: &mark, MarkMask: 0xff, Zone: &zone, Status: conntrack.StatusAssured})
	if err != nil {
		t.Fatal(err)
	}
	if len(flows) != 0 {
		t.Errorf("a flow without ASSURED passed the status filter: %+v", flows)
	}
	m, f := k.last(t)
	if m.Netlink.Flags != netlink.Request|netlink.Dump || m.Header.Family != netfilter.FamilyIPv4 || m.Type != 0x0101 {
		t.Errorf("dump request %+v", m)
	}
	if f.Mark != 5 || f.Zone != 2 || f.Status != conntrack.StatusAssured {
		t.Errorf("dump filter attributes decode as %+v", f)
	}
	if !bytes.Contains(m.Data, []byte{8, 0, 21, 0, 0, 0, 0, 0xff}) { // CTA_MARK_MASK, big-endian
		t.Errorf("no CTA_MARK_MASK 0xff in %x", m.Data)
	}
	if flows, err = c.List(ctx, nil); err != nil || len(flows) != 1 || flows[0].ID != 77 {
		t.Fatalf("List = %+v, %v", flows, err)
	}

	// Create: NLM_F_CREATE|NLM_F_EXCL, reply tuple reversed, CONFIRMED added.
	err = c.Create(ctx, &conntrack.Flow{Original: tu, Timeout: 30 * time.Second, Status: conntrack.StatusAssured, Mark: 9})
	if err != nil {
		t.Fatal(err)
	}
	m, f = k.last(t)
	if m.Netlink.Flags != netlink.Request|netlink.Acknowledge|netlink.Create|netlink.Excl || m.Type != 0x0100 {
		t.Errorf("create request %+v", m.Netlink)
	}
	if f.Reply != tu.Reverse() || f.Timeout != 30*time.Second || f.Mark != 9 || f.Status != conntrack.StatusAssured|conntrack.StatusConfirmed {
		t.Errorf("create attributes %+v", f)
	}

	// Update: no create flags, only what changes.
	newMark := uint32(3)
	if err := c.Update(ctx, tu, 2, conntrack.Change{Mark: &newMark}); err != nil {
		t.Fatal(err)
	}
	m, f = k.last(t)
	if m.Netlink.Flags != netlink.Request|netlink.Acknowledge || f.Mark != 3 || f.Zone != 2 || f.Timeout != 0 || f.Reply.Src.IsValid() {
		t.Errorf("update request %+v %+v", m.Netlink, f)
	}

	// Delete by ID: found by listing, deleted by tuple and ID.
	if err := c.DeleteID(ctx, 77); err != nil {
		t.Fatal(err)
	}
	m, f = k.last(t)
	if m.Type != 0x0102 || f.ID != 77 || f.Original != tu || f.Zone != 2 {
		t.Errorf("delete request %+v %+v", m, f)
	}
	if err := c.DeleteID(ctx, 78); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("DeleteID of a missing id: %v", err)
	}

	// Flush of one family sets the version; of all, leaves it 0.
	if err := c.Flush(ctx, &conntrack.Filter{Family: netfilter.FamilyIPv6}); err != nil {
		t.Fatal(err)
	}
	if m, _ = k.last(t); m.Header.Version != 1 || m.Header.Family != netfilter.FamilyIPv6 || len(m.Data) != 0 {
		t.Errorf("family flush %+v", m)
	}
	if err := c.Flush(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if m, _ = k.last(t); m.Header.Version != 0 || m.Header.Family != 0 {
		t.Errorf("flush %+v", m)
	}

	// Nothing is sent for incomplete requests.
	k.mu.Lock()
	n := len(k.seen)
	k.mu.Unlock()
	for _, err := range []error{
		c.Create(ctx, &conntrack.Flow{Original: tu}),
		c.Update(ctx, conntrack.Tuple{Src: v4a}, 0, conntrack.Change{}),
		c.Delete(ctx, conntrack.Tuple{Src: v4a, Dst: v6a, Proto: 6}, 0),
	} {
		if !errors.Is(err, conntrack.ErrIncomplete) {
			t.Errorf("err = %v, want ErrIncomplete", err)
		}
	}
	k.mu.Lock()
	if len(k.seen) != n {
		t.Errorf("incomplete requests were sent")
	}
	k.mu.Unlock()
}

func TestEventsFake(t *testing.T) {
	k := &fakeCT{}
	ep := k.endpoint()
	nc, err := ep.Dial(nil)
	if err != nil {
		t.Fatal(err)
	}
	nfc := netfilter.NewConn(nc)
	for _, g := range []netfilter.Group{conntrack.GroupNew, conntrack.GroupDestroy} {
		if err := nfc.JoinGroup(g); err != nil {
			t.Fatal(err)
		}
	}
	sub := conntrack.NewSubscription(nfc)
	defer sub.Close()
	tu := conntrack.Tuple{Src: v4a, Dst: v4b, Proto: conntrack.ProtoUDP, SrcPort: 1, DstPort: 2}
	b, _ := (&conntrack.Flow{Original: tu, Reply: tu.Reverse()}).MarshalBinary()
	event := func(msg uint8, flags netlink.HeaderFlags) netlink.Message {
		m, _ := netfilter.Message{Type: netfilter.NewMessageType(netfilter.SubsysCTNetlink, msg), Header: netfilter.Header{Family: 2}, Data: b}.NetlinkMessage(flags)
		return m
	}
	ep.Multicast(1, event(0, netlink.Create|netlink.Excl))
	ep.Multicast(1, event(0, 0))
	ep.Multicast(1, netlink.Message{Header: netlink.Header{Type: 0x0100}, Data: []byte{2, 0, 0, 0, 5, 0, 1, 0}}) // broken
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var got []string
	for ev, err := range sub.Events(ctx) {
		switch {
		case err != nil:
			got = append(got, "error")
			ep.Overrun(nfc.Netlink().PortID())
		case ev.Type == conntrack.EventLost:
			got = append(got, "LOST")
			ep.Multicast(3, event(2, 0))
		default:
			got = append(got, ev.Type.String())
			if ev.Flow.Original != tu {
				t.Errorf("event flow %+v", ev.Flow)
			}
		}
		if len(got) == 5 {
			break
		}
	}
	if want := "NEW UPDATE error LOST DESTROY"; joinWords(got) != want {
		t.Errorf("events %v, want %s", got, want)
	}
}

func joinWords(s []string) string {
	var b bytes.Buffer
	for i, w := range s {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w)
	}
	return b.String()
}
