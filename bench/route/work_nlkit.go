package main

import (
	"context"
	"errors"
	"net/netip"

	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/rtnl"
)

// nlkitWorker uses the typed API: rtnl.Client, rtnl.Batch, rtnl.Subscribe.
type nlkitWorker struct{}

// flushEvery is how many routes the typed install queues per Flush, to
// keep memory flat; nlkit -batch queues 4096.
const flushEvery = 4096

func (nlkitWorker) change(ctx context.Context, a workerArgs, del bool) (workerOut, error) {
	c, err := rtnl.Dial(nil)
	if err != nil {
		return workerOut{}, err
	}
	defer c.Close()
	opts := &netlink.BatchOptions{KeepGoing: true, MaxMessages: a.batchMsgs}
	if a.batchMsgs > 0 {
		opts.MaxBytes = max(64<<10, a.batchMsgs*64) // a route is 60 bytes
	}
	b := c.NewBatch(opts)
	bc := b.Client()
	for i := 0; i < a.n; i++ {
		r := rtnl.Route{Dst: netip.PrefixFrom(routeDst(i), 32), Gateway: gateway, OutIndex: a.ifindex}
		if del {
			err = bc.DeleteRoute(ctx, &r)
		} else {
			err = bc.AddRoute(ctx, &r)
		}
		if err != nil {
			return workerOut{}, err
		}
		if b.Pending() >= max(flushEvery, 4*a.batchMsgs) {
			if err := b.Flush(ctx); err != nil && !errors.As(err, new(*netlink.BatchError)) {
				return workerOut{}, err
			}
		}
	}
	if err := b.Flush(ctx); err != nil && !errors.As(err, new(*netlink.BatchError)) {
		return workerOut{}, err
	}
	fails := int64(len(b.Failures()))
	return workerOut{Count: int64(a.n) - fails, Errors: fails}, nil
}

func (w nlkitWorker) install(ctx context.Context, a workerArgs) (workerOut, error) {
	return w.change(ctx, a, false)
}

func (w nlkitWorker) remove(ctx context.Context, a workerArgs) (workerOut, error) {
	return w.change(ctx, a, true)
}

func (nlkitWorker) dump(ctx context.Context, a workerArgs) (workerOut, error) {
	c, err := rtnl.Dial(nil)
	if err != nil {
		return workerOut{}, err
	}
	defer c.Close()
	var out workerOut
	for r, err := range c.Routes(ctx, &rtnl.RouteFilter{Family: 2, Table: rtnl.TableMain}) {
		if err != nil {
			return out, err
		}
		if isBenchRoute(r.Dst.Addr(), r.Dst.Bits()) {
			out.Count++
		}
	}
	return out, nil
}

func (nlkitWorker) events(ctx context.Context, a workerArgs, ready, seen func()) (workerOut, error) {
	sub, err := rtnl.Subscribe(nil, rtnl.GroupIPv4Route)
	if err != nil {
		return workerOut{}, err
	}
	defer sub.Close()
	ready()
	var out workerOut
	for ev, err := range sub.Events(ctx) {
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			return out, err
		}
		if ev.Lost {
			out.Overrun = true
			continue
		}
		if r := ev.Route; r != nil && !ev.Deleted && isBenchRoute(r.Dst.Addr(), r.Dst.Bits()) {
			out.Count++
			seen()
			if out.Count >= int64(a.n) {
				break
			}
		}
	}
	return out, nil
}

func (nlkitWorker) roundtrip(ctx context.Context, a workerArgs) (workerOut, error) {
	c, err := rtnl.Dial(nil)
	if err != nil {
		return workerOut{}, err
	}
	defer c.Close()
	var out workerOut
	for range a.n {
		l, err := c.LinkByIndex(ctx, a.ifindex)
		if err != nil {
			return out, err
		}
		if l.Index == a.ifindex {
			out.Count++
		}
	}
	return out, nil
}

// nlkitRawWorker iterates the aliased messages of netlink.Conn.Dump and
// reads the fixed header only: no decoding, no allocation per message.
type nlkitRawWorker struct{ nlkitWorker }

func (nlkitRawWorker) dump(ctx context.Context, a workerArgs) (workerOut, error) {
	c, err := netlink.Dial(netlink.Route, nil)
	if err != nil {
		return workerOut{}, err
	}
	defer c.Close()
	req := netlink.Message{Header: netlink.Header{Type: 26}, Data: make([]byte, 12)} // RTM_GETROUTE, struct rtmsg
	req.Data[0] = 2                                                                  // AF_INET
	var out workerOut
	for m, err := range c.Dump(ctx, req) {
		if err != nil {
			return out, err
		}
		// RTM_NEWROUTE, rtm_dst_len 32, rtm_table main: the same test
		// as mnlbench.c's.
		d := m.Data
		if m.Header.Type == 24 && len(d) >= 12 && d[1] == 32 && d[4] == 254 {
			out.Count++
		}
	}
	return out, nil
}
