package rtnl

import (
	"context"
	"encoding/binary"
	"fmt"
	"iter"
	"net/netip"
	"strings"

	"github.com/nlkit/nlkit/netlink"
)

// Message types of policy routing rules (enum in linux/rtnetlink.h).
const (
	msgNewRule = 32 // RTM_NEWRULE
	msgDelRule = 33 // RTM_DELRULE
	msgGetRule = 34 // RTM_GETRULE
)

// Rule attributes (enum in linux/fib_rules.h).
const (
	fraDst               = 1  // FRA_DST
	fraSrc               = 2  // FRA_SRC
	fraIIFName           = 3  // FRA_IIFNAME
	fraGoto              = 4  // FRA_GOTO
	fraPriority          = 6  // FRA_PRIORITY
	fraFwmark            = 10 // FRA_FWMARK
	fraFlow              = 11 // FRA_FLOW
	fraTunID             = 12 // FRA_TUN_ID
	fraSuppressIfgroup   = 13 // FRA_SUPPRESS_IFGROUP
	fraSuppressPrefixlen = 14 // FRA_SUPPRESS_PREFIXLEN
	fraTable             = 15 // FRA_TABLE
	fraFwmask            = 16 // FRA_FWMASK
	fraOIFName           = 17 // FRA_OIFNAME
	fraL3mdev            = 19 // FRA_L3MDEV
	fraUIDRange          = 20 // FRA_UID_RANGE
	fraProtocol          = 21 // FRA_PROTOCOL
	fraIPProto           = 22 // FRA_IP_PROTO
	fraSportRange        = 23 // FRA_SPORT_RANGE
	fraDportRange        = 24 // FRA_DPORT_RANGE
)

// fibRuleHdrLen is the size of struct fib_rule_hdr.
const fibRuleHdrLen = 12

const (
	frTableMain = 254        // RT_TABLE_MAIN
	frUnset     = 0xffffffff // -1: the kernel's "not set" for suppressors
)

// RuleAction is what a rule does when it matches (fib_rule_hdr.action,
// FR_ACT_*).
type RuleAction uint8

// Rule actions.
const (
	RuleActionUnspec      RuleAction = 0 // FR_ACT_UNSPEC
	RuleActionLookup      RuleAction = 1 // FR_ACT_TO_TBL: look the route up in Table
	RuleActionGoto        RuleAction = 2 // FR_ACT_GOTO: jump to the rule with priority Goto
	RuleActionNop         RuleAction = 3 // FR_ACT_NOP: do nothing
	RuleActionBlackhole   RuleAction = 6 // FR_ACT_BLACKHOLE: drop silently
	RuleActionUnreachable RuleAction = 7 // FR_ACT_UNREACHABLE: drop with ENETUNREACH
	RuleActionProhibit    RuleAction = 8 // FR_ACT_PROHIBIT: drop with EACCES
)

var ruleActionNames = map[RuleAction]string{
	RuleActionUnspec: "unspec", RuleActionLookup: "lookup", RuleActionGoto: "goto",
	RuleActionNop: "nop", RuleActionBlackhole: "blackhole", RuleActionUnreachable: "unreachable",
	RuleActionProhibit: "prohibit",
}

// String returns the action as `ip rule` names it ("lookup", "goto",
// "blackhole", ...), or its number.
func (a RuleAction) String() string {
	if s, ok := ruleActionNames[a]; ok {
		return s
	}
	return fmt.Sprintf("%d", uint8(a))
}

// RuleFlags are the flags of a rule (fib_rule_hdr.flags, FIB_RULE_*)
// other than FIB_RULE_INVERT, which is Rule.Invert. Most are set by the
// kernel to report a state.
type RuleFlags uint32

// Rule flags.
const (
	RuleFlagPermanent   RuleFlags = 0x00000001 // FIB_RULE_PERMANENT: cannot be deleted
	RuleFlagUnresolved  RuleFlags = 0x00000004 // FIB_RULE_UNRESOLVED: goto target does not exist
	RuleFlagIIFDetached RuleFlags = 0x00000008 // FIB_RULE_IIF_DETACHED: the iif device does not exist
	RuleFlagOIFDetached RuleFlags = 0x00000010 // FIB_RULE_OIF_DETACHED: the oif device does not exist
	RuleFlagFindSaddr   RuleFlags = 0x00010000 // FIB_RULE_FIND_SADDR
	ruleFlagInvert      uint32    = 0x00000002 // FIB_RULE_INVERT
)

