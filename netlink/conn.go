package netlink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Config configures Dial. The zero value opens a socket in the caller's
// network namespace with extended acknowledgements on, sender checks on
// and no multicast groups.
type Config struct {
	// Groups is a bit mask of multicast groups 1-32 to join at bind time
	// (sockaddr_nl.nl_groups): group g is bit g-1. Use Conn.JoinGroup for
	// any group number.
	Groups uint32
	// PortID to bind to; 0 lets the kernel pick a unique one.
	PortID uint32
	// NetNS opens the socket in another network namespace: a name as `ip
	// netns` knows it (a file in /run/netns) or a path such as
	// /proc/PID/ns/net. The socket stays in that namespace for life; the
	// calling thread never changes namespace.
	NetNS string
	// NetNSFD is an open namespace file descriptor, used if positive
	// (takes precedence over NetNS). The Conn does not close it.
	NetNSFD int
	// Strict turns on strict checking of requests (NETLINK_GET_STRICT_CHK):
	// the kernel rejects malformed headers and attributes instead of
	// ignoring them, and honours dump filters.
	Strict bool
	// DisableExtendedAck turns off NETLINK_EXT_ACK, which is on by
	// default so that errors carry the kernel's explanation.
	DisableExtendedAck bool
	// AllowUserSenders accepts messages whose sender is a user-space port
	// (not the kernel, port 0). Leave it false for kernel protocols: any
	// local process can send to a netlink socket. Set it only for
	// protocols where user-space peers are expected (udev's group, a
	// user-to-user protocol), and check the sender yourself.
	AllowUserSenders bool
	// PassCredentials sets SO_PASSCRED: every received datagram then
	// carries its sender's credentials (Addr.Creds), which the kernel
	// fills in. Protocols whose messages a user process may also send
	// (NETLINK_KOBJECT_UEVENT, whose udev group is user-to-user) need
	// them to tell who sent what.
	PassCredentials bool
	// ReceiveBuffer sets SO_RCVBUF in bytes, if positive.
	// ForceReceiveBuffer uses SO_RCVBUFFORCE, which exceeds
	// net.core.rmem_max but needs CAP_NET_ADMIN; without the privilege
	// Dial falls back to SO_RCVBUF.
	ReceiveBuffer      int
	ForceReceiveBuffer bool
	// ReadBufferSize, if positive, makes every read a single recvmsg into
	// a buffer of this many bytes, instead of first peeking at the
	// datagram's size (MSG_PEEK|MSG_TRUNC) and growing the buffer: one
	// system call less per datagram, for high-rate sockets whose largest
	// datagram is known (an NFQUEUE socket: copy range plus metadata). A
	// larger datagram is still never cut silently: the read fails with an
	// error matching ErrTruncated, and that datagram is lost.
	ReadBufferSize int
	// Debug, if set, receives a decoded line for every message sent and
	// received. When nil, the environment variable NLKIT_DEBUG=1 sends it
	// to standard error (NLKIT_DEBUG=2 adds payload hex dumps).
	Debug io.Writer
}

// Stats counts messages a Conn dropped on purpose.
type Stats struct {
	// Spoofed counts datagrams dropped because their sender was a user
	// port, not the kernel (see Config.AllowUserSenders).
	Spoofed uint64
	// Stale counts replies skipped because their sequence or port did not
	// match the request in progress (left over from an abandoned request).
	Stale uint64
	// Overruns counts receive buffer overruns reported to the caller.
	Overruns uint64
}

