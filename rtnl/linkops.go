package rtnl

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	"github.com/nlkit/nlkit/netlink"
)

// ValidLinkName reports why name cannot name an interface, or nil. The
// kernel's rules (dev_valid_name): 1-15 bytes, not "." or "..", no '/',
// ':' or white space.
func ValidLinkName(name string) error {
	switch {
	case name == "":
		return errors.New("empty interface name")
	case len(name) > 15:
		return fmt.Errorf("interface name %q is longer than 15 bytes", name)
	case name == "." || name == "..":
		return fmt.Errorf("interface name %q is reserved", name)
	case strings.ContainsAny(name, "/: \t\n\r\v\f"):
		return fmt.Errorf("interface name %q contains '/', ':' or white space", name)
	}
	return nil
}

// AddLink creates a virtual link described by l: l.Name, l.Info (the kind
// and its LinkData) and any of MTU, HardwareAddr, Broadcast, TxQueueLen,
// Alias, Master, ParentIndex (the lower device of a macvlan) and NetNSFD.
// The request fails with EEXIST if the name is taken; nothing is left
// behind on failure.
//
// Equivalent to: `ip link add NAME [mtu N] [address MAC] type KIND ...`.
func (c *Client) AddLink(ctx context.Context, l *Link) error {
	if err := ValidLinkName(l.Name); err != nil {
		return fmt.Errorf("rtnl: add link: %w", err)
	}
	if l.Info == nil || l.Info.kind() == "" {
		return fmt.Errorf("rtnl: add link %q: no kind given (veth, bridge, macvlan, vxlan, tun, ...)", l.Name)
	}
	if v, ok := l.Info.Data.(*Veth); ok && v.Peer != nil && v.Peer.Name != "" {
		if err := ValidLinkName(v.Peer.Name); err != nil {
			return fmt.Errorf("rtnl: add link %q: peer: %w", l.Name, err)
		}
	}
	if t, ok := l.Info.Data.(*Tun); ok {
		return c.addTun(ctx, l, t)
	}
	data, err := l.MarshalBinary()
	if err != nil {
		return err
	}
	if err := c.change(ctx, msgNewLink, netlink.Create|netlink.Excl, data); err != nil {
		return fmt.Errorf("rtnl: add link %q: %w", l.Name, err)
	}
	return nil
}

// DeleteLink removes the link with the given index (a veth takes its peer
// with it).
//
// Equivalent to: `ip link del DEV`.
func (c *Client) DeleteLink(ctx context.Context, index int32) error {
	if index <= 0 {
		return &noLinkError{what: fmt.Sprintf("link index %d", index), err: syscall.ENODEV}
	}
	data, _ := (&Link{Index: index}).MarshalBinary()
	if err := c.change(ctx, msgDelLink, 0, data); err != nil {
		if errors.Is(err, syscall.ENODEV) {
			return &noLinkError{what: fmt.Sprintf("link index %d", index), err: err}
		}
		return fmt.Errorf("rtnl: delete link %d: %w", index, err)
	}
	return nil
}

// LinkChange lists what SetLink changes; unset (nil or zero) fields are
// left alone.
type LinkChange struct {
	Up           *bool            // IFF_UP: administratively up or down
	MTU          uint32           // IFLA_MTU
	Name         string           // IFLA_IFNAME: rename (the link must be down)
	HardwareAddr net.HardwareAddr // IFLA_ADDRESS
	// Master enslaves the link to a bridge (its index), or with 0 frees it
	// (`nomaster`).
	Master     *int32
	TxQueueLen *uint32 // IFLA_TXQLEN
	Alias      *string // IFLA_IFALIAS; "" removes it
	// NetNSFD moves the link into the namespace of this open file
	// descriptor; NetNSPID into a process's namespace.
	NetNSFD  int
	NetNSPID int
}

// SetLink changes link index as ch says, in one request. It checks the
// name and the MTU against the link's limits before sending, so a bad
// value changes nothing.
//
// Equivalent to: `ip link set DEV [up|down] [mtu N] [name NEW] [address MAC]
// [master BR|nomaster] [txqueuelen N] [alias TEXT] [netns NS]`.
func (c *Client) SetLink(ctx context.Context, index int32, ch LinkChange) error {
	cur, err := c.LinkByIndex(ctx, index)
	if err != nil {
		return err
	}
	if ch.Name != "" {
		if err := ValidLinkName(ch.Name); err != nil {
			return fmt.Errorf("rtnl: set link %q: %w", cur.Name, err)
		}
	}
	if ch.MTU != 0 && ((cur.MinMTU != 0 && ch.MTU < cur.MinMTU) || (cur.MaxMTU != 0 && ch.MTU > cur.MaxMTU)) {
		return fmt.Errorf("rtnl: set link %q: mtu %d out of range %d-%d: %w", cur.Name, ch.MTU, cur.MinMTU, cur.MaxMTU, syscall.EINVAL)
	}
	if len(ch.HardwareAddr) != 0 && len(cur.HardwareAddr) != 0 && len(ch.HardwareAddr) != len(cur.HardwareAddr) {
		return fmt.Errorf("rtnl: set link %q: address %s has %d bytes, the link's have %d: %w", cur.Name, ch.HardwareAddr, len(ch.HardwareAddr), len(cur.HardwareAddr), syscall.EINVAL)
	}
	req := Link{Index: index, Name: ch.Name, MTU: ch.MTU, HardwareAddr: ch.HardwareAddr, NetNSFD: ch.NetNSFD, NetNSPID: ch.NetNSPID}
	if ch.Up != nil {
		req.Change = FlagUp
		if *ch.Up {
			req.Flags = FlagUp
		}
	}
	data, err := req.MarshalBinary()
	if err != nil {
		return err
	}
	// Attributes whose zero value means something are added here.
	var e netlink.AttributeEncoder
	e.Reset(data)
	if ch.Master != nil {
		e.Uint32(iflaMaster, uint32(*ch.Master))
	}
	if ch.TxQueueLen != nil {
		e.Uint32(iflaTxQLen, *ch.TxQueueLen)
	}
	if ch.Alias != nil {
		e.String(iflaIfAlias, *ch.Alias)
	}
	if data, err = e.Encode(); err != nil {
		return err
	}
	if err := c.change(ctx, msgNewLink, 0, data); err != nil {
		return fmt.Errorf("rtnl: set link %q: %w", cur.Name, err)
	}
	return nil
}

// SetLinkUp brings a link administratively up.
//
// Equivalent to: `ip link set DEV up`.
func (c *Client) SetLinkUp(ctx context.Context, index int32) error {
	up := true
	return c.SetLink(ctx, index, LinkChange{Up: &up})
}

// SetLinkDown brings a link administratively down.
//
// Equivalent to: `ip link set DEV down`.
func (c *Client) SetLinkDown(ctx context.Context, index int32) error {
	down := false
	return c.SetLink(ctx, index, LinkChange{Up: &down})
}
