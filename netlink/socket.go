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
}