// Conn is a netlink socket with the protocol logic on top: sequence
// numbers, acknowledgements, dumps, sender checks and errors.
//
// Concurrency: all methods are safe for concurrent use. Operations that
// read (Execute, Dump, Receive, Messages) hold the Conn for their whole
// duration, so a goroutine blocked in Receive keeps Execute waiting until
// a message arrives, its deadline passes or its context ends; a call that
// waits for the Conn gives up when its own context ends. Use one
// Conn for events and another for requests. Inside a Dump or Messages
// loop, do not call other methods of the same Conn (they would wait for
// the loop to end).
//
// Lifetimes: messages returned by Execute and Receive own their memory.
// Messages yielded by Dump and Messages alias the receive buffer and are
// valid only until the loop continues; copy what you keep.
type Conn struct {
	sock     Socket
	protocol int
	port     uint32
	seq      atomic.Uint32
	allow    bool
	debug    *debugger

	sem       chan struct{} // held by every reading operation; see lock
	readBuf   int           // Config.ReadBufferSize
	rbuf      []byte
	mbuf      []Message // reused by Messages for a datagram's messages
	stale     []uint32  // sequences of abandoned dumps still to drain
	pending   [][]byte  // multicast datagrams read during requests
	lostMcast bool      // an overrun (counted already) still to report to Receive

	dlMu      sync.Mutex
	rdeadline time.Time

	closed  atomic.Bool
	spoofed atomic.Uint64
	staleN  atomic.Uint64
	overrun atomic.Uint64
}

// lock takes the Conn for a reading operation, waiting no longer than
// ctx allows: a call queued behind a long Receive, or behind a Dump loop
// that has not finished, returns when its context ends. It fails with
// ctx's error if ctx is done, even when the Conn is free, so that an
// operation on a cancelled context sends nothing.
func (c *Conn) lock(ctx context.Context) error {
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := ctx.Err(); err != nil {
		<-c.sem
		return err
	}
	return nil
}

func (c *Conn) unlock() { <-c.sem }

// maxPending bounds the multicast datagrams kept while a request runs on
// a Conn that also joined groups; past it an overrun is reported.
const maxPending = 1024

// dumpBufferSize is the receive buffer a Conn sets up for dumps. The
// kernel sizes each dump datagram after the largest buffer recvmsg has
// been given on the socket, up to about 32 KiB (netlink_recvmsg records
// max_recvmsg_len, capped at SKB_WITH_OVERHEAD(32768); netlink_dump
// allocates that much): with this buffer a datagram carries some 500
// routes instead of the 60 that fit in a page, so a dump takes eight
// times fewer system calls. See BENCHMARKS.md.
const dumpBufferSize = 32 << 10

// growForDump makes the receive buffer dumpBufferSize bytes, once.
func (c *Conn) growForDump() {
	if cap(c.rbuf) < dumpBufferSize {
		c.rbuf = make([]byte, 0, dumpBufferSize)
	}
}

// NewConn returns a Conn over s. Dial uses it with a real socket; nltest
// uses it with a fake kernel. protocol is for debug output only.
func NewConn(s Socket, protocol int, cfg *Config) *Conn {
	if cfg == nil {
		cfg = &Config{}
	}
	c := &Conn{
		sock:     s,
		protocol: protocol,
		port:     s.PortID(),
		allow:    cfg.AllowUserSenders,
		rbuf:     make([]byte, 0, os.Getpagesize()),
		sem:      make(chan struct{}, 1),
		readBuf:  cfg.ReadBufferSize,
		debug:    newDebugger(cfg.Debug, protocol),
	}
	// Start sequences away from 0 (which Send treats as "fill in") and
	// differently per socket, so replies meant for another socket are
	// easier to tell apart in traces.
	c.seq.Store(uint32(time.Now().UnixNano()) & 0x7fffffff)
	return c
}

// Protocol returns the netlink protocol number the Conn was opened with.
func (c *Conn) Protocol() int { return c.protocol }

// PortID returns the port ID the socket is bound to (its address).
func (c *Conn) PortID() uint32 { return c.port }

// Stats returns counters of messages the Conn dropped on purpose.
func (c *Conn) Stats() Stats {
	return Stats{Spoofed: c.spoofed.Load(), Stale: c.staleN.Load(), Overruns: c.overrun.Load()}
}

// Close closes the socket. A goroutine blocked in Receive, Execute or
// Dump returns an error for which errors.Is(err, net.ErrClosed) holds.
// Closing twice returns net.ErrClosed.
func (c *Conn) Close() error {
	if c.closed.Swap(true) {
		return c.opErr("close", 0, net.ErrClosed)
	}
	if err := c.sock.Close(); err != nil {
		return c.opErr("close", 0, err)
	}
	return nil
}

