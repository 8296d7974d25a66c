package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/nlkit/nlkit/rtnl"
)

// neighJSON is one neighbour entry as `ip -j neigh` prints it, fields in
// its order. Flags ip prints as keywords are JSON nulls when present.
type neighJSON struct {
	Dst         string          `json:"dst,omitempty"`
	Dev         string          `json:"dev,omitempty"`
	LLAddr      *string         `json:"lladdr,omitempty"`
	Router      json.RawMessage `json:"router,omitempty"`
	Proxy       json.RawMessage `json:"proxy,omitempty"`
	ExternLearn json.RawMessage `json:"extern_learn,omitempty"`
	Offload     json.RawMessage `json:"offload,omitempty"`
	State       []string        `json:"state,omitempty"`
	Protocol    string          `json:"protocol,omitempty"`
}

// jsonNull is how ip -j prints a keyword that is present: "key": null.
// An absent keyword is a nil RawMessage, left out by omitempty.
func jsonNull(present bool) json.RawMessage {
	if present {
		return json.RawMessage("null")
	}
	return nil
}

func toNeighJSON(n *rtnl.Neighbor, links map[int32]string, names *ipNames, showDev bool) neighJSON {
	j := neighJSON{
		Router:      jsonNull(n.Flags&rtnl.NeighFlagRouter != 0),
		Proxy:       jsonNull(n.Flags&rtnl.NeighFlagProxy != 0),
		ExternLearn: jsonNull(n.Flags&rtnl.NeighFlagExtLearned != 0),
		Offload:     jsonNull(n.Flags&rtnl.NeighFlagOffloaded != 0),
		State:       n.State.Names(),
	}
	if n.IP.IsValid() {
		j.Dst = n.IP.String()
	}
	if showDev && n.Index != 0 {
		j.Dev = links[n.Index]
		if j.Dev == "" {
			j.Dev = fmt.Sprintf("if%d", n.Index)
		}
	}
	if n.HardwareAddr != nil {
		s := n.HardwareAddr.String()
		j.LLAddr = &s
	}
	if n.Protocol != 0 {
		j.Protocol = names.name("rt_protos", uint32(n.Protocol))
	}
	return j
}

// neighAllStates is the state mask of `nud all`; neighNoneBit in a state
// mask selects entries with no state (NUD_NONE), as in ip.
const (
	neighAllStates = 0x1ff
	neighNoneBit   = 0x100
)

