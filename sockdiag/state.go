package sockdiag

import (
	"fmt"
	"math/bits"
	"strings"
)

// Family is a socket's address family (sdiag_family, AF_*).
type Family uint8

// Address families sock_diag answers for.
const (
	FamilyUnix Family = 1  // AF_UNIX
	FamilyIPv4 Family = 2  // AF_INET
	FamilyIPv6 Family = 10 // AF_INET6
)

// String returns the family as ss and ip name it: "unix", "inet", "inet6".
func (f Family) String() string {
	switch f {
	case FamilyUnix:
		return "unix"
	case FamilyIPv4:
		return "inet"
	case FamilyIPv6:
		return "inet6"
	}
	return fmt.Sprintf("family(%d)", uint8(f))
}

// Protocol is an IP protocol number (IPPROTO_*). Numbers up to 255 go
// in sdiag_protocol; larger ones (MPTCP) in INET_DIAG_REQ_PROTOCOL.
type Protocol uint16

// Protocols inet_diag has handlers for (each needs its kernel module:
// tcp_diag, udp_diag, raw_diag, dccp_diag, sctp_diag, mptcp_diag).
const (
	ProtocolTCP     Protocol = 6   // IPPROTO_TCP (CONFIG_INET_TCP_DIAG)
	ProtocolUDP     Protocol = 17  // IPPROTO_UDP (CONFIG_INET_UDP_DIAG)
	ProtocolDCCP    Protocol = 33  // IPPROTO_DCCP
	ProtocolSCTP    Protocol = 132 // IPPROTO_SCTP
	ProtocolUDPLite Protocol = 136 // IPPROTO_UDPLITE (handled by udp_diag)
	ProtocolRaw     Protocol = 255 // IPPROTO_RAW (CONFIG_INET_RAW_DIAG)
	ProtocolMPTCP   Protocol = 262 // IPPROTO_MPTCP (CONFIG_INET_MPTCP_DIAG)
)

// String returns the protocol as ss's Netid column names it: "tcp",
// "udp", ...
func (p Protocol) String() string {
	switch p {
	case ProtocolTCP:
		return "tcp"
	case ProtocolUDP:
		return "udp"
	case ProtocolDCCP:
		return "dccp"
	case ProtocolSCTP:
		return "sctp"
	case ProtocolUDPLite:
		return "udplite"
	case ProtocolRaw:
		return "raw"
	case ProtocolMPTCP:
		return "mptcp"
	}
	return fmt.Sprintf("proto(%d)", uint16(p))
}

// State is a socket's state: the TCP state numbers (TCP_* in
// include/net/tcp_states.h), which sock_diag uses for every protocol.
// UDP and datagram UNIX sockets are Close when unconnected and
// Established when connected; a listening UNIX stream socket is Listen.
type State uint8

// Socket states.
const (
	StateEstablished   State = 1  // TCP_ESTABLISHED
	StateSynSent       State = 2  // TCP_SYN_SENT
	StateSynRecv       State = 3  // TCP_SYN_RECV
	StateFinWait1      State = 4  // TCP_FIN_WAIT1
	StateFinWait2      State = 5  // TCP_FIN_WAIT2
	StateTimeWait      State = 6  // TCP_TIME_WAIT
	StateClose         State = 7  // TCP_CLOSE (ss: UNCONN)
	StateCloseWait     State = 8  // TCP_CLOSE_WAIT
	StateLastAck       State = 9  // TCP_LAST_ACK
	StateListen        State = 10 // TCP_LISTEN
	StateClosing       State = 11 // TCP_CLOSING
	StateNewSynRecv    State = 12 // TCP_NEW_SYN_RECV (reported as StateSynRecv)
	StateBoundInactive State = 13 // TCP_BOUND_INACTIVE
)

// stateNames are ss's names (sstate_name), then its long names
// (sstate_namel, what `ss state NAME` takes).
var stateNames = [...]struct{ short, long string }{
	StateEstablished:   {"ESTAB", "established"},
	StateSynSent:       {"SYN-SENT", "syn-sent"},
	StateSynRecv:       {"SYN-RECV", "syn-recv"},
	StateFinWait1:      {"FIN-WAIT-1", "fin-wait-1"},
	StateFinWait2:      {"FIN-WAIT-2", "fin-wait-2"},
	StateTimeWait:      {"TIME-WAIT", "time-wait"},
	StateClose:         {"UNCONN", "unconnected"},
	StateCloseWait:     {"CLOSE-WAIT", "close-wait"},
	StateLastAck:       {"LAST-ACK", "last-ack"},
	StateListen:        {"LISTEN", "listening"},
	StateClosing:       {"CLOSING", "closing"},
	StateNewSynRecv:    {"NEW-SYN-RECV", "new-syn-recv"},
	StateBoundInactive: {"BOUND-INACTIVE", "bound-inactive"},
}

