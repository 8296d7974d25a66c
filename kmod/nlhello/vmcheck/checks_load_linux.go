package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nlkit/nlkit/hello"
	"github.com/nlkit/nlkit/netlink"
)

// checkFlood: many goroutines, each with its own hello.Client, say hello
// over and over; every hello must be answered exactly once (Execute
// returns exactly one reply, and no Conn ever sees a stale or spoofed
// message). Meanwhile packets go out of the interface to a subscriber;
// the counters must account for every packet exactly once.
func checkFlood(e *env) error {
	idx, err := prepareIface(e.ifname)
	if err != nil {
		return err
	}
	c, err := client(e)
	if err != nil {
		return err
	}
	defer c.Close()
	sub, err := hello.Watch(e.protocol, &netlink.Config{ReceiveBuffer: 1 << 20, ForceReceiveBuffer: true})
	if err != nil {
		return err
	}
	defer sub.Close()
	before, err := stats(c)
	if err != nil {
		return err
	}

	start := time.Now()
	errs := make(chan error, e.floodWorkers+2)
	var wg sync.WaitGroup
	for range e.floodWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- floodWorker(e)
		}()
	}

	// Packet traffic alongside, and a subscriber counting it.
	stop := make(chan struct{})
	var pktSent, pktGot, overruns atomic.Int64
	var sender, subscriber sync.WaitGroup
	sender.Add(1)
	go func() {
		defer sender.Done()
		p, err := newPktSender(idx)
		if err != nil {
			errs <- err
			return
		}
		defer p.Close()
		data := make([]byte, 300)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := p.send(unix.ETH_P_IP, data); err != nil {
				errs <- fmt.Errorf("packet send: %w", err)
				return
			}
			pktSent.Add(1)
			time.Sleep(200 * time.Microsecond)
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	subscriber.Add(1)
	go func() {
		defer subscriber.Done()
		for _, err := range sub.Packets(ctx) {
			switch {
			case err == nil:
				pktGot.Add(1)
			case errors.Is(err, netlink.ErrOverrun):
				overruns.Add(1)
			case ctx.Err() != nil:
				return
			default:
				errs <- fmt.Errorf("subscriber: %w", err)
				return
			}
		}
	}()

	wg.Wait()
	elapsed := time.Since(start)
	close(stop)
	sender.Wait()
	// Let the subscriber read what is queued: the counters say how many
	// it must get.
	after, err := stats(c)
	if err != nil {
		return err
	}
	d := after.Sub(before)
	want := int64(d.PacketsPassed)
	for t0 := time.Now(); pktGot.Load() < want && time.Since(t0) < 5*time.Second; {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	subscriber.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	total := uint64(e.floodWorkers * e.floodCount)
	logf("%d clients x %d hellos = %d in %v (%.0f/s); %d packets sent, %d received by the subscriber, %d overruns",
		e.floodWorkers, e.floodCount, total, elapsed.Round(time.Millisecond),
		float64(total)/elapsed.Seconds(), pktSent.Load(), pktGot.Load(), overruns.Load())
	logf("counters moved by %v", fmtStats(d))
	// +1: the second stats request; its reply is counted after the snapshot,
	// the first one's reply before.
	if d.MsgsReceived != total+1 || d.RepliesSent != total+1 || d.ErrorsSent != 0 {
		return fmt.Errorf("counters moved by %v; want msgs_received and replies_sent +%d, errors +0", fmtStats(d), total+1)
	}
	accounted := d.PacketsPassed + d.PacketsDroppedBufferFull + d.PacketsDroppedNoMem + d.PacketsDroppedNoListener
	if accounted != uint64(pktSent.Load()) || pktGot.Load() != want {
		return fmt.Errorf("%d packets sent, %d received; counters %v", pktSent.Load(), pktGot.Load(), fmtStats(d))
	}
	return nil
}

func floodWorker(e *env) error {
	c, err := client(e)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for i := range e.floodCount {
		reply, err := c.Hello(ctx, "Hello world")
		if err != nil {
			return fmt.Errorf("port %d: hello %d: %w", c.Conn().PortID(), i, err)
		}
		if reply != hello.ReplyText {
			return fmt.Errorf("port %d: hello %d: reply %q", c.Conn().PortID(), i, reply)
		}
	}
	if st := c.Conn().Stats(); st != (netlink.Stats{}) {
		return fmt.Errorf("port %d: the Conn skipped messages (duplicate or stray replies): %+v", c.Conn().PortID(), st)
	}
	return nothingMore(c.Conn(), 50*time.Millisecond)
}

// checkRmmodBusy: a socket of the module's protocol holds a reference on the
// module (netlink_create takes it), so it cannot be unloaded under it.
func checkRmmodBusy(e *env) error {
	if r := readSys("/sys/module/nlhello/refcnt"); r != "0" {
		return fmt.Errorf("refcnt %q before the check, want 0", r)
	}
	c, err := client(e)
	if err != nil {
		return err
	}
	defer c.Close()
	ref := readSys("/sys/module/nlhello/refcnt")
	err = unloadModule()
	if !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.EBUSY) {
		return fmt.Errorf("rmmod with a hello.Client open: %v; want EAGAIN/EBUSY", err)
	}
	logf("hello.Client open: refcnt %s, rmmod -> %v", ref, err)
	if err := sayHello(c, "still here?"); err != nil {
		return err
	}
	c.Close()
	if r := readSys("/sys/module/nlhello/refcnt"); r != "0" {
		return fmt.Errorf("refcnt %q after close, want 0", r)
	}
	return nil
}

