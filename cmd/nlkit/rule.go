package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/nlkit/nlkit/rtnl"
)

// ipNames maps numbers to the names iproute2 gives them in its
// configuration files (rt_tables, rt_protos, rt_dsfield, group, rt_realms),
// so that output and arguments use the same names ip does on this host.
// Files are read when first needed, once per command.
type ipNames struct {
	files map[string]map[uint32]string
}

func newIPNames() *ipNames { return &ipNames{files: map[string]map[uint32]string{}} }

// Names iproute2 knows without its files (lib/rt_names.c).
var ipBuiltinNames = map[string]map[uint32]string{
	"rt_tables": {0: "unspec", 253: "default", 254: "main", 255: "local"},
	"rt_protos": {0: "unspec", 1: "redirect", 2: "kernel", 3: "boot", 4: "static", 8: "gated",
		9: "ra", 10: "mrt", 11: "zebra", 12: "bird", 13: "dnrouted", 14: "xorp", 15: "ntk",
		16: "dhcp", 18: "keepalived", 42: "babel", 99: "openr", 186: "bgp", 187: "isis",
		188: "ospf", 189: "rip", 192: "eigrp"},
	"group":     {0: "default"},
	"rt_realms": {0: "unknown"},
}

// table returns the number-to-name map of an iproute2 file: built-in
// names, then /usr/share/iproute2/FILE, /etc/iproute2/FILE and their .d
// directories (*.conf), later ones overriding earlier ones.
func (n *ipNames) table(file string) map[uint32]string {
	if t, ok := n.files[file]; ok {
		return t
	}
	t := map[uint32]string{}
	for k, v := range ipBuiltinNames[file] {
		t[k] = v
	}
	for _, dir := range []string{"/usr/share/iproute2", "/etc/iproute2"} {
		readIPNames(filepath.Join(dir, file), t)
		conf, _ := filepath.Glob(filepath.Join(dir, file+".d", "*.conf"))
		sort.Strings(conf)
		for _, f := range conf {
			readIPNames(f, t)
		}
	}
	n.files[file] = t
	return t
}

