// Package conntrack reads and changes the kernel's connection tracking
// table through ctnetlink (the netfilter subsystem NFNL_SUBSYS_CTNETLINK),
// and streams its events: what the conntrack tool does, as a library.
//
// The layers follow the protocol: package netlink carries the messages,
// package netfilter adds the nfgenmsg header and big-endian attributes,
// and this package encodes flows (Flow, Tuple) as ctnetlink attributes.
// Every decoding error says what was being decoded ("conntrack: decode
// flow: type 1: original tuple: addresses: ...").
//
//	c, err := conntrack.Dial(nil) // &netlink.Config{NetNS: "blue"} for another namespace
//	if err != nil { ... }
//	defer c.Close()
//
//	// conntrack -L -m 5: the kernel filters on mark, zone and status.
//	mark := uint32(5)
//	flows, err := c.List(ctx, &conntrack.Filter{Family: netfilter.FamilyIPv4, Mark: &mark})
//
//	// conntrack -I -p udp -s 10.0.0.1 -d 10.0.0.2 --sport 1000 --dport 53 -t 30
//	err = c.Create(ctx, &conntrack.Flow{
//		Original: conntrack.Tuple{
//			Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"),
//			Proto: conntrack.ProtoUDP, SrcPort: 1000, DstPort: 53,
//		},
//		Timeout: 30 * time.Second, // the reply tuple defaults to the reverse
//	})
//	// errors.Is(err, syscall.EEXIST) if it exists
//
//	// conntrack -E
//	sub, err := conntrack.Subscribe(nil)
//	for ev, err := range sub.Events(ctx) {
//		if ev.Type == conntrack.EventLost { ... } // list again
//		fmt.Println(ev.Type, ev.Flow.Original.Src)
//	}
//
// Kernel errors come back as *netlink.OpError wrapping the errno, with
// the extended-ack text: errors.Is(err, syscall.ENOENT) for a flow that
// does not exist. Requests missing what the kernel needs (an address, the
// protocol, a timeout for Create) are refused before anything is sent,
// with errors matching ErrIncomplete.
//
// # Privileges
//
// Listing, changing and subscribing all need CAP_NET_ADMIN in the user
// namespace owning the network namespace (EPERM otherwise).
//
// # Namespaces
//
// The conntrack table is per network namespace; a Client sees the table
// of the namespace its socket was opened in (netlink.Config.NetNS).
// Entries appear once the namespace tracks connections: when a rule that
// uses conntrack is loaded there (an nftables "ct state" match, say), or
// when they are created with Create. Accounting (packet and byte
// counters) and timestamps follow the namespace's sysctls
// net.netfilter.nf_conntrack_acct and nf_conntrack_timestamp.
//
// # Concurrency and lifetimes
//
// A Client is safe for concurrent use; its requests are serialized on one
// socket. A Subscription has a socket of its own. Flows returned or
// yielded are the caller's and alias no buffer.
package conntrack
