package main

import (
	"context"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nlkit/nlkit/rtnl"
)

func TestParseRouteRequest(t *testing.T) {
	p, a := netip.MustParsePrefix, netip.MustParseAddr
	tests := []struct {
		args []string
		fam  uint8
		want rtnl.Route
	}{
		{[]string{"10.1.0.0/16", "via", "10.0.0.2", "metric", "10", "proto", "static", "table", "1000"},
			0, rtnl.Route{Family: 2, Dst: p("10.1.0.0/16"), Gateway: a("10.0.0.2"), Priority: 10, Protocol: rtnl.RouteProtoStatic, Table: 1000}},
		{[]string{"default", "via", "2001:db8::1"},
			0, rtnl.Route{Family: 10, Dst: p("::/0"), Gateway: a("2001:db8::1")}},
		{[]string{"default"}, 10, rtnl.Route{Family: 10, Dst: p("::/0")}},
		{[]string{"default", "via", "10.0.0.1"}, 0, rtnl.Route{Family: 2, Dst: p("0.0.0.0/0"), Gateway: a("10.0.0.1")}},
		{[]string{"to", "10.4.4.4", "scope", "host"}, 0, rtnl.Route{Family: 2, Dst: p("10.4.4.4/32"), Scope: rtnl.ScopeHost}},
		{[]string{"10.4.4.4"}, 0, rtnl.Route{Family: 2, Dst: p("10.4.4.4/32"), Scope: rtnl.ScopeLink}},
		{[]string{"blackhole", "10.9.0.0/16"}, 0, rtnl.Route{Family: 2, Dst: p("10.9.0.0/16"), Type: rtnl.RouteTypeBlackhole}},
		{[]string{"local", "10.0.0.9", "table", "local"}, 0, rtnl.Route{Family: 2, Dst: p("10.0.0.9/32"), Type: rtnl.RouteTypeLocal, Table: 255}},
		{[]string{"10.12.0.0/16", "via", "inet6", "fe80::1", "onlink"}, 0, rtnl.Route{Family: 2, Dst: p("10.12.0.0/16"), Gateway: a("fe80::1"), Flags: rtnl.RouteFlagOnLink}},
		{[]string{"2001:db8::/32", "from", "2001:db8:1::/48", "src", "2001:db8::1", "pref", "high", "expires", "60", "tos", "0x10"},
			0, rtnl.Route{Family: 10, Dst: p("2001:db8::/32"), Src: p("2001:db8:1::/48"), PrefSrc: a("2001:db8::1"), Pref: rtnl.RoutePrefHigh, Expires: time.Minute, TOS: 0x10}},
		{[]string{"10.2.0.0/16", "via", "10.0.0.2", "mtu", "lock", "1400", "advmss", "1300", "rtt", "2s", "rttvar", "lock", "50ms", "hoplimit", "9",
			"initcwnd", "10", "initrwnd", "20", "window", "3", "cwnd", "4", "ssthresh", "5", "reordering", "6", "rto_min", "200", "quickack", "1",
			"congctl", "lock", "bbr", "features", "ecn", "fastopen_no_cookie", "1"},
			0, rtnl.Route{Family: 2, Dst: p("10.2.0.0/16"), Gateway: a("10.0.0.2"), Metrics: &rtnl.RouteMetrics{
				Lock: rtnl.LockMTU | rtnl.LockRTTVar | rtnl.LockRTOMin | rtnl.LockCongestion, MTU: 1400, AdvMSS: 1300,
				RTT: 2 * time.Second, RTTVar: 50 * time.Millisecond, HopLimit: 9, InitCWnd: 10, InitRWnd: 20, Window: 3,
				CWnd: 4, SSThresh: 5, Reordering: 6, RTOMin: 200 * time.Millisecond, QuickAck: 1, CongestionControl: "bbr",
				Features: 1, FastOpenNoCookie: 1}}},
		{[]string{"10.5.0.0/16", "nexthop", "via", "10.0.0.2", "weight", "3", "nexthop", "via", "10.0.0.3", "onlink"},
			0, rtnl.Route{Family: 2, Dst: p("10.5.0.0/16"), MultiPath: []rtnl.NextHop{
				{Gateway: a("10.0.0.2"), Weight: 3}, {Gateway: a("10.0.0.3"), Weight: 1, Flags: rtnl.RouteFlagOnLink}}}},
		{[]string{"10.6.0.0/16", "nhid", "7", "metric", "0x10"}, 0, rtnl.Route{Family: 2, Dst: p("10.6.0.0/16"), NextHopID: 7, Priority: 16}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			req, err := parseRouteRequest("add", tt.args)
			if err != nil {
				t.Fatal(err)
			}
			// No device named: build needs no kernel.
			if err := req.build(context.Background(), nil, "add", tt.fam); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(req.route, tt.want) {
				t.Fatalf("\n got %+v\nwant %+v", req.route, tt.want)
			}
		})
	}
}

