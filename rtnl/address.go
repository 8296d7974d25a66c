package rtnl

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nlkit/nlkit/netlink"
)

// Message types of addresses (enum in linux/rtnetlink.h).
const (
	msgNewAddr = 20 // RTM_NEWADDR
	msgDelAddr = 21 // RTM_DELADDR
	msgGetAddr = 22 // RTM_GETADDR
)

// Address attributes (enum in linux/if_addr.h).
const (
	ifaAddress    = 1  // IFA_ADDRESS: the prefix address; the peer on point-to-point links
	ifaLocal      = 2  // IFA_LOCAL: the local address
	ifaLabel      = 3  // IFA_LABEL: IPv4 label (alias name, "eth0:1")
	ifaBroadcast  = 4  // IFA_BROADCAST
	ifaAnycast    = 5  // IFA_ANYCAST
	ifaCacheInfo  = 6  // IFA_CACHEINFO: struct ifa_cacheinfo
	ifaFlags      = 8  // IFA_FLAGS: 32-bit flags, overriding ifa_flags
	ifaRtPriority = 9  // IFA_RT_PRIORITY: metric of the prefix route
	ifaProto      = 11 // IFA_PROTO: who added the address (IFAPROT_*)
)

// ifAddrLen is the size of struct ifaddrmsg; ifaCacheInfoLen of struct
// ifa_cacheinfo.
const (
	ifAddrLen       = 8
	ifaCacheInfoLen = 16
)

// ifaInfinity is INFINITY_LIFE_TIME: a lifetime that never ends.
const ifaInfinity = 0xFFFFFFFF

// Forever is the lifetime of an address that does not expire: the
// kernel's INFINITY_LIFE_TIME (0xFFFFFFFF seconds, about 136 years), which
// `ip` shows as "forever". Decoded addresses carry it as is; any other
// lifetime is at most Forever - 1s.
const Forever = time.Duration(ifaInfinity) * time.Second

// AddrFamily is an address family number (ifa_family: AF_INET, AF_INET6,
// ...), kept as the kernel sends it.
type AddrFamily uint8

// Address families.
const (
	// AddrFamilyUnspec (AF_UNSPEC) selects every family in a dump filter;
	// in an Address to add, it means "take the family from Prefix".
	AddrFamilyUnspec AddrFamily = 0
	AddrFamilyIPv4   AddrFamily = 2  // AF_INET
	AddrFamilyIPv6   AddrFamily = 10 // AF_INET6
)

// String returns the family as `ip` names it: "inet", "inet6", or the
// number for other families.
func (f AddrFamily) String() string {
	switch f {
	case AddrFamilyUnspec:
		return "unspec"
	case AddrFamilyIPv4:
		return "inet"
	case AddrFamilyIPv6:
		return "inet6"
	}
	return strconv.Itoa(int(f))
}

// addrFamilyOf returns the family of an IP address.
func addrFamilyOf(a netip.Addr) AddrFamily {
	switch {
	case a.Is4():
		return AddrFamilyIPv4
	case a.Is6():
		return AddrFamilyIPv6
	}
	return AddrFamilyUnspec
}

// AddrFlags are the flags of an address (IFA_F_*: the 8-bit ifa_flags,
// extended to 32 bits by the IFA_FLAGS attribute).
type AddrFlags uint32

// Address flags. The kernel sets the read-only ones (secondary,
// dadfailed, deprecated, tentative, permanent, stable-privacy); the others
// may be set when adding an address.
const (
	AddrSecondary      AddrFlags = 0x01  // IFA_F_SECONDARY: not the first address of its subnet (IPv4)
	AddrTemporary      AddrFlags = 0x01  // IFA_F_TEMPORARY: a privacy address (IPv6; same bit as secondary)
	AddrNoDAD          AddrFlags = 0x02  // IFA_F_NODAD: skip duplicate address detection
	AddrOptimistic     AddrFlags = 0x04  // IFA_F_OPTIMISTIC: usable during DAD (RFC 4429)
	AddrDADFailed      AddrFlags = 0x08  // IFA_F_DADFAILED: duplicate address detection failed
	AddrHomeAddress    AddrFlags = 0x10  // IFA_F_HOMEADDRESS: Mobile IPv6 home address
	AddrDeprecated     AddrFlags = 0x20  // IFA_F_DEPRECATED: preferred lifetime over
	AddrTentative      AddrFlags = 0x40  // IFA_F_TENTATIVE: duplicate address detection in progress
	AddrPermanent      AddrFlags = 0x80  // IFA_F_PERMANENT: no lifetime ("dynamic" when absent)
	AddrManageTempAddr AddrFlags = 0x100 // IFA_F_MANAGETEMPADDR: make temporary addresses from this prefix
	AddrNoPrefixRoute  AddrFlags = 0x200 // IFA_F_NOPREFIXROUTE: add no route for the prefix
	AddrMcAutoJoin     AddrFlags = 0x400 // IFA_F_MCAUTOJOIN: join the multicast group (multicast addresses)
	AddrStablePrivacy  AddrFlags = 0x800 // IFA_F_STABLE_PRIVACY: RFC 7217 stable address
)

