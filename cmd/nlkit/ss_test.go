package main

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nlkit/nlkit/sockdiag"
)

func TestParseSSArgs(t *testing.T) {
	tests := []struct {
		args []string
		want ssOpts
	}{
		{nil, ssOpts{}},
		{[]string{"-tan"}, ssOpts{tcp: true, all: true}},
		{[]string{"-tlnp"[:4]}, ssOpts{tcp: true, listening: true}},
		{[]string{"-t", "-u", "-x", "-4", "-6", "-e", "-i", "-m", "-K", "-o", "-M"}, ssOpts{tcp: true, udp: true, unix: true, v4: true, v6: true, extended: true, info: true, memory: true, kill: true, timers: true, mptcp: true}},
		{[]string{"--tcp", "--udp", "--unix", "--listening", "--all", "--numeric", "--extended", "--info", "--memory", "--kill", "--ipv4", "--ipv6"},
			ssOpts{tcp: true, udp: true, unix: true, listening: true, all: true, extended: true, info: true, memory: true, kill: true, v4: true, v6: true}},
		// nlkit's global options, before or after the command name.
		{[]string{"-n", "blue", "-t"}, ssOpts{tcp: true, netns: "blue"}},
		{[]string{"--netns", "blue"}, ssOpts{netns: "blue"}},
		{[]string{"--netns=blue", "-j", "-p"}, ssOpts{netns: "blue", json: true, pretty: true}},
		{[]string{"-jn", "blue", "-ta"}, ssOpts{json: true, netns: "blue", tcp: true, all: true}},
		{[]string{"-n=blue"}, ssOpts{netns: "blue"}},
		{[]string{"--json", "--pretty"}, ssOpts{json: true, pretty: true}},
		{[]string{"-d"}, ssOpts{extended: true}},
		// ss's own namespace option.
		{[]string{"-N", "red", "-x"}, ssOpts{netns: "red", unix: true}},
		{[]string{"-tNred"}, ssOpts{tcp: true, netns: "red"}},
		{[]string{"--net", "red"}, ssOpts{netns: "red"}},
		// -n followed by a filter word or an option is ss's -n.
		{[]string{"-n", "state", "listening"}, ssOpts{states: sockdiag.States(sockdiag.StateListen), sawStates: true}},
		{[]string{"-tn", "-a"}, ssOpts{tcp: true, all: true}},
		{[]string{"-n"}, ssOpts{}},
		{[]string{"-h"}, ssOpts{help: true}},
		{[]string{"--help"}, ssOpts{help: true}},
		{[]string{"state", "established", "state", "syn-sent"}, ssOpts{states: sockdiag.States(sockdiag.StateEstablished, sockdiag.StateSynSent), sawStates: true}},
		{[]string{"exclude", "listening"}, ssOpts{states: sockdiag.AllStates &^ sockdiag.States(sockdiag.StateListen), sawStates: true}},
		{[]string{"--", "state", "all"}, ssOpts{states: sockdiag.AllStates, sawStates: true}},
	}
	for _, tt := range tests {
		got, err := parseSSArgs(tt.args)
		if err != nil {
			t.Errorf("%q: %v", tt.args, err)
			continue
		}
		if !reflect.DeepEqual(*got, tt.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tt.args, *got, tt.want)
		}
	}
}

func TestParseSSFilter(t *testing.T) {
	o, err := parseSSArgs([]string{"sport", "=", ":22", "dport", ":443", "and", "src", "10.0.0.0/8", "dst", "[::1]:80", "src", "127.0.0.1:5000", "dst", "eq", "*:53"})
	if err != nil {
		t.Fatal(err)
	}
	f := o.filter
	want := ssFilter{
		sport: []uint16{22}, dport: []uint16{443},
		src: []addrMatch{{prefix: netip.MustParsePrefix("10.0.0.0/8")}, {prefix: netip.MustParsePrefix("127.0.0.1/32"), port: 5000}},
		dst: []addrMatch{{prefix: netip.MustParsePrefix("::1/128"), port: 80}, {port: 53}},
	}
	if !equalFilter(f, want) {
		t.Fatalf("got %+v\nwant %+v", f, want)
	}
	s := &sockdiag.InetSocket{ID: sockdiag.SocketID{Local: netip.MustParseAddrPort("10.1.2.3:22"), Remote: netip.MustParseAddrPort("[::1]:443")}}
	one := ssFilter{sport: []uint16{22}, src: []addrMatch{{prefix: netip.MustParsePrefix("10.0.0.0/8")}}}
	if !one.matchInet(s) {
		t.Error("sport 22 and src 10/8 do not match 10.1.2.3:22")
	}
	one.dport = []uint16{80}
	if one.matchInet(s) {
		t.Error("dport 80 matches a socket to port 443")
	}
	mapped := &sockdiag.InetSocket{ID: sockdiag.SocketID{Local: netip.MustParseAddrPort("[::ffff:10.0.0.1]:22")}}
	if !(&ssFilter{src: []addrMatch{{prefix: netip.MustParsePrefix("10.0.0.0/8")}}}).matchInet(mapped) {
		t.Error("an IPv4-mapped address does not match its IPv4 prefix")
	}
}

