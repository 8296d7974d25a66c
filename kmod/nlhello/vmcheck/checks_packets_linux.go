package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

const ethPExperimental = 0x88b5 // IEEE 802 local experimental EtherType

// packetNote is a decoded NLHELLO_MSG_PACKET / NLHELLO_CMD_PACKET.
type packetNote struct {
	ifindex uint32
	length  uint32
	caplen  uint32
	tstamp  uint64
	proto   uint16 // host order
	data    []byte
}

func parsePacketAttrs(b []byte) (packetNote, error) {
	var p packetNote
	as, err := decodeAttrs(b)
	if err != nil {
		return p, err
	}
	seen := map[uint16]bool{}
	var order []uint16
	for _, a := range as {
		if a.Type == pktPad {
			continue
		}
		order = append(order, a.Type)
		if seen[a.Type] {
			return p, fmt.Errorf("packet attribute %d repeated", a.Type)
		}
		seen[a.Type] = true
		size := map[uint16]int{pktIfindex: 4, pktLen: 4, pktCaplen: 4, pktTimestamp: 8, pktProtocol: 2, pktData: -1}[a.Type]
		if size == 0 {
			return p, fmt.Errorf("unknown packet attribute %d", a.Type)
		}
		if size > 0 && len(a.Data) != size {
			return p, fmt.Errorf("packet attribute %d has %d bytes, want %d", a.Type, len(a.Data), size)
		}
		switch a.Type {
		case pktIfindex:
			p.ifindex = ne.Uint32(a.Data)
		case pktLen:
			p.length = ne.Uint32(a.Data)
		case pktCaplen:
			p.caplen = ne.Uint32(a.Data)
		case pktTimestamp:
			p.tstamp = ne.Uint64(a.Data)
		case pktProtocol:
			p.proto = binary.BigEndian.Uint16(a.Data)
		case pktData:
			p.data = a.Data
		}
	}
	if fmt.Sprint(order) != "[1 2 3 4 5 6]" {
		return p, fmt.Errorf("packet notification has attributes %v, want 1-6 in order", order)
	}
	if int(p.caplen) != len(p.data) || p.caplen != min(p.length, packetCap) {
		return p, fmt.Errorf("caplen %d, data %d bytes, len %d; want caplen = min(len, %d) = len(data)",
			p.caplen, len(p.data), p.length, packetCap)
	}
	return p, nil
}

// listener receives packet notifications on the raw protocol or genl.
type listener struct {
	name string
	s    *sock
	fam  *genlFamily // nil: raw protocol
}

func (l *listener) next() (packetNote, error) {
	ms, from, err := l.s.recv()
	if err != nil {
		return packetNote{}, err
	}
	if len(ms) != 1 {
		return packetNote{}, fmt.Errorf("want one notification per datagram, got %v", ms)
	}
	m := ms[0]
	if l.fam == nil {
		if from.Groups != 1<<(groupPackets-1) {
			return packetNote{}, fmt.Errorf("notification for groups %#x", from.Groups)
		}
		if m.Type != msgPacket || m.Seq != 0 || m.Pid != 0 || m.Flags != 0 {
			return packetNote{}, fmt.Errorf("notification header %v", m)
		}
		p, err := parsePacketAttrs(m.Data)
		if err == nil && runtime.GOARCH == "amd64" && m.Len != uint32(60+align4(4+int(p.caplen))) {
			err = fmt.Errorf("notification of %d bytes with caplen %d, want 60 + align4(4 + caplen)", m.Len, p.caplen)
		}
		return p, err
	}
	if m.Type != l.fam.ID || m.Seq != 0 || m.Pid != 0 || len(m.Data) < genlHdrLen ||
		m.Data[0] != genlCmdPacket || m.Data[1] != genlVersion {
		return packetNote{}, fmt.Errorf("genl notification %v % x", m, m.Data)
	}
	return parsePacketAttrs(m.Data[genlHdrLen:])
}

func setRcvbuf(s *sock, n int) error {
	return unix.SetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, n)
}

