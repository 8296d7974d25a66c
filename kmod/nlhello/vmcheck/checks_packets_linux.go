package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nlkit/nlkit/hello"
	"github.com/nlkit/nlkit/netlink"
)

const ethPExperimental = 0x88b5 // IEEE 802 local experimental EtherType

func checkPacketsNoListener(e *env) error {
	idx, err := prepareIface(e.ifname)
	if err != nil {
		return err
	}
	c, err := client(e)
	if err != nil {
		return err
	}
	defer c.Close()
	p, err := newPktSender(idx)
	if err != nil {
		return err
	}
	defer p.Close()
	before, err := stats(c)
	if err != nil {
		return err
	}
	txBefore := txPackets(e.ifname)
	for range 10 {
		if err := p.send(unix.ETH_P_IP, []byte("no one is listening")); err != nil {
			return err
		}
	}
	after, err := stats(c)
	if err != nil {
		return err
	}
	d := after.Sub(before)
	if d.PacketsDroppedNoListener != 10 || d.PacketsPassed != 0 {
		return fmt.Errorf("10 packets without listeners moved the counters by %v", fmtStats(d))
	}
	logf("%s (ifindex %d) up; 10 packets, nobody subscribed -> %v", e.ifname, idx, fmtStats(d))
	if tx := txPackets(e.ifname) - txBefore; tx != 10 {
		return fmt.Errorf("tx_packets moved by %d, want 10", tx)
	}
	fd, err := ioctlSock()
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	info, err := unix.IoctlGetEthtoolDrvinfo(fd, e.ifname)
	if err != nil {
		return fmt.Errorf("ETHTOOL_GDRVINFO: %w", err)
	}
	drv, bus := unix.ByteSliceToString(info.Driver[:]), unix.ByteSliceToString(info.Bus_info[:])
	if drv != "nlhello" || bus != "virtual" {
		return fmt.Errorf("ethtool driver %q bus %q", drv, bus)
	}
	logf("tx_packets +10, ethtool driver %q bus %q, type %s, flags %s", drv, bus,
		readSys("/sys/class/net/"+e.ifname+"/type"), readSys("/sys/class/net/"+e.ifname+"/flags"))
	return nil
}

type sentPacket struct {
	proto uint16
	data  []byte // what went out of the interface (the UDP payload if udp)
	udp   bool   // sent through a UDP socket: IPv4 + UDP headers come first
}

// checkNotification checks a raw notification on the wire (README:
// "PACKET notification"): header, attributes 1-6 in order, size.
func checkNotification(m netlink.Message) error {
	h := m.Header
	if h.Type != hello.MsgPacket || h.Sequence != 0 || h.PID != 0 || h.Flags != 0 {
		return fmt.Errorf("notification header %s", fmtMsg(m))
	}
	var order []hello.PacketAttr
	caplen := -1
	d := netlink.NewAttributeDecoder(m.Data)
	for d.Next() {
		a := hello.PacketAttr(d.Type())
		if a == hello.PacketPad {
			continue
		}
		order = append(order, a)
		if a == hello.PacketData {
			caplen = d.Len()
		}
	}
	if err := d.Err(); err != nil {
		return err
	}
	if fmt.Sprint(order) != "[ifindex len timestamp protocol data caplen]" {
		return fmt.Errorf("notification has attributes %v, want 1-6 in order", order)
	}
	if runtime.GOARCH == "amd64" && h.Length != uint32(60+align4(4+caplen)) {
		return fmt.Errorf("notification of %d bytes with caplen %d, want 60 + align4(4 + caplen)", h.Length, caplen)
	}
	return nil
}

// listener reads packets through one of the library's ways.
type listener struct {
	name string
	sub  *hello.Subscription
	wire bool // check each notification on the wire (raw only)
	got  []hello.Packet
}

// collect reads n packets (or fails after 5 s without one).
func (l *listener) collect(n int) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	idle := time.AfterFunc(5*time.Second, cancel)
	defer idle.Stop()
	if l.wire {
		for m, err := range l.sub.Conn().Messages(ctx) {
			if err != nil {
				return err
			}
			if err := checkNotification(m); err != nil {
				return fmt.Errorf("notification %d: %w", len(l.got), err)
			}
			var p hello.Packet
			if err := p.UnmarshalBinary(m.Data); err != nil {
				return err
			}
			l.got = append(l.got, p)
			idle.Reset(5 * time.Second)
			if len(l.got) == n {
				return nil
			}
		}
		return errors.New("stream ended")
	}
	for p, err := range l.sub.Packets(ctx) {
		if err != nil {
			return fmt.Errorf("after %d packets: %w", len(l.got), err)
		}
		l.got = append(l.got, p)
		idle.Reset(5 * time.Second)
		if len(l.got) == n {
			return nil
		}
	}
	return errors.New("stream ended")
}