func equalFilter(a, b ssFilter) bool {
	s := func(f ssFilter) string {
		var parts []string
		for _, p := range f.sport {
			parts = append(parts, "s"+string(rune(p)))
		}
		for _, p := range f.dport {
			parts = append(parts, "d"+string(rune(p)))
		}
		for _, m := range f.src {
			parts = append(parts, "src"+m.prefix.String()+string(rune(m.port)))
		}
		for _, m := range f.dst {
			parts = append(parts, "dst"+m.prefix.String()+string(rune(m.port)))
		}
		return strings.Join(parts, ",")
	}
	return s(a) == s(b)
}

func TestParseSSArgsErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--bogus"}, `unknown option "--bogus"`},
		{[]string{"-q"}, "unknown option -q"},
		{[]string{"-tq"}, "unknown option -q"},
		{[]string{"-tlnp"}, "-p (show processes) is not supported"},
		{[]string{"-td"}, "-d (DCCP sockets) is not supported"},
		{[]string{"-N"}, "missing namespace name after -N"},
		{[]string{"--net"}, "missing value after --net"},
		{[]string{"--tcp=yes"}, "takes no value"},
		{[]string{"state"}, `missing value after "state"`},
		{[]string{"state", "open"}, `state "open": unknown state`},
		{[]string{"sport", ">", ":22"}, `sport ">": want a port number`},
		{[]string{"dport", "http"}, `dport "http": want a port number`},
		{[]string{"src", "1.2.3"}, `src "1.2.3": want ADDRESS`},
		{[]string{"dst", "[::1"}, `dst "[::1": want ADDRESS`},
		{[]string{"dst", "[::1]x"}, `dst "[::1]x": want ADDRESS`},
		{[]string{"src", "1.2.3.4:99999"}, `want ADDRESS`},
		{[]string{"sport", ":22", "or", "sport", ":80"}, `"or": only conditions joined by and`},
		{[]string{"blah"}, `unknown argument "blah"`},
	}
	for _, tt := range tests {
		_, err := parseSSArgs(tt.args)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "ss") {
			t.Errorf("%q: error %v, want one containing %q", tt.args, err, tt.want)
		}
	}
}

// The plan follows ss.c: which tables, which states, which columns.
func TestSSPlan(t *testing.T) {
	conn, estab := sockdiag.ConnectedStates, sockdiag.States(sockdiag.StateEstablished)
	v4, v6 := sockdiag.FamilyIPv4, sockdiag.FamilyIPv6
	tests := []struct {
		args                 []string
		unix, udp, tcp, mp   bool
		families             []sockdiag.Family
		tcpStates, udpStates sockdiag.StateSet
		netid, state         bool
	}{
		{nil, true, true, true, true, []sockdiag.Family{v4, v6}, conn, conn, true, true},
		{[]string{"-t"}, false, false, true, false, []sockdiag.Family{v4, v6}, conn, conn, false, true},
		{[]string{"-u"}, false, true, false, false, []sockdiag.Family{v4, v6}, estab, estab, false, false},
		{[]string{"-ua"}, false, true, false, false, []sockdiag.Family{v4, v6}, sockdiag.AllStates, sockdiag.AllStates, false, true},
		{[]string{"-tu"}, false, true, true, false, []sockdiag.Family{v4, v6}, conn, conn, true, true},
		{[]string{"-x"}, true, false, false, false, nil, conn, conn, true, true},
		{[]string{"-l"}, true, true, true, true, []sockdiag.Family{v4, v6}, sockdiag.ListeningStates, sockdiag.ListeningStates, true, true},
		{[]string{"-4"}, false, true, true, true, []sockdiag.Family{v4}, conn, conn, true, true},
		{[]string{"-t6"}, false, false, true, false, []sockdiag.Family{v6}, conn, conn, false, true},
		{[]string{"-x4"}, true, true, true, true, []sockdiag.Family{v4}, conn, conn, true, true},
		{[]string{"-t", "state", "listening"}, false, false, true, false, []sockdiag.Family{v4, v6}, sockdiag.States(sockdiag.StateListen), sockdiag.States(sockdiag.StateListen), false, false},
		{[]string{"-K"}, false, true, true, false, []sockdiag.Family{v4, v6}, conn, conn, true, true},
		{[]string{"-M"}, false, false, false, true, []sockdiag.Family{v4, v6}, conn, conn, false, true},
		{[]string{"-tM", "-l"}, false, false, true, true, []sockdiag.Family{v4, v6}, sockdiag.ListeningStates, sockdiag.ListeningStates, true, true},
	}
	for _, tt := range tests {
		o, err := parseSSArgs(tt.args)
		if err != nil {
			t.Fatal(err)
		}
		p := o.plan()
		if p.unix != tt.unix || p.udp != tt.udp || p.tcp != tt.tcp || p.mptcp != tt.mp || !equalFamilies(p.families, tt.families) ||
			p.tcpStates != tt.tcpStates || p.udpStates != tt.udpStates || p.showNetid != tt.netid || p.showState != tt.state {
			t.Errorf("%q: plan %+v", tt.args, p)
		}
	}
}

