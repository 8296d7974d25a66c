// Package rtnl is rtnetlink (NETLINK_ROUTE): the kernel's interfaces,
// addresses, routes, neighbours and rules as typed Go objects, and a
// Client that lists, changes and watches them, as `ip` does.
//
// Each object type (Link, ...) has MarshalBinary and UnmarshalBinary for
// its message payload, usable without a socket; Client sends them. Each
// Client method's doc comment names the `ip` command it matches.
//
//	c, err := rtnl.Dial(nil) // or &netlink.Config{NetNS: "blue"}
//	defer c.Close()
//	for l, err := range c.Links(ctx) {
//		fmt.Println(l.Index, l.Name, l.Flags)
//	}
//
// # Privileges
//
// Listing needs no privilege; changes need CAP_NET_ADMIN in the namespace
// (the kernel answers EPERM otherwise).
//
// # Namespaces
//
// A Client works in the namespace its Conn was opened in; see
// netlink.Config.NetNS.
//
// # Concurrency and lifetimes
//
// A Client is safe for concurrent use; its requests are serialized on one
// Conn. Objects it returns are the caller's and alias no buffer.
package rtnl