func newNeighCmd(a *app) *cobra.Command {
	var family string
	cmd := &cobra.Command{
		Use:     "neigh [show|add|replace|change|del] ...",
		Aliases: []string{"neighbor", "neighbour", "neighbors", "neighbours"},
		Short:   "Show and change the ARP and NDP neighbour tables (like ip neigh)",
		Long: `Show, add, replace, change and delete entries of the neighbour tables:
the ARP cache (IPv4) and the NDP cache (IPv6), and proxy entries, as
ip neigh does. Without a subcommand, lists the entries.

Examples:
  nlkit neigh                                          every entry but NOARP ones (as ip neigh)
  nlkit neigh show dev veth0 nud all
  nlkit neigh show proxy                               proxy ARP/NDP entries
  nlkit -j neigh                                       JSON in the shape of ip -j neigh
  nlkit neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev veth0
  nlkit neigh replace 2001:db8::2 lladdr 02:00:00:00:00:04 nud reachable router dev veth0
  nlkit neigh add proxy 10.0.0.9 dev veth0
  nlkit neigh del 10.0.0.2 dev veth0`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("neigh: unknown command %q (try: nlkit neigh show|add|replace|change|del, or nlkit neigh --help)", args[0])
			}
			return neighShow(a, cmd, family, nil)
		},
	}
	cmd.PersistentFlags().StringVarP(&family, "family", "f", "", "only entries of `FAMILY`: inet (4) or inet6 (6), as ip -f")

	show := &cobra.Command{
		Use:     "show [proxy] [dev DEVICE] [[to] PREFIX] [nud STATE|all]",
		Aliases: []string{"list", "ls", "lst"},
		Short:   "List neighbour entries (like ip neigh show)",
		Long: `List neighbour entries, as ip neigh show does: by default every entry but
those in state NOARP (multicast mappings) or without a state.

  proxy           proxy ARP / proxy NDP entries instead of the cache
  dev DEVICE      only entries on this interface
  to PREFIX       only entries whose address is in PREFIX (the word to may be left out)
  nud STATE       only entries in this state: permanent, noarp, reachable, stale,
                  none, incomplete, delay, probe, failed, or all; may be repeated

Examples:
  nlkit neigh show
  nlkit neigh show dev veth0 nud all
  nlkit -j neigh show 2001:db8::/64
  nlkit neigh show proxy`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return neighShow(a, cmd, family, args)
		},
	}
	modify := func(verb, short string, aliases ...string) *cobra.Command {
		return &cobra.Command{
			Use:     verb + " [to] ADDR [lladdr MAC|null] [nud STATE] [proxy] [router] [extern_learn] [use] [protocol PROTO] dev DEVICE",
			Aliases: aliases,
			Short:   short,
			Long: short + `.

  ADDR            the neighbour's IPv4 or IPv6 address
  lladdr MAC      its link-layer address, 02:00:00:00:00:01 (null: none)
  nud STATE       permanent (the default), noarp, reachable, stale, none,
                  incomplete, delay, probe or failed
  proxy           a proxy ARP / proxy NDP entry (also "proxy ADDR", as ip);
                  the device may then be left out
  router          the neighbour is an IPv6 router
  extern_learn    learned by an external control plane (kernel ages it not)
  use             mark the entry in use (the kernel resolves or refreshes it)
  protocol PROTO  who installed it: a number or a name from rt_protos (static, ...)
  dev DEVICE      the interface

Examples:
  nlkit neigh ` + verb + ` 10.0.0.2 lladdr 02:00:00:00:00:02 dev veth0
  nlkit neigh ` + verb + ` 2001:db8::2 lladdr 02:00:00:00:00:04 nud stale router dev veth0
  nlkit neigh ` + verb + ` proxy 10.0.0.9 dev veth0`,
			Args: cobra.ArbitraryArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				return neighModify(a, cmd, verb, family, args)
			},
		}
	}
	del := &cobra.Command{
		Use:     "del [to] ADDR [proxy] dev DEVICE",
		Aliases: []string{"delete"},
		Short:   "Delete a neighbour entry (like ip neigh del)",
		Long: `Delete the entry for an address on an interface, as ip neigh del does;
with proxy, the proxy entry.

Examples:
  nlkit neigh del 10.0.0.2 dev veth0
  nlkit neigh del proxy 10.0.0.9 dev veth0`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return neighModify(a, cmd, "del", family, args)
		},
	}
	cmd.AddCommand(show, del,
		modify("add", "Add a neighbour entry (like ip neigh add)"),
		modify("replace", "Add a neighbour entry or replace the existing one (like ip neigh replace)"),
		modify("change", "Change an existing neighbour entry (like ip neigh change)", "chg"),
	)
	return cmd
}

// parseNeighFamily parses the --family value of neigh and rule: ip's -f
// names and 4/6; "" is unspec.
func parseNeighFamily(cmd, s string) (rtnl.AddrFamily, error) {
	switch strings.ToLower(s) {
	case "", "any", "all", "unspec":
		return rtnl.AddrFamilyUnspec, nil
	case "inet", "ipv4", "ip4", "4":
		return rtnl.AddrFamilyIPv4, nil
	case "inet6", "ipv6", "ip6", "6":
		return rtnl.AddrFamilyIPv6, nil
	}
	return 0, fmt.Errorf("%s: unknown family %q: want inet (4) or inet6 (6)", cmd, s)
}

// familyOfAddr returns the family of an IP address.
func familyOfAddr(a netip.Addr) rtnl.AddrFamily {
	if a.Unmap().Is4() {
		return rtnl.AddrFamilyIPv4
	}
	return rtnl.AddrFamilyIPv6
}

// parseNeighState parses a nud keyword; all (with allowAll) selects every
// state. The result is a state mask where neighNoneBit stands for NONE.
func parseNeighState(cmd, s string, allowAll bool) (uint32, error) {
	if allowAll && s == "all" {
		return neighAllStates, nil
	}
	st, err := rtnl.ParseNeighState(s)
	if err != nil {
		// A single-bit number, as ip accepts.
		if v, perr := strconv.ParseUint(s, 0, 8); perr == nil && v&(v-1) == 0 {
			st, err = rtnl.NeighState(v), nil
		}
	}
	if err != nil {
		want := "permanent, noarp, reachable, stale, none, incomplete, delay, probe or failed"
		if allowAll {
			want += ", or all"
		}
		return 0, fmt.Errorf("%s: unknown nud state %q (want %s)", cmd, s, want)
	}
	if st == rtnl.NeighNone {
		return neighNoneBit, nil
	}
	return uint32(st), nil
}

