//go:build linux

package netlink_test

// Real-kernel tests: each runs in a throwaway network namespace and checks
// nlkit against the kernel and against iproute2's `ip -j`.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nlkit/nlkit/internal/nstest"
	"github.com/nlkit/nlkit/netlink"
)

type linkRow struct {
	Index int    `json:"ifindex"`
	Name  string `json:"ifname"`
	MTU   int    `json:"mtu"`
}

func linkRequest(flags uint32) netlink.Message {
	data := make([]byte, unix.SizeofIfInfomsg)
	binary.NativeEndian.PutUint32(data[8:], flags)
	return netlink.Message{Header: netlink.Header{Type: unix.RTM_GETLINK}, Data: data}
}

func decodeLink(t *testing.T, m netlink.Message) linkRow {
	t.Helper()
	if m.Header.Type != unix.RTM_NEWLINK || len(m.Data) < unix.SizeofIfInfomsg {
		t.Fatalf("unexpected message %s", netlink.FormatMessage(m))
	}
	row := linkRow{Index: int(int32(binary.NativeEndian.Uint32(m.Data[4:])))}
	d := netlink.NewAttributeDecoder(m.Data[unix.SizeofIfInfomsg:])
	for d.Next() {
		switch d.Type() {
		case unix.IFLA_IFNAME:
			row.Name = d.String()
		case unix.IFLA_MTU:
			row.MTU = int(d.Uint32())
		}
	}
	if err := d.Err(); err != nil {
		t.Fatalf("decode link: %v", err)
	}
	return row
}

func dumpLinks(t *testing.T, c *netlink.Conn) []linkRow {
	t.Helper()
	var rows []linkRow
	for m, err := range c.Dump(context.Background(), linkRequest(0)) {
		if err != nil {
			t.Fatalf("dump links: %v", err)
		}
		rows = append(rows, decodeLink(t, m))
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Index < rows[j].Index })
	return rows
}

func dialNS(t *testing.T, ns *nstest.NS, cfg netlink.Config) *netlink.Conn {
	t.Helper()
	cfg.NetNS = ns.Name
	c, err := netlink.Dial(netlink.Route, &cfg)
	if err != nil {
		t.Fatalf("dial in %s: %v", ns.Name, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestKernelLinkDumpMatchesIP(t *testing.T) {
	ns := nstest.New(t)
	ns.IP(t, "link", "add", "va", "mtu", "1400", "type", "veth", "peer", "name", "vb")
	ns.IP(t, "link", "add", "br0", "type", "bridge")
	c := dialNS(t, ns, netlink.Config{})
	got := dumpLinks(t, c)
	var want []linkRow
	ns.IPJSON(t, &want, "link", "show")
	sort.Slice(want, func(i, j int) bool { return want[i].Index < want[j].Index })
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("link dump differs from ip -j link:\n got %v\nwant %v", got, want)
	}
	if len(got) != 4 {
		t.Fatalf("want lo, va, vb, br0 in a fresh namespace; got %v", got)
	}
}

func TestKernelExtendedAck(t *testing.T) {
	ns := nstest.New(t)
	c := dialNS(t, ns, netlink.Config{})
	var e netlink.AttributeEncoder
	e.Reset(make([]byte, unix.SizeofIfInfomsg))
	e.String(unix.IFLA_IFNAME, "bogus0")
	e.Nest(unix.IFLA_LINKINFO)
	e.String(1, "no-such-kind") // IFLA_INFO_KIND
	e.End()
	data, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Execute(context.Background(), netlink.Message{
		Header: netlink.Header{Type: unix.RTM_NEWLINK, Flags: netlink.Create | netlink.Excl},
		Data:   data,
	})
	var oe *netlink.OpError
	if !errors.As(err, &oe) {
		t.Fatalf("want *OpError, got %T %v", err, err)
	}
	if !errors.Is(err, unix.EOPNOTSUPP) {
		t.Errorf("want EOPNOTSUPP, got %v", err)
	}
	if !strings.Contains(oe.Message, "Unknown device type") {
		t.Errorf("want the kernel's extended-ack text, got %q", oe.Message)
	}
	if oe.Sequence == 0 {
		t.Errorf("error does not carry the request's sequence")
	}
	// The kernel created nothing.
	if out, err := ns.TryIP("link", "show", "bogus0"); err == nil {
		t.Errorf("link bogus0 exists after a failed request: %s", out)
	}
}

func TestKernelMulticastLinkEvent(t *testing.T) {
	ns := nstest.New(t)
	c := dialNS(t, ns, netlink.Config{Groups: unix.RTMGRP_LINK})
	if err := c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	ns.IP(t, "link", "add", "ev0", "type", "veth", "peer", "name", "ev1")
	seen := map[string]bool{}
	for !seen["ev0"] || !seen["ev1"] {
		msgs, err := c.Receive(context.Background())
		if err != nil {
			t.Fatalf("receive: %v (seen %v)", err, seen)
		}
		for _, m := range msgs {
			if m.Header.Type == unix.RTM_NEWLINK {
				seen[decodeLink(t, m).Name] = true
			}
		}
	}
}

func TestKernelJoinLeaveGroup(t *testing.T) {
	ns := nstest.New(t)
	c := dialNS(t, ns, netlink.Config{})
	if err := c.JoinGroup(unix.RTNLGRP_LINK); err != nil {
		t.Fatal(err)
	}
	ns.IP(t, "link", "add", "j0", "type", "bridge")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Receive(ctx); err != nil {
		t.Fatalf("no event after JoinGroup: %v", err)
	}
	if err := c.LeaveGroup(unix.RTNLGRP_LINK); err != nil {
		t.Fatal(err)
	}
	// Drain what was queued before leaving, then expect silence.
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		_, err := c.Receive(ctx)
		cancel()
		if err != nil {
			break
		}
	}
	ns.IP(t, "link", "del", "j0")
	ctx2, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	if msgs, err := c.Receive(ctx2); err == nil {
		t.Fatalf("event after LeaveGroup: %v", msgs)
	} else if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want deadline exceeded, got %v", err)
	}
}

