package main

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/jsimonetti/rtnetlink/v2"
	mdnetlink "github.com/mdlayher/netlink"
	vnl "github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// vishWorker uses vishvananda/netlink through a Handle (one socket kept
// open), one request per route: the library has no batching. Dumps use
// RouteListFilteredIter, its streaming variant.
type vishWorker struct{}

func vishRoute(a workerArgs, i int) *vnl.Route {
	d := routeDst(i).As4()
	g := gateway.As4()
	return &vnl.Route{
		LinkIndex: int(a.ifindex),
		Dst:       &net.IPNet{IP: net.IP(d[:]), Mask: net.CIDRMask(32, 32)},
		Gw:        net.IP(g[:]),
	}
}

func (vishWorker) change(a workerArgs, del bool) (workerOut, error) {
	h, err := vnl.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return workerOut{}, err
	}
	defer h.Close()
	var out workerOut
	for i := 0; i < a.n; i++ {
		if del {
			err = h.RouteDel(vishRoute(a, i))
		} else {
			err = h.RouteAdd(vishRoute(a, i))
		}
		if err != nil {
			out.Errors++
			continue
		}
		out.Count++
	}
	return out, nil
}

func (w vishWorker) install(_ context.Context, a workerArgs) (workerOut, error) {
	return w.change(a, false)
}

func (w vishWorker) remove(_ context.Context, a workerArgs) (workerOut, error) {
	return w.change(a, true)
}

func (vishWorker) dump(_ context.Context, a workerArgs) (workerOut, error) {
	h, err := vnl.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return workerOut{}, err
	}
	defer h.Close()
	var out workerOut
	err = h.RouteListFilteredIter(vnl.FAMILY_V4, &vnl.Route{Table: unix.RT_TABLE_MAIN}, vnl.RT_FILTER_TABLE, func(r vnl.Route) bool {
		if r.Dst != nil {
			if ones, _ := r.Dst.Mask.Size(); ones == 32 && r.Dst.IP.To4() != nil && r.Dst.IP.To4()[0] == 11 {
				out.Count++
			}
		}
		return true
	})
	return out, err
}

func (vishWorker) events(ctx context.Context, a workerArgs, ready, seen func()) (workerOut, error) {
	ch := make(chan vnl.RouteUpdate, 1024)
	done := make(chan struct{})
	defer close(done)
	var out workerOut
	errc := make(chan error, 16)
	// Default settings: the library's receive buffer.
	err := vnl.RouteSubscribeWithOptions(ch, done, vnl.RouteSubscribeOptions{
		ErrorCallback: func(err error) {
			select {
			case errc <- err:
			default:
			}
		},
	})
	if err != nil {
		return out, err
	}
	ready()
	for {
		select {
		case <-ctx.Done():
			return out, nil
		case err := <-errc:
			// An overrun ends the subscription: the library closes ch.
			if errors.Is(err, unix.ENOBUFS) || err != nil {
				out.Overrun = true
			}
		case u, ok := <-ch:
			if !ok {
				// Subscription ended (after an overrun): nothing more comes.
				<-ctx.Done()
				return out, nil
			}
			if u.Type != unix.RTM_NEWROUTE || u.Route.Dst == nil {
				continue
			}
			if ones, _ := u.Route.Dst.Mask.Size(); ones == 32 && u.Route.Dst.IP.To4() != nil && u.Route.Dst.IP.To4()[0] == 11 {
				out.Count++
				seen()
				if out.Count >= int64(a.n) {
					return out, nil
				}
			}
		}
	}
}

func (vishWorker) roundtrip(_ context.Context, a workerArgs) (workerOut, error) {
	h, err := vnl.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return workerOut{}, err
	}
	defer h.Close()
	var out workerOut
	for range a.n {
		l, err := h.LinkByIndex(int(a.ifindex))
		if err != nil {
			return out, err
		}
		if l.Attrs().Index == int(a.ifindex) {
			out.Count++
		}
	}
	return out, nil
}