// readIPNames adds the "NUMBER NAME" lines of file to t; a missing or
// unreadable file adds nothing, as in ip.
func readIPNames(file string, t map[uint32]string) {
	f, err := os.Open(file)
	if err != nil {
		return
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		line, _, _ := strings.Cut(s.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		v, err := strconv.ParseUint(fields[0], 0, 32)
		if err != nil {
			continue
		}
		t[uint32(v)] = fields[1]
	}
}

// name returns the name of id in file, or id as a decimal number.
func (n *ipNames) name(file string, id uint32) string {
	if s, ok := n.table(file)[id]; ok {
		return s
	}
	return strconv.FormatUint(uint64(id), 10)
}

// number parses s as a name from file or a number up to max (decimal or
// 0x hexadecimal).
func (n *ipNames) number(file, s string, max uint64) (uint32, error) {
	if v, err := strconv.ParseUint(s, 0, 32); err == nil {
		if v > max {
			return 0, fmt.Errorf("%d exceeds %d", v, max)
		}
		return uint32(v), nil
	}
	var ids []uint32
	for id, name := range n.table(file) {
		if name == s && uint64(id) <= max {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return 0, fmt.Errorf("unknown name %q", s)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids[0], nil
}

// dsfieldName is ip's rtnl_dsfield_n2a: a name from rt_dsfield, or 0x%02x.
func (n *ipNames) dsfieldName(tos uint8) string {
	if s, ok := n.table("rt_dsfield")[uint32(tos)]; ok {
		return s
	}
	return fmt.Sprintf("0x%02x", tos)
}

// protoNames are the IP protocol names of /etc/protocols that rules
// commonly use; others print as ip does without a name, ipproto-N.
var protoNames = map[uint8]string{
	1: "icmp", 2: "igmp", 4: "ipencap", 6: "tcp", 17: "udp", 41: "ipv6", 47: "gre", 50: "esp",
	51: "ah", 58: "ipv6-icmp", 89: "ospf", 103: "pim", 112: "vrrp", 132: "sctp", 136: "udplite",
}

// ipProtoName is ip's inet_proto_n2a: the /etc/protocols name or
// ipproto-N.
func ipProtoName(p uint8) string {
	if s, ok := etcProtocols()[p]; ok {
		return s
	}
	return fmt.Sprintf("ipproto-%d", p)
}

// etcProtocols reads /etc/protocols (name number aliases...), falling
// back on protoNames when it is missing.
func etcProtocols() map[uint8]string {
	f, err := os.Open("/etc/protocols")
	if err != nil {
		return protoNames
	}
	defer f.Close()
	t := map[uint8]string{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		line, _, _ := strings.Cut(s.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		v, err := strconv.ParseUint(fields[1], 10, 8)
		if err != nil {
			continue
		}
		if _, dup := t[uint8(v)]; !dup {
			t[uint8(v)] = fields[0]
		}
	}
	return t
}

// parseIPProto parses an IP protocol: a number, a name, or ipproto-N.
func parseIPProto(s string) (uint8, error) {
	if v, err := strconv.ParseUint(strings.TrimPrefix(s, "ipproto-"), 0, 8); err == nil && v != 0 {
		return uint8(v), nil
	}
	for p, name := range etcProtocols() {
		if name == s && p != 0 {
			return p, nil
		}
	}
	return 0, fmt.Errorf("unknown IP protocol %q", s)
}

// ruleJSON is one rule as `ip -j rule` prints it, fields in its order.
type ruleJSON struct {
	Priority          uint32          `json:"priority"`
	Not               json.RawMessage `json:"not,omitempty"`
	Src               string          `json:"src"`
	SrcLen            *int            `json:"srclen,omitempty"`
	Dst               string          `json:"dst,omitempty"`
	DstLen            *int            `json:"dstlen,omitempty"`
	TOS               string          `json:"tos,omitempty"`
	Fwmark            string          `json:"fwmark,omitempty"`
	Fwmask            string          `json:"fwmask,omitempty"`
	IIF               string          `json:"iif,omitempty"`
	IIFDetached       json.RawMessage `json:"iif_detached,omitempty"`
	OIF               string          `json:"oif,omitempty"`
	OIFDetached       json.RawMessage `json:"oif_detached,omitempty"`
	L3MDev            json.RawMessage `json:"l3mdev,omitempty"`
	UIDStart          *uint32         `json:"uid_start,omitempty"`
	UIDEnd            *uint32         `json:"uid_end,omitempty"`
	IPProto           string          `json:"ipproto,omitempty"`
	Sport             *uint16         `json:"sport,omitempty"`
	SportStart        *uint16         `json:"sport_start,omitempty"`
	SportEnd          *uint16         `json:"sport_end,omitempty"`
	Dport             *uint16         `json:"dport,omitempty"`
	DportStart        *uint16         `json:"dport_start,omitempty"`
	DportEnd          *uint16         `json:"dport_end,omitempty"`
	TunID             *uint64         `json:"tun_id,omitempty"`
	Table             string          `json:"table,omitempty"`
	SuppressPrefixLen *int32          `json:"suppress_prefixlen,omitempty"`
	SuppressIfGroup   string          `json:"suppress_ifgroup,omitempty"`
	FlowFrom          string          `json:"flow_from,omitempty"`
	FlowTo            string          `json:"flow_to,omitempty"`
	Goto              any             `json:"goto,omitempty"`
	Unresolved        json.RawMessage `json:"unresolved,omitempty"`
	Nop               json.RawMessage `json:"nop,omitempty"`
	Action            string          `json:"action,omitempty"`
	Protocol          string          `json:"protocol,omitempty"`
}

// ruleAddrBits is ip's af_bit_len: the host prefix length of a family.
func ruleAddrBits(f rtnl.AddrFamily) int {
	switch f {
	case rtnl.AddrFamilyIPv4:
		return 32
	case rtnl.AddrFamilyIPv6:
		return 128
	}
	return 0
}

const rtprotKernel = 2 // RTPROT_KERNEL: ip does not print it

// toRuleJSON converts a rule; details (-d) shows its protocol even when
// it is kernel or unspec, as ip -d does.
func toRuleJSON(r *rtnl.Rule, names *ipNames, details bool) ruleJSON {
	j := ruleJSON{Priority: r.Priority, Not: jsonNull(r.Invert), Src: "all"}
	host := ruleAddrBits(r.Family)
	if r.Src.IsValid() {
		j.Src = r.Src.Addr().String()
		if b := r.Src.Bits(); b != host {
			j.SrcLen = &b
		}
	}
	if r.Dst.IsValid() {
		j.Dst = r.Dst.Addr().String()
		if b := r.Dst.Bits(); b != host {
			j.DstLen = &b
		}
	}
	if r.TOS != 0 {
		j.TOS = names.dsfieldName(r.TOS)
	}
	if r.Mark != 0 || r.Mask != 0 {
		j.Fwmark = fmt.Sprintf("%#x", r.Mark)
		if r.Mark == 0 {
			j.Fwmark = "0"
		}
		if r.Mask != 0 && r.Mask != 0xffffffff {
			j.Fwmask = fmt.Sprintf("%#x", r.Mask)
		}
	}
	if r.IIFName != "" {
		j.IIF = r.IIFName
		j.IIFDetached = jsonNull(r.Flags&rtnl.RuleFlagIIFDetached != 0)
	}
	if r.OIFName != "" {
		j.OIF = r.OIFName
		j.OIFDetached = jsonNull(r.Flags&rtnl.RuleFlagOIFDetached != 0)
	}
	j.L3MDev = jsonNull(r.L3MDev)
	if u := r.UIDRange; u != nil {
		j.UIDStart, j.UIDEnd = &u.Start, &u.End
	}
	if r.IPProto != 0 {
		j.IPProto = ipProtoName(r.IPProto)
	}
	if p := r.SrcPorts; p != nil {
		if p.Start == p.End {
			j.Sport = &p.Start
		} else {
			j.SportStart, j.SportEnd = &p.Start, &p.End
		}
	}
	if p := r.DstPorts; p != nil {
		if p.Start == p.End {
			j.Dport = &p.Start
		} else {
			j.DportStart, j.DportEnd = &p.Start, &p.End
		}
	}
	if r.TunID != 0 {
		j.TunID = &r.TunID
	}
	if r.Table != 0 {
		j.Table = names.name("rt_tables", r.Table)
		if r.SuppressPrefixLen != nil {
			v := int32(*r.SuppressPrefixLen)
			j.SuppressPrefixLen = &v
		}
		if r.SuppressIfGroup != nil {
			j.SuppressIfGroup = names.name("group", *r.SuppressIfGroup)
		}
	}
	if r.Realms != 0 {
		if from := r.Realms >> 16; from != 0 {
			j.FlowFrom = names.name("rt_realms", from)
		}
		j.FlowTo = names.name("rt_realms", r.Realms&0xffff)
	}
	switch r.Action {
	case rtnl.RuleActionLookup:
	case rtnl.RuleActionGoto:
		j.Goto = "none"
		if r.Goto != 0 {
			j.Goto = r.Goto
		}
		j.Unresolved = jsonNull(r.Flags&rtnl.RuleFlagUnresolved != 0)
	case rtnl.RuleActionNop:
		j.Nop = jsonNull(true)
	case rtnl.RuleActionUnspec:
		j.Action = "none"
	default:
		j.Action = r.Action.String()
	}
	if details || (r.Protocol != 0 && r.Protocol != rtprotKernel) {
		j.Protocol = names.name("rt_protos", uint32(r.Protocol))
	}
	return j
}

// ruleText splits a rule into the selector and action text ip prints.
func ruleText(j ruleJSON) (selector, action string) {
	var s []string
	add := func(f string, args ...any) { s = append(s, fmt.Sprintf(f, args...)) }
	if j.Not != nil {
		add("not")
	}
	src := j.Src
	if j.SrcLen != nil {
		src += "/" + strconv.Itoa(*j.SrcLen)
	}
	add("from %s", src)
	if j.Dst != "" {
		dst := j.Dst
		if j.DstLen != nil {
			dst += "/" + strconv.Itoa(*j.DstLen)
		}
		add("to %s", dst)
	}
	if j.TOS != "" {
		add("tos %s", j.TOS)
	}
	if j.Fwmark != "" {
		if j.Fwmask != "" {
			add("fwmark %s/%s", j.Fwmark, j.Fwmask)
		} else {
			add("fwmark %s", j.Fwmark)
		}
	}
	if j.IIF != "" {
		add("iif %s", j.IIF)
		if j.IIFDetached != nil {
			add("[detached]")
		}
	}
	if j.OIF != "" {
		add("oif %s", j.OIF)
		if j.OIFDetached != nil {
			add("[detached]")
		}
	}
	if j.UIDStart != nil {
		add("uidrange %d-%d", *j.UIDStart, *j.UIDEnd)
	}
	if j.IPProto != "" {
		add("ipproto %s", j.IPProto)
	}
	for _, p := range []struct {
		name            string
		one, start, end *uint16
	}{{"sport", j.Sport, j.SportStart, j.SportEnd}, {"dport", j.Dport, j.DportStart, j.DportEnd}} {
		if p.one != nil {
			add("%s %d", p.name, *p.one)
		} else if p.start != nil {
			add("%s %d-%d", p.name, *p.start, *p.end)
		}
	}
	if j.TunID != nil {
		add("tun_id %d", *j.TunID)
	}
	selector = strings.Join(s, " ")

	s = nil
	if j.L3MDev != nil {
		add("lookup [l3mdev-table]")
	}
	if j.Table != "" {
		add("lookup %s", j.Table)
		if j.SuppressPrefixLen != nil {
			add("suppress_prefixlength %d", *j.SuppressPrefixLen)
		}
		if j.SuppressIfGroup != "" {
			add("suppress_ifgroup %s", j.SuppressIfGroup)
		}
	}
	if j.FlowTo != "" {
		if j.FlowFrom != "" {
			add("realms %s/%s", j.FlowFrom, j.FlowTo)
		} else {
			add("realms %s", j.FlowTo)
		}
	}
	if j.Goto != nil {
		add("goto %v", j.Goto)
		if j.Unresolved != nil {
			add("[unresolved]")
		}
	}
	if j.Nop != nil {
		add("nop")
	}
	if j.Action != "" {
		add("%s", j.Action)
	}
	if j.Protocol != "" {
		add("proto %s", j.Protocol)
	}
	return selector, strings.Join(s, " ")
}

func newRuleCmd(a *app) *cobra.Command {
	var family string
	cmd := &cobra.Command{
		Use:     "rule [show|add|del] ...",
		Aliases: []string{"ru"},
		Short:   "Show and change the policy routing rules (like ip rule)",
		Long: `Show, add and delete the policy routing rules, as ip rule does. The rules
pick the routing table for each packet, lowest priority first. IPv4 unless
-f inet6 is given (or the rule's prefixes are IPv6). Without a subcommand,
lists the rules.

Examples:
  nlkit rule                                    the IPv4 rules, as ip rule
  nlkit rule -f inet6                           the IPv6 rules (also -f 6)
  nlkit -j rule                                 JSON in the shape of ip -j rule
  nlkit rule add from 10.1.0.0/16 table 100 pref 1000
  nlkit rule add not fwmark 0x10/0xff iif veth0 lookup 200
  nlkit rule add from 2001:db8::/32 prohibit
  nlkit rule del pref 1000`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("rule: unknown command %q (try: nlkit rule show|add|del, or nlkit rule --help)", args[0])
			}
			return ruleShow(a, cmd, family, nil)
		},
	}
	cmd.PersistentFlags().StringVarP(&family, "family", "f", "", "rules of `FAMILY`: inet (4, the default), inet6 (6) or all, as ip -f")

	const selectors = `
SELECTOR (all must match; "not" negates them together):
  not                        invert the selector
  from PREFIX, to PREFIX     source, destination prefix (all: any)
  iif DEVICE, oif DEVICE     input, output interface (need not exist yet)
  fwmark MARK[/MASK]         firewall mark
  tos TOS                    DS field: a number or a name from rt_dsfield
  uidrange FIRST-LAST        socket owner's user ID
  ipproto PROTO              IP protocol: tcp, udp, a number...
  sport PORT[-PORT], dport PORT[-PORT]
  l3mdev                     look up the VRF table of the interface
  tun_id ID                  tunnel ID of metadata tunnels
  priority N                 (also pref, preference, order) the rule's priority`
	const actions = `

ACTION:
  table TABLE                (also lookup) look up TABLE: main, local,
                             default, a number, or a name from rt_tables
  goto PRIORITY              jump to the rule with this priority
  blackhole, unreachable, prohibit, nop
  suppress_prefixlength N    ignore lookup results with a prefix length <= N
  suppress_ifgroup GROUP     ignore lookup results through an interface of GROUP
  realms [FROM/]TO           routing realms
  protocol PROTO             who installed the rule: a number or a name from rt_protos`

	show := &cobra.Command{
		Use:     "show [SELECTOR] [ACTION]",
		Aliases: []string{"list", "ls", "lst"},
		Short:   "List policy routing rules (like ip rule show)",
		Long: `List the policy routing rules, as ip rule show does; selectors and an
action given list only the rules that have them.
` + selectors + actions + `

Examples:
  nlkit rule show
  nlkit rule show table main
  nlkit -j rule -f inet6 show`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return ruleShow(a, cmd, family, args)
		},
	}
	modify := func(verb, short string, aliases ...string) *cobra.Command {
		return &cobra.Command{
			Use:     verb + " [SELECTOR] [ACTION]",
			Aliases: aliases,
			Short:   short,
			Long: short + `.
` + selectors + actions + `

Examples:
  nlkit rule ` + verb + ` from 10.1.0.0/16 to 10.2.0.0/24 table 100 pref 1000
  nlkit rule ` + verb + ` not fwmark 0x10/0xff iif veth0 lookup 200
  nlkit rule -f inet6 ` + verb + ` pref 300 unreachable`,
			Args: cobra.ArbitraryArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				return ruleModify(a, cmd, verb, family, args)
			},
		}
	}
	cmd.AddCommand(show,
		modify("add", "Add a policy routing rule (like ip rule add)"),
		modify("del", "Delete the first rule that matches (like ip rule del)", "delete"),
	)
	return cmd
}

