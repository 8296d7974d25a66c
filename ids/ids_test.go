package ids

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

func mustRule(t *testing.T, s string) *Rule {
	t.Helper()
	r, err := ParseRule(s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return r
}

func TestParseRule(t *testing.T) {
	r := mustRule(t, `drop tcp [10.0.0.0/8,!10.1.1.1] ![1:1023] <> any [80,443,8000:] (msg:"a \"quoted\"\; msg"; content:"GET |20 2F|"; nocase; offset:0; depth:10; content:!"x"; distance:1; within:5; pcre:"/ab+c/i"; sid:7; rev:2; gid:3; classtype:web-application-attack; priority:2; reference:url,example.com; metadata:created 2024;)`)
	if r.Action != ActionDrop || r.Protocol != ProtoTCP || !r.Bidirectional || r.SID != 7 || r.Rev != 2 || r.GID != 3 {
		t.Fatalf("header: %+v", r)
	}
	if r.Msg != `a "quoted"; msg` || r.ClassType != "web-application-attack" || r.Category != "Web Application Attack" || r.Priority != 2 {
		t.Fatalf("options: %+v", r)
	}
	if len(r.Contents) != 2 || string(r.Contents[0].Pattern) != "GET  /" || !r.Contents[0].NoCase || !r.Contents[0].HasDepth || r.Contents[0].Depth != 10 {
		t.Fatalf("content 0: %+v", r.Contents[0])
	}
	if c := r.Contents[1]; !c.Negated || c.Distance != 1 || c.Within != 5 {
		t.Fatalf("content 1: %+v", c)
	}
	if len(r.PCREs) != 1 || !r.PCREs[0].Regexp.MatchString("xABBC") {
		t.Fatalf("pcre: %+v", r.PCREs)
	}
	for _, tc := range []struct {
		addr string
		in   bool
	}{{"10.2.3.4", true}, {"10.1.1.1", false}, {"11.0.0.1", false}, {"::1", false}} {
		if got := r.Src.Contains(netip.MustParseAddr(tc.addr)); got != tc.in {
			t.Errorf("src contains %s: %v", tc.addr, got)
		}
	}
	for _, tc := range []struct {
		port   uint16
		sp, dp bool
	}{{80, false, true}, {1023, false, false}, {8080, true, true}, {1, false, false}, {0, true, false}} {
		if r.SrcPorts.Contains(tc.port) != tc.sp || r.DstPorts.Contains(tc.port) != tc.dp {
			t.Errorf("port %d: src %v dst %v", tc.port, r.SrcPorts.Contains(tc.port), r.DstPorts.Contains(tc.port))
		}
	}
	if r.Priority != 2 {
		t.Errorf("priority %d", r.Priority)
	}
	// Classification priority when no priority option.
	if r := mustRule(t, `alert ip any any -> any any (sid:1; classtype:trojan-activity;)`); r.Priority != 1 {
		t.Errorf("priority from classtype: %d", r.Priority)
	}
	if r := mustRule(t, `alert icmp any any -> any any (sid:1;)`); r.Priority != 3 {
		t.Errorf("default priority: %d", r.Priority)
	}
}

func TestParseFileVariablesAndErrors(t *testing.T) {
	src := `# comment
var HOME_NET [192.168.0.0/16]
portvar WEB [80,8080]
config classification: my-class,My Class,2

alert tcp $EXTERNAL_NET any -> $HOME_NET $WEB (msg:"web"; \
  content:"x"; classtype:my-class; sid:1;)
alert udp any any -> any any (msg:"dup"; sid:1;)
alert udp any any -> $NOPE any (sid:3;)
alert udp any any -> any any (sid:4; content:"a"; depth:0;)
alert udp any any -> any any (sid:5; nocase;)
alert udp any any -> any any (sid:6; pcre:"/(a)\1/";)
alert udp any any -> any any (sid:7; flowbits:set,x;)
reject udp any any -> any any (sid:8;)
alert udp any any -> any any (msg:"no sid";)
alert sctp any any -> any any (sid:9;)
alert udp any 70000 -> any any (sid:10;)
alert icmp any 80 -> any any (sid:11;)
alert udp any any -> any any (sid:12; content:"|4|";)
`
	_, err := Parse(strings.NewReader(src), &Options{File: "t.rules"})
	if err == nil {
		t.Fatal("bad rules accepted")
	}
	want := []string{
		`t.rules:8: option "sid": sid 1 (gid 1) is already used by the rule on line 6`,
		`t.rules:9: destination address "$NOPE": undefined variable $NOPE`,
		`t.rules:10: option "depth": 0 is shorter than the pattern`,
		`t.rules:11: option "nocase": modifies a content, but no content precedes it`,
		`t.rules:12: option "pcre": "(a)\\1"`,
		`t.rules:13: option "flowbits": unknown or unsupported option`,
		`t.rules:14: action "reject" is not supported`,
		`t.rules:15: rule has no sid`,
		`t.rules:16: protocol "sctp" is not supported`,
		`t.rules:17: source port "70000": "70000" is not a port`,
		`t.rules:18: ports must be any for protocol icmp`,
		`t.rules:19: option "content": odd number of hex digits`,
	}
	msg := err.Error()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error lacks %q:\n%s", w, msg)
		}
	}
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 8 || pe.Option != "sid" {
		t.Errorf("first ParseError: %+v", pe)
	}
	// The good rule of that file, with its variables.
	rs, err := Parse(strings.NewReader(strings.Join(strings.Split(src, "\n")[:7], "\n")), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := rs.Rules[0]
	if r.Line != 6 || r.Category != "My Class" || r.Priority != 2 || !r.Src.Any ||
		!r.Dst.Contains(netip.MustParseAddr("192.168.1.1")) || r.Dst.Contains(netip.MustParseAddr("10.0.0.1")) ||
		!r.DstPorts.Contains(8080) || r.DstPorts.Contains(81) {
		t.Errorf("rule %+v", r)
	}
	// Options.Vars override; cycles are caught.
	if _, err := Parse(strings.NewReader("alert ip $A any -> any any (sid:1;)"), &Options{Vars: map[string]string{"A": "$B", "B": "$A"}}); err == nil || !strings.Contains(err.Error(), "too deep") {
		t.Errorf("variable cycle: %v", err)
	}
}