// The order and names `ip address` prints flags in (ifa_flag_data in
// iproute2's ipaddress.c). IFA_F_PERMANENT is special: ip prints
// "dynamic" when it is absent, nothing when present.
var addrFlagNames = []struct {
	f    AddrFlags
	name string
}{
	{AddrSecondary, "secondary"}, {AddrNoDAD, "nodad"}, {AddrOptimistic, "optimistic"},
	{AddrDADFailed, "dadfailed"}, {AddrHomeAddress, "home"}, {AddrDeprecated, "deprecated"},
	{AddrTentative, "tentative"}, {AddrPermanent, "permanent"}, {AddrManageTempAddr, "mngtmpaddr"},
	{AddrNoPrefixRoute, "noprefixroute"}, {AddrMcAutoJoin, "autojoin"},
	{AddrStablePrivacy, "stable-privacy"},
}

// Names returns the set flags by their `ip` names, in ip's order:
// "secondary", "nodad", "optimistic", "dadfailed", "home", "deprecated",
// "tentative", "permanent", "mngtmpaddr", "noprefixroute", "autojoin",
// "stable-privacy"; unknown bits as one hexadecimal number. Bit 0x01 is
// named "secondary" here; for IPv6 ip calls it "temporary" (see
// Address.FlagNames, which also gives ip's "dynamic").
func (f AddrFlags) Names() []string {
	names := []string{}
	for _, n := range addrFlagNames {
		if f&n.f != 0 {
			names = append(names, n.name)
			f &^= n.f
		}
	}
	if f != 0 {
		names = append(names, fmt.Sprintf("%#x", uint32(f)))
	}
	return names
}

// String returns the flags joined by commas: "secondary,noprefixroute".
func (f AddrFlags) String() string { return strings.Join(f.Names(), ",") }

// Address is an IP address of an interface (struct ifaddrmsg and IFA_*
// attributes). Zero fields are absent: Marshal omits them, Unmarshal
// leaves them zero when the kernel did not send them.
//
// Local and peer: the kernel has two address attributes. IFA_LOCAL is the
// address of this host; IFA_ADDRESS is the address at the other end of a
// point-to-point link, or, when there is no peer, the same as IFA_LOCAL
// (IPv6 sends only IFA_ADDRESS then). Address maps them to Prefix (always
// the local address) and Peer (set only when there is a distinct peer),
// so callers never need to know which attribute means what.
type Address struct {
	// Family is the address family (ifa_family) as the kernel numbers it
	// (AF_INET = 2, AF_INET6 = 10). When adding, AddrFamilyUnspec means
	// "the family of Prefix".
	Family AddrFamily
	// Index is the index of the interface the address is on (ifa_index).
	Index int32
	// Prefix is the local address with the prefix length of its subnet
	// (IFA_LOCAL, or IFA_ADDRESS when IFA_LOCAL is absent, and
	// ifa_prefixlen): 10.0.0.1/24. The host bits are kept.
	Prefix netip.Prefix
	// Peer is the address of the other end of a point-to-point link
	// (IFA_ADDRESS when it differs from IFA_LOCAL), with the same prefix
	// length as Prefix: `ip addr add 10.0.0.1 peer 10.0.0.2/32`. When
	// adding with a Peer, ifa_prefixlen is Peer.Bits() (as ip does) and
	// the length of Prefix is ignored. Invalid (zero) when there is none.
	Peer netip.Prefix
	// Broadcast is the IPv4 broadcast address (IFA_BROADCAST). See
	// IPv4Broadcast for the usual one (ip's "brd +").
	Broadcast netip.Addr
	// Anycast is the anycast address (IFA_ANYCAST), if any.
	Anycast netip.Addr
	// Label is the IPv4 address label (IFA_LABEL), at most 15 bytes; by
	// convention the interface name, or "NAME:ALIAS". IPv6 has no labels.
	Label string
	// Scope is the scope (ifa_scope).
	Scope Scope
	// Flags are the address flags (IFA_FLAGS if present, else ifa_flags).
	Flags AddrFlags
	// ValidLifetime and PreferredLifetime are the remaining lifetimes
	// (IFA_CACHEINFO ifa_valid, ifa_prefered), in whole seconds; Forever
	// means no limit. After the preferred lifetime the address is
	// deprecated; after the valid one it is removed.
	//
	// When both are zero, IFA_CACHEINFO is absent: a new address then lives
	// forever. When either is set, both are sent as they are: set both
	// (Forever for no limit). A zero PreferredLifetime next to a non-zero
	// ValidLifetime deprecates the address at once, as `preferred_lft 0`
	// does.
	ValidLifetime     time.Duration
	PreferredLifetime time.Duration
	// Metric is the priority of the prefix route the kernel adds for the
	// address (IFA_RT_PRIORITY, ip's "metric"); 0 for the default.
	Metric uint32
	// Protocol says who added the address (IFA_PROTO, IFAPROT_*): 0 for
	// unknown/user, 1 kernel_lo, 2 kernel_ra, 3 kernel_ll.
	Protocol uint8
}

