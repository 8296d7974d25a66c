package rtnl

import (
	"context"
	"errors"

	"github.com/nlkit/nlkit/netlink"
)

// Batch collects change requests and sends them together with
// netlink.Conn.ExecuteBatch: thousands of routes or addresses in a few
// system calls instead of one round trip each.
//
//	b := c.NewBatch(nil)
//	bc := b.Client()
//	for _, r := range routes {
//		bc.AddRoute(ctx, r) // queued: returns validation errors only
//	}
//	err := b.Flush(ctx) // a *netlink.BatchError lists failures by index
//
// The Client from b.Client has every method of a Client. Change requests
// (Add*, Replace*, Append*, Delete*, SetLink) are validated and queued, and
// return nil; reads (lists, lookups) first send what is queued, so they
// see its effect. Interface names resolved through it are cached until a
// queued link change could alter them. A Batch is not safe for concurrent
// use.
type Batch struct {
	parent  *Client
	client  *Client
	opts    netlink.BatchOptions
	queue   []netlink.Message
	flushed int // messages sent by earlier flushes
	failed  []netlink.BatchFailure
	names   map[string]int32
}

// NewBatch returns an empty batch on c's Conn. opts (nil for defaults)
// chooses between stopping after a failure and keeping going.
//
// Equivalent to: `ip -batch FILE` (with `-force` for KeepGoing).
func (c *Client) NewBatch(opts *netlink.BatchOptions) *Batch {
	b := &Batch{parent: c, names: map[string]int32{}}
	if opts != nil {
		b.opts = *opts
	}
	b.client = &Client{c: c.c, cfg: c.cfg, batch: b}
	return b
}

// Client returns the Client whose change requests go into the batch.
func (b *Batch) Client() *Client { return b.client }

// Queued returns the number of requests queued so far, sent or not: the
// index the next request will have in BatchFailure.Index.
func (b *Batch) Queued() int { return b.flushed + len(b.queue) }

// Pending returns the number of queued requests not yet sent.
func (b *Batch) Pending() int { return len(b.queue) }

// Failures returns the failures of everything sent so far.
func (b *Batch) Failures() []netlink.BatchFailure { return b.failed }

func (b *Batch) add(m netlink.Message) {
	// Link changes may rename or remove interfaces.
	if t := uint16(m.Header.Type); t == msgNewLink || t == msgDelLink || t == msgSetLink {
		clear(b.names)
	}
	b.queue = append(b.queue, m)
}

// Flush sends every queued request. It returns a *netlink.BatchError if
// any request sent so far by this batch failed (Index counts from the
// batch's first request), or another error if sending failed. Without
// KeepGoing, nothing more is sent after a failure: Flush returns the
// error again and Pending stays non-zero.
//
// Equivalent to: the end of `ip -batch FILE`.
func (b *Batch) Flush(ctx context.Context) error {
	if err := b.flush(ctx); err != nil {
		return err
	}
	if len(b.failed) > 0 {
		return &netlink.BatchError{Failures: b.failed, Sent: b.flushed, Total: b.Queued()}
	}
	return nil
}

func (b *Batch) flush(ctx context.Context) error {
	if len(b.queue) == 0 || (len(b.failed) > 0 && !b.opts.KeepGoing) {
		return nil
	}
	sent, err := b.parent.c.ExecuteBatch(ctx, b.queue, &b.opts)
	var be *netlink.BatchError
	if errors.As(err, &be) {
		for _, f := range be.Failures {
			f.Index += b.flushed
			b.failed = append(b.failed, f)
		}
		err = nil
	}
	b.flushed += sent
	b.queue = append(b.queue[:0], b.queue[sent:]...)
	return err
}

// beforeRead sends queued requests so that a read sees them.
func (c *Client) beforeRead(ctx context.Context) error {
	if c.batch == nil {
		return nil
	}
	return c.batch.flush(ctx)
}
