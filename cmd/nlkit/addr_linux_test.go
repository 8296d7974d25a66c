//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/nlkit/nlkit/internal/nstest"
)

// addrCLI runs nlkit in-process and returns stdout, stderr and the exit code.
func addrCLI(args ...string) (string, string, int) {
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return out.String(), errOut.String(), code
}

// mustCLI runs nlkit -n ns args... and fails t unless it succeeds.
func mustCLI(t *testing.T, ns *nstest.NS, args ...string) string {
	t.Helper()
	out, errOut, code := addrCLI(append([]string{"-n", ns.Name}, args...)...)
	if code != 0 {
		t.Fatalf("nlkit %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

func addrNS(t *testing.T) *nstest.NS {
	ns := nstest.New(t)
	// No duplicate address detection: "tentative" would otherwise change
	// between two reads of the same addresses.
	ns.Exec(t, "sh", "-c", "echo 0 > /proc/sys/net/ipv6/conf/all/accept_dad; echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad")
	// And no kernel-generated link-local addresses, whose flags change as
	// the kernel works on them: only the test's own addresses are listed.
	ns.Batch(t, `link add va type veth peer name vb
link set va addrgenmode none
link set vb addrgenmode none
link set va up
link set vb up
link add vc type veth peer name vd
`)
	return ns
}

// addrFields are the addr_info fields compared with ip's; lifetimes are
// compared apart, as they count down between the two reads.
var addrFields = []string{"family", "local", "address", "prefixlen", "broadcast", "anycast", "metric", "scope", "label",
	"secondary", "temporary", "nodad", "optimistic", "dadfailed", "home", "deprecated", "tentative", "dynamic",
	"mngtmpaddr", "noprefixroute", "autojoin", "stable-privacy", "ifa_flags"}

// linkFields are the per-interface fields of ip -j address compared.
var addrLinkFields = []string{"ifindex", "ifname", "flags", "mtu", "operstate", "txqlen", "link_type", "address", "broadcast"}

// compareAddrJSON compares nlkit's and ip's -j address output; ip's is
// read after nlkit's, so its finite lifetimes may be smaller.
func compareAddrJSON(t *testing.T, nlkitOut []byte, want []map[string]any) {
	t.Helper()
	var got []map[string]any
	if err := json.Unmarshal(nlkitOut, &got); err != nil {
		t.Fatalf("nlkit -j addr is not a JSON array: %v\n%s", err, nlkitOut)
	}
	// iproute2 6.1 prints an empty object for each interface or address
	// that a filter (up, scope) leaves out; those are not objects.
	want = slices.DeleteFunc(slices.Clone(want), func(m map[string]any) bool { return len(m) == 0 })
	for _, l := range want {
		if ai, ok := l["addr_info"].([]any); ok {
			l["addr_info"] = slices.DeleteFunc(ai, func(a any) bool { m, _ := a.(map[string]any); return len(m) == 0 })
		}
	}
	if len(got) != len(want) {
		t.Fatalf("nlkit shows %d interfaces, ip %d:\nnlkit %s\nip    %v", len(got), len(want), nlkitOut, want)
	}
	for i := range want {
		for _, f := range addrLinkFields {
			if !reflect.DeepEqual(got[i][f], want[i][f]) {
				t.Errorf("interface %v field %q: nlkit %v, ip %v", want[i]["ifname"], f, got[i][f], want[i][f])
			}
		}
		ga, _ := got[i]["addr_info"].([]any)
		wa, _ := want[i]["addr_info"].([]any)
		if got[i]["addr_info"] == nil || len(ga) != len(wa) {
			t.Errorf("interface %v: nlkit addr_info %v, ip %v", want[i]["ifname"], got[i]["addr_info"], want[i]["addr_info"])
			continue
		}
		for j := range wa {
			g, w := ga[j].(map[string]any), wa[j].(map[string]any)
			for _, f := range addrFields {
				if !reflect.DeepEqual(g[f], w[f]) {
					t.Errorf("%v address %v field %q: nlkit %v, ip %v", want[i]["ifname"], w["local"], f, g[f], w[f])
				}
			}
			for _, f := range []string{"valid_life_time", "preferred_life_time"} {
				gv, _ := g[f].(float64)
				wv, _ := w[f].(float64)
				if (wv == 4294967295) != (gv == 4294967295) || wv > gv {
					t.Errorf("%v address %v %s: nlkit %v, ip %v (read after)", want[i]["ifname"], w["local"], f, g[f], w[f])
				}
			}
		}
	}
}

func TestAddrCLIAddMatchesIP(t *testing.T) {
	ns := addrNS(t)
	for _, args := range [][]string{
		{"addr", "add", "10.0.0.1/24", "brd", "+", "label", "va:one", "valid_lft", "300", "preferred_lft", "100", "metric", "50", "dev", "va"},
		{"addr", "add", "10.0.0.2/24", "dev", "va"},
		{"addr", "add", "10.0.1.1", "peer", "10.0.1.2/30", "brd", "+", "scope", "link", "dev", "va"},
		{"address", "add", "local", "192.0.2.1/28", "broadcast", "192.0.2.14", "dev", "va", "scope", "host"},
		{"addr", "add", "2001:db8::1/64", "nodad", "noprefixroute", "valid_lft", "600", "dev", "va"},
		{"addr", "replace", "2001:db8:1::1/64", "nodad", "home", "dev", "va"},
		{"a", "add", "2001:db8:2::1", "peer", "2001:db8:2::2", "nodad", "dev", "va"},
	} {
		mustCLI(t, ns, args...)
	}
	got := mustCLI(t, ns, "-j", "addr", "show", "dev", "va")
	var want []map[string]any
	ns.IPJSON(t, &want, "address", "show", "dev", "va")
	compareAddrJSON(t, []byte(got), want)

	// Spot checks that the fields say what was asked for.
	byLocal := map[string]map[string]any{}
	for _, a := range want[0]["addr_info"].([]any) {
		m := a.(map[string]any)
		byLocal[m["local"].(string)] = m
	}
	checks := []struct{ local, field string }{
		{"10.0.0.1", "broadcast=10.0.0.255"}, {"10.0.0.1", "label=va:one"}, {"10.0.0.1", "metric=50"},
		{"10.0.0.1", "dynamic=true"}, {"10.0.0.2", "secondary=true"}, {"10.0.1.1", "address=10.0.1.2"},
		{"10.0.1.1", "prefixlen=30"}, {"10.0.1.1", "broadcast=10.0.1.3"}, {"10.0.1.1", "scope=link"},
		{"192.0.2.1", "broadcast=192.0.2.14"}, {"192.0.2.1", "scope=host"}, {"2001:db8::1", "nodad=true"},
		{"2001:db8::1", "noprefixroute=true"}, {"2001:db8::1", "dynamic=true"},
		{"2001:db8:1::1", "home=true"}, {"2001:db8:2::1", "address=2001:db8:2::2"}, {"2001:db8:2::1", "prefixlen=128"},
	}
	for _, c := range checks {
		k, v, _ := strings.Cut(c.field, "=")
		if got := fmt.Sprint(byLocal[c.local][k]); got != v {
			t.Errorf("ip shows %s %s=%s, want %s", c.local, k, got, v)
		}
	}
	if v := byLocal["10.0.0.1"]["valid_life_time"].(float64); v <= 0 || v > 300 {
		t.Errorf("valid_lft 300 shows as %v", v)
	}
	if v := byLocal["10.0.0.1"]["preferred_life_time"].(float64); v > 100 {
		t.Errorf("preferred_lft 100 shows as %v", v)
	}
	// valid_lft alone: preferred_lft follows it.
	if v := byLocal["2001:db8::1"]["preferred_life_time"].(float64); v == 0 || v > 600 {
		t.Errorf("valid_lft 600 alone: preferred shows as %v", v)
	}

	// The text form: one line per address under a header.
	text := mustCLI(t, ns, "addr", "show", "va")
	if !strings.HasPrefix(text, "DEV") || strings.Count(text, "\n") != len(byLocal)+1 ||
		!strings.Contains(text, "10.0.1.1 peer 10.0.1.2/30") || !strings.Contains(text, "forever") {
		t.Errorf("text output:\n%s", text)
	}
}

func TestAddrCLIListMatchesIP(t *testing.T) {
	ns := addrNS(t)
	ns.Batch(t, `address add 10.1.0.1/16 brd + dev va label va:x
address add 10.2.0.1 peer 10.2.0.9/32 dev vb scope link
address add 192.0.2.1/24 dev vb valid_lft 500 preferred_lft 0
address add 2001:db8:5::1/64 dev vb nodad mngtmpaddr
address add 2001:db8:6::1/64 dev va valid_lft 90 preferred_lft 80 nodad
address add 10.3.0.1/24 dev vc
`)
	for _, tc := range []struct {
		ip    []string
		nlkit []string
	}{
		{[]string{"address", "show"}, []string{"addr"}},
		{[]string{"-4", "address", "show"}, []string{"addr", "-f", "inet"}},
		{[]string{"-6", "address", "show"}, []string{"addr", "show", "--family", "6"}},
		{[]string{"address", "show", "dev", "vb"}, []string{"addr", "show", "vb"}},
		{[]string{"address", "show", "dev", "vd"}, []string{"addr", "show", "dev", "vd"}},
		{[]string{"address", "show", "up"}, []string{"addr", "show", "up"}},
		{[]string{"-4", "address", "show", "scope", "link"}, []string{"addr", "-f", "4", "show", "scope", "link"}},
	} {
		t.Run(strings.Join(tc.nlkit, " "), func(t *testing.T) {
			got := mustCLI(t, ns, append([]string{"-j"}, tc.nlkit...)...)
			var want []map[string]any
			ns.IPJSON(t, &want, tc.ip...)
			compareAddrJSON(t, []byte(got), want)
		})
	}
}

func TestAddrCLIReplaceDeleteFlush(t *testing.T) {
	ns := addrNS(t)
	ip := func() map[string]map[string]any {
		var links []map[string]any
		ns.IPJSON(t, &links, "address", "show", "dev", "va")
		out := map[string]map[string]any{}
		for _, a := range links[0]["addr_info"].([]any) {
			m := a.(map[string]any)
			out[fmt.Sprint(m["local"], "/", m["prefixlen"])] = m
		}
		return out
	}
	mustCLI(t, ns, "addr", "add", "10.5.0.1/24", "valid_lft", "1000", "dev", "va")
	if v := ip()["10.5.0.1/24"]["valid_life_time"].(float64); v <= 100 || v > 1000 {
		t.Fatalf("after add, valid %v", v)
	}
	mustCLI(t, ns, "addr", "replace", "10.5.0.1/24", "valid_lft", "100", "preferred_lft", "30", "dev", "va")
	a := ip()["10.5.0.1/24"]
	if v, p := a["valid_life_time"].(float64), a["preferred_life_time"].(float64); v > 100 || p > 30 || v == 0 {
		t.Fatalf("after replace, lifetimes %v/%v", v, p)
	}
	mustCLI(t, ns, "addr", "replace", "10.5.0.1/24", "valid_lft", "forever", "dev", "va")
	if v := ip()["10.5.0.1/24"]["valid_life_time"].(float64); v != 4294967295 {
		t.Fatalf("after replace forever, valid %v", v)
	}
	// del with and without the prefix length (ip's wildcard form).
	mustCLI(t, ns, "addr", "add", "10.6.0.1/20", "dev", "va")
	mustCLI(t, ns, "addr", "add", "2001:db8:7::1/64", "nodad", "dev", "va")
	mustCLI(t, ns, "addr", "del", "10.5.0.1/24", "dev", "va")
	mustCLI(t, ns, "addr", "del", "10.6.0.1", "dev", "va")
	mustCLI(t, ns, "addr", "delete", "2001:db8:7::1", "dev", "va")
	for k := range ip() {
		if strings.HasPrefix(k, "10.") || strings.HasPrefix(k, "2001:") {
			t.Fatalf("%s still there after del", k)
		}
	}
	// flush: primaries and secondaries, by scope, by family.
	ns.Batch(t, `address add 10.7.0.1/24 dev va
address add 10.7.0.2/24 dev va
address add 10.7.1.3/24 dev va scope link
address add 2001:db8:8::1/64 dev va nodad
address add 10.8.0.1/24 dev vb
`)
	mustCLI(t, ns, "addr", "flush", "dev", "va", "scope", "global", "-f", "inet")
	left := ip()
	if _, ok := left["10.7.1.3/24"]; !ok || left["10.7.0.1/24"] != nil || left["10.7.0.2/24"] != nil || left["2001:db8:8::1/64"] == nil {
		t.Fatalf("after flush scope global -f inet: %v", left)
	}
	mustCLI(t, ns, "addr", "flush", "va")
	if left := ip(); len(left) != 0 {
		t.Fatalf("after flush dev va: %v", left)
	}
	var vb []map[string]any
	ns.IPJSON(t, &vb, "-4", "address", "show", "dev", "vb")
	if len(vb) != 1 || len(vb[0]["addr_info"].([]any)) != 1 {
		t.Fatalf("flush of va touched vb: %v", vb)
	}
}

func TestAddrCLIBadInput(t *testing.T) {
	ns := addrNS(t)
	ns.IP(t, "address", "add", "10.9.0.1/24", "dev", "va")
	ns.IP(t, "address", "add", "2001:db8:9::1/64", "dev", "va", "nodad")
	before := ns.IP(t, "-j", "address")
	tests := []struct {
		args string
		want string
	}{
		{"addr add 10.0.0.9/33 dev va", `bad prefix "10.0.0.9/33"`},
		{"addr add 10.0.0.999/24 dev va", `bad prefix "10.0.0.999/24"`},
		{"addr add nonsense dev va", `bad address "nonsense"`},
		{"addr add 10.0.0.9/24 dev nosuch0", `device "nosuch0" does not exist`},
		{"addr replace 10.0.0.9/24 dev nosuch0", `device "nosuch0" does not exist`},
		{"addr del 10.9.0.1/24 dev nosuch0", `device "nosuch0" does not exist`},
		{"addr add 10.0.0.9/24", `missing "dev DEVICE"`},
		{"addr add dev va", "missing address"},
		{"addr add 10.0.0.9/24 dev", `missing value after "dev"`},
		{"addr add 10.0.0.9/24 dev va frobnicate", `unknown argument "frobnicate"`},
		{"addr add 10.0.0.9/24 scope galaxy dev va", `unknown scope "galaxy"`},
		{"addr add 10.0.0.9/24 valid_lft 10 preferred_lft 20 dev va", "preferred_lft (20sec) is greater than valid_lft (10sec)"},
		{"addr add 10.0.0.9/24 valid_lft never dev va", `valid_lft "never"`},
		{"addr add 10.0.0.9/24 metric -1 dev va", `metric "-1"`},
		{"addr add 2001:db8::9/64 brd + dev va", "only for IPv4"},
		{"addr add 10.0.0.9/24 peer 2001:db8::1 dev va", "different families"},
		{"addr add 10.0.0.9/24 label 0123456789abcdefg dev va", "1 to 15 characters"},
		{"addr -f inet6 add 10.0.0.9/24 dev va", "not an inet6 address"},
		{"addr -f ipx show", `unknown family "ipx"`},
		// The kernel's refusals, with its errno text and extended ack.
		{"addr add 10.9.0.1/24 dev va", "file exists"},
		{"addr add 2001:db8:9::1/64 dev va", "file exists"},
		{"addr add ff02::1234/128 dev va", "cannot assign requested address"},
		{"addr del 10.9.0.2/24 dev va", "cannot assign requested address"},
		{"addr del 10.9.0.1/25 dev va", "cannot assign requested address"},
		{"addr del 10.9.9.9 dev va", "cannot assign requested address"},
		{"addr del 2001:db8:9::2/64 dev va", "cannot assign requested address"},
		// Show, flush and the command itself.
		{"addr show nosuch0", `device "nosuch0" does not exist`},
		{"addr show va vb", `unknown argument "vb"`},
		{"addr show scope", `missing value after "scope"`},
		{"addr flush", "flush requires arguments"},
		{"addr flush dev nosuch0", `device "nosuch0" does not exist`},
		{"addr frobnicate", `unknown command "frobnicate"`},
	}
	for _, tt := range tests {
		args := append([]string{"-n", ns.Name}, strings.Fields(tt.args)...)
		out, errOut, code := addrCLI(args...)
		if code == 0 || !strings.HasPrefix(errOut, "nlkit: ") || !strings.Contains(errOut, tt.want) {
			t.Errorf("%s: exit %d, stderr %q, stdout %q; want an error containing %q", tt.args, code, errOut, out, tt.want)
		}
		if strings.Contains(errOut, "goroutine") || strings.Contains(errOut, "panic") {
			t.Errorf("%s: stack trace: %s", tt.args, errOut)
		}
	}
	if after := ns.IP(t, "-j", "address"); !bytes.Equal(before, after) {
		t.Fatalf("bad input changed the kernel:\nbefore %s\nafter  %s", before, after)
	}
}
