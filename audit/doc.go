// Package audit speaks NETLINK_AUDIT, the protocol of the kernel's audit
// subsystem, as auditctl and auditd do: the audit status, rules, and the
// records of audited events.
//
//	c, err := audit.Dial(nil)
//	st, err := c.Status(ctx)                 // auditctl -s
//	err = c.SetEnabled(ctx, audit.Enabled)   // auditctl -e 1
//	r, err := audit.ParseRule(strings.Fields("-w /etc/passwd -p wa -k passwd"))
//	err = c.AddRule(ctx, r)                  // auditctl -w /etc/passwd -p wa -k passwd
//	rules, err := c.Rules(ctx)               // auditctl -l (Rule.String prints that syntax)
//
//	l, err := audit.Register(ctx, nil)       // become the audit daemon
//	defer l.Close()                          // unregisters
//	for ev, err := range l.Events(ctx) {     // SYSCALL, CWD, PATH, PROCTITLE, EOE of one serial
//		if errors.Is(err, netlink.ErrOverrun) { continue } // records were lost
//		...
//	}
//
// # Wire format
//
// Commands are netlink messages with fixed C structures, not attributes:
// struct audit_status (Status) for AUDIT_GET and AUDIT_SET, struct
// audit_rule_data (Rule) for AUDIT_ADD_RULE, AUDIT_DEL_RULE and
// AUDIT_LIST_RULES. Both have MarshalBinary and UnmarshalBinary, usable
// without a socket; decoding checks every count and length. The kernel
// answers AUDIT_GET and AUDIT_LIST_RULES from a kernel thread after
// acknowledging the request, so Client sends them without NLM_F_ACK and
// matches the replies by sequence number.
//
// Records are text: "audit(1700000000.123:456): key=value ...", one per
// message, the message type saying what it is (AUDIT_SYSCALL 1300,
// AUDIT_PATH 1302, ...). ParseRecord decodes them, hex-encoded values
// included (a proctitle with spaces, a path with a quote). The records
// the kernel unicasts to the audit daemon carry a wrong nlmsg_len (the
// payload's length without the header, kept for auditd's sake), so they
// are read as raw datagrams (ParseDatagram). Records with one serial are
// one event; Assembler documents the grouping rule.
//
// # Privileges
//
// Every command, reading the status included, needs CAP_AUDIT_CONTROL
// (EPERM without); registering as the daemon too. Joining the read-log
// group needs CAP_AUDIT_READ. The errors say so.
//
// # Namespaces
//
// The kernel serves audit commands from the initial user namespace only
// (ECONNREFUSED elsewhere) and from the initial PID namespace (EPERM
// elsewhere). The audit configuration is global: rules, the enabled
// state and the daemon registration are not per network namespace,
// although each network namespace has its own audit socket.
//
// # Concurrency and lifetimes
//
// A Client is safe for concurrent use; its requests are serialized. A
// Listener reads on a socket of its own; Close may be called while a
// Records or Events loop runs, which then ends with an error matching
// net.ErrClosed. The kernel allows one registered daemon: a second
// Register fails with ErrDaemonRegistered while the first is alive, and
// a daemon that exits without Close is dropped by the kernel at its next
// record. Values returned (Status, Rule, Record, Event) are the caller's
// and alias no buffer.
//
// # Testing
//
// Package audittest is a fake audit subsystem (status, rules, a daemon
// and the records sent to it) for unit tests of code built on this
// package, without privileges or a kernel that audits.
package audit
