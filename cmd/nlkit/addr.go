package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"path"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/nlkit/nlkit/rtnl"
)

// addrInfoJSON is one address as `ip -j address` prints it (print_addrinfo
// in iproute2's ipaddress.c), fields in ip's order.
type addrInfoJSON struct {
	Family    string `json:"family"`
	Local     string `json:"local,omitempty"`
	Peer      string `json:"address,omitempty"`
	PrefixLen int    `json:"prefixlen"`
	Broadcast string `json:"broadcast,omitempty"`
	Anycast   string `json:"anycast,omitempty"`
	Metric    uint32 `json:"metric,omitempty"`
	Scope     string `json:"scope"`
	// Flags, as ip prints them: a key set to true for each.
	Secondary     bool   `json:"secondary,omitempty"`
	Temporary     bool   `json:"temporary,omitempty"`
	NoDAD         bool   `json:"nodad,omitempty"`
	Optimistic    bool   `json:"optimistic,omitempty"`
	DADFailed     bool   `json:"dadfailed,omitempty"`
	Home          bool   `json:"home,omitempty"`
	Deprecated    bool   `json:"deprecated,omitempty"`
	Tentative     bool   `json:"tentative,omitempty"`
	Dynamic       bool   `json:"dynamic,omitempty"`
	MngTmpAddr    bool   `json:"mngtmpaddr,omitempty"`
	NoPrefixRoute bool   `json:"noprefixroute,omitempty"`
	AutoJoin      bool   `json:"autojoin,omitempty"`
	StablePrivacy bool   `json:"stable-privacy,omitempty"`
	OtherFlags    string `json:"ifa_flags,omitempty"`
	Label         string `json:"label,omitempty"`
	// Lifetimes in seconds; 4294967295 is forever, as ip prints it.
	ValidLifeTime     uint32 `json:"valid_life_time"`
	PreferredLifeTime uint32 `json:"preferred_life_time"`
	Protocol          string `json:"protocol,omitempty"`
}

// addrLinkJSON is one interface as `ip -j address` prints it: the link's
// fields (as `ip -j link`) and its addresses. With a family filter ip
// leaves out the link-layer fields, hence the omitempty shadows.
type addrLinkJSON struct {
	linkJSON
	LinkType  string         `json:"link_type,omitempty"`
	Address   string         `json:"address,omitempty"`
	Broadcast string         `json:"broadcast,omitempty"`
	AddrInfo  []addrInfoJSON `json:"addr_info"`
}

// addrProtoNames are ip's names for IFA_PROTO (rt_addrprotos).
var addrProtoNames = map[uint8]string{1: "kernel_lo", 2: "kernel_ra", 3: "kernel_ll"}

func toAddrJSON(a *rtnl.Address) addrInfoJSON {
	j := addrInfoJSON{
		Family:            a.Family.String(),
		Scope:             a.Scope.String(),
		Label:             a.Label,
		Metric:            a.Metric,
		ValidLifeTime:     lifetimeSeconds(a.ValidLifetime),
		PreferredLifeTime: lifetimeSeconds(a.PreferredLifetime),
	}
	if a.Prefix.IsValid() {
		j.Local = a.Prefix.Addr().String()
		j.PrefixLen = a.Prefix.Bits()
	}
	if a.Peer.IsValid() {
		j.Peer = a.Peer.Addr().String()
		j.PrefixLen = a.Peer.Bits()
	}
	if a.Broadcast.IsValid() {
		j.Broadcast = a.Broadcast.String()
	}
	if a.Anycast.IsValid() {
		j.Anycast = a.Anycast.String()
	}
	if a.Protocol != 0 {
		j.Protocol = addrProtoNames[a.Protocol]
		if j.Protocol == "" {
			j.Protocol = strconv.Itoa(int(a.Protocol))
		}
	}
	for _, n := range a.FlagNames() {
		switch n {
		case "secondary":
			j.Secondary = true
		case "temporary":
			j.Temporary = true
		case "nodad":
			j.NoDAD = true
		case "optimistic":
			j.Optimistic = true
		case "dadfailed":
			j.DADFailed = true
		case "home":
			j.Home = true
		case "deprecated":
			j.Deprecated = true
		case "tentative":
			j.Tentative = true
		case "dynamic":
			j.Dynamic = true
		case "mngtmpaddr":
			j.MngTmpAddr = true
		case "noprefixroute":
			j.NoPrefixRoute = true
		case "autojoin":
			j.AutoJoin = true
		case "stable-privacy":
			j.StablePrivacy = true
		default: // unknown bits, "0x10000": ip prints them as "%02x"
			j.OtherFlags = strings.TrimPrefix(n, "0x")
		}
	}
	return j
}

