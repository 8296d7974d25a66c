//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nlkit/nlkit/internal/nstest"
)

// routeTestNS makes a namespace with veth0 (10.0.0.1/24, 2001:db8::1/64)
// and veth1 (10.1.1.1/24, 2001:db8:1::1/64), both up.
func routeTestNS(t *testing.T) *nstest.NS {
	t.Helper()
	ns := nstest.New(t)
	ns.IP(t, "link", "add", "veth0", "type", "veth", "peer", "name", "veth1")
	ns.Batch(t, `link set veth0 up
link set veth1 up
addr add 10.0.0.1/24 dev veth0
addr add 2001:db8::1/64 dev veth0 nodad
addr add 10.1.1.1/24 dev veth1
addr add 2001:db8:1::1/64 dev veth1 nodad
`)
	return ns
}

// mustNlkit runs nlkit inside ns and fails t unless it succeeds.
func mustNlkit(t *testing.T, ns *nstest.NS, args ...string) string {
	t.Helper()
	out, errOut, code := nlkit(t, append([]string{"-n", ns.Name}, args...)...)
	if code != 0 {
		t.Fatalf("nlkit %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// canonRoutes returns a JSON array of routes as sorted lines, without the
// expiry timer, which ticks between two listings.
func canonRoutes(t *testing.T, data []byte) []string {
	t.Helper()
	var routes []map[string]any
	if len(strings.TrimSpace(string(data))) == 0 {
		data = []byte("[]")
	}
	if err := json.Unmarshal(data, &routes); err != nil {
		t.Fatalf("not a JSON array of routes: %v\n%s", err, data)
	}
	var out []string
	for _, r := range routes {
		delete(r, "expires")
		b, _ := json.Marshal(r)
		out = append(out, string(b))
	}
	slices.Sort(out)
	return out
}

func sameLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if slices.Equal(got, want) {
		return
	}
	var b strings.Builder
	for _, g := range got {
		if !slices.Contains(want, g) {
			fmt.Fprintf(&b, "  only nlkit: %s\n", g)
		}
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			fmt.Fprintf(&b, "  only ip:    %s\n", w)
		}
	}
	t.Errorf("%s: nlkit and ip differ (%d and %d lines):\n%s", what, len(got), len(want), b.String())
}

// compareRouteListing runs the same listing with nlkit and ip, in JSON
// (field by field) and in text (line by line), and fails t on any
// difference. args are ip's, after the global options.
func compareRouteListing(t *testing.T, ns *nstest.NS, args ...string) int {
	t.Helper()
	// ip takes -6 before the object, nlkit after it.
	nargs := args
	if args[0] == "-6" {
		nargs = append([]string{args[1], "-6"}, args[2:]...)
	}
	ours := mustNlkit(t, ns, append([]string{"-j"}, nargs...)...)
	theirs := ns.IP(t, append([]string{"-j"}, args...)...)
	got, want := canonRoutes(t, []byte(ours)), canonRoutes(t, theirs)
	sameLines(t, strings.Join(args, " ")+" (JSON)", got, want)

	text := mustNlkit(t, ns, nargs...)
	var ipText []string
	for _, l := range strings.Split(strings.TrimRight(string(ns.IP(t, args...)), "\n"), "\n") {
		if l = strings.TrimRight(l, " "); l != "" && !strings.Contains(l, "expires") {
			ipText = append(ipText, l)
		}
	}
	var ourText []string
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		if l != "" && !strings.Contains(l, "expires") {
			ourText = append(ourText, l)
		}
	}
	sameLines(t, strings.Join(args, " ")+" (text)", ourText, ipText)
	return len(want)
}

// routeCmd returns ip's arguments for a route command with an optional
// family option ("-6 route show ...").
func routeCmd(family string, args ...string) []string {
	if family != "" {
		return append([]string{family, "route"}, args...)
	}
	return append([]string{"route"}, args...)
}