// ruleArgs is a parsed rule with the fields the arguments set, for show
// filters.
type ruleArgs struct {
	rule   rtnl.Rule
	given  map[string]bool
	family rtnl.AddrFamily // from the prefixes, if any
}

// checkIfName is ip's check_ifname: a name the kernel could accept.
func checkIfName(cmd, key, s string) error {
	if s == "" || len(s) > 15 || strings.ContainsAny(s, "/ \t\n:") {
		return fmt.Errorf("%s: %s %q is not a valid interface name (1 to 15 characters, no / : or spaces)", cmd, key, s)
	}
	return nil
}

// parsePortRange parses PORT or PORT-PORT.
func parsePortRange(cmd, key, s string) (*rtnl.RulePortRange, error) {
	lo, hi, isRange := strings.Cut(s, "-")
	a, err1 := strconv.ParseUint(lo, 10, 16)
	b := a
	var err2 error
	if isRange {
		b, err2 = strconv.ParseUint(hi, 10, 16)
	}
	if err1 != nil || err2 != nil || b < a {
		return nil, fmt.Errorf("%s: %s %q: want PORT or FIRST-LAST, ports from 0 to 65535", cmd, key, s)
	}
	return &rtnl.RulePortRange{Start: uint16(a), End: uint16(b)}, nil
}