// Local returns the local address (Prefix without its length).
func (a *Address) Local() netip.Addr { return a.Prefix.Addr() }

// FlagNames returns the flags exactly as `ip address` prints them for
// this address: "temporary" instead of "secondary" for IPv6, "dynamic"
// when the address is not permanent, "permanent" never.
func (a *Address) FlagNames() []string {
	names := []string{}
	f := a.Flags
	for _, n := range addrFlagNames {
		switch {
		case n.f == AddrPermanent:
			if f&AddrPermanent == 0 {
				names = append(names, "dynamic")
			}
		case f&n.f == 0:
		case n.f == AddrSecondary && a.Family == AddrFamilyIPv6:
			names = append(names, "temporary")
		default:
			names = append(names, n.name)
		}
		f &^= n.f
	}
	if f != 0 {
		names = append(names, fmt.Sprintf("%#x", uint32(f)))
	}
	return names
}

// String returns the address as `ip address` starts its line:
// "10.0.0.1/24", or "10.0.0.1 peer 10.0.0.2/32".
func (a *Address) String() string {
	if a.Peer.IsValid() {
		return fmt.Sprintf("%s peer %s", a.Prefix.Addr(), a.Peer)
	}
	return a.Prefix.String()
}

// IPv4Broadcast returns the broadcast address of an IPv4 subnet: the
// address with all host bits set, as `ip addr add ... brd +` computes
// it. It reports false for IPv6 and for /31 and /32, which have none.
func IPv4Broadcast(p netip.Prefix) (netip.Addr, bool) {
	if !p.IsValid() || !p.Addr().Is4() || p.Bits() > 30 {
		return netip.Addr{}, false
	}
	b := p.Addr().As4()
	v := binary.BigEndian.Uint32(b[:]) | (1<<(32-p.Bits()) - 1)
	binary.BigEndian.PutUint32(b[:], v)
	return netip.AddrFrom4(b), true
}

// lifetimeSeconds encodes a lifetime for IFA_CACHEINFO: whole seconds,
// rounded up, Forever as INFINITY_LIFE_TIME.
func lifetimeSeconds(d time.Duration) (uint32, error) {
	if d < 0 || d > Forever {
		return 0, fmt.Errorf("lifetime %v out of range (0 to %d seconds, or Forever)", d, uint32(ifaInfinity-1))
	}
	s := (d + time.Second - 1) / time.Second
	return uint32(s), nil
}

func lifetimeDuration(s uint32) time.Duration { return time.Duration(s) * time.Second }