func TestRouteCLIAddMatchesIP(t *testing.T) {
	ns := routeTestNS(t)
	adds := [][]string{
		{"10.10.0.0/16", "via", "10.0.0.2", "dev", "veth0", "metric", "10", "proto", "static"},
		{"10.11.0.0/16", "via", "10.0.0.2", "table", "100"},
		{"10.12.0.0/16", "via", "10.0.0.2", "table", "1000", "src", "10.0.0.1", "mtu", "1400", "advmss", "1300"},
		{"10.13.0.0/16", "dev", "veth0"},
		{"10.14.1.1", "dev", "veth1", "proto", "dhcp", "scope", "host"},
		{"blackhole", "10.15.0.0/16"},
		{"unreachable", "10.16.0.0/16", "metric", "7"},
		{"prohibit", "10.17.0.0/16", "table", "1000"},
		{"throw", "10.18.0.0/16", "table", "100"},
		{"10.19.0.0/16", "via", "192.168.99.1", "dev", "veth0", "onlink"},
		{"10.20.0.0/16", "nexthop", "via", "10.0.0.2", "dev", "veth0", "weight", "3", "nexthop", "via", "10.1.1.2", "dev", "veth1"},
		{"default", "via", "10.0.0.254"},
		{"10.21.0.0/16", "via", "inet6", "fe80::1", "dev", "veth0"},
		{"local", "10.22.0.1", "dev", "veth0"},
		{"10.23.0.0/16", "dev", "veth0", "mtu", "lock", "1300", "hoplimit", "5", "initcwnd", "10", "rtt", "100ms", "window", "1000", "congctl", "cubic"},
		{"10.24.0.0/16", "tos", "0x10", "via", "10.0.0.2"},
		{"broadcast", "10.25.0.255", "dev", "veth1"},
		{"2001:db8:10::/48", "via", "2001:db8::2", "metric", "5"},
		{"2001:db8:11::/48", "via", "2001:db8::2", "table", "1000", "proto", "static"},
		{"2001:db8:12::/48", "nexthop", "via", "2001:db8::2", "dev", "veth0", "weight", "2", "nexthop", "via", "2001:db8:1::2", "dev", "veth1"},
		{"blackhole", "2001:db8:13::/48"},
		{"2001:db8:14::/48", "via", "2001:db8::2", "pref", "high", "mtu", "1400"},
		{"default", "via", "2001:db8::fe", "dev", "veth0"},
		{"2001:db8:15::/48", "from", "2001:db8:99::/48", "via", "2001:db8::2"},
		{"2001:db8:16::/48", "via", "2001:db8::2", "expires", "600", "table", "100"},
	}
	for _, a := range adds {
		mustNlkit(t, ns, append([]string{"route", "add"}, a...)...)
	}
	n := compareRouteListing(t, ns, "route", "show", "table", "all")
	if n < len(adds) {
		t.Fatalf("ip lists %d routes, fewer than the %d added", n, len(adds))
	}
	compareRouteListing(t, ns, "route")
	compareRouteListing(t, ns, "-6", "route")
	// The expiring route: both count down from 600 seconds.
	var got, want []map[string]any
	if err := json.Unmarshal([]byte(mustNlkit(t, ns, "-j", "route", "-6", "show", "table", "100")), &got); err != nil {
		t.Fatal(err)
	}
	ns.IPJSON(t, &want, "-6", "route", "show", "table", "100")
	if len(got) != 1 || len(want) != 1 || got[0]["expires"] == nil || want[0]["expires"] == nil {
		t.Fatalf("expiring route: nlkit %v, ip %v", got, want)
	}
	if d := got[0]["expires"].(float64) - want[0]["expires"].(float64); d < -2 || d > 2 {
		t.Errorf("expires: nlkit %v, ip %v", got[0]["expires"], want[0]["expires"])
	}
}

