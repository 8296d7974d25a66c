package rtnl

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/nlkit/nlkit/netlink"
)

// Message types of neighbours (enum in linux/rtnetlink.h).
const (
	msgNewNeigh = 28 // RTM_NEWNEIGH
	msgDelNeigh = 29 // RTM_DELNEIGH
	msgGetNeigh = 30 // RTM_GETNEIGH
)

// Neighbour attributes (enum in linux/neighbour.h).
const (
	ndaDst       = 1  // NDA_DST
	ndaLLAddr    = 2  // NDA_LLADDR
	ndaCacheInfo = 3  // NDA_CACHEINFO
	ndaProbes    = 4  // NDA_PROBES
	ndaVlan      = 5  // NDA_VLAN
	ndaIfindex   = 8  // NDA_IFINDEX (dump filter)
	ndaMaster    = 9  // NDA_MASTER
	ndaProtocol  = 12 // NDA_PROTOCOL
)

// ndMsgLen is the size of struct ndmsg.
const ndMsgLen = 12

// ndaCacheInfoLen is the size of struct nda_cacheinfo.
const ndaCacheInfoLen = 16

// NeighState is the set of neighbour unreachability detection states of
// an entry (ndmsg.ndm_state, NUD_*). The kernel reports one state at a
// time, but requests and filters may combine several.
type NeighState uint16

// Neighbour states.
const (
	NeighNone       NeighState = 0x00 // NUD_NONE: no state (a new or proxy entry)
	NeighIncomplete NeighState = 0x01 // NUD_INCOMPLETE: resolution in progress
	NeighReachable  NeighState = 0x02 // NUD_REACHABLE: confirmed recently
	NeighStale      NeighState = 0x04 // NUD_STALE: usable, to be confirmed on use
	NeighDelay      NeighState = 0x08 // NUD_DELAY: waiting before probing
	NeighProbe      NeighState = 0x10 // NUD_PROBE: probing
	NeighFailed     NeighState = 0x20 // NUD_FAILED: resolution failed
	NeighNoARP      NeighState = 0x40 // NUD_NOARP: valid, never resolved (multicast, point-to-point)
	NeighPermanent  NeighState = 0x80 // NUD_PERMANENT: static, set by an administrator
)

// The order and names `ip neigh` prints states in (print_neigh_state).
var neighStateNames = []struct {
	s    NeighState
	name string
}{
	{NeighIncomplete, "INCOMPLETE"}, {NeighReachable, "REACHABLE"}, {NeighStale, "STALE"},
	{NeighDelay, "DELAY"}, {NeighProbe, "PROBE"}, {NeighFailed, "FAILED"},
	{NeighNoARP, "NOARP"}, {NeighPermanent, "PERMANENT"},
}

// Names returns the states as `ip neigh` shows them, in its order
// ("REACHABLE", "PERMANENT", ...); unknown bits are one hexadecimal
// number. NeighNone has no names (ip prints no state for it).
func (s NeighState) Names() []string {
	names := []string{}
	for _, n := range neighStateNames {
		if s&n.s != 0 {
			names = append(names, n.name)
			s &^= n.s
		}
	}
	if s != 0 {
		names = append(names, fmt.Sprintf("%x", uint16(s)))
	}
	return names
}

// String returns the states joined by commas ("STALE"), or "NONE".
func (s NeighState) String() string {
	if s == NeighNone {
		return "NONE"
	}
	return strings.Join(s.Names(), ",")
}

// ParseNeighState parses a state as `ip neigh ... nud STATE` takes it:
// permanent, noarp, reachable, stale, none, incomplete, delay, probe or
// failed (any case).
func ParseNeighState(s string) (NeighState, error) {
	switch strings.ToLower(s) {
	case "none":
		return NeighNone, nil
	}
	for _, n := range neighStateNames {
		if strings.EqualFold(s, n.name) {
			return n.s, nil
		}
	}
	return 0, fmt.Errorf("rtnl: unknown neighbour state %q (want permanent, noarp, reachable, stale, none, incomplete, delay, probe or failed)", s)
}

// NeighFlags are the flags of a neighbour entry (ndmsg.ndm_flags, NTF_*).
type NeighFlags uint8

