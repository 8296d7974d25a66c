package uevent

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"strings"
	"sync/atomic"

	"github.com/nlkit/nlkit/netlink"
)

// Group is a multicast group of NETLINK_KOBJECT_UEVENT.
type Group uint32

// Groups.
const (
	// GroupKernel receives the kernel's uevents (MONITOR_GROUP_KERNEL).
	GroupKernel Group = 1
	// GroupUdev receives udevd's rebroadcast of each event after its
	// rules ran (MONITOR_GROUP_UDEV), with the properties they added.
	GroupUdev Group = 2
)

// String returns "kernel" or "udev".
func (g Group) String() string {
	switch g {
	case GroupKernel:
		return "kernel"
	case GroupUdev:
		return "udev"
	}
	return fmt.Sprintf("group(%d)", uint32(g))
}

// mask is the group's bit in sockaddr_nl.nl_groups.
func (g Group) mask() uint32 {
	if g == 0 || g > 32 {
		return 0
	}
	return 1 << (g - 1)
}

// ErrRejected is wrapped by the reasons CheckSender gives for not
// believing a message.
var ErrRejected = errors.New("message rejected")

func reject(format string, args ...any) error {
	return fmt.Errorf("uevent: %w: "+format, append([]any{ErrRejected}, args...)...)
}

// CheckSender decides whether a datagram b received from `from` (with
// credentials: the socket needs netlink.Config.PassCredentials) may be
// believed, as udev does since CVE-2009-1185. It returns nil to accept,
// or an error wrapping ErrRejected that says why not:
//
//   - sent to GroupKernel: the sender must be the kernel, port 0 (any
//     user port is a process, whatever it claims), with credentials of
//     uid 0, and the message must not carry a libudev header;
//   - sent to GroupUdev: the sender is udevd's user port, so the check
//     is that the credentials say uid 0 (which only root, or a holder of
//     CAP_SETUID, can claim) and that the message starts with the
//     libudev header: the "libudev\0" prefix and the magic 0xfeedcafe;
//   - anything else (a unicast, another group) is rejected: neither the
//     kernel nor udevd unicasts uevents.
//
// A missing credentials message is a rejection in every case. The UID
// is as the receiving process sees it: in a network namespace owned by
// another user namespace, the kernel's messages carry that namespace's
// root, which a process outside it sees as another UID.
func CheckSender(b []byte, from netlink.Addr) error {
	udev := bytes.HasPrefix(b, []byte(udevPrefix))
	switch from.Groups {
	case GroupKernel.mask():
		if from.Port != 0 {
			return reject("sent to the kernel group by user port %d, not by the kernel (port 0)", from.Port)
		}
		if err := checkCreds(from); err != nil {
			return err
		}
		if udev {
			return reject("a libudev message on the kernel group")
		}
	case GroupUdev.mask():
		if err := checkCreds(from); err != nil {
			return err
		}
		if !udev || len(b) < 12 || binary.BigEndian.Uint32(b[8:]) != udevMagic {
			return reject("a message on the udev group from port %d without the libudev header (prefix and magic %#x)", from.Port, udevMagic)
		}
	case 0:
		return reject("a unicast from port %d: uevents come only by multicast", from.Port)
	default:
		return reject("sent to groups %#x, not the kernel or the udev group", from.Groups)
	}
	return nil
}

func checkCreds(from netlink.Addr) error {
	if !from.HasCreds {
		return reject("no sender credentials (the socket needs SO_PASSCRED: netlink.Config.PassCredentials)")
	}
	if from.Creds.UID != 0 {
		return reject("sender uid %d (pid %d) is not root", from.Creds.UID, from.Creds.PID)
	}
	return nil
}

// Options configure a Subscription. The zero value listens to the
// kernel's group with the sender checks on and no filter.
type Options struct {
	// Groups to join: GroupKernel, GroupUdev or both. None means
	// GroupKernel.
	Groups []Group
	// Filter selects the events returned; the others are counted in
	// Stats.Filtered.
	Filter Filter
	// SkipSenderChecks believes every message, whoever sent it, instead
	// of applying CheckSender. Any process with CAP_NET_ADMIN in the
	// namespace can then inject events, and any local process can
	// unicast them: use it only to read synthetic events in tests.
	SkipSenderChecks bool
	// OnReject, if set, is called with every datagram the sender checks
	// rejected and the reason (wrapping ErrRejected), from the goroutine
	// reading events. It must not block for long.
	OnReject func(from netlink.Addr, reason error)
}

// Stats counts what a Subscription received.
type Stats struct {
	// Accepted counts messages that passed the sender checks and decoded.
	Accepted uint64
	// Rejected counts messages the sender checks refused: forgeries,
	// unicasts, messages without credentials.
	Rejected uint64
	// Malformed counts messages from trusted senders that did not decode.
	Malformed uint64
	// Filtered counts accepted events the filter left out.
	Filtered uint64
	// Overruns counts receive buffer overruns (events were lost).
	Overruns uint64
}

// Subscription receives uevents on a socket of its own.
type Subscription struct {
	c    *netlink.Conn
	opts Options

	accepted, rejected, malformed, filtered, overruns atomic.Uint64
}

// DefaultReceiveBuffer is the receive buffer a Subscription asks for:
// room for a burst of some 20,000 events (a coldplug, a disk array
// appearing) before the kernel drops any.
const DefaultReceiveBuffer = 16 << 20

