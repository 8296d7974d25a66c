package sockdiag

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"syscall"

	"github.com/nlkit/nlkit/netlink"
)

// ErrNotSupported reports that the kernel cannot do what was asked: a
// protocol without a sock_diag handler (its *_diag module missing), or
// SOCK_DESTROY on a kernel built without CONFIG_INET_DIAG_DESTROY or for
// a protocol that cannot be destroyed. errors.Is(err, ErrNotSupported)
// holds for such errors, and so does errors.Is with the kernel's errno.
var ErrNotSupported = errors.New("not supported by this kernel")

// ErrNoSocket reports that no socket matches an exact lookup or a
// destroy request (ENOENT). errors.Is(err, syscall.ENOENT) holds too.
var ErrNoSocket = errors.New("no such socket")

// NotSupportedError is an ErrNotSupported with what was tried and what
// the kernel would need.
type NotSupportedError struct {
	// Op is what was tried ("destroy tcp socket", "dump udp sockets").
	Op string
	// Need names the kernel feature missing.
	Need string
	// Err is the kernel's error (EOPNOTSUPP, ENOENT, EINVAL).
	Err error
}

// Error says what was tried, that the kernel cannot, and what it needs.
func (e *NotSupportedError) Error() string {
	return fmt.Sprintf("sockdiag: %s: %v (needs %s): %v", e.Op, ErrNotSupported, e.Need, e.Err)
}

// Unwrap returns ErrNotSupported and the kernel's error.
func (e *NotSupportedError) Unwrap() []error { return []error{ErrNotSupported, e.Err} }

// noSocketError is an ErrNoSocket with the request that found nothing.
type noSocketError struct {
	op  string
	err error
}

func (e *noSocketError) Error() string   { return fmt.Sprintf("sockdiag: %s: %v", e.op, ErrNoSocket) }
func (e *noSocketError) Unwrap() []error { return []error{ErrNoSocket, e.err} }

// isGone reports the errors of an exact lookup that mean "no such
// socket": ENOENT, or ESTALE when the addresses now belong to a socket
// with another cookie.
func isGone(err error) bool {
	return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ESTALE)
}

// diagModule names the kernel option behind a protocol's handler.
func diagModule(f Family, p Protocol) string {
	switch {
	case f == FamilyUnix:
		return "CONFIG_UNIX_DIAG"
	case p == ProtocolTCP:
		return "CONFIG_INET_TCP_DIAG"
	case p == ProtocolUDP || p == ProtocolUDPLite:
		return "CONFIG_INET_UDP_DIAG"
	case p == ProtocolRaw:
		return "CONFIG_INET_RAW_DIAG"
	case p == ProtocolSCTP:
		return "CONFIG_INET_SCTP_DIAG"
	case p == ProtocolDCCP:
		return "CONFIG_INET_DCCP_DIAG"
	case p == ProtocolMPTCP:
		return "CONFIG_INET_MPTCP_DIAG"
	}
	return fmt.Sprintf("a sock_diag handler for %v", p)
}

// Client asks NETLINK_SOCK_DIAG about sockets, as ss does. It is safe
// for concurrent use; requests are serialized on one socket.
type Client struct {
	c *netlink.Conn
}

// Dial opens a NETLINK_SOCK_DIAG socket with cfg (nil for the
// defaults; set cfg.NetNS to see another network namespace's sockets,
// as `ss -N NAME` does).
func Dial(cfg *netlink.Config) (*Client, error) {
	c, err := netlink.Dial(netlink.SockDiag, cfg)
	if err != nil {
		return nil, fmt.Errorf("sockdiag: %w", err)
	}
	return &Client{c: c}, nil
}

// NewClient returns a Client on an open NETLINK_SOCK_DIAG Conn (for
// example one from a fake kernel). The Client takes ownership of c.
func NewClient(c *netlink.Conn) *Client { return &Client{c: c} }