func TestAhoCorasick(t *testing.T) {
	pats := [][]byte{[]byte("he"), []byte("she"), []byte("his"), []byte("HERS"), []byte("\x00\xff"), {}}
	a := newAC(pats)
	type hit struct{ p, end int }
	var got []hit
	a.scan([]byte("uSHErs \x00\xff"), func(p, end int) bool { got = append(got, hit{p, end}); return true })
	want := []hit{{1, 4}, {0, 4}, {3, 6}, {4, 9}}
	if len(got) != len(want) {
		t.Fatalf("hits %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("hits %v, want %v", got, want)
		}
	}
	// Against a naive search on random input.
	rng := rand.New(rand.NewSource(1))
	alpha := []byte("abcAB\x00")
	rnd := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = alpha[rng.Intn(len(alpha))]
		}
		return b
	}
	for round := 0; round < 200; round++ {
		var ps [][]byte
		for i := 0; i < 1+rng.Intn(8); i++ {
			ps = append(ps, rnd(1+rng.Intn(4)))
		}
		text := rnd(rng.Intn(60))
		a := newAC(ps)
		count := map[[2]int]int{}
		a.scan(text, func(p, end int) bool { count[[2]int{p, end}]++; return true })
		for pi, p := range ps {
			lp := bytes.ToLower(p)
			for end := len(p); end <= len(text); end++ {
				n := count[[2]int{pi, end}]
				want := 0
				if bytes.Equal(bytes.ToLower(text[end-len(p):end]), lp) {
					want = 1
				}
				if n != want {
					t.Fatalf("patterns %q text %q: pattern %d at %d reported %d times, want %d", ps, text, pi, end, n, want)
				}
			}
		}
	}
}

