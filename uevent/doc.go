// Package uevent receives kernel uevents, what udev listens to: a message
// for every device that is added, removed, changed, moved, brought online
// or offline, bound to a driver or unbound, on netlink protocol
// NETLINK_KOBJECT_UEVENT (15).
//
//	sub, err := uevent.Subscribe(nil, &uevent.Options{
//		Filter: uevent.Filter{Subsystems: []string{"net"}},
//	})
//	defer sub.Close()
//	for ev, err := range sub.Events(ctx) {
//		if errors.Is(err, netlink.ErrOverrun) { continue } // events were lost
//		if err != nil { ... }
//		fmt.Println(ev.Action, ev.DevPath, ev.Property("INTERFACE"))
//	}
//
// # Wire forms
//
// The protocol does not use netlink headers. The kernel multicasts to
// GroupKernel (1) a datagram "ACTION@DEVPATH\0" followed by NUL-terminated
// KEY=VALUE properties (ACTION, DEVPATH, SUBSYSTEM, the device's own,
// SEQNUM last). udevd, after running its rules on an event, multicasts it
// again to GroupUdev (2) with the properties the rules added, behind a
// 40-byte libudev header (struct monitor_netlink_header in systemd): the
// prefix "libudev\0", the magic 0xfeedcafe (big-endian), the header size
// and the offset and length of the properties (host byte order), and
// MurmurHash2 hashes of SUBSYSTEM and DEVTYPE and a bloom filter of the
// tags (big-endian) for socket filters. Event.UnmarshalBinary decodes
// both forms and sets Event.Source to Kernel or Udev; MarshalBinary
// encodes either, with the hashes udevd computes.
//
// # Sender checks
//
// Any process may unicast to a netlink socket, and a process with
// CAP_NET_ADMIN may multicast to both groups, so a forged "add" event is
// easy to send; udev believed one in 2009 and gave root away
// (CVE-2009-1185). A Subscription therefore turns on SO_PASSCRED and
// checks every datagram with CheckSender before decoding it; by default it
// accepts exactly:
//
//   - on GroupKernel: datagrams from port 0 (the kernel itself; no user
//     socket can have port 0) whose credentials say uid 0 and that do not
//     carry a libudev header;
//   - on GroupUdev: datagrams whose credentials say uid 0 (the kernel
//     fills them in; claiming uid 0 takes root or CAP_SETUID) and that
//     start with the "libudev\0" prefix and the magic 0xfeedcafe. The
//     sender is a udevd worker's user port, so the port is not checked.
//
// Everything else is rejected: other ports, other uids, missing
// credentials, unicasts. Rejected datagrams are not decoded; they are
// counted in Stats.Rejected and passed to Options.OnReject, and are never
// returned as errors, so a local process cannot end a consumer's loop by
// sending junk. Options.SkipSenderChecks turns the checks off, for tests
// that inject synthetic events.
//
// What the checks cannot tell apart, udev cannot either: since Linux 4.18
// a process with CAP_SYS_ADMIN over the namespace's user namespace may
// hand a uevent to the kernel (a netlink request to port 0), which
// broadcasts it on GroupKernel as its own, from port 0 with the sender's
// uid and a kernel SEQNUM. That is by design (for container managers and
// fuzzing), and it takes more privilege than a forgery would gain. Writing
// to a device's uevent file in /sys (`udevadm trigger`) likewise makes the
// kernel itself send an event.
//
// # Filters
//
// The kernel cannot filter uevents: every listener receives every event
// of its namespace. Options.Filter selects events by subsystem, devtype
// and property (a glob, as in udev rules) after decoding; the rest are
// counted in Stats.Filtered. No socket (BPF) filter is attached.
//
// # Privileges
//
// Listening to either group needs no privilege. Multicasting to them
// needs CAP_NET_ADMIN in the namespace, which is why forgeries come from
// privileged processes or from unicasts.
//
// # Namespaces
//
// A socket sees the uevents of its network namespace (netlink.Config
// NetNS or NetNSFD): events of network devices, and of their queues, are
// sent only into the namespace that owns the device, so a veth created in
// one namespace is invisible from another. Events of devices outside any
// network namespace (disks, USB, input) are sent into every network
// namespace owned by the initial user namespace, and into none owned by
// another. udevd's rebroadcasts reach only the namespace udevd runs in.
// In a namespace owned by another user namespace the kernel's messages
// carry that user namespace's root as their uid, which a process outside
// it sees as another uid: they fail the checks.
//
// # Concurrency and lifetimes
//
// A Subscription has a socket of its own; Stats, Close and Conn are safe
// for concurrent use, and Next and Events are meant for one reading
// goroutine (concurrent calls wait for each other). Each Event is the
// caller's and aliases no buffer. The kernel drops events when the receive
// buffer is full (DefaultReceiveBuffer by default): Next then fails with
// netlink.ErrOverrun and the subscription goes on; whatever state was
// mirrored from events must be read again from /sys.
package uevent