// Conn returns the underlying Conn.
func (c *Client) Conn() *netlink.Conn { return c.c }

// Close closes the socket.
func (c *Client) Close() error { return c.c.Close() }

// dumpErr explains the errors of a dump: a missing handler shows as
// ENOENT (inet_diag) or EINVAL (no handler for the family at all).
func dumpErr(op string, f Family, p Protocol, err error) error {
	if errors.Is(err, syscall.ENOENT) || (f == FamilyUnix && errors.Is(err, syscall.EINVAL)) {
		return &NotSupportedError{Op: op, Need: diagModule(f, p), Err: err}
	}
	return fmt.Errorf("sockdiag: %s: %w", op, err)
}

// InetSockets streams the IPv4 or IPv6 sockets of one protocol that
// req selects, decoded one at a time. The kernel filters by family,
// protocol and state (req.States; 0 means all); req.Extensions asks for
// TCPInfo, MemInfo and the other optional attributes. A protocol whose
// handler the kernel lacks ends the stream with an ErrNotSupported.
//
// Equivalent to: `ss -tan` (TCP, all states), `ss -uan` (UDP).
func (c *Client) InetSockets(ctx context.Context, req InetRequest) iter.Seq2[*InetSocket, error] {
	return func(yield func(*InetSocket, error) bool) {
		op := fmt.Sprintf("dump %v %v sockets", req.Protocol, req.Family)
		data, err := req.MarshalBinary()
		if err != nil {
			yield(nil, err)
			return
		}
		m := netlink.Message{Header: netlink.Header{Type: msgByFamily}, Data: data}
		for r, err := range c.c.Dump(ctx, m) {
			if err != nil {
				yield(nil, dumpErr(op, req.Family, req.Protocol, err))
				return
			}
			if r.Header.Type != msgByFamily {
				continue
			}
			s := new(InetSocket)
			if err := s.unmarshal(r.Data, req.Protocol); err != nil {
				yield(nil, err)
				return
			}
			if !yield(s, nil) {
				return
			}
		}
	}
}

// ListInetSockets returns the sockets InetSockets streams.
//
// Equivalent to: `ss -tan`.
func (c *Client) ListInetSockets(ctx context.Context, req InetRequest) ([]*InetSocket, error) {
	return collect(c.InetSockets(ctx, req))
}

// InetSocket looks up one socket by req.ID (local and remote address
// and port, interface, and cookie if not zero), in req.Family and
// req.Protocol. It returns an error matching ErrNoSocket if none
// matches.
//
// Equivalent to: `ss -tan src ADDR:PORT dst ADDR:PORT`.
func (c *Client) InetSocket(ctx context.Context, req InetRequest) (*InetSocket, error) {
	op := fmt.Sprintf("get %v socket %v -> %v", req.Protocol, req.ID.Local, req.ID.Remote)
	data, err := req.MarshalBinary()
	if err != nil {
		return nil, err
	}
	replies, err := c.c.Execute(ctx, netlink.Message{Header: netlink.Header{Type: msgByFamily}, Data: data})
	if err != nil {
		if isGone(err) {
			return nil, &noSocketError{op: op, err: err}
		}
		return nil, fmt.Errorf("sockdiag: %s: %w", op, err)
	}
	for _, r := range replies {
		if r.Header.Type != msgByFamily {
			continue
		}
		s := new(InetSocket)
		if err := s.unmarshal(r.Data, req.Protocol); err != nil {
			return nil, err
		}
		return s, nil
	}
	return nil, fmt.Errorf("sockdiag: %s: kernel sent no socket", op)
}