var ruleFlagNames = []struct {
	f    RuleFlags
	name string
}{
	{RuleFlagPermanent, "permanent"}, {RuleFlagUnresolved, "unresolved"},
	{RuleFlagIIFDetached, "iif_detached"}, {RuleFlagOIFDetached, "oif_detached"},
	{RuleFlagFindSaddr, "find_saddr"},
}

// String lists the flags by name ("unresolved,iif_detached"), unknown
// bits as a hexadecimal number, or "0" for none.
func (f RuleFlags) String() string {
	if f == 0 {
		return "0"
	}
	var parts []string
	for _, n := range ruleFlagNames {
		if f&n.f != 0 {
			parts = append(parts, n.name)
			f &^= n.f
		}
	}
	if f != 0 {
		parts = append(parts, fmt.Sprintf("%#x", uint32(f)))
	}
	return strings.Join(parts, ",")
}

// RuleUIDRange is a range of user IDs a rule matches (struct
// fib_rule_uid_range), both ends included.
type RuleUIDRange struct {
	Start, End uint32
}

// RulePortRange is a range of transport ports a rule matches (struct
// fib_rule_port_range), both ends included.
type RulePortRange struct {
	Start, End uint16
}

// Rule is a policy routing rule (struct fib_rule_hdr and FRA_*
// attributes): a selector (Src, Dst, IIFName, Mark, ...) and an action
// (look up Table, goto another rule, or drop). Zero fields are absent:
// the rule matches any value. MarshalBinary omits them; UnmarshalBinary
// leaves them zero when the kernel did not send them.
type Rule struct {
	// Family is AddrFamilyIPv4 or AddrFamilyIPv6. MarshalBinary derives
	// it from Src or Dst when zero; a rule with neither needs it set.
	Family AddrFamily
	// Priority orders the rules, lowest first (FRA_PRIORITY). 0 is a valid
	// priority (the "local" rule's), so HasPriority says whether it is
	// set: MarshalBinary sends it when HasPriority or Priority != 0, and
	// the kernel picks one below the first rule's when absent from an
	// add. Rules returned by Client.Rules always have HasPriority set.
	Priority    uint32
	HasPriority bool
	// Src and Dst are the source and destination prefixes to match
	// (FRA_SRC, FRA_DST, src_len, dst_len); the zero Prefix matches all.
	Src, Dst netip.Prefix
	// IIFName and OIFName are the input and output interfaces to match
	// (FRA_IIFNAME, FRA_OIFNAME), by name: they need not exist yet.
	IIFName, OIFName string
	// Mark and Mask match the firewall mark: mark&Mask == Mark
	// (FRA_FWMARK, FRA_FWMASK). The kernel uses a Mask of 0xffffffff
	// when only Mark is given.
	Mark, Mask uint32
	// TOS is the type of service (DS field) to match (tos).
	TOS uint8
	// Invert negates the selector (FIB_RULE_INVERT; "not" in ip).
	Invert bool
	// Action is what the rule does (action).
	Action RuleAction
	// Table is the routing table to look up (FRA_TABLE, or the header's
	// table for IDs below 256): 254 main, 255 local, 253 default.
	Table uint32
	// Goto is the priority of the rule to jump to (FRA_GOTO), for
	// RuleActionGoto.
	Goto uint32
	// Flags are the other FIB_RULE_* flags; the kernel reports states
	// (unresolved goto, detached interface) in them.
	Flags RuleFlags
	// Protocol records who installed the rule (FRA_PROTOCOL, RTPROT_*
	// values: 2 kernel, 3 boot, 4 static, ...); 0 if unset.
	Protocol uint8
	// SuppressPrefixLen rejects lookup results with a prefix this long or
	// shorter (FRA_SUPPRESS_PREFIXLEN); nil if unset.
	SuppressPrefixLen *uint32
	// SuppressIfGroup rejects lookup results through an interface of this
	// group (FRA_SUPPRESS_IFGROUP); nil if unset.
	SuppressIfGroup *uint32
	// L3MDev looks up the table of the L3 master device (VRF) of the
	// interface (FRA_L3MDEV).
	L3MDev bool
	// UIDRange matches the socket owner's user ID (FRA_UID_RANGE).
	UIDRange *RuleUIDRange
	// IPProto matches the IP protocol (FRA_IP_PROTO, IPPROTO_*: 6 TCP,
	// 17 UDP); 0 for any.
	IPProto uint8
	// SrcPorts and DstPorts match transport ports (FRA_SPORT_RANGE,
	// FRA_DPORT_RANGE).
	SrcPorts, DstPorts *RulePortRange
	// TunID matches the tunnel ID of metadata tunnels (FRA_TUN_ID).
	TunID uint64
	// Realms is the routing realm pair, source<<16 | destination
	// (FRA_FLOW, IPv4 only).
	Realms uint32
}

