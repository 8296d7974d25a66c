package netlink_test

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nlkit/nlkit/netlink"
)

// rawDatagram is one datagram a rawSocket hands out, or an error.
type rawDatagram struct {
	b    []byte
	from netlink.Addr
	err  error
}

// rawSocket is a netlink.Socket that delivers arbitrary bytes, not
// netlink messages, as NETLINK_KOBJECT_UEVENT does; nltest's endpoint
// speaks only netlink messages.
type rawSocket struct {
	mu     sync.Mutex
	queue  []rawDatagram
	closed bool
	wake   chan struct{}
	dl     time.Time
}

func newRawSocket(ds ...rawDatagram) *rawSocket {
	return &rawSocket{queue: ds, wake: make(chan struct{}, 1)}
}

func (s *rawSocket) push(d rawDatagram) {
	s.mu.Lock()
	s.queue = append(s.queue, d)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *rawSocket) Send(b []byte) error { return syscall.EOPNOTSUPP }

func (s *rawSocket) Receive(b []byte, peek bool) (int, netlink.Addr, error) {
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return 0, netlink.Addr{}, net.ErrClosed
		}
		if !s.dl.IsZero() && !time.Now().Before(s.dl) {
			s.mu.Unlock()
			return 0, netlink.Addr{}, os.ErrDeadlineExceeded
		}
		if len(s.queue) > 0 {
			d := s.queue[0]
			if !peek || d.err != nil {
				s.queue = s.queue[1:]
			}
			s.mu.Unlock()
			if d.err != nil {
				return 0, netlink.Addr{}, d.err
			}
			copy(b, d.b)
			return len(d.b), d.from, nil
		}
		s.mu.Unlock()
		select {
		case <-s.wake:
		case <-time.After(time.Millisecond):
		}
	}
}

func (s *rawSocket) PortID() uint32                         { return 77 }
func (s *rawSocket) JoinGroup(uint32) error                 { return nil }
func (s *rawSocket) LeaveGroup(uint32) error                { return nil }
func (s *rawSocket) SetOption(level, name, value int) error { return nil }
func (s *rawSocket) Option(level, name int) (int, error)    { return 0, nil }
func (s *rawSocket) SetWriteDeadline(time.Time) error       { return nil }
func (s *rawSocket) SetReadDeadline(t time.Time) error {
	s.mu.Lock()
	s.dl = t
	s.mu.Unlock()
	return nil
}
func (s *rawSocket) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return net.ErrClosed
	}
	s.closed = true
	return nil
}

type rawResult struct {
	b    []byte
	from netlink.Addr
	err  error
}

func receiveRawT(t testing.TB, c *netlink.Conn, ctx context.Context) ([]byte, netlink.Addr, error) {
	t.Helper()
	r := mustReturn(t, func() rawResult {
		b, from, err := c.ReceiveRaw(ctx)
		return rawResult{b, from, err}
	})
	return r.b, r.from, r.err
}

func TestReceiveRaw(t *testing.T) {
	uevent := []byte("add@/devices/virtual/net/v0\x00ACTION=add\x00SEQNUM=1\x00")
	kernel := netlink.Addr{Groups: 1, Creds: netlink.Ucred{}, HasCreds: true}
	user := netlink.Addr{Port: 4242, Groups: 1, Creds: netlink.Ucred{PID: 99, UID: 1000, GID: 1000}, HasCreds: true}
	big := []byte(strings.Repeat("x", 3*os.Getpagesize())) // larger than the first buffer
	tests := []struct {
		name      string
		allow     bool
		in        []rawDatagram
		want      []rawDatagram
		wantDrops uint64
	}{
		{
			name: "kernel only",
			in:   []rawDatagram{{b: []byte("forged"), from: user}, {b: uevent, from: kernel}},
			want: []rawDatagram{{b: uevent, from: kernel}}, wantDrops: 1,
		},
		{
			name: "user senders allowed", allow: true,
			in:   []rawDatagram{{b: []byte("forged"), from: user}, {b: uevent, from: kernel}},
			want: []rawDatagram{{b: []byte("forged"), from: user}, {b: uevent, from: kernel}},
		},
		{
			name: "never cut",
			in:   []rawDatagram{{b: big, from: kernel}},
			want: []rawDatagram{{b: big, from: kernel}},
		},
		{
			name: "overrun and on",
			in:   []rawDatagram{{err: syscall.ENOBUFS}, {b: uevent, from: kernel}},
			want: []rawDatagram{{err: netlink.ErrOverrun}, {b: uevent, from: kernel}},
		},
		{
			name: "empty datagram",
			in:   []rawDatagram{{b: []byte{}, from: kernel}},
			want: []rawDatagram{{b: nil, from: kernel}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newRawSocket(tc.in...)
			c := netlink.NewConn(s, netlink.KObjectUevent, &netlink.Config{AllowUserSenders: tc.allow})
			defer c.Close()
			for i, w := range tc.want {
				b, from, err := receiveRawT(t, c, context.Background())
				if w.err != nil {
					var oe *netlink.OpError
					if !errors.Is(err, w.err) || !errors.As(err, &oe) {
						t.Fatalf("datagram %d: error %v, want an *OpError matching %v", i, err, w.err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("datagram %d: %v", i, err)
				}
				if string(b) != string(w.b) || from != w.from {
					t.Fatalf("datagram %d: %q from %+v, want %q from %+v", i, b, from, w.b, w.from)
				}
			}
			if got := c.Stats().Spoofed; got != tc.wantDrops {
				t.Fatalf("Stats().Spoofed = %d, want %d", got, tc.wantDrops)
			}
		})
	}
}

func TestReceiveRawOwnsMemory(t *testing.T) {
	s := newRawSocket(rawDatagram{b: []byte("first")}, rawDatagram{b: []byte("SECOND")})
	c := netlink.NewConn(s, netlink.KObjectUevent, nil)
	defer c.Close()
	first, _, err := receiveRawT(t, c, context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := receiveRawT(t, c, context.Background()); err != nil {
		t.Fatal(err)
	}
	if string(first) != "first" {
		t.Fatalf("the first datagram changed to %q after the next read", first)
	}
}

func TestReceiveRawEnds(t *testing.T) {
	s := newRawSocket()
	c := netlink.NewConn(s, netlink.KObjectUevent, nil)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(20 * time.Millisecond)
		cancel()
	}()
	if _, _, err := receiveRawT(t, c, ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	// The Conn stays usable after a cancelled read.
	s.push(rawDatagram{b: []byte("later")})
	if b, _, err := receiveRawT(t, c, context.Background()); err != nil || string(b) != "later" {
		t.Fatalf("after cancel: %q %v", b, err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := receiveRawT(t, c, context.Background()); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("closed: %v", err)
	}
}

func TestDebugRaw(t *testing.T) {
	t.Setenv(netlink.DebugEnv, "2")
	var w syncBuffer
	s := newRawSocket(rawDatagram{b: []byte("add@/x\x00"), from: netlink.Addr{Groups: 1, HasCreds: true, Creds: netlink.Ucred{GID: 5}}})
	c := netlink.NewConn(s, netlink.KObjectUevent, &netlink.Config{Debug: &w})
	defer c.Close()
	if _, _, err := receiveRawT(t, c, context.Background()); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(w.Lines(), "\n")
	want := "nlkit: recv proto=15 raw datagram 7B from={port=0 groups=0x1} creds={pid=0 uid=0 gid=5}\n" +
		"nlkit:   00000000  61 64 64 40 2f 78 00                              |add@/x.|"
	if got != want {
		t.Fatalf("debug output:\n%s\nwant:\n%s", got, want)
	}
}
