package nfqueue

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/nlkit/nlkit/netfilter"
	"github.com/nlkit/nlkit/netlink"
)

// DefaultReceiveBuffer is the socket receive buffer a Queue asks for
// (with SO_RCVBUFFORCE when privileged): room for some 8,000 full-size
// packets, more than the default queue length, so that the kernel's
// queue, not the socket, is what fills first when the consumer is slow.
const DefaultReceiveBuffer = 16 << 20

// maxPacketMessage bounds one queued packet's netlink message: a payload
// of at most 65535 bytes (the largest copy range) plus its metadata
// attributes (headers, interfaces, timestamps, conntrack, security
// context), with room to spare.
const maxPacketMessage = 0xffff + 16<<10

// Queue is a socket bound to one NFQUEUE queue: it receives the packets
// that rules send to the queue and gives their verdicts.
//
// Packets and the Set methods may be used from different goroutines:
// verdicts are sent without waiting, and never wait for a Packets loop.
type Queue struct {
	c   *netfilter.Conn
	num uint16
	cfg Config
	nc  *netlink.Config // the namespace, when Open made the socket

	mu      sync.Mutex          // guards pending
	pending []netfilter.Message // packets read while binding

	received atomic.Uint64
	lost     atomic.Uint64
	lastID   uint32 // only the Packets loop touches it
	haveLast bool
}

// Stats are a Queue's own counters.
type Stats struct {
	// Received counts the packets the Queue decoded.
	Received uint64
	// Lost counts packets the kernel numbered for this queue but could
	// not deliver to the socket (gaps in packet IDs): the socket's
	// receive buffer was full. The kernel dropped them, or accepted them
	// uninspected with FailOpen; with FailOpen the kernel keeps no count
	// of its own of these, so this is the only one.
	Lost uint64
}

// Open opens a netfilter socket in nc's network namespace (nil: the
// current one) and binds queue num with cfg. The socket has
// NETLINK_NO_ENOBUFS set and a DefaultReceiveBuffer receive buffer unless
// nc.ReceiveBuffer says otherwise; see the package documentation for what
// an overrun means here. Binding needs CAP_NET_ADMIN; a queue already
// bound by another socket fails with EBUSY.
//
// Equivalent to: the bind step of `nfqnl_test` (libnetfilter_queue's
// nfq_create_queue and nfq_set_mode), or Suricata's `-q NUM`.
func Open(ctx context.Context, num uint16, cfg Config, nc *netlink.Config) (*Queue, error) {
	var dc netlink.Config
	if nc != nil {
		dc = *nc
	}
	if dc.ReceiveBuffer == 0 {
		dc.ReceiveBuffer, dc.ForceReceiveBuffer = DefaultReceiveBuffer, true
	}
	if dc.ReadBufferSize == 0 {
		// A queued packet's message is at most the copy range (64 KiB)
		// plus metadata: read each in one system call, not two.
		dc.ReadBufferSize = maxPacketMessage
	}
	c, err := netfilter.Dial(&dc)
	if err != nil {
		return nil, fmt.Errorf("nfqueue: open queue %d: %w", num, err)
	}
	q, err := bind(ctx, c, num, cfg, &dc)
	if err != nil {
		c.Close()
		return nil, err
	}
	return q, nil
}

// OpenRange binds queues first to last, one socket each, for fan-out
// over CPUs (iptables' --queue-balance first:last, nft's queue num
// first-last): run one Packets loop per Queue. On error, the queues
// already bound are closed.
//
// Equivalent to: Suricata's `-q first -q ... -q last`.
func OpenRange(ctx context.Context, first, last uint16, cfg Config, nc *netlink.Config) ([]*Queue, error) {
	if last < first {
		return nil, fmt.Errorf("nfqueue: queue range %d:%d is empty", first, last)
	}
	var qs []*Queue
	for n := int(first); n <= int(last); n++ {
		q, err := Open(ctx, uint16(n), cfg, nc)
		if err != nil {
			for _, q := range qs {
				q.Close()
			}
			return nil, err
		}
		qs = append(qs, q)
	}
	return qs, nil
}