// udp4 builds an IPv4/UDP packet.
func udpPacket(t testing.TB, src, dst string, sport, dport uint16, payload string) []byte {
	t.Helper()
	s, d := netip.MustParseAddr(src), netip.MustParseAddr(dst)
	u := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	var ls []gopacket.SerializableLayer
	if s.Is4() {
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: s.AsSlice(), DstIP: d.AsSlice()}
		u.SetNetworkLayerForChecksum(ip)
		ls = append(ls, ip)
	} else {
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolUDP, SrcIP: s.AsSlice(), DstIP: d.AsSlice()}
		u.SetNetworkLayerForChecksum(ip)
		ls = append(ls, ip)
	}
	ls = append(ls, u, gopacket.Payload(payload))
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func tcpPacket(t testing.TB, src, dst string, sport, dport uint16, payload string) []byte {
	t.Helper()
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: netip.MustParseAddr(src).AsSlice(), DstIP: netip.MustParseAddr(dst).AsSlice()}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), ACK: true, PSH: true, Window: 100}
	tcp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, tcp, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func icmp6Echo(t testing.TB) []byte {
	t.Helper()
	ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolICMPv6, SrcIP: netip.MustParseAddr("fd00::1").AsSlice(), DstIP: netip.MustParseAddr("fd00::2").AsSlice()}
	ic := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeEchoRequest, 0)}
	ic.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, ic, gopacket.Payload("\x00\x01\x00\x02ping")); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecode(t *testing.T) {
	d := NewDecoder()
	var p Packet
	if err := d.Decode(udpPacket(t, "10.0.0.1", "10.0.0.2", 1234, 53, "hello"), &p); err != nil {
		t.Fatal(err)
	}
	if p.Src != netip.MustParseAddr("10.0.0.1") || p.DstPort != 53 || p.SrcPort != 1234 || p.IPProto != 17 || string(p.Payload) != "hello" {
		t.Fatalf("%+v", p)
	}
	if err := d.Decode(udpPacket(t, "fd00::1", "fd00::2", 1, 2, "six"), &p); err != nil || !p.Src.Is6() || string(p.Payload) != "six" {
		t.Fatalf("%v %+v", err, p)
	}
	if err := d.Decode(icmp6Echo(t), &p); err != nil || p.IPProto != 58 || p.ICMPType != 128 || string(p.Payload) != "ping" {
		t.Fatalf("icmpv6: %v %+v", err, p)
	}
	if err := d.Decode([]byte{0x20, 1, 2}, &p); !errors.Is(err, ErrNotIP) {
		t.Fatalf("not IP: %v", err)
	}
	// A cut transport header keeps the addresses.
	b := tcpPacket(t, "10.0.0.1", "10.0.0.2", 1, 2, "x")
	if err := d.Decode(b[:24], &p); err == nil || !p.Src.IsValid() || p.Payload != nil {
		t.Fatalf("cut packet: %v %+v", err, p)
	}
}

const engineRules = `
drop udp any any -> any 53 (msg:"evil dns"; content:"evil"; nocase; sid:1; classtype:trojan-activity;)
alert udp any any -> any 53 (msg:"any dns"; content:"|00 01|"; sid:2;)
pass udp 10.9.9.9 any -> any any (msg:"trusted"; sid:3;)
alert tcp any any <> 10.0.0.2 80 (msg:"GET then Host"; content:"GET"; depth:3; content:"Host:"; distance:0; sid:4;)
alert tcp any any -> any 80 (msg:"relative"; content:"ab"; content:"cd"; distance:0; within:2; sid:5;)
alert tcp any any -> any 80 (msg:"negated"; content:"login"; content:!"secure"; sid:6;)
alert tcp any any -> any 80 (msg:"pcre"; pcre:"/^POST \/[a-z]+\.php/"; sid:7;)
alert icmp any any -> any any (msg:"ping6"; content:"ping"; sid:8;)
alert ip any any -> 10.0.0.99 any (msg:"to 99"; sid:9;)
alert tcp any any -> any 80 (msg:"case"; content:"CaSe"; sid:10;)
`