// frFamily returns the address family of p, or 0 for the zero Prefix.
func frFamily(p netip.Prefix) AddrFamily {
	switch {
	case !p.IsValid():
		return AddrFamilyUnspec
	case p.Addr().Is4():
		return AddrFamilyIPv4
	}
	return AddrFamilyIPv6
}

// family returns the rule's family: Family, or the one of its prefixes.
func (r *Rule) family() (AddrFamily, error) {
	fam := r.Family
	for _, p := range []netip.Prefix{r.Src, r.Dst} {
		af := frFamily(p)
		if af == 0 {
			continue
		}
		if p.Addr().Is4In6() {
			return 0, fmt.Errorf("prefix %s: use an IPv4 or IPv6 prefix, not IPv4-mapped IPv6", p)
		}
		if fam == 0 {
			fam = af
		} else if fam != af {
			return 0, fmt.Errorf("prefix %s is not of family %v", p, fam)
		}
	}
	return fam, nil
}

// MarshalBinary encodes r as the payload of an RTM_*RULE message.
func (r *Rule) MarshalBinary() ([]byte, error) {
	fam, err := r.family()
	if err != nil {
		return nil, fmt.Errorf("rtnl: encode rule: %w", err)
	}
	b := make([]byte, fibRuleHdrLen, 128)
	b[0] = uint8(fam)
	if r.Dst.IsValid() {
		b[1] = uint8(r.Dst.Bits())
	}
	if r.Src.IsValid() {
		b[2] = uint8(r.Src.Bits())
	}
	b[3] = r.TOS
	if r.Table < 256 {
		b[4] = uint8(r.Table) // larger IDs only in FRA_TABLE, header 0 as ip sends
	}
	b[7] = uint8(r.Action)
	flags := uint32(r.Flags)
	if r.Invert {
		flags |= ruleFlagInvert
	}
	binary.NativeEndian.PutUint32(b[8:], flags)

	var e netlink.AttributeEncoder
	e.Reset(b)
	// The order ip uses for `ip rule add from .. to .. iif .. oif ..
	// fwmark ../.. pref .. table ..`, so golden bytes compare.
	if r.Src.IsValid() {
		e.Addr(fraSrc, r.Src.Addr())
	}
	if r.Dst.IsValid() {
		e.Addr(fraDst, r.Dst.Addr())
	}
	if r.IIFName != "" {
		e.String(fraIIFName, r.IIFName)
	}
	if r.OIFName != "" {
		e.String(fraOIFName, r.OIFName)
	}
	if r.Mark != 0 {
		e.Uint32(fraFwmark, r.Mark)
	}
	if r.Mask != 0 {
		e.Uint32(fraFwmask, r.Mask)
	}
	if r.HasPriority || r.Priority != 0 {
		e.Uint32(fraPriority, r.Priority)
	}
	if r.Table != 0 {
		e.Uint32(fraTable, r.Table)
	}
	if r.Goto != 0 {
		e.Uint32(fraGoto, r.Goto)
	}
	if r.Realms != 0 {
		e.Uint32(fraFlow, r.Realms)
	}
	if r.TunID != 0 {
		e.Raw(fraTunID, binary.BigEndian.AppendUint64(nil, r.TunID))
	}
	if r.SuppressPrefixLen != nil {
		e.Uint32(fraSuppressPrefixlen, *r.SuppressPrefixLen)
	}
	if r.SuppressIfGroup != nil {
		e.Uint32(fraSuppressIfgroup, *r.SuppressIfGroup)
	}
	if r.L3MDev {
		e.Uint8(fraL3mdev, 1)
	}
	if r.UIDRange != nil {
		v := binary.NativeEndian.AppendUint32(nil, r.UIDRange.Start)
		e.Raw(fraUIDRange, binary.NativeEndian.AppendUint32(v, r.UIDRange.End))
	}
	if r.Protocol != 0 {
		e.Uint8(fraProtocol, r.Protocol)
	}
	if r.IPProto != 0 {
		e.Uint8(fraIPProto, r.IPProto)
	}
	for _, pr := range []struct {
		typ uint16
		r   *RulePortRange
	}{{fraSportRange, r.SrcPorts}, {fraDportRange, r.DstPorts}} {
		if pr.r != nil {
			v := binary.NativeEndian.AppendUint16(nil, pr.r.Start)
			e.Raw(pr.typ, binary.NativeEndian.AppendUint16(v, pr.r.End))
		}
	}
	out, err := e.Encode()
	if err != nil {
		return nil, fmt.Errorf("rtnl: encode rule: %w", err)
	}
	return out, nil
}

