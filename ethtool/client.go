package ethtool

import (
	"context"
	"encoding"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/nlkit/nlkit/genl"
	"github.com/nlkit/nlkit/netlink"
)

// ErrNoDevice reports that no interface matches a request's Device (in
// the socket's network namespace). Errors matching it also match
// syscall.ENODEV and keep the kernel's *netlink.OpError with its
// extended-ack text ("no device matches name").
var ErrNoDevice = errors.New("ethtool: no such device")

// ErrNotSupported reports a kernel without the ethtool generic netlink
// family (before Linux 5.6, or CONFIG_ETHTOOL_NETLINK off). Errors
// matching it also match genl.ErrFamilyNotFound.
var ErrNotSupported = errors.New("ethtool: the kernel has no ethtool generic netlink family (Linux 5.6 and CONFIG_ETHTOOL_NETLINK needed)")

// noDeviceError is ErrNoDevice with the device asked for.
type noDeviceError struct {
	dev Device
	err error
}

func (e *noDeviceError) Error() string {
	s := "ethtool: device " + e.dev.String() + " does not exist"
	var op *netlink.OpError
	if errors.As(e.err, &op) && op.Message != "" {
		s += " (kernel: " + op.Message + ")"
	}
	return s
}

func (e *noDeviceError) Unwrap() []error { return []error{ErrNoDevice, e.err} }

type notSupportedError struct{ err error }

func (e *notSupportedError) Error() string   { return ErrNotSupported.Error() }
func (e *notSupportedError) Unwrap() []error { return []error{ErrNotSupported, e.err} }

// Client queries network devices through the generic netlink family
// "ethtool". It is safe for concurrent use; requests are serialized on
// one socket.
//
// By default it asks for compact bit sets (bitmaps, as ethtool does) and
// names their bits from the kernel's string sets, fetched once per
// Client; SetCompact(false) asks for verbose bit sets, whose bits the
// kernel names itself. Both give the same results.
type Client struct {
	c       *genl.Conn
	id      uint16
	verbose atomic.Bool

	mu      sync.Mutex
	strsets map[StringSetID][]string
}

// Dial opens a generic netlink socket with cfg (nil for the defaults;
// cfg.NetNS for the devices of another network namespace) and resolves
// the family. On a kernel without it the error matches ErrNotSupported.
//
// Equivalent to: `genl ctrl get name ethtool`.
func Dial(ctx context.Context, cfg *netlink.Config) (*Client, error) {
	c, err := genl.Dial(cfg)
	if err != nil {
		return nil, fmt.Errorf("ethtool: %w", err)
	}
	ec, err := NewClient(ctx, c)
	if err != nil {
		c.Close()
		return nil, err
	}
	return ec, nil
}

// NewClient resolves the family on c (for example a Conn of genltest's
// fake kernel) and returns a Client that owns c. On error c is left
// open.
func NewClient(ctx context.Context, c *genl.Conn) (*Client, error) {
	f, err := c.Family(ctx, FamilyName)
	if errors.Is(err, genl.ErrFamilyNotFound) {
		return nil, &notSupportedError{err: err}
	}
	if err != nil {
		return nil, fmt.Errorf("ethtool: resolve family: %w", err)
	}
	return &Client{c: c, id: f.ID, strsets: map[StringSetID][]string{}}, nil
}

// Conn returns the underlying generic netlink Conn.
func (c *Client) Conn() *genl.Conn { return c.c }

// Close closes the socket.
func (c *Client) Close() error { return c.c.Close() }

// SetCompact chooses compact bit sets (true, the default:
// ETHTOOL_FLAG_COMPACT_BITSETS, bits named from string sets) or verbose
// ones (false: the kernel lists each bit with its name).
func (c *Client) SetCompact(on bool) { c.verbose.Store(!on) }

// flags returns the header flags of a request with bit sets.
func (c *Client) flags() Flags {
	if c.verbose.Load() {
		return 0
	}
	return FlagCompactBitsets
}

// get sends request cmd for dev with flags and decodes its one reply
// (of command want) into v.
func (c *Client) get(ctx context.Context, what string, cmd, want Command, dev Device, flags Flags, v encoding.BinaryUnmarshaler) error {
	var e netlink.AttributeEncoder
	Header{Device: dev, Flags: flags}.encode(&e)
	data, err := e.Encode()
	if err != nil {
		return fmt.Errorf("ethtool: %s of %s: %w", what, dev, err)
	}
	req := genl.Message{Header: genl.Header{Command: uint8(cmd), Version: FamilyVersion}, Data: data}
	replies, err := c.c.Execute(ctx, c.id, req, 0)
	if errors.Is(err, syscall.ENODEV) {
		return &noDeviceError{dev: dev, err: err}
	}
	if err != nil {
		return fmt.Errorf("ethtool: %s of %s: %w", what, dev, err)
	}
	n := 0
	for _, m := range replies {
		if Command(m.Header.Command) != want {
			continue
		}
		if n++; n > 1 {
			return fmt.Errorf("ethtool: %s of %s: kernel sent more than one reply", what, dev)
		}
		if err := v.UnmarshalBinary(m.Data); err != nil {
			return fmt.Errorf("ethtool: %s of %s: %w", what, dev, err)
		}
	}
	if n == 0 {
		return fmt.Errorf("ethtool: %s of %s: kernel sent no reply", what, dev)
	}
	return nil
}