func TestParseRouteRequestErrors(t *testing.T) {
	tests := []struct {
		args []string
		fam  uint8
		want string
	}{
		{nil, 0, "missing destination: PREFIX or default"},
		{[]string{"via", "10.0.0.1"}, 0, "missing destination"},
		{[]string{"10.0.0.0/33"}, 0, `bad prefix "10.0.0.0/33"`},
		{[]string{"10.0.0.0/8", "10.1.0.0/16"}, 0, `unknown argument "10.1.0.0/16"`},
		{[]string{"to", "10.0.0.0/8", "to", "10.1.0.0/16"}, 0, "two destinations"},
		{[]string{"10.0.0.0/8", "via"}, 0, `missing value after "via"`},
		{[]string{"10.0.0.0/8", "via", "inet6"}, 0, `missing value after "via inet6"`},
		{[]string{"10.0.0.0/8", "via", "gw"}, 0, `bad address "gw"`},
		{[]string{"10.0.0.0/8", "via", "10.0.0.1", "via", "10.0.0.2"}, 0, "two gateways"},
		{[]string{"10.0.0.0/8", "via", "2001:db8::1"}, 0, `write "via inet6 2001:db8::1"`},
		{[]string{"10.0.0.0/8", "via", "inet", "2001:db8::1"}, 0, "not of family inet"},
		{[]string{"2001:db8::/32", "via", "10.0.0.1"}, 0, "gateway 10.0.0.1 is IPv4 but 2001:db8::/32 is IPv6"},
		{[]string{"2001:db8::/32", "via", "inet", "10.0.0.1"}, 0, "IPv6 routes cannot have IPv4 gateways"},
		{[]string{"2001:db8::/32", "nexthop", "via", "10.0.0.1"}, 0, "gateway 10.0.0.1 is IPv4"},
		{[]string{"10.0.0.0/8", "src", "2001:db8::1"}, 0, "src 2001:db8::1 is IPv6 but 10.0.0.0/8 is IPv4"},
		{[]string{"10.0.0.0/8"}, 10, "10.0.0.0/8 is not an IPv6 prefix"},
		{[]string{"10.0.0.0/8", "metric"}, 0, `missing value after "metric"`},
		{[]string{"10.0.0.0/8", "metric", "-1"}, 0, `metric "-1": not a number`},
		{[]string{"10.0.0.0/8", "table", "all"}, 0, `table "all"`},
		{[]string{"10.0.0.0/8", "table", "mian"}, 0, `table "mian"`},
		{[]string{"10.0.0.0/8", "proto", "bogus"}, 0, `proto "bogus"`},
		{[]string{"10.0.0.0/8", "scope", "far"}, 0, `scope "far"`},
		{[]string{"10.0.0.0/8", "hoplimit", "256"}, 0, "hoplimit"},
		{[]string{"10.0.0.0/8", "rtt", "fast"}, 0, `rtt "fast"`},
		{[]string{"10.0.0.0/8", "quickack", "2"}, 0, "want 0 or 1"},
		{[]string{"10.0.0.0/8", "features", "sack"}, 0, "only feature is ecn"},
		{[]string{"10.0.0.0/8", "pref", "top"}, 0, `pref "top"`},
		{[]string{"10.0.0.0/8", "expires", "60"}, 0, "only IPv6 routes can expire"},
		{[]string{"10.0.0.0/8", "frob"}, 0, `unknown argument "frob"`},
		{[]string{"blackhole"}, 0, `missing PREFIX after "blackhole"`},
		{[]string{"10.0.0.0/8", "nexthop"}, 0, `missing next hop after "nexthop"`},
		{[]string{"10.0.0.0/8", "nexthop", "weight", "2"}, 0, "nexthop needs via ADDR or dev DEV"},
		{[]string{"10.0.0.0/8", "nexthop", "via", "10.0.0.2", "weight", "0"}, 0, "weight 0: want 1 to 256"},
		{[]string{"10.0.0.0/8", "nexthop", "via", "10.0.0.2", "weight", "257"}, 0, "weight 257"},
		{[]string{"10.0.0.0/8", "nexthop", "via", "10.0.0.2", "metric", "5"}, 0, `unknown argument "metric" in nexthop`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			req, err := parseRouteRequest("add", tt.args)
			if err == nil {
				err = req.build(context.Background(), nil, "add", tt.fam)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "route add") {
				t.Errorf("error does not name the command: %v", err)
			}
		})
	}
}

