package netlink

import (
	"encoding/binary"
	"fmt"
)

// Protocol numbers (the third argument of socket(AF_NETLINK, SOCK_RAW, ...)).
// A driver's own endpoint uses a free number such as 17 or 23-31.
const (
	Route         = 0  // NETLINK_ROUTE: rtnetlink
	SockDiag      = 4  // NETLINK_SOCK_DIAG
	NFLog         = 5  // NETLINK_NFLOG (obsolete ULOG)
	XFRM          = 6  // NETLINK_XFRM
	SELinux       = 7  // NETLINK_SELINUX
	ISCSI         = 8  // NETLINK_ISCSI
	Audit         = 9  // NETLINK_AUDIT
	FIBLookup     = 10 // NETLINK_FIB_LOOKUP
	Connector     = 11 // NETLINK_CONNECTOR
	Netfilter     = 12 // NETLINK_NETFILTER
	IP6FW         = 13 // NETLINK_IP6_FW
	DNRTMsg       = 14 // NETLINK_DNRTMSG
	KObjectUevent = 15 // NETLINK_KOBJECT_UEVENT
	Generic       = 16 // NETLINK_GENERIC
	SCSITransport = 18 // NETLINK_SCSITRANSPORT
	ECryptFS      = 19 // NETLINK_ECRYPTFS
	RDMA          = 20 // NETLINK_RDMA
	Crypto        = 21 // NETLINK_CRYPTO
	SMC           = 22 // NETLINK_SMC
	MaxProtocol   = 31 // MAX_LINKS - 1: the highest protocol number
)

// Option is a boolean netlink socket option (level SOL_NETLINK).
type Option int

// Socket options.
const (
	PacketInfo     Option = 3  // NETLINK_PKTINFO: report the destination group
	BroadcastError Option = 4  // NETLINK_BROADCAST_ERROR: report multicast delivery failures to the sender
	NoENOBUFS      Option = 5  // NETLINK_NO_ENOBUFS: never report overruns (events are still lost)
	ListenAllNSID  Option = 8  // NETLINK_LISTEN_ALL_NSID: receive events of all peer namespaces with their nsid
	CapAck         Option = 10 // NETLINK_CAP_ACK: error messages echo only the request header
	ExtendedAck    Option = 11 // NETLINK_EXT_ACK: errors carry text and an attribute offset
	GetStrictCheck Option = 12 // NETLINK_GET_STRICT_CHK: strict checking of get/dump requests
)

var optionNames = map[Option]string{
	PacketInfo: "pktinfo", BroadcastError: "broadcast-error", NoENOBUFS: "no-enobufs",
	ListenAllNSID: "listen-all-nsid", CapAck: "cap-ack", ExtendedAck: "ext-ack",
	GetStrictCheck: "strict-check",
}

// String returns the option's name.
func (o Option) String() string {
	if s, ok := optionNames[o]; ok {
		return s
	}
	return fmt.Sprintf("option(%d)", int(o))
}

const (
	solNetlink    = 270 // SOL_NETLINK
	solSocket     = 1   // SOL_SOCKET
	soRcvbuf      = 8   // SO_RCVBUF
	soRcvbufForce = 33  // SO_RCVBUFFORCE
	soPasscred    = 16  // SO_PASSCRED
)

// SetOption turns a socket option on or off.
func (c *Conn) SetOption(o Option, on bool) error {
	if err := c.closedErr("set option " + o.String()); err != nil {
		return err
	}
	v := 0
	if on {
		v = 1
	}
	if err := c.sock.SetOption(solNetlink, int(o), v); err != nil {
		return &OpError{Op: "set option " + o.String(), Err: err, Offset: -1}
	}
	return nil
}

// GetOption reports whether a socket option is on.
func (c *Conn) GetOption(o Option) (bool, error) {
	if err := c.closedErr("get option " + o.String()); err != nil {
		return false, err
	}
	v, err := c.sock.Option(solNetlink, int(o))
	if err != nil {
		return false, &OpError{Op: "get option " + o.String(), Err: err, Offset: -1}
	}
	return v != 0, nil
}

// SetReceiveBuffer sets the socket's receive buffer to n bytes
// (SO_RCVBUF; the kernel doubles it for bookkeeping and caps it at
// net.core.rmem_max). With force it uses SO_RCVBUFFORCE, which ignores
// the cap but needs CAP_NET_ADMIN; it returns EPERM without it.
// A larger buffer absorbs bursts of events without overruns.
func (c *Conn) SetReceiveBuffer(n int, force bool) error {
	opt, name := soRcvbuf, "SO_RCVBUF"
	if force {
		opt, name = soRcvbufForce, "SO_RCVBUFFORCE"
	}
	if err := c.closedErr("set " + name); err != nil {
		return err
	}
	if err := c.sock.SetOption(solSocket, opt, n); err != nil {
		return &OpError{Op: "set " + name, Err: err, Offset: -1}
	}
	return nil
}

// ReceiveBuffer returns the receive buffer size the kernel granted, as
// getsockopt(SO_RCVBUF) reports it (twice the requested size).
func (c *Conn) ReceiveBuffer() (int, error) {
	if err := c.closedErr("get SO_RCVBUF"); err != nil {
		return 0, err
	}
	v, err := c.sock.Option(solSocket, soRcvbuf)
	if err != nil {
		return 0, &OpError{Op: "get SO_RCVBUF", Err: err, Offset: -1}
	}
	return v, nil
}

func nativeUint32(b []byte) uint32 { return binary.NativeEndian.Uint32(b) }

func nativeUint16(b []byte) uint16       { return binary.NativeEndian.Uint16(b) }
func putNativeUint16(b []byte, v uint16) { binary.NativeEndian.PutUint16(b, v) }
