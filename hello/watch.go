package hello

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/nlkit/nlkit/genl"
	"github.com/nlkit/nlkit/netlink"
)

// DefaultWatchBuffer is the receive buffer a Subscription asks for: room
// for some 8,000 notifications of full-size packets before the kernel
// drops any.
const DefaultWatchBuffer = 4 << 20

// Subscription receives the module's packet notifications on a socket of
// its own: on the raw protocol (Watch) or from the generic netlink
// family's "packets" group (WatchGeneric).
type Subscription struct {
	c      *netlink.Conn
	family uint16 // the genl family ID; 0 for the raw protocol
}

// watchConfig is cfg with the default receive buffer.
func watchConfig(cfg *netlink.Config) *netlink.Config {
	var dc netlink.Config
	if cfg != nil {
		dc = *cfg
	}
	if dc.ReceiveBuffer == 0 {
		dc.ReceiveBuffer, dc.ForceReceiveBuffer = DefaultWatchBuffer, true
	}
	return &dc
}

// Watch opens a socket on the module's protocol (0 means DefaultProtocol)
// and joins GroupPackets; when it returns, the socket is subscribed and no
// later packet is missed. Its receive buffer is DefaultWatchBuffer (with
// SO_RCVBUFFORCE when privileged) unless cfg.ReceiveBuffer says
// otherwise. Subscribing needs CAP_NET_ADMIN: without it the kernel
// answers EPERM. The module serves the initial network namespace only; a
// subscription in another one receives nothing.
//
// Equivalent to: `nlkit hello watch` (the nearest classic tool is
// `tcpdump -i my_if0`).
func Watch(protocol int, cfg *netlink.Config) (*Subscription, error) {
	if protocol == 0 {
		protocol = DefaultProtocol
	}
	c, err := netlink.Dial(protocol, watchConfig(cfg))
	if err != nil {
		return nil, explain(protocol, err)
	}
	s, err := NewSubscription(c)
	if err != nil {
		c.Close()
		return nil, err
	}
	return s, nil
}

// NewSubscription joins GroupPackets on c (a Conn of the module's raw
// protocol, for example one from package hellotest) and returns a
// Subscription that owns c. On error c is left open.
func NewSubscription(c *netlink.Conn) (*Subscription, error) {
	if err := c.JoinGroup(GroupPackets); err != nil {
		return nil, fmt.Errorf("hello: subscribe to packets (group %d): %w", GroupPackets, err)
	}
	return &Subscription{c: c}, nil
}

// WatchGeneric opens a generic netlink socket, resolves the family and
// joins its "packets" group; when it returns, the socket is subscribed.
// The receive buffer, privileges and namespace are as for Watch.
//
// Equivalent to: `nlkit hello --genl watch`.
func WatchGeneric(ctx context.Context, cfg *netlink.Config) (*Subscription, error) {
	c, err := genl.Dial(watchConfig(cfg))
	if err != nil {
		return nil, err
	}
	s, err := NewGenericSubscription(ctx, c)
	if err != nil {
		c.Close()
		return nil, err
	}
	return s, nil
}

// NewGenericSubscription resolves the family on c (for example a Conn of
// genltest's fake kernel), joins its "packets" group and returns a
// Subscription that owns c's socket. On error c is left open.
func NewGenericSubscription(ctx context.Context, c *genl.Conn) (*Subscription, error) {
	f, err := c.Family(ctx, FamilyName)
	if err != nil {
		return nil, familyErr("subscribe to packets", err)
	}
	if _, err := c.JoinGroup(ctx, FamilyName, FamilyGroupPackets); err != nil {
		return nil, fmt.Errorf("hello: subscribe to packets: %w", err)
	}
	return &Subscription{c: c.Netlink(), family: f.ID}, nil
}

// Conn returns the subscription's socket.
func (s *Subscription) Conn() *netlink.Conn { return s.c }

// Close closes the socket; a running Packets loop ends with an error
// matching net.ErrClosed.
func (s *Subscription) Close() error { return s.c.Close() }

// Packets streams the packets the module passes up, in the order the
// interface sent them, until ctx ends or the socket fails. Each Packet is
// the caller's. An overrun (the receive buffer was full, packets were
// lost) yields an error matching netlink.ErrOverrun and the stream goes
// on; a notification that does not decode ends the stream with its
// error, as does the end of ctx. Other messages are skipped.
//
// Equivalent to: `nlkit hello watch`.
func (s *Subscription) Packets(ctx context.Context) iter.Seq2[Packet, error] {
	return func(yield func(Packet, error) bool) {
		for m, err := range s.c.Messages(ctx) {
			if errors.Is(err, netlink.ErrOverrun) {
				if !yield(Packet{}, fmt.Errorf("hello: packets: %w", err)) {
					return
				}
				continue
			}
			if err != nil {
				yield(Packet{}, fmt.Errorf("hello: packets: %w", err))
				return
			}
			attrs, ok, err := s.notification(m)
			if err != nil {
				yield(Packet{}, err)
				return
			}
			if !ok {
				continue
			}
			var p Packet
			if err := p.UnmarshalBinary(attrs); err != nil {
				yield(Packet{}, err)
				return
			}
			if !yield(p, nil) {
				return
			}
		}
	}
}

// notification returns the attributes of a packet notification, or false
// for a message that is not one.
func (s *Subscription) notification(m netlink.Message) ([]byte, bool, error) {
	if s.family == 0 {
		return m.Data, m.Header.Type == MsgPacket, nil
	}
	if uint16(m.Header.Type) != s.family {
		return nil, false, nil
	}
	gm, err := genl.ParseMessage(m)
	if err != nil {
		return nil, false, fmt.Errorf("hello: decode packet: %w", err)
	}
	return gm.Data, Command(gm.Header.Command) == CmdPacket, nil
}
