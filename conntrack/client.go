package conntrack

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"syscall"
	"time"

	"github.com/nlkit/nlkit/netfilter"
	"github.com/nlkit/nlkit/netlink"
)

// Client lists and changes the conntrack table of one network namespace
// over a netfilter socket. It is safe for concurrent use; requests are
// serialized on its socket.
type Client struct {
	c *netfilter.Conn
}

// Dial opens a netfilter socket with cfg (nil for the defaults; NetNS for
// another namespace's table).
func Dial(cfg *netlink.Config) (*Client, error) {
	c, err := netfilter.Dial(cfg)
	if err != nil {
		return nil, err
	}
	return &Client{c: c}, nil
}

// NewClient returns a Client on an open netfilter Conn (for example one on
// a fake kernel). The Client takes ownership of c.
func NewClient(c *netfilter.Conn) *Client { return &Client{c: c} }

// Conn returns the underlying netfilter Conn.
func (c *Client) Conn() *netfilter.Conn { return c.c }

// Close closes the socket.
func (c *Client) Close() error { return c.c.Close() }

func message(typ uint8, family netfilter.Family, attrs []byte) netfilter.Message {
	return netfilter.Message{
		Type:   netfilter.NewMessageType(netfilter.SubsysCTNetlink, typ),
		Header: netfilter.Header{Family: family, Version: netfilter.Version0},
		Data:   attrs,
	}
}

// normalize unmaps IPv4-mapped IPv6 addresses, as the kernel keeps IPv4
// flows with 4-byte addresses.
func (t Tuple) normalize() Tuple {
	t.Src, t.Dst = t.Src.Unmap(), t.Dst.Unmap()
	return t
}

// ParseFlow decodes a ctnetlink message (from a dump, a get or an event)
// into a Flow that owns its memory.
func ParseFlow(m netfilter.Message) (*Flow, error) {
	f := new(Flow)
	if err := f.UnmarshalBinary(m.Data); err != nil {
		return nil, err
	}
	return f, nil
}

// Flows streams the flows that pass filter (nil for all, of both
// families), decoded one at a time; see Filter for what the kernel
// filters. Breaking out early is allowed. A dump that saw the table
// change ends with an error matching netlink.ErrDumpInterrupted: list
// again for a consistent view.
//
// Equivalent to: `conntrack -L -f ipv4 -m MARK/MASK -w ZONE`.
func (c *Client) Flows(ctx context.Context, filter *Filter) iter.Seq2[*Flow, error] {
	return func(yield func(*Flow, error) bool) {
		e := netfilter.NewAttributeEncoder()
		filter.encode(e)
		attrs, err := e.Encode()
		if err != nil {
			yield(nil, fmt.Errorf("conntrack: encode filter: %w", err))
			return
		}
		for m, err := range c.c.Dump(ctx, message(msgGet, filter.family(), attrs)) {
			if err != nil {
				yield(nil, fmt.Errorf("conntrack: list flows: %w", err))
				return
			}
			if m.Type != netfilter.NewMessageType(netfilter.SubsysCTNetlink, msgNew) {
				continue
			}
			f, err := ParseFlow(m)
			if err != nil {
				yield(nil, err)
				return
			}
			if !filter.Match(f) {
				continue
			}
			if !yield(f, nil) {
				return
			}
		}
	}
}