// checkRmmodUnderLoad unloads the module while generic netlink clients
// are subscribed and sending, packets are going out of the interface, and
// a UDP socket has a route through it; then loads it again. Three rounds.
// A GenericClient opened before the unload works again after the reload
// (it resolves the family's new ID).
func checkRmmodUnderLoad(e *env) error {
	survivor, err := genericClient()
	if err != nil {
		return err
	}
	defer survivor.Close()
	for round := 1; round <= 3; round++ {
		if !moduleLoaded() {
			if err := loadModule(e.ko, ""); err != nil {
				return err
			}
		}
		if err := unloadUnderLoad(e, round, survivor); err != nil {
			return fmt.Errorf("round %d: %w", round, err)
		}
		if err := loadModule(e.ko, ""); err != nil {
			return fmt.Errorf("round %d: reload: %w", round, err)
		}
		c, err := client(e)
		if err != nil {
			return fmt.Errorf("round %d: after reload: %w", round, err)
		}
		err = sayHello(c, "back?")
		c.Close()
		if err != nil {
			return err
		}
		if err := sayHello(survivor, "back?"); err != nil {
			return fmt.Errorf("round %d: GenericClient from before the unload: %w", round, err)
		}
	}
	return nil
}

func unloadUnderLoad(e *env, round int, survivor *hello.GenericClient) error {
	idx, err := prepareIface(e.ifname)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub, err := hello.WatchGeneric(ctx, nil)
	if err != nil {
		return err
	}
	defer sub.Close()
	tap, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
	if err != nil {
		return err
	}
	defer unix.Close(tap)
	if err := unix.Bind(tap, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: idx}); err != nil {
		return fmt.Errorf("bind AF_PACKET: %w", err)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var hellos, pkts, udps, notes, helloErrs atomic.Int64
	loop := func(f func() error, ok, bad *atomic.Int64) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if f() == nil {
					ok.Add(1)
				} else if bad != nil {
					bad.Add(1)
				}
			}
		}()
	}
	for range 2 {
		g, err := genericClient()
		if err != nil {
			return err
		}
		defer g.Close()
		loop(func() error {
			ctx, cancel := timeout(time.Second)
			defer cancel()
			_, err := g.Hello(ctx, "hi")
			return err
		}, &hellos, &helloErrs)
	}
	p, err := newPktSender(idx)
	if err != nil {
		return err
	}
	defer p.Close()
	loop(func() error { return p.send(unix.ETH_P_IP, make([]byte, 100)) }, &pkts, nil)
	u, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(u)
	loop(func() error { return unix.Sendto(u, []byte("udp"), 0, &udpPeer) }, &udps, nil)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, err := range sub.Packets(ctx) {
			if err == nil {
				notes.Add(1)
			}
			if ctx.Err() != nil {
				return
			}
		}
	}()

	time.Sleep(300 * time.Millisecond)
	t0 := time.Now()
	var uerr error
	for {
		uerr = unloadModule()
		if !errors.Is(uerr, unix.EAGAIN) || time.Since(t0) > 5*time.Second {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	unloadTime := time.Since(t0)
	time.Sleep(200 * time.Millisecond)
	close(stop)
	cancel()
	wg.Wait()
	if uerr != nil {
		return uerr
	}

	// Everything of the module is gone, and the library says so.
	if _, err := ifIndex(e.ifname); !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("interface after rmmod: %v, want ENODEV", err)
	}
	if _, err := hello.Dial(e.protocol, nil); !errors.Is(err, hello.ErrNotLoaded) || !errors.Is(err, unix.EPROTONOSUPPORT) {
		return fmt.Errorf("hello.Dial after rmmod: %v, want ErrNotLoaded (EPROTONOSUPPORT)", err)
	} else if round == 1 {
		logf("hello.Dial after rmmod -> %v", err)
	}
	gctx, gcancel := timeout(0)
	defer gcancel()
	if _, err := survivor.Hello(gctx, "gone?"); !errors.Is(err, hello.ErrNotLoaded) || !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("GenericClient.Hello after rmmod: %v, want ErrNotLoaded (ENOENT)", err)
	} else if round == 1 {
		logf("GenericClient.Hello after rmmod -> %v", err)
	}
	if err := p.send(unix.ETH_P_IP, []byte("gone")); err == nil {
		return errors.New("AF_PACKET send to the removed interface succeeded")
	}
	logf("round %d: rmmod took %v under load (%d genl hellos ok, %d failed; %d AF_PACKET and %d UDP sends; %d genl notifications)",
		round, unloadTime.Round(time.Microsecond), hellos.Load(), helloErrs.Load(), pkts.Load(), udps.Load(), notes.Load())
	return nil
}