// Destroy closes socket s (SOCK_DESTROY): the kernel aborts it as if
// the peer had reset it (its owner's calls fail with ECONNABORTED; a TCP
// peer receives a reset). s names the socket by its family, protocol,
// addresses, ports, interface and cookie, as a dump returned it. It needs
// CAP_NET_ADMIN (EPERM otherwise) and a kernel built with
// CONFIG_INET_DIAG_DESTROY; without it, or for a protocol that cannot be
// destroyed, the error matches ErrNotSupported. A socket that is gone
// gives ErrNoSocket.
//
// Equivalent to: `ss -K src ADDR:PORT dst ADDR:PORT`.
func (c *Client) Destroy(ctx context.Context, s *InetSocket) error {
	proto := s.Protocol
	if proto == 0 {
		proto = ProtocolTCP
	}
	op := fmt.Sprintf("destroy %v socket %v -> %v", proto, s.ID.Local, s.ID.Remote)
	req := InetRequest{Family: s.Family, Protocol: proto, States: AllStates, ID: s.ID}
	data, err := req.MarshalBinary()
	if err != nil {
		return err
	}
	_, err = c.c.Execute(ctx, netlink.Message{Header: netlink.Header{Type: msgDestroy}, Data: data})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, syscall.EOPNOTSUPP):
		return &NotSupportedError{Op: op, Need: "CONFIG_INET_DIAG_DESTROY and a protocol that supports it (TCP, UDP, raw)", Err: err}
	case isGone(err):
		return &noSocketError{op: op, err: err}
	}
	return fmt.Errorf("sockdiag: %s: %w", op, err)
}

// UnixSockets streams the UNIX domain sockets req selects. The kernel
// filters by state (req.States; 0 means all) and reports what req.Show
// asks for (0 means name, peer and queues, as ss).
//
// Equivalent to: `ss -xa`.
func (c *Client) UnixSockets(ctx context.Context, req UnixRequest) iter.Seq2[*UnixSocket, error] {
	return func(yield func(*UnixSocket, error) bool) {
		data, err := req.MarshalBinary()
		if err != nil {
			yield(nil, err)
			return
		}
		m := netlink.Message{Header: netlink.Header{Type: msgByFamily}, Data: data}
		for r, err := range c.c.Dump(ctx, m) {
			if err != nil {
				yield(nil, dumpErr("dump unix sockets", FamilyUnix, 0, err))
				return
			}
			if r.Header.Type != msgByFamily {
				continue
			}
			s := new(UnixSocket)
			if err := s.UnmarshalBinary(r.Data); err != nil {
				yield(nil, err)
				return
			}
			if !yield(s, nil) {
				return
			}
		}
	}
}

// ListUnixSockets returns the sockets UnixSockets streams.
//
// Equivalent to: `ss -xa`.
func (c *Client) ListUnixSockets(ctx context.Context, req UnixRequest) ([]*UnixSocket, error) {
	return collect(c.UnixSockets(ctx, req))
}

// UnixSocket looks up one UNIX socket by req.Inode (and req.Cookie if
// not zero). It returns an error matching ErrNoSocket if none has it.
//
// Equivalent to: `ss -xa` and looking for the inode.
func (c *Client) UnixSocket(ctx context.Context, req UnixRequest) (*UnixSocket, error) {
	op := fmt.Sprintf("get unix socket %d", req.Inode)
	data, err := req.MarshalBinary()
	if err != nil {
		return nil, err
	}
	replies, err := c.c.Execute(ctx, netlink.Message{Header: netlink.Header{Type: msgByFamily}, Data: data})
	if err != nil {
		if isGone(err) {
			return nil, &noSocketError{op: op, err: err}
		}
		return nil, fmt.Errorf("sockdiag: %s: %w", op, err)
	}
	for _, r := range replies {
		if r.Header.Type != msgByFamily {
			continue
		}
		s := new(UnixSocket)
		if err := s.UnmarshalBinary(r.Data); err != nil {
			return nil, err
		}
		return s, nil
	}
	return nil, fmt.Errorf("sockdiag: %s: kernel sent no socket", op)
}

// collect gathers a stream into a slice.
func collect[P any](seq iter.Seq2[P, error]) ([]P, error) {
	var out []P
	for v, err := range seq {
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
