package sockdiag_test

import (
	"context"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/nltest"
	"github.com/nlkit/nlkit/sockdiag"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// fakeDiag is a sock_diag kernel: it answers dumps from its tables,
// filtered by family, protocol and state as the kernel does, exact
// lookups by address, and destroys.
type fakeDiag struct {
	mu         sync.Mutex
	inet       []*sockdiag.InetSocket
	unix       []*sockdiag.UnixSocket
	noHandler  map[sockdiag.Protocol]bool // dumps fail with ENOENT
	destroyErr syscall.Errno
	requests   []netlink.Message
}

func (f *fakeDiag) input(r *nltest.Request) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := r.Message
	f.requests = append(f.requests, netlink.Message{Header: m.Header, Data: append([]byte(nil), m.Data...)})
	if len(m.Data) == 0 {
		return syscall.EINVAL
	}
	if sockdiag.Family(m.Data[0]) == sockdiag.FamilyUnix {
		var req sockdiag.UnixRequest
		if err := req.UnmarshalBinary(m.Data); err != nil {
			return syscall.EINVAL
		}
		var out []netlink.Message
		for _, s := range f.unix {
			if !req.States.Has(s.State) || (m.Header.Flags&netlink.Dump == 0 && s.Inode != req.Inode) {
				continue
			}
			b, _ := s.MarshalBinary()
			out = append(out, netlink.Message{Header: netlink.Header{Type: 20}, Data: b})
		}
		if m.Header.Flags&netlink.Dump != 0 {
			return r.Dump(out, nltest.DumpOptions{})
		}
		if len(out) == 0 {
			return syscall.ENOENT
		}
		return r.Reply(out[0])
	}
	var req sockdiag.InetRequest
	if err := req.UnmarshalBinary(m.Data); err != nil {
		return syscall.EINVAL
	}
	switch {
	case m.Header.Type == 21: // SOCK_DESTROY
		if f.destroyErr != 0 {
			return f.destroyErr
		}
		for i, s := range f.inet {
			if s.ID.Local == req.ID.Local && s.ID.Remote == req.ID.Remote {
				f.inet = append(f.inet[:i], f.inet[i+1:]...)
				return nil
			}
		}
		return syscall.ENOENT
	case m.Header.Flags&netlink.Dump != 0:
		if f.noHandler[req.Protocol] {
			return r.Dump(nil, nltest.DumpOptions{Err: syscall.ENOENT})
		}
		var out []netlink.Message
		for _, s := range f.inet {
			if s.Family != req.Family || s.Protocol != req.Protocol || !req.States.Has(s.State) {
				continue
			}
			c := *s
			c.Protocol = 0 // the kernel does not say, for TCP and UDP
			if req.Extensions&sockdiag.ExtInfo == 0 {
				c.TCPInfo = nil
			}
			b, _ := c.MarshalBinary()
			out = append(out, netlink.Message{Header: netlink.Header{Type: 20}, Data: b})
		}
		return r.Dump(out, nltest.DumpOptions{})
	default:
		for _, s := range f.inet {
			if s.Family == req.Family && s.ID.Local == req.ID.Local && s.ID.Remote == req.ID.Remote {
				b, _ := s.MarshalBinary()
				return r.Reply(netlink.Message{Header: netlink.Header{Type: 20}, Data: b})
			}
		}
		return syscall.ENOENT
	}
}

func newFake(t *testing.T, f *fakeDiag) *sockdiag.Client {
	t.Helper()
	ep := nltest.NewEndpoint(netlink.SockDiag, nltest.Config{Input: f.input})
	c, err := ep.Dial(nil)
	if err != nil {
		t.Fatal(err)
	}
	cl := sockdiag.NewClient(c)
	t.Cleanup(func() { cl.Close() })
	return cl
}