// LinkInfo returns the port, PHY address, MDI-X state and transceiver of
// dev (ETHTOOL_MSG_LINKINFO_GET). An unknown device fails with an error
// matching ErrNoDevice and syscall.ENODEV.
//
// Equivalent to: `ethtool DEV` (Port, PHYAD, Transceiver, MDI-X).
func (c *Client) LinkInfo(ctx context.Context, dev Device) (*LinkInfo, error) {
	var li LinkInfo
	if err := c.get(ctx, "link info", CmdLinkInfoGet, CmdLinkInfoGetReply, dev, 0, &li); err != nil {
		return nil, err
	}
	return &li, nil
}

// LinkModes returns the autonegotiation, speed, duplex and link modes of
// dev and of its link partner (ETHTOOL_MSG_LINKMODES_GET), with the bits
// named. Errors are as for LinkInfo.
//
// Equivalent to: `ethtool DEV` (link modes, Speed, Duplex,
// Auto-negotiation).
func (c *Client) LinkModes(ctx context.Context, dev Device) (*LinkModes, error) {
	var lm LinkModes
	if err := c.get(ctx, "link modes", CmdLinkModesGet, CmdLinkModesGetReply, dev, c.flags(), &lm); err != nil {
		return nil, err
	}
	if lm.Ours != nil && lm.Ours.Compact || lm.Peer != nil && lm.Peer.Compact {
		names, err := c.StringSet(ctx, StringSetLinkModes)
		if err != nil {
			return nil, err
		}
		for _, b := range []*Bitset{lm.Ours, lm.Peer} {
			if b != nil {
				b.nameFrom(names)
			}
		}
	}
	return &lm, nil
}

// LinkState returns whether dev's link is up, and the extended state
// its driver reports (ETHTOOL_MSG_LINKSTATE_GET). Errors are as for
// LinkInfo.
//
// Equivalent to: `ethtool DEV` (Link detected).
func (c *Client) LinkState(ctx context.Context, dev Device) (*LinkState, error) {
	var ls LinkState
	if err := c.get(ctx, "link state", CmdLinkStateGet, CmdLinkStateGetReply, dev, 0, &ls); err != nil {
		return nil, err
	}
	return &ls, nil
}

// Features returns the netdev features of dev (ETHTOOL_MSG_FEATURES_GET)
// with Names filled in from the kernel's feature string set, so that
// List, Map and Groups show every feature. Errors are as for LinkInfo.
//
// Equivalent to: `ethtool -k DEV`.
func (c *Client) Features(ctx context.Context, dev Device) (*Features, error) {
	var f Features
	if err := c.get(ctx, "features", CmdFeaturesGet, CmdFeaturesGetReply, dev, c.flags(), &f); err != nil {
		return nil, err
	}
	names, err := c.StringSet(ctx, StringSetFeatures)
	if err != nil {
		return nil, err
	}
	f.Names = names
	for _, b := range []*Bitset{f.HW, f.Wanted, f.Active, f.NoChange} {
		if b != nil {
			b.nameFrom(names)
		}
	}
	return &f, nil
}

// StringSet returns a global string set of the kernel (ETHTOOL_MSG_STRSET_GET
// without a device): the names of the bits of feature or link mode bit
// sets, by index. The answer is cached for the life of the Client (the
// kernel's global sets do not change while it runs); the returned slice
// is the caller's.
//
// Equivalent to: the string set request `ethtool -k DEV` sends first.
func (c *Client) StringSet(ctx context.Context, id StringSetID) ([]string, error) {
	c.mu.Lock()
	cached, ok := c.strsets[id]
	c.mu.Unlock()
	if ok {
		return append([]string(nil), cached...), nil
	}
	// The header without a device asks for the kernel's global sets;
	// each set is named by its ID alone.
	var e netlink.AttributeEncoder
	Header{}.encode(&e)
	e.Nest(strsetStringsets)
	e.Nest(stringsetsSet)
	e.Uint32(stringsetID, uint32(id))
	e.End()
	e.End()
	data, err := e.Encode()
	if err != nil {
		return nil, fmt.Errorf("ethtool: string set %v: %w", id, err)
	}
	req := genl.Message{Header: genl.Header{Command: uint8(CmdStrsetGet), Version: FamilyVersion}, Data: data}
	replies, err := c.c.Execute(ctx, c.id, req, 0)
	if err != nil {
		return nil, fmt.Errorf("ethtool: string set %v: %w", id, err)
	}
	for _, m := range replies {
		if Command(m.Header.Command) != CmdStrsetGetReply {
			continue
		}
		var ss StringSets
		if err := ss.UnmarshalBinary(m.Data); err != nil {
			return nil, fmt.Errorf("ethtool: string set %v: %w", id, err)
		}
		for _, s := range ss.Sets {
			if s.ID == id && s.Strings != nil {
				c.mu.Lock()
				c.strsets[id] = s.Strings
				c.mu.Unlock()
				return append([]string(nil), s.Strings...), nil
			}
		}
	}
	return nil, fmt.Errorf("ethtool: string set %v: kernel sent no strings", id)
}
