package genl_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nlkit/nlkit/genl"
	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/nltest"
)

const testFamilyID = 0x20 // a family answered by fakeKernel besides the controller

// fakeKernel replays the captured controller messages on an nltest
// endpoint, and answers a test family with ID 0x20.
type fakeKernel struct {
	ep      *nltest.Endpoint
	lookups atomic.Int32 // CTRL_CMD_GETFAMILY requests by name
	dump    []netlink.Message
	nlctrl  netlink.Message
}

func newFakeKernel(t *testing.T) *fakeKernel {
	k := &fakeKernel{dump: readMessages(t, "ctrl_dump.bin"), nlctrl: readMessages(t, "ctrl_get_nlctrl.bin")[0]}
	k.ep = nltest.NewEndpoint(netlink.Generic, nltest.Config{Groups: 32, Input: k.input})
	return k
}

func (k *fakeKernel) dial(t *testing.T) *genl.Conn {
	t.Helper()
	c, err := k.ep.Dial(nil)
	if err != nil {
		t.Fatal(err)
	}
	g := genl.NewConn(c)
	t.Cleanup(func() { g.Close() })
	return g
}

// reply strips the captured header down to what a kernel reply keeps.
func reply(m netlink.Message) netlink.Message {
	return netlink.Message{Header: netlink.Header{Type: m.Header.Type}, Data: m.Data}
}

func (k *fakeKernel) input(r *nltest.Request) error {
	m := r.Message
	if len(m.Data) < genl.HeaderLen {
		return syscall.EINVAL
	}
	cmd := m.Data[0]
	switch {
	case m.Header.Type == 0x10 && cmd == 3 && m.Header.Flags&netlink.Dump == netlink.Dump:
		msgs := make([]netlink.Message, len(k.dump))
		for i, d := range k.dump {
			msgs[i] = reply(d)
		}
		return r.Dump(msgs, nltest.DumpOptions{})
	case m.Header.Type == 0x10 && cmd == 3:
		k.lookups.Add(1)
		d := netlink.NewAttributeDecoder(m.Data[genl.HeaderLen:])
		name := ""
		for d.Next() {
			if d.Type() == 2 {
				name = d.String()
			}
		}
		switch name {
		case "nlctrl":
			return r.Reply(reply(k.nlctrl))
		case "nlkit-extack":
			return &nltest.Error{Errno: syscall.ENOENT, Message: "no such family (test)"}
		case "nlkit-other":
			// A confused controller answering for another family.
			return r.Reply(reply(k.dump[1]))
		}
		return syscall.ENOENT
	case m.Header.Type == testFamilyID && cmd == 1: // echo the attributes
		return r.Reply(netlink.Message{Header: netlink.Header{Type: testFamilyID}, Data: append([]byte{1, 7, 0, 0}, m.Data[4:]...)})
	case m.Header.Type == testFamilyID && cmd == 2:
		return &nltest.Error{Errno: syscall.EINVAL, Message: "hello: missing TEXT attribute", Offset: 20}
	case m.Header.Type == testFamilyID && cmd == 3: // a reply too short for a genl header
		return r.Reply(netlink.Message{Header: netlink.Header{Type: testFamilyID}, Data: []byte{3, 1}})
	case m.Header.Type == testFamilyID && cmd == 4 && m.Header.Flags&netlink.Dump == netlink.Dump:
		var msgs []netlink.Message
		for i := range 100 {
			msgs = append(msgs, netlink.Message{Header: netlink.Header{Type: testFamilyID}, Data: []byte{4, 1, 0, 0, 8, 0, 1, 0, byte(i), 0, 0, 0}})
		}
		return r.Dump(msgs, nltest.DumpOptions{})
	}
	return syscall.ENOENT
}