var (
	listener = &sockdiag.InetSocket{Family: sockdiag.FamilyIPv4, Protocol: sockdiag.ProtocolTCP, State: sockdiag.StateListen,
		ID:        sockdiag.SocketID{Local: netip.MustParseAddrPort("0.0.0.0:22"), Remote: netip.MustParseAddrPort("0.0.0.0:0"), Cookie: 1},
		SendQueue: 128, Inode: 10, TCPInfo: &sockdiag.TCPInfo{State: sockdiag.StateListen, Size: 280}}
	conn = &sockdiag.InetSocket{Family: sockdiag.FamilyIPv4, Protocol: sockdiag.ProtocolTCP, State: sockdiag.StateEstablished,
		ID:    sockdiag.SocketID{Local: netip.MustParseAddrPort("10.0.0.1:22"), Remote: netip.MustParseAddrPort("10.0.0.2:50000"), Cookie: 2},
		Inode: 11, UID: 1000, TCPInfo: &sockdiag.TCPInfo{State: sockdiag.StateEstablished, RTT: time.Millisecond, SendCwnd: 10, Size: 280}}
	conn6 = &sockdiag.InetSocket{Family: sockdiag.FamilyIPv6, Protocol: sockdiag.ProtocolTCP, State: sockdiag.StateEstablished,
		ID:    sockdiag.SocketID{Local: netip.MustParseAddrPort("[::1]:22"), Remote: netip.MustParseAddrPort("[::1]:50001"), Cookie: 3},
		Inode: 12, V6Only: true}
	udp = &sockdiag.InetSocket{Family: sockdiag.FamilyIPv4, Protocol: sockdiag.ProtocolUDP, State: sockdiag.StateClose,
		ID: sockdiag.SocketID{Local: netip.MustParseAddrPort("127.0.0.1:53"), Remote: netip.MustParseAddrPort("0.0.0.0:0"), Cookie: 4}, Inode: 13}
	ux = &sockdiag.UnixSocket{Type: sockdiag.UnixStream, State: sockdiag.StateListen, Inode: 20, Name: "/run/a", HasQueues: true, SendQueue: 128}
)

func table() *fakeDiag {
	return &fakeDiag{inet: []*sockdiag.InetSocket{listener, conn, conn6, udp}, unix: []*sockdiag.UnixSocket{ux}}
}

func TestInetSockets(t *testing.T) {
	f := table()
	c := newFake(t, f)
	ctx := ctxT(t)
	got, err := c.ListInetSockets(ctx, sockdiag.InetRequest{Family: sockdiag.FamilyIPv4, Protocol: sockdiag.ProtocolTCP, Extensions: sockdiag.ExtInfo})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !reflect.DeepEqual(got[0], listener) || !reflect.DeepEqual(got[1], conn) {
		t.Fatalf("got %+v, want the listener and the connection (with Protocol filled in)", got)
	}
	// The kernel filters by state; the request says which.
	got, err = c.ListInetSockets(ctx, sockdiag.InetRequest{Family: sockdiag.FamilyIPv4, Protocol: sockdiag.ProtocolTCP, States: sockdiag.States(sockdiag.StateListen)})
	if err != nil || len(got) != 1 || got[0].State != sockdiag.StateListen || got[0].TCPInfo != nil {
		t.Fatalf("listeners: %+v, %v", got, err)
	}
	var req sockdiag.InetRequest
	last := f.requests[len(f.requests)-1]
	if err := req.UnmarshalBinary(last.Data); err != nil {
		t.Fatal(err)
	}
	if last.Header.Type != 20 || last.Header.Flags&netlink.Dump != netlink.Dump || req.States != sockdiag.States(sockdiag.StateListen) ||
		req.Family != sockdiag.FamilyIPv4 || req.Protocol != sockdiag.ProtocolTCP {
		t.Fatalf("request %+v: %+v", last.Header, req)
	}
	got, err = c.ListInetSockets(ctx, sockdiag.InetRequest{Family: sockdiag.FamilyIPv6, Protocol: sockdiag.ProtocolTCP})
	if err != nil || len(got) != 1 || got[0].ID.Local.String() != "[::1]:22" || !got[0].V6Only {
		t.Fatalf("IPv6: %+v, %v", got, err)
	}
	got, err = c.ListInetSockets(ctx, sockdiag.InetRequest{Family: sockdiag.FamilyIPv4, Protocol: sockdiag.ProtocolUDP})
	if err != nil || len(got) != 1 || got[0].Protocol != sockdiag.ProtocolUDP || got[0].State.String() != "UNCONN" {
		t.Fatalf("UDP: %+v, %v", got, err)
	}
	// Breaking out of a dump early leaves the client usable.
	for s, err := range c.InetSockets(ctx, sockdiag.InetRequest{Family: sockdiag.FamilyIPv4, Protocol: sockdiag.ProtocolTCP}) {
		if err != nil || s == nil {
			t.Fatal(err)
		}
		break
	}
	if _, err := c.ListInetSockets(ctx, sockdiag.InetRequest{Family: sockdiag.FamilyIPv4, Protocol: sockdiag.ProtocolTCP}); err != nil {
		t.Fatalf("after an abandoned dump: %v", err)
	}
	if _, err := c.ListInetSockets(ctx, sockdiag.InetRequest{Family: sockdiag.FamilyUnix, Protocol: sockdiag.ProtocolTCP}); err == nil {
		t.Fatal("an inet request for the unix family was sent")
	}
}

