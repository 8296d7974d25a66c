package hello

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	"github.com/nlkit/nlkit/netlink"
)

// ErrNotLoaded reports that nothing answers for the module: no kernel
// endpoint on its netlink protocol, or no generic netlink family
// "nlhello". errors.Is(err, ErrNotLoaded) holds for such errors, and so
// does errors.Is with the errno the kernel gave (EPROTONOSUPPORT,
// ECONNREFUSED or ENOENT).
var ErrNotLoaded = errors.New("hello: nlhello.ko is not loaded")

// notLoadedError is an ErrNotLoaded with what was tried.
type notLoadedError struct {
	what string // "no kernel endpoint on netlink protocol 31"
	hint string // "is nlhello.ko loaded?"
	err  error
}

func (e *notLoadedError) Error() string { return "hello: " + e.what + ": " + e.hint }

func (e *notLoadedError) Unwrap() []error { return []error{ErrNotLoaded, e.err} }

// explain turns the errors that mean "no module here" into ErrNotLoaded
// with a hint a user can act on; other errors are returned as they are
// (Dial's errors already say what failed).
func explain(protocol int, err error) error {
	switch {
	case errors.Is(err, syscall.EPROTONOSUPPORT):
		return &notLoadedError{
			what: fmt.Sprintf("no kernel endpoint on netlink protocol %d", protocol),
			hint: "is nlhello.ko loaded?", err: err,
		}
	case errors.Is(err, syscall.ECONNREFUSED):
		// The protocol is registered (the module is loaded) but nothing
		// listens in this socket's namespace: the module serves the
		// initial network namespace only.
		return &notLoadedError{
			what: fmt.Sprintf("no kernel endpoint on netlink protocol %d in this network namespace", protocol),
			hint: "nlhello.ko serves the initial network namespace only", err: err,
		}
	}
	return err
}

// Client talks to the module's own netlink endpoint (protocol 31 unless
// the module was loaded with another). It is safe for concurrent use;
// requests are serialized on one socket.
type Client struct {
	c *netlink.Conn
}

// Dial opens a socket on the module's netlink protocol (0 means
// DefaultProtocol) with cfg (nil for the defaults). If the module is not
// loaded the error matches ErrNotLoaded and says so.
func Dial(protocol int, cfg *netlink.Config) (*Client, error) {
	if protocol == 0 {
		protocol = DefaultProtocol
	}
	c, err := netlink.Dial(protocol, cfg)
	if err != nil {
		return nil, explain(protocol, err)
	}
	return &Client{c: c}, nil
}

// NewClient returns a Client on an open Conn of the module's protocol
// (for example one from the fake kernel in package hellotest). The Client
// takes ownership of c.
func NewClient(c *netlink.Conn) *Client { return &Client{c: c} }

// Conn returns the underlying Conn (for its Stats, deadlines and options).
func (c *Client) Conn() *netlink.Conn { return c.c }

// Close closes the socket.
func (c *Client) Close() error { return c.c.Close() }

// Hello sends text (which must not contain a NUL byte) in a MsgHello
// request and returns the module's reply text, "Thank you". The request
// goes through Conn.Execute: the reply must come from the kernel (port 0)
// with the request's sequence number, and the acknowledgement ends it;
// anything else on the socket is skipped.
//
// Equivalent to: `nlkit hello TEXT` (iproute2 has no command for this module).
func (c *Client) Hello(ctx context.Context, text string) (string, error) {
	data, err := marshalText(text)
	if err != nil {
		return "", err
	}
	m, err := c.one(ctx, "say hello", netlink.Message{Header: netlink.Header{Type: MsgHello}, Data: data}, MsgHello)
	if err != nil {
		return "", err
	}
	return parseText(m.Data)
}

// Stats returns the module's counters (MsgStats).
//
// Equivalent to: `nlkit hello stats` (iproute2 has no command for this module).
func (c *Client) Stats(ctx context.Context) (Stats, error) {
	m, err := c.one(ctx, "stats", netlink.Message{Header: netlink.Header{Type: MsgStats}}, MsgStats)
	if err != nil {
		return Stats{}, err
	}
	var s Stats
	if err := s.UnmarshalBinary(m.Data); err != nil {
		return Stats{}, err
	}
	return s, nil
}

// one executes req and returns its only reply of type want.
func (c *Client) one(ctx context.Context, what string, req netlink.Message, want netlink.HeaderType) (netlink.Message, error) {
	replies, err := c.c.Execute(ctx, req)
	if err != nil {
		if e := explain(c.c.Protocol(), err); errors.Is(e, ErrNotLoaded) {
			return netlink.Message{}, e
		}
		return netlink.Message{}, fmt.Errorf("hello: %s: %w", what, err)
	}
	var out []netlink.Message
	for _, m := range replies {
		if m.Header.Type == want {
			out = append(out, m)
		}
	}
	if len(out) != 1 {
		return netlink.Message{}, fmt.Errorf("hello: %s: kernel sent %d replies of type %v, want 1", what, len(out), want)
	}
	return out[0], nil
}
