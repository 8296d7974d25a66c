// Package nflog is the client of nfnetlink_log (NFNL_SUBSYS_ULOG): the
// packets that log rules copy to a log group (nft `log group 5 prefix
// "x"`, iptables `-j NFLOG --nflog-group 5`), with their metadata.
//
//	g, err := nflog.Open(ctx, 5, nflog.Config{}, nil)
//	if err != nil { ... }
//	defer g.Close()
//	for p, err := range g.Packets(ctx) {
//		if errors.Is(err, netlink.ErrOverrun) { continue } // entries lost
//		if err != nil { ... }
//		fmt.Println(p.Prefix, p.Hook, p.InDev, len(p.Payload))
//	}
//
// Open binds the group (NFULNL_MSG_CONFIG with NFULNL_CFG_CMD_BIND) and
// sets the copy mode and range, the batching threshold and timeout, and
// the flags in the same message. A Packet has the prefix (NFULA_PREFIX),
// hardware protocol, hook, mark, timestamp, interfaces, hardware address
// and header, UID/GID, sequence numbers, conntrack state and payload.
//
// Logging copies packets; it never holds them. A reader that falls behind
// loses log entries (an overrun, netlink.ErrOverrun on the stream; with
// the Seq flag, gaps in Packet.Seq count them), never traffic. The kernel
// batches entries per group (QThreshold, Timeout); the default here is
// one entry per message, as a live watch wants.
//
// # Privileges
//
// Binding needs CAP_NET_ADMIN in the user namespace owning the network
// namespace (EPERM). One socket per group and namespace (EBUSY or EPERM
// for a second).
//
// # Namespaces
//
// Groups are per network namespace; open the socket where the log rules
// are (netlink.Config.NetNS).
//
// # Concurrency and lifetimes
//
// One Packets loop per Group; Packets own their memory. Close unbinds the
// group and ends the loop with net.ErrClosed.
package nflog