// Bind binds queue num on c (for example a Conn of a fake kernel) and
// applies cfg, then returns a Queue that owns c. It sets
// NETLINK_NO_ENOBUFS on c (where the socket supports it). The bind and
// the settings go in one NFQNL_MSG_CONFIG message; packets that arrive
// before its acknowledgement are kept for Packets, never skipped (a
// skipped packet would wait in the kernel for a verdict that never
// comes). On error c is left open.
func Bind(ctx context.Context, c *netfilter.Conn, num uint16, cfg Config) (*Queue, error) {
	return bind(ctx, c, num, cfg, nil)
}

// bind is Bind; nc, if known, is the socket's namespace, to explain EPERM.
func bind(ctx context.Context, c *netfilter.Conn, num uint16, cfg Config, nc *netlink.Config) (*Queue, error) {
	if err := c.Netlink().SetOption(netlink.NoENOBUFS, true); err != nil && !errors.Is(err, syscall.ENOPROTOOPT) {
		return nil, fmt.Errorf("nfqueue: queue %d: %w", num, err)
	}
	q := &Queue{c: c, num: num, cfg: cfg, nc: nc}
	if err := q.configure(ctx, true); err != nil {
		return nil, err
	}
	return q, nil
}

// configure sends the configuration (and the bind) and waits for the
// acknowledgement, keeping packets that arrive meanwhile.
func (q *Queue) configure(ctx context.Context, bind bool) error {
	what := "configure"
	if bind {
		what = "bind"
	}
	data, err := marshalConfig(q.cfg, bind)
	if err != nil {
		return fmt.Errorf("nfqueue: %s queue %d: %w", what, q.num, err)
	}
	sent, err := q.c.Send(netfilter.Message{
		Type:   netfilter.NewMessageType(netfilter.SubsysQueue, msgConfig),
		Header: netfilter.Header{Family: netfilter.FamilyUnspec, Version: netfilter.Version0, ResourceID: q.num},
		Data:   data,
	}, netlink.Acknowledge)
	if err != nil {
		return fmt.Errorf("nfqueue: %s queue %d: %w", what, q.num, err)
	}
	seq := sent.Header.Sequence
	for {
		msgs, err := q.c.Netlink().Receive(ctx)
		if err != nil {
			return fmt.Errorf("nfqueue: %s queue %d: %w", what, q.num, err)
		}
		done := false
		for _, m := range msgs {
			if m.Header.Type == netlink.Error {
				info, err := netlink.ParseAck(m.Header.Flags, m.Data)
				if err != nil {
					return fmt.Errorf("nfqueue: %s queue %d: %w", what, q.num, err)
				}
				if info.Request.Sequence != seq {
					continue // a late error about an earlier verdict
				}
				if info.Errno != 0 {
					err := &netlink.OpError{Op: "execute", Err: info.Errno, Message: info.Message, Offset: info.Offset, Sequence: seq}
					switch {
					case info.Errno == syscall.EBUSY:
						return fmt.Errorf("nfqueue: %s queue %d: %w (another program is bound to it)", what, q.num, err)
					case info.Errno == syscall.EPERM:
						return fmt.Errorf("nfqueue: %s queue %d: %w (%s)", what, q.num, err, q.whyPerm())
					case info.Errno == syscall.EOPNOTSUPP && q.cfg.Flags&Conntrack != 0:
						return fmt.Errorf("nfqueue: %s queue %d: %w (conntrack metadata needs a kernel with CONFIG_NETFILTER_NETLINK_GLUE_CT)", what, q.num, err)
					case info.Errno == syscall.EOPNOTSUPP && q.cfg.Flags&SecCtx != 0:
						return fmt.Errorf("nfqueue: %s queue %d: %w (security contexts need a kernel with CONFIG_NETWORK_SECMARK)", what, q.num, err)
					}
					return fmt.Errorf("nfqueue: %s queue %d: %w", what, q.num, err)
				}
				done = true
				continue
			}
			if m.Header.Type < netlink.MinType {
				continue
			}
			nm, err := netfilter.ParseMessage(m)
			if err != nil {
				return fmt.Errorf("nfqueue: %s queue %d: %w", what, q.num, err)
			}
			q.mu.Lock()
			q.pending = append(q.pending, nm)
			q.mu.Unlock()
		}
		if done {
			return nil
		}
	}
}

