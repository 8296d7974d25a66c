package nltest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"syscall"

	"github.com/nlkit/nlkit/netlink"
)

// Config describes a kernel endpoint, as the arguments of
// netlink_kernel_create(net, protocol, cfg) do.
type Config struct {
	// Groups is the number of multicast groups (cfg.groups); user sockets
	// may join groups 1..Groups.
	Groups int
	// Input is called for every request message a user socket sends
	// (cfg.input, as netlink_rcv_skb dispatches them), in the sender's
	// goroutine, one message at a time. Returning nil acknowledges the
	// message if it asked for it (NLM_F_ACK); returning an error sends an
	// NLMSG_ERROR: a syscall.Errno, an *Error with extended-ack text, or
	// any other error, which is sent as EINVAL with the error's text.
	Input func(r *Request) error
	// ReceiveBuffer is the default receive buffer of a user socket, in
	// bytes (net.core.rmem_default; 212992 if zero). A datagram that does
	// not fit is dropped and the socket reports ENOBUFS, as the kernel does.
	ReceiveBuffer int
	// DumpDatagram is the size of one dump datagram (32768 if zero).
	DumpDatagram int
	// Unprivileged makes SO_RCVBUFFORCE fail with EPERM, as for a caller
	// without CAP_NET_ADMIN.
	Unprivileged bool
}

// Error is a kernel error with extended-ack information, returned from
// Config.Input.
type Error struct {
	Errno syscall.Errno
	// Message is the extended-ack text (NL_SET_ERR_MSG).
	Message string
	// Offset of the offending attribute from the start of the request
	// (NL_SET_BAD_ATTR), or -1 (or 0, taken as none).
	Offset int
}

func (e *Error) Error() string { return fmt.Sprintf("%v: %s", e.Errno, e.Message) }

// Endpoint is a fake kernel netlink endpoint: one protocol number, its
// multicast groups, its input callback and the user sockets dialled to it.
type Endpoint struct {
	protocol int
	cfg      Config

	mu       sync.Mutex
	sockets  map[uint32]*socket
	nextPort uint32
}

// NewEndpoint creates a kernel endpoint for protocol with cfg, like
// netlink_kernel_create. Its sockets are independent of the real kernel.
func NewEndpoint(protocol int, cfg Config) *Endpoint {
	if cfg.ReceiveBuffer <= 0 {
		cfg.ReceiveBuffer = 212992
	}
	if cfg.DumpDatagram <= 0 {
		cfg.DumpDatagram = 32768
	}
	return &Endpoint{protocol: protocol, cfg: cfg, sockets: map[uint32]*socket{}, nextPort: 1000}
}

// Protocol returns the endpoint's protocol number.
func (e *Endpoint) Protocol() int { return e.protocol }

// Dial opens a user socket on the endpoint, as socket(AF_NETLINK,
// SOCK_RAW, protocol) and bind would, and returns a real *netlink.Conn
// over it. cfg.Groups, PortID, Strict, DisableExtendedAck,
// AllowUserSenders, ReceiveBuffer (and ForceReceiveBuffer) and Debug are
// honoured; NetNS is not.
func (e *Endpoint) Dial(cfg *netlink.Config) (*netlink.Conn, error) {
	if cfg == nil {
		cfg = &netlink.Config{}
	}
	e.mu.Lock()
	port := cfg.PortID
	if port == 0 {
		for e.sockets[e.nextPort] != nil {
			e.nextPort++
		}
		port = e.nextPort
		e.nextPort++
	} else if e.sockets[port] != nil {
		e.mu.Unlock()
		return nil, &netlink.OpError{Op: "dial", Err: syscall.EADDRINUSE, Offset: -1}
	}
	s := newSocket(e, port)
	s.extAck = !cfg.DisableExtendedAck
	s.strict = cfg.Strict
	for g := 1; g <= 32; g++ {
		if cfg.Groups&(1<<(g-1)) != 0 {
			if g > e.cfg.Groups {
				e.mu.Unlock()
				return nil, &netlink.OpError{Op: "dial", Err: syscall.EINVAL, Offset: -1}
			}
			s.groups[uint32(g)] = true
		}
	}
	if cfg.ReceiveBuffer > 0 {
		// As netlink.Dial: SO_RCVBUFFORCE if asked and allowed, else
		// SO_RCVBUF, capped at net.core.rmem_max.
		n := cfg.ReceiveBuffer
		if !cfg.ForceReceiveBuffer || e.cfg.Unprivileged {
			n = min(n, 212992)
		}
		s.capacity = 2 * n
	}
	e.sockets[port] = s
	e.mu.Unlock()
	c := netlink.NewConn(s, e.protocol, cfg)
	return c, nil
}

