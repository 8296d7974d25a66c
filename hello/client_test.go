package hello_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nlkit/nlkit/genl"
	"github.com/nlkit/nlkit/hello"
	"github.com/nlkit/nlkit/hello/hellotest"
	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/nltest"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func dial(t *testing.T, m *hellotest.Module) *hello.Client {
	t.Helper()
	c, err := m.Dial(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestHello(t *testing.T) {
	m := hellotest.New(nil)
	c := dial(t, m)
	ctx := ctxT(t)
	for _, text := range []string{"Hello world", "", strings.Repeat("A", 100000)} {
		reply, err := c.Hello(ctx, text)
		if err != nil {
			t.Fatalf("Hello(%d bytes): %v", len(text), err)
		}
		if reply != "Thank you" {
			t.Errorf("reply %q", reply)
		}
	}
	if _, err := c.Hello(ctx, "a\x00b"); err == nil || !strings.Contains(err.Error(), "NUL") {
		t.Errorf("text with a NUL: %v", err)
	}
	if st := c.Conn().Stats(); st != (netlink.Stats{}) {
		t.Errorf("conn dropped messages: %+v", st)
	}
	if got := m.Stats(); got.MsgsReceived != 3 || got.RepliesSent != 3 || got.ErrorsSent != 0 {
		t.Errorf("module counters %+v after 3 hellos", got)
	}
}

// A local process may send anything to our port; a reply that does not
// come from the kernel must be ignored even with the right sequence.
func TestHelloIgnoresSpoofedReply(t *testing.T) {
	var spoofErr error
	m := hellotest.New(&hellotest.Config{BeforeReply: func(r *nltest.Request) {
		evil := netlink.Message{
			Header: netlink.Header{Type: hello.MsgHello, Sequence: r.Message.Header.Sequence},
			Data:   []byte("Evil\x00"),
		}
		spoofErr = r.Endpoint().SpoofUnicast(4242, r.Port, evil)
	}})
	c := dial(t, m)
	reply, err := c.Hello(ctxT(t), "Hello world")
	if err != nil {
		t.Fatal(err)
	}
	if spoofErr != nil {
		t.Fatalf("spoofing: %v", spoofErr)
	}
	if reply != "Thank you" {
		t.Fatalf("reply %q: the spoofed reply was taken", reply)
	}
	if st := c.Conn().Stats(); st.Spoofed != 1 {
		t.Errorf("conn stats %+v, want 1 spoofed", st)
	}
}

// A reply from the kernel with another sequence (left over from an
// abandoned request) is not the answer.
func TestHelloIgnoresWrongSequence(t *testing.T) {
	m := hellotest.New(&hellotest.Config{BeforeReply: func(r *nltest.Request) {
		seq := r.Message.Header.Sequence
		for _, s := range []uint32{seq - 1, seq + 1} {
			stale := netlink.Message{Header: netlink.Header{Type: r.Message.Header.Type, Sequence: s}, Data: []byte("Stale\x00")}
			if err := r.Endpoint().Unicast(r.Port, stale); err != nil {
				panic(err)
			}
		}
	}})
	c := dial(t, m)
	ctx := ctxT(t)
	reply, err := c.Hello(ctx, "Hello world")
	if err != nil || reply != "Thank you" {
		t.Fatalf("Hello: %q, %v", reply, err)
	}
	if _, err := c.Stats(ctx); err != nil {
		t.Fatalf("Stats after stale replies: %v", err)
	}
	if st := c.Conn().Stats(); st.Stale != 4 {
		t.Errorf("conn stats %+v, want 4 stale", st)
	}
}

// The module answers exactly once; a second reply to the same request is
// a protocol error, not something to pick from.
func TestHelloDuplicateReply(t *testing.T) {
	m := hellotest.New(&hellotest.Config{BeforeReply: func(r *nltest.Request) {
		dup := netlink.Message{Header: netlink.Header{Type: hello.MsgHello, Sequence: r.Message.Header.Sequence}, Data: []byte("Thank you\x00")}
		_ = r.Endpoint().Unicast(r.Port, dup)
	}})
	c := dial(t, m)
	if _, err := c.Hello(ctxT(t), "Hello world"); err == nil || !strings.Contains(err.Error(), "2 replies") {
		t.Fatalf("duplicate reply: %v", err)
	}
}

func TestHelloBadReply(t *testing.T) {
	ep := nltest.NewEndpoint(hello.DefaultProtocol, nltest.Config{Input: func(r *nltest.Request) error {
		return r.Endpoint().Unicast(r.Port, netlink.Message{
			Header: netlink.Header{Type: hello.MsgHello, Sequence: r.Message.Header.Sequence},
			Data:   []byte("no NUL"),
		})
	}})
	conn, err := ep.Dial(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := hello.NewClient(conn)
	defer c.Close()
	if _, err := c.Hello(ctxT(t), "hi"); err == nil || !strings.Contains(err.Error(), "not NUL-terminated") {
		t.Fatalf("reply without NUL: %v", err)
	}
}

// Kernel errors keep their errno and extended-ack text.
func TestKernelErrors(t *testing.T) {
	ep := nltest.NewEndpoint(hello.DefaultProtocol, nltest.Config{Input: func(r *nltest.Request) error {
		return &nltest.Error{Errno: syscall.EINVAL, Message: "hello: text is not NUL-terminated"}
	}})
	conn, err := ep.Dial(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := hello.NewClient(conn)
	defer c.Close()
	ctx := ctxT(t)
	_, err = c.Hello(ctx, "x")
	var oe *netlink.OpError
	if !errors.Is(err, syscall.EINVAL) || !errors.As(err, &oe) || oe.Message != "hello: text is not NUL-terminated" {
		t.Fatalf("error %v (%T), want EINVAL with the extack text", err, err)
	}
	if !strings.HasPrefix(err.Error(), "hello: say hello: ") {
		t.Errorf("error %q does not say what failed", err)
	}
	if _, err := c.Stats(ctx); !errors.Is(err, syscall.EINVAL) || !strings.HasPrefix(err.Error(), "hello: stats: ") {
		t.Errorf("stats error %v", err)
	}
	if errors.Is(err, hello.ErrNotLoaded) {
		t.Errorf("a kernel error matches ErrNotLoaded")
	}
}

// The fake answers malformed requests as the module does (README table),
// so code that sends them can be tested without the module.
func TestFakeModuleErrors(t *testing.T) {
	m := hellotest.New(nil)
	conn := dial(t, m).Conn()
	ctx := ctxT(t)
	for _, tt := range []struct {
		typ   netlink.HeaderType
		flags netlink.HeaderFlags
		data  string
		errno syscall.Errno
		msg   string
	}{
		{hello.MsgHello, 0, "", syscall.EINVAL, "hello: empty payload, expected NUL-terminated text"},
		{hello.MsgHello, 0, "Hello", syscall.EINVAL, "hello: text is not NUL-terminated"},
		{hello.MsgStats, 0, "\x00\x00\x00\x00", syscall.EINVAL, "stats: request takes no payload"},
		{hello.MsgPacket, 0, "", syscall.EOPNOTSUPP, "packet messages are sent by the kernel only"},
		{0x13, 0, "", syscall.EOPNOTSUPP, "unknown message type"},
	} {
		_, err := conn.Execute(ctx, netlink.Message{Header: netlink.Header{Type: tt.typ, Flags: tt.flags}, Data: []byte(tt.data)})
		var oe *netlink.OpError
		if !errors.Is(err, tt.errno) || !errors.As(err, &oe) || oe.Message != tt.msg {
			t.Errorf("type %v %q: %v, want %v %q", tt.typ, tt.data, err, tt.errno, tt.msg)
		}
	}
	for range conn.Dump(ctx, netlink.Message{Header: netlink.Header{Type: hello.MsgStats}}) {
	}
	if st := m.Stats(); st.MsgsReceived != 6 || st.ErrorsSent != 6 || st.RepliesSent != 0 {
		t.Errorf("counters %+v", st)
	}
}

func TestStats(t *testing.T) {
	m := hellotest.New(nil)
	c := dial(t, m)
	ctx := ctxT(t)
	for range 5 {
		if _, err := c.Hello(ctx, "hi"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.InjectPacket(hello.Packet{Data: []byte{1}}); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("packet without subscriber: %v", err)
	}
	st, err := c.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The snapshot counts the stats request, not its reply.
	want := hello.Stats{MsgsReceived: 6, RepliesSent: 5, PacketsDroppedNoListener: 1}
	if st != want {
		t.Errorf("stats %+v, want %+v", st, want)
	}
}

func TestConcurrentClients(t *testing.T) {
	m := hellotest.New(nil)
	shared := dial(t, m)
	ctx := ctxT(t)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 8 {
		wg.Add(2)
		go func() { // shared client
			defer wg.Done()
			for range 50 {
				if r, err := shared.Hello(ctx, fmt.Sprint("shared ", i)); err != nil || r != "Thank you" {
					errs <- fmt.Errorf("shared: %q %v", r, err)
					return
				}
			}
		}()
		go func() { // a client each
			defer wg.Done()
			c, err := m.Dial(nil)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			for range 50 {
				if _, err := c.Hello(ctx, "own"); err != nil {
					errs <- err
					return
				}
			}
			if st := c.Conn().Stats(); st != (netlink.Stats{}) {
				errs <- fmt.Errorf("own client dropped messages: %+v", st)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if st := m.Stats(); st.MsgsReceived != 800 || st.RepliesSent != 800 {
		t.Errorf("counters %+v, want 800 hellos answered", st)
	}
}

func TestClosedClient(t *testing.T) {
	m := hellotest.New(nil)
	c, err := m.Dial(nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if _, err := c.Hello(context.Background(), "hi"); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Hello on a closed client: %v", err)
	}
}

func TestCancelledContext(t *testing.T) {
	m := hellotest.New(nil)
	c := dial(t, m)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Hello(ctx, "hi"); !errors.Is(err, context.Canceled) {
		t.Errorf("Hello with a cancelled context: %v", err)
	}
	if st := m.Stats(); st.MsgsReceived != 0 {
		t.Errorf("a request was sent: %+v", st)
	}
}

func watch(t *testing.T, m *hellotest.Module, cfg *netlink.Config) *hello.Subscription {
	t.Helper()
	s, err := m.Watch(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// collect reads n results from a packet stream in a goroutine.
type result struct {
	p   hello.Packet
	err error
}

func stream(ctx context.Context, s *hello.Subscription) <-chan result {
	ch := make(chan result, 64)
	go func() {
		defer close(ch)
		for p, err := range s.Packets(ctx) {
			ch <- result{p, err}
		}
	}()
	return ch
}

func next(t *testing.T, ch <-chan result) result {
	t.Helper()
	select {
	case r, ok := <-ch:
		if !ok {
			t.Fatal("stream ended")
		}
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no packet within 10s")
	}
	return result{}
}

func TestPackets(t *testing.T) {
	m := hellotest.New(&hellotest.Config{IfIndex: 7})
	s := watch(t, m, nil)
	ctx := ctxT(t)
	ch := stream(ctx, s)

	big := bytes.Repeat([]byte{0x60}, 1500)
	var sent []hello.Packet
	for _, p := range []hello.Packet{
		{Protocol: 0x0800, Data: []byte{0x45, 0, 0, 20}},
		{Protocol: 0x86dd, Data: big},
		{Protocol: 0x88b5, IfIndex: 9, Data: []byte("x"), Timestamp: time.Unix(1, 2)},
	} {
		got, err := m.InjectPacket(p)
		if err != nil {
			t.Fatal(err)
		}
		sent = append(sent, got)
	}
	if sent[1].Length != 1500 || sent[1].CapLen != hello.PacketCap || len(sent[1].Data) != hello.PacketCap {
		t.Fatalf("injected %+v: want length 1500 and %d bytes captured", sent[1], hello.PacketCap)
	}
	for i, want := range sent {
		r := next(t, ch)
		if r.err != nil {
			t.Fatalf("packet %d: %v", i, r.err)
		}
		p := r.p
		if p.IfIndex != want.IfIndex || p.Length != want.Length || p.Protocol != want.Protocol ||
			!p.Timestamp.Equal(want.Timestamp) || !bytes.Equal(p.Data, want.Data) || p.CapLen != want.CapLen {
			t.Errorf("packet %d: got %+v, want %+v", i, p, want)
		}
	}
	if sent[0].IfIndex != 7 {
		t.Errorf("IfIndex not filled in: %d", sent[0].IfIndex)
	}
	if st := m.Stats(); st.PacketsPassed != 3 {
		t.Errorf("counters %+v", st)
	}
}

// A notification sent to the group by a local process is not the kernel's.
func TestPacketsIgnoreSpoofedSender(t *testing.T) {
	m := hellotest.New(nil)
	s := watch(t, m, nil)
	ch := stream(ctxT(t), s)
	fake := hello.Packet{IfIndex: 99, Length: 1, Data: []byte{0xee}, CapLen: 1}
	attrs, _ := fake.MarshalBinary()
	if _, err := m.Endpoint().SpoofMulticast(4242, hello.GroupPackets, netlink.Message{Header: netlink.Header{Type: hello.MsgPacket}, Data: attrs}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.InjectPacket(hello.Packet{Data: []byte{1}}); err != nil {
		t.Fatal(err)
	}
	r := next(t, ch)
	if r.err != nil || r.p.IfIndex == 99 {
		t.Fatalf("first packet %+v, %v: the spoofed one was taken", r.p, r.err)
	}
	if st := s.Conn().Stats(); st.Spoofed != 1 {
		t.Errorf("conn stats %+v, want 1 spoofed", st)
	}
}

// An overrun is reported as netlink.ErrOverrun and the stream goes on.
func TestPacketsOverrun(t *testing.T) {
	m := hellotest.New(nil)
	s := watch(t, m, nil)
	ch := stream(ctxT(t), s)
	if _, err := m.InjectPacket(hello.Packet{Data: []byte{1}}); err != nil {
		t.Fatal(err)
	}
	if r := next(t, ch); r.err != nil || r.p.Data[0] != 1 {
		t.Fatalf("first packet: %+v %v", r.p, r.err)
	}
	if err := m.Endpoint().Overrun(s.Conn().PortID()); err != nil {
		t.Fatal(err)
	}
	r := next(t, ch)
	if !errors.Is(r.err, netlink.ErrOverrun) || !errors.Is(r.err, syscall.ENOBUFS) {
		t.Fatalf("after an overrun: %+v, %v; want ErrOverrun", r.p, r.err)
	}
	if _, err := m.InjectPacket(hello.Packet{Data: []byte{2}}); err != nil {
		t.Fatal(err)
	}
	if r := next(t, ch); r.err != nil || r.p.Data[0] != 2 {
		t.Fatalf("the stream did not go on after the overrun: %+v %v", r.p, r.err)
	}
}

// A real overflow: a tiny receive buffer and a burst of packets.
func TestPacketsBufferFull(t *testing.T) {
	m := hellotest.New(nil)
	s := watch(t, m, &netlink.Config{ReceiveBuffer: 1024})
	for i := range 50 {
		m.InjectPacket(hello.Packet{Data: bytes.Repeat([]byte{byte(i)}, 200)})
	}
	// Everything that fitted is queued now; read it, then a sentinel
	// sent once there is room again.
	got, overruns, last := 0, 0, -1
	for p, err := range s.Packets(ctxT(t)) {
		if errors.Is(err, netlink.ErrOverrun) {
			overruns++
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.Data[0] == 200 {
			break
		}
		if int(p.Data[0]) <= last {
			t.Fatalf("packet %d after %d: out of order", p.Data[0], last)
		}
		last = int(p.Data[0])
		got++
		if got == 1 {
			if _, err := m.InjectPacket(hello.Packet{Data: []byte{200}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if overruns != 1 || got == 0 || got >= 50 {
		t.Errorf("%d packets, %d overruns; want some packets and one overrun", got, overruns)
	}
}

func TestPacketsEnd(t *testing.T) {
	m := hellotest.New(nil)
	s := watch(t, m, nil)
	ctx, cancel := context.WithCancel(context.Background())
	ch := stream(ctx, s)
	cancel()
	if r := next(t, ch); !errors.Is(r.err, context.Canceled) {
		t.Errorf("after cancel: %v", r.err)
	}
	if _, ok := <-ch; ok {
		t.Error("stream went on after cancel")
	}

	s2 := watch(t, m, nil)
	ch = stream(context.Background(), s2)
	s2.Close()
	if r := next(t, ch); !errors.Is(r.err, net.ErrClosed) {
		t.Errorf("after close: %v", r.err)
	}
}

func TestPacketsMalformed(t *testing.T) {
	m := hellotest.New(nil)
	s := watch(t, m, nil)
	ch := stream(ctxT(t), s)
	// Other message types on the group are skipped; a broken
	// notification ends the stream with an error.
	m.Endpoint().Multicast(hello.GroupPackets, netlink.Message{Header: netlink.Header{Type: 0x30}, Data: []byte{1}})
	m.Endpoint().Multicast(hello.GroupPackets, netlink.Message{Header: netlink.Header{Type: hello.MsgPacket}, Data: []byte{1, 2, 3}})
	r := next(t, ch)
	if !errors.Is(r.err, netlink.ErrAttribute) || !strings.Contains(r.err.Error(), "decode packet") {
		t.Fatalf("malformed notification: %v", r.err)
	}
}

func TestGeneric(t *testing.T) {
	m := hellotest.New(nil)
	ctx := ctxT(t)
	g, err := m.DialGeneric(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	reply, err := g.Hello(ctx, "Hello world")
	if err != nil || reply != "Thank you" {
		t.Fatalf("Hello: %q %v", reply, err)
	}
	raw := dial(t, m)
	if _, err := raw.Hello(ctx, "raw"); err != nil {
		t.Fatal(err)
	}
	st, err := g.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Both endpoints share the counters.
	if want := (hello.Stats{MsgsReceived: 3, RepliesSent: 2}); st != want {
		t.Errorf("stats %+v, want %+v", st, want)
	}
	f, err := g.Family(ctx)
	if err != nil || f.ID != m.Family().ID || len(f.Groups) != 1 || f.Groups[0].Name != "packets" {
		t.Errorf("family %+v %v", f, err)
	}

	// Reloaded under a new ID: the client resolves the family again.
	old := m.Family().ID
	if m.ReloadFamily().ID == old {
		t.Fatal("family kept its ID")
	}
	if reply, err := g.Hello(ctx, "again"); err != nil || reply != "Thank you" {
		t.Fatalf("Hello after reload: %q %v", reply, err)
	}

	// Unloaded: the error says so.
	m.Generic().Unregister(hello.FamilyName)
	_, err = g.Hello(ctx, "gone?")
	if !errors.Is(err, hello.ErrNotLoaded) || !errors.Is(err, syscall.ENOENT) || !strings.Contains(err.Error(), "is nlhello.ko loaded?") {
		t.Fatalf("Hello after unload: %v", err)
	}
	if _, err := m.DialGeneric(ctx, nil); !errors.Is(err, hello.ErrNotLoaded) || !errors.Is(err, genl.ErrFamilyNotFound) {
		t.Fatalf("DialGeneric without the family: %v", err)
	}
}

func TestGenericErrors(t *testing.T) {
	m := hellotest.New(nil)
	ctx := ctxT(t)
	g, err := m.DialGeneric(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	f, _ := g.Family(ctx)
	for _, tt := range []struct {
		name  string
		m     genl.Message
		flags netlink.HeaderFlags
		errno syscall.Errno
		msg   string
	}{
		{"HELLO without TEXT", genl.Message{Header: genl.Header{Command: 1}}, 0, syscall.EINVAL, "hello: missing TEXT attribute"},
		{"TEXT without NUL", genl.Message{Header: genl.Header{Command: 1}, Data: []byte{9, 0, 1, 0, 'H', 'e', 'l', 'l', 'o', 0, 0, 0}}, 0, syscall.EINVAL, "Attribute failed policy validation"},
		{"unknown attribute", genl.Message{Header: genl.Header{Command: 2}, Data: []byte{4, 0, 9, 0}}, 0, syscall.EINVAL, "Unknown attribute type"},
		{"reserved set", genl.Message{Header: genl.Header{Command: 2, Reserved: 1}}, 0, syscall.EINVAL, "genlmsghdr.reserved field is not 0"},
		{"command PACKET", genl.Message{Header: genl.Header{Command: 3}}, 0, syscall.EOPNOTSUPP, ""},
		{"GET_STATS as dump", genl.Message{Header: genl.Header{Command: 2}}, netlink.Dump, syscall.EOPNOTSUPP, ""},
	} {
		_, err := g.Conn().Execute(ctx, f.ID, tt.m, tt.flags)
		var oe *netlink.OpError
		if !errors.Is(err, tt.errno) || !errors.As(err, &oe) || oe.Message != tt.msg {
			t.Errorf("%s: %v, want %v %q", tt.name, err, tt.errno, tt.msg)
		}
	}
}

func TestGenericPackets(t *testing.T) {
	m := hellotest.New(nil)
	ctx := ctxT(t)
	gs, err := m.WatchGeneric(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer gs.Close()
	rs := watch(t, m, nil)
	gch, rch := stream(ctx, gs), stream(ctx, rs)
	// A message of another family on the socket is skipped.
	if _, err := m.InjectPacket(hello.Packet{Protocol: 0x0800, Data: []byte{0x45, 1}}); err != nil {
		t.Fatal(err)
	}
	for name, ch := range map[string]<-chan result{"genl": gch, "raw": rch} {
		r := next(t, ch)
		if r.err != nil || r.p.Protocol != 0x0800 || !bytes.Equal(r.p.Data, []byte{0x45, 1}) || r.p.IfIndex != hellotest.DefaultIfIndex {
			t.Errorf("%s: %+v %v", name, r.p, r.err)
		}
	}
	if st := m.Stats(); st.PacketsPassed != 1 {
		t.Errorf("one packet to two subscribers counted %+v", st)
	}
}