func TestEngine(t *testing.T) {
	rs, err := Parse(strings.NewReader(engineRules), nil)
	if err != nil {
		t.Fatal(err)
	}
	e := NewEngine(rs)
	d := NewDecoder()
	cases := []struct {
		name string
		pkt  []byte
		v    Verdict
		sids []uint32
	}{
		{"evil dns", udpPacket(t, "10.0.0.1", "10.0.0.2", 999, 53, "\x00\x01 EVIL.com"), Drop, []uint32{1, 2}},
		{"plain dns", udpPacket(t, "10.0.0.1", "10.0.0.2", 999, 53, "\x00\x01 good"), Accept, []uint32{2}},
		{"other port", udpPacket(t, "10.0.0.1", "10.0.0.2", 999, 54, "evil"), Accept, nil},
		{"pass wins", udpPacket(t, "10.9.9.9", "10.0.0.2", 999, 53, "evil"), Accept, nil},
		{"bidirectional forward", tcpPacket(t, "10.0.0.1", "10.0.0.2", 5555, 80, "GET / HTTP/1.1\r\nHost: x"), Accept, []uint32{4}},
		{"bidirectional reverse", tcpPacket(t, "10.0.0.2", "10.0.0.1", 80, 5555, "GET x Host:"), Accept, []uint32{4}},
		{"depth", tcpPacket(t, "10.0.0.1", "10.0.0.2", 5555, 80, " GET Host:"), Accept, nil},
		{"within backtracks", tcpPacket(t, "10.0.0.1", "10.0.0.3", 1, 80, "ab xx abcd"), Accept, []uint32{5}},
		{"within misses", tcpPacket(t, "10.0.0.1", "10.0.0.3", 1, 80, "ab xcd"), Accept, nil},
		{"negated absent", tcpPacket(t, "10.0.0.1", "10.0.0.3", 1, 80, "login now"), Accept, []uint32{6}},
		{"negated present", tcpPacket(t, "10.0.0.1", "10.0.0.3", 1, 80, "secure login"), Accept, nil},
		{"pcre", tcpPacket(t, "10.0.0.1", "10.0.0.3", 1, 80, "POST /admin.php HTTP/1.1"), Accept, []uint32{7}},
		{"icmpv6", icmp6Echo(t), Accept, []uint32{8}},
		{"ip rule", udpPacket(t, "10.0.0.1", "10.0.0.99", 1, 2, ""), Accept, []uint32{9}},
		{"case sensitive hit", tcpPacket(t, "10.0.0.1", "10.0.0.3", 1, 80, "xCaSe"), Accept, []uint32{10}},
		{"case sensitive miss", tcpPacket(t, "10.0.0.1", "10.0.0.3", 1, 80, "xcase"), Accept, nil},
	}
	var res Result
	var p Packet
	for _, c := range cases {
		if err := d.Decode(c.pkt, &p); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		e.Inspect(&p, &res)
		var sids []uint32
		for _, r := range res.Alerts {
			sids = append(sids, r.SID)
			if !r.Matches(&p) {
				t.Errorf("%s: sid %d reported but Matches says no", c.name, r.SID)
			}
		}
		if res.Verdict != c.v || len(sids) != len(c.sids) {
			t.Errorf("%s: verdict %v sids %v, want %v %v", c.name, res.Verdict, sids, c.v, c.sids)
			continue
		}
		for i := range sids {
			if sids[i] != c.sids[i] {
				t.Errorf("%s: sids %v, want %v", c.name, sids, c.sids)
			}
		}
		// The prefilter never hides a match: check every rule alone.
		for _, r := range rs.Rules {
			if r.Action == ActionPass || res.Pass != nil {
				continue
			}
			found := false
			for _, a := range res.Alerts {
				found = found || a == r
			}
			if r.Matches(&p) != found {
				t.Errorf("%s: sid %d matches alone: %v, reported: %v", c.name, r.SID, r.Matches(&p), found)
			}
		}
	}
}

