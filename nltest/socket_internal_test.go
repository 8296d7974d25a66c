package nltest

import (
	"errors"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/nlkit/nlkit/netlink"
)

// closed reports whether ch is closed, without blocking.
func closed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestDeadline(t *testing.T) {
	d := newDeadline()
	t.Cleanup(func() { d.set(time.Time{}) })
	if closed(d.wait()) {
		t.Fatal("a new deadline has passed")
	}
	d.set(time.Now().Add(-time.Second))
	if !closed(d.wait()) {
		t.Fatal("a deadline in the past has not passed")
	}
	d.set(time.Time{})
	if closed(d.wait()) {
		t.Fatal("a cleared deadline has passed")
	}
	d.set(time.Now().Add(time.Hour))
	if closed(d.wait()) {
		t.Fatal("a deadline an hour away has passed")
	}
	// Moving a pending deadline earlier takes effect.
	d.set(time.Now().Add(20 * time.Millisecond))
	select {
	case <-d.wait():
	case <-time.After(20 * time.Second):
		t.Fatal("deadline never passed")
	}
	// Setting it again after it fired starts afresh.
	d.set(time.Now().Add(time.Hour))
	if closed(d.wait()) {
		t.Fatal("a deadline reset after firing has passed")
	}
}

func newTestSocket(t *testing.T, cfg Config) (*Endpoint, *socket) {
	t.Helper()
	e := NewEndpoint(30, cfg)
	s := newSocket(e, 1)
	e.mu.Lock()
	e.sockets[1] = s
	e.mu.Unlock()
	t.Cleanup(func() { _ = s.Close() })
	return e, s
}

func TestSocketReceivePeekAndTruncate(t *testing.T) {
	e, s := newTestSocket(t, Config{})
	m := netlink.Message{Header: netlink.Header{Type: 0x10}, Data: []byte("0123456789")}
	if err := e.Unicast(1, m); err != nil {
		t.Fatal(err)
	}
	// A peek with no buffer gives the size and leaves the datagram queued.
	for range 2 {
		n, from, err := s.Receive(nil, true)
		if err != nil || n != 28 || from != (netlink.Addr{}) {
			t.Fatalf("peek = %d, %+v, %v; want 28 bytes from the kernel", n, from, err)
		}
	}
	// A short buffer gets what fits, the full length, and loses the rest.
	b := make([]byte, 16)
	n, _, err := s.Receive(b, false)
	if err != nil || n != 28 {
		t.Fatalf("Receive = %d, %v; want the full length 28", n, err)
	}
	var h netlink.Message
	if err := h.UnmarshalBinary(append(b, make([]byte, 12)...)); err != nil || h.Header.Type != 0x10 {
		t.Fatalf("truncated datagram starts with %+v, %v", h.Header, err)
	}
	s.mu.Lock()
	queued, left := s.queued, len(s.queue)
	s.mu.Unlock()
	if queued != 0 || left != 0 {
		t.Fatalf("after reading: %d bytes in %d datagrams still queued", queued, left)
	}
}

func TestSocketReceiveDeadlineAndClose(t *testing.T) {
	_, s := newTestSocket(t, Config{})
	if err := s.SetReadDeadline(time.Now().Add(20 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Receive(make([]byte, 64), false); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Receive past the deadline: %v", err)
	}
	if err := s.SetReadDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, _, err := s.Receive(make([]byte, 64), false)
		errc <- err
	}()
	time.Sleep(10 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Receive on close: %v, want net.ErrClosed", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Close did not unblock Receive")
	}
	if err := s.Close(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("second Close: %v, want net.ErrClosed", err)
	}
	if err := s.Send([]byte{}); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Send after Close: %v, want net.ErrClosed", err)
	}
	if s.deliver([]byte{1}, netlink.Addr{}) {
		t.Fatal("a closed socket accepted a datagram")
	}
}

func TestSocketOptionErrors(t *testing.T) {
	_, s := newTestSocket(t, Config{Unprivileged: true})
	for _, tc := range []struct {
		level, name int
	}{
		{solNetlink, 99}, {solSocket, 99}, {99, int(netlink.ExtendedAck)},
	} {
		if err := s.SetOption(tc.level, tc.name, 1); !errors.Is(err, syscall.ENOPROTOOPT) {
			t.Errorf("SetOption(%d, %d): %v, want ENOPROTOOPT", tc.level, tc.name, err)
		}
		if _, err := s.Option(tc.level, tc.name); !errors.Is(err, syscall.ENOPROTOOPT) {
			t.Errorf("Option(%d, %d): %v, want ENOPROTOOPT", tc.level, tc.name, err)
		}
	}
	if err := s.SetOption(solSocket, soRcvbufForce, 1<<20); !errors.Is(err, syscall.EPERM) {
		t.Errorf("SO_RCVBUFFORCE unprivileged: %v, want EPERM", err)
	}
	if err := s.SetOption(solSocket, soRcvbuf, 1000); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Option(solSocket, soRcvbuf); v != 2000 || err != nil {
		t.Errorf("SO_RCVBUF = %d, %v; want 2000 (doubled)", v, err)
	}
}
