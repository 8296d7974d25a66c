package rtnl

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"syscall"

	"github.com/nlkit/nlkit/netlink"
)

// Client is an rtnetlink client: typed requests on a NETLINK_ROUTE Conn.
// It is safe for concurrent use (requests are serialized on the Conn).
type Client struct {
	c     *netlink.Conn
	cfg   netlink.Config // the namespace, for work done outside netlink (tun)
	batch *Batch         // set on a Batch's Client: changes are queued
}

// Dial opens an rtnetlink socket (NETLINK_ROUTE) with cfg (nil for the
// defaults; set cfg.NetNS to work inside another network namespace, as
// `ip -n NAME` does).
func Dial(cfg *netlink.Config) (*Client, error) {
	c, err := netlink.Dial(netlink.Route, cfg)
	if err != nil {
		return nil, err
	}
	cl := &Client{c: c}
	if cfg != nil {
		cl.cfg = netlink.Config{NetNS: cfg.NetNS, NetNSFD: cfg.NetNSFD}
	}
	return cl, nil
}

// NewClient returns a Client on an open NETLINK_ROUTE Conn (for example
// one from a fake kernel). The Client takes ownership of c.
func NewClient(c *netlink.Conn) *Client { return &Client{c: c} }

// Conn returns the underlying Conn.
func (c *Client) Conn() *netlink.Conn { return c.c }

// Close closes the underlying Conn. On a Batch's Client it does nothing:
// the batch shares its parent's Conn.
func (c *Client) Close() error {
	if c.batch != nil {
		return nil
	}
	return c.c.Close()
}

// unmarshaler is a pointer to an rtnetlink object type.
type unmarshaler[T any] interface {
	*T
	UnmarshalBinary([]byte) error
}

// dump sends a dump request (type typ, payload data) and streams the
// replies of type want, each decoded into a new object.
func dump[T any, P unmarshaler[T]](ctx context.Context, c *Client, typ uint16, data []byte, want uint16) iter.Seq2[P, error] {
	return func(yield func(P, error) bool) {
		if err := c.beforeRead(ctx); err != nil {
			yield(nil, err)
			return
		}
		req := netlink.Message{Header: netlink.Header{Type: netlink.HeaderType(typ)}, Data: data}
		for m, err := range c.c.Dump(ctx, req) {
			if err != nil {
				yield(nil, err)
				return
			}
			if uint16(m.Header.Type) != want {
				continue
			}
			obj := P(new(T))
			if err := obj.UnmarshalBinary(m.Data); err != nil {
				yield(nil, err)
				return
			}
			if !yield(obj, nil) {
				return
			}
		}
	}
}

// collect gathers a stream into a slice.
func collect[P any](seq iter.Seq2[P, error]) ([]P, error) {
	var out []P
	for v, err := range seq {
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// change sends a request that changes kernel state (RTM_NEW*, RTM_DEL*,
// RTM_SET*) with extra header flags, and waits for its acknowledgement.
//
// On a Batch's Client the request is queued instead, and change returns
// nil.
func (c *Client) change(ctx context.Context, typ uint16, flags netlink.HeaderFlags, data []byte) error {
	m := netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(typ), Flags: flags},
		Data:   data,
	}
	if c.batch != nil {
		c.batch.add(m)
		return nil
	}
	_, err := c.c.Execute(ctx, m)
	return err
}

// Links streams every interface, decoded one at a time, without holding
// the whole list in memory.
//
// Equivalent to: `ip link show`.
func (c *Client) Links(ctx context.Context) iter.Seq2[*Link, error] {
	return dump[Link](ctx, c, msgGetLink, make([]byte, ifInfoLen), msgNewLink)
}

// ListLinks returns every interface, in index order.
//
// Equivalent to: `ip link show`.
func (c *Client) ListLinks(ctx context.Context) ([]*Link, error) {
	return collect(c.Links(ctx))
}

// ErrNoLink reports that no interface has the given name or index.
// errors.Is(err, ErrNoLink) and errors.Is(err, syscall.ENODEV) both hold.
var ErrNoLink = errors.New("no such network interface")

type noLinkError struct {
	what string
	err  error
}

func (e *noLinkError) Error() string {
	return fmt.Sprintf("rtnl: %s: %v", e.what, ErrNoLink)
}
func (e *noLinkError) Unwrap() []error { return []error{ErrNoLink, e.err} }

func (c *Client) getLink(ctx context.Context, l *Link, what string) (*Link, error) {
	if err := c.beforeRead(ctx); err != nil {
		return nil, err
	}
	data, err := l.MarshalBinary()
	if err != nil {
		return nil, err
	}
	msgs, err := c.c.Execute(ctx, netlink.Message{Header: netlink.Header{Type: msgGetLink}, Data: data})
	if err != nil {
		if errors.Is(err, syscall.ENODEV) {
			return nil, &noLinkError{what: what, err: err}
		}
		return nil, err
	}
	for _, m := range msgs {
		if m.Header.Type == msgNewLink {
			out := new(Link)
			if err := out.UnmarshalBinary(m.Data); err != nil {
				return nil, err
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("rtnl: %s: kernel sent no link", what)
}

// LinkByIndex returns the interface with the given index.
//
// Equivalent to: `ip link show dev $(index)`.
func (c *Client) LinkByIndex(ctx context.Context, index int32) (*Link, error) {
	if index <= 0 {
		return nil, &noLinkError{what: fmt.Sprintf("link index %d", index), err: syscall.ENODEV}
	}
	return c.getLink(ctx, &Link{Index: index}, fmt.Sprintf("link index %d", index))
}

// LinkByName returns the interface with the given name.
//
// Equivalent to: `ip link show dev NAME`.
func (c *Client) LinkByName(ctx context.Context, name string) (*Link, error) {
	if name == "" || len(name) > 15 {
		return nil, &noLinkError{what: fmt.Sprintf("link %q", name), err: syscall.ENODEV}
	}
	return c.getLink(ctx, &Link{Name: name}, fmt.Sprintf("link %q", name))
}

// LinkIndex returns the index of the interface with the given name. On a
// Batch's Client the answer is cached until a queued link change, so a
// batch of routes on one device asks the kernel once.
//
// Equivalent to: `ip -o link show dev NAME | cut -d: -f1`.
func (c *Client) LinkIndex(ctx context.Context, name string) (int32, error) {
	if c.batch != nil {
		if i, ok := c.batch.names[name]; ok {
			return i, nil
		}
	}
	l, err := c.LinkByName(ctx, name)
	if err != nil {
		return 0, err
	}
	if c.batch != nil {
		c.batch.names[name] = l.Index
	}
	return l.Index, nil
}