// parseLLAddr parses a link-layer address as ip's ll_addr_a2n does: hex
// bytes separated by colons (any length up to 32 bytes), or an IPv4
// address for tunnels.
func parseLLAddr(cmd, s string) (net.HardwareAddr, error) {
	bad := fmt.Errorf("%s: bad lladdr %q: want hex bytes such as 02:00:00:00:00:01", cmd, s)
	if strings.Contains(s, ".") {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			return nil, bad
		}
		b := a.As4()
		return net.HardwareAddr(b[:]), nil
	}
	parts := strings.Split(s, ":")
	if len(parts) > 32 {
		return nil, bad
	}
	hw := make(net.HardwareAddr, 0, len(parts))
	for _, p := range parts {
		if len(p) == 0 || len(p) > 2 {
			return nil, bad
		}
		v, err := strconv.ParseUint(p, 16, 8)
		if err != nil {
			return nil, bad
		}
		hw = append(hw, byte(v))
	}
	return hw, nil
}

// neighShow lists the entries args select.
func neighShow(a *app, cmd *cobra.Command, familyFlag string, args []string) error {
	const verb = "neigh show"
	family, err := parseNeighFamily(verb, familyFlag)
	if err != nil {
		return err
	}
	var (
		proxy  bool
		dev    string
		prefix netip.Prefix
		states uint32 = 0xff &^ uint32(rtnl.NeighNoARP)
		given  bool
	)
	w := newWords(verb, args)
	for w.more() {
		word := w.next()
		switch word {
		case "proxy":
			proxy = true
		case "dev":
			v, err := w.value(word)
			if err != nil {
				return err
			}
			if dev != "" {
				return fmt.Errorf("%s: device given twice (%q and %q)", verb, dev, v)
			}
			dev = v
		case "nud":
			v, err := w.value(word)
			if err != nil {
				return err
			}
			st, err := parseNeighState(verb, v, true)
			if err != nil {
				return err
			}
			if !given {
				states, given = 0, true
			}
			states |= st
		default:
			if word == "to" {
				if word, err = w.value(word); err != nil {
					return err
				}
			}
			if prefix.IsValid() {
				return w.unknown(word)
			}
			hint := 0
			if family == rtnl.AddrFamilyIPv6 {
				hint = 6
			}
			p, err := parsePrefix(word, hint)
			if err != nil {
				return fmt.Errorf("%s: %w", verb, err)
			}
			pf := familyOfAddr(p.Addr())
			if family != rtnl.AddrFamilyUnspec && pf != family {
				return fmt.Errorf("%s: %s is not an %v prefix", verb, word, family)
			}
			family, prefix = pf, p.Masked()
		}
	}

	ctx := cmd.Context()
	c, err := a.rtnl()
	if err != nil {
		return err
	}
	defer c.Close()
	f := rtnl.NeighborFilter{Family: family, Proxy: proxy}
	if dev != "" {
		if f.Index, err = linkIndex(ctx, c, dev); err != nil {
			return err
		}
	}
	links, err := linkNames(ctx, c)
	if err != nil {
		return err
	}
	names := newIPNames()
	var out []neighJSON
	for n, err := range c.Neighbors(ctx, f) {
		if err != nil {
			return err
		}
		// ip's filter: the states asked for; proxy and externally learned
		// entries whatever their state; NONE only when asked for.
		if uint32(n.State)&states == 0 && n.Flags&(rtnl.NeighFlagProxy|rtnl.NeighFlagExtLearned) == 0 &&
			(n.State != rtnl.NeighNone || states&neighNoneBit == 0) {
			continue
		}
		if prefix.IsValid() && (!n.IP.IsValid() || !prefix.Contains(n.IP.Unmap())) {
			continue
		}
		out = append(out, toNeighJSON(n, links, names, dev == ""))
	}
	if a.json {
		if out == nil {
			out = []neighJSON{}
		}
		return a.printJSON(out)
	}
	tw := a.table("ADDRESS", "DEV", "LLADDR", "STATE", "FLAGS")
	for _, j := range out {
		var flags []string
		for _, f := range []struct {
			v    json.RawMessage
			name string
		}{{j.Router, "router"}, {j.Proxy, "proxy"}, {j.ExternLearn, "extern_learn"}, {j.Offload, "offload"}} {
			if f.v != nil {
				flags = append(flags, f.name)
			}
		}
		if j.Protocol != "" {
			flags = append(flags, "proto "+j.Protocol)
		}
		ll := "-"
		if j.LLAddr != nil {
			ll = *j.LLAddr
		}
		devName := j.Dev
		if dev != "" {
			devName = dev
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", dash(j.Dst), dash(devName), dash(ll),
			dash(strings.Join(j.State, ",")), dash(strings.Join(flags, ",")))
	}
	return tw.Flush()
}

