//go:build linux

package netlink

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Dial opens a netlink socket for protocol (0-31, see Route, Generic, ...,
// or a driver's own number) and returns a Conn. cfg may be nil.
//
// The socket is bound (to cfg.PortID, or a port the kernel picks) and,
// unless cfg.AllowUserSenders, connected to the kernel, so the kernel
// itself refuses unicasts from other user-space ports; the Conn also drops
// any datagram whose sender is not port 0.
func Dial(protocol int, cfg *Config) (*Conn, error) {
	if cfg == nil {
		cfg = &Config{}
	}
	if protocol < 0 || protocol > MaxProtocol {
		return nil, &OpError{Op: "dial", Err: fmt.Errorf("protocol %d out of range 0-%d", protocol, MaxProtocol), Offset: -1}
	}
	var s *sysSocket
	open := func() error {
		var err error
		s, err = openSocket(protocol, cfg)
		return err
	}
	var err error
	switch {
	case cfg.NetNSFD > 0:
		err = inNetNS(cfg.NetNSFD, open)
	case cfg.NetNS != "":
		err = inNamedNetNS(cfg.NetNS, open)
	default:
		err = open()
	}
	if err != nil {
		if s != nil {
			_ = s.Close()
		}
		return nil, &OpError{Op: "dial", Err: err, Offset: -1}
	}
	c := NewConn(s, protocol, cfg)
	if err := configure(c, cfg); err != nil {
		_ = s.Close()
		return nil, err
	}
	return c, nil
}

func configure(c *Conn, cfg *Config) error {
	if !cfg.DisableExtendedAck {
		// Kernels before 4.12 lack it; errors then come without text.
		if err := c.SetOption(ExtendedAck, true); err != nil && !errors.Is(err, unix.ENOPROTOOPT) {
			return err
		}
	}
	if cfg.Strict {
		if err := c.SetOption(GetStrictCheck, true); err != nil {
			return err
		}
	}
	if cfg.PassCredentials {
		if err := c.sock.SetOption(solSocket, soPasscred, 1); err != nil {
			return &OpError{Op: "set SO_PASSCRED", Err: err, Offset: -1}
		}
	}
	if cfg.ReceiveBuffer > 0 {
		var err error = unix.EPERM
		if cfg.ForceReceiveBuffer {
			err = c.SetReceiveBuffer(cfg.ReceiveBuffer, true)
		}
		if errors.Is(err, unix.EPERM) {
			err = c.SetReceiveBuffer(cfg.ReceiveBuffer, false)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// sysSocket is a real netlink socket driven by the Go runtime's poller, so
// deadlines work and Close unblocks readers. Receive and Send use raw
// recvmsg/sendto with preallocated headers: no allocation per datagram.
type sysSocket struct {
	f    *os.File
	rc   syscall.RawConn
	port uint32

	rmu     sync.Mutex // guards the receive scratch below
	rname   unix.RawSockaddrNetlink
	rctl    [128]byte // room for SCM_CREDENTIALS, nsid and pktinfo together
	riov    unix.Iovec
	rmsg    unix.Msghdr
	peekBuf [1]byte
	// The poller callbacks are made once, in openSocket, and talk
	// through these fields: a func literal made per call, capturing its
	// results, would cost allocations on every datagram.
	rflags int
	rn     int
	rerrno unix.Errno
	readFn func(fd uintptr) bool

	smu     sync.Mutex // guards the send scratch below
	sname   unix.RawSockaddrNetlink
	sbuf    []byte
	serrno  unix.Errno
	writeFn func(fd uintptr) bool
}

func openSocket(protocol int, cfg *Config) (*sysSocket, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, protocol)
	if err != nil {
		if errors.Is(err, unix.EPROTONOSUPPORT) {
			return nil, fmt.Errorf("socket: protocol %d: %w (no kernel endpoint with this number: module not loaded?)", protocol, err)
		}
		return nil, fmt.Errorf("socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Pid: cfg.PortID, Groups: cfg.Groups}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind: %w", err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("getsockname: %w", err)
	}
	nsa, ok := sa.(*unix.SockaddrNetlink)
	if !ok {
		unix.Close(fd)
		return nil, fmt.Errorf("getsockname: unexpected address %T", sa)
	}
	if !cfg.AllowUserSenders {
		// A connected netlink socket accepts unicasts only from its peer.
		if err := unix.Connect(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("connect: %w", err)
		}
	}
	f := os.NewFile(uintptr(fd), "netlink")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	s := &sysSocket{f: f, rc: rc, port: nsa.Pid}
	s.sname.Family = unix.AF_NETLINK
	s.readFn, s.writeFn = s.recvmsg, s.sendto
	return s, nil
}

func (s *sysSocket) PortID() uint32 { return s.port }

func (s *sysSocket) Send(b []byte) error {
	s.smu.Lock()
	defer s.smu.Unlock()
	s.sbuf, s.serrno = b, 0
	err := s.rc.Write(s.writeFn)
	s.sbuf = nil
	if err != nil {
		return err
	}
	if s.serrno != 0 {
		return os.NewSyscallError("sendto", s.serrno)
	}
	return nil
}

// sendto is the poller callback of Send: it sends s.sbuf.
func (s *sysSocket) sendto(fd uintptr) bool {
	var p unsafe.Pointer
	if len(s.sbuf) > 0 {
		p = unsafe.Pointer(&s.sbuf[0])
	}
	_, _, e := unix.Syscall6(unix.SYS_SENDTO, fd, uintptr(p), uintptr(len(s.sbuf)), 0,
		uintptr(unsafe.Pointer(&s.sname)), unix.SizeofSockaddrNetlink)
	if e == unix.EAGAIN {
		return false
	}
	s.serrno = e
	return true
}

// recvmsg is the poller callback of Receive: it reads into s.rmsg with
// s.rflags.
func (s *sysSocket) recvmsg(fd uintptr) bool {
	r, _, e := unix.Syscall(unix.SYS_RECVMSG, fd, uintptr(unsafe.Pointer(&s.rmsg)), uintptr(s.rflags))
	if e == unix.EAGAIN {
		return false
	}
	s.rn, s.rerrno = int(r), e
	return true
}

func (s *sysSocket) Receive(b []byte, peek bool) (int, Addr, error) {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	flags := unix.MSG_TRUNC
	if peek {
		flags |= unix.MSG_PEEK
	}
	if len(b) > 0 {
		s.riov.Base = &b[0]
	} else {
		s.riov.Base = &s.peekBuf[0]
	}
	s.riov.SetLen(len(b))
	s.rmsg = unix.Msghdr{
		Name:    (*byte)(unsafe.Pointer(&s.rname)),
		Namelen: unix.SizeofSockaddrNetlink,
		Iov:     &s.riov,
		Control: &s.rctl[0],
	}
	s.rmsg.SetIovlen(1)
	s.rmsg.SetControllen(len(s.rctl))
	s.rflags, s.rn, s.rerrno = flags, 0, 0
	err := s.rc.Read(s.readFn)
	s.riov.Base = nil
	if err != nil {
		return 0, Addr{}, err
	}
	n := s.rn
	if s.rerrno != 0 {
		if s.rerrno == unix.ENOBUFS {
			return 0, Addr{}, unix.ENOBUFS
		}
		return 0, Addr{}, os.NewSyscallError("recvmsg", s.rerrno)
	}
	from := Addr{Port: s.rname.Pid, Groups: s.rname.Groups}
	if s.rmsg.Controllen > 0 {
		parseControl(s.rctl[:s.rmsg.Controllen], &from)
	}
	return n, from, nil
}

// parseControl reads the NETLINK_LISTEN_ALL_NSID and SCM_CREDENTIALS
// control messages.
func parseControl(b []byte, from *Addr) {
	for len(b) >= unix.SizeofCmsghdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
		l := int(h.Len)
		if l < unix.SizeofCmsghdr || l > len(b) {
			return
		}
		data := b[unix.SizeofCmsghdr:l]
		if h.Level == solNetlink && h.Type == int32(ListenAllNSID) && len(data) >= 4 {
			from.NSID = int32(nativeUint32(data))
			from.HasNSID = true
		}
		if h.Level == solSocket && h.Type == unix.SCM_CREDENTIALS && len(data) >= unix.SizeofUcred {
			from.Creds = Ucred{
				PID: int32(nativeUint32(data[0:])),
				UID: nativeUint32(data[4:]),
				GID: nativeUint32(data[8:]),
			}
			from.HasCreds = true
		}
		next := unix.CmsgSpace(l - unix.SizeofCmsghdr)
		if next > len(b) {
			return
		}
		b = b[next:]
	}
}

func (s *sysSocket) control(fn func(fd int) error) error {
	var ferr error
	if err := s.rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

func (s *sysSocket) JoinGroup(g uint32) error {
	return s.control(func(fd int) error {
		return os.NewSyscallError("setsockopt", unix.SetsockoptInt(fd, solNetlink, unix.NETLINK_ADD_MEMBERSHIP, int(g)))
	})
}

func (s *sysSocket) LeaveGroup(g uint32) error {
	return s.control(func(fd int) error {
		return os.NewSyscallError("setsockopt", unix.SetsockoptInt(fd, solNetlink, unix.NETLINK_DROP_MEMBERSHIP, int(g)))
	})
}

func (s *sysSocket) SetOption(level, name, value int) error {
	return s.control(func(fd int) error {
		return os.NewSyscallError("setsockopt", unix.SetsockoptInt(fd, level, name, value))
	})
}

func (s *sysSocket) Option(level, name int) (int, error) {
	var v int
	err := s.control(func(fd int) error {
		var err error
		v, err = unix.GetsockoptInt(fd, level, name)
		return os.NewSyscallError("getsockopt", err)
	})
	return v, err
}

func (s *sysSocket) SetReadDeadline(t time.Time) error  { return s.f.SetReadDeadline(t) }
func (s *sysSocket) SetWriteDeadline(t time.Time) error { return s.f.SetWriteDeadline(t) }

func (s *sysSocket) Close() error {
	err := s.f.Close()
	if errors.Is(err, os.ErrClosed) {
		return net.ErrClosed
	}
	return err
}
