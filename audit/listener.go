package audit

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/nlkit/nlkit/netlink"
)

// DefaultReceiveBuffer is the receive buffer a Listener asks for: room for
// tens of thousands of records before the kernel has to hold them back.
const DefaultReceiveBuffer = 8 << 20

// GroupReadLog is the multicast group that receives a copy of every
// record (AUDIT_NLGRP_READLOG).
const GroupReadLog = 1

// ErrDaemonRegistered reports that another process is registered as the
// audit daemon; the kernel allows one. Register's error matches it and is
// a *DaemonRegisteredError.
var ErrDaemonRegistered = errors.New("another process is registered as the audit daemon")

// DaemonRegisteredError is Register's error when a daemon is registered
// already: the kernel answered EEXIST.
type DaemonRegisteredError struct {
	// PID is the registered daemon's process ID, 0 if it could not be read.
	PID uint32
	// Err is the kernel's error (EEXIST).
	Err error
}

func (e *DaemonRegisteredError) Error() string {
	who := "another process"
	if e.PID != 0 {
		who = fmt.Sprintf("pid %d", e.PID)
	}
	return fmt.Sprintf("audit: register as the audit daemon: %s is registered already (the kernel takes one daemon; read alongside it from the read-log group): %v", who, e.Err)
}

// Unwrap returns ErrDaemonRegistered and the kernel's error.
func (e *DaemonRegisteredError) Unwrap() []error { return []error{ErrDaemonRegistered, e.Err} }

// Listener receives audit records: as the registered audit daemon
// (Register), to whom the kernel unicasts every record, or as a reader
// of the best-effort multicast copy (ReadLog), which leaves the audit
// configuration alone.
type Listener struct {
	c   *netlink.Conn
	ctl *Client // a registered daemon's control socket, for unregistering

	// MaxAge and MaxPending configure the grouping of Events (see
	// Assembler); set them before calling Events.
	MaxAge     time.Duration
	MaxPending int

	closeOnce sync.Once
	closeErr  error
}

// listenConfig is cfg with the default receive buffer.
func listenConfig(cfg *netlink.Config) *netlink.Config {
	var c netlink.Config
	if cfg != nil {
		c = *cfg
	}
	if c.ReceiveBuffer == 0 {
		c.ReceiveBuffer, c.ForceReceiveBuffer = DefaultReceiveBuffer, true
	}
	return &c
}

// Register opens a socket and registers it as the audit daemon
// (AUDIT_SET with AUDIT_STATUS_PID = this process's PID): from then on
// the kernel sends every record to it, and to no other daemon. It needs
// CAP_AUDIT_CONTROL in the initial PID namespace. If a daemon is
// registered already (auditd), the error matches ErrDaemonRegistered and
// names its PID; use ReadLog to listen alongside it. Close unregisters.
//
// Equivalent to: `auditd -n` (the registration; nlkit audit watch).
func Register(ctx context.Context, cfg *netlink.Config) (*Listener, error) {
	c, err := netlink.Dial(netlink.Audit, listenConfig(cfg))
	if err != nil {
		return nil, wrap("register as the audit daemon", err)
	}
	var ccfg netlink.Config
	if cfg != nil {
		ccfg = netlink.Config{NetNS: cfg.NetNS, NetNSFD: cfg.NetNSFD, Debug: cfg.Debug}
	}
	ctl, err := Dial(&ccfg)
	if err != nil {
		c.Close()
		return nil, err
	}
	l, err := RegisterConn(ctx, c, ctl)
	if err != nil {
		c.Close()
		ctl.Close()
		return nil, err
	}
	return l, nil
}

// RegisterConn registers c, an open NETLINK_AUDIT Conn, as the audit
// daemon of this process and returns a Listener owning c and ctl (a
// Client, on another socket, used to unregister and to name the daemon
// in the way). Register uses it; so can tests with a fake kernel. On
// error c and ctl are left open.
func RegisterConn(ctx context.Context, c *netlink.Conn, ctl *Client) (*Listener, error) {
	pid := uint32(os.Getpid())
	data, _ := Status{Mask: StatusPID, PID: pid}.MarshalBinary()
	// The kernel acknowledges the registration before it sends the first
	// record (auditd_set), so Execute, which ends at the acknowledgement,
	// loses none.
	if _, err := c.Execute(ctx, netlink.Message{Header: netlink.Header{Type: netlink.HeaderType(MsgSet)}, Data: data}); err != nil {
		if errors.Is(err, syscall.EEXIST) {
			e := &DaemonRegisteredError{Err: err}
			if s, serr := ctl.Status(ctx); serr == nil {
				e.PID = s.PID
			}
			return nil, e
		}
		if errors.Is(err, syscall.EINVAL) {
			return nil, fmt.Errorf("audit: register as the audit daemon: %w (the kernel did not take pid %d as this process's: a PID namespace?)", err, pid)
		}
		return nil, wrap("register as the audit daemon", err)
	}
	return &Listener{c: c, ctl: ctl}, nil
}