// Neighbour flags.
const (
	NeighFlagUse        NeighFlags = 1 << 0 // NTF_USE: mark the entry used (triggers resolution)
	NeighFlagSelf       NeighFlags = 1 << 1 // NTF_SELF: the device's own table (bridge FDB)
	NeighFlagMaster     NeighFlags = 1 << 2 // NTF_MASTER: the master device's table (bridge FDB)
	NeighFlagProxy      NeighFlags = 1 << 3 // NTF_PROXY: a proxy ARP / proxy NDP entry
	NeighFlagExtLearned NeighFlags = 1 << 4 // NTF_EXT_LEARNED: learned by an external control plane
	NeighFlagOffloaded  NeighFlags = 1 << 5 // NTF_OFFLOADED: offloaded to hardware
	NeighFlagSticky     NeighFlags = 1 << 6 // NTF_STICKY: FDB entry that does not roam
	NeighFlagRouter     NeighFlags = 1 << 7 // NTF_ROUTER: the neighbour is an IPv6 router
)

// The names `ip neigh` (and `bridge fdb`) use for the flags.
var neighFlagNames = []struct {
	f    NeighFlags
	name string
}{
	{NeighFlagUse, "use"}, {NeighFlagSelf, "self"}, {NeighFlagMaster, "master"},
	{NeighFlagProxy, "proxy"}, {NeighFlagExtLearned, "extern_learn"},
	{NeighFlagOffloaded, "offload"}, {NeighFlagSticky, "sticky"}, {NeighFlagRouter, "router"},
}

// Names returns the flags by their iproute2 keywords ("router", "proxy",
// "extern_learn", ...).
func (f NeighFlags) Names() []string {
	names := []string{}
	for _, n := range neighFlagNames {
		if f&n.f != 0 {
			names = append(names, n.name)
		}
	}
	return names
}

// String returns the flag names joined by commas, or "0" for none.
func (f NeighFlags) String() string {
	if f == 0 {
		return "0"
	}
	return strings.Join(f.Names(), ",")
}

// NeighCacheInfo is an entry's timing (struct nda_cacheinfo,
// NDA_CACHEINFO): how long ago it was last confirmed, used and updated.
type NeighCacheInfo struct {
	Confirmed time.Duration // ndm_confirmed: since the neighbour was last confirmed reachable
	Used      time.Duration // ndm_used: since the entry was last used
	Updated   time.Duration // ndm_updated: since the entry last changed
	RefCount  uint32        // ndm_refcnt: references held on the entry
}

// ndClockTick is the kernel's USER_HZ clock tick, the unit of
// nda_cacheinfo (jiffies_to_clock_t).
const ndClockTick = 10 * time.Millisecond

// Neighbor is an entry of a neighbour table: the ARP (IPv4) or NDP (IPv6)
// cache, or a proxy entry (struct ndmsg and NDA_* attributes). Zero fields
// are absent: MarshalBinary omits them, UnmarshalBinary leaves them zero
// when the kernel did not send them.
type Neighbor struct {
	// Family is the address family (ndm_family): AddrFamilyIPv4 or
	// AddrFamilyIPv6 (AF_BRIDGE, 7, for bridge FDB entries).
	// MarshalBinary derives it from IP when zero.
	Family AddrFamily
	// Index is the interface index (ndm_ifindex). A proxy entry may have
	// none (0): it then answers on every interface.
	Index int32
	// State is the NUD state (ndm_state).
	State NeighState
	// Flags (ndm_flags); NeighFlagProxy makes the entry a proxy entry.
	Flags NeighFlags
	// Type is the route type of the address (ndm_type, RTN_*: 1 unicast,
	// 5 multicast, ...); the kernel fills it in, requests leave it 0.
	Type uint8

	IP           netip.Addr       // NDA_DST: the neighbour's IP address
	HardwareAddr net.HardwareAddr // NDA_LLADDR: its link-layer address
	// Probes is the number of probes sent so far (NDA_PROBES, read only).
	Probes uint32
	// Vlan is the VLAN ID of a bridge FDB entry (NDA_VLAN), 0 if none.
	Vlan uint16
	// Master is the index of the master device (NDA_MASTER), 0 if none.
	Master int32
	// Protocol records who installed the entry (NDA_PROTOCOL, RTPROT_*
	// values), 0 if unset.
	Protocol uint8
	// CacheInfo holds the entry's timers (NDA_CACHEINFO, read only); nil
	// for proxy entries and requests.
	CacheInfo *NeighCacheInfo
}

// ndFamily returns the address family of a, or 0 for an invalid address.
func ndFamily(a netip.Addr) AddrFamily {
	switch {
	case a.Is4() || a.Is4In6():
		return AddrFamilyIPv4
	case a.Is6():
		return AddrFamilyIPv6
	}
	return AddrFamilyUnspec
}