// Reconfigure applies cfg to the bound queue (copy mode and range,
// length, flags), keeping the binding.
//
// Equivalent to: libnetfilter_queue's nfq_set_mode, nfq_set_queue_maxlen
// and nfq_set_queue_flags.
func (q *Queue) Reconfigure(ctx context.Context, cfg Config) error {
	q.cfg = cfg
	return q.configure(ctx, false)
}

// Num returns the queue number.
func (q *Queue) Num() uint16 { return q.num }

// Config returns the configuration in force.
func (q *Queue) Config() Config { return q.cfg }

// Conn returns the socket.
func (q *Queue) Conn() *netfilter.Conn { return q.c }

// Stats returns the Queue's counters. The kernel's own are in
// ReadKernelStats.
func (q *Queue) Stats() Stats {
	return Stats{Received: q.received.Load(), Lost: q.lost.Load()}
}

// Close closes the socket. The kernel then destroys the queue: packets
// still waiting for a verdict are dropped, and packets sent to the queue
// afterwards are dropped too, unless the rule that sends them has the
// bypass flag (iptables --queue-bypass, nft queue ... bypass), with which
// they are accepted. A running Packets loop ends with an error matching
// net.ErrClosed.
func (q *Queue) Close() error { return q.c.Close() }

// ErrLost reports packets that the kernel numbered but could not deliver
// (see Stats.Lost); errors.Is(err, ErrLost) holds for the *LostError
// that Packets yields.
var ErrLost = errors.New("nfqueue: packets lost: the socket's receive buffer was full")

// LostError says how many packets a gap in packet IDs stands for.
type LostError struct {
	Queue uint16
	N     uint32
}

func (e *LostError) Error() string {
	return fmt.Sprintf("nfqueue: queue %d: %d packets lost: the socket's receive buffer was full (dropped, or accepted uninspected with fail-open)", e.Queue, e.N)
}

// Is makes errors.Is(err, ErrLost) hold.
func (e *LostError) Is(target error) bool { return target == ErrLost }

// Packets streams the queued packets until ctx ends or the socket fails;
// each Packet owns its memory. Every packet must be given a verdict (Set
// methods), or it waits in the kernel, counting against MaxLen, until the
// Queue is closed.
//
// Errors that do not end the stream: a *LostError (packets were lost,
// see Stats.Lost), an error matching netlink.ErrOverrun (only if
// NETLINK_NO_ENOBUFS could not be set), and a *netlink.OpError from the
// kernel refusing a verdict (ENOENT: no packet with that ID). A packet
// that does not decode is yielded as an error too. Other errors end it,
// as does the end of ctx.
//
// Only one Packets loop may run on a Queue at a time.
//
// Equivalent to: the receive loop of `nfqnl_test`.
func (q *Queue) Packets(ctx context.Context) iter.Seq2[Packet, error] {
	return func(yield func(Packet, error) bool) {
		q.mu.Lock()
		pending := q.pending
		q.pending = nil
		q.mu.Unlock()
		for _, m := range pending {
			p, err := q.decode(m)
			if !q.emit(yield, p, err) {
				return
			}
		}
		for m, err := range q.c.Messages(ctx) {
			if err != nil {
				if !yield(Packet{}, fmt.Errorf("nfqueue: queue %d: %w", q.num, err)) {
					return
				}
				continue // Messages ends the stream itself on fatal errors
			}
			if m.Type != netfilter.NewMessageType(netfilter.SubsysQueue, msgPacket) {
				continue
			}
			p, err := q.decode(m)
			if !q.emit(yield, p, err) {
				return
			}
		}
	}
}