// closedErr returns net.ErrClosed, as an *OpError for op, once c is
// closed: the socket's own error for a closed file would not match it.
func (c *Conn) closedErr(op string) error {
	if c.closed.Load() {
		return &OpError{Op: op, Err: net.ErrClosed, Offset: -1}
	}
	return nil
}

func (c *Conn) opErr(op string, seq uint32, err error) error {
	if err == nil {
		return nil
	}
	var oe *OpError
	if errors.As(err, &oe) {
		return err
	}
	return &OpError{Op: op, Err: err, Offset: -1, Sequence: seq}
}

// SetDeadline sets the read and write deadlines, as on net.Conn.
func (c *Conn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// SetReadDeadline sets the deadline for reading operations (Receive,
// Execute, Dump). A zero t means no deadline.
func (c *Conn) SetReadDeadline(t time.Time) error {
	if err := c.closedErr("set deadline"); err != nil {
		return err
	}
	c.dlMu.Lock()
	defer c.dlMu.Unlock()
	c.rdeadline = t
	return c.opErr("set deadline", 0, c.sock.SetReadDeadline(t))
}

// SetWriteDeadline sets the deadline for sending.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	if err := c.closedErr("set deadline"); err != nil {
		return err
	}
	return c.opErr("set deadline", 0, c.sock.SetWriteDeadline(t))
}

// JoinGroup joins multicast group g (any number, including those above
// 32 that Config.Groups cannot name).
func (c *Conn) JoinGroup(g uint32) error {
	if err := c.closedErr("join group"); err != nil {
		return err
	}
	return c.opErr("join group", 0, c.sock.JoinGroup(g))
}

// LeaveGroup leaves multicast group g.
func (c *Conn) LeaveGroup(g uint32) error {
	if err := c.closedErr("leave group"); err != nil {
		return err
	}
	return c.opErr("leave group", 0, c.sock.LeaveGroup(g))
}

// watch arranges for ctx's cancellation to interrupt a blocked read. The
// returned function undoes it and maps a timeout caused by ctx to ctx's
// error.
func (c *Conn) watch(ctx context.Context) func(error) error {
	if ctx.Done() == nil {
		return func(err error) error { return err }
	}
	if err := ctx.Err(); err != nil {
		// Already done: fail the first read at once instead of letting
		// the operation run without a bound, and report ctx's error.
		c.dlMu.Lock()
		_ = c.sock.SetReadDeadline(time.Unix(1, 0))
		c.dlMu.Unlock()
		return func(error) error {
			c.dlMu.Lock()
			_ = c.sock.SetReadDeadline(c.rdeadline)
			c.dlMu.Unlock()
			return err
		}
	}
	var done bool
	stop := context.AfterFunc(ctx, func() {
		c.dlMu.Lock()
		defer c.dlMu.Unlock()
		if !done {
			_ = c.sock.SetReadDeadline(time.Unix(1, 0))
		}
	})
	return func(err error) error {
		c.dlMu.Lock()
		done = true
		fired := !stop()
		if fired {
			_ = c.sock.SetReadDeadline(c.rdeadline)
		}
		c.dlMu.Unlock()
		if err != nil && ctx.Err() != nil && (fired || os.IsTimeout(err)) {
			return ctx.Err()
		}
		return err
	}
}

// read returns the next datagram from the kernel, in c.rbuf. It grows the
// buffer to fit (so MSG_TRUNC never truncates), drops datagrams from user
// ports unless allowed, and reports overruns as ErrOverrun.
func (c *Conn) read() ([]byte, Addr, error) { return c.readDatagram(false) }