// MarshalBinary encodes a as the payload of an RTM_NEWADDR or
// RTM_DELADDR message: IFA_LOCAL is Prefix's address and IFA_ADDRESS is
// Peer's, or Prefix's again when there is no peer, as ip sends them.
// Family is encoded as it is (the Client methods fill it in from Prefix
// when it is AddrFamilyUnspec).
func (a *Address) MarshalBinary() ([]byte, error) {
	b := make([]byte, ifAddrLen, 96)
	b[0] = uint8(a.Family)
	switch {
	case a.Peer.IsValid():
		b[1] = uint8(a.Peer.Bits())
	case a.Prefix.IsValid():
		b[1] = uint8(a.Prefix.Bits())
	}
	b[2] = uint8(a.Flags)
	b[3] = uint8(a.Scope)
	binary.NativeEndian.PutUint32(b[4:], uint32(a.Index))
	var e netlink.AttributeEncoder
	e.Reset(b)
	// AsSlice keeps IPv4-mapped IPv6 addresses 16 bytes long, so a
	// decoded address encodes to what it was decoded from.
	if a.Prefix.IsValid() {
		e.Raw(ifaLocal, a.Prefix.Addr().AsSlice())
		if a.Peer.IsValid() {
			e.Raw(ifaAddress, a.Peer.Addr().AsSlice())
		} else {
			e.Raw(ifaAddress, a.Prefix.Addr().AsSlice())
		}
	} else if a.Peer.IsValid() {
		e.Raw(ifaAddress, a.Peer.Addr().AsSlice())
	}
	if a.Broadcast.IsValid() {
		e.Raw(ifaBroadcast, a.Broadcast.AsSlice())
	}
	if a.Anycast.IsValid() {
		e.Raw(ifaAnycast, a.Anycast.AsSlice())
	}
	if a.Label != "" {
		e.String(ifaLabel, a.Label)
	}
	if a.ValidLifetime != 0 || a.PreferredLifetime != 0 {
		valid, err := lifetimeSeconds(a.ValidLifetime)
		if err != nil {
			return nil, fmt.Errorf("rtnl: encode address %s: valid %w", a, err)
		}
		pref, err := lifetimeSeconds(a.PreferredLifetime)
		if err != nil {
			return nil, fmt.Errorf("rtnl: encode address %s: preferred %w", a, err)
		}
		ci := make([]byte, ifaCacheInfoLen)
		binary.NativeEndian.PutUint32(ci[0:], pref) // ifa_prefered comes first
		binary.NativeEndian.PutUint32(ci[4:], valid)
		e.Bytes(ifaCacheInfo, ci)
	}
	if a.Flags > 0xff {
		e.Uint32(ifaFlags, uint32(a.Flags))
	}
	if a.Metric != 0 {
		e.Uint32(ifaRtPriority, a.Metric)
	}
	if a.Protocol != 0 {
		e.Uint8(ifaProto, a.Protocol)
	}
	out, err := e.Encode()
	if err != nil {
		return nil, fmt.Errorf("rtnl: encode address %s: %w", a, err)
	}
	return out, nil
}

// UnmarshalBinary decodes the payload of an RTM_NEWADDR (or RTM_DELADDR)
// message into a. Nothing in a aliases b.
func (a *Address) UnmarshalBinary(b []byte) error {
	if len(b) < ifAddrLen {
		return fmt.Errorf("rtnl: decode address: %d bytes, shorter than ifaddrmsg", len(b))
	}
	*a = Address{
		Family: AddrFamily(b[0]),
		Flags:  AddrFlags(b[2]),
		Scope:  Scope(b[3]),
		Index:  int32(binary.NativeEndian.Uint32(b[4:])),
	}
	plen := int(b[1])
	ip := a.Family == AddrFamilyIPv4 || a.Family == AddrFamilyIPv6
	var local, addr netip.Addr
	// addrAttr decodes an address attribute. Families other than IPv4
	// and IPv6 (phonet, ...) have addresses of other sizes: those are
	// skipped rather than failing a whole dump.
	addrAttr := func(d *netlink.AttributeDecoder) netip.Addr {
		if !ip && d.Len() != 4 && d.Len() != 16 {
			return netip.Addr{}
		}
		return d.Addr()
	}
	d := netlink.NewAttributeDecoder(b[ifAddrLen:])
	for d.Next() {
		switch d.Type() {
		case ifaLocal:
			local = addrAttr(d)
		case ifaAddress:
			addr = addrAttr(d)
		case ifaBroadcast:
			a.Broadcast = addrAttr(d)
		case ifaAnycast:
			a.Anycast = addrAttr(d)
		case ifaLabel:
			a.Label = d.String()
		case ifaCacheInfo:
			ci := d.Bytes()
			if len(ci) < ifaCacheInfoLen {
				return fmt.Errorf("rtnl: decode address on link %d: cache info of %d bytes, want %d", a.Index, len(ci), ifaCacheInfoLen)
			}
			a.PreferredLifetime = lifetimeDuration(binary.NativeEndian.Uint32(ci[0:]))
			a.ValidLifetime = lifetimeDuration(binary.NativeEndian.Uint32(ci[4:]))
		case ifaFlags:
			a.Flags = AddrFlags(d.Uint32())
		case ifaRtPriority:
			a.Metric = d.Uint32()
		case ifaProto:
			a.Protocol = d.Uint8()
		}
	}
	if err := d.Err(); err != nil {
		return fmt.Errorf("rtnl: decode address on link %d: %w", a.Index, err)
	}
	if !local.IsValid() {
		local, addr = addr, netip.Addr{}
	} else if addr == local {
		addr = netip.Addr{}
	}
	for _, x := range []netip.Addr{local, addr} {
		if x.IsValid() && plen > x.BitLen() {
			return fmt.Errorf("rtnl: decode address %s on link %d: prefix length %d exceeds %d", x, a.Index, plen, x.BitLen())
		}
	}
	if local.IsValid() {
		a.Prefix = netip.PrefixFrom(local, plen)
	}
	if addr.IsValid() {
		a.Peer = netip.PrefixFrom(addr, plen)
	}
	return nil
}

