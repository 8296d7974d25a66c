package netfilter

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/nlkit/nlkit/netlink"
)

// Conn is a netfilter netlink socket (NETLINK_NETFILTER): requests to any
// subsystem with the nfgenmsg header added and stripped, multicast
// groups, and a stream of received messages (events, or the packets that
// nfnetlink_queue and nfnetlink_log send to a bound socket).
//
// It is safe for concurrent use; requests are serialized on the
// underlying *netlink.Conn (see its documentation for how reading
// operations hold it).
type Conn struct {
	c *netlink.Conn
}

// Dial opens a netfilter netlink socket with cfg (nil for the defaults):
// cfg.NetNS opens it in another network namespace, cfg.ReceiveBuffer
// sizes its receive buffer (set it large for events and queues).
func Dial(cfg *netlink.Config) (*Conn, error) {
	c, err := netlink.Dial(netlink.Netfilter, cfg)
	if err != nil {
		return nil, err
	}
	return &Conn{c: c}, nil
}

// NewConn returns a Conn on an open NETLINK_NETFILTER netlink Conn (for
// example one from a fake kernel, nltest). The Conn takes ownership of c.
func NewConn(c *netlink.Conn) *Conn { return &Conn{c: c} }

// Netlink returns the underlying netlink Conn, for socket options,
// deadlines, statistics and raw access.
func (c *Conn) Netlink() *netlink.Conn { return c.c }

// Close closes the socket; a running Messages loop ends with an error
// matching net.ErrClosed.
func (c *Conn) Close() error { return c.c.Close() }

// Execute sends m with NLM_F_REQUEST, NLM_F_ACK and flags (Create,
// Excl, ...) and returns the replies, which own their memory. Kernel
// errors are returned unchanged: an *netlink.OpError wrapping the errno,
// with the extended-ack text (errors.Is(err, syscall.ENOENT) works). A
// subsystem whose module is not loaded fails with EOPNOTSUPP (the kernel
// tries to load it first).
//
// Equivalent to: the request a subsystem's tool sends, such as
// `conntrack -I ...` or `conntrack -D ...`.
func (c *Conn) Execute(ctx context.Context, m Message, flags netlink.HeaderFlags) ([]Message, error) {
	req, err := m.NetlinkMessage(flags)
	if err != nil {
		return nil, err
	}
	replies, err := c.c.Execute(ctx, req)
	if err != nil {
		return nil, err
	}
	out := make([]Message, 0, len(replies))
	for _, r := range replies {
		nm, err := ParseMessage(r)
		if err != nil {
			return nil, fmt.Errorf("netfilter: decode reply to %s: %w", m.Type, err)
		}
		out = append(out, nm)
	}
	return out, nil
}

// Dump sends m as a dump request (NLM_F_REQUEST|NLM_F_DUMP) and streams
// the replies. Each yielded Message aliases the receive buffer and is
// valid until the loop continues; copy what you keep. Errors are as for
// Execute, plus netlink.ErrDumpInterrupted (dump again). Breaking out
// early is allowed.
//
// Equivalent to: a listing such as `conntrack -L`.
func (c *Conn) Dump(ctx context.Context, m Message) iter.Seq2[Message, error] {
	return func(yield func(Message, error) bool) {
		req, err := m.NetlinkMessage(0)
		if err != nil {
			yield(Message{}, err)
			return
		}
		for r, err := range c.c.Dump(ctx, req) {
			if err != nil {
				yield(Message{}, err)
				return
			}
			nm, err := ParseMessage(r)
			if err != nil {
				yield(Message{}, fmt.Errorf("netfilter: decode dump of %s: %w", m.Type, err))
				return
			}
			if !yield(nm, nil) {
				return
			}
		}
	}
}