// lifetimeSeconds is a lifetime as the kernel counts it: whole seconds,
// rtnl.Forever as 4294967295.
func lifetimeSeconds(d time.Duration) uint32 {
	if d >= rtnl.Forever {
		return 0xFFFFFFFF
	}
	return uint32(d / time.Second)
}

// lifetimeText is a lifetime as ip prints it in text: "forever", "99sec".
func lifetimeText(d time.Duration) string {
	if d >= rtnl.Forever {
		return "forever"
	}
	return fmt.Sprintf("%dsec", d/time.Second)
}

// parseFamily parses the --family value: ip's -f names and 4/6.
func parseFamily(s string) (rtnl.AddrFamily, error) {
	switch strings.ToLower(s) {
	case "", "any", "unspec":
		return rtnl.AddrFamilyUnspec, nil
	case "inet", "ipv4", "ip4", "4":
		return rtnl.AddrFamilyIPv4, nil
	case "inet6", "ipv6", "ip6", "6":
		return rtnl.AddrFamilyIPv6, nil
	}
	return 0, fmt.Errorf("addr: unknown family %q: want inet (4) or inet6 (6)", s)
}

func newAddrCmd(a *app) *cobra.Command {
	var family string
	cmd := &cobra.Command{
		Use:     "addr [show|add|replace|del|flush] ...",
		Aliases: []string{"address", "a"},
		Short:   "List and change IP addresses (like ip address)",
		Long: `List, add, replace and delete the IPv4 and IPv6 addresses of network
interfaces, as ip address does. Without a subcommand, lists them.

Examples:
  nlkit addr                                   every interface and its addresses
  nlkit addr show dev veth0
  nlkit addr -f inet6                          IPv6 addresses only (also -f 6)
  nlkit -j addr                                JSON in the shape of ip -j address
  nlkit addr add 10.0.0.1/24 brd + dev veth0
  nlkit addr add 10.0.1.1 peer 10.0.1.2/32 dev veth0
  nlkit addr add 2001:db8::1/64 nodad noprefixroute dev veth0
  nlkit addr replace 10.0.0.1/24 valid_lft 300 preferred_lft 100 dev veth0
  nlkit addr del 10.0.0.1/24 dev veth0
  nlkit addr flush dev veth0 scope global`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("addr: unknown command %q (try: nlkit addr show|add|replace|del|flush, or nlkit addr --help)", args[0])
			}
			return addrShow(a, cmd, family, nil, false)
		},
	}
	cmd.PersistentFlags().StringVarP(&family, "family", "f", "", "only addresses of `FAMILY`: inet (4) or inet6 (6), as ip -f")

	show := &cobra.Command{
		Use:     "show [[dev] DEVICE] [up] [scope SCOPE] [label PATTERN]",
		Aliases: []string{"list", "ls", "lst"},
		Short:   "List addresses (like ip address show)",
		Long: `List interfaces and their addresses, as ip address show does.

  dev DEVICE     only this interface (the word dev may be left out)
  up             only interfaces that are up
  scope SCOPE    only addresses of this scope: global, site, link, host, nowhere or a number
  label PATTERN  only addresses whose label matches the shell pattern (for
                 addresses without a label, IPv6: the interface name)

Examples:
  nlkit addr show
  nlkit addr show veth0
  nlkit -j addr show dev veth0 scope link`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return addrShow(a, cmd, family, args, false)
		},
	}
	flush := &cobra.Command{
		Use:   "flush [dev] DEVICE [up] [scope SCOPE] [label PATTERN]",
		Short: "Delete the addresses selected (like ip address flush)",
		Long: `Delete every address that the selectors choose, as ip address flush does.
At least one selector is required.

Examples:
  nlkit addr flush dev veth0
  nlkit addr flush dev veth0 scope global
  nlkit addr -f inet6 flush dev veth0`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return errors.New(`addr flush: flush requires arguments, such as "dev DEVICE"`)
			}
			return addrShow(a, cmd, family, args, true)
		},
	}
	modify := func(verb, short string, aliases ...string) *cobra.Command {
		c := &cobra.Command{
			Use:     verb + " PREFIX [peer PREFIX] [broadcast ADDR|+|-] [label LABEL] [scope SCOPE] [valid_lft SECS|forever] [preferred_lft SECS|forever] [metric N] [noprefixroute] [nodad] [home] [mngtmpaddr] [optimistic] [autojoin] dev DEVICE",
			Aliases: aliases,
			Short:   short,
			Long: short + `.

  PREFIX              the local address with its prefix length, 10.0.0.1/24
                      (a bare address is a /32 or /128); "local PREFIX" also works
  peer PREFIX         the remote end of a point-to-point link; its length is the prefix length
  broadcast ADDR      IPv4 broadcast address; + for the subnet's (host bits set), - for host bits clear
  label LABEL         IPv4 label, at most 15 characters (by convention DEVICE or DEVICE:NAME)
  scope SCOPE         global (default), site, link, host, nowhere or a number; 127.0.0.0/8 defaults to host
  valid_lft SECS      valid lifetime in seconds, or forever (default)
  preferred_lft SECS  preferred lifetime, at most valid_lft; defaults to valid_lft when only that is given
  metric N            metric of the prefix route the kernel adds
  noprefixroute, nodad, home, mngtmpaddr, optimistic, autojoin
                      address flags, as in ip address

Examples:
  nlkit addr ` + verb + ` 10.0.0.1/24 brd + dev veth0
  nlkit addr ` + verb + ` 2001:db8::1/64 valid_lft 300 preferred_lft 100 dev veth0`,
			Args: cobra.ArbitraryArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				return addrModify(a, cmd, verb, family, args)
			},
		}
		// Options go before PREFIX; after it, words such as "-1" are
		// values (and get a clear error) rather than unknown flags.
		c.Flags().SetInterspersed(false)
		return c
	}
	cmd.AddCommand(show, flush,
		modify("add", "Add an address to an interface (like ip address add)"),
		modify("replace", "Add an address, or update it if present (like ip address replace)"),
		modify("del", "Delete an address from an interface (like ip address del)", "delete"),
	)
	return cmd
}