// jsimWorker uses jsimonetti/rtnetlink/v2 (on mdlayher/netlink), one
// request per route; its route listing returns a slice.
type jsimWorker struct{}

func jsimRoute(a workerArgs, i int, del bool) *rtnetlink.RouteMessage {
	d := routeDst(i).As4()
	g := gateway.As4()
	m := &rtnetlink.RouteMessage{
		Family:    unix.AF_INET,
		DstLength: 32,
		Table:     unix.RT_TABLE_MAIN,
		Protocol:  unix.RTPROT_BOOT,
		Scope:     unix.RT_SCOPE_UNIVERSE,
		Type:      unix.RTN_UNICAST,
		Attributes: rtnetlink.RouteAttributes{
			Dst:      net.IP(d[:]),
			Gateway:  net.IP(g[:]),
			OutIface: uint32(a.ifindex),
		},
	}
	if del {
		m.Protocol, m.Scope, m.Type = 0, unix.RT_SCOPE_NOWHERE, 0
	}
	return m
}

func (jsimWorker) change(a workerArgs, del bool) (workerOut, error) {
	c, err := rtnetlink.Dial(nil)
	if err != nil {
		return workerOut{}, err
	}
	defer c.Close()
	var out workerOut
	for i := 0; i < a.n; i++ {
		if del {
			err = c.Route.Delete(jsimRoute(a, i, true))
		} else {
			err = c.Route.Add(jsimRoute(a, i, false))
		}
		if err != nil {
			out.Errors++
			continue
		}
		out.Count++
	}
	return out, nil
}

func (w jsimWorker) install(_ context.Context, a workerArgs) (workerOut, error) {
	return w.change(a, false)
}

func (w jsimWorker) remove(_ context.Context, a workerArgs) (workerOut, error) {
	return w.change(a, true)
}

func (jsimWorker) dump(_ context.Context, a workerArgs) (workerOut, error) {
	c, err := rtnetlink.Dial(nil)
	if err != nil {
		return workerOut{}, err
	}
	defer c.Close()
	routes, err := c.Route.ListMatch(&rtnetlink.RouteMessage{Family: unix.AF_INET})
	if err != nil {
		return workerOut{}, err
	}
	var out workerOut
	for _, r := range routes {
		if r.DstLength == 32 && r.Table == unix.RT_TABLE_MAIN && len(r.Attributes.Dst.To4()) == 4 && r.Attributes.Dst.To4()[0] == 11 {
			out.Count++
		}
	}
	return out, nil
}

func (jsimWorker) events(ctx context.Context, a workerArgs, ready, seen func()) (workerOut, error) {
	c, err := rtnetlink.Dial(&mdnetlink.Config{Groups: unix.RTMGRP_IPV4_ROUTE})
	if err != nil {
		return workerOut{}, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { _ = c.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	ready()
	var out workerOut
	for out.Count < int64(a.n) {
		msgs, raw, err := c.Receive()
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if errors.Is(err, unix.ENOBUFS) {
				out.Overrun = true
				continue
			}
			return out, err
		}
		for i, m := range msgs {
			r, ok := m.(*rtnetlink.RouteMessage)
			if !ok || raw[i].Header.Type != unix.RTM_NEWROUTE || r.DstLength != 32 || r.Table != unix.RT_TABLE_MAIN {
				continue
			}
			if d := r.Attributes.Dst.To4(); len(d) == 4 && d[0] == 11 {
				out.Count++
				seen()
			}
		}
	}
	return out, nil
}

func (jsimWorker) roundtrip(_ context.Context, a workerArgs) (workerOut, error) {
	c, err := rtnetlink.Dial(nil)
	if err != nil {
		return workerOut{}, err
	}
	defer c.Close()
	var out workerOut
	for range a.n {
		l, err := c.Link.Get(uint32(a.ifindex))
		if err != nil {
			return out, err
		}
		if l.Index == uint32(a.ifindex) {
			out.Count++
		}
	}
	return out, nil
}