// MarshalBinary encodes n as the payload of an RTM_*NEIGH message. Read-only
// fields (Probes, CacheInfo) are not encoded.
func (n *Neighbor) MarshalBinary() ([]byte, error) {
	fam := n.Family
	if n.IP.IsValid() {
		af := ndFamily(n.IP)
		if fam == 0 {
			fam = af
		} else if fam != af {
			return nil, fmt.Errorf("rtnl: encode neighbour %s: address is not of family %v", n.IP, fam)
		}
	}
	b := make([]byte, ndMsgLen, 64)
	b[0] = uint8(fam)
	binary.NativeEndian.PutUint32(b[4:], uint32(n.Index))
	binary.NativeEndian.PutUint16(b[8:], uint16(n.State))
	b[10] = uint8(n.Flags)
	b[11] = n.Type
	var e netlink.AttributeEncoder
	e.Reset(b)
	if n.IP.IsValid() {
		e.Addr(ndaDst, n.IP)
	}
	if n.HardwareAddr != nil {
		e.Bytes(ndaLLAddr, n.HardwareAddr)
	}
	if n.Vlan != 0 {
		e.Uint16(ndaVlan, n.Vlan)
	}
	if n.Master != 0 {
		e.Uint32(ndaMaster, uint32(n.Master))
	}
	if n.Protocol != 0 {
		e.Uint8(ndaProtocol, n.Protocol)
	}
	out, err := e.Encode()
	if err != nil {
		return nil, fmt.Errorf("rtnl: encode neighbour %s: %w", n.IP, err)
	}
	return out, nil
}

// UnmarshalBinary decodes the payload of an RTM_NEWNEIGH or RTM_DELNEIGH
// message into n. Byte slices in n are copies; n does not alias b.
func (n *Neighbor) UnmarshalBinary(b []byte) error {
	if len(b) < ndMsgLen {
		return fmt.Errorf("rtnl: decode neighbour: %d bytes, shorter than ndmsg", len(b))
	}
	*n = Neighbor{
		Family: AddrFamily(b[0]),
		Index:  int32(binary.NativeEndian.Uint32(b[4:])),
		State:  NeighState(binary.NativeEndian.Uint16(b[8:])),
		Flags:  NeighFlags(b[10]),
		Type:   b[11],
	}
	d := netlink.NewAttributeDecoder(b[ndMsgLen:])
	for d.Next() {
		switch d.Type() {
		case ndaDst:
			n.IP = d.Addr()
		case ndaLLAddr:
			n.HardwareAddr = net.HardwareAddr(append([]byte{}, d.Bytes()...))
		case ndaProbes:
			n.Probes = d.Uint32()
		case ndaVlan:
			n.Vlan = d.Uint16()
		case ndaMaster:
			n.Master = int32(d.Uint32())
		case ndaProtocol:
			n.Protocol = d.Uint8()
		case ndaCacheInfo:
			c := d.Bytes()
			if len(c) < ndaCacheInfoLen {
				return fmt.Errorf("rtnl: decode neighbour %s: cache info of %d bytes, want %d", n.IP, len(c), ndaCacheInfoLen)
			}
			n.CacheInfo = &NeighCacheInfo{
				Confirmed: time.Duration(binary.NativeEndian.Uint32(c[0:])) * ndClockTick,
				Used:      time.Duration(binary.NativeEndian.Uint32(c[4:])) * ndClockTick,
				Updated:   time.Duration(binary.NativeEndian.Uint32(c[8:])) * ndClockTick,
				RefCount:  binary.NativeEndian.Uint32(c[12:]),
			}
		}
	}
	if err := d.Err(); err != nil {
		return fmt.Errorf("rtnl: decode neighbour %s: %w", n.IP, err)
	}
	return nil
}

// NeighborFilter selects the neighbour entries a dump returns. The zero
// value selects every entry of every family (proxy entries excluded).
type NeighborFilter struct {
	// Family limits the dump to AddrFamilyIPv4 or AddrFamilyIPv6;
	// AddrFamilyUnspec (0) for all.
	Family AddrFamily
	// Index limits the dump to one interface; 0 for all.
	Index int32
	// Proxy dumps the proxy entries (NTF_PROXY) instead of the cache,
	// as `ip neigh show proxy` does.
	Proxy bool
}

// match reports whether n passes f; the kernel filters too, this guards
// against kernels that ignore part of the request.
func (f NeighborFilter) match(n *Neighbor) bool {
	if f.Family != 0 && n.Family != f.Family {
		return false
	}
	if f.Index != 0 && n.Index != f.Index {
		return false
	}
	return true
}