func TestRouteCLIListsIPRoutes(t *testing.T) {
	ns := routeTestNS(t)
	ns.Batch(t, `route add 10.30.0.0/16 via 10.0.0.2 dev veth0 proto static metric 7
route add 10.31.0.0/16 via 10.0.0.2 table 2000 src 10.0.0.1 mtu lock 1400 advmss 1200 rtt 2s rttvar 1s window 9000 initrwnd 12 quickack 1
route add 10.32.0.0/16 nexthop via 10.0.0.2 dev veth0 weight 5 nexthop via 10.1.1.2 dev veth1 weight 256 onlink
route add 10.33.0.0/16 via inet6 fe80::5 dev veth1
route add prohibit 10.34.0.0/16 table 7
route add 10.36.0.0/24 dev veth1 proto 77 scope 100 tos 0x28
route add unreachable default metric 4000
route add 10.37.0.0/16 via 10.0.0.2 proto bird table default
route add 2001:db8:30::/48 via 2001:db8::2 pref low metric 50
route add 2001:db8:31::/48 dev veth1 proto bird table 300
route add 2001:db8:32::/48 nexthop via 2001:db8::2 dev veth0 weight 7 nexthop via 2001:db8:1::2 dev veth1
route add prohibit 2001:db8:33::/48
route add 2001:db8:34::/48 from 2001:db8:35::/64 via 2001:db8::3 hoplimit 9
`)
	compareRouteListing(t, ns, "route", "show", "table", "all")
	compareRouteListing(t, ns, "route", "show")
	compareRouteListing(t, ns, "-6", "route", "show")
	compareRouteListing(t, ns, "route", "show", "table", "default")
	compareRouteListing(t, ns, "-d", "route", "show", "table", "all")
	compareRouteListing(t, ns, "-d", "route", "show", "dev", "veth0")
}

func TestRouteCLIFilterMatchesIP(t *testing.T) {
	ns := routeTestNS(t)
	ns.Batch(t, `route add 10.40.0.0/16 via 10.0.0.2 proto static
route add 10.41.0.0/16 via 10.1.1.2 proto static
route add 10.42.0.0/16 via 10.0.0.2 proto static table 100
route add 10.43.0.0/16 via 10.1.1.2 table 100
route add 10.44.0.0/16 via 10.0.0.2 proto zebra table 100
route add blackhole 10.45.0.0/16 table 100 proto static
route add 10.46.0.0/16 via 10.0.0.2 dev veth0 table 5000 proto static
route add 10.47.0.0/16 nexthop via 10.0.0.2 dev veth0 nexthop via 10.1.1.2 dev veth1
route add 2001:db8:40::/48 via 2001:db8::2 proto static table 100
route add 2001:db8:41::/48 via 2001:db8:1::2 table 100
`)
	for _, tc := range []struct {
		family string
		args   []string
	}{
		{"", []string{"table", "100"}},
		{"", []string{"table", "100", "dev", "veth0"}},
		{"", []string{"table", "100", "dev", "veth0", "proto", "static"}},
		{"", []string{"proto", "static"}},
		{"", []string{"dev", "veth0"}},
		{"", []string{"table", "100", "type", "blackhole"}},
		{"", []string{"table", "5000", "dev", "veth0", "proto", "static"}},
		{"", []string{"table", "local", "scope", "host"}},
		{"", []string{"table", "all", "proto", "static"}},
		{"", []string{"table", "all", "dev", "veth1"}},
		{"-6", []string{"table", "100", "dev", "veth1"}},
		{"-6", []string{"table", "100", "proto", "static"}},
		{"", []string{"10.40.0.0/16"}},
		{"", []string{"root", "10.40.0.0/15"}},
		{"", []string{"table", "all", "match", "10.44.1.1"}},
	} {
		t.Run(tc.family+" "+strings.Join(tc.args, " "), func(t *testing.T) {
			// ip takes -6 before the object; nlkit after it.
			ours := mustNlkit(t, ns, append([]string{"-j"}, append(routeArgsNlkit(tc.family), tc.args...)...)...)
			theirs := ns.IP(t, append([]string{"-j"}, routeCmd(tc.family, append([]string{"show"}, tc.args...)...)...)...)
			got, want := canonRoutes(t, []byte(ours)), canonRoutes(t, theirs)
			sameLines(t, strings.Join(tc.args, " "), got, want)
			if len(want) == 0 {
				t.Fatal("ip lists nothing: the case proves little")
			}
		})
	}
	// A table that does not exist: ip fails ("FIB table does not exist"),
	// nlkit lists nothing.
	if out := mustNlkit(t, ns, "-j", "route", "show", "table", "4242"); strings.TrimSpace(out) != "[]" {
		t.Errorf("missing table: %q", out)
	}
}