func TestInetSocketsNoHandler(t *testing.T) {
	f := table()
	f.noHandler = map[sockdiag.Protocol]bool{sockdiag.ProtocolUDP: true}
	c := newFake(t, f)
	_, err := c.ListInetSockets(ctxT(t), sockdiag.InetRequest{Family: sockdiag.FamilyIPv4, Protocol: sockdiag.ProtocolUDP})
	if !errors.Is(err, sockdiag.ErrNotSupported) || !errors.Is(err, syscall.ENOENT) || !strings.Contains(err.Error(), "CONFIG_INET_UDP_DIAG") {
		t.Fatalf("error %v, want ErrNotSupported naming CONFIG_INET_UDP_DIAG", err)
	}
}

func TestInetSocketExact(t *testing.T) {
	c := newFake(t, table())
	ctx := ctxT(t)
	s, err := c.InetSocket(ctx, sockdiag.InetRequest{Family: sockdiag.FamilyIPv4, Protocol: sockdiag.ProtocolTCP, ID: conn.ID})
	if err != nil || !reflect.DeepEqual(s, conn) {
		t.Fatalf("got %+v, %v", s, err)
	}
	gone := conn.ID
	gone.Remote = netip.MustParseAddrPort("10.0.0.3:1")
	_, err = c.InetSocket(ctx, sockdiag.InetRequest{Family: sockdiag.FamilyIPv4, Protocol: sockdiag.ProtocolTCP, ID: gone})
	if !errors.Is(err, sockdiag.ErrNoSocket) || !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("error %v, want ErrNoSocket", err)
	}
}

func TestDestroy(t *testing.T) {
	f := table()
	c := newFake(t, f)
	ctx := ctxT(t)
	if err := c.Destroy(ctx, conn); err != nil {
		t.Fatal(err)
	}
	last := f.requests[len(f.requests)-1]
	var req sockdiag.InetRequest
	if err := req.UnmarshalBinary(last.Data); err != nil {
		t.Fatal(err)
	}
	if last.Header.Type != 21 || req.ID != conn.ID || req.Protocol != sockdiag.ProtocolTCP {
		t.Fatalf("destroy request %+v: %+v", last.Header, req)
	}
	if err := c.Destroy(ctx, conn); !errors.Is(err, sockdiag.ErrNoSocket) {
		t.Fatalf("destroying it again: %v, want ErrNoSocket", err)
	}
	f.destroyErr = syscall.EOPNOTSUPP
	err := c.Destroy(ctx, udp)
	var nse *sockdiag.NotSupportedError
	if !errors.Is(err, sockdiag.ErrNotSupported) || !errors.Is(err, syscall.EOPNOTSUPP) || !errors.As(err, &nse) ||
		!strings.Contains(err.Error(), "CONFIG_INET_DIAG_DESTROY") || !strings.Contains(err.Error(), "destroy udp socket 127.0.0.1:53") {
		t.Fatalf("error %v, want a NotSupportedError naming CONFIG_INET_DIAG_DESTROY and the socket", err)
	}
	f.destroyErr = syscall.EPERM
	if err := c.Destroy(ctx, udp); !errors.Is(err, syscall.EPERM) || errors.Is(err, sockdiag.ErrNotSupported) {
		t.Fatalf("unprivileged: %v, want EPERM", err)
	}
}

func TestUnixSockets(t *testing.T) {
	f := table()
	c := newFake(t, f)
	ctx := ctxT(t)
	got, err := c.ListUnixSockets(ctx, sockdiag.UnixRequest{})
	if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], ux) {
		t.Fatalf("got %+v, %v", got, err)
	}
	var req sockdiag.UnixRequest
	if err := req.UnmarshalBinary(f.requests[0].Data); err != nil {
		t.Fatal(err)
	}
	if req.Show != sockdiag.ShowDefault || req.States != sockdiag.AllStates {
		t.Fatalf("request %+v", req)
	}
	got, err = c.ListUnixSockets(ctx, sockdiag.UnixRequest{States: sockdiag.States(sockdiag.StateEstablished)})
	if err != nil || len(got) != 0 {
		t.Fatalf("established: %+v, %v", got, err)
	}
	s, err := c.UnixSocket(ctx, sockdiag.UnixRequest{Inode: 20})
	if err != nil || s.Name != "/run/a" {
		t.Fatalf("by inode: %+v, %v", s, err)
	}
	if _, err := c.UnixSocket(ctx, sockdiag.UnixRequest{Inode: 21}); !errors.Is(err, sockdiag.ErrNoSocket) {
		t.Fatalf("unknown inode: %v", err)
	}
}