// parseRuleArgs parses an ip rule selector and action. family is the -f
// family (unspec: take it from the prefixes).
func parseRuleArgs(cmd string, family rtnl.AddrFamily, args []string, names *ipNames) (*ruleArgs, error) {
	ra := &ruleArgs{given: map[string]bool{}}
	r := &ra.rule
	w := newWords(cmd, args)
	u32 := func(key string) (uint32, error) {
		v, err := w.uint(key, 32)
		return uint32(v), err
	}
	prefix := func(key string) (netip.Prefix, error) {
		v, err := w.value(key)
		if err != nil {
			return netip.Prefix{}, err
		}
		hint := 0
		switch {
		case family == rtnl.AddrFamilyIPv6, family == rtnl.AddrFamilyUnspec && ra.family == rtnl.AddrFamilyIPv6:
			hint = 6
		}
		p, err := parsePrefix(v, hint)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%s: %s: %w", cmd, key, err)
		}
		pf := familyOfAddr(p.Addr())
		if family != rtnl.AddrFamilyUnspec && pf != family {
			return netip.Prefix{}, fmt.Errorf("%s: %s %s is not an %v prefix (see -f)", cmd, key, v, family)
		}
		if ra.family != rtnl.AddrFamilyUnspec && pf != ra.family {
			return netip.Prefix{}, fmt.Errorf("%s: %s %s mixes IPv4 and IPv6", cmd, key, v)
		}
		ra.family = pf
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		if p.Bits() == 0 {
			return netip.Prefix{}, nil // "all": no selector
		}
		return p, nil
	}
	setAction := func(word string, act rtnl.RuleAction) error {
		if ra.given["action"] && r.Action != act {
			return fmt.Errorf("%s: more than one action (%s and %s)", cmd, r.Action, word)
		}
		r.Action = act
		ra.given["action"] = true
		return nil
	}
	for w.more() {
		word := w.next()
		key := word
		var err error
		switch word {
		case "not":
			r.Invert = true
		case "from", "src":
			key = "from"
			r.Src, err = prefix(word)
		case "to", "dst":
			key = "to"
			r.Dst, err = prefix(word)
		case "iif", "dev":
			key = "iif"
			if r.IIFName, err = w.value(word); err == nil {
				err = checkIfName(cmd, word, r.IIFName)
			}
		case "oif":
			if r.OIFName, err = w.value(word); err == nil {
				err = checkIfName(cmd, word, r.OIFName)
			}
		case "fwmark":
			var v string
			if v, err = w.value(word); err != nil {
				break
			}
			mark, mask, hasMask := strings.Cut(v, "/")
			m, err1 := strconv.ParseUint(mark, 0, 32)
			k := uint64(0)
			var err2 error
			if hasMask {
				k, err2 = strconv.ParseUint(mask, 0, 32)
			}
			if err1 != nil || err2 != nil {
				err = fmt.Errorf("%s: fwmark %q: want MARK or MARK/MASK, numbers up to 0xffffffff", cmd, v)
				break
			}
			r.Mark, r.Mask = uint32(m), uint32(k)
		case "priority", "pref", "preference", "order":
			key = "priority"
			r.Priority, err = u32(word)
			r.HasPriority = true
		case "tos", "dsfield":
			key = "tos"
			var v string
			if v, err = w.value(word); err != nil {
				break
			}
			t, perr := names.number("rt_dsfield", v, 255)
			if perr != nil {
				err = fmt.Errorf("%s: tos %q: want a number from 0 to 255 or a name from rt_dsfield (AF11, CS1, ...)", cmd, v)
				break
			}
			r.TOS = uint8(t)
		case "table", "lookup":
			key = "table"
			var v string
			if v, err = w.value(word); err != nil {
				break
			}
			if r.Table, err = names.number("rt_tables", v, 0xffffffff); err != nil || r.Table == 0 {
				err = fmt.Errorf("%s: table %q: want main, local, default, a number from 1 to 4294967295 or a name from rt_tables", cmd, v)
				break
			}
			err = setAction(word, rtnl.RuleActionLookup)
		case "goto":
			if r.Goto, err = u32(word); err == nil {
				err = setAction(word, rtnl.RuleActionGoto)
			}
		case "blackhole", "unreachable", "prohibit", "nop", "type":
			key = "action"
			if word == "type" {
				if word, err = w.value(word); err != nil {
					break
				}
			}
			acts := map[string]rtnl.RuleAction{"blackhole": rtnl.RuleActionBlackhole, "unreachable": rtnl.RuleActionUnreachable,
				"prohibit": rtnl.RuleActionProhibit, "nop": rtnl.RuleActionNop, "unicast": rtnl.RuleActionLookup}
			act, ok := acts[word]
			if !ok {
				err = fmt.Errorf("%s: unknown rule type %q (want blackhole, unreachable, prohibit, nop or unicast)", cmd, word)
				break
			}
			err = setAction(word, act)
		case "protocol", "proto":
			key = "protocol"
			var v string
			if v, err = w.value(word); err != nil {
				break
			}
			p, perr := names.number("rt_protos", v, 255)
			if perr != nil {
				err = fmt.Errorf("%s: protocol %q: want a number from 0 to 255 or a name from rt_protos (static, boot, ...)", cmd, v)
				break
			}
			r.Protocol = uint8(p)
		case "suppress_prefixlength", "sup_pl":
			key = "suppress_prefixlength"
			var v uint32
			if v, err = u32(word); err == nil {
				r.SuppressPrefixLen = &v
			}
		case "suppress_ifgroup", "sup_group":
			key = "suppress_ifgroup"
			var v string
			if v, err = w.value(word); err != nil {
				break
			}
			g, perr := names.number("group", v, 0xfffffffe)
			if perr != nil {
				err = fmt.Errorf("%s: suppress_ifgroup %q: want a number or a name from /etc/iproute2/group", cmd, v)
				break
			}
			r.SuppressIfGroup = &g
		case "uidrange":
			var v string
			if v, err = w.value(word); err != nil {
				break
			}
			lo, hi, ok := strings.Cut(v, "-")
			a, err1 := strconv.ParseUint(lo, 10, 32)
			b, err2 := strconv.ParseUint(hi, 10, 32)
			if !ok || err1 != nil || err2 != nil || b < a {
				err = fmt.Errorf("%s: uidrange %q: want FIRST-LAST, such as 1000-1999", cmd, v)
				break
			}
			r.UIDRange = &rtnl.RuleUIDRange{Start: uint32(a), End: uint32(b)}
		case "ipproto":
			var v string
			if v, err = w.value(word); err != nil {
				break
			}
			if r.IPProto, err = parseIPProto(v); err != nil {
				err = fmt.Errorf("%s: ipproto: %w (want tcp, udp, icmp, a number...)", cmd, err)
			}
		case "sport", "dport":
			var v string
			if v, err = w.value(word); err != nil {
				break
			}
			var pr *rtnl.RulePortRange
			if pr, err = parsePortRange(cmd, word, v); err == nil {
				if word == "sport" {
					r.SrcPorts = pr
				} else {
					r.DstPorts = pr
				}
			}
		case "l3mdev":
			r.L3MDev = true
		case "tun_id":
			var v uint64
			if v, err = w.uint(word, 64); err == nil {
				r.TunID = v
			}
		case "realms", "realm":
			key = "realms"
			var v string
			if v, err = w.value(word); err != nil {
				break
			}
			from, to, hasFrom := strings.Cut(v, "/")
			if !hasFrom {
				from, to = "", from
			}
			var f, t uint32
			var err1, err2 error
			if from != "" {
				f, err1 = names.number("rt_realms", from, 0xffff)
			}
			t, err2 = names.number("rt_realms", to, 0xffff)
			if err1 != nil || err2 != nil {
				err = fmt.Errorf("%s: realms %q: want [FROM/]TO, numbers up to 65535 or names from rt_realms", cmd, v)
				break
			}
			r.Realms = f<<16 | t
		default:
			return nil, w.unknown(word)
		}
		if err != nil {
			return nil, err
		}
		ra.given[key] = true
	}
	return ra, nil
}

