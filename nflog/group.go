package nflog

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
	"syscall"

	"github.com/nlkit/nlkit/netfilter"
	"github.com/nlkit/nlkit/netlink"
)

// DefaultReceiveBuffer is the socket receive buffer a Group asks for
// (with SO_RCVBUFFORCE when privileged).
const DefaultReceiveBuffer = 8 << 20

// Group is a socket bound to one NFLOG group: it receives the packets
// that log rules (nft `log group N`, iptables `-j NFLOG --nflog-group N`)
// copy to the group. Logging never holds packets back: a slow reader
// loses log entries, never traffic.
type Group struct {
	c   *netfilter.Conn
	num uint16

	mu      sync.Mutex
	pending []netfilter.Message // packets read while binding
}

// Open opens a netfilter socket in nc's namespace (nil: the current one)
// and binds log group num with cfg. The receive buffer is
// DefaultReceiveBuffer unless nc.ReceiveBuffer says otherwise. Binding
// needs CAP_NET_ADMIN; one socket per group and namespace (EBUSY).
//
// Equivalent to: `nfnl_log_test` / ulogd's NFLOG input, or
// `tcpdump -i nflog:NUM`.
func Open(ctx context.Context, num uint16, cfg Config, nc *netlink.Config) (*Group, error) {
	var dc netlink.Config
	if nc != nil {
		dc = *nc
	}
	if dc.ReceiveBuffer == 0 {
		dc.ReceiveBuffer, dc.ForceReceiveBuffer = DefaultReceiveBuffer, true
	}
	c, err := netfilter.Dial(&dc)
	if err != nil {
		return nil, fmt.Errorf("nflog: open group %d: %w", num, err)
	}
	g, err := Bind(ctx, c, num, cfg)
	if err != nil {
		c.Close()
		return nil, err
	}
	return g, nil
}

// Bind binds group num on c (for example a Conn of a fake kernel) and
// returns a Group that owns c. Packets arriving before the kernel's
// acknowledgement are kept for Packets. On error c is left open.
func Bind(ctx context.Context, c *netfilter.Conn, num uint16, cfg Config) (*Group, error) {
	data, err := marshalConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("nflog: bind group %d: %w", num, err)
	}
	sent, err := c.Send(netfilter.Message{
		Type:   netfilter.NewMessageType(netfilter.SubsysULOG, msgConfig),
		Header: netfilter.Header{Family: netfilter.FamilyUnspec, Version: netfilter.Version0, ResourceID: num},
		Data:   data,
	}, netlink.Acknowledge)
	if err != nil {
		return nil, fmt.Errorf("nflog: bind group %d: %w", num, err)
	}
	g := &Group{c: c, num: num}
	seq := sent.Header.Sequence
	for {
		msgs, err := c.Netlink().Receive(ctx)
		if err != nil {
			return nil, fmt.Errorf("nflog: bind group %d: %w", num, err)
		}
		done := false
		for _, m := range msgs {
			if m.Header.Type == netlink.Error {
				info, err := netlink.ParseAck(m.Header.Flags, m.Data)
				if err != nil {
					return nil, fmt.Errorf("nflog: bind group %d: %w", num, err)
				}
				if info.Request.Sequence != seq {
					continue
				}
				if info.Errno != 0 {
					oe := &netlink.OpError{Op: "execute", Err: info.Errno, Message: info.Message, Offset: info.Offset, Sequence: seq}
					switch {
					case info.Errno == syscall.EBUSY || info.Errno == syscall.EPERM:
						return nil, fmt.Errorf("nflog: bind group %d: %w (another program is bound to it, or this needs CAP_NET_ADMIN)", num, oe)
					case info.Errno == syscall.EOPNOTSUPP && cfg.Flags&Conntrack != 0:
						return nil, fmt.Errorf("nflog: bind group %d: %w (conntrack metadata needs a kernel with CONFIG_NETFILTER_NETLINK_GLUE_CT)", num, oe)
					}
					return nil, fmt.Errorf("nflog: bind group %d: %w", num, oe)
				}
				done = true
				continue
			}
			if m.Header.Type < netlink.MinType {
				continue
			}
			nm, err := netfilter.ParseMessage(m)
			if err != nil {
				return nil, fmt.Errorf("nflog: bind group %d: %w", num, err)
			}
			g.pending = append(g.pending, nm)
		}
		if done {
			return g, nil
		}
	}
}

// Num returns the group number.
func (g *Group) Num() uint16 { return g.num }

// Conn returns the socket.
func (g *Group) Conn() *netfilter.Conn { return g.c }

// Close closes the socket; the kernel unbinds the group. A running
// Packets loop ends with an error matching net.ErrClosed.
func (g *Group) Close() error { return g.c.Close() }

// Packets streams logged packets until ctx ends or the socket fails; each
// Packet owns its memory. An overrun (entries lost because the receive
// buffer was full) yields an error matching netlink.ErrOverrun and the
// stream goes on; so does a packet that fails to decode, yielded as its
// error. Other errors end it, as does the end of ctx.
//
// Equivalent to: `nlkit nflog GROUP`, `tcpdump -i nflog:GROUP`.
func (g *Group) Packets(ctx context.Context) iter.Seq2[Packet, error] {
	return func(yield func(Packet, error) bool) {
		g.mu.Lock()
		pending := g.pending
		g.pending = nil
		g.mu.Unlock()
		for _, m := range pending {
			if !g.emit(yield, m) {
				return
			}
		}
		for m, err := range g.c.Messages(ctx) {
			if err != nil {
				e := fmt.Errorf("nflog: group %d: %w", g.num, err)
				if !yield(Packet{}, e) || !errors.Is(err, netlink.ErrOverrun) {
					return
				}
				continue
			}
			if !g.emit(yield, m) {
				return
			}
		}
	}
}

func (g *Group) emit(yield func(Packet, error) bool, m netfilter.Message) bool {
	if m.Type != netfilter.NewMessageType(netfilter.SubsysULOG, msgPacket) {
		return true
	}
	p, err := ParsePacket(m)
	if err != nil {
		return yield(Packet{}, fmt.Errorf("nflog: group %d: %w", g.num, err))
	}
	return yield(p, nil)
}