func TestFamiliesFromCapture(t *testing.T) {
	k := newFakeKernel(t)
	c := k.dial(t)
	ctx := context.Background()
	fams, err := c.ListFamilies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := decodeFamilies(t, k.dump)
	if len(fams) != len(want) {
		t.Fatalf("%d families, want %d", len(fams), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(*fams[i], want[i]) {
			t.Errorf("family %d:\n got %+v\nwant %+v", i, *fams[i], want[i])
		}
	}
	// Breaking out early leaves the Conn usable.
	n := 0
	for _, err := range c.Families(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 2 {
			break
		}
	}
	if _, err := c.ListFamilies(ctx); err != nil {
		t.Fatalf("after an abandoned dump: %v", err)
	}
}

func TestFamilyResolveAndCache(t *testing.T) {
	k := newFakeKernel(t)
	c := k.dial(t)
	ctx := context.Background()
	f, err := c.Family(ctx, "nlctrl")
	if err != nil {
		t.Fatal(err)
	}
	want := genl.Family{ID: 0x10, Name: "nlctrl", Version: 2, Ops: []genl.Op{
		{ID: 3, Flags: genl.OpCapDo | genl.OpCapDump | genl.OpCapHasPolicy},
		{ID: 10, Flags: genl.OpCapDump | genl.OpCapHasPolicy},
	}, Groups: []genl.MulticastGroup{{ID: 0x10, Name: "notify"}}}
	if !reflect.DeepEqual(*f, want) {
		t.Fatalf("got %+v\nwant %+v", *f, want)
	}
	// The caller may change what it got; the cache keeps its own copy.
	f.Groups[0].ID, f.Ops = 99, nil
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g, err := c.Family(ctx, "nlctrl")
			if err != nil || !reflect.DeepEqual(*g, want) {
				t.Errorf("cached: %+v %v", g, err)
			}
		}()
	}
	wg.Wait()
	if n := k.lookups.Load(); n != 1 {
		t.Fatalf("%d lookups for one family, want 1 (cached)", n)
	}
	c.ForgetFamily("nlctrl")
	if _, err := c.Family(ctx, "nlctrl"); err != nil || k.lookups.Load() != 2 {
		t.Fatalf("after ForgetFamily: %v, %d lookups", err, k.lookups.Load())
	}
	// A dump fills the cache too.
	c.ForgetFamily("nlctrl")
	if _, err := c.ListFamilies(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Family(ctx, "ethtool"); err != nil || k.lookups.Load() != 2 {
		t.Fatalf("after a dump: %v, %d lookups", err, k.lookups.Load())
	}
}

func TestFamilyNotFound(t *testing.T) {
	k := newFakeKernel(t)
	c := k.dial(t)
	ctx := context.Background()
	for _, name := range []string{"nlkit-nosuch", "nlkit-extack", "", "sixteen-bytes-xx"} {
		f, err := c.Family(ctx, name)
		if f != nil || !errors.Is(err, genl.ErrFamilyNotFound) || !errors.Is(err, syscall.ENOENT) {
			t.Errorf("%q: got %+v, %v; want ErrFamilyNotFound and ENOENT", name, f, err)
			continue
		}
		if !strings.Contains(err.Error(), fmt.Sprintf("generic netlink family %q not found", name)) {
			t.Errorf("%q: message %q does not name the family", name, err)
		}
	}
	if k.lookups.Load() != 2 {
		t.Errorf("%d lookups; names no family can have must not reach the kernel", k.lookups.Load())
	}
	_, err := c.Family(ctx, "nlkit-extack")
	var oe *netlink.OpError
	if !errors.As(err, &oe) || oe.Message != "no such family (test)" || !strings.Contains(err.Error(), "no such family (test)") {
		t.Fatalf("extended ack lost: %#v", err)
	}
	// Unknown families are not cached: the next call asks again.
	if k.lookups.Load() != 3 {
		t.Fatalf("%d lookups", k.lookups.Load())
	}
	if _, err := c.Family(ctx, "nlkit-other"); err == nil || errors.Is(err, genl.ErrFamilyNotFound) {
		t.Fatalf("answer for another family: %v", err)
	}
}