// addrSelect is what show and flush select.
type addrSelect struct {
	dev    string
	up     bool
	scope  *rtnl.Scope
	label  string
	family rtnl.AddrFamily
}

func parseAddrSelect(verb string, args []string) (addrSelect, error) {
	var s addrSelect
	w := newWords("addr "+verb, args)
	for w.more() {
		word := w.next()
		switch word {
		case "dev":
			v, err := w.value(word)
			if err != nil {
				return s, err
			}
			if s.dev != "" {
				return s, fmt.Errorf("addr %s: device given twice (%q and %q)", verb, s.dev, v)
			}
			s.dev = v
		case "up":
			s.up = true
		case "scope":
			v, err := w.value(word)
			if err != nil {
				return s, err
			}
			sc, err := rtnl.ParseScope(v)
			if err != nil {
				return s, fmt.Errorf("addr %s: %w", verb, err)
			}
			s.scope = &sc
		case "label":
			v, err := w.value(word)
			if err != nil {
				return s, err
			}
			if _, err := path.Match(v, ""); err != nil {
				return s, fmt.Errorf("addr %s: bad label pattern %q: %w", verb, v, err)
			}
			s.label = v
		default:
			if s.dev != "" {
				return s, w.unknown(word)
			}
			s.dev = word
		}
	}
	return s, nil
}

