// Package audittest is a fake kernel audit subsystem for unit tests of
// code built on package audit: a NETLINK_AUDIT endpoint (package nltest)
// that keeps a status and a rule list, answers AUDIT_GET, AUDIT_SET,
// AUDIT_LIST_RULES, AUDIT_ADD_RULE and AUDIT_DEL_RULE as kernel/audit.c
// does, lets one socket register as the audit daemon, and sends it the
// records a test makes up (Kernel.Log, Kernel.Send).
//
//	k := audittest.New(nil)
//	c, _ := k.Dial(nil)                       // an *audit.Client
//	l, _ := k.Register(ctx)                   // an *audit.Listener, the daemon
//	k.Log(audit.MsgSyscall, 7, "arch=c000003e syscall=257 key=\"k\"")
//	k.Log(audit.MsgEOE, 7, "")
//	for ev, err := range l.Events(ctx) { ... } // one event, serial 7
//
// Faithful where clients see it: every command fails with EPERM for an
// Unprivileged kernel; a second daemon is refused with EEXIST while the
// first is registered; a rule that exists is refused with EEXIST, a
// missing one on delete with ENOENT, a relative watch path with EINVAL;
// rules selecting all syscalls are listed with the class bits cleared,
// as the kernel keeps them; every record also goes to the read-log group.
// Unlike the kernel, replies come before the acknowledgement, records
// carry a correct nlmsg_len, and the daemon's PID is not checked against
// the sender's.
//
// Concurrency: a Kernel is safe for concurrent use.
package audittest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nlkit/nlkit/audit"
	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/nltest"
)

// Config configures a fake kernel.
type Config struct {
	// Status is the initial status; the zero value gets the kernel's
	// defaults (disabled, printk on failure, backlog limit 64, every
	// feature, a wait time of 60 s at 250 Hz).
	Status audit.Status
	// Unprivileged makes every command fail with EPERM, as for a caller
	// without CAP_AUDIT_CONTROL.
	Unprivileged bool
}

// Kernel is a fake audit subsystem.
type Kernel struct {
	ep  *nltest.Endpoint
	cfg Config

	mu         sync.Mutex
	status     audit.Status
	rules      []audit.Rule
	daemonPort uint32
	serial     uint64
}

// New returns a fake kernel configured by cfg (nil for the defaults).
func New(cfg *Config) *Kernel {
	k := &Kernel{}
	if cfg != nil {
		k.cfg = *cfg
	}
	k.status = k.cfg.Status
	if k.status == (audit.Status{}) {
		k.status = audit.Status{
			Failure: audit.FailPrintk, BacklogLimit: 64, BacklogWaitTime: 15000,
			FeatureBitmap: audit.FeatureBacklogLimit | audit.FeatureBacklogWaitTime | audit.FeatureExecutablePath |
				audit.FeatureExcludeExtend | audit.FeatureSessionIDFilter | audit.FeatureLostReset | audit.FeatureFilterFilesystem,
		}
	}
	k.status.Mask = 0
	k.serial = 100
	k.ep = nltest.NewEndpoint(netlink.Audit, nltest.Config{Groups: audit.GroupReadLog, Input: k.input})
	return k
}

// Endpoint returns the fake kernel's netlink endpoint.
func (k *Kernel) Endpoint() *nltest.Endpoint { return k.ep }

// Dial returns a Client on a new socket of the fake kernel.
func (k *Kernel) Dial(cfg *netlink.Config) (*audit.Client, error) {
	c, err := k.ep.Dial(cfg)
	if err != nil {
		return nil, err
	}
	return audit.NewClient(c), nil
}

// Register returns a Listener registered as the fake kernel's audit daemon.
func (k *Kernel) Register(ctx context.Context) (*audit.Listener, error) {
	c, err := k.ep.Dial(nil)
	if err != nil {
		return nil, err
	}
	ctl, err := k.Dial(nil)
	if err != nil {
		c.Close()
		return nil, err
	}
	l, err := audit.RegisterConn(ctx, c, ctl)
	if err != nil {
		c.Close()
		ctl.Close()
		return nil, err
	}
	return l, nil
}

// ReadLog returns a Listener that joined the fake kernel's read-log group.
func (k *Kernel) ReadLog() (*audit.Listener, error) {
	c, err := k.ep.Dial(&netlink.Config{Groups: 1 << (audit.GroupReadLog - 1)})
	if err != nil {
		return nil, err
	}
	return audit.NewReadLog(c), nil
}

// Status returns the fake kernel's status.
func (k *Kernel) Status() audit.Status {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.status
}

// Rules returns the fake kernel's rules, as it lists them.
func (k *Kernel) Rules() []audit.Rule {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]audit.Rule(nil), k.rules...)
}

// DaemonPort returns the netlink port of the registered daemon, 0 if none.
func (k *Kernel) DaemonPort() uint32 {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.daemonPort
}

// NextSerial returns a new event serial number.
func (k *Kernel) NextSerial() uint64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.serial++
	return k.serial
}

// Time is the time stamp of the records Log makes: 2023-11-14T22:13:20.123Z.
var Time = time.UnixMilli(1700000000123).UTC()

// Log sends one record, "audit(1700000000.123:SERIAL): TEXT", to the
// registered daemon and the read-log group, as kauditd does. Without a
// daemon or a reader the record is dropped (the kernel would print it).
func (k *Kernel) Log(t audit.MessageType, serial uint64, text string) error {
	return k.Send(audit.Record{Type: t, Time: Time, Serial: serial, Text: text})
}

