package conntrack

import (
	"fmt"
	"strconv"
	"strings"
)

// Protocol is a layer-4 protocol number (IPPROTO_*), the protocol of a
// tuple.
type Protocol uint8

// Protocols conntrack tracks with their own state.
const (
	ProtoICMP    Protocol = 1   // IPPROTO_ICMP
	ProtoTCP     Protocol = 6   // IPPROTO_TCP
	ProtoUDP     Protocol = 17  // IPPROTO_UDP
	ProtoDCCP    Protocol = 33  // IPPROTO_DCCP
	ProtoGRE     Protocol = 47  // IPPROTO_GRE
	ProtoICMPv6  Protocol = 58  // IPPROTO_ICMPV6
	ProtoSCTP    Protocol = 132 // IPPROTO_SCTP
	ProtoUDPLite Protocol = 136 // IPPROTO_UDPLITE
)

var protoNames = map[Protocol]string{
	ProtoICMP: "icmp", ProtoTCP: "tcp", ProtoUDP: "udp", ProtoDCCP: "dccp", ProtoGRE: "gre",
	ProtoICMPv6: "icmpv6", ProtoSCTP: "sctp", ProtoUDPLite: "udplite",
}

// String returns the protocol's name as conntrack prints it ("tcp",
// "icmpv6", ...), or its number for protocols without a name here.
func (p Protocol) String() string {
	if s, ok := protoNames[p]; ok {
		return s
	}
	return strconv.Itoa(int(p))
}

// Known reports whether p has a name (String is not a number).
func (p Protocol) Known() bool {
	_, ok := protoNames[p]
	return ok
}

// HasPorts reports whether the protocol's tuples carry ports.
func (p Protocol) HasPorts() bool {
	switch p {
	case ProtoTCP, ProtoUDP, ProtoDCCP, ProtoSCTP, ProtoUDPLite:
		return true
	}
	return false
}

// IsICMP reports whether the protocol is ICMP or ICMPv6, whose tuples
// carry a type, a code and an ID.
func (p Protocol) IsICMP() bool { return p == ProtoICMP || p == ProtoICMPv6 }

// ParseProtocol parses a protocol name ("tcp", "udp", "icmp", "icmpv6",
// "sctp", "dccp", "udplite", "gre") or number (1-255).
func ParseProtocol(s string) (Protocol, error) {
	l := strings.ToLower(s)
	for p, n := range protoNames {
		if n == l {
			return p, nil
		}
	}
	if l == "ipv6-icmp" {
		return ProtoICMPv6, nil
	}
	if n, err := strconv.ParseUint(s, 10, 8); err == nil && n > 0 {
		return Protocol(n), nil
	}
	return 0, fmt.Errorf("unknown protocol %q (want tcp, udp, icmp, icmpv6, sctp, dccp, udplite, gre or a number from 1 to 255)", s)
}

// Status is the set of status bits of a flow (enum ip_conntrack_status).
type Status uint32

// Status bits.
const (
	StatusExpected     Status = 1 << 0  // IPS_EXPECTED: expected by a helper
	StatusSeenReply    Status = 1 << 1  // IPS_SEEN_REPLY: packets seen both ways
	StatusAssured      Status = 1 << 2  // IPS_ASSURED: never dropped early
	StatusConfirmed    Status = 1 << 3  // IPS_CONFIRMED: in the table
	StatusSrcNAT       Status = 1 << 4  // IPS_SRC_NAT
	StatusDstNAT       Status = 1 << 5  // IPS_DST_NAT
	StatusSeqAdjust    Status = 1 << 6  // IPS_SEQ_ADJUST
	StatusSrcNATDone   Status = 1 << 7  // IPS_SRC_NAT_DONE
	StatusDstNATDone   Status = 1 << 8  // IPS_DST_NAT_DONE
	StatusDying        Status = 1 << 9  // IPS_DYING
	StatusFixedTimeout Status = 1 << 10 // IPS_FIXED_TIMEOUT
	StatusTemplate     Status = 1 << 11 // IPS_TEMPLATE
	StatusUntracked    Status = 1 << 12 // IPS_UNTRACKED (IPS_NAT_CLASH)
	StatusHelper       Status = 1 << 13 // IPS_HELPER
	StatusOffload      Status = 1 << 14 // IPS_OFFLOAD
	StatusHWOffload    Status = 1 << 15 // IPS_HW_OFFLOAD
)

