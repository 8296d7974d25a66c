package audit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"

	"github.com/nlkit/nlkit/netlink"
)

// Client sends commands to the kernel's audit subsystem on a
// NETLINK_AUDIT socket: status, enabling, rules. It is safe for
// concurrent use; its requests are serialized on the socket.
type Client struct {
	c  *netlink.Conn
	mu sync.Mutex // one request at a time: replies are matched by sequence
}

// Dial opens a NETLINK_AUDIT socket with cfg (nil for the defaults). A
// kernel without audit support (CONFIG_AUDIT) fails here with
// EPROTONOSUPPORT, said in words.
func Dial(cfg *netlink.Config) (*Client, error) {
	c, err := netlink.Dial(netlink.Audit, cfg)
	if err != nil {
		return nil, wrap("open socket", err)
	}
	return &Client{c: c}, nil
}

// NewClient returns a Client on an open NETLINK_AUDIT Conn (for example
// one from package audittest's fake kernel). The Client takes ownership
// of c.
func NewClient(c *netlink.Conn) *Client { return &Client{c: c} }

// Conn returns the underlying Conn (for its Stats, deadlines and options).
func (c *Client) Conn() *netlink.Conn { return c.c }

// Close closes the socket.
func (c *Client) Close() error { return c.c.Close() }

// wrap adds what was being done to err and, for the errors that mean
// "not here" or "not you", why.
func wrap(what string, err error) error {
	switch {
	case errors.Is(err, syscall.EPERM):
		return fmt.Errorf("audit: %s: %w (needs CAP_AUDIT_CONTROL, in the initial PID namespace)", what, err)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("audit: %s: %w (the kernel serves audit in the initial user namespace only)", what, err)
	case errors.Is(err, syscall.EPROTONOSUPPORT):
		return fmt.Errorf("audit: %s: %w (the kernel was built without audit, CONFIG_AUDIT)", what, err)
	}
	return fmt.Errorf("audit: %s: %w", what, err)
}

// query sends a request that the kernel answers with a reply of the same
// type (AUDIT_GET) or a multi-part reply ending in NLMSG_DONE
// (AUDIT_LIST_RULES) and returns the replies. The kernel sends such
// replies from a kernel thread after it has acknowledged the request, so
// Conn.Execute, which stops at the acknowledgement, cannot wait for them:
// the request goes without NLM_F_ACK and the replies are matched by
// sequence number; leftovers of abandoned requests are skipped. An error
// still comes as an NLMSG_ERROR.
func (c *Client) query(ctx context.Context, t MessageType, data []byte, multi bool) ([]netlink.Message, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sent, err := c.c.Send(netlink.Message{Header: netlink.Header{Type: netlink.HeaderType(t), Flags: netlink.Request}, Data: data})
	if err != nil {
		return nil, err
	}
	seq := sent.Header.Sequence
	var out []netlink.Message
	for {
		msgs, err := c.c.Receive(ctx)
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if m.Header.Sequence != seq {
				continue
			}
			switch m.Header.Type {
			case netlink.Error:
				info, err := netlink.ParseAck(m.Header.Flags, m.Data)
				if err != nil {
					return nil, &netlink.OpError{Op: "execute", Err: err, Offset: -1, Sequence: seq}
				}
				if info.Errno != 0 {
					return nil, &netlink.OpError{
						Op: "execute", Err: info.Errno, Message: info.Message, Offset: info.Offset,
						Sequence: seq, MissingType: info.MissingType,
					}
				}
			case netlink.Done:
				if multi {
					return out, nil
				}
			case netlink.HeaderType(t):
				out = append(out, m)
				if !multi {
					return out, nil
				}
			}
		}
	}
}

// execute sends a request the kernel only acknowledges.
func (c *Client) execute(ctx context.Context, t MessageType, data []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err := c.c.Execute(ctx, netlink.Message{Header: netlink.Header{Type: netlink.HeaderType(t)}, Data: data})
	return err
}

// Status returns the audit system's state (AUDIT_GET). It needs
// CAP_AUDIT_CONTROL.
//
// Equivalent to: `auditctl -s`.
func (c *Client) Status(ctx context.Context) (Status, error) {
	msgs, err := c.query(ctx, MsgGet, nil, false)
	if err != nil {
		return Status{}, wrap("status", err)
	}
	var s Status
	if err := s.UnmarshalBinary(msgs[0].Data); err != nil {
		return Status{}, fmt.Errorf("audit: status: %w", err)
	}
	return s, nil
}