func TestParseRouteShow(t *testing.T) {
	tests := []struct {
		args []string
		fam  uint8
		want rtnl.RouteFilter
		all  bool
	}{
		{nil, 0, rtnl.RouteFilter{Family: 2, Table: rtnl.TableMain}, false},
		{nil, 10, rtnl.RouteFilter{Family: 10, Table: rtnl.TableMain}, false},
		{[]string{"table", "all"}, 0, rtnl.RouteFilter{Table: rtnl.TableAll}, true},
		{[]string{"table", "100", "proto", "static", "type", "blackhole", "scope", "link"}, 0,
			rtnl.RouteFilter{Family: 2, Table: 100, Protocol: rtnl.RouteProtoStatic, Type: rtnl.RouteTypeBlackhole, Scope: rtnl.ScopeLink}, false},
		{[]string{"2001:db8::/32"}, 0, rtnl.RouteFilter{Family: 10, Table: rtnl.TableMain}, false},
		{[]string{"table", "local", "root", "10.0.0.0/8"}, 0, rtnl.RouteFilter{Family: 2, Table: rtnl.TableLocal}, false},
	}
	for _, tt := range tests {
		s, err := parseRouteShow(tt.fam, tt.args)
		if err != nil {
			t.Errorf("%v: %v", tt.args, err)
			continue
		}
		if s.filter != tt.want || s.view.allTables != tt.all {
			t.Errorf("%v: filter %+v (all %v), want %+v (all %v)", tt.args, s.filter, s.view.allTables, tt.want, tt.all)
		}
	}
	for args, want := range map[string]string{
		"table":                  `missing value after "table"`,
		"table nosuch":           `table "nosuch"`,
		"proto x":                `proto "x"`,
		"type none":              `type "none"`,
		"scope global":           "scope global cannot be selected",
		"frob":                   `unknown argument "frob"`,
		"10.0.0.0/8 10.1.0.0/16": `unknown argument "10.1.0.0/16"`,
		"exact 10.0.0.0/33":      "bad prefix",
		"dev":                    `missing value after "dev"`,
	} {
		if _, err := parseRouteShow(0, strings.Fields(args)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want an error containing %q", args, err, want)
		}
	}
	if _, err := parseRouteShow(10, []string{"10.0.0.0/8"}); err == nil {
		t.Error("IPv4 prefix with -6 accepted")
	}
}

func TestRouteSelectPrefix(t *testing.T) {
	r := &rtnl.Route{Dst: netip.MustParsePrefix("10.1.0.0/16")}
	for _, tt := range []struct {
		mode, prefix string
		want         bool
	}{
		{"exact", "10.1.0.0/16", true}, {"exact", "10.1.0.0/24", false},
		{"root", "10.0.0.0/8", true}, {"root", "10.1.2.0/24", false},
		{"match", "10.1.2.3/32", true}, {"match", "10.0.0.0/8", false},
	} {
		s := routeSelect{mode: tt.mode, prefix: netip.MustParsePrefix(tt.prefix)}
		if got := s.matches(r); got != tt.want {
			t.Errorf("%s %s: %v", tt.mode, tt.prefix, got)
		}
	}
}