// UnmarshalBinary decodes the payload of an RTM_NEWRULE or RTM_DELRULE
// message into r. A suppressor the kernel reports as -1 (unset) is left
// nil. HasPriority is set only if FRA_PRIORITY is present: the kernel
// leaves it out for priority 0.
func (r *Rule) UnmarshalBinary(b []byte) error {
	if len(b) < fibRuleHdrLen {
		return fmt.Errorf("rtnl: decode rule: %d bytes, shorter than fib_rule_hdr", len(b))
	}
	flags := binary.NativeEndian.Uint32(b[8:])
	*r = Rule{
		Family: AddrFamily(b[0]),
		TOS:    b[3],
		Table:  uint32(b[4]),
		Action: RuleAction(b[7]),
		Invert: flags&ruleFlagInvert != 0,
		Flags:  RuleFlags(flags &^ ruleFlagInvert),
	}
	dstLen, srcLen := int(b[1]), int(b[2])
	prefix := func(d *netlink.AttributeDecoder, bits int, what string) (netip.Prefix, error) {
		a := d.Addr()
		if !a.IsValid() {
			return netip.Prefix{}, d.Err()
		}
		if bits > a.BitLen() {
			return netip.Prefix{}, fmt.Errorf("%s prefix length %d exceeds %d bits", what, bits, a.BitLen())
		}
		return netip.PrefixFrom(a, bits), nil
	}
	pair := func(d *netlink.AttributeDecoder, size int, what string) ([]byte, error) {
		if d.Len() != 2*size {
			return nil, fmt.Errorf("%s of %d bytes, want %d", what, d.Len(), 2*size)
		}
		return d.Bytes(), nil
	}
	d := netlink.NewAttributeDecoder(b[fibRuleHdrLen:])
	var err error
	for err == nil && d.Next() {
		switch d.Type() {
		case fraDst:
			r.Dst, err = prefix(d, dstLen, "destination")
		case fraSrc:
			r.Src, err = prefix(d, srcLen, "source")
		case fraIIFName:
			r.IIFName = d.String()
		case fraOIFName:
			r.OIFName = d.String()
		case fraPriority:
			r.Priority = d.Uint32()
			r.HasPriority = true
		case fraFwmark:
			r.Mark = d.Uint32()
		case fraFwmask:
			r.Mask = d.Uint32()
		case fraTable:
			r.Table = d.Uint32()
		case fraGoto:
			r.Goto = d.Uint32()
		case fraFlow:
			r.Realms = d.Uint32()
		case fraTunID:
			if d.Len() != 8 {
				err = fmt.Errorf("tunnel ID of %d bytes, want 8", d.Len())
				break
			}
			r.TunID = binary.BigEndian.Uint64(d.Bytes())
		case fraSuppressPrefixlen:
			if v := d.Uint32(); v != frUnset && d.Err() == nil {
				r.SuppressPrefixLen = &v
			}
		case fraSuppressIfgroup:
			if v := d.Uint32(); v != frUnset && d.Err() == nil {
				r.SuppressIfGroup = &v
			}
		case fraL3mdev:
			r.L3MDev = d.Uint8() != 0
		case fraUIDRange:
			var v []byte
			if v, err = pair(d, 4, "UID range"); err == nil {
				r.UIDRange = &RuleUIDRange{Start: binary.NativeEndian.Uint32(v), End: binary.NativeEndian.Uint32(v[4:])}
			}
		case fraProtocol:
			r.Protocol = d.Uint8()
		case fraIPProto:
			r.IPProto = d.Uint8()
		case fraSportRange, fraDportRange:
			var v []byte
			if v, err = pair(d, 2, "port range"); err == nil {
				pr := &RulePortRange{Start: binary.NativeEndian.Uint16(v), End: binary.NativeEndian.Uint16(v[2:])}
				if d.Type() == fraSportRange {
					r.SrcPorts = pr
				} else {
					r.DstPorts = pr
				}
			}
		}
	}
	if err == nil {
		err = d.Err()
	}
	if err != nil {
		return fmt.Errorf("rtnl: decode rule %d: %w", r.Priority, err)
	}
	return nil
}

