// Package sockdiag is socket diagnostics (NETLINK_SOCK_DIAG): the
// kernel's list of TCP, UDP and UNIX domain sockets with their states,
// addresses, queues, owners and TCP internals, as ss shows them, and the
// means to close a socket from outside (ss -K).
//
//	c, err := sockdiag.Dial(nil) // or &netlink.Config{NetNS: "blue"}
//	defer c.Close()
//	for s, err := range c.InetSockets(ctx, sockdiag.InetRequest{
//		Family:     sockdiag.FamilyIPv4,
//		Protocol:   sockdiag.ProtocolTCP,
//		States:     sockdiag.States(sockdiag.StateListen),
//		Extensions: sockdiag.ExtInfo,
//	}) {
//		if err != nil { ... }
//		fmt.Println(s.State, s.ID.Local, s.ID.Remote, s.RecvQueue, s.SendQueue)
//	}
//
// An inet dump (SOCK_DIAG_BY_FAMILY with struct inet_diag_req_v2) covers
// one family and one protocol; the kernel filters by state with the
// request's bit mask, and sends optional attributes (TCPInfo, MemInfo,
// SKMemInfo, congestion control, TOS) when asked. UNIX sockets are dumped
// with struct unix_diag_req. Each socket is decoded into an InetSocket or
// UnixSocket, with netip.AddrPort addresses, typed states whose String is
// ss's column text, and TCPInfo times as time.Duration. Both types have
// MarshalBinary and UnmarshalBinary for their message payloads, usable
// without a socket; TCPInfo is decoded field by field by offset, so a
// shorter (older) or longer (newer) struct tcp_info decodes safely.
//
// Kernel-side filtering is by family, protocol and state only; the
// bytecode filters of ss's expressions (INET_DIAG_REQ_BYTECODE) are not
// implemented, so callers filter addresses and ports themselves. MPTCP
// sockets are listed like TCP ones (without their mptcp_info); raw,
// SCTP, DCCP, packet and netlink sockets are not decoded.
//
// # Errors
//
// A protocol whose diag handler the kernel lacks gives an error matching
// ErrNotSupported that names the kernel option (CONFIG_INET_UDP_DIAG,
// ...). Destroy on a kernel built without CONFIG_INET_DIAG_DESTROY (or
// for a protocol that cannot be destroyed) gives ErrNotSupported as
// well; on a socket that no longer exists, ErrNoSocket. Kernel errors
// keep their errno: errors.Is(err, syscall.EPERM) works.
//
// # Privileges
//
// Listing sockets needs no privilege: every user sees every socket of
// the namespace (with the owner's UID). Destroy needs CAP_NET_ADMIN in
// the socket's network namespace (EPERM otherwise), checked when the
// request is sent. INET_DIAG_MARK is sent only to CAP_NET_ADMIN.
//
// # Namespaces
//
// A Client sees the sockets of the network namespace its Conn was opened
// in: set netlink.Config.NetNS to look into another one, as `ss -N NAME`
// or `ip netns exec NAME ss` does. UNIX sockets belong to the namespace
// of the process that created them.
//
// # Concurrency and lifetimes
//
// A Client is safe for concurrent use; its requests are serialized on
// one Conn, so a dump holds it until the loop ends (break out early if
// need be: the Conn discards the rest). Sockets it returns are the
// caller's and alias no buffer. A dump is not a snapshot: sockets opened
// or closed meanwhile may or may not appear.
package sockdiag