// ruleFamilyFor returns the family of a rule: -f, else the prefixes',
// else IPv4, as ip.
func ruleFamilyFor(flag, prefixes rtnl.AddrFamily) rtnl.AddrFamily {
	switch {
	case flag != rtnl.AddrFamilyUnspec:
		return flag
	case prefixes != rtnl.AddrFamilyUnspec:
		return prefixes
	}
	return rtnl.AddrFamilyIPv4
}

// matches reports whether r has every field the show arguments gave, as
// ip rule show's filter does.
func (ra *ruleArgs) matches(r *rtnl.Rule) bool {
	f, g := &ra.rule, ra.given
	pfxIn := func(want, have netip.Prefix) bool {
		if !want.IsValid() { // "all"
			return true
		}
		return have.IsValid() && want.Bits() <= have.Bits() && want.Contains(have.Addr())
	}
	switch {
	case g["priority"] && f.Priority != r.Priority,
		g["not"] && !r.Invert,
		g["from"] && !pfxIn(f.Src, r.Src),
		g["to"] && !pfxIn(f.Dst, r.Dst),
		g["tos"] && f.TOS != r.TOS,
		g["fwmark"] && (f.Mark != r.Mark || (f.Mask != 0 && f.Mask != r.Mask)),
		g["iif"] && f.IIFName != r.IIFName,
		g["oif"] && f.OIFName != r.OIFName,
		g["l3mdev"] && !r.L3MDev,
		g["uidrange"] && (r.UIDRange == nil || *f.UIDRange != *r.UIDRange),
		g["ipproto"] && f.IPProto != r.IPProto,
		g["sport"] && (r.SrcPorts == nil || *f.SrcPorts != *r.SrcPorts),
		g["dport"] && (r.DstPorts == nil || *f.DstPorts != *r.DstPorts),
		g["tun_id"] && f.TunID != r.TunID,
		g["table"] && f.Table != r.Table,
		g["goto"] && (r.Action != rtnl.RuleActionGoto || f.Goto != r.Goto),
		g["action"] && f.Action != r.Action,
		g["protocol"] && f.Protocol != r.Protocol,
		g["suppress_prefixlength"] && (r.SuppressPrefixLen == nil || *f.SuppressPrefixLen != *r.SuppressPrefixLen),
		g["suppress_ifgroup"] && (r.SuppressIfGroup == nil || *f.SuppressIfGroup != *r.SuppressIfGroup),
		g["realms"] && f.Realms != r.Realms:
		return false
	}
	return true
}

