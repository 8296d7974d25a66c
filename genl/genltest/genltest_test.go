package genltest_test

import (
	"context"
	"errors"
	"reflect"
	"syscall"
	"testing"
	"time"

	"github.com/nlkit/nlkit/genl"
	"github.com/nlkit/nlkit/genl/genltest"
	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/nltest"
)

func TestKernel(t *testing.T) {
	k := genltest.New()
	var gotReq genl.Message
	f := k.Register(genl.Family{
		Name: "nlhello", Version: 1, MaxAttr: 1,
		Ops: []genl.Op{
			{ID: 1, Flags: genl.OpCapDo | genl.OpCapHasPolicy},
			{ID: 2, Flags: genl.OpCapDump},
		},
		Groups: []genl.MulticastGroup{{Name: "packets"}},
	}, func(r *genltest.Request) error {
		gotReq = r.Message
		if r.IsDump() {
			return r.Dump([]genl.Message{{Header: genl.Header{Command: 2, Version: 1}}, {Header: genl.Header{Command: 2, Version: 1}}}, nltest.DumpOptions{})
		}
		if len(r.Message.Data) == 0 {
			return &nltest.Error{Errno: syscall.EINVAL, Message: "hello: missing TEXT attribute"}
		}
		return r.Reply(genl.Message{Header: genl.Header{Command: 1, Version: 1}, Data: []byte("Thank you\x00")})
	})
	if f.ID != 0x11 || f.Groups[0].ID != 0x11 {
		t.Fatalf("registered as %+v", f)
	}
	c, err := k.Dial(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	fams, err := c.ListFamilies(ctx)
	if err != nil || len(fams) != 2 || fams[0].Name != "nlctrl" || !reflect.DeepEqual(*fams[1], f) {
		t.Fatalf("ListFamilies: %+v %v", fams, err)
	}
	got, err := c.Family(ctx, "nlhello")
	if err != nil || !reflect.DeepEqual(*got, f) {
		t.Fatalf("Family: %+v %v", got, err)
	}
	if _, err := c.Family(ctx, "nosuch"); !errors.Is(err, genl.ErrFamilyNotFound) || !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("unknown family: %v", err)
	}
	replies, err := c.Execute(ctx, f.ID, genl.Message{Header: genl.Header{Command: 1, Version: 1}, Data: []byte{1, 2, 3, 4}}, 0)
	if err != nil || len(replies) != 1 || string(replies[0].Data) != "Thank you\x00" || replies[0].Netlink.Type != netlink.HeaderType(f.ID) {
		t.Fatalf("Execute: %+v %v", replies, err)
	}
	if gotReq.Header.Command != 1 || string(gotReq.Data) != "\x01\x02\x03\x04" {
		t.Fatalf("handler saw %+v", gotReq)
	}
	_, err = c.Execute(ctx, f.ID, genl.Message{Header: genl.Header{Command: 1}}, 0)
	var oe *netlink.OpError
	if !errors.As(err, &oe) || oe.Message != "hello: missing TEXT attribute" {
		t.Fatalf("handler error: %v", err)
	}
	// The checks genl_family_rcv_msg makes before the handler.
	for _, tt := range []struct {
		cmd  uint8
		dump bool
		want error
	}{
		{cmd: 3, want: syscall.EOPNOTSUPP},             // unknown command
		{cmd: 2, want: syscall.EOPNOTSUPP},             // "do" of a dump-only command
		{cmd: 1, dump: true, want: syscall.EOPNOTSUPP}, // dump of a do-only command
	} {
		m := genl.Message{Header: genl.Header{Command: tt.cmd}}
		if tt.dump {
			for _, e := range c.Dump(ctx, f.ID, m) {
				err = e
			}
		} else {
			_, err = c.Execute(ctx, f.ID, m, 0)
		}
		if !errors.Is(err, tt.want) {
			t.Errorf("cmd %d dump %v: %v, want %v", tt.cmd, tt.dump, err, tt.want)
		}
	}
	n := 0
	for m, err := range c.Dump(ctx, f.ID, genl.Message{Header: genl.Header{Command: 2}}) {
		if err != nil || m.Header.Command != 2 {
			t.Fatalf("dump: %+v %v", m, err)
		}
		n++
	}
	if n != 2 {
		t.Fatalf("dump of %d messages", n)
	}

	// Events: on a Conn of their own.
	ev, err := k.Dial(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	if _, err := ev.JoinGroup(ctx, "nlhello", "packets"); err != nil {
		t.Fatal(err)
	}
	if _, err := ev.JoinGroup(ctx, "nlctrl", "notify"); err != nil {
		t.Fatal(err)
	}
	if n, err := k.Multicast("nlhello", "packets", genl.Message{Header: genl.Header{Command: 3, Version: 1}, Data: []byte{8, 0, 1, 0, 7, 0, 0, 0}}); err != nil || n != 1 {
		t.Fatalf("Multicast: %d %v", n, err)
	}
	msgs, err := ev.Receive(ctx)
	if err != nil || len(msgs) != 1 || msgs[0].Header.Command != 3 || msgs[0].Netlink.Type != netlink.HeaderType(f.ID) || msgs[0].Netlink.Sequence != 0 {
		t.Fatalf("event: %+v %v", msgs, err)
	}
	if _, err := k.Multicast("nlhello", "nosuch"); !errors.Is(err, genl.ErrGroupNotFound) {
		t.Fatalf("unknown group: %v", err)
	}

	// Unregistering: announced, and requests to the old ID fail.
	if !k.Unregister("nlhello") || k.Unregister("nlhello") {
		t.Fatal("Unregister")
	}
	msgs, err = ev.Receive(ctx)
	if err != nil || len(msgs) != 1 || msgs[0].Header.Command != 2 || msgs[0].Netlink.Type != 0x10 {
		t.Fatalf("CTRL_CMD_DELFAMILY event: %+v %v", msgs, err)
	}
	if _, err := c.Execute(ctx, f.ID, genl.Message{Header: genl.Header{Command: 1}, Data: []byte{1}}, 0); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("request to an unregistered family: %v", err)
	}
	c.ForgetFamily("nlhello")
	if _, err := c.Family(ctx, "nlhello"); !errors.Is(err, genl.ErrFamilyNotFound) {
		t.Fatalf("resolve after Unregister: %v", err)
	}
	again := k.Register(genl.Family{Name: "nlhello"}, nil)
	if again.ID == f.ID {
		t.Fatalf("re-registered under the same ID %#x", again.ID)
	}
	msgs, err = ev.Receive(ctx)
	if err != nil || len(msgs) != 1 || msgs[0].Header.Command != 1 {
		t.Fatalf("CTRL_CMD_NEWFAMILY event: %+v %v", msgs, err)
	}
	// A family without handler answers EOPNOTSUPP.
	if _, err := c.Execute(ctx, again.ID, genl.Message{Header: genl.Header{Command: 1}}, 0); !errors.Is(err, syscall.EOPNOTSUPP) {
		t.Fatalf("no handler: %v", err)
	}
	// A short message is EINVAL.
	if _, err := c.Netlink().Execute(ctx, netlink.Message{Header: netlink.Header{Type: netlink.HeaderType(again.ID)}, Data: []byte{1}}); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("short request: %v", err)
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	k := genltest.New()
	k.Register(genl.Family{Name: "a"}, nil)
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	k.Register(genl.Family{Name: "a"}, nil)
}
