//go:build linux

package main

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/nlkit/nlkit/internal/nstest"
)

// ruleTestCompare checks that `nlkit -j ARGS` prints exactly what `ip -j
// IPARGS` does.
func ruleTestCompare(t *testing.T, ns *nstest.NS, args, ipArgs []string) []map[string]any {
	t.Helper()
	var got, want []map[string]any
	out := neighTestRun(t, ns, append([]string{"-j"}, args...)...)
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("nlkit -j %s: not a JSON array: %v\n%s", strings.Join(args, " "), err, out)
	}
	ns.IPJSON(t, &want, ipArgs...)
	if len(got) != len(want) {
		t.Fatalf("nlkit %s: %d rules, ip %s: %d\n nlkit %v\n ip    %v", strings.Join(args, " "), len(got),
			strings.Join(ipArgs, " "), len(want), got, want)
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("nlkit %s, rule %d:\n nlkit %v\n ip    %v", strings.Join(args, " "), i, got[i], want[i])
		}
	}
	return want
}

func TestRuleCLIDefaultRules(t *testing.T) {
	ns := nstest.New(t)
	v4 := ruleTestCompare(t, ns, []string{"rule"}, []string{"rule"})
	v6 := ruleTestCompare(t, ns, []string{"rule", "-f", "inet6", "show"}, []string{"-6", "rule", "show"})
	b4, _ := json.Marshal(v4)
	b6, _ := json.Marshal(v6)
	if string(b4) != `[{"priority":0,"src":"all","table":"local"},{"priority":32766,"src":"all","table":"main"},{"priority":32767,"src":"all","table":"default"}]` ||
		string(b6) != `[{"priority":0,"src":"all","table":"local"},{"priority":32766,"src":"all","table":"main"}]` {
		t.Fatalf("default rules:\n %s\n %s", b4, b6)
	}
	text := neighTestRun(t, ns, "rule")
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "PRIO") || !strings.Contains(lines[1], "lookup local") ||
		!strings.HasPrefix(lines[3], "32767") {
		t.Fatalf("text output:\n%s", text)
	}
}

func TestRuleCLIMatchesIP(t *testing.T) {
	ns := nstest.New(t)
	ns.IP(t, "link", "add", "va", "type", "veth", "peer", "name", "vb")
	for _, args := range []string{
		"add from 10.1.0.0/16 to 10.2.0.0/24 tos 0x10 fwmark 0x10/0xff iif va oif vb pref 100 table 200",
		"add not from 10.3.0.0/16 priority 101 lookup 300000 protocol static",
		"add pref 102 goto 200",
		"add pref 103 blackhole",
		"add order 104 unreachable",
		"add pref 105 type prohibit",
		"add pref 106 nop",
		"add pref 107 fwmark 0x20 table main suppress_prefixlength 0",
		"add pref 108 uidrange 100-200 ipproto tcp sport 80 dport 1000-2000 table 10",
		"add pref 109 iif nosuchdev lookup 8",
		"add pref 110 goto 9999",
		"add pref 111 l3mdev",
		"add pref 112 fwmark 0/0xff table 6 suppress_ifgroup 5",
		"add table 11",
		"add from 2001:db8::/32 pref 300 table 30",
		"-f inet6 add pref 301 to 2001:db8:1::1 unreachable",
		"-f 6 add pref 302 not fwmark 7 lookup local",
	} {
		neighTestRun(t, ns, append([]string{"rule"}, strings.Fields(args)...)...)
	}
	ns.IP(t, "rule", "add", "pref", "50", "from", "192.0.2.0/24", "table", "5", "realms", "3/4")
	ns.IP(t, "-6", "rule", "add", "pref", "40", "from", "2001:db8:5::/48", "blackhole")

	// Read back with ip, field by field.
	var v4 []map[string]any
	ns.IPJSON(t, &v4, "rule", "show", "pref", "100")
	b, _ := json.Marshal(v4)
	want := `[{"dst":"10.2.0.0","dstlen":24,"fwmark":"0x10","fwmask":"0xff","iif":"va","oif":"vb",` +
		`"priority":100,"src":"10.1.0.0","srclen":16,"table":"200","tos":"0x10"}]`
	if string(b) != want {
		t.Errorf("ip shows rule 100 as\n %s\nwant\n %s", b, want)
	}

	// nlkit lists what ip lists, with filters.
	ruleTestCompare(t, ns, []string{"rule"}, []string{"rule"})
	ruleTestCompare(t, ns, []string{"rule", "-f", "inet6"}, []string{"-6", "rule"})
	ruleTestCompare(t, ns, []string{"-d", "rule"}, []string{"-d", "rule"})
	ruleTestCompare(t, ns, []string{"rule", "show", "table", "main"}, []string{"rule", "show", "table", "main"})
	ruleTestCompare(t, ns, []string{"rule", "show", "pref", "0"}, []string{"rule", "show", "pref", "0"})
	ruleTestCompare(t, ns, []string{"rule", "list", "not"}, []string{"rule", "list", "not"})
	ruleTestCompare(t, ns, []string{"rule", "show", "from", "10.0.0.0/8"}, []string{"rule", "show", "from", "10.0.0.0/8"})
	ruleTestCompare(t, ns, []string{"rule", "show", "iif", "va"}, []string{"rule", "show", "iif", "va"})
	ruleTestCompare(t, ns, []string{"rule", "show", "fwmark", "0x20"}, []string{"rule", "show", "fwmark", "0x20"})
	ruleTestCompare(t, ns, []string{"rule", "-f", "6", "show", "from", "2001:db8::/16"}, []string{"-6", "rule", "show", "from", "2001:db8::/16"})

	// The kernel picked priority 99 for the rule without one.
	got := ruleTestCompare(t, ns, []string{"rule", "show", "table", "11"}, []string{"rule", "show", "table", "11"})
	if len(got) != 1 || got[0]["priority"] != float64(99) {
		t.Errorf("rule without a priority: %v", got)
	}

	// Delete by priority, by selector, and the IPv6 one by family.
	neighTestRun(t, ns, "rule", "del", "pref", "100")
	neighTestRun(t, ns, "rule", "delete", "not", "from", "10.3.0.0/16")
	neighTestRun(t, ns, "rule", "del", "table", "11")
	neighTestRun(t, ns, "rule", "-f", "inet6", "del", "pref", "301")
	neighTestRun(t, ns, "rule", "del", "from", "2001:db8::/32")
	var left4, left6 []map[string]any
	ns.IPJSON(t, &left4, "rule", "show")
	ns.IPJSON(t, &left6, "-6", "rule", "show")
	for _, r := range append(left4, left6...) {
		switch r["priority"] {
		case float64(100), float64(101), float64(99), float64(300), float64(301):
			t.Errorf("deleted rule remains: %v", r)
		}
	}
	if len(left4) != 3+12 || len(left6) != 2+2 {
		t.Errorf("after deletes: %d IPv4 rules, %d IPv6 rules", len(left4), len(left6))
	}
}