// ruleShow lists the rules args select.
func ruleShow(a *app, cmd *cobra.Command, familyFlag string, args []string) error {
	const verb = "rule show"
	family, err := parseNeighFamily(verb, familyFlag)
	if err != nil {
		return err
	}
	all := familyFlag != "" && family == rtnl.AddrFamilyUnspec
	names := newIPNames()
	ra, err := parseRuleArgs(verb, family, args, names)
	if err != nil {
		return err
	}
	if !all {
		family = ruleFamilyFor(family, ra.family)
	}
	ctx := cmd.Context()
	c, err := a.rtnl()
	if err != nil {
		return err
	}
	defer c.Close()
	var out []ruleJSON
	for r, err := range c.Rules(ctx, family) {
		if err != nil {
			return err
		}
		if ra.matches(r) {
			out = append(out, toRuleJSON(r, names, a.details))
		}
	}
	if a.json {
		if out == nil {
			out = []ruleJSON{}
		}
		return a.printJSON(out)
	}
	tw := a.table("PRIO", "SELECTOR", "ACTION")
	for _, j := range out {
		sel, act := ruleText(j)
		fmt.Fprintf(tw, "%d\t%s\t%s\n", j.Priority, sel, dash(act))
	}
	return tw.Flush()
}

// ruleModify adds or deletes the rule args describe.
func ruleModify(a *app, cmd *cobra.Command, verb, familyFlag string, args []string) error {
	what := "rule " + verb
	family, err := parseNeighFamily(what, familyFlag)
	if err != nil {
		return err
	}
	if verb == "del" && len(args) == 0 {
		return fmt.Errorf(`%s: needs a selector or action naming the rule, such as "pref 1000" (deleting the first rule of all is never what you want)`, what)
	}
	names := newIPNames()
	ra, err := parseRuleArgs(what, family, args, names)
	if err != nil {
		return err
	}
	r := &ra.rule
	r.Family = ruleFamilyFor(family, ra.family)
	if verb == "add" && (ra.given["suppress_ifgroup"] || ra.given["suppress_prefixlength"]) {
		if ra.given["action"] && r.Action != rtnl.RuleActionLookup {
			return fmt.Errorf("%s: suppress_prefixlength and suppress_ifgroup need a table lookup, not %s", what, r.Action)
		}
	}
	ctx := cmd.Context()
	c, err := a.rtnl()
	if err != nil {
		return err
	}
	defer c.Close()
	if verb == "add" {
		err = c.AddRule(ctx, r)
	} else {
		err = c.DeleteRule(ctx, r)
	}
	switch {
	case err == nil:
		return nil
	case verb == "del" && errors.Is(err, syscall.ENOENT):
		return fmt.Errorf("%s: no rule matches %s: %w", what, strings.Join(args, " "), err)
	case verb == "add" && errors.Is(err, syscall.EEXIST):
		return fmt.Errorf("%s: the same rule exists: %w", what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