func checkPacketsListeners(e *env) error {
	idx, err := prepareIface(e.ifname)
	if err != nil {
		return err
	}
	// Two raw listeners, subscribed at bind time and with
	// NETLINK_ADD_MEMBERSHIP (hello.Watch), and a genl one.
	bound, err := netlink.Dial(e.protocol, &netlink.Config{Groups: 1 << (hello.GroupPackets - 1), ReceiveBuffer: 8 << 20, ForceReceiveBuffer: true})
	if err != nil {
		return err
	}
	l1, err := hello.NewSubscription(bound)
	if err != nil {
		bound.Close()
		return err
	}
	defer l1.Close()
	l2, err := hello.Watch(e.protocol, nil)
	if err != nil {
		return err
	}
	defer l2.Close()
	ctx, cancel := timeout(0)
	defer cancel()
	l3, err := hello.WatchGeneric(ctx, nil)
	if err != nil {
		return err
	}
	defer l3.Close()
	listeners := []*listener{{name: "raw bind()", sub: l1, wire: true}, {name: "raw hello.Watch", sub: l2}, {name: "genl hello.WatchGeneric", sub: l3}}
	c, err := client(e)
	if err != nil {
		return err
	}
	defer c.Close()
	before, err := stats(c)
	if err != nil {
		return err
	}

	var sent []sentPacket
	t0 := time.Now()

	// Through AF_PACKET: sizes 1..1500 (some under, some over the 256-byte
	// cap), two EtherTypes.
	p, err := newPktSender(idx)
	if err != nil {
		return err
	}
	defer p.Close()
	const nPacket = 200
	for i := range nPacket {
		size := 1 + (i*97)%1500
		data := make([]byte, size)
		for j := range data {
			data[j] = byte(i + j)
		}
		proto := uint16(unix.ETH_P_IP)
		if i%2 == 1 {
			proto = ethPExperimental
		}
		if err := p.send(proto, data); err != nil {
			return fmt.Errorf("AF_PACKET send %d (%d bytes): %w", i, size, err)
		}
		sent = append(sent, sentPacket{proto: proto, data: data})
	}

	// Through the IPv4 stack: UDP to a peer routed via the interface.
	u, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(u)
	const nUDP = 20
	for i := range nUDP {
		payload := []byte(fmt.Sprintf("nlhello-udp-%03d", i))
		if err := unix.Sendto(u, payload, 0, &udpPeer); err != nil {
			return fmt.Errorf("UDP send %d: %w", i, err)
		}
		sent = append(sent, sentPacket{proto: unix.ETH_P_IP, data: payload, udp: true})
	}
	t1 := time.Now()

	for _, l := range listeners {
		if err := l.collect(len(sent)); err != nil {
			return fmt.Errorf("%s: %w", l.name, err)
		}
		for i, want := range sent {
			if err := matchPacket(l.got[i], want, idx, t0, t1); err != nil {
				return fmt.Errorf("%s: packet %d: %w", l.name, i, err)
			}
		}
		if err := nothingMore(l.sub.Conn(), 100*time.Millisecond); err != nil {
			return fmt.Errorf("%s: after %d packets: %w", l.name, len(sent), err)
		}
		if st := l.sub.Conn().Stats(); st != (netlink.Stats{}) {
			return fmt.Errorf("%s: the Conn dropped messages: %+v", l.name, st)
		}
		logf("%-24s got all %d packets, in order, fields correct", l.name, len(sent))
	}
	after, err := stats(c)
	if err != nil {
		return err
	}
	d := after.Sub(before)
	if d.PacketsPassed != uint64(len(sent)) || d.PacketsDroppedNoListener != 0 || d.PacketsDroppedBufferFull != 0 || d.PacketsDroppedNoMem != 0 {
		return fmt.Errorf("%d packets moved the counters by %v", len(sent), fmtStats(d))
	}
	logf("counters: %v", fmtStats(d))
	return nil
}

