package main

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// checkFlood: many goroutines, each with its own socket, send hellos with a
// window of outstanding requests; every one must be answered exactly once
// and in order. Meanwhile packets go out of the interface to one listener;
// the counters must account for every packet exactly once.
func checkFlood(e *env) error {
	idx, err := prepareIface(e.ifname)
	if err != nil {
		return err
	}
	s, err := openSock(e.protocol, 0)
	if err != nil {
		return err
	}
	defer s.Close()
	lis, err := openSock(e.protocol, 1<<(groupPackets-1))
	if err != nil {
		return err
	}
	defer lis.Close()
	if err := setRcvbuf(lis, 1<<20); err != nil {
		return err
	}
	if err := lis.setTimeout(200 * time.Millisecond); err != nil {
		return err
	}
	before, err := rawStats(s, 1)
	if err != nil {
		return err
	}

	const window = 16
	start := time.Now()
	errs := make(chan error, e.floodWorkers+2)
	var wg sync.WaitGroup
	for w := 0; w < e.floodWorkers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			errs <- floodWorker(e, uint32(w)<<24, window)
		}(w)
	}

	// Packet traffic alongside.
	stop := make(chan struct{})
	var pktSent, pktGot atomic.Int64
	var side sync.WaitGroup
	side.Add(2)
	go func() {
		defer side.Done()
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
	go func() {
		defer side.Done()
		for {
			_, _, err := lis.recv()
			switch {
			case err == nil:
				pktGot.Add(1)
			case errors.Is(err, unix.ENOBUFS):
			case errors.Is(err, unix.EAGAIN):
				select {
				case <-stop:
					return
				default:
				}
			default:
				errs <- fmt.Errorf("listener: %w", err)
				return
			}
		}
	}()

	wg.Wait()
	elapsed := time.Since(start)
	close(stop)
	side.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	after, err := rawStats(s, 2)
	if err != nil {
		return err
	}
	d := after.sub(before)
	total := uint64(e.floodWorkers * e.floodCount)
	logf("%d workers x %d hellos = %d in %v (%.0f/s); %d packets sent, %d received by the listener",
		e.floodWorkers, e.floodCount, total, elapsed.Round(time.Millisecond),
		float64(total)/elapsed.Seconds(), pktSent.Load(), pktGot.Load())
	logf("counters moved by %v", d)
	if d[statsMsgsReceived] != total+1 || d[statsRepliesSent] != total+1 || d[statsErrorsSent] != 0 {
		return fmt.Errorf("counters moved by %v; want msgs_received and replies_sent +%d, errors +0", d, total+1)
	}
	accounted := d[statsPacketsPassed] + d[statsPacketsDroppedFull] + d[statsPacketsDroppedNomem] + d[statsPacketsDroppedNoListen]
	if accounted != uint64(pktSent.Load()) || d[statsPacketsPassed] != uint64(pktGot.Load()) {
		return fmt.Errorf("%d packets sent, %d received; counters %v", pktSent.Load(), pktGot.Load(), d)
	}
	return nil
}

func floodWorker(e *env, base uint32, window int) error {
	s, err := openSock(e.protocol, 0)
	if err != nil {
		return err
	}
	defer s.Close()
	payload := []byte("Hello world\x00")
	sent, got := 0, 0
	for got < e.floodCount {
		for sent < e.floodCount && sent-got < window {
			if err := s.send(encode(msgHello, fReq, base+uint32(sent), payload)); err != nil {
				return fmt.Errorf("port %d: send %d: %w", s.port, sent, err)
			}
			sent++
		}
		ms, _, err := s.recv()
		if err != nil {
			return fmt.Errorf("port %d: waiting for reply %d: %w", s.port, got, err)
		}
		for _, m := range ms {
			if err := checkHelloReply(m, base+uint32(got)); err != nil {
				return fmt.Errorf("port %d: reply %d (duplicate, lost or out of order): %w", s.port, got, err)
			}
			got++
		}
	}
	return s.expectNothing(50 * time.Millisecond)
}

// checkRmmodBusy: a socket of the module's protocol holds a reference on the
// module (netlink_create takes it), so it cannot be unloaded under it.
func checkRmmodBusy(e *env) error {
	if r := readSys("/sys/module/nlhello/refcnt"); r != "0" {
		return fmt.Errorf("refcnt %q before the check, want 0", r)
	}
	s, err := openSock(e.protocol, 0)
	if err != nil {
		return err
	}
	defer s.Close()
	ref := readSys("/sys/module/nlhello/refcnt")
	err = unloadModule()
	if !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.EBUSY) {
		return fmt.Errorf("rmmod with a protocol %d socket open: %v; want EAGAIN/EBUSY", e.protocol, err)
	}
	logf("socket open: refcnt %s, rmmod -> %v", ref, err)
	m, err := s.request(msgHello, fReq, 1, []byte("still here?\x00"))
	if err != nil {
		return err
	}
	if err := checkHelloReply(m, 1); err != nil {
		return err
	}
	s.Close()
	if r := readSys("/sys/module/nlhello/refcnt"); r != "0" {
		return fmt.Errorf("refcnt %q after close, want 0", r)
	}
	return nil
}