// List returns the flows that pass filter (nil for all), in the kernel's
// (hash) order.
//
// Equivalent to: `conntrack -L`.
func (c *Client) List(ctx context.Context, filter *Filter) ([]*Flow, error) {
	var out []*Flow
	for f, err := range c.Flows(ctx, filter) {
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// tupleRequest encodes a request naming one flow by its original tuple
// and zone, with optional extra attributes.
func tupleRequest(t Tuple, zone uint16, extra func(e *netlink.AttributeEncoder)) ([]byte, error) {
	e := netfilter.NewAttributeEncoder()
	e.Nested(ctaTupleOrig, t.encode)
	if zone != 0 {
		e.Uint16BE(ctaZone, zone)
	}
	if extra != nil {
		extra(e)
	}
	return e.Encode()
}

// Get returns the flow whose original tuple is t, in zone (0 for the
// default zone). A missing flow fails with an error matching
// syscall.ENOENT.
//
// Equivalent to: `conntrack -G -p PROTO -s SRC -d DST --sport S --dport D`.
func (c *Client) Get(ctx context.Context, t Tuple, zone uint16) (*Flow, error) {
	t = t.normalize()
	if err := t.check("original tuple"); err != nil {
		return nil, fmt.Errorf("conntrack: get flow: %w", err)
	}
	attrs, err := tupleRequest(t, zone, nil)
	if err != nil {
		return nil, fmt.Errorf("conntrack: get flow: %w", err)
	}
	replies, err := c.c.Execute(ctx, message(msgGet, t.Family(), attrs), 0)
	if err != nil {
		return nil, fmt.Errorf("conntrack: get flow: %w", err)
	}
	for _, r := range replies {
		if r.Type.Message() == msgNew {
			return ParseFlow(r)
		}
	}
	return nil, fmt.Errorf("conntrack: get flow: the kernel sent no flow")
}

// Create adds f to the table: its original tuple, its reply tuple (the
// reverse of the original if f.Reply has no addresses), timeout
// (required), and, when set, status bits, mark, zone, TCP state and
// labels. A flow that exists already fails with an error matching
// syscall.EEXIST. Nothing is sent if f is incomplete (the error matches
// ErrIncomplete).
//
// Equivalent to: `conntrack -I -p PROTO -s SRC -d DST --sport S --dport D -t TIMEOUT`.
func (c *Client) Create(ctx context.Context, f *Flow) error {
	nf := *f
	nf.Original = f.Original.normalize()
	if !nf.Reply.Src.IsValid() && !nf.Reply.Dst.IsValid() {
		nf.Reply = nf.Original.Reverse()
	}
	nf.Reply = nf.Reply.normalize()
	if err := nf.checkCreate(); err != nil {
		return fmt.Errorf("conntrack: create flow: %w", err)
	}
	e := netfilter.NewAttributeEncoder()
	nf.encode(e, encodeCreate)
	attrs, err := e.Encode()
	if err != nil {
		return fmt.Errorf("conntrack: create flow: %w", err)
	}
	if _, err := c.c.Execute(ctx, message(msgNew, nf.Family(), attrs), netlink.Create|netlink.Excl); err != nil {
		return fmt.Errorf("conntrack: create flow: %w", err)
	}
	return nil
}

func (f *Flow) checkCreate() error {
	if err := f.Original.check("original tuple"); err != nil {
		return err
	}
	if err := f.Reply.check("reply tuple"); err != nil {
		return err
	}
	switch {
	case f.Original.Family() != f.Reply.Family():
		return fmt.Errorf("%w: original and reply tuples are of different families", ErrIncomplete)
	case f.Original.Proto != f.Reply.Proto:
		return fmt.Errorf("%w: original and reply tuples have different protocols", ErrIncomplete)
	case f.Timeout < time.Second:
		return fmt.Errorf("%w: missing timeout (at least one second)", ErrIncomplete)
	case f.Timeout/time.Second > 1<<32-1:
		return fmt.Errorf("conntrack: timeout %v is too long", f.Timeout)
	case f.TCP != nil && f.Original.Proto != ProtoTCP:
		return fmt.Errorf("%w: TCP state given for a %s flow", ErrIncomplete, f.Original.Proto)
	case f.Labels != nil && len(f.Labels) > labelsLen:
		return fmt.Errorf("conntrack: labels of %d bytes, at most %d", len(f.Labels), labelsLen)
	}
	return nil
}

// Change says what Update changes in an existing flow; nil fields are
// left as they are.
type Change struct {
	Mark *uint32 // CTA_MARK
	// Timeout restarts the flow's timer (CTA_TIMEOUT, whole seconds).
	Timeout *time.Duration
	// Status is the flow's new status (CTA_STATUS; CONFIRMED is added).
	// The kernel only lets SEEN_REPLY, ASSURED and a few others be set,
	// never cleared: a status lacking a bit the flow has fails with EBUSY.
	Status *Status
	// Labels sets the label bits in LabelsMask to their value in Labels
	// (CTA_LABELS, CTA_LABELS_MASK); a nil mask means all bits.
	Labels, LabelsMask []byte
}

// Update changes the flow whose original tuple is t, in zone (0 for the
// default zone). A missing flow fails with an error matching
// syscall.ENOENT.
//
// Equivalent to: `conntrack -U -p PROTO -s SRC -d DST --sport S --dport D -m MARK`.
func (c *Client) Update(ctx context.Context, t Tuple, zone uint16, ch Change) error {
	t = t.normalize()
	if err := t.check("original tuple"); err != nil {
		return fmt.Errorf("conntrack: update flow: %w", err)
	}
	if ch.Timeout != nil && (*ch.Timeout < 0 || *ch.Timeout/time.Second > 1<<32-1) {
		return fmt.Errorf("conntrack: update flow: timeout %v out of range", *ch.Timeout)
	}
	if len(ch.Labels) > labelsLen || len(ch.LabelsMask) > labelsLen {
		return fmt.Errorf("conntrack: update flow: labels of more than %d bytes", labelsLen)
	}
	attrs, err := tupleRequest(t, zone, func(e *netlink.AttributeEncoder) {
		if ch.Mark != nil {
			e.Uint32(ctaMark, *ch.Mark)
		}
		if ch.Timeout != nil {
			e.Uint32(ctaTimeout, uint32(*ch.Timeout/time.Second))
		}
		if ch.Status != nil {
			e.Uint32(ctaStatus, uint32(*ch.Status|StatusConfirmed))
		}
		if ch.Labels != nil {
			e.Bytes(ctaLabels, ch.Labels)
			mask := ch.LabelsMask
			if mask == nil {
				mask = make([]byte, len(ch.Labels))
				for i := range mask {
					mask[i] = 0xff
				}
			}
			e.Bytes(ctaLabelsMask, mask)
		}
	})
	if err != nil {
		return fmt.Errorf("conntrack: update flow: %w", err)
	}
	if _, err := c.c.Execute(ctx, message(msgNew, t.Family(), attrs), 0); err != nil {
		return fmt.Errorf("conntrack: update flow: %w", err)
	}
	return nil
}

// Delete removes the flow whose original tuple is t, in zone (0 for the
// default zone). A missing flow fails with an error matching
// syscall.ENOENT.
//
// Equivalent to: `conntrack -D -p PROTO -s SRC -d DST --sport S --dport D`.
func (c *Client) Delete(ctx context.Context, t Tuple, zone uint16) error {
	return c.delete(ctx, t, zone, 0)
}

// DeleteFlow removes f, found by its original tuple and zone; if f.ID is
// set the kernel deletes it only if it is still the same entry (not one
// created since with the same tuple), and fails with ENOENT otherwise.
//
// Equivalent to: `conntrack -D ... ` on one listed entry.
func (c *Client) DeleteFlow(ctx context.Context, f *Flow) error {
	return c.delete(ctx, f.Original, f.Zone, f.ID)
}

func (c *Client) delete(ctx context.Context, t Tuple, zone uint16, id uint32) error {
	t = t.normalize()
	if err := t.check("original tuple"); err != nil {
		return fmt.Errorf("conntrack: delete flow: %w", err)
	}
	attrs, err := tupleRequest(t, zone, func(e *netlink.AttributeEncoder) {
		if id != 0 {
			e.Uint32(ctaID, id)
		}
	})
	if err != nil {
		return fmt.Errorf("conntrack: delete flow: %w", err)
	}
	if _, err := c.c.Execute(ctx, message(msgDelete, t.Family(), attrs), 0); err != nil {
		return fmt.Errorf("conntrack: delete flow: %w", err)
	}
	return nil
}

// DeleteID removes the flow with ID id, of either family. The kernel
// finds flows by tuple only, so this lists the table to find the flow
// and deletes it by tuple and ID. A missing flow fails with an error
// matching syscall.ENOENT.
//
// Equivalent to: `conntrack -D --id ID`.
func (c *Client) DeleteID(ctx context.Context, id uint32) error {
	var found *Flow
	for f, err := range c.Flows(ctx, nil) {
		if err != nil {
			return fmt.Errorf("conntrack: delete flow id %d: %w", id, err)
		}
		if f.ID == id {
			found = f
			break
		}
	}
	if found == nil {
		return fmt.Errorf("conntrack: delete flow id %d: %w", id, syscall.ENOENT)
	}
	if err := c.DeleteFlow(ctx, found); err != nil {
		return fmt.Errorf("conntrack: delete flow id %d: %w", id, err)
	}
	return nil
}

// DeleteMatching removes every flow that passes filter (nil for all) and
// returns how many it removed. Flows are listed first, then deleted one
// by one by tuple and ID, so a flow that went away meanwhile (ENOENT) is
// not counted and not an error.
//
// Equivalent to: `conntrack -D -p PROTO -m MARK` (any partial selection).
func (c *Client) DeleteMatching(ctx context.Context, filter *Filter) (int, error) {
	flows, err := c.List(ctx, filter)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, f := range flows {
		err := c.DeleteFlow(ctx, f)
		if errors.Is(err, syscall.ENOENT) {
			continue
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Flush removes every flow that passes filter (nil for all flows of both
// families) in one request, filtered in the kernel by family, mark and
// zone and status. A filter on tuple fields or on zone 0, which the
// kernel cannot apply to a flush, is done as DeleteMatching.
//
// Equivalent to: `conntrack -F` (or `conntrack -F -f ipv6`).
func (c *Client) Flush(ctx context.Context, filter *Filter) error {
	if !filter.kernelOnly() {
		_, err := c.DeleteMatching(ctx, filter)
		return err
	}
	e := netfilter.NewAttributeEncoder()
	filter.encode(e)
	attrs, err := e.Encode()
	if err != nil {
		return fmt.Errorf("conntrack: flush: %w", err)
	}
	m := message(msgDelete, filter.family(), attrs)
	if m.Header.Family != netfilter.FamilyUnspec {
		// ctnetlink flushes every family unless the version is set.
		m.Header.Version = 1
	}
	if _, err := c.c.Execute(ctx, m, 0); err != nil {
		return fmt.Errorf("conntrack: flush: %w", err)
	}
	return nil
}