// Request is one message from a user socket, as the input callback sees
// it: the message and the sender's port ID (NETLINK_CB(skb).portid).
type Request struct {
	Message netlink.Message
	// Port is the sender's port ID; replies go there.
	Port uint32
	// ExtendedAck and Strict report the sender socket's options.
	ExtendedAck bool
	Strict      bool

	e      *Endpoint
	dumped bool
}

// Endpoint returns the endpoint the request came to.
func (r *Request) Endpoint() *Endpoint { return r.e }

// Reply unicasts msgs, in one datagram, to the sender's port. A zero
// sequence number is replaced by the request's and a zero port ID by the
// sender's, as kernel replies carry them.
func (r *Request) Reply(msgs ...netlink.Message) error {
	for i := range msgs {
		if msgs[i].Header.Sequence == 0 {
			msgs[i].Header.Sequence = r.Message.Header.Sequence
		}
		if msgs[i].Header.PID == 0 {
			msgs[i].Header.PID = r.Port
		}
	}
	return r.e.Unicast(r.Port, msgs...)
}

// DumpOptions shapes a dump produced by Request.Dump.
type DumpOptions struct {
	// Interrupted flags every datagram after the first with
	// NLM_F_DUMP_INTR, as when the table changes during the dump.
	Interrupted bool
	// Err, if set, ends the dump with an NLMSG_DONE carrying this errno.
	Err syscall.Errno
}

// Dump answers the request with a multi-part reply: msgs split into
// datagrams of Config.DumpDatagram bytes, each message flagged
// NLM_F_MULTI, then NLMSG_DONE. Like the kernel, the endpoint produces the
// next datagram only when the socket has read the previous one, and
// refuses a second dump on a socket whose dump is not finished (EBUSY).
// No acknowledgement follows a dump.
func (r *Request) Dump(msgs []netlink.Message, opts DumpOptions) error {
	s := r.e.socket(r.Port)
	if s == nil {
		return syscall.ECONNREFUSED
	}
	seq := r.Message.Header.Sequence
	var dgrams [][]byte
	var cur []byte
	for _, m := range msgs {
		m.Header.Flags |= netlink.Multi
		m.Header.Sequence, m.Header.PID = seq, r.Port
		if opts.Interrupted && len(dgrams) > 0 {
			m.Header.Flags |= netlink.DumpIntr
		}
		b, err := m.AppendBinary(nil)
		if err != nil {
			return err
		}
		if len(cur) > 0 && len(cur)+len(b) > r.e.cfg.DumpDatagram {
			dgrams = append(dgrams, cur)
			cur = nil
			if opts.Interrupted {
				// Re-flag: this message now starts a later datagram.
				m.Header.Flags |= netlink.DumpIntr
				b, _ = m.AppendBinary(nil)
			}
		}
		cur = append(cur, b...)
	}
	status := make([]byte, 4)
	if opts.Err != 0 {
		binary.NativeEndian.PutUint32(status, uint32(-int32(opts.Err)))
	}
	done := netlink.Message{
		Header: netlink.Header{Type: netlink.Done, Flags: netlink.Multi, Sequence: seq, PID: r.Port},
		Data:   status,
	}
	b, _ := done.AppendBinary(nil)
	if len(cur) > 0 && len(cur)+len(b) > r.e.cfg.DumpDatagram {
		dgrams = append(dgrams, cur)
		cur = nil
	}
	// Flag it once its datagram is known: NLMSG_DONE alone in a second
	// datagram is flagged too.
	if opts.Interrupted && len(dgrams) > 0 {
		done.Header.Flags |= netlink.DumpIntr
		b, _ = done.AppendBinary(nil)
	}
	dgrams = append(dgrams, append(cur, b...))
	if err := s.startDump(dgrams); err != nil {
		return err
	}
	r.dumped = true
	return nil
}

// Multicast sends msgs to a group, like Endpoint.Multicast.
func (r *Request) Multicast(group uint32, msgs ...netlink.Message) (int, error) {
	return r.e.Multicast(group, msgs...)
}

func (e *Endpoint) socket(port uint32) *socket {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sockets[port]
}