// neighModify adds, replaces, changes or deletes the entry args describe.
func neighModify(a *app, cmd *cobra.Command, verb, familyFlag string, args []string) error {
	what := "neigh " + verb
	family, err := parseNeighFamily(what, familyFlag)
	if err != nil {
		return err
	}
	n := &rtnl.Neighbor{State: rtnl.NeighPermanent} // ip's default
	var dev string
	setDst := func(s string) error {
		if n.IP.IsValid() {
			return fmt.Errorf("%s: address given twice (%s and %q)", what, n.IP, s)
		}
		ip, err := parseAddr(s)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		ip = ip.Unmap()
		if family != rtnl.AddrFamilyUnspec && familyOfAddr(ip) != family {
			return fmt.Errorf("%s: %s is not an %v address", what, s, family)
		}
		n.IP = ip
		return nil
	}
	w := newWords(what, args)
	for w.more() {
		word := w.next()
		switch word {
		case "lladdr":
			v, err := w.value(word)
			if err != nil {
				return err
			}
			if n.HardwareAddr != nil {
				return fmt.Errorf("%s: lladdr given twice", what)
			}
			if v == "null" {
				continue
			}
			if n.HardwareAddr, err = parseLLAddr(what, v); err != nil {
				return err
			}
		case "nud":
			v, err := w.value(word)
			if err != nil {
				return err
			}
			st, err := parseNeighState(what, v, false)
			if err != nil {
				return err
			}
			n.State = rtnl.NeighState(st &^ neighNoneBit)
		case "proxy":
			n.Flags |= rtnl.NeighFlagProxy
			// ip's form is "proxy ADDR"; a bare "proxy" flag works too.
			if next := w.peek(); next != "" && !n.IP.IsValid() {
				if _, err := netip.ParseAddr(next); err == nil {
					if err := setDst(w.next()); err != nil {
						return err
					}
				}
			}
		case "router":
			n.Flags |= rtnl.NeighFlagRouter
		case "extern_learn":
			n.Flags |= rtnl.NeighFlagExtLearned
		case "use":
			n.Flags |= rtnl.NeighFlagUse
		case "protocol", "proto":
			v, err := w.value(word)
			if err != nil {
				return err
			}
			p, err := newIPNames().number("rt_protos", v, 255)
			if err != nil {
				return fmt.Errorf("%s: bad protocol %q: want a number from 0 to 255 or a name from rt_protos (static, boot, ...)", what, v)
			}
			n.Protocol = uint8(p)
		case "dev":
			v, err := w.value(word)
			if err != nil {
				return err
			}
			if dev != "" {
				return fmt.Errorf("%s: device given twice (%q and %q)", what, dev, v)
			}
			dev = v
		default:
			if word == "to" {
				if word, err = w.value(word); err != nil {
					return err
				}
			} else if _, perr := netip.ParseAddr(word); perr != nil && !strings.ContainsAny(word, ".:") {
				return w.unknown(word)
			}
			if err := setDst(word); err != nil {
				return err
			}
		}
	}
	if !n.IP.IsValid() {
		return fmt.Errorf("%s: missing the neighbour's address (usage: nlkit %s ADDR [lladdr MAC] dev DEVICE)", what, what)
	}
	if dev == "" && n.Flags&rtnl.NeighFlagProxy == 0 {
		return fmt.Errorf("%s: missing dev DEVICE (the interface of %s)", what, n.IP)
	}
	if verb == "del" {
		n.State, n.HardwareAddr = 0, nil
	}

	ctx := cmd.Context()
	c, err := a.rtnl()
	if err != nil {
		return err
	}
	defer c.Close()
	if dev != "" {
		if n.Index, err = linkIndex(ctx, c, dev); err != nil {
			return err
		}
	}
	switch verb {
	case "add":
		err = c.AddNeighbor(ctx, n)
	case "replace":
		err = c.ReplaceNeighbor(ctx, n)
	case "change":
		err = c.ChangeNeighbor(ctx, n)
	default:
		err = c.DeleteNeighbor(ctx, n)
	}
	switch {
	case err == nil:
		return nil
	case verb == "add" && errors.Is(err, syscall.EEXIST):
		return fmt.Errorf("%s: an entry for %s exists (use nlkit neigh replace): %w", what, n.IP, err)
	case (verb == "del" || verb == "change") && errors.Is(err, syscall.ENOENT):
		return fmt.Errorf("%s: no entry for %s: %w", what, n.IP, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