func TestEVE(t *testing.T) {
	r := mustRule(t, `drop udp any any -> any any (msg:"m"; sid:9; rev:4; classtype:attempted-admin;)`)
	var buf bytes.Buffer
	w := NewEVEWriter(&buf)
	w.Payload = true
	p := Packet{Timestamp: time.Date(2024, 1, 2, 3, 4, 5, 6000, time.FixedZone("", 3600)), InIface: "eth0",
		Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"), IPProto: 17, SrcPort: 1, DstPort: 2, Payload: []byte("a\x00b")}
	if err := w.Alert(&p, r); err != nil {
		t.Fatal(err)
	}
	rev := p
	rev.Src, rev.Dst, rev.SrcPort, rev.DstPort = p.Dst, p.Src, p.DstPort, p.SrcPort
	if flowID(&rev) != flowID(&p) {
		t.Error("flow_id differs by direction")
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := `{"timestamp":"2024-01-02T03:04:05.000006+0100","flow_id":` + jsonNum(flowID(&p)) + `,"in_iface":"eth0","event_type":"alert","src_ip":"10.0.0.1","src_port":1,"dest_ip":"10.0.0.2","dest_port":2,"proto":"UDP","alert":{"action":"blocked","gid":1,"signature_id":9,"rev":4,"signature":"m","category":"Attempted Administrator Privilege Gain","severity":1},"payload":"YQBi","payload_printable":"a.b"}` + "\n"
	if buf.String() != want {
		t.Errorf("EVE line\n got %s\nwant %s", buf.String(), want)
	}
	// ICMP: type and code, no ports.
	a := NewEVEAlert(&Packet{Src: p.Src, Dst: p.Dst, IPProto: 1, ICMPType: 8}, mustRule(t, `alert icmp any any -> any any (sid:1;)`))
	b, _ := json.Marshal(a)
	if !strings.Contains(string(b), `"proto":"ICMP","icmp_type":8,"icmp_code":0`) || strings.Contains(string(b), "port") || a.Alert.Action != "allowed" {
		t.Errorf("ICMP alert %s", b)
	}
}

func jsonNum(v uint64) string { b, _ := json.Marshal(v); return string(b) }

func TestDetectorSwap(t *testing.T) {
	one := NewEngine(&Rules{Rules: []*Rule{mustRule(t, `drop udp any any -> any any (content:"x"; sid:1;)`)}})
	det := NewDetector(one, nil)
	w := det.NewWorker()
	pkt := udpPacket(t, "10.0.0.1", "10.0.0.2", 1, 2, "x")
	if v := w.Inspect(pkt, time.Time{}, ""); v != Drop {
		t.Fatalf("verdict %v", v)
	}
	if old := det.Swap(NewEngine(nil)); old != one {
		t.Fatal("Swap did not return the old engine")
	}
	if v := w.Inspect(pkt, time.Time{}, ""); v != Accept {
		t.Fatalf("after swap: %v", v)
	}
	w.Inspect([]byte{1, 2, 3}, time.Time{}, "")
	if c := det.Counters(); c.Packets != 3 || c.Dropped != 1 || c.Accepted != 2 || c.Alerts != 1 || c.Undecodable != 1 {
		t.Errorf("counters %+v", c)
	}
}

func FuzzParseRule(f *testing.F) {
	for _, l := range strings.Split(engineRules, "\n") {
		f.Add(l)
	}
	f.Add(`alert tcp [1.1.1.1,![2.2.2.2,3.3.3.3]] [1:2,!5] -> $HOME_NET any (msg:"\;"; content:"|0a|b"; within:3; sid:1;)`)
	f.Add(`alert ip any any -> any any (sid:1; pcre:"/a/ism";)`)
	f.Fuzz(func(t *testing.T, s string) {
		rs, err := Parse(strings.NewReader(s), nil)
		if err != nil {
			return
		}
		// Whatever parses compiles and inspects without panicking, and
		// the prefilter agrees with matching each rule alone.
		e := NewEngine(rs)
		d := NewDecoder()
		var p Packet
		var res Result
		for _, b := range [][]byte{udpPacket(t, "1.1.1.1", "2.2.2.2", 1, 2, s), tcpPacket(t, "1.1.1.1", "3.3.3.3", 5, 80, s)} {
			_ = d.Decode(b, &p)
			e.Inspect(&p, &res)
			if res.Pass != nil {
				continue
			}
			for _, r := range res.Alerts {
				if !r.Matches(&p) {
					t.Fatalf("sid %d reported but does not match", r.SID)
				}
			}
		}
	})
}

func FuzzDecode(f *testing.F) {
	f.Add(udpPacket(f, "10.0.0.1", "10.0.0.2", 1, 2, "x"))
	f.Add(udpPacket(f, "fd00::1", "fd00::2", 1, 2, "x"))
	f.Add(tcpPacket(f, "10.0.0.1", "10.0.0.2", 1, 2, "x"))
	f.Add(icmp6Echo(f))
	f.Add([]byte{0x45})
	f.Fuzz(func(t *testing.T, b []byte) {
		d := NewDecoder()
		var p Packet
		err := d.Decode(b, &p)
		if err == nil && !p.Src.IsValid() {
			t.Fatal("decoded without addresses")
		}
		if len(p.Payload) > len(b) {
			t.Fatal("payload longer than the packet")
		}
	})
}

func TestDecodeFragments(t *testing.T) {
	d := NewDecoder()
	var p Packet
	// An IPv4 fragment with the more-fragments flag: no ports.
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, Flags: layers.IPv4MoreFragments,
		SrcIP: netip.MustParseAddr("10.0.0.1").AsSlice(), DstIP: netip.MustParseAddr("10.0.0.2").AsSlice()}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, ip, gopacket.Payload("\x00\x35\x00\x35abcdefgh")); err != nil {
		t.Fatal(err)
	}
	if err := d.Decode(buf.Bytes(), &p); err != nil || !p.Fragment || p.DstPort != 0 {
		t.Fatalf("IPv4 fragment: %v %+v", err, p)
	}
	// An IPv6 non-first fragment: a UDP next header, but no UDP header.
	frag := []byte{17, 0, 0, 8 | 1, 0, 0, 0, 1} // next UDP, offset 1 (8 bytes), M
	ip6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolIPv6Fragment,
		SrcIP: netip.MustParseAddr("fd00::1").AsSlice(), DstIP: netip.MustParseAddr("fd00::2").AsSlice()}
	buf = gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, ip6, gopacket.Payload(append(frag, "\x00\x35\x00\x35abcdefgh"...))); err != nil {
		t.Fatal(err)
	}
	if err := d.Decode(buf.Bytes(), &p); err != nil || !p.Fragment || p.DstPort != 0 || p.IPProto != 17 {
		t.Fatalf("IPv6 fragment: %v %+v", err, p)
	}
	r := mustRule(t, `alert udp any any -> any 53 (sid:1;)`)
	if r.Matches(&p) {
		t.Error("a udp rule matched a fragment")
	}
	if !mustRule(t, `alert ip any any -> fd00::2 any (sid:1;)`).Matches(&p) {
		t.Error("an ip rule missed a fragment")
	}
}
