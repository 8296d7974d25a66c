// Package netlink is the netlink protocol: the wire format of messages
// and attributes, and Conn, a socket to any netlink protocol with the
// request, acknowledgement, dump and event logic on top.
//
// # Wire format
//
// A message is a Header (struct nlmsghdr: length, type, flags, sequence,
// port ID) and a payload, padded to 4 bytes. Payloads carry TLV attributes
// (struct nlattr), which nest. Message, Parser, AttributeEncoder and
// AttributeDecoder encode and decode them without I/O, on every operating
// system; decoding checks every length and cannot panic, and Parser and
// AttributeDecoder walk a buffer without copying or allocating.
//
// # Conn
//
// Dial opens socket(AF_NETLINK, SOCK_RAW, protocol) for any protocol
// number: Route, Generic, Audit, ... or a driver's own (17, 23-31).
//
//	c, err := netlink.Dial(netlink.Route, nil)
//	// Execute: a request, its replies, its acknowledgement.
//	replies, err := c.Execute(ctx, req)
//	// Dump: a multi-part answer, streamed; m aliases the buffer.
//	for m, err := range c.Dump(ctx, req) { ... }
//	// Events: join groups, then stream.
//	for m, err := range c.Messages(ctx) { ... }
//	// Protocols without netlink headers (NETLINK_KOBJECT_UEVENT):
//	b, from, err := c.ReceiveRaw(ctx)
//
// Every reply is checked: its sender must be the kernel (port 0) unless
// Config.AllowUserSenders is set, since any local process can send to a
// netlink socket; its sequence number and port must match the request, or
// it is skipped as a leftover (see Conn.Stats). With
// Config.PassCredentials each datagram also carries the sender's
// credentials, as the kernel saw them (Addr.Creds). A datagram larger
// than the receive buffer is never cut: Conn peeks at its size and grows
// the buffer.
//
// # Errors
//
// Operations return *OpError, which carries the kernel's errno (a bare
// syscall.Errno, so errors.Is(err, unix.ENOENT) works), the extended-ack
// text and attribute offset, and the sequence of the failing request. Two
// conditions have their own errors, both meaning "resynchronise by dumping
// again": ErrDumpInterrupted (NLM_F_DUMP_INTR: the table changed during a
// dump) and ErrOverrun (ENOBUFS: the receive buffer overflowed and events
// were lost). A closed Conn returns errors matching net.ErrClosed.
//
// # Privileges
//
// Reading most kernel state needs no privilege; changing it, joining some
// groups, SO_RCVBUFFORCE and opening a socket in another namespace need
// CAP_NET_ADMIN (or CAP_SYS_ADMIN for setns). Errors say EPERM.
//
// # Namespaces
//
// Config.NetNS (a name from `ip netns` or a path) and Config.NetNSFD open
// the socket inside another network namespace. The socket is created on a
// dedicated, locked OS thread that enters the namespace and returns to the
// original; if it cannot return, the thread stays locked and the Go
// runtime destroys it, so no goroutine ever runs in the wrong namespace.
// The socket keeps its namespace for life.
//
// # Concurrency and lifetimes
//
// A Conn is safe for concurrent use; reading operations hold it for their
// duration, so use separate Conns for events and requests. Messages from
// Execute and Receive own their memory; messages yielded by Dump and
// Messages alias the receive buffer until the loop continues. Deadlines
// (SetReadDeadline) and context cancellation interrupt blocked calls, and
// Close unblocks them with net.ErrClosed.
//
// # Debugging
//
// NLKIT_DEBUG=1 in the environment (or Config.Debug) prints every message
// sent and received, decoded, to standard error; NLKIT_DEBUG=2 adds hex
// dumps of payloads.
package netlink