func routeArgsNlkit(family string) []string {
	if family != "" {
		return []string{"route", family, "show"}
	}
	return []string{"route", "show"}
}

func TestRouteCLIReplaceAppendDelete(t *testing.T) {
	ns := routeTestNS(t)
	gateways := func(dst string) []string {
		var rs []map[string]any
		ns.IPJSON(t, &rs, "route", "show", dst)
		var gws []string
		for _, r := range rs {
			gws = append(gws, fmt.Sprint(r["gateway"]))
		}
		return gws
	}
	mustNlkit(t, ns, "route", "add", "10.50.0.0/16", "via", "10.0.0.2", "metric", "5")
	_, errOut, code := nlkit(t, "-n", ns.Name, "route", "add", "10.50.0.0/16", "via", "10.0.0.2", "metric", "5")
	if code == 0 || !strings.Contains(errOut, "nlkit: route add 10.50.0.0/16: file exists") {
		t.Fatalf("second add: exit %d, %q", code, errOut)
	}
	mustNlkit(t, ns, "route", "replace", "10.50.0.0/16", "via", "10.0.0.3", "metric", "5")
	if gws := gateways("10.50.0.0/16"); !slices.Equal(gws, []string{"10.0.0.3"}) {
		t.Fatalf("after replace: %v", gws)
	}
	mustNlkit(t, ns, "route", "append", "10.50.0.0/16", "via", "10.1.1.2", "metric", "5")
	if gws := gateways("10.50.0.0/16"); !slices.Equal(gws, []string{"10.0.0.3", "10.1.1.2"}) {
		t.Fatalf("after append: %v", gws)
	}
	mustNlkit(t, ns, "route", "change", "10.50.0.0/16", "via", "10.0.0.4", "metric", "5")
	if gws := gateways("10.50.0.0/16"); !slices.Equal(gws, []string{"10.0.0.4", "10.1.1.2"}) {
		t.Fatalf("after change: %v", gws)
	}
	mustNlkit(t, ns, "route", "del", "10.50.0.0/16", "via", "10.1.1.2")
	if gws := gateways("10.50.0.0/16"); !slices.Equal(gws, []string{"10.0.0.4"}) {
		t.Fatalf("after deleting one: %v", gws)
	}
	mustNlkit(t, ns, "route", "delete", "10.50.0.0/16")
	if gws := gateways("10.50.0.0/16"); len(gws) != 0 {
		t.Fatalf("after delete: %v", gws)
	}
	mustNlkit(t, ns, "route", "add", "blackhole", "2001:db8:50::/48", "table", "1000")
	mustNlkit(t, ns, "route", "del", "blackhole", "2001:db8:50::/48", "table", "1000")
	mustNlkit(t, ns, "route", "add", "local", "10.0.0.77", "dev", "veth0")
	mustNlkit(t, ns, "route", "del", "local", "10.0.0.77", "dev", "veth0")
	if out := ns.IP(t, "route", "show", "table", "all"); strings.Contains(string(out), "10.0.0.77") {
		t.Fatalf("local route not deleted:\n%s", out)
	}
}

