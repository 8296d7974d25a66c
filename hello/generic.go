package hello

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	"github.com/nlkit/nlkit/genl"
	"github.com/nlkit/nlkit/netlink"
)

// familyErr turns a failed resolution of the family into ErrNotLoaded
// with a hint; other errors are wrapped with what was being done.
func familyErr(what string, err error) error {
	if errors.Is(err, genl.ErrFamilyNotFound) {
		return &notLoadedError{
			what: fmt.Sprintf("no generic netlink family %q", FamilyName),
			hint: "is nlhello.ko loaded? (it exists in the initial namespace only)",
			err:  err,
		}
	}
	return fmt.Errorf("hello: %s: %w", what, err)
}

// GenericClient talks to the module's generic netlink family "nlhello":
// the same service as Client, on NETLINK_GENERIC. It is safe for
// concurrent use; requests are serialized on one socket.
type GenericClient struct {
	c *genl.Conn
}

// DialGeneric opens a generic netlink socket with cfg (nil for the
// defaults) and resolves the family. If the module is not loaded the
// error matches ErrNotLoaded (and genl.ErrFamilyNotFound) and says so.
//
// Equivalent to: `genl ctrl get name nlhello`.
func DialGeneric(ctx context.Context, cfg *netlink.Config) (*GenericClient, error) {
	c, err := genl.Dial(cfg)
	if err != nil {
		return nil, err
	}
	g, err := NewGenericClient(ctx, c)
	if err != nil {
		c.Close()
		return nil, err
	}
	return g, nil
}

// NewGenericClient resolves the family on c (for example a Conn of
// genltest's fake kernel) and returns a client that owns c. On error c
// is left open.
func NewGenericClient(ctx context.Context, c *genl.Conn) (*GenericClient, error) {
	if _, err := c.Family(ctx, FamilyName); err != nil {
		return nil, familyErr("resolve family", err)
	}
	return &GenericClient{c: c}, nil
}

// Conn returns the underlying generic netlink Conn.
func (g *GenericClient) Conn() *genl.Conn { return g.c }

// Close closes the socket.
func (g *GenericClient) Close() error { return g.c.Close() }

// Family returns the family as the controller described it (its ID, its
// commands and its "packets" group).
//
// Equivalent to: `genl ctrl get name nlhello`.
func (g *GenericClient) Family(ctx context.Context) (*genl.Family, error) {
	f, err := g.c.Family(ctx, FamilyName)
	if err != nil {
		return nil, familyErr("resolve family", err)
	}
	return f, nil
}

// Hello sends CmdHello with text (which must not contain a NUL byte) in
// AttrText and returns the reply's text, "Thank you".
//
// Equivalent to: `nlkit hello --genl TEXT` (iproute2 has no command for
// this family).
func (g *GenericClient) Hello(ctx context.Context, text string) (string, error) {
	if _, err := marshalText(text); err != nil {
		return "", err
	}
	var e netlink.AttributeEncoder
	e.String(AttrText, text)
	attrs, err := e.Encode()
	if err != nil {
		return "", fmt.Errorf("hello: say hello: %w", err)
	}
	m, err := g.one(ctx, "say hello", CmdHello, attrs)
	if err != nil {
		return "", err
	}
	found := false
	var reply string
	d := netlink.NewAttributeDecoder(m.Data)
	for d.Next() {
		if d.Type() == AttrText {
			if reply, err = parseText(d.Bytes()); err != nil {
				return "", err
			}
			found = true
		}
	}
	if err := d.Err(); err != nil {
		return "", fmt.Errorf("hello: decode reply: %w", err)
	}
	if !found {
		return "", errors.New("hello: decode reply: no TEXT attribute")
	}
	return reply, nil
}

// Stats returns the module's counters (CmdGetStats).
//
// Equivalent to: `nlkit hello --genl stats` (iproute2 has no command for
// this family).
func (g *GenericClient) Stats(ctx context.Context) (Stats, error) {
	m, err := g.one(ctx, "stats", CmdGetStats, nil)
	if err != nil {
		return Stats{}, err
	}
	var s Stats
	if err := s.UnmarshalBinary(m.Data); err != nil {
		return Stats{}, err
	}
	return s, nil
}

// one executes command cmd and returns its only reply with that
// command. If the family's ID is gone (ENOENT: the module was unloaded,
// perhaps loaded again under a new ID), it resolves the family once more
// and retries.
func (g *GenericClient) one(ctx context.Context, what string, cmd Command, attrs []byte) (genl.Message, error) {
	var replies []genl.Message
	for attempt := 0; ; attempt++ {
		f, err := g.c.Family(ctx, FamilyName)
		if err != nil {
			return genl.Message{}, familyErr(what, err)
		}
		req := genl.Message{Header: genl.Header{Command: uint8(cmd), Version: FamilyVersion}, Data: attrs}
		replies, err = g.c.Execute(ctx, f.ID, req, 0)
		if errors.Is(err, syscall.ENOENT) && attempt == 0 {
			g.c.ForgetFamily(FamilyName)
			continue
		}
		if err != nil {
			return genl.Message{}, fmt.Errorf("hello: %s: %w", what, err)
		}
		break
	}
	var out []genl.Message
	for _, m := range replies {
		if Command(m.Header.Command) == cmd {
			out = append(out, m)
		}
	}
	if len(out) != 1 {
		return genl.Message{}, fmt.Errorf("hello: %s: kernel sent %d replies with command %v, want 1", what, len(out), cmd)
	}
	return out[0], nil
}
