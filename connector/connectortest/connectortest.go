// Package connectortest is a fake process events connector for unit
// tests: the kernel side of NETLINK_CONNECTOR's CN_IDX_PROC service, in
// Go, with no privileges needed.
//
// Proc.Dial returns a real *netlink.Conn over a fake socket, so
// connector.NewProcSubscription and everything above it run unchanged:
//
//	p := connectortest.New(nil)
//	c, _ := p.Dial(nil)
//	sub, err := connector.NewProcSubscription(ctx, c, 0)
//	p.Emit(connector.ProcEvent{What: connector.ProcEventExec, Exec: &connector.ExecEvent{PID: 42, TGID: 42}})
//	for ev, err := range sub.Events(ctx) { ... }
//
// Like the kernel, the fake counts listeners (PROC_CN_MCAST_LISTEN and
// IGNORE, once per socket), multicasts an acknowledgement (a
// PROC_EVENT_NONE event whose cn_msg.ack is the request's plus one, and
// whose seq is its own counter) to every member of the group, sends
// events only while someone listens, applies a socket's event filter
// (struct proc_input) as cn_filter does, to acknowledgements too, and
// drops a datagram that does
// not fit a socket's receive buffer, which then reports ENOBUFS.
//
// Concurrency: a Proc and its sockets are safe for concurrent use.
package connectortest

import (
	"encoding/binary"
	"errors"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/nlkit/nlkit/connector"
	"github.com/nlkit/nlkit/netlink"
)

// Config shapes the fake.
type Config struct {
	// Silent never acknowledges, as the kernel ignores requests from
	// processes outside the initial user and PID namespaces.
	Silent bool
	// AckErr is the errno acknowledgements carry (0: success).
	AckErr syscall.Errno
	// IgnoreFilters ignores requests with an event filter (struct
	// proc_input), as kernels before 6.6 do.
	IgnoreFilters bool
	// ReceiveBuffer is a socket's default receive buffer in bytes
	// (212992 if zero).
	ReceiveBuffer int
}

// Request is a multicast operation a socket sent.
type Request struct {
	Port uint32
	// Listen is true for PROC_CN_MCAST_LISTEN, false for IGNORE.
	Listen bool
	// Filter is the event filter of a struct proc_input, 0 for a bare
	// operation.
	Filter connector.ProcEventType
	// Ack is the request's cn_msg.ack.
	Ack uint32
}

// Proc is a fake process connector.
type Proc struct {
	cfg Config

	mu        sync.Mutex
	sockets   map[uint32]*socket
	nextPort  uint32
	listeners int
	seq       uint32
	requests  []Request
}

// New returns a fake process connector; cfg may be nil.
func New(cfg *Config) *Proc {
	p := &Proc{sockets: map[uint32]*socket{}, nextPort: 2000}
	if cfg != nil {
		p.cfg = *cfg
	}
	if p.cfg.ReceiveBuffer <= 0 {
		p.cfg.ReceiveBuffer = 212992
	}
	return p
}

// Dial opens a socket on the fake and returns a *netlink.Conn over it.
// cfg.ReceiveBuffer and Debug are honoured.
func (p *Proc) Dial(cfg *netlink.Config) (*netlink.Conn, error) {
	if cfg == nil {
		cfg = &netlink.Config{}
	}
	p.mu.Lock()
	port := p.nextPort
	p.nextPort++
	s := &socket{p: p, port: port, capacity: 2 * p.cfg.ReceiveBuffer, groups: map[uint32]bool{}, notify: make(chan struct{})}
	if cfg.ReceiveBuffer > 0 {
		s.capacity = 2 * cfg.ReceiveBuffer
	}
	p.sockets[port] = s
	p.mu.Unlock()
	return netlink.NewConn(s, netlink.Connector, cfg), nil
}

// Listeners returns the kernel's count of listeners
// (proc_event_num_listeners).
func (p *Proc) Listeners() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.listeners
}

// Requests returns the multicast operations received so far.
func (p *Proc) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Request(nil), p.requests...)
}