func matchPacket(got hello.Packet, want sentPacket, ifindex int, t0, t1 time.Time) error {
	if got.IfIndex != int32(ifindex) || got.Protocol != want.proto || got.Timestamp.Before(t0) || got.Timestamp.After(t1) {
		return fmt.Errorf("ifindex %d proto %#04x time %v; want %d, %#04x, time in [%v, %v]",
			got.IfIndex, got.Protocol, got.Timestamp, ifindex, want.proto, t0, t1)
	}
	if got.CapLen != min(got.Length, hello.PacketCap) || int(got.CapLen) != len(got.Data) {
		return fmt.Errorf("caplen %d, %d data bytes, length %d", got.CapLen, len(got.Data), got.Length)
	}
	if want.udp {
		// IPv4 + UDP headers in front of the payload.
		ip := got.Data
		if got.Length != uint32(28+len(want.data)) || len(ip) < 28 || ip[0]>>4 != 4 || ip[9] != unix.IPPROTO_UDP ||
			!bytes.Equal(ip[16:20], udpPeer.Addr[:]) || !bytes.Equal(ip[28:], want.data) {
			return fmt.Errorf("UDP packet len %d data % x; want IPv4/UDP to %v with payload %q",
				got.Length, ip, udpPeer.Addr, want.data)
		}
		return nil
	}
	if got.Length != uint32(len(want.data)) || !bytes.Equal(got.Data, want.data[:got.CapLen]) {
		return fmt.Errorf("len %d caplen %d; want len %d and the first bytes of the packet", got.Length, got.CapLen, len(want.data))
	}
	return nil
}

// checkPacketsBufferFull: a subscriber with the smallest receive buffer
// gets some packets of a burst, then an overrun (netlink.ErrOverrun from
// Packets), and the stream goes on.
func checkPacketsBufferFull(e *env) error {
	idx, err := prepareIface(e.ifname)
	if err != nil {
		return err
	}
	l, err := hello.Watch(e.protocol, &netlink.Config{ReceiveBuffer: 1}) // the kernel's minimum
	if err != nil {
		return err
	}
	defer l.Close()
	c, err := client(e)
	if err != nil {
		return err
	}
	defer c.Close()
	p, err := newPktSender(idx)
	if err != nil {
		return err
	}
	defer p.Close()
	before, err := stats(c)
	if err != nil {
		return err
	}
	const n = 100
	data := bytes.Repeat([]byte{0x45}, 1000)
	for range n {
		if err := p.send(unix.ETH_P_IP, data); err != nil {
			return err
		}
	}
	after, err := stats(c)
	if err != nil {
		return err
	}
	d := after.Sub(before)
	got, overruns := 0, 0
	want := d.PacketsPassed
	// Everything is queued by now; read it, then one more packet to show
	// the stream goes on.
	ctx, cancel := timeout(5 * time.Second)
	defer cancel()
	sentMore := false
	for pk, err := range l.Packets(ctx) {
		if errors.Is(err, netlink.ErrOverrun) {
			overruns++
			continue
		}
		if err != nil {
			return fmt.Errorf("after %d packets and %d overruns: %w", got, overruns, err)
		}
		if pk.Length == 1 {
			break // the one sent after the burst
		}
		got++
		if uint64(got) == want && !sentMore {
			sentMore = true
			if err := p.send(unix.ETH_P_IP, []byte{0x45}); err != nil {
				return err
			}
		}
	}
	rcvbuf, _ := l.Conn().ReceiveBuffer()
	logf("rcvbuf %d: %d of %d packets queued, %d overrun(s) reported; counters %v", rcvbuf, got, n, overruns, fmtStats(d))
	if overruns != 1 || got == 0 || got >= n || uint64(got) != want {
		return fmt.Errorf("want some packets (the counters say %d) and one overrun, got %d and %d", want, got, overruns)
	}
	if d.PacketsDroppedBufferFull != uint64(n-got) || d.PacketsDroppedNoListener != 0 || d.PacketsDroppedNoMem != 0 {
		return fmt.Errorf("counters moved by %v; want passed %d, dropped_buffer_full %d", fmtStats(d), got, n-got)
	}
	return nil
}

func txPackets(ifname string) int64 {
	n, _ := strconv.ParseInt(readSys("/sys/class/net/"+ifname+"/statistics/tx_packets"), 10, 64)
	return n
}