func TestKernelStrictChecking(t *testing.T) {
	ns := nstest.New(t)
	loose := dialNS(t, ns, netlink.Config{})
	for _, err := range loose.Dump(context.Background(), linkRequest(unix.IFF_UP)) {
		if err != nil {
			t.Fatalf("without strict checking the kernel ignores header junk, got %v", err)
		}
	}
	strict := dialNS(t, ns, netlink.Config{Strict: true})
	if on, err := strict.GetOption(netlink.GetStrictCheck); err != nil || !on {
		t.Fatalf("strict check option: %v %v", on, err)
	}
	var got error
	for _, err := range strict.Dump(context.Background(), linkRequest(unix.IFF_UP)) {
		got = err
	}
	var oe *netlink.OpError
	if !errors.As(got, &oe) || !errors.Is(got, unix.EINVAL) {
		t.Fatalf("strict dump with ifi_flags set: want EINVAL, got %v", got)
	}
	if !strings.Contains(oe.Message, "Invalid values in header") {
		t.Errorf("want the kernel's reason, got %q", oe.Message)
	}
	// The Conn is still usable after the failed dump.
	if rows := dumpLinks(t, strict); len(rows) != 1 {
		t.Fatalf("want only lo, got %v", rows)
	}
}

// threadNetNS returns the network namespace of every thread of this process.
func threadNetNS(t *testing.T) map[string]bool {
	t.Helper()
	tasks, err := filepath.Glob("/proc/self/task/*/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, p := range tasks {
		l, err := os.Readlink(p)
		if err != nil {
			continue // thread exited
		}
		out[l] = true
	}
	return out
}

