package main

// Raw netlink through syscalls, for the hostile-input checks only: broken
// headers, lengths past the end, random datagrams, a spoofed multicast.
// The library (package netlink) refuses to build such datagrams, which is
// the point; everything else goes through it (lib_linux.go).

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nlkit/nlkit/hello"
)

const nlmsgHdrLen = 16

var ne = binary.NativeEndian

func align4(n int) int { return (n + 3) &^ 3 }

// msg is one netlink message as the raw socket decodes it.
type msg struct {
	Len   uint32
	Type  uint16
	Flags uint16
	Seq   uint32
	Pid   uint32
	Data  []byte // payload, nlmsg_len - 16 bytes
}

func (m msg) String() string {
	return fmt.Sprintf("{len=%d type=%#x flags=%#x seq=%d pid=%d payload=%d bytes}", m.Len, m.Type, m.Flags, m.Seq, m.Pid, len(m.Data))
}

// encode builds a message; nlmsg_len counts the payload, the buffer is
// padded with zeros to a multiple of 4.
func encode(typ, flags uint16, seq uint32, payload []byte) []byte {
	b := make([]byte, align4(nlmsgHdrLen+len(payload)))
	ne.PutUint32(b[0:], uint32(nlmsgHdrLen+len(payload)))
	ne.PutUint16(b[4:], typ)
	ne.PutUint16(b[6:], flags)
	ne.PutUint32(b[8:], seq)
	ne.PutUint32(b[12:], 0)
	copy(b[nlmsgHdrLen:], payload)
	return b
}

// decode splits a datagram into messages, strictly.
func decode(b []byte) ([]msg, error) {
	var out []msg
	for len(b) > 0 {
		if len(b) < nlmsgHdrLen {
			return out, fmt.Errorf("%d trailing bytes, less than a header", len(b))
		}
		l := ne.Uint32(b[0:])
		if l < nlmsgHdrLen || int(l) > len(b) {
			return out, fmt.Errorf("bad nlmsg_len %d with %d bytes left", l, len(b))
		}
		out = append(out, msg{
			Len: l, Type: ne.Uint16(b[4:]), Flags: ne.Uint16(b[6:]),
			Seq: ne.Uint32(b[8:]), Pid: ne.Uint32(b[12:]),
			Data: b[nlmsgHdrLen:l],
		})
		n := min(align4(int(l)), len(b))
		b = b[n:]
	}
	return out, nil
}

func encodeAttr(typ uint16, data []byte) []byte {
	b := make([]byte, align4(4+len(data)))
	ne.PutUint16(b[0:], uint16(4+len(data)))
	ne.PutUint16(b[2:], typ)
	copy(b[4:], data)
	return b
}

// sock is a raw netlink socket.
type sock struct {
	fd   int
	port uint32
	buf  []byte
}

// openSock opens a raw netlink socket of protocol proto, bound, with
// extended acks and a receive timeout of 2 s.
func openSock(proto int) (*sock, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return nil, fmt.Errorf("socket(AF_NETLINK, SOCK_RAW, %d): %w", proto, err)
	}
	s := &sock{fd: fd, buf: make([]byte, 256<<10)}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		s.Close()
		return nil, fmt.Errorf("bind: %w", err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.port = sa.(*unix.SockaddrNetlink).Pid
	if err := unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_EXT_ACK, 1); err != nil {
		s.Close()
		return nil, fmt.Errorf("NETLINK_EXT_ACK: %w", err)
	}
	if err := s.setTimeout(2 * time.Second); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *sock) Close() error { return unix.Close(s.fd) }

func (s *sock) setTimeout(d time.Duration) error {
	tv := unix.NsecToTimeval(d.Nanoseconds())
	return unix.SetsockoptTimeval(s.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
}

// send sends a raw datagram to the kernel (port 0).
func (s *sock) send(b []byte) error {
	return unix.Sendto(s.fd, b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
}

// recv receives one datagram and checks that it came from the kernel. A
// receive timeout returns unix.EAGAIN; a signal interrupting the blocking
// call (the Go runtime preempts with signals) is retried.
func (s *sock) recv(flags int) ([]msg, error) {
	var n int
	var from unix.Sockaddr
	var err error
	for {
		n, from, err = unix.Recvfrom(s.fd, s.buf, flags)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	if sa, ok := from.(*unix.SockaddrNetlink); !ok || sa.Pid != 0 {
		return nil, fmt.Errorf("datagram from %v, not the kernel", from)
	}
	if n > len(s.buf) {
		return nil, fmt.Errorf("datagram of %d bytes truncated", n)
	}
	ms, err := decode(s.buf[:n])
	for i := range ms {
		ms[i].Data = append([]byte(nil), ms[i].Data...)
	}
	return ms, err
}

// recvOne receives exactly one message in one datagram.
func (s *sock) recvOne() (msg, error) {
	ms, err := s.recv(0)
	if err != nil {
		return msg{}, err
	}
	if len(ms) != 1 {
		return msg{}, fmt.Errorf("want 1 message in the datagram, got %d: %v", len(ms), ms)
	}
	return ms[0], nil
}

// expectNothing fails if a datagram arrives within d.
func (s *sock) expectNothing(d time.Duration) error {
	if err := s.setTimeout(d); err != nil {
		return err
	}
	defer s.setTimeout(2 * time.Second)
	ms, err := s.recv(0)
	if errors.Is(err, unix.EAGAIN) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("expected no reply, got error %v", err)
	}
	return fmt.Errorf("expected no reply, got %v", ms)
}

// drain reads and discards everything queued, without blocking.
func (s *sock) drain() (int, error) {
	n := 0
	for {
		_, err := s.recv(unix.MSG_DONTWAIT)
		switch {
		case errors.Is(err, unix.EAGAIN):
			return n, nil
		case errors.Is(err, unix.ENOBUFS):
			continue
		case err != nil:
			return n, err
		}
		n++
	}
}

// checkRawHelloReply checks a hello reply byte by byte (README: "HELLO reply").
func checkRawHelloReply(m msg, seq uint32) error {
	if m.Type != uint16(hello.MsgHello) || m.Seq != seq || m.Pid != 0 || m.Flags != 0 ||
		m.Len != nlmsgHdrLen+uint32(len(hello.ReplyText)+1) || string(m.Data) != hello.ReplyText+"\x00" {
		return fmt.Errorf("hello reply %v %q; want type 0x10 seq %d pid 0 flags 0 len 26 payload %q",
			m, m.Data, seq, hello.ReplyText+"\x00")
	}
	return nil
}