// matches reports whether an address passes the address selectors. As
// in ip, an address without a label (IPv6) is matched by the name of its
// interface.
func (s *addrSelect) matches(a *rtnl.Address, links map[int32]*rtnl.Link) bool {
	if s.scope != nil && a.Scope != *s.scope {
		return false
	}
	if s.label != "" {
		label := a.Label
		if label == "" && links[a.Index] != nil {
			label = links[a.Index].Name
		}
		if ok, _ := path.Match(s.label, label); !ok {
			return false
		}
	}
	return true
}

// addrShow lists (or, with flush, deletes) the addresses args select.
func addrShow(a *app, cmd *cobra.Command, familyFlag string, args []string, flush bool) error {
	verb := "show"
	if flush {
		verb = "flush"
	}
	family, err := parseFamily(familyFlag)
	if err != nil {
		return err
	}
	sel, err := parseAddrSelect(verb, args)
	if err != nil {
		return err
	}
	sel.family = family
	ctx := cmd.Context()
	c, err := a.rtnl()
	if err != nil {
		return err
	}
	defer c.Close()
	filter := &rtnl.AddressFilter{Family: family}
	if sel.dev != "" {
		if filter.Index, err = linkIndex(ctx, c, sel.dev); err != nil {
			return err
		}
	}
	links, err := c.ListLinks(ctx)
	if err != nil {
		return err
	}
	addrs, err := c.ListAddresses(ctx, filter)
	if err != nil {
		return err
	}
	byIndex := map[int32]*rtnl.Link{}
	for _, l := range links {
		byIndex[l.Index] = l
	}
	if flush {
		return addrFlush(ctx, c, &sel, addrs, byIndex)
	}
	// Group by interface, keeping the kernel's order within each, and
	// keep an interface as ip's ipaddr_filter does: if an address of it
	// matches, or if it has none at all and no family was asked for.
	perLink := map[int32][]*rtnl.Address{}
	hasAny := map[int32]bool{}
	for _, ad := range addrs {
		hasAny[ad.Index] = true
		if sel.matches(ad, byIndex) {
			perLink[ad.Index] = append(perLink[ad.Index], ad)
		}
	}
	var shown []*rtnl.Link
	for _, l := range links {
		if filter.Index != 0 && l.Index != filter.Index {
			continue
		}
		if sel.up && l.Flags&rtnl.FlagUp == 0 {
			continue
		}
		if len(perLink[l.Index]) == 0 && (hasAny[l.Index] || family != rtnl.AddrFamilyUnspec) {
			continue
		}
		shown = append(shown, l)
	}
	if a.json {
		out := make([]addrLinkJSON, 0, len(shown))
		for _, l := range shown {
			j := addrLinkJSON{linkJSON: toLinkJSON(l, byIndex, a.details), AddrInfo: []addrInfoJSON{}}
			if family == rtnl.AddrFamilyUnspec {
				j.LinkType, j.Address, j.Broadcast = j.linkJSON.LinkType, j.linkJSON.Address, j.linkJSON.Broadcast
			}
			for _, ad := range perLink[l.Index] {
				j.AddrInfo = append(j.AddrInfo, toAddrJSON(ad))
			}
			out = append(out, j)
		}
		return a.printJSON(out)
	}
	tw := a.table("DEV", "FAMILY", "ADDRESS", "BROADCAST", "SCOPE", "FLAGS", "LABEL", "VALID", "PREFERRED")
	for _, l := range shown {
		for _, ad := range perLink[l.Index] {
			b := ""
			if ad.Broadcast.IsValid() {
				b = ad.Broadcast.String()
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", l.Name, ad.Family, ad, dash(b), ad.Scope,
				dash(strings.Join(ad.FlagNames(), ",")), dash(ad.Label),
				lifetimeText(ad.ValidLifetime), lifetimeText(ad.PreferredLifetime))
		}
	}
	return tw.Flush()
}

