// Package ueventtest is a fake NETLINK_KOBJECT_UEVENT socket, so code
// built on package uevent can be tested without a kernel: it delivers the
// kernel's events, udevd's rebroadcasts and forgeries, with the sender
// addresses and credentials the kernel would attach.
//
//	sock := ueventtest.New()
//	sub, err := uevent.NewSubscription(sock.Conn(), nil)
//	sock.Kernel(uevent.Event{Action: uevent.Add, DevPath: "/devices/virtual/net/v0", Subsystem: "net", SeqNum: 1})
//	ev, err := sub.Next(ctx)
package ueventtest

import (
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/uevent"
)

// UdevPort is the port a udevd worker sends from in Socket.Udev.
const UdevPort = 3538932513

// Socket is one fake uevent socket; it implements netlink.Socket.
type Socket struct {
	mu      sync.Mutex
	queue   []datagram
	groups  map[uint32]bool
	overrun bool
	closed  bool
	notify  chan struct{} // closed and replaced when something happens
	rdl     time.Time
	timer   *time.Timer
}

type datagram struct {
	b    []byte
	from netlink.Addr
}

// New returns a socket with no groups joined.
func New() *Socket {
	return &Socket{groups: map[uint32]bool{}, notify: make(chan struct{})}
}

// Conn returns a Conn over the socket, configured as uevent.Subscribe
// configures its own: user senders allowed, so that the Subscription's
// checks see everything.
func (s *Socket) Conn() *netlink.Conn {
	return netlink.NewConn(s, netlink.KObjectUevent, &netlink.Config{AllowUserSenders: true, PassCredentials: true})
}

func (s *Socket) wakeLocked() {
	close(s.notify)
	s.notify = make(chan struct{})
}

// Deliver queues b as sent from `from`, if the socket joined from's group
// (or from is a unicast). It reports whether b was queued. Set from.Creds
// and from.HasCreds as the kernel would: a real socket with SO_PASSCRED
// always gets credentials.
func (s *Socket) Deliver(b []byte, from netlink.Addr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if from.Groups != 0 {
		member := false
		for g := uint32(1); g <= 32; g++ {
			if from.Groups&(1<<(g-1)) != 0 && s.groups[g] {
				member = true
			}
		}
		if !member {
			return false
		}
	}
	s.queue = append(s.queue, datagram{append([]byte(nil), b...), from})
	s.wakeLocked()
	return true
}

// Kernel encodes ev in the kernel's form (ev.Source is ignored) and
// delivers it as the kernel does: from port 0 to uevent.GroupKernel, with
// credentials pid 0, uid 0, gid 0.
func (s *Socket) Kernel(ev uevent.Event) (bool, error) {
	ev.Source = uevent.Kernel
	b, err := ev.MarshalBinary()
	if err != nil {
		return false, err
	}
	return s.Deliver(b, netlink.Addr{Groups: 1 << (uevent.GroupKernel - 1), HasCreds: true}), nil
}

// Udev encodes ev in udevd's form (ev.Source is ignored) and delivers it
// as a udevd worker running as root does: from UdevPort to
// uevent.GroupUdev, with credentials uid 0.
func (s *Socket) Udev(ev uevent.Event) (bool, error) {
	ev.Source = uevent.Udev
	b, err := ev.MarshalBinary()
	if err != nil {
		return false, err
	}
	return s.Deliver(b, netlink.Addr{
		Port: UdevPort, Groups: 1 << (uevent.GroupUdev - 1),
		Creds: netlink.Ucred{PID: 4242}, HasCreds: true,
	}), nil
}

// Overrun makes the next read report ENOBUFS, as after a burst that
// overflowed the receive buffer.
func (s *Socket) Overrun() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.overrun = true
	s.wakeLocked()
}

// Send accepts and discards b: the kernel has no input on this protocol.
func (s *Socket) Send(b []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return net.ErrClosed
	}
	return nil
}

// Receive implements netlink.Socket.
func (s *Socket) Receive(b []byte, peek bool) (int, netlink.Addr, error) {
	for {
		s.mu.Lock()
		switch {
		case s.closed:
			s.mu.Unlock()
			return 0, netlink.Addr{}, net.ErrClosed
		case !s.rdl.IsZero() && !time.Now().Before(s.rdl):
			s.mu.Unlock()
			return 0, netlink.Addr{}, os.ErrDeadlineExceeded
		case s.overrun:
			s.overrun = false
			s.mu.Unlock()
			return 0, netlink.Addr{}, syscall.ENOBUFS
		case len(s.queue) > 0:
			d := s.queue[0]
			if !peek {
				s.queue = s.queue[1:]
			}
			s.mu.Unlock()
			copy(b, d.b)
			return len(d.b), d.from, nil
		}
		notify := s.notify
		s.mu.Unlock()
		<-notify
	}
}

// PortID implements netlink.Socket.
func (s *Socket) PortID() uint32 { return 1000 }

// JoinGroup implements netlink.Socket: groups 1 and 2 exist.
func (s *Socket) JoinGroup(g uint32) error {
	if g != 1 && g != 2 {
		return syscall.EINVAL
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[g] = true
	return nil
}

// LeaveGroup implements netlink.Socket.
func (s *Socket) LeaveGroup(g uint32) error {
	if g != 1 && g != 2 {
		return syscall.EINVAL
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.groups, g)
	return nil
}

// SetOption implements netlink.Socket; options are accepted and ignored.
func (s *Socket) SetOption(level, name, value int) error { return nil }

// Option implements netlink.Socket; every option reads 0.
func (s *Socket) Option(level, name int) (int, error) { return 0, nil }

// SetReadDeadline implements netlink.Socket.
func (s *Socket) SetReadDeadline(t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rdl = t
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	if !t.IsZero() {
		s.timer = time.AfterFunc(time.Until(t), func() {
			s.mu.Lock()
			s.wakeLocked()
			s.mu.Unlock()
		})
	}
	s.wakeLocked()
	return nil
}

// SetWriteDeadline implements netlink.Socket; sending never blocks.
func (s *Socket) SetWriteDeadline(t time.Time) error { return nil }

// Close implements netlink.Socket.
func (s *Socket) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return net.ErrClosed
	}
	s.closed = true
	if s.timer != nil {
		s.timer.Stop()
	}
	s.wakeLocked()
	return nil
}
