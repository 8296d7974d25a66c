// Package netfilter is the netfilter netlink layer (NETLINK_NETFILTER,
// "nfnetlink"): the transport shared by conntrack, nfqueue, nflog,
// nftables, ipset and the other netfilter subsystems.
//
// Every netfilter message is a netlink message whose type is
// subsystem<<8 | message (NFNL_SUBSYS_ID, NFNL_MSG_TYPE), whose payload
// starts with a 4-byte Header (struct nfgenmsg: family, version,
// big-endian resource ID) and goes on with attributes in network byte
// order. A Conn adds and strips the header; NewAttributeEncoder and
// NewAttributeDecoder are netlink's attribute codecs set to big-endian.
//
// # Building a subsystem client
//
// A subsystem package (conntrack, nfqueue, nflog) defines its message
// numbers and attributes and sends them through a Conn:
//
//	c, err := netfilter.Dial(nil) // or &netlink.Config{NetNS: "blue"}
//	if err != nil { ... }
//	defer c.Close()
//
//	// A request: NFQNL_MSG_CONFIG for queue 0, with NFQA_CFG_CMD nested
//	// values encoded big-endian.
//	e := netfilter.NewAttributeEncoder()
//	e.Raw(1, []byte{1, 0, 0, 2}) // NFQA_CFG_CMD: NFQNL_CFG_CMD_BIND, pf 2
//	attrs, err := e.Encode()
//	_, err = c.Execute(ctx, netfilter.Message{
//		Type:   netfilter.NewMessageType(netfilter.SubsysQueue, 2), // NFQNL_MSG_CONFIG
//		Header: netfilter.Header{Family: netfilter.FamilyUnspec, Version: netfilter.Version0, ResourceID: 0},
//		Data:   attrs,
//	}, 0)
//
//	// A dump: every message aliases the receive buffer until the loop
//	// continues.
//	for m, err := range c.Dump(ctx, netfilter.Message{
//		Type:   netfilter.NewMessageType(netfilter.SubsysCTNetlink, 1), // IPCTNL_MSG_CT_GET
//		Header: netfilter.Header{Family: netfilter.FamilyIPv4},
//	}) {
//		if err != nil { ... }
//		d := netfilter.NewAttributeDecoder(m.Data)
//		for d.Next() { ... }
//		if err := d.Err(); err != nil { ... }
//	}
//
//	// Events, or packets sent to a bound queue/log socket: on a Conn of
//	// their own, with a large receive buffer.
//	ev, err := netfilter.Dial(&netlink.Config{ReceiveBuffer: 8 << 20, ForceReceiveBuffer: true})
//	err = ev.JoinGroup(netfilter.GroupConntrackNew)
//	for m, err := range ev.Messages(ctx) {
//		if errors.Is(err, netlink.ErrOverrun) { continue } // lost some: resync
//		if err != nil { ... }
//		switch m.Type.Subsystem() { ... } // m.Type.Message() is the event
//	}
//
// Kernel errors come back unchanged as *netlink.OpError wrapping the
// errno, with the extended-ack text, so errors.Is(err, syscall.ENOENT)
// works and the message says what the kernel disliked.
//
// # Testing
//
// A Conn runs on nltest's fake kernel unchanged: NewConn(ep.Dial(nil))
// with an nltest.Endpoint for netlink.Netfilter whose input callback
// decodes requests with ParseMessage.
//
// # Privileges
//
// Most netfilter requests, dumps included, need CAP_NET_ADMIN in the user
// namespace owning the socket's network namespace (EPERM otherwise), and
// so do the conntrack groups.
//
// # Namespaces
//
// Every subsystem is per network namespace: a socket opened with
// netlink.Config.NetNS sees and changes that namespace's tables, and
// receives its events and packets only.
//
// # Concurrency and lifetimes
//
// A Conn is safe for concurrent use; requests are serialized on its
// netlink Conn, so use a separate Conn for events or queued packets.
// A socket bound to a queue or log group receives unicast packets that a
// concurrent Execute on the same Conn would skip as stale replies: send
// verdicts and configuration on such a socket with Send, or read and
// request from different goroutines only through Messages and Send.
// Messages returned by Execute and Receive are the caller's; messages
// yielded by Dump and Messages alias the receive buffer until the loop
// continues.
package netfilter