// addrFlush deletes the selected addresses, secondaries before primaries
// (the kernel deletes an IPv4 primary's secondaries with it).
func addrFlush(ctx context.Context, c *rtnl.Client, sel *addrSelect, addrs []*rtnl.Address, links map[int32]*rtnl.Link) error {
	var del []*rtnl.Address
	for _, ad := range addrs {
		if l := links[ad.Index]; sel.up && (l == nil || l.Flags&rtnl.FlagUp == 0) {
			continue
		}
		if ad.Family != rtnl.AddrFamilyIPv4 && ad.Family != rtnl.AddrFamilyIPv6 {
			continue
		}
		if sel.matches(ad, links) {
			del = append(del, ad)
		}
	}
	slices.Reverse(del)
	for _, ad := range del {
		err := c.DeleteAddress(ctx, ad)
		if errors.Is(err, syscall.EADDRNOTAVAIL) {
			continue // already gone: removed with its primary, or by someone else
		}
		if err != nil {
			return fmt.Errorf("addr flush: %w", err)
		}
	}
	return nil
}

// addrRequest is a parsed add/replace/del command line.
type addrRequest struct {
	addr         rtnl.Address
	dev          string
	hasLen       bool   // PREFIX had an explicit /LENGTH
	brd          string // "+", "-", or an address
	scoped       bool
	valid, pref  time.Duration
	hasValid     bool
	hasPreferred bool
}

