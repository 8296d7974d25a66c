package sockdiag

import (
	"reflect"
	"strings"
	"testing"
)

func TestStateNames(t *testing.T) {
	// ss's sstate_name, in TCP state order.
	want := []string{"ESTAB", "SYN-SENT", "SYN-RECV", "FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT",
		"UNCONN", "CLOSE-WAIT", "LAST-ACK", "LISTEN", "CLOSING"}
	for i, w := range want {
		if s := State(i + 1).String(); s != w {
			t.Errorf("State(%d) = %q, want %q", i+1, s, w)
		}
	}
	if s := State(0).String(); s != "UNKNOWN(0)" {
		t.Errorf("State(0) = %q", s)
	}
	if s := State(200).String(); s != "UNKNOWN(200)" {
		t.Errorf("State(200) = %q", s)
	}
	if s := StateListen.LongName(); s != "listening" {
		t.Errorf("LongName = %q", s)
	}
}

func TestStateSets(t *testing.T) {
	if AllStates != 0xffe {
		t.Errorf("AllStates = %#x, want bits 1-11 (ss's SS_ALL without SS_UNKNOWN)", uint32(AllStates))
	}
	// ss.c: SS_CONN = SS_ALL & ~(LISTEN|CLOSE|TIME_WAIT|SYN_RECV).
	if got := ConnectedStates.States(); !reflect.DeepEqual(got, []State{StateEstablished, StateSynSent, StateFinWait1,
		StateFinWait2, StateCloseWait, StateLastAck, StateClosing}) {
		t.Errorf("ConnectedStates = %v", got)
	}
	if s := ListeningStates.String(); s != "UNCONN|LISTEN" {
		t.Errorf("ListeningStates = %q", s)
	}
	set := States(StateListen, StateEstablished)
	if !set.Has(StateListen) || !set.Has(StateEstablished) || set.Has(StateClose) || set.Has(200) {
		t.Errorf("Has: %v", set)
	}
	if StateSet(0).String() != "none" {
		t.Errorf("empty set: %q", StateSet(0).String())
	}
}

func TestParseStates(t *testing.T) {
	tests := []struct {
		in   string
		want StateSet
	}{
		{"established", States(StateEstablished)},
		{"ESTAB", States(StateEstablished)},
		{"listening", States(StateListen)},
		{"listen", States(StateListen)},
		{"closed", States(StateClose)},
		{"unconnected", States(StateClose)},
		{"syn-rcv", States(StateSynRecv)},
		{"time-wait", States(StateTimeWait)},
		{"all", AllStates},
		{"connected", AllStates &^ States(StateClose, StateListen)},
		{"synchronized", AllStates &^ States(StateClose, StateListen, StateSynSent)},
		{"bucket", States(StateSynRecv, StateTimeWait)},
		{"big", AllStates &^ States(StateSynRecv, StateTimeWait)},
	}
	for _, tt := range tests {
		got, err := ParseStates(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseStates(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	if _, err := ParseStates("open"); err == nil || !strings.Contains(err.Error(), `"open"`) {
		t.Errorf("unknown state: %v", err)
	}
}

func TestEnumStrings(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{FamilyIPv4.String(), "inet"}, {FamilyIPv6.String(), "inet6"}, {FamilyUnix.String(), "unix"},
		{Family(99).String(), "family(99)"}, {ProtocolTCP.String(), "tcp"}, {ProtocolUDP.String(), "udp"},
		{Protocol(99).String(), "proto(99)"}, {UnixStream.String(), "u_str"}, {UnixDgram.String(), "u_dgr"},
		{UnixSeqPacket.String(), "u_seq"}, {TimerKeepalive.String(), "keepalive"}, {Timer(9).String(), "unknown"},
		{CARecovery.String(), "recovery"}, {(OptTimestamps | OptSACK | OptWScale).String(), "ts sack wscale"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