func TestRouteCLIGetMatchesIP(t *testing.T) {
	ns := routeTestNS(t)
	ns.Batch(t, `route add 10.60.0.0/16 via 10.0.0.2 metric 3
route add 10.60.5.0/24 via 10.1.1.2 table 100
rule add fwmark 7 table 100
route add 2001:db8:60::/48 via 2001:db8:1::2 metric 9
`)
	ns.Exec(t, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	for _, args := range [][]string{
		{"10.60.1.1"},
		{"10.0.0.7"},
		{"10.0.0.1"},
		{"127.0.0.1"},
		{"10.60.5.9", "mark", "7"},
		{"10.60.1.1", "from", "10.0.0.1", "oif", "veth0"},
		{"10.60.1.1", "from", "10.1.1.9", "iif", "veth1"},
		{"fibmatch", "10.60.1.1"},
		{"2001:db8:60::5"},
		{"2001:db8::9", "from", "2001:db8::1"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			cmd := append([]string{"route", "get"}, args...)
			ours := mustNlkit(t, ns, append([]string{"-j"}, cmd...)...)
			theirs := ns.IP(t, append([]string{"-j"}, cmd...)...)
			sameLines(t, "route get (JSON)", canonRoutes(t, []byte(ours)), canonRoutes(t, theirs))
			text := mustNlkit(t, ns, cmd...)
			var ipText []string
			for _, l := range strings.Split(strings.TrimRight(string(ns.IP(t, cmd...)), "\n"), "\n") {
				ipText = append(ipText, strings.TrimRight(l, " "))
			}
			sameLines(t, "route get (text)", strings.Split(strings.TrimRight(text, "\n"), "\n"), ipText)
		})
	}
}