// readDatagram is read; raw says the datagram is not made of netlink
// messages, for debug output.
func (c *Conn) readDatagram(raw bool) ([]byte, Addr, error) {
	for {
		if c.closed.Load() {
			return nil, Addr{}, net.ErrClosed
		}
		var n int
		var from Addr
		var err error
		if c.readBuf > 0 {
			// One system call: read into a buffer the caller sized for the
			// largest datagram; a bigger one fails loudly, never cut.
			if cap(c.rbuf) < c.readBuf {
				c.rbuf = make([]byte, 0, c.readBuf)
			}
			n, from, err = c.sock.Receive(c.rbuf[:cap(c.rbuf)], false)
			if err == nil && n > cap(c.rbuf) {
				err = fmt.Errorf("%w: a %d-byte datagram exceeds Config.ReadBufferSize (%d); it was dropped", ErrTruncated, n, cap(c.rbuf))
			}
		} else {
			n, _, err = c.sock.Receive(c.rbuf[:0], true)
			if err == nil && n > cap(c.rbuf) {
				c.rbuf = make([]byte, 0, Align(n)+4096)
			}
		}
		if err == nil && c.readBuf <= 0 {
			var m int
			m, from, err = c.sock.Receive(c.rbuf[:cap(c.rbuf)], false)
			if err == nil && m > cap(c.rbuf) {
				// Only possible if the queue changed between the peek
				// and the read; never hand out a cut datagram.
				err = fmt.Errorf("%w: %d bytes into a %d-byte buffer", ErrTruncated, m, cap(c.rbuf))
			}
			n = m
		}
		if err != nil {
			if errors.Is(err, syscall.ENOBUFS) {
				c.overrun.Add(1)
				c.debug.note("receive", "overrun: ENOBUFS, messages lost")
				return nil, Addr{}, ErrOverrun
			}
			if c.closed.Load() {
				err = net.ErrClosed
			}
			return nil, Addr{}, err
		}
		b := c.rbuf[:n]
		if from.Port != 0 && !c.allow {
			c.spoofed.Add(1)
			c.debug.dropped(b, from, ErrSpoofed)
			continue
		}
		if raw {
			c.debug.raw("recv", b, from)
		} else {
			c.debug.datagram("recv", b, from)
		}
		return b, from, nil
	}
}

// send fills in the sequence and port of each message that lacks them,
// adds flags, and sends them all in one datagram.
func (c *Conn) send(msgs []Message, add HeaderFlags) ([]Message, error) {
	var b []byte
	var err error
	for i := range msgs {
		h := &msgs[i].Header
		h.Flags |= add
		if h.Sequence == 0 {
			h.Sequence = c.seq.Add(1)
			if h.Sequence == 0 {
				h.Sequence = c.seq.Add(1)
			}
		}
		if h.PID == 0 {
			h.PID = c.port
		}
		if b, err = msgs[i].AppendBinary(b); err != nil {
			return nil, err
		}
	}
	if c.closed.Load() {
		return nil, net.ErrClosed
	}
	c.debug.datagram("send", b, Addr{})
	if err := c.sock.Send(b); err != nil {
		if c.closed.Load() {
			err = net.ErrClosed
		}
		return nil, err
	}
	return msgs, nil
}

// Send sends m as it is, except that a zero sequence number and port ID
// are filled in. It returns m as sent. Use it with Receive for protocols
// whose replies Execute cannot recognise; prefer Execute and Dump.
func (c *Conn) Send(m Message) (Message, error) {
	msgs, err := c.send([]Message{m}, 0)
	if err != nil {
		return Message{}, c.opErr("send", m.Header.Sequence, err)
	}
	return msgs[0], nil
}

// SendMessages sends msgs in one datagram, filling in sequence numbers and
// port IDs, and returns them as sent.
func (c *Conn) SendMessages(msgs []Message) ([]Message, error) {
	out := append([]Message(nil), msgs...)
	out, err := c.send(out, 0)
	if err != nil {
		return nil, c.opErr("send", 0, err)
	}
	return out, nil
}

// queueMulticast keeps a copy of a multicast datagram read while waiting
// for a reply, for the next Receive.
func (c *Conn) queueMulticast(b []byte) {
	if len(c.pending) >= maxPending {
		if !c.lostMcast {
			c.overrun.Add(1)
		}
		c.lostMcast = true
		return
	}
	c.pending = append(c.pending, append([]byte(nil), b...))
}

