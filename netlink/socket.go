package netlink

import "time"

// Socket is the transport under a Conn: one netlink socket. Dial opens a
// real one; the nltest package implements a fake kernel behind it. Conn
// holds all protocol logic (sequence and sender checks, acknowledgements,
// dumps, overruns), so a Conn over any Socket behaves the same.
//
// Implementations must make Close unblock a pending Receive with
// net.ErrClosed and make an expired read deadline fail Receive with an
// error for which os.IsTimeout is true (os.ErrDeadlineExceeded).
type Socket interface {
	// Send sends one datagram, holding one or more messages, to the
	// kernel (port 0).
	Send(b []byte) error
	// Receive reads one datagram into b. It returns the datagram's full
	// length n, which exceeds len(b) if the datagram did not fit (the
	// MSG_TRUNC semantics of recvmsg). With peek, the datagram stays
	// queued, so a caller can learn its size with an empty b and read it
	// after growing b. A receive buffer overrun is reported as
	// syscall.ENOBUFS.
	Receive(b []byte, peek bool) (n int, from Addr, err error)
	// PortID returns the port ID the socket is bound to.
	PortID() uint32
	// JoinGroup and LeaveGroup change multicast group membership
	// (NETLINK_ADD_MEMBERSHIP, NETLINK_DROP_MEMBERSHIP).
	JoinGroup(group uint32) error
	LeaveGroup(group uint32) error
	// SetOption and Option set and read an integer socket option at
	// level (SOL_NETLINK or SOL_SOCKET).
	SetOption(level, name, value int) error
	Option(level, name int) (int, error)
	// SetReadDeadline and SetWriteDeadline work as on net.Conn.
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
	// Close closes the socket and unblocks pending calls.
	Close() error
}

// Addr is the source address of a received datagram (struct sockaddr_nl),
// plus what control messages said about it.
type Addr struct {
	// Port is the sender's port ID; 0 is the kernel.
	Port uint32
	// Groups is the multicast group bit mask the datagram was sent to; 0
	// for a unicast.
	Groups uint32
	// NSID is the peer namespace ID the kernel reported with
	// NETLINK_LISTEN_ALL_NSID; valid when HasNSID is true.
	NSID    int32
	HasNSID bool
	// Creds are the sender's credentials from an SCM_CREDENTIALS control
	// message, which the kernel attaches to every datagram once
	// Config.PassCredentials is set; valid when HasCreds is true. The
	// kernel fills them in: a process can claim other credentials only
	// with CAP_SYS_ADMIN (pid) and CAP_SETUID/CAP_SETGID (uid, gid).
	Creds    Ucred
	HasCreds bool
}

// Ucred is a sender's credentials (struct ucred), as seen from the
// receiving socket's namespaces. The kernel's own messages carry PID 0 and
// the namespace's root UID and GID (0 in a namespace of the initial user
// namespace).
type Ucred struct {
	PID int32  // pid
	UID uint32 // uid
	GID uint32 // gid
}