func checkPacketsNoListener(e *env) error {
	idx, err := prepareIface(e.ifname)
	if err != nil {
		return err
	}
	s, err := openSock(e.protocol, 0)
	if err != nil {
		return err
	}
	defer s.Close()
	p, err := newPktSender(idx)
	if err != nil {
		return err
	}
	defer p.Close()
	before, err := rawStats(s, 1)
	if err != nil {
		return err
	}
	txBefore := txPackets(e.ifname)
	for i := 0; i < 10; i++ {
		if err := p.send(unix.ETH_P_IP, []byte("no one is listening")); err != nil {
			return err
		}
	}
	after, err := rawStats(s, 2)
	if err != nil {
		return err
	}
	d := after.sub(before)
	if d[statsPacketsDroppedNoListen] != 10 || d[statsPacketsPassed] != 0 {
		return fmt.Errorf("10 packets without listeners moved the counters by %v", d)
	}
	logf("%s (ifindex %d) up; 10 packets, nobody subscribed -> %v", e.ifname, idx, d)
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

func checkPacketsListeners(e *env) error {
	idx, err := prepareIface(e.ifname)
	if err != nil {
		return err
	}
	// Two raw listeners, subscribed the two ways, and a genl one.
	l1, err := openSock(e.protocol, 1<<(groupPackets-1))
	if err != nil {
		return err
	}
	defer l1.Close()
	l2, err := openSock(e.protocol, 0)
	if err != nil {
		return err
	}
	defer l2.Close()
	if err := l2.join(groupPackets); err != nil {
		return fmt.Errorf("NETLINK_ADD_MEMBERSHIP: %w", err)
	}
	g, fam, err := openGenl()
	if err != nil {
		return err
	}
	defer g.Close()
	if err := g.join(int(fam.Groups[genlMcgrp])); err != nil {
		return fmt.Errorf("genl join: %w", err)
	}
	listeners := []*listener{{"raw bind()", l1, nil}, {"raw ADD_MEMBERSHIP", l2, nil}, {"genl packets", g, fam}}
	for _, l := range listeners {
		if err := setRcvbuf(l.s, 8<<20); err != nil {
			return err
		}
	}
	s, err := openSock(e.protocol, 0)
	if err != nil {
		return err
	}
	defer s.Close()
	before, err := rawStats(s, 1)
	if err != nil {
		return err
	}

	var sent []sentPacket
	t0 := uint64(time.Now().UnixNano())

	// Through AF_PACKET: sizes 1..1500 (some under, some over the 256-byte
	// cap), two EtherTypes.
	p, err := newPktSender(idx)
	if err != nil {
		return err
	}
	defer p.Close()
	const nPacket = 200
	for i := 0; i < nPacket; i++ {
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
	for i := 0; i < nUDP; i++ {
		payload := []byte(fmt.Sprintf("nlhello-udp-%03d", i))
		if err := unix.Sendto(u, payload, 0, &udpPeer); err != nil {
			return fmt.Errorf("UDP send %d: %w", i, err)
		}
		sent = append(sent, sentPacket{proto: unix.ETH_P_IP, data: payload, udp: true})
	}
	t1 := uint64(time.Now().UnixNano())

	for _, l := range listeners {
		for i, want := range sent {
			got, err := l.next()
			if err != nil {
				return fmt.Errorf("%s: notification %d of %d: %w", l.name, i, len(sent), err)
			}
			if err := matchPacket(got, want, idx, t0, t1); err != nil {
				return fmt.Errorf("%s: notification %d: %w", l.name, i, err)
			}
		}
		if err := l.s.expectNothing(100 * time.Millisecond); err != nil {
			return fmt.Errorf("%s: after %d notifications: %w", l.name, len(sent), err)
		}
		logf("%-20s got all %d packets, in order, attributes correct", l.name, len(sent))
	}
	after, err := rawStats(s, 2)
	if err != nil {
		return err
	}
	d := after.sub(before)
	if d[statsPacketsPassed] != uint64(len(sent)) || d[statsPacketsDroppedNoListen] != 0 ||
		d[statsPacketsDroppedFull] != 0 || d[statsPacketsDroppedNomem] != 0 {
		return fmt.Errorf("%d packets moved the counters by %v", len(sent), d)
	}
	logf("counters: %v", d)
	return nil
}

func matchPacket(got packetNote, want sentPacket, ifindex int, t0, t1 uint64) error {
	if got.ifindex != uint32(ifindex) || got.proto != want.proto || got.tstamp < t0 || got.tstamp > t1 {
		return fmt.Errorf("ifindex %d proto %#04x ts %d; want %d, %#04x, ts in [%d, %d]",
			got.ifindex, got.proto, got.tstamp, ifindex, want.proto, t0, t1)
	}
	if want.udp {
		// IPv4 + UDP headers in front of the payload.
		ip := got.data
		if got.length != uint32(28+len(want.data)) || len(ip) < 28 || ip[0]>>4 != 4 || ip[9] != unix.IPPROTO_UDP ||
			!bytes.Equal(ip[16:20], udpPeer.Addr[:]) || !bytes.Equal(ip[28:], want.data) {
			return fmt.Errorf("UDP packet len %d data % x; want IPv4/UDP to %v with payload %q",
				got.length, ip, udpPeer.Addr, want.data)
		}
		return nil
	}
	if got.length != uint32(len(want.data)) || !bytes.Equal(got.data, want.data[:got.caplen]) {
		return fmt.Errorf("len %d caplen %d; want len %d and the first bytes of the packet", got.length, got.caplen, len(want.data))
	}
	return nil
}

func checkPacketsBufferFull(e *env) error {
	idx, err := prepareIface(e.ifname)
	if err != nil {
		return err
	}
	l, err := openSock(e.protocol, 1<<(groupPackets-1))
	if err != nil {
		return err
	}
	defer l.Close()
	if err := unix.SetsockoptInt(l.fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 0); err != nil {
		return err
	}
	s, err := openSock(e.protocol, 0)
	if err != nil {
		return err
	}
	defer s.Close()
	p, err := newPktSender(idx)
	if err != nil {
		return err
	}
	defer p.Close()
	before, err := rawStats(s, 1)
	if err != nil {
		return err
	}
	const n = 100
	data := bytes.Repeat([]byte{0x45}, 1000)
	for i := 0; i < n; i++ {
		if err := p.send(unix.ETH_P_IP, data); err != nil {
			return err
		}
	}
	after, err := rawStats(s, 2)
	if err != nil {
		return err
	}
	got, enobufs := 0, 0
	for {
		_, _, err := l.recvFlags(unix.MSG_DONTWAIT)
		if errors.Is(err, unix.ENOBUFS) {
			enobufs++
			continue
		}
		if errors.Is(err, unix.EAGAIN) {
			break
		}
		if err != nil {
			return err
		}
		got++
	}
	d := after.sub(before)
	logf("rcvbuf %d: %d of %d notifications queued, %d ENOBUFS; counters %v",
		readRcvbuf(l), got, n, enobufs, d)
	if enobufs == 0 || got == 0 || got >= n {
		return fmt.Errorf("want some notifications and an ENOBUFS, got %d and %d ENOBUFS", got, enobufs)
	}
	if d[statsPacketsPassed] != uint64(got) || d[statsPacketsDroppedFull] != uint64(n-got) ||
		d[statsPacketsDroppedNoListen] != 0 || d[statsPacketsDroppedNomem] != 0 {
		return fmt.Errorf("counters moved by %v; want passed %d, dropped_buffer_full %d", d, got, n-got)
	}
	return nil
}

func readRcvbuf(s *sock) int {
	v, _ := unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_RCVBUF)
	return v
}

func txPackets(ifname string) int64 {
	n, _ := strconv.ParseInt(readSys("/sys/class/net/"+ifname+"/statistics/tx_packets"), 10, 64)
	return n
}
