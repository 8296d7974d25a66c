//go:build linux

package rtnl_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"syscall"
	"testing"

	"github.com/nlkit/nlkit/internal/nstest"
	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/rtnl"
)

// ipRule is one rule of `ip -j rule`.
type ipRule struct {
	Priority uint32   `json:"priority"`
	Not      nullFlag `json:"not"`
	Src      string   `json:"src"`
	SrcLen   *int     `json:"srclen"`
	Dst      string   `json:"dst"`
	DstLen   *int     `json:"dstlen"`
	TOS      string   `json:"tos"`
	Fwmark   string   `json:"fwmark"`
	Fwmask   string   `json:"fwmask"`
	IIF      string   `json:"iif"`
	OIF      string   `json:"oif"`
	Table    string   `json:"table"`
	Goto     any      `json:"goto"`
	Nop      nullFlag `json:"nop"`
	Action   string   `json:"action"`
	Protocol string   `json:"protocol"`
	SupPL    *int     `json:"suppress_prefixlen"`
	UIDStart *uint32  `json:"uid_start"`
	UIDEnd   *uint32  `json:"uid_end"`
}

// ruleTableName is how ip names a table.
func ruleTableName(id uint32) string {
	switch id {
	case 0:
		return ""
	case 253:
		return "default"
	case 254:
		return "main"
	case 255:
		return "local"
	}
	return strconv.FormatUint(uint64(id), 10)
}

// diffRule compares a decoded rule with ip's view, field by field.
func diffRule(r *rtnl.Rule, w ipRule) string {
	host := 32
	if r.Family == rtnl.AddrFamilyIPv6 {
		host = 128
	}
	pfx := func(p netip.Prefix) (string, *int) {
		if !p.IsValid() {
			return "", nil
		}
		if b := p.Bits(); b != host {
			return p.Addr().String(), &b
		}
		return p.Addr().String(), nil
	}
	eqLen := func(a, b *int) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
	src, srcLen := pfx(r.Src)
	if src == "" {
		src = "all"
	}
	dst, dstLen := pfx(r.Dst)
	mark, mask := "", ""
	if r.Mark != 0 || r.Mask != 0 {
		mark = fmt.Sprintf("%#x", r.Mark)
		if r.Mask != 0xffffffff {
			mask = fmt.Sprintf("%#x", r.Mask)
		}
	}
	tos := ""
	if r.TOS != 0 {
		tos = fmt.Sprintf("0x%02x", r.TOS)
	}
	action := ""
	switch r.Action {
	case rtnl.RuleActionBlackhole, rtnl.RuleActionUnreachable, rtnl.RuleActionProhibit:
		action = r.Action.String()
	}
	var gotoTarget any
	if r.Action == rtnl.RuleActionGoto {
		gotoTarget = float64(r.Goto)
	}
	switch {
	case r.Priority != w.Priority:
		return "priority"
	case r.Invert != bool(w.Not):
		return "not"
	case src != w.Src || !eqLen(srcLen, w.SrcLen):
		return "src"
	case dst != w.Dst || !eqLen(dstLen, w.DstLen):
		return "dst"
	case tos != w.TOS:
		return "tos"
	case mark != w.Fwmark || mask != w.Fwmask:
		return "fwmark"
	case r.IIFName != w.IIF || r.OIFName != w.OIF:
		return "iif/oif"
	case ruleTableName(r.Table) != w.Table:
		return "table"
	case gotoTarget != w.Goto:
		return "goto"
	case (r.Action == rtnl.RuleActionNop) != bool(w.Nop) || action != w.Action:
		return "action"
	case (r.SuppressPrefixLen == nil) != (w.SupPL == nil) || (w.SupPL != nil && int(*r.SuppressPrefixLen) != *w.SupPL):
		return "suppress_prefixlen"
	case (r.UIDRange == nil) != (w.UIDStart == nil) || (w.UIDStart != nil && (r.UIDRange.Start != *w.UIDStart || r.UIDRange.End != *w.UIDEnd)):
		return "uidrange"
	case r.Protocol != 2 && r.Protocol != 0 && w.Protocol == "":
		return "protocol"
	}
	return ""
}

