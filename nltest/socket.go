package nltest

import (
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/nlkit/nlkit/netlink"
)

type datagram struct {
	b    []byte
	from netlink.Addr
}

// socket is the user side of a fake netlink socket; it implements
// netlink.Socket.
type socket struct {
	e    *Endpoint
	port uint32

	mu        sync.Mutex
	queue     []datagram
	queued    int // bytes in queue
	capacity  int
	overrun   bool
	dump      [][]byte // datagrams of the running dump, produced on read
	groups    map[uint32]bool
	extAck    bool
	strict    bool
	capAck    bool
	noENOBUFS bool
	closed    bool
	notify    chan struct{} // closed and replaced when something happens

	rdl, wdl deadline
}

func newSocket(e *Endpoint, port uint32) *socket {
	return &socket{
		e: e, port: port, capacity: e.cfg.ReceiveBuffer,
		groups: map[uint32]bool{}, notify: make(chan struct{}),
		rdl: newDeadline(), wdl: newDeadline(),
	}
}

// wake tells a blocked reader to look again.
func (s *socket) wake() {
	s.mu.Lock()
	close(s.notify)
	s.notify = make(chan struct{})
	s.mu.Unlock()
}

func (s *socket) member(g uint32) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.closed && s.groups[g]
}

// deliver queues a datagram, or drops it and flags an overrun when the
// receive buffer is full. It reports whether the datagram was queued.
func (s *socket) deliver(b []byte, from netlink.Addr) bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	if s.queued+len(b) > s.capacity {
		if !s.noENOBUFS {
			s.overrun = true
		}
		s.mu.Unlock()
		s.wake()
		return false
	}
	s.queue = append(s.queue, datagram{b: b, from: from})
	s.queued += len(b)
	s.mu.Unlock()
	s.wake()
	return true
}

func (s *socket) startDump(dgrams [][]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.dump) > 0 {
		return syscall.EBUSY
	}
	// The kernel fills the first datagram at once, the rest on reads.
	s.dump = dgrams
	s.fillDumpLocked()
	return nil
}

func (s *socket) fillDumpLocked() {
	if len(s.dump) > 0 && len(s.queue) == 0 {
		b := s.dump[0]
		s.dump = s.dump[1:]
		s.queue = append(s.queue, datagram{b: b})
		s.queued += len(b)
	}
}

func (s *socket) Send(b []byte) error {
	select {
	case <-s.wdl.wait():
		return os.ErrDeadlineExceeded
	default:
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return net.ErrClosed
	}
	s.e.input(s, append([]byte(nil), b...))
	return nil
}

func (s *socket) Receive(b []byte, peek bool) (int, netlink.Addr, error) {
	for {
		select {
		case <-s.rdl.wait():
			return 0, netlink.Addr{}, os.ErrDeadlineExceeded
		default:
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return 0, netlink.Addr{}, net.ErrClosed
		}
		if s.overrun {
			s.overrun = false
			s.mu.Unlock()
			return 0, netlink.Addr{}, syscall.ENOBUFS
		}
		s.fillDumpLocked()
		if len(s.queue) > 0 {
			d := s.queue[0]
			if !peek {
				s.queue = s.queue[1:]
				s.queued -= len(d.b)
				s.fillDumpLocked()
			}
			s.mu.Unlock()
			copy(b, d.b)
			return len(d.b), d.from, nil
		}
		notify := s.notify
		s.mu.Unlock()
		select {
		case <-notify:
		case <-s.rdl.wait():
		}
	}
}

func (s *socket) PortID() uint32 { return s.port }

func (s *socket) JoinGroup(g uint32) error {
	if g == 0 || int(g) > s.e.cfg.Groups {
		return syscall.EINVAL
	}
	s.mu.Lock()
	s.groups[g] = true
	s.mu.Unlock()
	return nil
}

func (s *socket) LeaveGroup(g uint32) error {
	if g == 0 || int(g) > s.e.cfg.Groups {
		return syscall.EINVAL
	}
	s.mu.Lock()
	delete(s.groups, g)
	s.mu.Unlock()
	return nil
}

const (
	solNetlink    = 270
	solSocket     = 1
	soRcvbuf      = 8
	soRcvbufForce = 33
)

func (s *socket) SetOption(level, name, value int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	on := value != 0
	switch {
	case level == solNetlink && name == int(netlink.ExtendedAck):
		s.extAck = on
	case level == solNetlink && name == int(netlink.GetStrictCheck):
		s.strict = on
	case level == solNetlink && name == int(netlink.CapAck):
		s.capAck = on
	case level == solNetlink && name == int(netlink.NoENOBUFS):
		s.noENOBUFS = on
	case level == solNetlink && (name == int(netlink.ListenAllNSID) || name == int(netlink.PacketInfo) || name == int(netlink.BroadcastError)):
	case level == solSocket && name == soRcvbuf:
		s.capacity = 2 * min(value, 212992) // net.core.rmem_max
	case level == solSocket && name == soRcvbufForce:
		if s.e.cfg.Unprivileged {
			return syscall.EPERM
		}
		s.capacity = 2 * value
	default:
		return syscall.ENOPROTOOPT
	}
	return nil
}

func (s *socket) Option(level, name int) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := func(v bool) int {
		if v {
			return 1
		}
		return 0
	}
	switch {
	case level == solNetlink && name == int(netlink.ExtendedAck):
		return b(s.extAck), nil
	case level == solNetlink && name == int(netlink.GetStrictCheck):
		return b(s.strict), nil
	case level == solNetlink && name == int(netlink.CapAck):
		return b(s.capAck), nil
	case level == solNetlink && name == int(netlink.NoENOBUFS):
		return b(s.noENOBUFS), nil
	case level == solSocket && name == soRcvbuf:
		return s.capacity, nil
	}
	return 0, syscall.ENOPROTOOPT
}

func (s *socket) SetReadDeadline(t time.Time) error  { s.rdl.set(t); return nil }
func (s *socket) SetWriteDeadline(t time.Time) error { s.wdl.set(t); return nil }

func (s *socket) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return net.ErrClosed
	}
	s.closed = true
	s.mu.Unlock()
	s.wake()
	s.e.remove(s.port)
	s.rdl.set(time.Time{})
	s.wdl.set(time.Time{})
	return nil
}

// deadline is a settable deadline whose wait channel is closed when it
// passes, as net.Pipe's deadlines work.
type deadline struct {
	mu    sync.Mutex
	timer *time.Timer
	ch    chan struct{}
}

func newDeadline() deadline { return deadline{ch: make(chan struct{})} }

func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil && !d.timer.Stop() {
		<-d.ch // the timer fired and closed ch; wait until it did
	}
	d.timer = nil
	select {
	case <-d.ch:
		d.ch = make(chan struct{})
	default:
	}
	if t.IsZero() {
		return
	}
	if dur := time.Until(t); dur > 0 {
		ch := d.ch
		d.timer = time.AfterFunc(dur, func() { close(ch) })
		return
	}
	close(d.ch)
}

func (d *deadline) wait() chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ch
}