// Emit sends each event, in a datagram of its own, to the sockets in the
// group whose filter lets it through, if anyone listens. It returns how
// many datagrams were delivered; an event nobody listens to is dropped,
// as in the kernel.
func (p *Proc) Emit(evs ...connector.ProcEvent) (int, error) {
	n := 0
	for _, ev := range evs {
		data, err := ev.MarshalBinary()
		if err != nil {
			return n, err
		}
		p.mu.Lock()
		if p.listeners < 1 {
			p.mu.Unlock()
			continue
		}
		k, err := p.multicastLocked(0, data, &ev)
		p.mu.Unlock()
		if err != nil {
			return n, err
		}
		n += k
	}
	return n, nil
}

// Overrun makes every socket in the group report ENOBUFS on its next
// read, as after a burst that overflowed their buffers.
func (p *Proc) Overrun() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.sockets {
		s.mu.Lock()
		if s.groups[connector.ProcID.Index] {
			s.overrun = true
			s.wakeLocked()
		}
		s.mu.Unlock()
	}
}

// multicastLocked wraps data in a cn_msg (with the kernel's sequence
// number and ack) and a netlink message, and delivers it to the group's
// members; ev, if not nil, is checked against each socket's filter.
func (p *Proc) multicastLocked(ack uint32, data []byte, ev *connector.ProcEvent) (int, error) {
	cm, err := connector.Message{ID: connector.ProcID, Sequence: p.seq, Ack: ack, Data: data}.MarshalBinary()
	if err != nil {
		return 0, err
	}
	p.seq++
	b, err := netlink.Message{Header: netlink.Header{Type: connector.MessageType, Sequence: p.seq - 1}, Data: cm}.MarshalBinary()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range p.sockets {
		if ev != nil && s.filtered(ev) {
			continue
		}
		if s.deliver(b, connector.ProcID.Index) {
			n++
		}
	}
	return n, nil
}

// input handles a datagram a socket sent, as cn_rx_skb and
// cn_proc_mcast_ctl do.
func (p *Proc) input(s *socket, b []byte) {
	msgs, err := netlink.ParseMessages(b)
	if err != nil {
		return
	}
	for _, m := range msgs {
		var cm connector.Message
		if cm.UnmarshalBinary(m.Data) != nil || cm.ID != connector.ProcID {
			continue
		}
		var op, filter uint32
		switch len(cm.Data) {
		case 4:
			op = binary.NativeEndian.Uint32(cm.Data)
		case 8:
			if p.cfg.IgnoreFilters {
				continue
			}
			op, filter = binary.NativeEndian.Uint32(cm.Data), binary.NativeEndian.Uint32(cm.Data[4:])
		default:
			continue // the kernel ignores other sizes
		}
		p.mu.Lock()
		if p.cfg.Silent {
			p.mu.Unlock()
			continue
		}
		errno := uint32(p.cfg.AckErr)
		s.mu.Lock()
		initial, prev := !s.hasInput, s.op
		s.hasInput, s.op = true, op
		// valid_event: unknown bits dropped, none meaning all.
		s.filter = connector.ProcEventType(filter) & kernelAll
		if s.filter == 0 {
			s.filter = kernelAll
		}
		s.mu.Unlock()
		switch op {
		case 1: // PROC_CN_MCAST_LISTEN
			if initial || prev != 1 {
				p.listeners++
			}
		case 2: // PROC_CN_MCAST_IGNORE
			if !initial && prev != 2 {
				p.listeners--
			}
		default:
			errno = uint32(syscall.EINVAL)
		}
		p.requests = append(p.requests, Request{Port: s.port, Listen: op == 1, Filter: connector.ProcEventType(filter), Ack: cm.Ack})
		ackEv := connector.ProcEvent{What: connector.ProcEventNone, Ack: &connector.AckEvent{Err: errno}}
		ack, _ := ackEv.MarshalBinary()
		_, _ = p.multicastLocked(cm.Ack+1, ack, &ackEv) // filtered like any event
		p.mu.Unlock()
	}
}

// socket is a user socket on the fake; it implements netlink.Socket.
type socket struct {
	p    *Proc
	port uint32

	mu       sync.Mutex
	queue    [][]byte
	queued   int
	capacity int
	groups   map[uint32]bool
	overrun  bool
	closed   bool
	notify   chan struct{} // closed and replaced on every change
	rdl      time.Time
	hasInput bool
	op       uint32
	filter   connector.ProcEventType
}

