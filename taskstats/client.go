package taskstats

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"

	"github.com/nlkit/nlkit/genl"
	"github.com/nlkit/nlkit/netlink"
)

// ErrNoProcess reports that no task has the PID (or no thread group the
// TGID) asked for, in the requester's PID namespace. Errors matching it
// also match syscall.ESRCH, the kernel's answer.
var ErrNoProcess = errors.New("taskstats: no such process")

// ErrNotSupported reports a kernel without the TASKSTATS family
// (CONFIG_TASKSTATS off). Errors matching it also match
// genl.ErrFamilyNotFound.
var ErrNotSupported = errors.New("taskstats: the kernel has no TASKSTATS generic netlink family (CONFIG_TASKSTATS)")

// noProcessError is ErrNoProcess with the ID asked for.
type noProcessError struct {
	kind string // "pid" or "tgid"
	id   uint32
	err  error
}

func (e *noProcessError) Error() string {
	return fmt.Sprintf("taskstats: no process with %s %d", e.kind, e.id)
}

func (e *noProcessError) Unwrap() []error { return []error{ErrNoProcess, e.err} }

// notSupportedError is ErrNotSupported keeping the controller's error.
type notSupportedError struct{ err error }

func (e *notSupportedError) Error() string { return ErrNotSupported.Error() }

func (e *notSupportedError) Unwrap() []error { return []error{ErrNotSupported, e.err} }

// Client asks the kernel for the statistics of tasks and thread groups
// through the generic netlink family "TASKSTATS". It is safe for
// concurrent use; requests are serialized on one socket.
type Client struct {
	c  *genl.Conn
	id uint16 // the family's ID
}

// Dial opens a generic netlink socket with cfg (nil for the defaults)
// and resolves the family. On a kernel without taskstats the error
// matches ErrNotSupported.
//
// Equivalent to: `genl ctrl get name TASKSTATS`.
func Dial(ctx context.Context, cfg *netlink.Config) (*Client, error) {
	c, err := genl.Dial(cfg)
	if err != nil {
		return nil, fmt.Errorf("taskstats: %w", err)
	}
	tc, err := NewClient(ctx, c)
	if err != nil {
		c.Close()
		return nil, err
	}
	return tc, nil
}

// NewClient resolves the family on c (for example a Conn of genltest's
// fake kernel) and returns a Client that owns c. On error c is left open.
func NewClient(ctx context.Context, c *genl.Conn) (*Client, error) {
	f, err := c.Family(ctx, FamilyName)
	if errors.Is(err, genl.ErrFamilyNotFound) {
		return nil, &notSupportedError{err: err}
	}
	if err != nil {
		return nil, fmt.Errorf("taskstats: resolve family: %w", err)
	}
	return &Client{c: c, id: f.ID}, nil
}

// Conn returns the underlying generic netlink Conn.
func (c *Client) Conn() *genl.Conn { return c.c }

// Close closes the socket.
func (c *Client) Close() error { return c.c.Close() }

// Task returns the statistics of the task (thread) pid, as the PID
// namespace of the calling process names it: TASKSTATS_CMD_GET with
// TASKSTATS_CMD_ATTR_PID. A pid no task has fails with an error matching
// ErrNoProcess and syscall.ESRCH. The command needs CAP_NET_ADMIN
// (GENL_ADMIN_PERM): without it the error matches syscall.EPERM.
//
// Equivalent to: `getdelays -d -i -p PID` (the kernel's
// tools/accounting/getdelays).
func (c *Client) Task(ctx context.Context, pid uint32) (*Stats, error) {
	r, err := c.get(ctx, cmdAttrPID, "pid", pid)
	if err != nil {
		return nil, err
	}
	if r.PID != pid || r.TGID != 0 {
		return nil, fmt.Errorf("taskstats: stats of pid %d: kernel answered for pid %d tgid %d", pid, r.PID, r.TGID)
	}
	return &r.Stats, nil
}

// ThreadGroup returns the statistics of the thread group (process) tgid:
// TASKSTATS_CMD_GET with TASKSTATS_CMD_ATTR_TGID. The kernel fills only
// the delays, the CPU times (UserTime, SystemTime, CPURun*), Elapsed
// and the context switches, summed over the group's live threads (and
// the exited ones, while an exit listener is registered); the other
// fields (Comm, PID, UID, I/O, ...) are zero. Errors are as for Task.
//
// Equivalent to: `getdelays -d -t TGID`.
func (c *Client) ThreadGroup(ctx context.Context, tgid uint32) (*Stats, error) {
	r, err := c.get(ctx, cmdAttrTGID, "tgid", tgid)
	if err != nil {
		return nil, err
	}
	if r.TGID != tgid || r.PID != 0 {
		return nil, fmt.Errorf("taskstats: stats of tgid %d: kernel answered for pid %d tgid %d", tgid, r.PID, r.TGID)
	}
	return &r.Stats, nil
}

// get sends TASKSTATS_CMD_GET with attribute attr = id and decodes the
// one record of the reply.
func (c *Client) get(ctx context.Context, attr uint16, kind string, id uint32) (Record, error) {
	var e netlink.AttributeEncoder
	e.Uint32(attr, id)
	data, err := e.Encode()
	if err != nil {
		return Record{}, fmt.Errorf("taskstats: stats of %s %d: %w", kind, id, err)
	}
	req := genl.Message{Header: genl.Header{Command: cmdGet, Version: FamilyVersion}, Data: data}
	replies, err := c.c.Execute(ctx, c.id, req, 0)
	if errors.Is(err, syscall.ESRCH) {
		return Record{}, &noProcessError{kind: kind, id: id, err: err}
	}
	if err != nil {
		return Record{}, fmt.Errorf("taskstats: stats of %s %d: %w", kind, id, err)
	}
	var out []Record
	for _, m := range replies {
		if m.Header.Command != cmdNew {
			continue
		}
		var r Record
		if err := r.unmarshal(m.Data); err != nil {
			return Record{}, fmt.Errorf("taskstats: stats of %s %d: %w", kind, id, err)
		}
		out = append(out, r)
	}
	if len(out) != 1 {
		return Record{}, fmt.Errorf("taskstats: stats of %s %d: kernel sent %d records, want 1", kind, id, len(out))
	}
	return out[0], nil
}

// DelayAccounting reports whether the kernel records delays now
// (/proc/sys/kernel/task_delayacct, or the delayacct boot parameter).
// While it is off, the delay counts and totals other than CPU's stay as
// they were. Reading it needs no privilege; turning it on (sysctl
// kernel.task_delayacct=1) needs root and affects the whole system.
//
// Equivalent to: `sysctl kernel.task_delayacct`.
func DelayAccounting() (bool, error) {
	b, err := os.ReadFile("/proc/sys/kernel/task_delayacct")
	if err != nil {
		return false, fmt.Errorf("taskstats: delay accounting: %w", err)
	}
	switch strings.TrimSpace(string(b)) {
	case "0":
		return false, nil
	case "1":
		return true, nil
	}
	return false, fmt.Errorf("taskstats: delay accounting: unexpected task_delayacct %q", strings.TrimSpace(string(b)))
}
