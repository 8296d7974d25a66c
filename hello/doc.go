// Package hello is the client of the nlhello kernel module (kmod/nlhello),
// the netlink classroom driver: a virtual interface whose transmitted
// packets are passed up to user space, and a small request/response
// service. The module offers the same service twice, and so does this
// package:
//
//   - on its own netlink protocol (31 unless loaded with protocol=N): Dial
//     returns a Client, Watch a Subscription to multicast group 1;
//   - as the generic netlink family "nlhello": DialGeneric returns a
//     GenericClient, WatchGeneric a Subscription to the group "packets".
//
// Both clients say hello ("Hello world" is answered "Thank you") and read
// the module's counters (Stats); a Subscription streams a Packet for every
// packet the interface sends:
//
//	c, err := hello.Dial(0, nil) // protocol 31
//	if errors.Is(err, hello.ErrNotLoaded) { ... } // "is nlhello.ko loaded?"
//	reply, err := c.Hello(ctx, "Hello world")    // "Thank you"
//	st, err := c.Stats(ctx)
//
//	sub, err := hello.Watch(0, nil) // subscribed when it returns
//	for p, err := range sub.Packets(ctx) {
//		if errors.Is(err, netlink.ErrOverrun) { continue } // packets were lost
//		...
//	}
//
// The wire types (Stats, Packet) have MarshalBinary and UnmarshalBinary
// for their attributes, usable without a socket; the constants carry the
// C names of nlhello.h in comments. The module's README describes every
// message byte by byte.
//
// # Checks
//
// Requests go through netlink.Conn.Execute: a reply counts only if it
// comes from the kernel (port 0) with the request's sequence number, so a
// reply spoofed by a local process or left over from an earlier request
// is skipped (and counted in Conn().Stats()). Kernel errors are
// *netlink.OpError values wrapping the errno with the module's
// extended-ack text ("hello: empty payload, ..."), so errors.Is(err,
// syscall.EINVAL) works.
//
// # Testing
//
// Package hellotest is the module as a fake kernel (raw endpoint and
// generic netlink family), so code built on this package can be unit
// tested without the module.
//
// # Privileges
//
// Hello and stats need no privilege. Subscribing to the packets needs
// CAP_NET_ADMIN (they carry packet contents); the kernel answers EPERM.
//
// # Namespaces
//
// The module serves the initial network namespace only. A raw socket in
// another namespace is created but its requests fail with ECONNREFUSED
// (reported as ErrNotLoaded with that explanation), and the family is not
// visible there (ENOENT).
//
// # Concurrency and lifetimes
//
// Clients and Subscriptions are safe for concurrent use; a client's
// requests are serialized on its socket, so use several clients for
// parallel requests. A Subscription has a socket of its own. Values
// returned (Stats, Packet) are the caller's and alias no buffer. A raw
// socket pins the module (rmmod fails with EAGAIN while one is open); a
// generic netlink socket does not, and a GenericClient resolves the family
// again if the module was reloaded under a new family ID.
package hello