// Subscribe opens a NETLINK_KOBJECT_UEVENT socket in cfg's namespace (nil
// for the current one), with SO_PASSCRED, and joins opts' groups
// (GroupKernel if none); when it returns, no later event is missed. Its
// receive buffer is DefaultReceiveBuffer, with SO_RCVBUFFORCE when
// privileged, unless cfg.ReceiveBuffer says otherwise. cfg's
// PassCredentials and AllowUserSenders are set: the Subscription checks
// senders itself (see CheckSender). No privilege is needed.
//
// Equivalent to: `udevadm monitor --kernel --property` (with GroupUdev:
// `udevadm monitor --udev --property`).
func Subscribe(cfg *netlink.Config, opts *Options) (*Subscription, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if err := o.Filter.Validate(); err != nil {
		return nil, err
	}
	if err := checkGroups(o.Groups); err != nil {
		return nil, err
	}
	var dc netlink.Config
	if cfg != nil {
		dc = *cfg
	}
	dc.PassCredentials, dc.AllowUserSenders = true, true
	if dc.ReceiveBuffer == 0 {
		dc.ReceiveBuffer, dc.ForceReceiveBuffer = DefaultReceiveBuffer, true
	}
	c, err := netlink.Dial(netlink.KObjectUevent, &dc)
	if err != nil {
		return nil, fmt.Errorf("uevent: subscribe: %w", err)
	}
	s, err := NewSubscription(c, &o)
	if err != nil {
		c.Close()
		return nil, err
	}
	return s, nil
}

func checkGroups(groups []Group) error {
	for _, g := range groups {
		if g != GroupKernel && g != GroupUdev {
			return fmt.Errorf("uevent: subscribe: group %d: want GroupKernel (1) or GroupUdev (2)", uint32(g))
		}
	}
	return nil
}

// NewSubscription joins opts' groups on c and returns a Subscription
// that owns c. c must be a NETLINK_KOBJECT_UEVENT Conn (or a fake one,
// such as ueventtest's) dialled with PassCredentials and
// AllowUserSenders, or the sender checks reject every message. On error
// c is left open.
func NewSubscription(c *netlink.Conn, opts *Options) (*Subscription, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if err := o.Filter.Validate(); err != nil {
		return nil, err
	}
	if err := checkGroups(o.Groups); err != nil {
		return nil, err
	}
	if len(o.Groups) == 0 {
		o.Groups = []Group{GroupKernel}
	}
	for _, g := range o.Groups {
		if err := c.JoinGroup(uint32(g)); err != nil {
			return nil, fmt.Errorf("uevent: join the %s group: %w", g, err)
		}
	}
	return &Subscription{c: c, opts: o}, nil
}

// Conn returns the subscription's socket.
func (s *Subscription) Conn() *netlink.Conn { return s.c }

// Close closes the socket; a running Next or Events ends with an error
// matching net.ErrClosed.
func (s *Subscription) Close() error { return s.c.Close() }

// Stats returns the subscription's counters.
func (s *Subscription) Stats() Stats {
	return Stats{
		Accepted: s.accepted.Load(), Rejected: s.rejected.Load(), Malformed: s.malformed.Load(),
		Filtered: s.filtered.Load(), Overruns: s.overruns.Load(),
	}
}

// Next waits for the next event that passes the sender checks and the
// filter. Rejected and filtered messages are counted and skipped. It
// fails with an error matching netlink.ErrOverrun when the receive
// buffer overflowed (events were lost; the next call goes on), with one
// matching ErrMalformed for a trusted message that did not decode (the
// next call goes on), and with ctx's error or net.ErrClosed when it ends.
//
// Equivalent to: `udevadm monitor --kernel --property`.
func (s *Subscription) Next(ctx context.Context) (Event, error) {
	for {
		b, from, err := s.c.ReceiveRaw(ctx)
		if errors.Is(err, netlink.ErrOverrun) {
			s.overruns.Add(1)
			return Event{}, fmt.Errorf("uevent: receive: %w", err)
		}
		if err != nil {
			return Event{}, fmt.Errorf("uevent: receive: %w", err)
		}
		now := monotonic()
		if !s.opts.SkipSenderChecks {
			if err := CheckSender(b, from); err != nil {
				s.rejected.Add(1)
				if s.opts.OnReject != nil {
					s.opts.OnReject(from, err)
				}
				continue
			}
		}
		var ev Event
		if err := ev.UnmarshalBinary(b); err != nil {
			s.malformed.Add(1)
			return Event{}, fmt.Errorf("%w (from port %d, groups %#x: %.80q)", err, from.Port, from.Groups, strings.ToValidUTF8(string(b), "?"))
		}
		s.accepted.Add(1)
		ev.Received = now
		if !s.opts.Filter.Matches(&ev) {
			s.filtered.Add(1)
			continue
		}
		return ev, nil
	}
}

// Events streams events as Next returns them until ctx ends or the socket
// fails. Overruns (matching netlink.ErrOverrun) and malformed messages
// (ErrMalformed) are yielded as errors and the stream goes on; any other
// error is yielded once and ends it, as does the end of ctx (yielding
// ctx's error).
//
// Equivalent to: `udevadm monitor --kernel --property`.
func (s *Subscription) Events(ctx context.Context) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		for {
			ev, err := s.Next(ctx)
			if err != nil {
				if !yield(Event{}, err) {
					return
				}
				if errors.Is(err, netlink.ErrOverrun) || errors.Is(err, ErrMalformed) {
					continue
				}
				return
			}
			if !yield(ev, nil) {
				return
			}
		}
	}
}