// String returns the state as ss prints it: "ESTAB", "SYN-SENT",
// "LISTEN", "UNCONN" (for StateClose), ...
func (s State) String() string {
	if int(s) < len(stateNames) && stateNames[s].short != "" {
		return stateNames[s].short
	}
	return fmt.Sprintf("UNKNOWN(%d)", uint8(s))
}

// LongName returns the state as `ss state NAME` takes it: "established",
// "listening", "unconnected", ...
func (s State) LongName() string {
	if int(s) < len(stateNames) && stateNames[s].long != "" {
		return stateNames[s].long
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// StateSet is a set of states: bit 1<<State, as idiag_states and
// udiag_states carry it.
type StateSet uint32

// States returns the set holding ss.
func States(ss ...State) StateSet {
	var set StateSet
	for _, s := range ss {
		set |= 1 << (s & 31)
	}
	return set
}

// State sets with the meaning ss gives them.
const (
	// AllStates is every state (ss -a, `state all`).
	AllStates StateSet = 1<<(StateClosing+1) - 2
	// ConnectedStates are the states ss shows by default: all but
	// LISTEN, UNCONN, TIME-WAIT and SYN-RECV (SS_CONN).
	ConnectedStates StateSet = AllStates &^ (1<<StateListen | 1<<StateClose | 1<<StateTimeWait | 1<<StateSynRecv)
	// ListeningStates are what ss -l shows: LISTEN, and UNCONN for
	// datagram sockets, which receive without a connection.
	ListeningStates StateSet = 1<<StateListen | 1<<StateClose
)

// Has reports whether s is in the set.
func (set StateSet) Has(s State) bool { return s < 32 && set&(1<<s) != 0 }

// States lists the states in the set, in numeric order.
func (set StateSet) States() []State {
	var out []State
	for b := uint32(set); b != 0; b &= b - 1 {
		out = append(out, State(bits.TrailingZeros32(b)))
	}
	return out
}

// String lists the states as ss names them, joined by "|".
func (set StateSet) String() string {
	if set == 0 {
		return "none"
	}
	var parts []string
	for _, s := range set.States() {
		parts = append(parts, s.String())
	}
	return strings.Join(parts, "|")
}

// ParseStates parses a state name as `ss state NAME` takes it: a long
// name ("established", "syn-sent", "syn-recv", "fin-wait-1",
// "fin-wait-2", "time-wait", "closed", "close-wait", "last-ack",
// "listening", "closing"), an ss column name ("ESTAB", "LISTEN",
// "UNCONN", ...) or one of ss's groups: "all", "connected" (all but
// listening and closed), "synchronized" (connected without syn-sent),
// "bucket" (syn-recv and time-wait) and "big" (all but bucket).
func ParseStates(name string) (StateSet, error) {
	switch strings.ToLower(name) {
	case "all":
		return AllStates, nil
	case "connected":
		return AllStates &^ States(StateClose, StateListen), nil
	case "synchronized":
		return AllStates &^ States(StateClose, StateListen, StateSynSent), nil
	case "bucket":
		return States(StateSynRecv, StateTimeWait), nil
	case "big":
		return AllStates &^ States(StateSynRecv, StateTimeWait), nil
	case "close", "closed", "unconn":
		return States(StateClose), nil
	case "syn-rcv":
		return States(StateSynRecv), nil
	case "listen":
		return States(StateListen), nil
	case "estab":
		return States(StateEstablished), nil
	}
	for s := StateEstablished; s <= StateClosing; s++ {
		if strings.EqualFold(name, stateNames[s].long) || strings.EqualFold(name, stateNames[s].short) {
			return States(s), nil
		}
	}
	return 0, fmt.Errorf("sockdiag: unknown state %q (want established, syn-sent, syn-recv, fin-wait-1, fin-wait-2, time-wait, closed, close-wait, last-ack, listening, closing, all, connected, synchronized, bucket or big)", name)
}

// Timer is the kind of timer pending on a TCP socket (idiag_timer).
type Timer uint8

// Timers.
const (
	TimerOff       Timer = 0 // no timer
	TimerOn        Timer = 1 // retransmission (or loss probe, reordering) timer
	TimerKeepalive Timer = 2 // keepalive timer
	TimerTimeWait  Timer = 3 // TIME-WAIT timer
	TimerPersist   Timer = 4 // zero-window probe timer
)

var timerNames = [...]string{"off", "on", "keepalive", "timewait", "persist"}

// String returns the timer as ss -o shows it: "on", "keepalive", ...
func (t Timer) String() string {
	if int(t) < len(timerNames) {
		return timerNames[t]
	}
	return "unknown"
}