// ReadLog opens a socket that joins the audit read-log multicast group
// (AUDIT_NLGRP_READLOG), which receives a copy of every record whether a
// daemon is registered or not, without changing the audit configuration.
// It needs CAP_AUDIT_READ (EPERM without). Delivery is best effort: a
// full receive buffer loses records (reported as netlink.ErrOverrun).
//
// Equivalent to: `journalctl -f _TRANSPORT=audit` (systemd-journald reads
// this group).
func ReadLog(cfg *netlink.Config) (*Listener, error) {
	c := listenConfig(cfg)
	c.Groups |= 1 << (GroupReadLog - 1)
	conn, err := netlink.Dial(netlink.Audit, c)
	if err != nil {
		if errors.Is(err, syscall.EPERM) {
			return nil, fmt.Errorf("audit: join the read-log group: %w (needs CAP_AUDIT_READ)", err)
		}
		return nil, wrap("join the read-log group", err)
	}
	return &Listener{c: conn}, nil
}

// NewReadLog returns a Listener on c, a NETLINK_AUDIT Conn that joined
// GroupReadLog, owning it.
func NewReadLog(c *netlink.Conn) *Listener { return &Listener{c: c} }

// Conn returns the socket the records arrive on.
func (l *Listener) Conn() *netlink.Conn { return l.c }

// Registered reports whether the Listener is the registered audit daemon
// (it was made by Register), not a read-log reader.
func (l *Listener) Registered() bool { return l.ctl != nil }

// Close unregisters a registered daemon (AUDIT_SET with pid 0, sent on
// its control socket, so a running Records or Events loop does not stand
// in the way) and closes the sockets; the loops end with an error
// matching net.ErrClosed. Without a daemon the kernel logs records to
// the kernel log again.
func (l *Listener) Close() error {
	l.closeOnce.Do(func() {
		var errs []error
		if l.ctl != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			data, _ := Status{Mask: StatusPID, PID: 0}.MarshalBinary()
			if err := l.ctl.execute(ctx, MsgSet, data); err != nil {
				errs = append(errs, wrap("unregister the audit daemon", err))
			}
			cancel()
			if err := l.ctl.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		if err := l.c.Close(); err != nil {
			errs = append(errs, err)
		}
		l.closeErr = errors.Join(errs...)
	})
	return l.closeErr
}

// next returns the next record. Messages that are not records (the
// kernel's AUDIT_REPLACE probes of a registered daemon, netlink control)
// are skipped. A record that does not parse returns an error matching
// ErrMalformedRecord, after which the stream can go on, as after
// netlink.ErrOverrun.
func (l *Listener) next(ctx context.Context) (Record, error) {
	for {
		b, _, err := l.c.ReceiveRaw(ctx)
		if err != nil {
			return Record{}, fmt.Errorf("audit: receive records: %w", err)
		}
		t, payload, err := ParseDatagram(b)
		if err != nil {
			return Record{}, err
		}
		if !t.isRecord() {
			continue
		}
		return ParseRecord(t, payload)
	}
}

// recoverable reports whether a stream goes on after err.
func recoverable(err error) bool {
	return errors.Is(err, netlink.ErrOverrun) || errors.Is(err, ErrMalformedRecord)
}

// Records streams records as they arrive, until ctx ends or the
// Listener is closed. Each Record is the caller's. A lost batch
// (netlink.ErrOverrun: the receive buffer was full) or a record that
// does not parse (ErrMalformedRecord) yields an error and the stream
// goes on; any other error is yielded once and ends it.
//
// Equivalent to: `auditd -f` writing audit.log.
func (l *Listener) Records(ctx context.Context) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		for {
			r, err := l.next(ctx)
			if err != nil {
				if !yield(Record{}, err) || !recoverable(err) {
					return
				}
				continue
			}
			if !yield(r, nil) {
				return
			}
		}
	}
}

// Events streams events: records grouped by serial number as Assembler
// describes (an event ends at its AUDIT_EOE; a user-space message is an
// event by itself; an event without EOE ends when no record came for it
// for MaxAge). Errors are as for Records. When the stream ends (ctx
// ended, Listener closed), the events still open are yielded first, then
// the error.
//
// Equivalent to: `ausearch -i` on a live audit.log, one event at a time.
func (l *Listener) Events(ctx context.Context) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		a := &Assembler{MaxAge: l.MaxAge, MaxPending: l.MaxPending}
		emit := func(evs []Event) bool {
			for _, e := range evs {
				if !yield(e, nil) {
					return false
				}
			}
			return true
		}
		for {
			rctx, cancel := ctx, context.CancelFunc(func() {})
			expiry, timed := a.NextExpiry()
			if timed {
				rctx, cancel = context.WithDeadline(ctx, expiry)
			}
			r, err := l.next(rctx)
			cancel()
			now := time.Now()
			switch {
			case err == nil:
				if !emit(a.Push(r, now)) {
					return
				}
			case timed && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded):
				// Our own deadline: an event without EOE has waited long enough.
				if !emit(a.Expire(now)) {
					return
				}
			case recoverable(err):
				if !yield(Event{}, err) {
					return
				}
			default:
				if emit(a.Flush()) {
					yield(Event{}, err)
				}
				return
			}
		}
	}
}
