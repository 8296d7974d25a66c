// Package connector is the kernel connector (NETLINK_CONNECTOR): a
// netlink protocol that carries small messages between kernel services
// and user space, each framed by a struct cn_msg naming its service
// (CallbackID), and the process events connector on top of it, which
// reports every fork, exec, exit, credential change, session start,
// ptrace attach, name change and core dump on the machine.
//
//	sub, err := connector.SubscribeProc(ctx, nil, 0) // all event types
//	if err != nil { ... } // errors.Is(err, connector.ErrUnavailable), EPERM
//	defer sub.Close()
//	for ev, err := range sub.Events(ctx) {
//		if err != nil { ... }
//		if ev.Lost { ... } // overrun: events were dropped, the stream goes on
//		if ev.Exit != nil {
//			fmt.Println(ev.Exit.PID, "exited with", ev.Exit.Status(), ev.Exit.Signal())
//		}
//	}
//
// # Wire format
//
// Connector messages travel in netlink messages of type NLMSG_DONE
// (MessageType). Message is struct cn_msg (id, seq, ack, len, flags) and
// its payload. A process event is a struct proc_event (ProcEvent): its
// type, CPU, a monotonic timestamp, and one member of a union, decoded
// into the matching pointer field (Fork, Exec, Exit, ...). An exit's code
// is packed as wait(2) packs it; ExitEvent.Status, Signal and CoreDumped
// take it apart. Message and ProcEvent have MarshalBinary and
// UnmarshalBinary, usable without a socket.
//
// # Subscribing
//
// SubscribeProc joins multicast group CN_IDX_PROC (1), then sends
// PROC_CN_MCAST_LISTEN to the process connector (CN_IDX_PROC,
// CN_VAL_PROC) and waits for its acknowledgement (a PROC_EVENT_NONE
// event echoing the request's sequence), so the subscription is in force
// when it returns. On Linux 6.6 and later the kernel can filter events
// per socket (struct proc_input): pass a set of ProcEventType bits.
// Close sends PROC_CN_MCAST_IGNORE before closing: the kernel counts
// listeners and produces events only while there is one.
//
// # Privileges
//
// Before Linux 6.6, joining the group needs CAP_NET_ADMIN (EPERM
// otherwise). Since 6.6 the connector lets any user join the process
// events group (cn_bind), while its other groups still need
// CAP_NET_ADMIN; this package works either way. Events are about every
// process of the machine, reported with their IDs in the initial PID and
// user namespaces.
//
// # Namespaces
//
// The connector exists only in the initial network namespace: a socket
// opened elsewhere (netlink.Config.NetNS) cannot reach it (ECONNREFUSED,
// reported as ErrUnavailable). The process connector also ignores
// requests from processes outside the initial user and PID namespaces
// (SubscribeProc then times out with ErrUnavailable).
//
// # Concurrency and lifetimes
//
// A ProcSubscription has a socket of its own; Events is meant for one
// goroutine, and Close may be called from another to stop it. Events are
// values that alias no buffer. The stream keeps up with the machine only
// if it is read: a slow reader overruns its receive buffer
// (DefaultProcBuffer) and gets a Lost event.
package connector
