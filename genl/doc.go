// Package genl is generic netlink (NETLINK_GENERIC): the multiplexer that
// carries ethtool, nl80211, taskstats, wireguard, devlink and drivers' own
// families over one netlink protocol, and its controller ("nlctrl"),
// which names the families and their multicast groups.
//
// Every generic netlink message is a netlink message whose type is the
// family's ID, with a 4-byte genl Header (command, version) before the
// family's attributes. Family IDs and multicast group IDs are assigned
// when a family registers, so they are resolved by name first; a Conn
// caches what it resolved.
//
// # Building a family client
//
// A family client (ethtool, taskstats, a driver's own family) resolves
// its family once and sends commands with Execute and Dump, encoding and
// decoding attributes with netlink.AttributeEncoder and
// netlink.AttributeDecoder:
//
//	c, err := genl.Dial(nil)
//	if err != nil { ... }
//	defer c.Close()
//	f, err := c.Family(ctx, "nlhello") // errors.Is(err, genl.ErrFamilyNotFound)
//	if err != nil { ... }
//	var e netlink.AttributeEncoder
//	e.String(1, "Hello world") // NLHELLO_A_TEXT
//	attrs, err := e.Encode()
//	replies, err := c.Execute(ctx, f.ID, genl.Message{
//		Header: genl.Header{Command: 1, Version: f.Version}, // NLHELLO_CMD_HELLO
//		Data:   attrs,
//	}, 0)
//	for _, r := range replies {
//		d := netlink.NewAttributeDecoder(r.Data)
//		for d.Next() { ... }
//	}
//
//	// Events: join a group by name on a Conn of its own, then read.
//	ev, err := genl.Dial(nil)
//	_, err = ev.JoinGroup(ctx, "nlhello", "packets")
//	for m, err := range ev.Messages(ctx) {
//		// m.Netlink.Type is the family ID, m.Header.Command the event.
//	}
//
// Kernel errors come back unchanged as *netlink.OpError wrapping the
// errno, with the extended-ack text, so errors.Is(err, unix.EINVAL)
// works and the message says what the kernel disliked.
//
// # Testing
//
// Package genltest is a fake generic netlink kernel (controller included)
// on which a family client runs unchanged in unit tests.
//
// # Privileges
//
// Listing families needs no privilege. Commands flagged OpAdminPerm or
// OpUnsAdminPerm, and some multicast groups, need CAP_NET_ADMIN; the
// kernel answers EPERM otherwise.
//
// # Namespaces
//
// Families are registered for the whole kernel, but a family that is not
// namespace-aware (netnsok) is visible only in the initial network
// namespace; see netlink.Config.NetNS.
//
// # Concurrency and lifetimes
//
// A Conn is safe for concurrent use; requests are serialized on its
// netlink Conn, so use a separate Conn for events. Families and messages
// returned by Execute and Receive are the caller's; messages yielded by
// Dump and Messages alias the receive buffer until the loop continues.
// A cached family goes stale if its module is unloaded and loaded again
// (requests then fail with ENOENT): call ForgetFamily and resolve again.
package genl