// parseLifetime parses "forever" or a number of seconds below 2^32-1.
func parseLifetime(w *words, key string) (time.Duration, error) {
	s, err := w.value(key)
	if err != nil {
		return 0, err
	}
	if s == "forever" {
		return rtnl.Forever, nil
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 0xFFFFFFFF {
		return 0, fmt.Errorf("%s: %s %q: want a number of seconds (0 to 4294967294) or forever", w.cmd, key, s)
	}
	return time.Duration(n) * time.Second, nil
}

var addrFlagWords = map[string]rtnl.AddrFlags{
	"noprefixroute": rtnl.AddrNoPrefixRoute, "nodad": rtnl.AddrNoDAD, "home": rtnl.AddrHomeAddress,
	"mngtmpaddr": rtnl.AddrManageTempAddr, "optimistic": rtnl.AddrOptimistic, "autojoin": rtnl.AddrMcAutoJoin,
}

func parseAddrRequest(verb string, args []string) (*addrRequest, error) {
	r := &addrRequest{}
	w := newWords("addr "+verb, args)
	setLocal := func(s string) error {
		if r.addr.Prefix.IsValid() {
			return fmt.Errorf("addr %s: either the address is given twice, or %q is garbage", verb, s)
		}
		p, err := parsePrefix(s, 0)
		if err != nil || s == "default" || s == "all" || s == "any" {
			if err == nil {
				err = fmt.Errorf("bad address %q", s)
			}
			return fmt.Errorf("addr %s: %w", verb, err)
		}
		r.addr.Prefix = p
		r.hasLen = strings.Contains(s, "/")
		return nil
	}
	for w.more() {
		word := w.next()
		switch word {
		case "dev":
			v, err := w.value(word)
			if err != nil {
				return nil, err
			}
			if r.dev != "" {
				return nil, fmt.Errorf("addr %s: device given twice (%q and %q)", verb, r.dev, v)
			}
			r.dev = v
		case "local":
			v, err := w.value(word)
			if err != nil {
				return nil, err
			}
			if err := setLocal(v); err != nil {
				return nil, err
			}
		case "peer", "remote":
			v, err := w.value(word)
			if err != nil {
				return nil, err
			}
			if r.addr.Peer.IsValid() {
				return nil, fmt.Errorf("addr %s: peer given twice", verb)
			}
			p, err := parsePrefix(v, 0)
			if err != nil || v == "default" || v == "all" || v == "any" {
				return nil, fmt.Errorf("addr %s: peer: bad prefix %q: want ADDRESS[/LENGTH]", verb, v)
			}
			r.addr.Peer = p
		case "broadcast", "brd":
			v, err := w.value(word)
			if err != nil {
				return nil, err
			}
			if v != "+" && v != "-" {
				if _, err := parseAddr(v); err != nil {
					return nil, fmt.Errorf("addr %s: broadcast: %w (or + / -)", verb, err)
				}
			}
			r.brd = v
		case "anycast":
			v, err := w.value(word)
			if err != nil {
				return nil, err
			}
			ad, err := parseAddr(v)
			if err != nil {
				return nil, fmt.Errorf("addr %s: anycast: %w", verb, err)
			}
			r.addr.Anycast = ad
		case "label":
			v, err := w.value(word)
			if err != nil {
				return nil, err
			}
			if v == "" || len(v) > 15 {
				return nil, fmt.Errorf("addr %s: label %q: want 1 to 15 characters", verb, v)
			}
			r.addr.Label = v
		case "scope":
			v, err := w.value(word)
			if err != nil {
				return nil, err
			}
			sc, err := rtnl.ParseScope(v)
			if err != nil {
				return nil, fmt.Errorf("addr %s: %w", verb, err)
			}
			r.addr.Scope, r.scoped = sc, true
		case "valid_lft":
			d, err := parseLifetime(w, word)
			if err != nil {
				return nil, err
			}
			r.valid, r.hasValid = d, true
		case "preferred_lft":
			d, err := parseLifetime(w, word)
			if err != nil {
				return nil, err
			}
			r.pref, r.hasPreferred = d, true
		case "metric", "priority":
			n, err := w.uint(word, 32)
			if err != nil {
				return nil, err
			}
			r.addr.Metric = uint32(n)
		default:
			if f, ok := addrFlagWords[word]; ok {
				r.addr.Flags |= f
				continue
			}
			if r.addr.Prefix.IsValid() {
				return nil, w.unknown(word)
			}
			if err := setLocal(word); err != nil {
				return nil, err
			}
		}
	}
	return r, nil
}

// build checks the request as ip does and completes the Address.
func (r *addrRequest) build(verb string, family rtnl.AddrFamily) error {
	a := &r.addr
	if !a.Prefix.IsValid() {
		return fmt.Errorf(`addr %s: missing address: give PREFIX, such as 10.0.0.1/24 (see nlkit addr %s --help)`, verb, verb)
	}
	if r.dev == "" {
		return fmt.Errorf(`addr %s: missing "dev DEVICE": name the interface of the address`, verb)
	}
	local := a.Prefix.Addr()
	fam := rtnl.AddrFamilyIPv4
	if !local.Is4() {
		fam = rtnl.AddrFamilyIPv6
	}
	if local.Is4In6() {
		return fmt.Errorf("addr %s: %s is an IPv4-mapped IPv6 address: use %s", verb, local, local.Unmap())
	}
	if family != rtnl.AddrFamilyUnspec && family != fam {
		return fmt.Errorf("addr %s: %s is not an %s address (--family %s)", verb, local, family, family)
	}
	if a.Peer.IsValid() && a.Peer.Addr().Is4() != local.Is4() {
		return fmt.Errorf("addr %s: peer %s and local %s are of different families", verb, a.Peer, local)
	}
	if a.Anycast.IsValid() && a.Anycast.Is4() != local.Is4() {
		return fmt.Errorf("addr %s: anycast %s and local %s are of different families", verb, a.Anycast, local)
	}
	a.Family = fam
	// The subnet: the peer's if there is one, as ip computes it.
	subnet := a.Prefix
	if a.Peer.IsValid() {
		subnet = a.Peer
	}
	switch r.brd {
	case "":
	case "+", "-":
		if fam != rtnl.AddrFamilyIPv4 {
			return fmt.Errorf("addr %s: broadcast can be set only for IPv4 addresses", verb)
		}
		if b, ok := rtnl.IPv4Broadcast(subnet); ok {
			if r.brd == "-" {
				b = subnet.Masked().Addr()
			}
			a.Broadcast = b
		}
	default:
		b, _ := parseAddr(r.brd)
		if fam != rtnl.AddrFamilyIPv4 || !b.Is4() {
			return fmt.Errorf("addr %s: broadcast %s: broadcast can be set only for IPv4 addresses", verb, b)
		}
		a.Broadcast = b
	}
	if r.addr.Label != "" && fam != rtnl.AddrFamilyIPv4 {
		return fmt.Errorf("addr %s: label %q: only IPv4 addresses have labels", verb, r.addr.Label)
	}
	// ip gives 127.0.0.0/8 host scope unless a scope is named.
	if !r.scoped && verb != "del" && local.Is4() && local.As4()[0] == 127 {
		a.Scope = rtnl.ScopeHost
	}
	if r.hasValid || r.hasPreferred {
		valid, pref := rtnl.Forever, rtnl.Forever
		if r.hasValid {
			valid, pref = r.valid, r.valid
		}
		if r.hasPreferred {
			pref = r.pref
		}
		if valid == 0 {
			return fmt.Errorf("addr %s: valid_lft is zero: the address would expire at once", verb)
		}
		if pref > valid {
			return fmt.Errorf("addr %s: preferred_lft (%s) is greater than valid_lft (%s)", verb, lifetimeText(pref), lifetimeText(valid))
		}
		a.ValidLifetime, a.PreferredLifetime = valid, pref
	}
	return nil
}

func addrModify(a *app, cmd *cobra.Command, verb, familyFlag string, args []string) error {
	family, err := parseFamily(familyFlag)
	if err != nil {
		return err
	}
	r, err := parseAddrRequest(verb, args)
	if err != nil {
		return err
	}
	if err := r.build(verb, family); err != nil {
		return err
	}
	ctx := cmd.Context()
	c, err := a.rtnl()
	if err != nil {
		return err
	}
	defer c.Close()
	if r.addr.Index, err = linkIndex(ctx, c, r.dev); err != nil {
		return err
	}
	switch verb {
	case "add":
		err = c.AddAddress(ctx, &r.addr)
	case "replace":
		err = c.ReplaceAddress(ctx, &r.addr)
	case "del":
		if !r.hasLen && !r.addr.Peer.IsValid() {
			// As ip does for an address without /LENGTH: delete the
			// interface's address with that local address, whatever
			// its prefix length.
			if found, ferr := findAddr(ctx, c, r.addr.Index, r.addr.Prefix.Addr()); ferr != nil {
				return ferr
			} else if found != nil {
				r.addr.Prefix, r.addr.Peer = found.Prefix, found.Peer
			}
		}
		err = c.DeleteAddress(ctx, &r.addr)
	}
	if err != nil {
		return fmt.Errorf("addr %s: %w", verb, err)
	}
	return nil
}

// findAddr returns the address of interface index whose local address is
// local, or nil.
func findAddr(ctx context.Context, c *rtnl.Client, index int32, local netip.Addr) (*rtnl.Address, error) {
	fam := rtnl.AddrFamilyIPv6
	if local.Is4() {
		fam = rtnl.AddrFamilyIPv4
	}
	for ad, err := range c.Addresses(ctx, &rtnl.AddressFilter{Family: fam, Index: index}) {
		if err != nil {
			return nil, err
		}
		if ad.Prefix.Addr() == local {
			return ad, nil
		}
	}
	return nil, nil
}