func TestExecute(t *testing.T) {
	k := newFakeKernel(t)
	c := k.dial(t)
	ctx := context.Background()
	var e netlink.AttributeEncoder
	e.String(1, "Hello world")
	attrs, _ := e.Encode()
	replies, err := c.Execute(ctx, testFamilyID, genl.Message{Header: genl.Header{Command: 1, Version: 1}, Data: attrs}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(replies) != 1 {
		t.Fatalf("%d replies", len(replies))
	}
	r := replies[0]
	if r.Header != (genl.Header{Command: 1, Version: 7}) || string(r.Data) != string(attrs) ||
		r.Netlink.Type != testFamilyID || r.Netlink.PID != c.Netlink().PortID() || r.Netlink.Sequence == 0 {
		t.Fatalf("reply %+v", r)
	}
	// Kernel errors come back as the *netlink.OpError, extended ack kept.
	_, err = c.Execute(ctx, testFamilyID, genl.Message{Header: genl.Header{Command: 2}}, 0)
	var oe *netlink.OpError
	if !errors.As(err, &oe) || !errors.Is(err, syscall.EINVAL) || oe.Message != "hello: missing TEXT attribute" || oe.Offset != 20 {
		t.Fatalf("error: %#v", err)
	}
	// A reply shorter than the genl header is an error, not a panic.
	if _, err = c.Execute(ctx, testFamilyID, genl.Message{Header: genl.Header{Command: 3}}, 0); !errors.Is(err, genl.ErrShortMessage) {
		t.Fatalf("short reply: %v", err)
	}
	if _, err = c.Execute(ctx, 0x77, genl.Message{Header: genl.Header{Command: 1}}, 0); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("unknown family ID: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err = c.Execute(cctx, testFamilyID, genl.Message{Header: genl.Header{Command: 1}}, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestDump(t *testing.T) {
	k := newFakeKernel(t)
	c := k.dial(t)
	ctx := context.Background()
	i := 0
	for m, err := range c.Dump(ctx, testFamilyID, genl.Message{Header: genl.Header{Command: 4, Version: 1}}) {
		if err != nil {
			t.Fatal(err)
		}
		if m.Header.Command != 4 || len(m.Data) != 8 || int(m.Data[4]) != i || m.Netlink.Flags&netlink.Multi == 0 {
			t.Fatalf("message %d: %+v", i, m)
		}
		i++
	}
	if i != 100 {
		t.Fatalf("%d messages, want 100", i)
	}
	// A command the kernel cannot dump ends the stream with its error.
	var got error
	for _, err := range c.Dump(ctx, testFamilyID, genl.Message{Header: genl.Header{Command: 9}}) {
		got = err
	}
	if !errors.Is(got, syscall.ENOENT) {
		t.Fatalf("failed dump: %v", got)
	}
}

func TestJoinGroupAndEvents(t *testing.T) {
	k := newFakeKernel(t)
	c := k.dial(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	g, err := c.JoinGroup(ctx, "nlctrl", "notify")
	if err != nil || g != (genl.MulticastGroup{ID: 0x10, Name: "notify"}) {
		t.Fatalf("JoinGroup: %+v %v", g, err)
	}
	if _, err := c.JoinGroup(ctx, "nlctrl", "nosuch"); !errors.Is(err, genl.ErrGroupNotFound) || !strings.Contains(err.Error(), `"nosuch"`) {
		t.Fatalf("unknown group: %v", err)
	}
	if _, err := c.JoinGroup(ctx, "nlkit-nosuch", "notify"); !errors.Is(err, genl.ErrFamilyNotFound) {
		t.Fatalf("unknown family: %v", err)
	}
	// A family announcement, as the controller multicasts it.
	ev := reply(k.dump[4]) // ethtool
	if _, err := k.ep.Multicast(0x10, ev); err != nil {
		t.Fatal(err)
	}
	msgs, err := c.Receive(ctx)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Receive: %+v %v", msgs, err)
	}
	var f genl.Family
	if err := f.UnmarshalBinary(msgs[0].Data); err != nil || f.Name != "ethtool" || msgs[0].Netlink.Type != 0x10 || msgs[0].Netlink.Sequence != 0 {
		t.Fatalf("event %+v: %+v %v", msgs[0], f, err)
	}
	// Messages: a malformed event is yielded as an error and the stream
	// goes on; an overrun too.
	if _, err := k.ep.Multicast(0x10, netlink.Message{Header: netlink.Header{Type: 0x10}, Data: []byte{1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := k.ep.Multicast(0x10, ev); err != nil {
		t.Fatal(err)
	}
	var got []string
	for m, err := range c.Messages(ctx) {
		switch {
		case errors.Is(err, genl.ErrShortMessage):
			got = append(got, "short")
			if err := k.ep.Overrun(c.Netlink().PortID()); err != nil {
				t.Fatal(err)
			}
		case errors.Is(err, netlink.ErrOverrun):
			got = append(got, "overrun")
		case err != nil:
			t.Fatal(err)
		default:
			got = append(got, fmt.Sprintf("cmd %d", m.Header.Command))
		}
		if len(got) == 3 {
			break
		}
	}
	if want := []string{"short", "overrun", "cmd 1"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	if err := c.LeaveGroup(ctx, "nlctrl", "notify"); err != nil {
		t.Fatal(err)
	}
	if _, err := k.ep.Multicast(0x10, ev); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("after LeaveGroup the event still reached someone: %v", err)
	}
}