// statusNames are the bits' names as conntrack's -u option takes them.
var statusNames = []string{
	"EXPECTED", "SEEN_REPLY", "ASSURED", "CONFIRMED", "SRC_NAT", "DST_NAT", "SEQ_ADJUST",
	"SRC_NAT_DONE", "DST_NAT_DONE", "DYING", "FIXED_TIMEOUT", "TEMPLATE", "UNTRACKED",
	"HELPER", "OFFLOAD", "HW_OFFLOAD",
}

// Names lists the bits set, by name ("SEEN_REPLY", "ASSURED", ...), in
// bit order; unnamed bits as numbers ("0x10000").
func (s Status) Names() []string {
	var out []string
	for i, n := range statusNames {
		if s&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	if rest := s &^ (1<<len(statusNames) - 1); rest != 0 {
		out = append(out, fmt.Sprintf("%#x", uint32(rest)))
	}
	return out
}

// String returns the bits' names joined by commas, or "0".
func (s Status) String() string {
	if s == 0 {
		return "0"
	}
	return strings.Join(s.Names(), ",")
}

// ParseStatus parses bit names separated by commas ("ASSURED,SEEN_REPLY",
// case-insensitive), as conntrack's -u option.
func ParseStatus(s string) (Status, error) {
	var st Status
	for _, name := range strings.Split(s, ",") {
		name = strings.ToUpper(strings.TrimSpace(name))
		found := false
		for i, n := range statusNames {
			if n == name {
				st |= 1 << i
				found = true
				break
			}
		}
		if !found {
			return 0, fmt.Errorf("unknown status %q (want %s)", name, strings.Join(statusNames, ", "))
		}
	}
	return st, nil
}

// TCPState is the state of a tracked TCP connection (enum tcp_conntrack).
type TCPState uint8

// TCP states.
const (
	TCPNone        TCPState = 0 // TCP_CONNTRACK_NONE
	TCPSynSent     TCPState = 1 // TCP_CONNTRACK_SYN_SENT
	TCPSynRecv     TCPState = 2 // TCP_CONNTRACK_SYN_RECV
	TCPEstablished TCPState = 3 // TCP_CONNTRACK_ESTABLISHED
	TCPFinWait     TCPState = 4 // TCP_CONNTRACK_FIN_WAIT
	TCPCloseWait   TCPState = 5 // TCP_CONNTRACK_CLOSE_WAIT
	TCPLastAck     TCPState = 6 // TCP_CONNTRACK_LAST_ACK
	TCPTimeWait    TCPState = 7 // TCP_CONNTRACK_TIME_WAIT
	TCPClose       TCPState = 8 // TCP_CONNTRACK_CLOSE
	TCPSynSent2    TCPState = 9 // TCP_CONNTRACK_SYN_SENT2 (was TCP_CONNTRACK_LISTEN)
)

var tcpStateNames = []string{
	"NONE", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT", "CLOSE_WAIT", "LAST_ACK",
	"TIME_WAIT", "CLOSE", "SYN_SENT2",
}

// String returns the state's name as conntrack prints it ("ESTABLISHED").
func (s TCPState) String() string {
	if int(s) < len(tcpStateNames) {
		return tcpStateNames[s]
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// ParseTCPState parses a state name as conntrack's --state option takes
// it ("ESTABLISHED", case-insensitive; "LISTEN" is SYN_SENT2).
func ParseTCPState(s string) (TCPState, error) {
	u := strings.ToUpper(s)
	if u == "LISTEN" {
		return TCPSynSent2, nil
	}
	for i, n := range tcpStateNames {
		if n == u {
			return TCPState(i), nil
		}
	}
	return 0, fmt.Errorf("unknown TCP state %q (want %s)", s, strings.Join(tcpStateNames, ", "))
}
