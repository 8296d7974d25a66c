//go:build linux

package main

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/nlkit/nlkit/internal/nstest"
)

// neighTestNS is a namespace with veth pair va/vb up, va addressed, and
// REACHABLE entries that stay so for an hour.
func neighTestNS(t *testing.T) *nstest.NS {
	t.Helper()
	ns := nstest.New(t)
	ns.Batch(t, `link add va type veth peer name vb
link set va up
link set vb up
addr add 10.0.0.1/24 dev va
addr add 2001:db8::1/64 dev va nodad
`)
	for _, fam := range []string{"ipv4", "ipv6"} {
		ns.Exec(t, "sysctl", "-qw", "net."+fam+".neigh.va.base_reachable_time_ms=3600000")
	}
	return ns
}

// neighTestOurs drops the entries the kernel makes by itself (IPv6
// multicast and link-local), which come and go at any time.
func neighTestOurs(list []map[string]any) []map[string]any {
	var out []map[string]any
	for _, e := range list {
		dst, _ := e["dst"].(string)
		if a, err := netip.ParseAddr(dst); err == nil && (a.IsMulticast() || a.IsLinkLocalUnicast()) {
			continue
		}
		out = append(out, e)
	}
	return out
}

// neighTestRun runs nlkit in ns and fails t on error.
func neighTestRun(t *testing.T, ns *nstest.NS, args ...string) string {
	t.Helper()
	out, errOut, code := nlkit(t, append([]string{"-n", ns.Name}, args...)...)
	if code != 0 {
		t.Fatalf("nlkit %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// neighTestCompare checks that `nlkit -j ARGS` prints what `ip -j
// IPARGS` does, entry for entry and field for field.
func neighTestCompare(t *testing.T, ns *nstest.NS, args, ipArgs []string) {
	t.Helper()
	var got, want []map[string]any
	out := neighTestRun(t, ns, append([]string{"-j"}, args...)...)
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("nlkit -j %s: not a JSON array: %v\n%s", strings.Join(args, " "), err, out)
	}
	ns.IPJSON(t, &want, ipArgs...)
	got, want = neighTestOurs(got), neighTestOurs(want)
	if len(got) != len(want) {
		t.Fatalf("nlkit %s: %d entries, ip %s: %d\n nlkit %v\n ip    %v", strings.Join(args, " "), len(got),
			strings.Join(ipArgs, " "), len(want), got, want)
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("nlkit %s, entry %d:\n nlkit %v\n ip    %v", strings.Join(args, " "), i, got[i], want[i])
		}
	}
}

func TestNeighCLIMatchesIP(t *testing.T) {
	ns := neighTestNS(t)
	// Made with nlkit, in every state that stays put, and with ip.
	for _, args := range [][]string{
		{"add", "10.0.0.2", "lladdr", "02:00:00:00:00:02", "dev", "va"},
		{"add", "10.0.0.3", "lladdr", "02:00:00:00:00:03", "nud", "stale", "router", "dev", "va"},
		{"add", "10.0.0.4", "lladdr", "02:00:00:00:00:04", "nud", "reachable", "dev", "va", "protocol", "static"},
		{"add", "10.0.0.5", "lladdr", "02:00:00:00:00:05", "nud", "noarp", "dev", "va"},
		{"add", "to", "10.0.0.6", "nud", "none", "dev", "va"},
		{"add", "2001:db8::2", "lladdr", "02:00:00:00:00:12", "nud", "permanent", "dev", "va"},
		{"add", "2001:db8::3", "lladdr", "02:00:00:00:00:13", "nud", "stale", "router", "dev", "va"},
		{"add", "2001:db8::4", "lladdr", "02:00:00:00:00:14", "nud", "reachable", "dev", "va"},
		{"add", "proxy", "10.0.0.9", "dev", "va"},
		{"add", "2001:db8::9", "proxy", "dev", "va"},
	} {
		neighTestRun(t, ns, append([]string{"neigh"}, args...)...)
	}
	ns.Batch(t, `neigh add 10.0.0.20 lladdr 02:00:00:00:01:20 dev va nud permanent
neigh add 2001:db8::20 lladdr 02:00:00:00:01:30 dev va nud stale router
neigh add proxy 10.0.0.29 dev va
`)
	// Read back with ip, field by field.
	var ipAll []map[string]any
	ns.IPJSON(t, &ipAll, "neigh", "show", "nud", "all")
	byDst := map[string]map[string]any{}
	for _, e := range ipAll {
		byDst[e["dst"].(string)] = e
	}
	checks := map[string]string{
		"10.0.0.2":    `{"dev":"va","dst":"10.0.0.2","lladdr":"02:00:00:00:00:02","state":["PERMANENT"]}`,
		"10.0.0.3":    `{"dev":"va","dst":"10.0.0.3","lladdr":"02:00:00:00:00:03","router":null,"state":["STALE"]}`,
		"10.0.0.4":    `{"dev":"va","dst":"10.0.0.4","lladdr":"02:00:00:00:00:04","protocol":"static","state":["REACHABLE"]}`,
		"10.0.0.5":    `{"dev":"va","dst":"10.0.0.5","lladdr":"02:00:00:00:00:05","state":["NOARP"]}`,
		"10.0.0.6":    `{"dev":"va","dst":"10.0.0.6"}`,
		"2001:db8::2": `{"dev":"va","dst":"2001:db8::2","lladdr":"02:00:00:00:00:12","state":["PERMANENT"]}`,
		"2001:db8::3": `{"dev":"va","dst":"2001:db8::3","lladdr":"02:00:00:00:00:13","router":null,"state":["STALE"]}`,
		"2001:db8::4": `{"dev":"va","dst":"2001:db8::4","lladdr":"02:00:00:00:00:14","state":["REACHABLE"]}`,
	}
	for dst, want := range checks {
		b, _ := json.Marshal(byDst[dst]) // map keys come out sorted
		if string(b) != want {
			t.Errorf("ip shows %s as %s, want %s", dst, b, want)
		}
	}

	// nlkit lists what ip lists, with every filter.
	for _, tt := range []struct{ args, ip []string }{
		{[]string{"neigh"}, []string{"neigh"}},
		{[]string{"neigh", "show", "nud", "all"}, []string{"neigh", "show", "nud", "all"}},
		{[]string{"neigh", "show", "dev", "va", "nud", "all"}, []string{"neigh", "show", "dev", "va", "nud", "all"}},
		{[]string{"neigh", "show", "nud", "stale", "nud", "noarp"}, []string{"neigh", "show", "nud", "stale", "nud", "noarp"}},
		{[]string{"neigh", "show", "nud", "none"}, []string{"neigh", "show", "nud", "none"}},
		{[]string{"neigh", "show", "proxy"}, []string{"neigh", "show", "proxy"}},
		{[]string{"neigh", "show", "to", "2001:db8::/64"}, []string{"neigh", "show", "to", "2001:db8::/64"}},
		{[]string{"neigh", "show", "10.0.0.0/30", "nud", "all"}, []string{"neigh", "show", "10.0.0.0/30", "nud", "all"}},
		{[]string{"neigh", "-f", "inet6", "show", "nud", "all"}, []string{"-6", "neigh", "show", "nud", "all"}},
		{[]string{"neigh", "-f", "4", "show", "proxy"}, []string{"-4", "neigh", "show", "proxy"}},
	} {
		neighTestCompare(t, ns, tt.args, tt.ip)
	}
	// The text form: a header and one line per entry.
	text := neighTestRun(t, ns, "neigh", "show", "dev", "va")
	if !strings.HasPrefix(text, "ADDRESS") || !strings.Contains(text, "02:00:00:00:00:03") || !strings.Contains(text, "router") {
		t.Errorf("text output:\n%s", text)
	}
}

func TestNeighCLIReplaceChangeDelete(t *testing.T) {
	ns := neighTestNS(t)
	neighTestRun(t, ns, "neigh", "add", "10.0.0.2", "lladdr", "02:00:00:00:00:02", "nud", "stale", "dev", "va")
	neighTestRun(t, ns, "neigh", "replace", "10.0.0.2", "lladdr", "02:00:00:00:00:22", "dev", "va")
	neighTestRun(t, ns, "neigh", "replace", "2001:db8::2", "lladdr", "02:00:00:00:00:12", "nud", "stale", "dev", "va")
	neighTestRun(t, ns, "neigh", "change", "2001:db8::2", "lladdr", "02:00:00:00:00:32", "nud", "reachable", "router", "dev", "va")
	neighTestRun(t, ns, "neigh", "add", "proxy", "10.0.0.9", "dev", "va")
	var got []map[string]any
	ns.IPJSON(t, &got, "neigh", "show", "dev", "va")
	want := `[{"dst":"10.0.0.2","lladdr":"02:00:00:00:00:22","state":["PERMANENT"]},` +
		`{"dst":"2001:db8::2","lladdr":"02:00:00:00:00:32","router":null,"state":["REACHABLE"]}]`
	if b, _ := json.Marshal(neighTestOurs(got)); string(b) != want {
		t.Fatalf("after replace and change, ip shows\n %s\nwant\n %s", b, want)
	}
	neighTestRun(t, ns, "neigh", "del", "10.0.0.2", "dev", "va")
	neighTestRun(t, ns, "neigh", "delete", "2001:db8::2", "dev", "va")
	neighTestRun(t, ns, "neigh", "del", "proxy", "10.0.0.9", "dev", "va")
	got = nil
	ns.IPJSON(t, &got, "neigh", "show", "nud", "all")
	if got = neighTestOurs(got); len(got) != 0 {
		t.Fatalf("after del, ip shows %v", got)
	}
	got = nil
	ns.IPJSON(t, &got, "neigh", "show", "proxy")
	if len(got) != 0 {
		t.Fatalf("after del proxy, ip shows %v", got)
	}
}

// neighTestSnapshot is the test's part of the neighbour tables, as ip
// shows them.
func neighTestSnapshot(t *testing.T, ns *nstest.NS) string {
	t.Helper()
	var all, proxy []map[string]any
	ns.IPJSON(t, &all, "neigh", "show", "nud", "all")
	ns.IPJSON(t, &proxy, "neigh", "show", "proxy")
	b, _ := json.Marshal([][]map[string]any{neighTestOurs(all), proxy})
	return string(b)
}

func TestNeighCLIBadInput(t *testing.T) {
	ns := neighTestNS(t)
	neighTestRun(t, ns, "neigh", "add", "10.0.0.3", "lladdr", "02:00:00:00:00:03", "dev", "va")
	neighTestRun(t, ns, "neigh", "add", "proxy", "10.0.0.9", "dev", "va")
	before := neighTestSnapshot(t, ns)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"neigh", "add", "10.0.0.2", "lladdr", "02:00:00:00:00:zz", "dev", "va"}, `bad lladdr "02:00:00:00:00:zz"`},
		{[]string{"neigh", "replace", "10.0.0.2", "lladdr", "nonsense", "dev", "va"}, `bad lladdr "nonsense"`},
		{[]string{"neigh", "add", "10.0.0.2", "lladdr", "02:00:00:00:00:02", "nud", "bogus", "dev", "va"}, `unknown nud state "bogus"`},
		{[]string{"neigh", "change", "10.0.0.3", "nud", "all", "dev", "va"}, `unknown nud state "all"`},
		{[]string{"neigh", "add", "10.0.0.2", "lladdr", "02:00:00:00:00:02", "dev", "nosuch0"}, `device "nosuch0" does not exist`},
		{[]string{"neigh", "del", "10.0.0.3", "dev", "nosuch0"}, `device "nosuch0" does not exist`},
		{[]string{"neigh", "add", "10.0.0.300", "dev", "va"}, `bad address "10.0.0.300"`},
		{[]string{"neigh", "add", "lladdr", "02:00:00:00:00:02", "dev", "va"}, "missing the neighbour's address"},
		{[]string{"neigh", "add", "10.0.0.2", "lladdr", "02:00:00:00:00:02"}, "missing dev DEVICE"},
		{[]string{"neigh", "add", "10.0.0.2", "lladdr"}, `missing value after "lladdr"`},
		{[]string{"neigh", "add", "10.0.0.2", "10.0.0.4", "dev", "va"}, "address given twice"},
		{[]string{"neigh", "add", "10.0.0.2", "frob", "dev", "va"}, `unknown argument "frob"`},
		{[]string{"neigh", "add", "10.0.0.3", "lladdr", "02:00:00:00:00:02", "dev", "va"}, "an entry for 10.0.0.3 exists"},
		{[]string{"neigh", "add", "10.0.0.2", "lladdr", "02:00:00", "dev", "va"}, "invalid argument"},
		{[]string{"neigh", "add", "10.0.0.2", "lladdr", "02:00:00:00:00:02", "dev", "va", "protocol", "nosuchproto"}, `bad protocol "nosuchproto"`},
		{[]string{"neigh", "-f", "inet6", "add", "10.0.0.2", "dev", "va"}, "10.0.0.2 is not an inet6 address"},
		{[]string{"neigh", "-f", "inet5", "add", "10.0.0.2", "dev", "va"}, `unknown family "inet5"`},
		{[]string{"neigh", "change", "10.0.0.99", "lladdr", "02:00:00:00:00:02", "dev", "va"}, "no entry for 10.0.0.99"},
		{[]string{"neigh", "del", "10.0.0.99", "dev", "va"}, "no entry for 10.0.0.99: delete neighbour 10.0.0.99: no such file or directory"},
		{[]string{"neigh", "del", "proxy", "10.0.0.3", "dev", "va"}, "no entry for 10.0.0.3"},
		{[]string{"neigh", "del"}, "missing the neighbour's address"},
		{[]string{"neigh", "show", "dev", "nosuch0"}, `device "nosuch0" does not exist`},
		{[]string{"neigh", "show", "nud", "bogus"}, `unknown nud state "bogus"`},
		{[]string{"neigh", "show", "10.0.0.0/40"}, `bad prefix "10.0.0.0/40"`},
		{[]string{"neigh", "show", "dev"}, `missing value after "dev"`},
		{[]string{"neigh", "frobnicate"}, `neigh: unknown command "frobnicate"`},
	}
	for _, tt := range tests {
		out, errOut, code := nlkit(t, append([]string{"-n", ns.Name}, tt.args...)...)
		if code == 0 || !strings.Contains(errOut, tt.want) || !strings.HasPrefix(errOut, "nlkit: ") {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want an error containing %q", tt.args, code, errOut, out, tt.want)
		}
		if strings.Contains(errOut, "goroutine") || strings.Contains(errOut, "panic") {
			t.Errorf("%v: stack trace: %s", tt.args, errOut)
		}
		if after := neighTestSnapshot(t, ns); after != before {
			t.Fatalf("%v changed the tables:\n before %s\n after  %s", tt.args, before, after)
		}
	}
}