func TestKernelNetNSByNameAndFD(t *testing.T) {
	ns := nstest.New(t)
	ns.IP(t, "link", "add", "inside0", "type", "bridge")
	self, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ { // many dials: many chances to leak a thread
		c := dialNS(t, ns, netlink.Config{})
		rows := dumpLinks(t, c)
		if len(rows) != 2 || rows[0].Name != "lo" || rows[1].Name != "inside0" {
			t.Fatalf("namespace by name: want lo and inside0 only, got %v", rows)
		}
		c.Close()
	}
	fd, err := unix.Open(ns.Path(), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	c, err := netlink.Dial(netlink.Route, &netlink.Config{NetNSFD: fd})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if rows := dumpLinks(t, c); len(rows) != 2 {
		t.Fatalf("namespace by fd: got %v", rows)
	}
	// Threads that other tests deliberately left locked (rawSocketIn)
	// exit asynchronously; give them a moment before judging.
	var got map[string]bool
	for i := 0; i < 50; i++ {
		if got = threadNetNS(t); len(got) == 1 && got[self] {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(got) != 1 || !got[self] {
		t.Fatalf("a thread was left in another namespace: %v (want only %s)", got, self)
	}
	// A name that does not exist is a clear error.
	_, err = netlink.Dial(netlink.Route, &netlink.Config{NetNS: "nlkit-no-such-ns"})
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "nlkit-no-such-ns") {
		t.Fatalf("want a not-exist error naming the namespace, got %v", err)
	}
}

func TestKernelOverrunAndRecovery(t *testing.T) {
	ns := nstest.New(t)
	ns.IP(t, "link", "add", "ov0", "type", "veth", "peer", "name", "ov1")
	ns.IP(t, "addr", "add", "10.9.0.1/24", "dev", "ov0")
	ns.IP(t, "link", "set", "ov0", "up")
	c := dialNS(t, ns, netlink.Config{Groups: unix.RTMGRP_IPV4_ROUTE})
	if err := c.SetReceiveBuffer(1, false); err != nil { // the kernel's minimum
		t.Fatal(err)
	}
	var b strings.Builder
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(&b, "route add 10.200.%d.%d/32 dev ov0\n", i/250, i%250)
	}
	ns.Batch(t, b.String())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.Receive(ctx)
	for err == nil {
		_, err = c.Receive(ctx)
	}
	if !errors.Is(err, netlink.ErrOverrun) || !errors.Is(err, unix.ENOBUFS) {
		t.Fatalf("want an overrun after 2000 events into a tiny buffer, got %v", err)
	}
	if c.Stats().Overruns == 0 {
		t.Errorf("overrun not counted")
	}
	// The kernel keeps dropping events (without a second ENOBUFS) until the
	// backlog is read empty; then the subscription goes on.
	for {
		dctx, dcancel := context.WithTimeout(ctx, 300*time.Millisecond)
		_, err := c.Receive(dctx)
		dcancel()
		if errors.Is(err, context.DeadlineExceeded) {
			break
		}
		if err != nil && !errors.Is(err, netlink.ErrOverrun) {
			t.Fatalf("draining the backlog: %v", err)
		}
	}
	ns.IP(t, "route", "add", "10.201.0.1/32", "dev", "ov0")
	dst := string(net.IPv4(10, 201, 0, 1).To4())
	for {
		msgs, err := c.Receive(ctx)
		if err != nil {
			t.Fatalf("receive after overrun: %v", err)
		}
		for _, m := range msgs {
			if m.Header.Type == unix.RTM_NEWROUTE && strings.Contains(string(m.Data), dst) {
				return
			}
		}
	}
}

func TestKernelSocketOptions(t *testing.T) {
	ns := nstest.New(t)
	c := dialNS(t, ns, netlink.Config{})
	for _, o := range []netlink.Option{netlink.ExtendedAck, netlink.CapAck, netlink.NoENOBUFS, netlink.ListenAllNSID, netlink.GetStrictCheck, netlink.BroadcastError, netlink.PacketInfo} {
		if err := c.SetOption(o, true); err != nil {
			t.Fatalf("set %s: %v", o, err)
		}
		if o == netlink.PacketInfo || o == netlink.BroadcastError {
			continue // the kernel does not report these back
		}
		on, err := c.GetOption(o)
		if err != nil || !on {
			t.Fatalf("get %s: %v %v", o, on, err)
		}
		if err := c.SetOption(o, false); err != nil {
			t.Fatal(err)
		}
		if on, _ := c.GetOption(o); on {
			t.Fatalf("%s still on", o)
		}
	}
	// The privileged variant exceeds net.core.rmem_max.
	const want = 64 << 20
	if err := c.SetReceiveBuffer(want, true); err != nil {
		t.Fatalf("SO_RCVBUFFORCE as root: %v", err)
	}
	if got, err := c.ReceiveBuffer(); err != nil || got < want {
		t.Fatalf("receive buffer %d after forcing %d: %v", got, want, err)
	}
}

func TestKernelDeadlineCancelClose(t *testing.T) {
	ns := nstest.New(t)
	c := dialNS(t, ns, netlink.Config{Groups: unix.RTMGRP_LINK})
	if err := c.SetReadDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	_, err := c.Receive(context.Background())
	var oe *netlink.OpError
	if !errors.As(err, &oe) || !oe.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("want a timeout, got %v", err)
	}
	if err := c.SetReadDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	if _, err := c.Receive(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	// The Conn still works after a cancelled read.
	if rows := dumpLinks(t, c); len(rows) != 1 {
		t.Fatalf("after cancel: %v", rows)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := c.Receive(context.Background())
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("blocked Receive after Close: want net.ErrClosed, got %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not unblock Receive")
	}
	if _, err := c.Execute(context.Background(), linkRequest(0)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Execute on closed Conn: want net.ErrClosed, got %v", err)
	}
}

func TestKernelAnyProtocol(t *testing.T) {
	nstest.RequireRoot(t)
	for _, p := range []int{netlink.Route, netlink.SockDiag, netlink.Audit, netlink.Connector, netlink.Netfilter, netlink.KObjectUevent, netlink.Generic, netlink.XFRM} {
		c, err := netlink.Dial(p, nil)
		if err != nil {
			t.Errorf("protocol %d: %v", p, err)
			continue
		}
		if c.PortID() == 0 || c.Protocol() != p {
			t.Errorf("protocol %d: port %d", p, c.PortID())
		}
		c.Close()
	}
	// A driver's own number with no module behind it: a clear error
	// (the kernel-module VM test dials 31 with the module loaded).
	_, err := netlink.Dial(31, nil)
	if !errors.Is(err, unix.EPROTONOSUPPORT) || !strings.Contains(err.Error(), "protocol 31") {
		t.Fatalf("protocol 31 without its module: got %v", err)
	}
	if _, err := netlink.Dial(32, nil); err == nil {
		t.Fatal("protocol 32 accepted")
	}
}

func TestKernelRejectsUserSenders(t *testing.T) {
	nstest.RequireRoot(t)
	// Two user sockets on the generic protocol: the second tries to talk to
	// the first. The first is connected to the kernel, so the kernel
	// itself refuses; with AllowUserSenders the message gets through.
	victim, err := netlink.Dial(netlink.Generic, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer victim.Close()
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, netlink.Generic)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	forged, _ := netlink.Message{Header: netlink.Header{Type: 0x20, Sequence: 1}}.MarshalBinary()
	err = unix.Sendto(fd, forged, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Pid: victim.PortID()})
	if !errors.Is(err, unix.ECONNREFUSED) {
		t.Fatalf("a user port reached a kernel-connected Conn: %v", err)
	}
	open, err := netlink.Dial(netlink.Generic, &netlink.Config{AllowUserSenders: true})
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	if err := unix.Sendto(fd, forged, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Pid: open.PortID()}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	msgs, err := open.Receive(ctx)
	if err != nil || len(msgs) != 1 || msgs[0].Header.Type != 0x20 {
		t.Fatalf("AllowUserSenders: got %v %v", msgs, err)
	}
}