func encode(msgs []netlink.Message) ([]byte, error) {
	var b []byte
	for _, m := range msgs {
		var err error
		if b, err = m.AppendBinary(b); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// Unicast sends msgs in one datagram from the kernel (port 0) to a user
// port, like netlink_unicast. It fails with ECONNREFUSED if no socket has
// that port. A full receive buffer drops the datagram, makes the socket
// report ENOBUFS, and returns EAGAIN.
func (e *Endpoint) Unicast(port uint32, msgs ...netlink.Message) error {
	return e.SpoofUnicast(0, port, msgs...)
}

// Multicast sends msgs in one datagram from the kernel to every socket
// that joined group, like netlink_broadcast. It returns how many sockets
// received it, and ESRCH if none did. Sockets with full buffers miss it
// and report ENOBUFS on their next read.
func (e *Endpoint) Multicast(group uint32, msgs ...netlink.Message) (int, error) {
	return e.SpoofMulticast(0, group, msgs...)
}

// SpoofUnicast delivers msgs to port as if a user-space process with port
// from had sent them: what any local process can do to a netlink socket.
// Conns reject such messages unless they allow user senders.
func (e *Endpoint) SpoofUnicast(from, port uint32, msgs ...netlink.Message) error {
	b, err := encode(msgs)
	if err != nil {
		return err
	}
	s := e.socket(port)
	if s == nil {
		return syscall.ECONNREFUSED
	}
	if !s.deliver(b, netlink.Addr{Port: from}) {
		return syscall.EAGAIN
	}
	return nil
}

// SpoofMulticast multicasts msgs to group as if sent by user port from.
func (e *Endpoint) SpoofMulticast(from, group uint32, msgs ...netlink.Message) (int, error) {
	if group == 0 || int(group) > e.cfg.Groups {
		return 0, syscall.EINVAL
	}
	b, err := encode(msgs)
	if err != nil {
		return 0, err
	}
	e.mu.Lock()
	var targets []*socket
	for _, s := range e.sockets {
		if s.member(group) {
			targets = append(targets, s)
		}
	}
	e.mu.Unlock()
	n := 0
	var mask uint32
	if group <= 32 {
		mask = 1 << (group - 1)
	}
	for _, s := range targets {
		if s.deliver(append([]byte(nil), b...), netlink.Addr{Port: from, Groups: mask}) {
			n++
		}
	}
	if n == 0 {
		return 0, syscall.ESRCH
	}
	return n, nil
}

// Overrun makes the socket at port report ENOBUFS on its next read, as
// after a burst that overflowed its receive buffer.
func (e *Endpoint) Overrun(port uint32) error {
	s := e.socket(port)
	if s == nil {
		return syscall.ECONNREFUSED
	}
	s.mu.Lock()
	s.overrun = true
	s.mu.Unlock()
	s.wake()
	return nil
}

// Ports returns the ports of the open user sockets.
func (e *Endpoint) Ports() []uint32 {
	e.mu.Lock()
	defer e.mu.Unlock()
	var ports []uint32
	for p := range e.sockets {
		ports = append(ports, p)
	}
	return ports
}

// input runs the input callback over a datagram, as netlink_rcv_skb does.
func (e *Endpoint) input(s *socket, b []byte) {
	var p netlink.Parser
	p.Reset(b)
	for p.Next() {
		m := p.Message()
		if m.Header.Flags&netlink.Request == 0 {
			continue // the kernel ignores non-requests
		}
		s.mu.Lock()
		r := &Request{Message: m, Port: s.port, ExtendedAck: s.extAck, Strict: s.strict, e: e}
		capAck := s.capAck
		s.mu.Unlock()
		var err error
		if m.Header.Type >= netlink.MinType && e.cfg.Input != nil {
			err = e.cfg.Input(r)
		} else if m.Header.Type >= netlink.MinType {
			err = syscall.EOPNOTSUPP
		}
		if err == nil && (r.dumped || m.Header.Flags&netlink.Acknowledge == 0) {
			continue
		}
		e.ack(s, r, err, capAck)
	}
	// A malformed tail is ignored, as netlink_rcv_skb does.
}

func (e *Endpoint) ack(s *socket, r *Request, err error, capAck bool) {
	info := netlink.AckInfo{Offset: -1}
	var ke *Error
	var errno syscall.Errno
	switch {
	case err == nil:
	case errors.As(err, &ke):
		info.Errno = ke.Errno
		if r.ExtendedAck {
			info.Message = ke.Message
			if ke.Offset > 0 {
				info.Offset = ke.Offset
			}
		}
	case errors.As(err, &errno):
		info.Errno = errno
	default:
		info.Errno = syscall.EINVAL
		if r.ExtendedAck {
			info.Message = err.Error()
		}
	}
	data, flags := netlink.MarshalAck(r.Message, info, capAck)
	_ = e.Unicast(s.port, netlink.Message{
		Header: netlink.Header{Type: netlink.Error, Flags: flags, Sequence: r.Message.Header.Sequence, PID: s.port},
		Data:   data,
	})
}

func (e *Endpoint) remove(port uint32) {
	e.mu.Lock()
	delete(e.sockets, port)
	e.mu.Unlock()
}
