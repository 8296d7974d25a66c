// Package nfqueue is the client of nfnetlink_queue (NFNL_SUBSYS_QUEUE):
// packets that an NFQUEUE rule (iptables -j NFQUEUE, nft queue) diverts
// to user space, and the verdicts that release them.
//
//	q, err := nfqueue.Open(ctx, 3, nfqueue.Config{Flags: nfqueue.FailOpen}, nil)
//	if err != nil { ... }
//	defer q.Close()
//	for p, err := range q.Packets(ctx) {
//		var lost *nfqueue.LostError
//		if errors.As(err, &lost) { continue } // counted in q.Stats().Lost
//		if err != nil { ... }
//		v := nfqueue.Accept
//		if bad(p.Payload) { v = nfqueue.Drop }
//		if err := q.SetVerdict(p.ID, v); err != nil { ... }
//	}
//
// Open binds a queue (NFQNL_MSG_CONFIG, NFQNL_CFG_CMD_BIND) and sets, in
// the same message, the copy mode and range (NFQA_CFG_PARAMS), the queue
// length (NFQA_CFG_QUEUE_MAXLEN) and the flags (NFQA_CFG_FLAGS and
// NFQA_CFG_MASK: FailOpen, Conntrack, GSO, UIDGID, SecCtx). OpenRange
// binds a range of queues, one socket each, for fan-out over CPUs. A
// Packet carries the packet ID, hook, hardware protocol, mark, interface
// indexes, timestamp, UID/GID, conntrack state (NFQA_CT_INFO) and payload.
// Verdicts: SetVerdict (Accept, Drop, Repeat, QueueTo another queue),
// SetVerdictWith (a new mark, a rewritten payload) and SetVerdictBatch
// (NFQNL_MSG_VERDICT_BATCH: every waiting packet up to an ID).
//
// # When the consumer is slow
//
// Every packet waits in the kernel until it gets a verdict, so a slow or
// stuck consumer holds traffic. Two limits bound what waits:
//
//   - The queue: at most Config.MaxLen packets (default 1024) wait for a
//     verdict. When it is full the kernel drops each new packet and counts
//     it in queue_dropped, or, with FailOpen, accepts it uninspected and
//     counts it nowhere.
//   - The socket: each queued packet is sent to the bound socket; if its
//     receive buffer is full (a socket overrun), the packet cannot be
//     delivered, is dropped (user_dropped) or, with FailOpen, accepted,
//     and its packet ID is used up. The Queue sees the gap in IDs and
//     yields a *LostError (Stats.Lost counts them): with FailOpen this is
//     the only count of those packets anywhere.
//
// Open therefore asks for a large receive buffer (DefaultReceiveBuffer,
// more than a full default queue of full-size packets, with
// SO_RCVBUFFORCE) so that the queue, whose behaviour is configured, fills
// before the socket does, and sets NETLINK_NO_ENOBUFS as libnetfilter_queue
// users do: without it, an overrun also makes the next read fail with
// ENOBUFS, which says nothing the ID gap does not, and the packets are gone
// either way. ReadKernelStats and Queue.KernelStats read the kernel's
// counters (/proc/net/netfilter/nfnetlink_queue: waiting, queue_dropped,
// user_dropped, id_sequence).
//
// If the consumer dies, the kernel destroys its queues: packets waiting
// for a verdict are dropped, and new packets are dropped too unless the
// rule has the bypass flag (iptables --queue-bypass, nft queue ... bypass),
// with which they are accepted. FailOpen plus bypass is fail-open in
// every case.
//
// # Privileges
//
// Binding a queue and giving verdicts need CAP_NET_ADMIN in the user
// namespace owning the network namespace (EPERM otherwise; EPERM also
// means another socket is bound to the queue, and the error says which).
// Reading /proc/net/netfilter/nfnetlink_queue needs root.
//
// # Namespaces
//
// Queues are per network namespace: open the socket where the rules are
// (netlink.Config.NetNS). Kernel counters are read in the namespace given.
//
// # Concurrency and lifetimes
//
// One Packets loop per Queue; the Set methods may be called from any
// goroutine, during the loop, and do not wait for an answer (a refused
// verdict comes back on the Packets stream as a *netlink.OpError, ENOENT).
// Packets own their memory. Close ends the loop with net.ErrClosed.
//
// # Kernel features
//
// Conntrack metadata (the Conntrack flag, NFQA_CT, NFQA_CT_INFO) needs
// CONFIG_NETFILTER_NETLINK_GLUE_CT; without it binding with Conntrack
// fails with EOPNOTSUPP and an error naming the option. nft's queue
// statement needs CONFIG_NFT_QUEUE; iptables' NFQUEUE target needs
// CONFIG_NETFILTER_XT_TARGET_NFQUEUE.
package nfqueue