// ErrInvalidAddress reports an Address that AddAddress, ReplaceAddress
// or DeleteAddress refused before sending it to the kernel (no interface,
// no or a bad prefix, families that do not match, bad lifetimes).
var ErrInvalidAddress = errors.New("invalid address")

type addrInputError struct {
	op, what, why string
}

func (e *addrInputError) Error() string {
	return fmt.Sprintf("rtnl: %s address %s: %s", e.op, e.what, e.why)
}

func (e *addrInputError) Is(target error) bool { return target == ErrInvalidAddress }

// maxLabelLen is IFNAMSIZ - 1: the longest IFA_LABEL the kernel takes.
const maxLabelLen = 15

// check validates a before a request op ("add", "replace", "delete").
func (a *Address) check(op string) error {
	fail := func(format string, args ...any) error {
		what := "(none)"
		if a.Prefix.IsValid() {
			what = a.String()
		}
		return &addrInputError{op: op, what: what, why: fmt.Sprintf(format, args...)}
	}
	if !a.Prefix.IsValid() {
		return fail("no local prefix (set Prefix, such as 10.0.0.1/24)")
	}
	if a.Index <= 0 {
		return fail("no interface (set Index to the interface index)")
	}
	local := a.Prefix.Addr()
	if local.Is4In6() {
		return fail("IPv4-mapped IPv6 address: use the IPv4 form %s", local.Unmap())
	}
	fam := addrFamilyOf(local)
	if a.Family != AddrFamilyUnspec && a.Family != fam {
		return fail("Family %s does not match the %s address %s", a.Family, fam, local)
	}
	if a.Peer.IsValid() {
		if addrFamilyOf(a.Peer.Addr()) != fam || a.Peer.Addr().Is4In6() {
			return fail("peer %s is not of the family of %s", a.Peer, local)
		}
	}
	if a.Broadcast.IsValid() {
		if fam != AddrFamilyIPv4 || !a.Broadcast.Is4() {
			return fail("broadcast %s: only IPv4 addresses have a broadcast address", a.Broadcast)
		}
	}
	if a.Anycast.IsValid() && addrFamilyOf(a.Anycast) != fam {
		return fail("anycast %s is not of the family of %s", a.Anycast, local)
	}
	if len(a.Label) > maxLabelLen {
		return fail("label %q is longer than %d bytes", a.Label, maxLabelLen)
	}
	if op == "delete" {
		return nil
	}
	if a.ValidLifetime != 0 || a.PreferredLifetime != 0 {
		if _, err := lifetimeSeconds(a.ValidLifetime); err != nil {
			return fail("valid %v", err)
		}
		if _, err := lifetimeSeconds(a.PreferredLifetime); err != nil {
			return fail("preferred %v", err)
		}
		if a.ValidLifetime == 0 {
			return fail("PreferredLifetime set without ValidLifetime (use Forever for no limit)")
		}
		if a.PreferredLifetime > a.ValidLifetime {
			return fail("preferred lifetime %v is longer than valid lifetime %v", a.PreferredLifetime, a.ValidLifetime)
		}
	}
	return nil
}