// Rules streams the policy routing rules of family (AddrFamilyIPv4,
// AddrFamilyIPv6, or AddrFamilyUnspec for every family), in priority
// order. Each rule has HasPriority
// set, so it can be passed to DeleteRule as it is.
//
// Equivalent to: `ip -f FAMILY rule show`.
func (c *Client) Rules(ctx context.Context, family AddrFamily) iter.Seq2[*Rule, error] {
	return func(yield func(*Rule, error) bool) {
		req := make([]byte, fibRuleHdrLen)
		req[0] = uint8(family)
		for r, err := range dump[Rule](ctx, c, msgGetRule, req, msgNewRule) {
			if err != nil {
				yield(nil, wrapNeighRuleErr("list rules", err))
				return
			}
			r.HasPriority = true // the kernel leaves FRA_PRIORITY out for 0
			if !yield(r, nil) {
				return
			}
		}
	}
}

// ListRules returns the policy routing rules of family (AddrFamilyIPv4,
// AddrFamilyIPv6, or AddrFamilyUnspec for every family), in priority
// order.
//
// Equivalent to: `ip -f FAMILY rule show`.
func (c *Client) ListRules(ctx context.Context, family AddrFamily) ([]*Rule, error) {
	return collect(c.Rules(ctx, family))
}

// AddRule adds a policy routing rule. As ip does, a rule without an
// Action looks up a table (RuleActionGoto if Goto is set), and a lookup
// without a Table (and without L3MDev) uses the main table; r itself is
// not modified. The kernel refuses (EEXIST) a rule identical to an
// existing one.
//
// Equivalent to: `ip rule add SELECTOR ACTION`.
func (c *Client) AddRule(ctx context.Context, r *Rule) error {
	rr := *r
	if rr.Action == RuleActionUnspec {
		rr.Action = RuleActionLookup
		if rr.Goto != 0 {
			rr.Action = RuleActionGoto
		}
	}
	if rr.Action == RuleActionLookup && rr.Table == 0 && !rr.L3MDev {
		rr.Table = frTableMain
	}
	return c.changeRule(ctx, "add", msgNewRule, netlink.Create|netlink.Excl, &rr)
}

// DeleteRule deletes the first rule that matches r: fields left zero
// match anything, so a rule from Rules deletes exactly that rule, and
// Rule{Family: AddrFamilyIPv4, Priority: 100, HasPriority: true} deletes the
// first IPv4 rule of priority 100. The error wraps ENOENT if no rule
// matches.
//
// Equivalent to: `ip rule del SELECTOR ACTION`.
func (c *Client) DeleteRule(ctx context.Context, r *Rule) error {
	return c.changeRule(ctx, "delete", msgDelRule, 0, r)
}

func (c *Client) changeRule(ctx context.Context, op string, typ uint16, flags netlink.HeaderFlags, r *Rule) error {
	data, err := r.MarshalBinary()
	if err != nil {
		return err
	}
	if err := c.change(ctx, typ, flags, data); err != nil {
		if r.HasPriority || r.Priority != 0 {
			return fmt.Errorf("rtnl: %s rule %d: %w", op, r.Priority, err)
		}
		return fmt.Errorf("rtnl: %s rule: %w", op, err)
	}
	return nil
}