func checkInsmodBadParams(e *env) error {
	if moduleLoaded() {
		if err := unloadModule(); err != nil {
			return err
		}
	}
	for _, tc := range []struct {
		params string
		errno  unix.Errno
	}{
		{"protocol=32", unix.EINVAL},
		{"protocol=-1", unix.EINVAL},
		{"protocol=0", unix.EBUSY},  // NETLINK_ROUTE
		{"protocol=16", unix.EBUSY}, // NETLINK_GENERIC
		{"ifname=bad/name", unix.EINVAL},
		{"ifname=0123456789abcdef", unix.EINVAL}, // IFNAMSIZ is 16 with the NUL
		{"ifname=lo", unix.EEXIST},
		{"protocol=notanumber", unix.EINVAL},
	} {
		err := loadModule(e.ko, tc.params)
		if !errors.Is(err, tc.errno) {
			return fmt.Errorf("insmod %s: %v, want %v", tc.params, err, tc.errno)
		}
		if moduleLoaded() {
			return fmt.Errorf("insmod %s failed but the module is loaded", tc.params)
		}
		logf("insmod %-24s -> %v", tc.params, tc.errno)
	}
	// Nothing leaked: a normal load works.
	if err := loadModule(e.ko, ""); err != nil {
		return err
	}
	c, err := client(e)
	if err != nil {
		return err
	}
	defer c.Close()
	return sayHello(c, "hi")
}

func checkInsmodParams(e *env) error {
	if moduleLoaded() {
		if err := unloadModule(); err != nil {
			return err
		}
	}
	if err := loadModule(e.ko, "ifname=nlre%d protocol=30"); err != nil {
		return err
	}
	if _, err := ifIndex("nlre0"); err != nil {
		return err
	}
	if _, err := ifIndex(e.ifname); !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("%s with ifname=nlre%%d: %v, want ENODEV", e.ifname, err)
	}
	if _, err := hello.Dial(e.protocol, nil); !errors.Is(err, hello.ErrNotLoaded) {
		return fmt.Errorf("protocol %d with protocol=30: %v, want ErrNotLoaded", e.protocol, err)
	}
	c, err := hello.Dial(30, nil)
	if err != nil {
		return err
	}
	err = sayHello(c, "hi")
	var st hello.Stats
	if err == nil {
		st, err = stats(c)
	}
	c.Close()
	if err != nil {
		return err
	}
	if err := statsEqual(st, hello.Stats{MsgsReceived: 2, RepliesSent: 1}); err != nil {
		return fmt.Errorf("fresh module: %w", err)
	}
	logf("ifname=nlre%%d protocol=30: interface nlre0, parameters %q %q, fresh counters %v",
		readSys("/sys/module/nlhello/parameters/ifname"), readSys("/sys/module/nlhello/parameters/protocol"), fmtStats(st))

	// Back to the defaults for whatever runs next.
	if err := unloadModule(); err != nil {
		return err
	}
	if err := loadModule(e.ko, ""); err != nil {
		return err
	}
	if _, err := ifIndex(e.ifname); err != nil {
		return err
	}
	return nil
}