// AddressFilter selects the addresses Client.Addresses returns. Its zero
// value (or a nil *AddressFilter) selects every address.
type AddressFilter struct {
	// Family selects IPv4 or IPv6 addresses; AddrFamilyUnspec for all.
	Family AddrFamily
	// Index selects the addresses of one interface; 0 for all.
	Index int32
}

// Addresses streams the addresses of every interface, or those filter
// selects, decoded one at a time.
//
// Filtering: the family always goes in the request (ifa_family), and the
// kernel dumps only that family. The interface index also goes in the
// request (ifa_index), but the kernel honours it only on a Conn with
// strict checking on (netlink.Config.Strict, NETLINK_GET_STRICT_CHK); it
// then also fails with ENODEV for an index that does not exist. Without
// strict checking the kernel dumps every interface; Addresses therefore
// always filters by family and index on its side as well, so the result
// is the same either way.
//
// Equivalent to: `ip address show [dev DEV]` (`ip -4 address`, `ip -6
// address` with a family).
func (c *Client) Addresses(ctx context.Context, filter *AddressFilter) iter.Seq2[*Address, error] {
	var f AddressFilter
	if filter != nil {
		f = *filter
	}
	req := make([]byte, ifAddrLen)
	req[0] = uint8(f.Family)
	binary.NativeEndian.PutUint32(req[4:], uint32(f.Index))
	return func(yield func(*Address, error) bool) {
		for a, err := range dump[Address](ctx, c, msgGetAddr, req, msgNewAddr) {
			if err != nil {
				if f.Index != 0 && errors.Is(err, syscall.ENODEV) {
					err = &noLinkError{what: fmt.Sprintf("list addresses of link index %d", f.Index), err: err}
				} else {
					err = fmt.Errorf("rtnl: list addresses: %w", err)
				}
				yield(nil, err)
				return
			}
			if f.Family != AddrFamilyUnspec && a.Family != f.Family {
				continue
			}
			if f.Index != 0 && a.Index != f.Index {
				continue
			}
			if !yield(a, nil) {
				return
			}
		}
	}
}

// ListAddresses returns the addresses filter selects (nil for all), in
// the kernel's order: by family, then interface, then as added.
//
// Equivalent to: `ip address show [dev DEV]`.
func (c *Client) ListAddresses(ctx context.Context, filter *AddressFilter) ([]*Address, error) {
	return collect(c.Addresses(ctx, filter))
}

// addrChange validates a and sends it as typ with flags.
func (c *Client) addrChange(ctx context.Context, op string, typ uint16, flags netlink.HeaderFlags, a *Address) error {
	if a == nil {
		return &addrInputError{op: op, what: "(nil)", why: "nil *Address"}
	}
	if err := a.check(op); err != nil {
		return err
	}
	if a.Family == AddrFamilyUnspec {
		cp := *a
		cp.Family = addrFamilyOf(a.Prefix.Addr())
		a = &cp
	}
	data, err := a.MarshalBinary()
	if err != nil {
		return err
	}
	if err := c.change(ctx, typ, flags, data); err != nil {
		return fmt.Errorf("rtnl: %s address %s on link %d: %w", op, a, a.Index, err)
	}
	return nil
}

// AddAddress adds an address to an interface. It fails (EEXIST) if the
// interface already has it. a.Index and a.Prefix are required.
//
// Equivalent to: `ip address add 10.0.0.1/24 dev veth0`.
func (c *Client) AddAddress(ctx context.Context, a *Address) error {
	return c.addrChange(ctx, "add", msgNewAddr, netlink.Create|netlink.Excl, a)
}

// ReplaceAddress adds an address, or updates it if the interface has it
// already (its lifetimes, flags and metric).
//
// Equivalent to: `ip address replace 10.0.0.1/24 dev veth0`.
func (c *Client) ReplaceAddress(ctx context.Context, a *Address) error {
	return c.addrChange(ctx, "replace", msgNewAddr, netlink.Create|netlink.Replace, a)
}

// DeleteAddress removes an address from an interface. The kernel matches
// a.Index, the local address and prefix length, and a.Label if set; it
// fails with EADDRNOTAVAIL if there is no such address. Lifetimes are
// ignored.
//
// Equivalent to: `ip address del 10.0.0.1/24 dev veth0`.
func (c *Client) DeleteAddress(ctx context.Context, a *Address) error {
	if a != nil {
		d := *a
		d.ValidLifetime, d.PreferredLifetime = 0, 0
		a = &d
	}
	return c.addrChange(ctx, "delete", msgDelAddr, 0, a)
}