func checkRulesMatchIP(t *testing.T, ns *nstest.NS, c *rtnl.Client, fam rtnl.AddrFamily) []*rtnl.Rule {
	t.Helper()
	rules, err := c.ListRules(context.Background(), fam)
	if err != nil {
		t.Fatal(err)
	}
	var want []ipRule
	flag := "-4"
	if fam == rtnl.AddrFamilyIPv6 {
		flag = "-6"
	}
	ns.IPJSON(t, &want, flag, "rule", "show")
	if len(rules) != len(want) {
		t.Fatalf("family %v: nlkit lists %d rules, ip %d", fam, len(rules), len(want))
	}
	for i, r := range rules {
		if r.Family != fam || !r.HasPriority {
			t.Errorf("rule %d: family %v, HasPriority %v", r.Priority, r.Family, r.HasPriority)
		}
		if d := diffRule(r, want[i]); d != "" {
			t.Errorf("rule %d (%v): field %s differs:\n nlkit %+v\n ip    %+v", i, fam, d, r, want[i])
		}
	}
	return rules
}

func ruleDial(t *testing.T, ns *nstest.NS) *rtnl.Client {
	t.Helper()
	c, err := rtnl.Dial(&netlink.Config{NetNS: ns.Name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestKernelDefaultRules(t *testing.T) {
	ns := nstest.New(t)
	c := ruleDial(t, ns)
	v4 := checkRulesMatchIP(t, ns, c, rtnl.AddrFamilyIPv4)
	v6 := checkRulesMatchIP(t, ns, c, rtnl.AddrFamilyIPv6)
	type pt struct {
		prio, table uint32
	}
	var got4, got6 []pt
	for _, r := range v4 {
		got4 = append(got4, pt{r.Priority, r.Table})
	}
	for _, r := range v6 {
		got6 = append(got6, pt{r.Priority, r.Table})
	}
	if fmt.Sprint(got4) != "[{0 255} {32766 254} {32767 253}]" || fmt.Sprint(got6) != "[{0 255} {32766 254}]" {
		t.Fatalf("default rules: IPv4 %v, IPv6 %v", got4, got6)
	}
	for _, r := range append(v4, v6...) {
		if r.Action != rtnl.RuleActionLookup || r.Protocol != 2 || r.Src.IsValid() || r.Dst.IsValid() {
			t.Errorf("default rule %+v", r)
		}
	}
	// Every family at once: the IPv4 and IPv6 rules among others.
	all, err := c.ListRules(context.Background(), rtnl.AddrFamilyUnspec)
	if err != nil {
		t.Fatal(err)
	}
	n4, n6 := 0, 0
	for _, r := range all {
		switch r.Family {
		case rtnl.AddrFamilyIPv4:
			n4++
		case rtnl.AddrFamilyIPv6:
			n6++
		}
	}
	if n4 != 3 || n6 != 2 {
		t.Fatalf("all families: %d IPv4 and %d IPv6 rules", n4, n6)
	}
}

func TestKernelRuleAddMatchesIP(t *testing.T) {
	ns := nstest.New(t)
	c := ruleDial(t, ns)
	ctx := context.Background()
	zero := uint32(0)
	add := []*rtnl.Rule{
		{Family: rtnl.AddrFamilyIPv4, Priority: 100, Src: netip.MustParsePrefix("10.1.0.0/16"), Dst: netip.MustParsePrefix("10.2.0.0/24"),
			IIFName: "va", OIFName: "vb", Mark: 0x10, Mask: 0xff, TOS: 0x10, Table: 200},
		{Priority: 101, Invert: true, Src: netip.MustParsePrefix("10.3.0.0/16"), Table: 300000, Protocol: 4},
		{Family: rtnl.AddrFamilyIPv4, Priority: 102, Goto: 200},
		{Family: rtnl.AddrFamilyIPv4, Priority: 103, Action: rtnl.RuleActionBlackhole},
		{Family: rtnl.AddrFamilyIPv4, Priority: 104, Action: rtnl.RuleActionUnreachable},
		{Family: rtnl.AddrFamilyIPv4, Priority: 105, Action: rtnl.RuleActionProhibit},
		{Family: rtnl.AddrFamilyIPv4, Priority: 106, Action: rtnl.RuleActionNop},
		{Family: rtnl.AddrFamilyIPv4, Priority: 107, Mark: 0x20, SuppressPrefixLen: &zero},
		{Family: rtnl.AddrFamilyIPv4, Priority: 108, UIDRange: &rtnl.RuleUIDRange{Start: 100, End: 200}, Table: 10,
			IPProto: 6, SrcPorts: &rtnl.RulePortRange{Start: 80, End: 80}, DstPorts: &rtnl.RulePortRange{Start: 1000, End: 2000}},
		{Family: rtnl.AddrFamilyIPv4, Src: netip.MustParsePrefix("10.5.5.5/32"), Table: 11}, // priority left to the kernel
		{Src: netip.MustParsePrefix("2001:db8::/32"), Priority: 300, Table: 30},
		{Family: rtnl.AddrFamilyIPv6, Priority: 301, Dst: netip.MustParsePrefix("2001:db8:1::1/128"), Action: rtnl.RuleActionProhibit},
		{Family: rtnl.AddrFamilyIPv6, Priority: 302, Invert: true, Mark: 7, Table: 255},
	}
	for _, r := range add {
		if err := c.AddRule(ctx, r); err != nil {
			t.Fatalf("add %+v: %v", r, err)
		}
	}
	if add[2].Action != rtnl.RuleActionUnspec || add[7].Table != 0 {
		t.Fatal("AddRule modified the caller's rule")
	}
	v4 := checkRulesMatchIP(t, ns, c, rtnl.AddrFamilyIPv4)
	checkRulesMatchIP(t, ns, c, rtnl.AddrFamilyIPv6)

	// What was added is what ip shows, with ip's defaults filled in.
	var ip4, ip6 []ipRule
	ns.IPJSON(t, &ip4, "-4", "rule", "show")
	ns.IPJSON(t, &ip6, "-6", "rule", "show")
	byPrio := map[rtnl.AddrFamily]map[uint32]ipRule{rtnl.AddrFamilyIPv4: {}, rtnl.AddrFamilyIPv6: {}}
	for _, w := range ip4 {
		byPrio[rtnl.AddrFamilyIPv4][w.Priority] = w
	}
	for _, w := range ip6 {
		byPrio[rtnl.AddrFamilyIPv6][w.Priority] = w
	}
	for _, r := range add {
		if r.Priority == 0 {
			continue // the kernel picks it: checked below
		}
		want := *r
		if want.Family == rtnl.AddrFamilyUnspec {
			want.Family = rtnl.AddrFamilyIPv4
			if want.Src.Addr().Is6() || want.Dst.Addr().Is6() {
				want.Family = rtnl.AddrFamilyIPv6
			}
		}
		if want.Mark != 0 && want.Mask == 0 {
			want.Mask = 0xffffffff
		}
		switch {
		case want.Action == rtnl.RuleActionUnspec && want.Goto != 0:
			want.Action = rtnl.RuleActionGoto
		case want.Action == rtnl.RuleActionUnspec:
			want.Action = rtnl.RuleActionLookup
		}
		if want.Action == rtnl.RuleActionLookup && want.Table == 0 {
			want.Table = 254
		}
		w, ok := byPrio[want.Family][want.Priority]
		if !ok {
			t.Errorf("ip does not show rule %d (%v)", want.Priority, want.Family)
			continue
		}
		if d := diffRule(&want, w); d != "" {
			t.Errorf("added rule %d: field %s differs:\n added %+v\n ip    %+v", want.Priority, d, want, w)
		}
	}

	// The kernel chose a priority below the first non-zero one for the
	// rule that had none.
	var picked *rtnl.Rule
	for _, r := range v4 {
		if r.Table == 11 {
			picked = r
		}
	}
	if picked == nil || picked.Priority != 99 {
		t.Fatalf("rule without priority: %+v, want priority 99", picked)
	}
	// Defaults filled in as ip does: lookup, main table, goto action.
	for _, r := range v4 {
		switch r.Priority {
		case 102:
			if r.Action != rtnl.RuleActionGoto || r.Goto != 200 || r.Flags&rtnl.RuleFlagUnresolved == 0 {
				t.Errorf("goto rule %+v", r)
			}
		case 107:
			if r.Action != rtnl.RuleActionLookup || r.Table != 254 || r.Mask != 0xffffffff {
				t.Errorf("lookup without table: %+v", r)
			}
		case 100:
			if r.Flags&rtnl.RuleFlagIIFDetached == 0 || r.Flags&rtnl.RuleFlagOIFDetached == 0 {
				t.Errorf("rule on missing devices not detached: %v", r.Flags)
			}
		case 108:
			if *r.SrcPorts != (rtnl.RulePortRange{Start: 80, End: 80}) || *r.DstPorts != (rtnl.RulePortRange{Start: 1000, End: 2000}) || r.IPProto != 6 {
				t.Errorf("ports: %+v %+v %d", r.SrcPorts, r.DstPorts, r.IPProto)
			}
		}
	}

	// Adding the same rule twice: EEXIST.
	if err := c.AddRule(ctx, add[0]); !errors.Is(err, syscall.EEXIST) {
		t.Fatalf("duplicate rule: %v, want EEXIST", err)
	}
}

func TestKernelRuleIPMatchesListAndDelete(t *testing.T) {
	ns := nstest.New(t)
	c := ruleDial(t, ns)
	ctx := context.Background()
	ns.Batch(t, `rule add from 192.0.2.0/24 to 198.51.100.0/24 pref 50 table 100
rule add not fwmark 0x1/0x3 iif lo pref 60 lookup main
rule add pref 70 uidrange 1000-1999 prohibit
rule add pref 80 table 100
rule add pref 90 table 100
`)
	ns.IP(t, "-6", "rule", "add", "from", "2001:db8::/48", "pref", "40", "unreachable")
	checkRulesMatchIP(t, ns, c, rtnl.AddrFamilyIPv4)
	v6 := checkRulesMatchIP(t, ns, c, rtnl.AddrFamilyIPv6)
	if v6[1].Priority != 40 || v6[1].Src != netip.MustParsePrefix("2001:db8::/48") || v6[1].Action != rtnl.RuleActionUnreachable {
		t.Fatalf("IPv6 rule: %+v", v6[1])
	}

	// A listed rule deletes exactly itself: pref 90, not its twin at 80.
	var r90 *rtnl.Rule
	for r, err := range c.Rules(ctx, rtnl.AddrFamilyIPv4) {
		if err != nil {
			t.Fatal(err)
		}
		if r.Priority == 90 {
			r90 = r
		}
	}
	if err := c.DeleteRule(ctx, r90); err != nil {
		t.Fatal(err)
	}
	// Priority 0 is a real priority: a rule at 0 besides the local rule.
	r0 := &rtnl.Rule{Family: rtnl.AddrFamilyIPv4, HasPriority: true, Table: 77}
	if err := c.AddRule(ctx, r0); err != nil {
		t.Fatal(err)
	}
	var want []ipRule
	ns.IPJSON(t, &want, "rule", "show", "table", "77")
	if len(want) != 1 || want[0].Priority != 0 {
		t.Fatalf("rule at priority 0: ip shows %+v", want)
	}
	if err := c.DeleteRule(ctx, r0); err != nil {
		t.Fatal(err)
	}
	rules := checkRulesMatchIP(t, ns, c, rtnl.AddrFamilyIPv4)
	prios := []uint32{}
	for _, r := range rules {
		prios = append(prios, r.Priority)
	}
	if fmt.Sprint(prios) != "[0 50 60 70 80 32766 32767]" {
		t.Fatalf("after deletes: priorities %v", prios)
	}

	// Deleting what does not exist: ENOENT, nothing else touched.
	err := c.DeleteRule(ctx, &rtnl.Rule{Family: rtnl.AddrFamilyIPv4, Priority: 12345})
	if !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("delete of a missing rule: %v, want ENOENT", err)
	}
	if err := c.DeleteRule(ctx, &rtnl.Rule{Family: rtnl.AddrFamilyIPv6, Priority: 40, Action: rtnl.RuleActionUnreachable}); err != nil {
		t.Fatal(err)
	}
	checkRulesMatchIP(t, ns, c, rtnl.AddrFamilyIPv4)
	if v6 := checkRulesMatchIP(t, ns, c, rtnl.AddrFamilyIPv6); len(v6) != 2 {
		t.Fatalf("IPv6 rules after delete: %d", len(v6))
	}

	// The kernel's refusals keep their errno and text.
	err = c.AddRule(ctx, &rtnl.Rule{Family: rtnl.AddrFamilyIPv4, Priority: 5, TOS: 0xff, Table: 5})
	var oe *netlink.OpError
	if !errors.Is(err, syscall.EINVAL) || !errors.As(err, &oe) || oe.Message == "" {
		t.Fatalf("bad tos: %v, want EINVAL with the kernel's text", err)
	}
	if err := c.AddRule(ctx, &rtnl.Rule{Priority: 5, Table: 5}); err == nil {
		t.Fatal("a rule without a family was accepted")
	}
	checkRulesMatchIP(t, ns, c, rtnl.AddrFamilyIPv4)
}