// isReply reports whether m answers the request with sequence seq.
func (c *Conn) isReply(m Message, seq uint32) bool {
	if m.Header.Sequence != seq || (m.Header.PID != 0 && m.Header.PID != c.port) {
		c.staleN.Add(1)
		return false
	}
	return true
}

// ackError turns an NLMSG_ERROR or an NLMSG_DONE carrying an error into
// an *OpError, or nil for an acknowledgement.
func (c *Conn) ackError(op string, m Message) error {
	if m.Header.Type == Done {
		if len(m.Data) >= 4 {
			// A dump ending in an error carries it, and extended-ack
			// attributes, in its NLMSG_DONE.
			code := int32(nativeUint32(m.Data))
			if code < 0 {
				e := &OpError{Op: op, Err: syscall.Errno(-code), Offset: -1, Sequence: m.Header.Sequence}
				if m.Header.Flags&AckTLVs != 0 {
					d := NewAttributeDecoder(m.Data[4:])
					for d.Next() {
						if d.Type() == extAckMsg {
							e.Message = d.String()
						}
					}
				}
				return e
			}
		}
		return nil
	}
	info, err := ParseAck(m.Header.Flags, m.Data)
	if err != nil {
		return &OpError{Op: op, Err: err, Offset: -1, Sequence: m.Header.Sequence}
	}
	if info.Errno == 0 {
		return nil
	}
	return &OpError{
		Op: op, Err: info.Errno, Message: info.Message, Offset: info.Offset,
		Sequence: m.Header.Sequence, MissingType: info.MissingType,
	}
}

// drain reads and discards the rest of abandoned dumps, so the kernel
// accepts the next dump (it refuses a dump while another runs: EBUSY).
func (c *Conn) drain() error {
	for len(c.stale) > 0 {
		b, from, err := c.read()
		if err != nil {
			if errors.Is(err, ErrOverrun) {
				// Multicasts were dropped, not the dump: the kernel
				// pauses a dump while the buffer is full and goes on
				// as it is read. Keep draining; tell the next Receive.
				c.lostMcast = true
				continue
			}
			return err
		}
		if from.Groups != 0 {
			c.queueMulticast(b)
			continue
		}
		var p Parser
		p.Reset(b)
		for p.Next() {
			m := p.Message()
			for i, s := range c.stale {
				if m.Header.Sequence == s && (m.Header.Type == Done || m.Header.Type == Error) {
					c.stale = append(c.stale[:i], c.stale[i+1:]...)
					break
				}
			}
		}
	}
	return nil
}

// Execute sends request m and returns the kernel's replies. It sets
// NLM_F_REQUEST and NLM_F_ACK and waits for the acknowledgement, so it
// works for requests with and without a reply. A kernel error is returned
// as an *OpError wrapping the errno, with the extended-ack text. For dumps
// (NLM_F_DUMP) use Dump, which streams; a dump sent with Execute is read
// to its end and fails with ErrDumpInterrupted if the kernel flagged it.
func (c *Conn) Execute(ctx context.Context, m Message) ([]Message, error) {
	if err := c.lock(ctx); err != nil {
		return nil, c.opErr("execute", 0, err) // send nothing
	}
	defer c.unlock()
	done := c.watch(ctx)
	replies, seq, err := c.execute(m)
	err = done(err)
	if err != nil {
		return nil, c.opErr("execute", seq, err)
	}
	return replies, nil
}