// ruleTestSnapshot is every rule of both families as ip shows them.
func ruleTestSnapshot(t *testing.T, ns *nstest.NS) string {
	t.Helper()
	var v4, v6 []map[string]any
	ns.IPJSON(t, &v4, "rule", "show")
	ns.IPJSON(t, &v6, "-6", "rule", "show")
	b, _ := json.Marshal([][]map[string]any{v4, v6})
	return string(b)
}

func TestRuleCLIBadInput(t *testing.T) {
	ns := nstest.New(t)
	neighTestRun(t, ns, "rule", "add", "pref", "100", "from", "10.1.0.0/16", "table", "200")
	before := ruleTestSnapshot(t, ns)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"rule", "add", "from", "10.0.0.0/33", "table", "5"}, `bad prefix "10.0.0.0/33"`},
		{[]string{"rule", "add", "to", "10.0.0.256", "table", "5"}, `bad address "10.0.0.256"`},
		{[]string{"rule", "add", "from", "2001:db8::/129"}, `bad prefix "2001:db8::/129"`},
		{[]string{"rule", "-f", "inet6", "add", "from", "10.0.0.0/8"}, "is not an inet6 prefix"},
		{[]string{"rule", "add", "from", "10.0.0.0/8", "to", "2001:db8::/32"}, "mixes IPv4 and IPv6"},
		{[]string{"rule", "add", "pref"}, `missing value after "pref"`},
		{[]string{"rule", "add", "pref", "x"}, `pref "x": not a number`},
		{[]string{"rule", "add", "fwmark", "0xzz"}, `fwmark "0xzz"`},
		{[]string{"rule", "add", "table", "nosuch"}, `table "nosuch"`},
		{[]string{"rule", "add", "iif", "waytoolonginterfacename"}, "not a valid interface name"},
		{[]string{"rule", "add", "blackhole", "table", "5"}, "more than one action"},
		{[]string{"rule", "add", "uidrange", "x"}, `uidrange "x"`},
		{[]string{"rule", "add", "frobnicate"}, `unknown argument "frobnicate"`},
		{[]string{"rule", "add", "pref", "7", "tos", "0xff", "table", "5"}, "invalid argument: Invalid"},
		{[]string{"rule", "add", "pref", "100", "from", "10.1.0.0/16", "table", "200"}, "the same rule exists"},
		{[]string{"rule", "del", "pref", "555"}, "rule del: no rule matches pref 555: delete rule 555: no such file or directory"},
		{[]string{"rule", "-f", "inet6", "del", "pref", "100"}, "no such file or directory"},
		{[]string{"rule", "del"}, "needs a selector"},
		{[]string{"rule", "-f", "inet7"}, `unknown family "inet7"`},
		{[]string{"rule", "show", "frob"}, `unknown argument "frob"`},
		{[]string{"rule", "frob"}, `rule: unknown command "frob"`},
	}
	for _, tt := range tests {
		out, errOut, code := nlkit(t, append([]string{"-n", ns.Name}, tt.args...)...)
		if code == 0 || !strings.Contains(errOut, tt.want) || !strings.HasPrefix(errOut, "nlkit: ") {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want an error containing %q", tt.args, code, errOut, out, tt.want)
		}
		if strings.Contains(errOut, "goroutine") || strings.Contains(errOut, "panic") {
			t.Errorf("%v: stack trace: %s", tt.args, errOut)
		}
		if after := ruleTestSnapshot(t, ns); after != before {
			t.Fatalf("%v changed the rules:\n before %s\n after  %s", tt.args, before, after)
		}
	}
}