// checkRmmodUnderLoad unloads the module while generic netlink sockets are
// subscribed and sending, packets are going out of the interface, and a UDP
// socket has a route through it; then loads it again. Three rounds.
func checkRmmodUnderLoad(e *env) error {
	for round := 1; round <= 3; round++ {
		if !moduleLoaded() {
			if err := loadModule(e.ko, ""); err != nil {
				return err
			}
		}
		if err := unloadUnderLoad(e, round); err != nil {
			return fmt.Errorf("round %d: %w", round, err)
		}
		if err := loadModule(e.ko, ""); err != nil {
			return fmt.Errorf("round %d: reload: %w", round, err)
		}
		s, err := openSock(e.protocol, 0)
		if err != nil {
			return fmt.Errorf("round %d: after reload: %w", round, err)
		}
		m, err := s.request(msgHello, fReq, 1, []byte("back?\x00"))
		s.Close()
		if err != nil {
			return err
		}
		if err := checkHelloReply(m, 1); err != nil {
			return err
		}
	}
	return nil
}

func unloadUnderLoad(e *env, round int) error {
	idx, err := prepareIface(e.ifname)
	if err != nil {
		return err
	}
	g, fam, err := openGenl()
	if err != nil {
		return err
	}
	defer g.Close()
	if err := g.join(int(fam.Groups[genlMcgrp])); err != nil {
		return err
	}
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
	for i := 0; i < 2; i++ {
		hs, hf, err := openGenl()
		if err != nil {
			return err
		}
		defer hs.Close()
		hs.setTimeout(100 * time.Millisecond)
		req := genlMsg(genlCmdHello, encodeAttr(genlAttrText, []byte("hi\x00")))
		loop(func() error {
			_, err := hs.request(hf.ID, fReq, 1, req)
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
	g.setTimeout(50 * time.Millisecond)
	loop(func() error { _, _, err := g.recv(); return err }, &notes, nil)

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
	wg.Wait()
	if uerr != nil {
		return uerr
	}

	// Everything of the module is gone; the old sockets still work as sockets.
	if _, err := ifIndex(e.ifname); !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("interface after rmmod: %v, want ENODEV", err)
	}
	if _, err := openSock(e.protocol, 0); !errors.Is(err, unix.EPROTONOSUPPORT) {
		return fmt.Errorf("protocol %d socket after rmmod: %v, want EPROTONOSUPPORT", e.protocol, err)
	}
	if _, err := resolveFamily(g, genlName); !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("family %s after rmmod: %v, want ENOENT", genlName, err)
	}
	if _, err := g.drain(); err != nil {
		return err
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
	for _, c := range []struct {
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
		err := loadModule(e.ko, c.params)
		if !errors.Is(err, c.errno) {
			return fmt.Errorf("insmod %s: %v, want %v", c.params, err, c.errno)
		}
		if moduleLoaded() {
			return fmt.Errorf("insmod %s failed but the module is loaded", c.params)
		}
		logf("insmod %-24s -> %v", c.params, c.errno)
	}
	// Nothing leaked: a normal load works.
	if err := loadModule(e.ko, ""); err != nil {
		return err
	}
	s, err := openSock(e.protocol, 0)
	if err != nil {
		return err
	}
	defer s.Close()
	m, err := s.request(msgHello, fReq, 1, []byte("hi\x00"))
	if err != nil {
		return err
	}
	return checkHelloReply(m, 1)
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
	if _, err := openSock(e.protocol, 0); !errors.Is(err, unix.EPROTONOSUPPORT) {
		return fmt.Errorf("protocol %d with protocol=30: %v, want EPROTONOSUPPORT", e.protocol, err)
	}
	s, err := openSock(30, 0)
	if err != nil {
		return err
	}
	m, err := s.request(msgHello, fReq, 1, []byte("hi\x00"))
	if err != nil {
		s.Close()
		return err
	}
	if err := checkHelloReply(m, 1); err != nil {
		s.Close()
		return err
	}
	st, err := rawStats(s, 2)
	s.Close()
	if err != nil {
		return err
	}
	if st[statsMsgsReceived] != 2 || st[statsRepliesSent] != 1 || st[statsPacketsPassed] != 0 {
		return fmt.Errorf("fresh module counters %v; want msgs_received 2, replies_sent 1, rest 0", st)
	}
	logf("ifname=nlre%%d protocol=30: interface nlre0, parameters %q %q, fresh counters %v",
		readSys("/sys/module/nlhello/parameters/ifname"), readSys("/sys/module/nlhello/parameters/protocol"), st)

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