func equalFamilies(a, b []sockdiag.Family) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSSAddr(t *testing.T) {
	tests := []struct {
		ap     string
		v6only bool
		ifname string
		want   string
	}{
		{"127.0.0.1:22", false, "", "127.0.0.1:22"},
		{"0.0.0.0:0", false, "", "0.0.0.0:*"},
		{"[::1]:22", true, "", "[::1]:22"},
		{"[::]:22", false, "", "*:22"},
		{"[::]:22", true, "", "[::]:22"},
		{"[::]:0", false, "", "*:*"},
		{"[::1]:5005", true, "lo", "[::1]%lo:5005"},
		{"10.0.0.1:80", false, "eth0", "10.0.0.1%eth0:80"},
		{"[::ffff:127.0.0.1]:80", false, "", "[::ffff:127.0.0.1]:80"},
	}
	for _, tt := range tests {
		if got := ssAddr(netip.MustParseAddrPort(tt.ap), tt.v6only, tt.ifname); got != tt.want {
			t.Errorf("ssAddr(%s, %v, %q) = %q, want %q", tt.ap, tt.v6only, tt.ifname, got, tt.want)
		}
	}
}

func TestSSHelp(t *testing.T) {
	out, errOut, code := nlkit(t, "ss", "--help")
	if code != 0 || errOut != "" || !strings.Contains(out, "Usage: nlkit ss [OPTIONS] [FILTER]") || strings.Contains(out, "Global Flags") {
		t.Fatalf("exit %d, stderr %q, help:\n%s", code, errOut, out)
	}
}

func TestSSTCPInfoText(t *testing.T) {
	j := toTCPInfo(&sockdiag.TCPInfo{Options: sockdiag.OptTimestamps | sockdiag.OptSACK | sockdiag.OptWScale, SendWScale: 7, RecvWScale: 9,
		RTO: 204e6, RTT: 1500e3, RTTVar: 750e3, SendMSS: 1448, SendCwnd: 10, SendSSThresh: 0x7fffffff, PacingRate: ^uint64(0)})
	text := j.text("cubic")
	for _, want := range []string{"ts sack cubic wscale:7,9 rto:204 rtt:1.5/0.75", "mss:1448", "cwnd:10"} {
		if !strings.Contains(text, want) {
			t.Errorf("%q lacks %q", text, want)
		}
	}
	if strings.Contains(text, " ssthresh:") || strings.Contains(text, "pacing_rate") || strings.Contains(text, " wscale ") {
		t.Errorf("%q shows what ss leaves out", text)
	}
}

func TestMSTimer(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{200 * time.Millisecond, "200ms"}, {1500 * time.Millisecond, "1.500ms"}, {15 * time.Second, "15sec"},
		{12*time.Second + 300*time.Millisecond, "12sec"}, {2*time.Minute + 5*time.Second, "2min5sec"},
		{119 * time.Minute, "119min"}, {0, ""},
	} {
		if got := msTimer(tt.d); got != tt.want {
			t.Errorf("msTimer(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