// Send sends records, one message each, to the registered daemon and the
// read-log group.
func (k *Kernel) Send(records ...audit.Record) error {
	for _, r := range records {
		if err := k.SendRaw(r.Type, r.Payload()); err != nil {
			return err
		}
	}
	return nil
}

// SendRaw sends a message of type t with payload as it is (say, a
// malformed record) to the daemon and the read-log group.
func (k *Kernel) SendRaw(t audit.MessageType, payload []byte) error {
	m := netlink.Message{Header: netlink.Header{Type: netlink.HeaderType(t)}, Data: payload}
	if port := k.DaemonPort(); port != 0 {
		if err := k.ep.Unicast(port, m); err != nil {
			return fmt.Errorf("audittest: send %v to the daemon: %w", t, err)
		}
	}
	if _, err := k.ep.Multicast(audit.GroupReadLog, m); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("audittest: multicast %v: %w", t, err)
	}
	return nil
}

// Replace sends the daemon an AUDIT_REPLACE probe (a binary PID), as the
// kernel does when another process tries to register.
func (k *Kernel) Replace(pid uint32) error {
	port := k.DaemonPort()
	if port == 0 {
		return errors.New("audittest: no daemon registered")
	}
	data := binary.NativeEndian.AppendUint32(nil, pid)
	return k.ep.Unicast(port, netlink.Message{Header: netlink.Header{Type: netlink.HeaderType(audit.MsgReplace)}, Data: data})
}

func (k *Kernel) input(r *nltest.Request) error {
	if k.cfg.Unprivileged {
		return syscall.EPERM
	}
	t := audit.MessageType(r.Message.Header.Type)
	switch t {
	case audit.MsgGet:
		data, _ := k.Status().MarshalBinary()
		return r.Reply(netlink.Message{Header: netlink.Header{Type: netlink.HeaderType(audit.MsgGet)}, Data: data})
	case audit.MsgSet:
		var s audit.Status
		if err := s.UnmarshalBinary(r.Message.Data); err != nil {
			return syscall.EINVAL
		}
		return k.set(s, r.Port)
	case audit.MsgListRules:
		var msgs []netlink.Message
		for _, rule := range k.Rules() {
			data, err := rule.MarshalBinary()
			if err != nil {
				return err
			}
			msgs = append(msgs, netlink.Message{Header: netlink.Header{Type: netlink.HeaderType(audit.MsgListRules)}, Data: data})
		}
		return r.Dump(msgs, nltest.DumpOptions{})
	case audit.MsgAddRule, audit.MsgDelRule:
		var rule audit.Rule
		if err := rule.UnmarshalBinary(r.Message.Data); err != nil {
			return syscall.EINVAL
		}
		if err := check(rule); err != nil {
			return err
		}
		if rule.Syscalls.All() {
			rule.Syscalls[len(rule.Syscalls)-1] = 0x0000ffff // the class bits, expanded
		}
		k.mu.Lock()
		defer k.mu.Unlock()
		if k.status.Enabled == audit.Locked {
			return syscall.EPERM
		}
		for i, have := range k.rules {
			if !have.Equal(rule) {
				continue
			}
			if t == audit.MsgAddRule {
				return syscall.EEXIST
			}
			k.rules = append(k.rules[:i], k.rules[i+1:]...)
			return nil
		}
		if t == audit.MsgDelRule {
			return syscall.ENOENT
		}
		if rule.Prepend {
			k.rules = append([]audit.Rule{rule}, k.rules...)
		} else {
			k.rules = append(k.rules, rule)
		}
		return nil
	}
	return syscall.EINVAL
}

// check refuses what audit_data_to_entry refuses, in part.
func check(r audit.Rule) error {
	if r.Filter == audit.FilterEntry || r.Filter > audit.FilterURingExit || r.Action > audit.ActionAlways {
		return syscall.EINVAL
	}
	for _, f := range r.Fields {
		switch f.Field {
		case audit.FieldWatch, audit.FieldDir:
			if !strings.HasPrefix(f.Str, "/") || (f.Field == audit.FieldWatch && strings.HasSuffix(f.Str, "/")) ||
				r.Filter != audit.FilterExit || f.Op != audit.OpEqual {
				return syscall.EINVAL
			}
		case audit.FieldFilterKey:
			if len(f.Str) > audit.MaxKeyLen {
				return syscall.EINVAL
			}
		}
	}
	return nil
}

// set applies AUDIT_SET as audit_receive_msg does.
func (k *Kernel) set(s audit.Status, port uint32) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	locked := k.status.Enabled == audit.Locked
	if s.Mask&audit.StatusEnabled != 0 {
		if s.Enabled > audit.Locked {
			return syscall.EINVAL
		}
		if locked {
			return syscall.EPERM
		}
		k.status.Enabled = s.Enabled
	}
	if s.Mask&audit.StatusFailure != 0 {
		if s.Failure > audit.FailPanic {
			return syscall.EINVAL
		}
		if locked {
			return syscall.EPERM
		}
		k.status.Failure = s.Failure
	}
	if s.Mask&audit.StatusPID != 0 {
		switch {
		case s.PID != 0 && k.status.PID != 0:
			return syscall.EEXIST
		case s.PID != 0:
			k.status.PID, k.daemonPort = s.PID, port
		default:
			k.status.PID, k.daemonPort = 0, 0
		}
	}
	if s.Mask&audit.StatusRateLimit != 0 {
		k.status.RateLimit = s.RateLimit
	}
	if s.Mask&audit.StatusBacklogLimit != 0 {
		k.status.BacklogLimit = s.BacklogLimit
	}
	if s.Mask&audit.StatusBacklogWaitTime != 0 {
		k.status.BacklogWaitTime = s.BacklogWaitTime
	}
	return nil
}