// rawSocketIn opens a plain netlink socket inside ns, as another process
// in that namespace would have.
func rawSocketIn(t *testing.T, ns *nstest.NS, protocol int) int {
	t.Helper()
	type result struct {
		fd  int
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		nsfd, err := unix.Open(ns.Path(), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			ch <- result{err: err}
			return
		}
		defer unix.Close(nsfd)
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			ch <- result{err: err}
			return
		}
		if err := unix.Setns(nsfd, unix.CLONE_NEWNET); err != nil {
			ch <- result{err: err}
			return
		}
		fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, protocol)
		ch <- result{fd, err}
	}()
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { unix.Close(r.fd) })
	return r.fd
}

func TestKernelDropsForgedMulticast(t *testing.T) {
	ns := nstest.New(t)
	c := dialNS(t, ns, netlink.Config{Groups: unix.RTMGRP_LINK})
	fd := rawSocketIn(t, ns, netlink.Route)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		t.Fatal(err)
	}
	forged, _ := netlink.Message{Header: netlink.Header{Type: unix.RTM_NEWLINK}, Data: make([]byte, unix.SizeofIfInfomsg)}.MarshalBinary()
	// Root may multicast to rtnetlink groups from user space.
	if err := unix.Sendto(fd, forged, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: unix.RTMGRP_LINK}); err != nil {
		t.Fatal(err)
	}
	ns.IP(t, "link", "add", "real0", "type", "bridge")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msgs, err := c.Receive(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := decodeLink(t, msgs[0]); got.Name != "real0" {
		t.Fatalf("first event is %v, not the kernel's real0: the forged one got through", got)
	}
	if c.Stats().Spoofed != 1 {
		t.Fatalf("Spoofed = %d, want 1", c.Stats().Spoofed)
	}
}

// A datagram far larger than the Conn's receive buffer (a page at first)
// arrives whole: Conn sizes its buffer from MSG_PEEK|MSG_TRUNC and never
// hands out a cut message.
func TestKernelLargeDatagramNotTruncated(t *testing.T) {
	nstest.RequireRoot(t)
	c, err := netlink.Dial(netlink.Generic, &netlink.Config{AllowUserSenders: true, ReceiveBuffer: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, netlink.Generic)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 1<<20); err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, 200_000)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	big, _ := netlink.Message{Header: netlink.Header{Type: 0x21, Sequence: 9}, Data: payload}.MarshalBinary()
	if err := unix.Sendto(fd, big, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Pid: c.PortID()}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	msgs, err := c.Receive(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || len(msgs[0].Data) != len(payload) || string(msgs[0].Data) != string(payload) {
		t.Fatalf("got %d messages, first %d bytes; want one of %d bytes intact", len(msgs), len(msgs[0].Data), len(payload))
	}
}