// TestRouteCLIBadInput: every subcommand, given bad input, fails with a
// clear message and leaves the kernel's tables as they were.
func TestRouteCLIBadInput(t *testing.T) {
	ns := routeTestNS(t)
	ns.IP(t, "route", "add", "10.70.0.0/16", "via", "10.0.0.2")
	ns.IP(t, "route", "add", "unreachable", "10.71.0.0/16")
	snapshot := func() string {
		return string(ns.IP(t, "route", "show", "table", "all")) + string(ns.IP(t, "-6", "route", "show", "table", "all"))
	}
	before := snapshot()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"route", "add", "10.72.0.0/33", "dev", "veth0"}, `route add: bad prefix "10.72.0.0/33"`},
		{[]string{"route", "add", "10.72.0.0/16", "dev", "nosuch0"}, `device "nosuch0" does not exist`},
		{[]string{"route", "add", "10.72.0.0/16", "nexthop", "via", "10.0.0.2", "dev", "nosuch1"}, `device "nosuch1" does not exist`},
		{[]string{"route", "add", "2001:db8:72::/48", "via", "10.0.0.2"}, "gateway 10.0.0.2 is IPv4 but 2001:db8:72::/48 is IPv6"},
		{[]string{"route", "add", "10.72.0.0/16", "via", "2001:db8::2"}, `write "via inet6 2001:db8::2"`},
		{[]string{"route", "add", "10.72.0.0/16", "via"}, `route add: missing value after "via"`},
		{[]string{"route", "add", "10.72.0.0/16", "dev"}, `route add: missing value after "dev"`},
		{[]string{"route", "add", "10.72.0.0/16", "metric"}, `route add: missing value after "metric"`},
		{[]string{"route", "add", "10.72.0.0/16", "metric", "-1", "dev", "veth0"}, `metric "-1": not a number`},
		{[]string{"route", "add"}, "route add: missing destination"},
		{[]string{"route", "add", "10.72.0.0/16", "wibble"}, `route add: unknown argument "wibble"`},
		{[]string{"route", "add", "10.72.0.0/16", "nexthop", "via", "10.0.0.2", "weight", "0"}, "weight 0: want 1 to 256"},
		{[]string{"route", "add", "10.72.1.1/16", "dev", "veth0"}, "invalid argument: Invalid prefix for given prefix length"},
		{[]string{"route", "add", "10.70.0.0/16", "via", "10.0.0.2"}, "route add 10.70.0.0/16: file exists"},
		{[]string{"route", "add", "10.72.0.0/16", "via", "10.99.0.1"}, "route add 10.72.0.0/16: network is unreachable: Nexthop has invalid gateway"},
		{[]string{"route", "replace", "10.72.0.0/16", "table", "all", "dev", "veth0"}, `route replace: table "all"`},
		{[]string{"route", "change", "10.72.0.0/16", "via", "10.0.0.3"}, "route change 10.72.0.0/16: no such file or directory"},
		{[]string{"route", "append", "10.72.0.0/16", "via", "inet", "2001:db8::1"}, "not of family inet"},
		{[]string{"route", "del", "10.73.0.0/16"}, "route del 10.73.0.0/16: no such process"},
		{[]string{"route", "del", "2001:db8:73::/48"}, "route del 2001:db8:73::/48: no such process"},
		{[]string{"route", "del", "10.70.0.0/16", "via", "10.0.0.9"}, "no such process"},
		{[]string{"route", "del"}, "route del: missing destination"},
		{[]string{"route", "del", "10.70.0.0/16", "dev", "nosuch0"}, `device "nosuch0" does not exist`},
		{[]string{"route", "show", "table"}, `route show: missing value after "table"`},
		{[]string{"route", "show", "table", "nosuch"}, `route show: table "nosuch"`},
		{[]string{"route", "show", "dev", "nosuch0"}, `device "nosuch0" does not exist`},
		{[]string{"route", "show", "proto", "nosuch"}, `route show: proto "nosuch"`},
		{[]string{"route", "show", "wibble"}, `route show: unknown argument "wibble"`},
		{[]string{"route", "get"}, "route get: missing destination ADDRESS"},
		{[]string{"route", "get", "10.72.0.0/33"}, `route get: bad address "10.72.0.0/33"`},
		{[]string{"route", "get", "10.71.1.1"}, "route get 10.71.1.1: no route to host"},
		{[]string{"route", "get", "2001:db8:99::1"}, "route get 2001:db8:99::1: network is unreachable"},
		{[]string{"route", "get", "10.70.1.1", "oif", "nosuch0"}, `device "nosuch0" does not exist`},
		{[]string{"route", "get", "10.70.1.1", "from", "2001:db8::1"}, "different families"},
		{[]string{"route", "get", "10.70.1.1", "mark"}, `route get: missing value after "mark"`},
		{[]string{"route", "frob"}, `unknown command "frob"`},
		{[]string{"route", "-4", "-6"}, "-4 and -6 exclude each other"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, errOut, code := nlkit(t, append([]string{"-n", ns.Name}, tt.args...)...)
			if code == 0 || !strings.HasPrefix(errOut, "nlkit: ") || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q, stdout %q; want an error containing %q", code, errOut, out, tt.want)
			}
			if strings.Contains(errOut, "goroutine") || strings.Contains(errOut, "panic") {
				t.Errorf("stack trace: %s", errOut)
			}
		})
	}
	if after := snapshot(); after != before {
		t.Fatalf("failed commands changed the routing tables:\n%s\n---\n%s", before, after)
	}
}

// TestRouteCLIBatch runs route commands through nlkit -batch: they are
// queued and sent together, and each failing line is reported.
func TestRouteCLIBatch(t *testing.T) {
	ns := routeTestNS(t)
	var b strings.Builder
	for i := range 500 {
		fmt.Fprintf(&b, "route add 10.80.%d.%d/32 via 10.0.0.2 dev veth0\n", i/256, i%256)
	}
	b.WriteString("route add 2001:db8:80::/48 via 2001:db8::2\n")
	file := filepath.Join(t.TempDir(), "routes")
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	mustNlkit(t, ns, "-batch", file)
	var rs []map[string]any
	ns.IPJSON(t, &rs, "route", "show", "root", "10.80.0.0/16")
	if len(rs) != 500 {
		t.Fatalf("ip lists %d of the 500 routes added in a batch", len(rs))
	}
	ns.IPJSON(t, &rs, "-6", "route", "show", "2001:db8:80::/48")
	if len(rs) != 1 {
		t.Fatalf("IPv6 route of the batch: %v", rs)
	}
}