// Send sends m with NLM_F_REQUEST and flags and does not wait for an
// answer: for messages sent at a high rate whose errors are not awaited,
// such as NFQUEUE verdicts. Add netlink.Acknowledge to flags to have an
// acknowledgement (or error) arrive later through Receive or Messages.
// It returns the message as sent, with its sequence number.
//
// Equivalent to: the verdicts a queue program sends (`nfqnl_test`).
func (c *Conn) Send(m Message, flags netlink.HeaderFlags) (netlink.Message, error) {
	req, err := m.NetlinkMessage(netlink.Request | flags)
	if err != nil {
		return netlink.Message{}, err
	}
	return c.c.Send(req)
}

// Receive waits for the next datagram and returns its netfilter
// messages, which own their memory: events after JoinGroup, or the
// packets of a queue or log group the socket is bound to. Control
// messages (NLMSG_DONE, acknowledgements) are skipped, except that an
// error acknowledgement of a request sent with Send and NLM_F_ACK is
// returned as its *netlink.OpError. An overrun returns an error matching
// netlink.ErrOverrun: messages were lost, the Conn stays usable.
//
// Equivalent to: `conntrack -E` reading one batch of events.
func (c *Conn) Receive(ctx context.Context) ([]Message, error) {
	msgs, err := c.c.Receive(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Message, 0, len(msgs))
	for _, m := range msgs {
		nm, ok, err := parseReceived(m)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, nm)
		}
	}
	return out, nil
}

// parseReceived decodes a message read by Receive or Messages: it skips
// control messages and turns error acknowledgements into errors.
func parseReceived(m netlink.Message) (Message, bool, error) {
	switch m.Header.Type {
	case netlink.Error:
		info, err := netlink.ParseAck(m.Header.Flags, m.Data)
		if err != nil {
			return Message{}, false, fmt.Errorf("netfilter: decode acknowledgement: %w", err)
		}
		if info.Errno != 0 {
			return Message{}, false, &netlink.OpError{Op: "receive", Err: info.Errno, Message: info.Message, Offset: info.Offset, Sequence: m.Header.Sequence, MissingType: info.MissingType}
		}
		return Message{}, false, nil
	}
	if m.Header.Type < netlink.MinType {
		return Message{}, false, nil
	}
	nm, err := ParseMessage(m)
	if err != nil {
		return Message{}, false, fmt.Errorf("netfilter: decode %s message: %w", MessageType(m.Header.Type), err)
	}
	return nm, true, nil
}

// Messages streams received messages until ctx ends or the Conn fails.
// Each yielded Message aliases the receive buffer and is valid until the
// loop continues. An overrun yields an error matching netlink.ErrOverrun
// and the stream goes on; so do a malformed message and an error
// acknowledgement (see Receive), each yielded as an error; any other
// error ends the stream, as does the end of ctx (yielding ctx's error).
//
// Equivalent to: `conntrack -E`.
func (c *Conn) Messages(ctx context.Context) iter.Seq2[Message, error] {
	return func(yield func(Message, error) bool) {
		for m, err := range c.c.Messages(ctx) {
			if err != nil {
				if !yield(Message{}, err) {
					return
				}
				if errors.Is(err, netlink.ErrOverrun) {
					continue
				}
				return
			}
			nm, ok, err := parseReceived(m)
			if !ok && err == nil {
				continue
			}
			if !yield(nm, err) {
				return
			}
		}
	}
}

// JoinGroup subscribes the Conn to a multicast group. Conntrack groups
// need CAP_NET_ADMIN in the socket's user namespace (EPERM otherwise);
// joining loads the subsystem's module if it is missing.
//
// Equivalent to: `conntrack -E` (which joins the conntrack groups).
func (c *Conn) JoinGroup(g Group) error {
	if err := c.c.JoinGroup(uint32(g)); err != nil {
		return fmt.Errorf("netfilter: join group %s: %w", g, err)
	}
	return nil
}

// LeaveGroup unsubscribes from a multicast group.
//
// Equivalent to: ending `conntrack -E`.
func (c *Conn) LeaveGroup(g Group) error {
	if err := c.c.LeaveGroup(uint32(g)); err != nil {
		return fmt.Errorf("netfilter: leave group %s: %w", g, err)
	}
	return nil
}
