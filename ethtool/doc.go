// Package ethtool queries network devices through the generic netlink
// family "ethtool" (linux/ethtool_netlink.h), the netlink interface of
// the ethtool tool: link information, link modes (speed, duplex,
// autonegotiation), link state and netdev features (offloads).
//
//	c, err := ethtool.Dial(ctx, nil) // &netlink.Config{NetNS: "blue"} for another namespace
//	if err != nil { ... }
//	defer c.Close()
//	dev := ethtool.Device{Name: "eth0"}
//	lm, err := c.LinkModes(ctx, dev) // errors.Is(err, ethtool.ErrNoDevice)
//	fmt.Println(lm.Speed, lm.Duplex, lm.Autoneg, lm.Advertised())
//	ls, err := c.LinkState(ctx, dev)
//	f, err := c.Features(ctx, dev)
//	fmt.Println(f.Map()["rx-checksum"].Active)
//
// Replies are typed (LinkInfo, LinkModes, LinkState, Features) with
// MarshalBinary and UnmarshalBinary for their attributes, usable without
// a socket; the constants carry the C names in comments.
//
// # Bit sets
//
// Link modes and features come as bit sets (Bitset), which the kernel
// sends in one of two forms: compact (bitmaps, with
// ETHTOOL_FLAG_COMPACT_BITSETS) or verbose (each bit with its index and
// name). Both decode to the same Bits. A Client asks for compact sets,
// as ethtool does, and names their bits from the kernel's string sets
// (StringSet: ETH_SS_FEATURES, ETH_SS_LINK_MODES), fetched once per
// Client; SetCompact(false) asks for verbose ones instead.
//
// Features.Groups returns the features as `ethtool -k` lists them: its
// legacy flags ("tx-checksumming", "generic-segmentation-offload", ...)
// with the kernel features each stands for, then the other features.
//
// # Privileges
//
// The get requests used here need no privilege. (ethtool's set requests
// and a few gets, such as private flags, need CAP_NET_ADMIN in the
// device's network namespace; this package sends none of them.)
//
// # Namespaces
//
// The family is registered in every network namespace; devices are
// looked up in the namespace of the socket (netlink.Config.NetNS). A
// device that is not there fails with ErrNoDevice (ENODEV), with the
// kernel's extended-ack text.
//
// # Concurrency and lifetimes
//
// A Client is safe for concurrent use; requests are serialized on its
// socket. Returned values are the caller's and alias no buffer.
//
// # Not covered
//
// Set requests, notifications on the "monitor" group, and the many other
// get requests of the family (rings, channels, coalescing, pause, EEE,
// statistics, module EEPROM, ...).
package ethtool