func (s *socket) wakeLocked() {
	close(s.notify)
	s.notify = make(chan struct{})
}

// kernelAll is PROC_EVENT_ALL, NONZERO_EXIT included.
const kernelAll = connector.ProcEventAll | connector.ProcEventNonzeroExit

// filtered reports whether the socket's filter drops ev, as cn_filter
// decides: nothing is filtered for a socket that never sent an
// operation; everything after IGNORE; acknowledgements (type 0) only
// pass the "all" filter.
func (s *socket) filtered(ev *connector.ProcEvent) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case !s.hasInput:
		return false
	case s.op == 2:
		return true
	case s.filter == kernelAll:
		return false
	case s.filter&connector.ProcEventNonzeroExit != 0 && ev.What == connector.ProcEventExit && ev.Exit != nil && ev.Exit.Code != 0:
		return false
	}
	return s.filter&ev.What == 0
}

// deliver queues a multicast datagram if the socket is in group and has
// room; a full buffer drops it and arms ENOBUFS.
func (s *socket) deliver(b []byte, group uint32) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || !s.groups[group] {
		return false
	}
	if s.queued+len(b) > s.capacity {
		s.overrun = true
		s.wakeLocked()
		return false
	}
	s.queue = append(s.queue, append([]byte(nil), b...))
	s.queued += len(b)
	s.wakeLocked()
	return true
}

func (s *socket) Send(b []byte) error {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return net.ErrClosed
	}
	s.p.input(s, b)
	return nil
}

func (s *socket) Receive(b []byte, peek bool) (int, netlink.Addr, error) {
	for {
		s.mu.Lock()
		switch {
		case s.closed:
			s.mu.Unlock()
			return 0, netlink.Addr{}, net.ErrClosed
		case s.overrun:
			s.overrun = false
			s.mu.Unlock()
			return 0, netlink.Addr{}, syscall.ENOBUFS
		case len(s.queue) > 0:
			d := s.queue[0]
			if !peek {
				s.queue = s.queue[1:]
				s.queued -= len(d)
			}
			s.mu.Unlock()
			copy(b, d)
			return len(d), netlink.Addr{Groups: 1 << (connector.ProcID.Index - 1)}, nil
		}
		var timer *time.Timer
		var timeout <-chan time.Time
		if !s.rdl.IsZero() {
			d := time.Until(s.rdl)
			if d <= 0 {
				s.mu.Unlock()
				return 0, netlink.Addr{}, os.ErrDeadlineExceeded
			}
			timer = time.NewTimer(d)
			timeout = timer.C
		}
		notify := s.notify
		s.mu.Unlock()
		select {
		case <-notify:
		case <-timeout:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

func (s *socket) PortID() uint32 { return s.port }

func (s *socket) JoinGroup(g uint32) error {
	if g == 0 || g > 32 {
		return syscall.EINVAL
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[g] = true
	return nil
}

func (s *socket) LeaveGroup(g uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.groups, g)
	return nil
}

// Socket option levels and names the fake knows.
const (
	solSocket = 1  // SOL_SOCKET
	soRcvbuf  = 8  // SO_RCVBUF
	soRcvbufF = 33 // SO_RCVBUFFORCE
)

func (s *socket) SetOption(level, name, value int) error {
	if level == solSocket && (name == soRcvbuf || name == soRcvbufF) {
		s.mu.Lock()
		s.capacity = 2 * value
		s.mu.Unlock()
	}
	return nil
}

func (s *socket) Option(level, name int) (int, error) {
	if level == solSocket && name == soRcvbuf {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.capacity, nil
	}
	return 0, errors.New("connectortest: option not supported")
}

func (s *socket) SetReadDeadline(t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rdl = t
	s.wakeLocked()
	return nil
}

func (s *socket) SetWriteDeadline(time.Time) error { return nil }

func (s *socket) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return net.ErrClosed
	}
	s.closed = true
	s.wakeLocked()
	s.mu.Unlock()
	s.p.mu.Lock()
	delete(s.p.sockets, s.port)
	s.p.mu.Unlock()
	return nil
}