// SetStatus changes the fields of the audit state that s.Mask names
// (AUDIT_SET): StatusEnabled, StatusFailure, StatusRateLimit,
// StatusBacklogLimit, StatusBacklogWaitTime. (StatusPID registers an
// audit daemon: use Register; StatusLost resets the counter but the
// kernel answers with the old count in place of an errno.) A locked
// configuration (Enabled = Locked) refuses every change with EPERM.
//
// Equivalent to: `auditctl -e 1 -f 1 -r 0 -b 8192 --backlog_wait_time 60000`.
func (c *Client) SetStatus(ctx context.Context, s Status) error {
	if s.Mask == 0 {
		return errors.New("audit: set status: the mask names no field to set")
	}
	if s.Mask&StatusLost != 0 {
		return errors.New("audit: set status: resetting the lost counter is not supported")
	}
	data, _ := s.MarshalBinary()
	if err := c.execute(ctx, MsgSet, data); err != nil {
		return wrap("set status "+s.Mask.String(), err)
	}
	return nil
}

// SetEnabled enables or disables auditing, or locks the configuration
// until reboot (Locked).
//
// Equivalent to: `auditctl -e 1`.
func (c *Client) SetEnabled(ctx context.Context, e EnabledState) error {
	return c.SetStatus(ctx, Status{Mask: StatusEnabled, Enabled: e})
}

// Rules returns the rules of every list, in the kernel's order
// (AUDIT_LIST_RULES).
//
// Equivalent to: `auditctl -l`.
func (c *Client) Rules(ctx context.Context) ([]Rule, error) {
	msgs, err := c.query(ctx, MsgListRules, nil, true)
	if err != nil {
		return nil, wrap("list rules", err)
	}
	rules := make([]Rule, 0, len(msgs))
	for i, m := range msgs {
		var r Rule
		if err := r.UnmarshalBinary(m.Data); err != nil {
			return nil, fmt.Errorf("audit: list rules: rule %d: %w", i, err)
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// AddRule adds a rule (AUDIT_ADD_RULE). The kernel refuses a rule that
// exists with EEXIST and a malformed one (a relative watch path, a field
// on a list that does not take it) with EINVAL.
//
// Equivalent to: `auditctl -a always,exit -F arch=b64 -S openat -k KEY` or
// `auditctl -w PATH -p wa -k KEY`.
func (c *Client) AddRule(ctx context.Context, r Rule) error {
	data, err := r.MarshalBinary()
	if err != nil {
		return err
	}
	if err := c.execute(ctx, MsgAddRule, data); err != nil {
		if errors.Is(err, syscall.EEXIST) {
			return fmt.Errorf("audit: add rule %q: %w (the rule exists already)", r.String(), err)
		}
		return wrap(fmt.Sprintf("add rule %q", r.String()), err)
	}
	return nil
}

// DeleteRule deletes the rule equal to r (AUDIT_DEL_RULE; see
// Rule.Equal); the kernel answers ENOENT if there is none.
//
// Equivalent to: `auditctl -d always,exit -F arch=b64 -S openat -k KEY` or
// `auditctl -W PATH -p wa -k KEY`.
func (c *Client) DeleteRule(ctx context.Context, r Rule) error {
	data, err := r.MarshalBinary()
	if err != nil {
		return err
	}
	if err := c.execute(ctx, MsgDelRule, data); err != nil {
		if errors.Is(err, syscall.ENOENT) {
			return fmt.Errorf("audit: delete rule %q: %w (no such rule)", r.String(), err)
		}
		return wrap(fmt.Sprintf("delete rule %q", r.String()), err)
	}
	return nil
}

// DeleteAllRules deletes every rule and returns how many it deleted.
//
// Equivalent to: `auditctl -D`.
func (c *Client) DeleteAllRules(ctx context.Context) (int, error) {
	rules, err := c.Rules(ctx)
	if err != nil {
		return 0, err
	}
	for i, r := range rules {
		if err := c.DeleteRule(ctx, r); err != nil {
			return i, err
		}
	}
	return len(rules), nil
}