func (c *Conn) execute(m Message) ([]Message, uint32, error) {
	if err := c.drain(); err != nil {
		return nil, 0, err
	}
	dump := m.Header.Flags&Dump == Dump
	add := Request | Acknowledge
	if dump {
		add = Request // a dump ends in NLMSG_DONE
	}
	sent, err := c.send([]Message{m}, add)
	if err != nil {
		return nil, m.Header.Sequence, err
	}
	seq := sent[0].Header.Sequence
	// A dump abandoned on an error goes on in the kernel: drain it
	// before the next request, as Dump does.
	finished := !dump
	defer func() {
		if !finished {
			c.stale = append(c.stale, seq)
		}
	}()
	intr := false
	var replies []Message
	for {
		b, from, err := c.read()
		if err != nil {
			return nil, seq, err
		}
		if from.Groups != 0 {
			c.queueMulticast(b)
			continue
		}
		own := append([]byte(nil), b...)
		var p Parser
		p.Reset(own)
		for p.Next() {
			r := p.Message()
			if !c.isReply(r, seq) {
				continue
			}
			if r.Header.Flags&DumpIntr != 0 {
				intr = true
			}
			switch r.Header.Type {
			case Noop:
			case Overrun:
				c.overrun.Add(1)
				return nil, seq, ErrOverrun
			case Error, Done:
				finished = true
				if err := c.ackError("execute", r); err != nil {
					return nil, seq, err
				}
				if r.Header.Type == Done && !dump {
					continue
				}
				if dump && intr {
					return nil, seq, ErrDumpInterrupted
				}
				return replies, seq, nil
			default:
				replies = append(replies, r)
			}
		}
		if err := p.Err(); err != nil {
			return nil, seq, err
		}
	}
}

// Dump sends request m with NLM_F_REQUEST|NLM_F_DUMP and streams the
// kernel's answer, one message at a time, without holding the dump in
// memory: each yielded Message aliases the receive buffer and is valid
// until the loop continues. The NLMSG_DONE is not yielded. A kernel error
// ends the stream with an *OpError. If the kernel flagged the dump as
// interrupted by a change (NLM_F_DUMP_INTR), every message is still
// yielded and the stream ends with ErrDumpInterrupted: dump again.
//
// Breaking out of the loop early is allowed; the Conn discards the rest of
// the dump before its next request.
func (c *Conn) Dump(ctx context.Context, m Message) iter.Seq2[Message, error] {
	return func(yield func(Message, error) bool) {
		if err := c.lock(ctx); err != nil {
			yield(Message{}, c.opErr("dump", 0, err)) // send nothing
			return
		}
		defer c.unlock()
		done := c.watch(ctx)
		seq, err := c.dump(m, yield)
		if err = done(err); err != nil {
			yield(Message{}, c.opErr("dump", seq, err))
		}
	}
}

// dump runs one dump, yielding its messages; it returns an error to be
// yielded, or nil when the dump finished or the consumer stopped.
func (c *Conn) dump(m Message, yield func(Message, error) bool) (uint32, error) {
	if err := c.drain(); err != nil {
		return 0, err
	}
	c.growForDump()
	sent, err := c.send([]Message{m}, Request|Dump)
	if err != nil {
		return m.Header.Sequence, err
	}
	seq := sent[0].Header.Sequence
	finished := false
	defer func() {
		if !finished {
			c.stale = append(c.stale, seq)
		}
	}()
	intr := false
	for {
		b, from, err := c.read()
		if err != nil {
			// On ErrOverrun too the dump is not finished: the kernel
			// pauses a dump while the buffer is full, it does not drop
			// it, so the rest must be drained before the next dump.
			return seq, err
		}
		if from.Groups != 0 {
			c.queueMulticast(b)
			continue
		}
		var p Parser
		p.Reset(b)
		for p.Next() {
			r := p.Message()
			if !c.isReply(r, seq) {
				continue
			}
			if r.Header.Flags&DumpIntr != 0 {
				intr = true
			}
			switch r.Header.Type {
			case Noop:
			case Overrun:
				c.overrun.Add(1)
				finished = true
				return seq, ErrOverrun
			case Error, Done:
				finished = true
				if err := c.ackError("dump", r); err != nil {
					return seq, err
				}
				if intr {
					return seq, ErrDumpInterrupted
				}
				return seq, nil
			default:
				if !yield(r, nil) {
					// If the end of the dump is in this datagram, it has
					// been read: nothing is left for drain to wait for.
					for p.Next() {
						h := p.Message().Header
						if h.Sequence == seq && (h.Type == Done || h.Type == Error) {
							finished = true
						}
					}
					return seq, nil
				}
			}
		}
		if err := p.Err(); err != nil {
			return seq, err
		}
	}
}