// request encodes the dump request for f: an ndmsg with the family and
// NTF_PROXY, and NDA_IFINDEX as the kernel's interface filter.
func (f NeighborFilter) request() []byte {
	b := make([]byte, ndMsgLen, ndMsgLen+8)
	b[0] = uint8(f.Family)
	if f.Proxy {
		b[10] = uint8(NeighFlagProxy)
	}
	if f.Index != 0 {
		var e netlink.AttributeEncoder
		e.Reset(b)
		e.Uint32(ndaIfindex, uint32(f.Index))
		b, _ = e.Encode() // cannot fail: one small attribute
	}
	return b
}

// Neighbors streams the neighbour entries f selects, decoded one at a
// time, in every state: `ip neigh show` hides NOARP entries and entries
// without a state unless given `nud all`; filter on State to do the same.
//
// Equivalent to: `ip neigh show nud all [dev DEV] [proxy]`.
func (c *Client) Neighbors(ctx context.Context, f NeighborFilter) iter.Seq2[*Neighbor, error] {
	return func(yield func(*Neighbor, error) bool) {
		for n, err := range dump[Neighbor](ctx, c, msgGetNeigh, f.request(), msgNewNeigh) {
			if err != nil {
				yield(nil, wrapNeighRuleErr("list neighbours", err))
				return
			}
			if !f.match(n) {
				continue
			}
			if !yield(n, nil) {
				return
			}
		}
	}
}

// ListNeighbors returns the neighbour entries f selects.
//
// Equivalent to: `ip neigh show nud all [dev DEV] [proxy]`.
func (c *Client) ListNeighbors(ctx context.Context, f NeighborFilter) ([]*Neighbor, error) {
	return collect(c.Neighbors(ctx, f))
}

// wrapNeighRuleErr adds what was being done to a netlink error; decoding
// errors already say it.
func wrapNeighRuleErr(what string, err error) error {
	var oe *netlink.OpError
	if errors.As(err, &oe) {
		return fmt.Errorf("rtnl: %s: %w", what, err)
	}
	return err
}

// changeNeighbor sends n as an RTM_NEWNEIGH or RTM_DELNEIGH request.
func (c *Client) changeNeighbor(ctx context.Context, op string, typ uint16, flags netlink.HeaderFlags, n *Neighbor) error {
	if !n.IP.IsValid() {
		return fmt.Errorf("rtnl: %s neighbour: no IP address", op)
	}
	if n.Index == 0 && n.Flags&NeighFlagProxy == 0 {
		return fmt.Errorf("rtnl: %s neighbour %s: no interface index", op, n.IP)
	}
	data, err := n.MarshalBinary()
	if err != nil {
		return err
	}
	if err := c.change(ctx, typ, flags, data); err != nil {
		return fmt.Errorf("rtnl: %s neighbour %s: %w", op, n.IP, err)
	}
	return nil
}

// AddNeighbor adds a neighbour entry; it fails (EEXIST) if one exists for
// the address on the interface. Set State (NeighPermanent is what ip
// uses by default) and HardwareAddr; set NeighFlagProxy in Flags to add a
// proxy entry instead.
//
// Equivalent to: `ip neigh add ADDR lladdr MAC nud STATE dev DEV`.
func (c *Client) AddNeighbor(ctx context.Context, n *Neighbor) error {
	return c.changeNeighbor(ctx, "add", msgNewNeigh, netlink.Create|netlink.Excl, n)
}

// ReplaceNeighbor adds a neighbour entry or replaces the one for the
// address on the interface.
//
// Equivalent to: `ip neigh replace ADDR lladdr MAC nud STATE dev DEV`.
func (c *Client) ReplaceNeighbor(ctx context.Context, n *Neighbor) error {
	return c.changeNeighbor(ctx, "replace", msgNewNeigh, netlink.Create|netlink.Replace, n)
}

// ChangeNeighbor changes an existing neighbour entry; it fails (ENOENT)
// if there is none.
//
// Equivalent to: `ip neigh change ADDR lladdr MAC nud STATE dev DEV`.
func (c *Client) ChangeNeighbor(ctx context.Context, n *Neighbor) error {
	return c.changeNeighbor(ctx, "change", msgNewNeigh, netlink.Replace, n)
}

// DeleteNeighbor deletes the entry for n.IP on interface n.Index (with
// NeighFlagProxy in n.Flags, the proxy entry).
//
// Equivalent to: `ip neigh del ADDR dev DEV`.
func (c *Client) DeleteNeighbor(ctx context.Context, n *Neighbor) error {
	return c.changeNeighbor(ctx, "delete", msgDelNeigh, 0, n)
}