// TestRouteText checks the text form against lines ip 6.1 printed for
// the same routes (trailing blanks removed).
func TestRouteText(t *testing.T) {
	p, a := netip.MustParsePrefix, netip.MustParseAddr
	names := map[int32]string{1: "lo", 3: "veth0"}
	tests := []struct {
		r    rtnl.Route
		view routeView
		want string
	}{
		{rtnl.Route{Family: 2, Dst: p("10.1.0.0/16"), Table: 254, Protocol: rtnl.RouteProtoStatic, Type: 1, Gateway: a("10.0.0.2"), OutIndex: 3, Priority: 10},
			routeView{}, "10.1.0.0/16 via 10.0.0.2 dev veth0 proto static metric 10"},
		{rtnl.Route{Family: 2, Dst: p("10.0.0.0/24"), Table: 254, Protocol: 2, Scope: 253, Type: 1, PrefSrc: a("10.0.0.1"), OutIndex: 3},
			routeView{}, "10.0.0.0/24 dev veth0 proto kernel scope link src 10.0.0.1"},
		{rtnl.Route{Family: 2, Dst: p("10.5.0.0/16"), Table: 254, Protocol: 3, Type: 1, MultiPath: []rtnl.NextHop{
			{Gateway: a("10.0.0.2"), OutIndex: 3, Weight: 3}, {Gateway: a("10.0.0.3"), OutIndex: 3, Weight: 1, Flags: rtnl.RouteFlagOnLink}}},
			routeView{}, "10.5.0.0/16\n\tnexthop via 10.0.0.2 dev veth0 weight 3\n\tnexthop via 10.0.0.3 dev veth0 weight 1 onlink"},
		{rtnl.Route{Family: 2, Dst: p("10.14.0.0/16"), Table: 254, Protocol: 3, Scope: 253, Type: 1, OutIndex: 3,
			Metrics: &rtnl.RouteMetrics{Lock: rtnl.LockMTU, MTU: 1300, Window: 1000, RTT: 100 * time.Millisecond, HopLimit: 5, InitCWnd: 10}},
			routeView{}, "10.14.0.0/16 dev veth0 scope link mtu lock 1300 window 1000 rtt 100ms hoplimit 5 initcwnd 10"},
		{rtnl.Route{Family: 2, Dst: p("10.12.0.0/16"), Table: 254, Protocol: 3, Type: 1, Gateway: a("fe80::1"), OutIndex: 3},
			routeView{}, "10.12.0.0/16 via inet6 fe80::1 dev veth0"},
		{rtnl.Route{Family: 2, Dst: p("10.15.0.0/16"), Table: 254, Protocol: 3, Type: 1, TOS: 0x10, Gateway: a("10.0.0.2"), OutIndex: 3},
			routeView{}, "10.15.0.0/16 tos 0x10 via 10.0.0.2 dev veth0"},
		{rtnl.Route{Family: 2, Dst: p("127.0.0.1/32"), Table: 255, Protocol: 2, Scope: 254, Type: 2, OutIndex: 1, PrefSrc: a("127.0.0.1")},
			routeView{allTables: true}, "local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.1"},
		{rtnl.Route{Family: 2, Dst: p("10.7.0.0/16"), Table: 254, Protocol: 3, Type: 8}, routeView{}, "prohibit 10.7.0.0/16"},
		{rtnl.Route{Family: 10, Dst: p("2001:db8:9::/48"), Src: p("2001:db8:a::/48"), Table: 254, Protocol: 3, Type: 1, Gateway: a("2001:db8::2"), OutIndex: 3, Priority: 1024},
			routeView{}, "2001:db8:9::/48 from 2001:db8:a::/48 via 2001:db8::2 dev veth0 metric 1024 pref medium"},
		{rtnl.Route{Family: 10, Dst: p("2001:db8:8::/48"), Table: 254, Protocol: 3, Type: 1, Gateway: a("2001:db8::2"), OutIndex: 3, Priority: 1024, Expires: 299 * time.Second, Pref: rtnl.RoutePrefHigh},
			routeView{}, "2001:db8:8::/48 via 2001:db8::2 dev veth0 metric 1024 expires 299sec pref high"},
		{rtnl.Route{Family: 2, Dst: p("10.1.2.3/32"), Src: p("10.0.0.7/32"), Table: 254, Type: 1, Gateway: a("10.0.0.2"), OutIndex: 3, InIndex: 3,
			Flags: rtnl.RouteFlagCloned | 0x01000000},
			routeView{allTables: true}, "10.1.2.3 from 10.0.0.7 via 10.0.0.2 dev veth0\n    cache <redirect> iif veth0"},
		{rtnl.Route{Family: 2, Dst: p("10.1.2.3/32"), Table: 254, Type: 1, Gateway: a("10.0.0.2"), OutIndex: 3, PrefSrc: a("10.0.0.1"), HasUID: true, Mark: 20,
			Flags: rtnl.RouteFlagCloned},
			routeView{allTables: true}, "10.1.2.3 via 10.0.0.2 dev veth0 src 10.0.0.1 mark 0x14 uid 0\n    cache"},
		{rtnl.Route{Family: 2, Dst: p("0.0.0.0/0"), Table: 100, Protocol: 3, Type: 1, Gateway: a("10.0.0.1"), OutIndex: 7},
			routeView{allTables: true}, "default via 10.0.0.1 dev if7 table 100"},
	}
	for _, tt := range tests {
		tt.view.names = names
		j := toRouteJSON(&tt.r, &tt.view)
		if got := j.text(); got != tt.want {
			t.Errorf("\n got %q\nwant %q", got, tt.want)
		}
	}
}

func TestRouteTime(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"100ms": 100 * time.Millisecond, "2s": 2 * time.Second, "1.5s": 1500 * time.Millisecond, "250": 250 * time.Millisecond,
		"3sec": 3 * time.Second, "40msec": 40 * time.Millisecond,
	} {
		w := newWords("route add", []string{in})
		if got, err := routeTime(w, "rtt"); err != nil || got != want {
			t.Errorf("%q: %v %v, want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "x", "-1s", "1e20s"} {
		if _, err := routeTime(newWords("route add", []string{bad}), "rtt"); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