// Receive waits for the next datagram and returns its messages, for event
// subscriptions (multicast groups) and replies read after Send. The
// messages own their memory. An overrun (events lost) returns ErrOverrun;
// the Conn stays usable and the next call returns new messages.
// NLMSG_NOOP messages are skipped.
func (c *Conn) Receive(ctx context.Context) ([]Message, error) {
	if err := c.lock(ctx); err != nil {
		return nil, c.opErr("receive", 0, err)
	}
	defer c.unlock()
	done := c.watch(ctx)
	msgs, err := c.receive(true)
	if err = done(err); err != nil {
		return nil, c.opErr("receive", 0, err)
	}
	return msgs, nil
}

func (c *Conn) receive(own bool) ([]Message, error) {
	for {
		var b []byte
		switch {
		case len(c.pending) > 0:
			b = c.pending[0]
			c.pending = c.pending[1:]
		case c.lostMcast:
			c.lostMcast = false
			return nil, ErrOverrun
		default:
			var err error
			if b, _, err = c.read(); err != nil {
				return nil, err
			}
			if own {
				b = append([]byte(nil), b...)
			}
		}
		// Messages' loop reuses one slice: its messages alias the
		// receive buffer and are gone when it reads again anyway.
		var msgs []Message
		if !own {
			msgs = c.mbuf[:0]
		}
		var p Parser
		p.Reset(b)
		for p.Next() {
			m := p.Message()
			switch m.Header.Type {
			case Noop:
				continue
			case Overrun:
				c.overrun.Add(1)
				return nil, ErrOverrun
			}
			msgs = append(msgs, m)
		}
		if !own {
			c.mbuf = msgs
		}
		if err := p.Err(); err != nil {
			return nil, err
		}
		if len(msgs) > 0 {
			return msgs, nil
		}
	}
}

// ReceiveRaw waits for the next datagram and returns its bytes as they
// are, without parsing netlink headers, with the sender's address (and
// credentials, with Config.PassCredentials): for protocols whose
// datagrams are not netlink messages, such as NETLINK_KOBJECT_UEVENT,
// where the kernel sends bare "ACTION@DEVPATH" strings. The bytes are the
// caller's and never cut. Datagrams from user ports are dropped unless
// Config.AllowUserSenders is set, as for Receive. An overrun returns
// ErrOverrun; the Conn stays usable. Multicast datagrams that Execute or
// Dump set aside are left for Receive.
func (c *Conn) ReceiveRaw(ctx context.Context) ([]byte, Addr, error) {
	if err := c.lock(ctx); err != nil {
		return nil, Addr{}, c.opErr("receive", 0, err)
	}
	defer c.unlock()
	done := c.watch(ctx)
	var b []byte
	var from Addr
	var err error
	if c.lostMcast {
		c.lostMcast = false
		err = ErrOverrun
	} else {
		b, from, err = c.readDatagram(true)
	}
	if err = done(err); err != nil {
		return nil, Addr{}, c.opErr("receive", 0, err)
	}
	return append([]byte(nil), b...), from, nil
}

// Messages streams received messages until ctx ends or the Conn fails:
// the event loop of a subscription. Each yielded Message aliases the
// receive buffer and is valid until the loop continues. An overrun yields
// ErrOverrun and the stream goes on (events were lost: resynchronise by
// dumping); any other error is yielded once and ends the stream, as does
// the end of ctx (yielding ctx's error).
func (c *Conn) Messages(ctx context.Context) iter.Seq2[Message, error] {
	return func(yield func(Message, error) bool) {
		if err := c.lock(ctx); err != nil {
			yield(Message{}, c.opErr("receive", 0, err))
			return
		}
		defer c.unlock()
		done := c.watch(ctx)
		var err error
		defer func() {
			if err = done(err); err != nil {
				yield(Message{}, c.opErr("receive", 0, err))
			}
		}()
		for {
			var msgs []Message
			msgs, err = c.receive(false)
			if errors.Is(err, ErrOverrun) {
				if !yield(Message{}, c.opErr("receive", 0, err)) {
					err = nil
					return
				}
				err = nil
				continue
			}
			if err != nil {
				return
			}
			for _, m := range msgs {
				if !yield(m, nil) {
					return
				}
			}
		}
	}
}