// emit yields a loss first, if the packet's ID shows one, then the packet.
func (q *Queue) emit(yield func(Packet, error) bool, p Packet, err error) bool {
	if err != nil {
		return yield(Packet{}, err)
	}
	if q.haveLast && p.ID-q.lastID > 1 && p.ID-q.lastID < 1<<31 {
		n := p.ID - q.lastID - 1
		q.lost.Add(uint64(n))
		if !yield(Packet{}, &LostError{Queue: q.num, N: n}) {
			return false
		}
	}
	q.lastID, q.haveLast = p.ID, true
	return yield(p, nil)
}

func (q *Queue) decode(m netfilter.Message) (Packet, error) {
	p, err := ParsePacket(m)
	if err != nil {
		return Packet{}, fmt.Errorf("nfqueue: queue %d: %w", q.num, err)
	}
	q.received.Add(1)
	return p, nil
}

// SetVerdict gives packet id its verdict (NFQNL_MSG_VERDICT). It does not
// wait: if the kernel refuses it (no such packet: ENOENT), the error
// arrives on the Packets stream.
//
// Equivalent to: libnetfilter_queue's nfq_set_verdict.
func (q *Queue) SetVerdict(id uint32, v Verdict) error {
	return q.SetVerdictWith(VerdictRequest{ID: id, Verdict: v})
}

// SetVerdictWith gives a verdict with a new mark and/or a rewritten
// payload.
//
// Equivalent to: libnetfilter_queue's nfq_set_verdict2 (mark) and
// nfq_set_verdict with a buffer (payload).
func (q *Queue) SetVerdictWith(r VerdictRequest) error {
	return q.send(msgVerdict, r, "verdict")
}

// SetVerdictBatch gives verdict v to every packet of the queue with an
// ID up to maxID that is still waiting (NFQNL_MSG_VERDICT_BATCH): one
// message for a run of packets with the same fate. Give the packets that
// must differ (drops among accepts) their own verdicts first.
//
// Equivalent to: libnetfilter_queue's nfq_set_verdict_batch.
func (q *Queue) SetVerdictBatch(maxID uint32, v Verdict) error {
	return q.SetVerdictBatchWith(VerdictRequest{ID: maxID, Verdict: v})
}

// SetVerdictBatchWith is SetVerdictBatch with a new mark (r.ID is the
// highest ID). A batch cannot rewrite payloads: r.Payload must be nil.
//
// Equivalent to: libnetfilter_queue's nfq_set_verdict_batch2.
func (q *Queue) SetVerdictBatchWith(r VerdictRequest) error {
	if r.Payload != nil {
		return fmt.Errorf("nfqueue: queue %d: a batch verdict cannot carry a payload", q.num)
	}
	return q.send(msgVerdictBatch, r, "batch verdict")
}

func (q *Queue) send(msg uint8, r VerdictRequest, what string) error {
	data, err := marshalVerdict(netfilter.NewAttributeEncoder(), r)
	if err != nil {
		return fmt.Errorf("nfqueue: queue %d: %s: %w", q.num, what, err)
	}
	_, err = q.c.Send(netfilter.Message{
		Type:   netfilter.NewMessageType(netfilter.SubsysQueue, msg),
		Header: netfilter.Header{Family: netfilter.FamilyUnspec, Version: netfilter.Version0, ResourceID: q.num},
		Data:   data,
	}, 0)
	if err != nil {
		return fmt.Errorf("nfqueue: queue %d: %s for packet %d: %w", q.num, what, r.ID, err)
	}
	return nil
}

// whyPerm explains EPERM on bind: the kernel gives it both to a process
// without CAP_NET_ADMIN and for a queue bound by another socket.
func (q *Queue) whyPerm() string {
	if q.nc != nil {
		if all, err := ReadKernelStats(q.nc); err == nil {
			for _, s := range all {
				if s.Queue == q.num && s.PortID != q.c.Netlink().PortID() {
					return fmt.Sprintf("another program is bound to it: netlink port %d", s.PortID)
				}
			}
		}
	}
	return "another program is bound to it, or this needs CAP_NET_ADMIN"
}
