package genl

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
	"syscall"

	"github.com/nlkit/nlkit/netlink"
)

// Conn is a generic netlink socket (NETLINK_GENERIC): requests to any
// family by ID, family and multicast group resolution by name through the
// controller ("nlctrl"), and multicast events.
//
// It is safe for concurrent use: requests are serialized on the
// underlying *netlink.Conn (see its documentation for how reading
// operations hold it), and resolved families are cached per Conn.
type Conn struct {
	c *netlink.Conn

	mu       sync.Mutex
	families map[string]*Family // resolved by name; see ForgetFamily
}

// Dial opens a generic netlink socket with cfg (nil for the defaults).
// Families are global to the kernel, but some (the nlhello module's,
// for one) exist only in the initial network namespace; cfg.NetNS opens
// the socket in another one, as `ip netns exec NAME genl` would.
func Dial(cfg *netlink.Config) (*Conn, error) {
	c, err := netlink.Dial(netlink.Generic, cfg)
	if err != nil {
		return nil, err
	}
	return NewConn(c), nil
}

// NewConn returns a Conn on an open NETLINK_GENERIC netlink Conn (for
// example one from a fake kernel). The Conn takes ownership of c.
func NewConn(c *netlink.Conn) *Conn {
	return &Conn{c: c, families: map[string]*Family{}}
}

// Netlink returns the underlying netlink Conn, for socket options,
// deadlines, statistics and raw access.
func (c *Conn) Netlink() *netlink.Conn { return c.c }

// Close closes the underlying netlink Conn.
func (c *Conn) Close() error { return c.c.Close() }

// request builds the netlink message of a generic netlink request.
func request(family uint16, m Message, flags netlink.HeaderFlags) (netlink.Message, error) {
	data, err := m.MarshalBinary()
	if err != nil {
		return netlink.Message{}, err
	}
	return netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(family), Flags: flags},
		Data:   data,
	}, nil
}

// Execute sends m to the family with ID family, with NLM_F_REQUEST,
// NLM_F_ACK and flags, and returns the replies, which own their memory.
// Kernel errors are returned unchanged: an *netlink.OpError wrapping the
// errno, with the extended-ack text (errors.Is(err, unix.EINVAL) works).
// A family ID that is not registered (any more) fails with ENOENT.
//
// Equivalent to: the request a family's own tool sends, such as
// `ethtool -i DEV` (family "ethtool") or `genl ctrl get name NAME`.
func (c *Conn) Execute(ctx context.Context, family uint16, m Message, flags netlink.HeaderFlags) ([]Message, error) {
	req, err := request(family, m, flags)
	if err != nil {
		return nil, err
	}
	replies, err := c.c.Execute(ctx, req)
	if err != nil {
		return nil, err
	}
	out := make([]Message, 0, len(replies))
	for _, r := range replies {
		gm, err := ParseMessage(r)
		if err != nil {
			return nil, fmt.Errorf("genl: decode reply of family %#x command %d: %w", family, m.Header.Command, err)
		}
		out = append(out, gm)
	}
	return out, nil
}

// Dump sends m to the family with ID family as a dump request
// (NLM_F_REQUEST|NLM_F_DUMP) and streams the replies. Each yielded
// Message aliases the receive buffer and is valid until the loop
// continues; copy what you keep. Errors are as for Execute, plus
// netlink.ErrDumpInterrupted (dump again). Breaking out early is allowed.
//
// Equivalent to: the dump a family's own tool sends, such as `genl ctrl
// list` (family "nlctrl").
func (c *Conn) Dump(ctx context.Context, family uint16, m Message) iter.Seq2[Message, error] {
	return func(yield func(Message, error) bool) {
		req, err := request(family, m, 0)
		if err != nil {
			yield(Message{}, err)
			return
		}
		for r, err := range c.c.Dump(ctx, req) {
			if err != nil {
				yield(Message{}, err)
				return
			}
			gm, err := ParseMessage(r)
			if err != nil {
				yield(Message{}, fmt.Errorf("genl: decode dump of family %#x command %d: %w", family, m.Header.Command, err))
				return
			}
			if !yield(gm, nil) {
				return
			}
		}
	}
}

// Receive waits for the next datagram of multicast events (after
// JoinGroup) and returns its generic netlink messages, which own their
// memory; Netlink.Type tells each one's family. Control messages are
// skipped. An overrun returns an error matching netlink.ErrOverrun:
// events were lost, the Conn stays usable.
//
// Equivalent to: `genl monitor`.
func (c *Conn) Receive(ctx context.Context) ([]Message, error) {
	msgs, err := c.c.Receive(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Message, 0, len(msgs))
	for _, m := range msgs {
		if m.Header.Type < netlink.MinType {
			continue
		}
		gm, err := ParseMessage(m)
		if err != nil {
			return nil, fmt.Errorf("genl: decode event of family %#x: %w", uint16(m.Header.Type), err)
		}
		out = append(out, gm)
	}
	return out, nil
}

// Messages streams multicast events until ctx ends or the Conn fails.
// Each yielded Message aliases the receive buffer and is valid until the
// loop continues. An overrun yields an error matching netlink.ErrOverrun
// and the stream goes on; so does a malformed message, yielded as an
// error; any other error ends the stream, as does the end of ctx
// (yielding ctx's error). Control messages are skipped.
//
// Equivalent to: `genl monitor`.
func (c *Conn) Messages(ctx context.Context) iter.Seq2[Message, error] {
	return func(yield func(Message, error) bool) {
		for m, err := range c.c.Messages(ctx) {
			if err != nil {
				if !yield(Message{}, err) {
					return
				}
				continue
			}
			if m.Header.Type < netlink.MinType {
				continue
			}
			gm, err := ParseMessage(m)
			if err != nil {
				err = fmt.Errorf("genl: decode event of family %#x: %w", uint16(m.Header.Type), err)
			}
			if !yield(gm, err) {
				return
			}
		}
	}
}

// ErrFamilyNotFound reports that no generic netlink family has the given
// name. Errors from Family satisfy both errors.Is(err, ErrFamilyNotFound)
// and errors.Is(err, unix.ENOENT), and keep the kernel's *netlink.OpError.
var ErrFamilyNotFound = errors.New("generic netlink family not found")

type familyNotFoundError struct {
	name string
	err  error // the kernel's error, or syscall.ENOENT for a name it cannot have
}

func (e *familyNotFoundError) Error() string {
	return fmt.Sprintf("genl: generic netlink family %q not found: %s", e.name, e.err.Error())
}

func (e *familyNotFoundError) Unwrap() []error { return []error{ErrFamilyNotFound, e.err} }

// getFamily is the controller request for one family by name.
func getFamilyRequest(name string) (Message, error) {
	var e netlink.AttributeEncoder
	e.String(ctrlAttrFamilyName, name)
	data, err := e.Encode()
	if err != nil {
		return Message{}, err
	}
	return Message{Header: Header{Command: ctrlCmdGetFamily, Version: ctrlVersion}, Data: data}, nil
}

// Family resolves a family by name: its ID, version, commands and
// multicast groups. The answer is cached for the life of the Conn; see
// ForgetFamily. An unknown name fails with an error matching both
// ErrFamilyNotFound and unix.ENOENT. Asking for a family may make the
// kernel load its module (MODULE_ALIAS_GENL_FAMILY), as genl does.
// The returned Family is the caller's to modify.
//
// Equivalent to: `genl ctrl get name NAME`.
func (c *Conn) Family(ctx context.Context, name string) (*Family, error) {
	c.mu.Lock()
	f := c.families[name]
	c.mu.Unlock()
	if f != nil {
		return f.clone(), nil
	}
	if name == "" || len(name) >= genlNameSize {
		return nil, &familyNotFoundError{name: name, err: syscall.ENOENT}
	}
	req, err := getFamilyRequest(name)
	if err != nil {
		return nil, fmt.Errorf("genl: resolve family %q: %w", name, err)
	}
	replies, err := c.Execute(ctx, ctrlID, req, 0)
	if errors.Is(err, syscall.ENOENT) {
		return nil, &familyNotFoundError{name: name, err: err}
	}
	if err != nil {
		return nil, fmt.Errorf("genl: resolve family %q: %w", name, err)
	}
	for _, r := range replies {
		if r.Header.Command != ctrlCmdNewFamily {
			continue
		}
		f := new(Family)
		if err := f.UnmarshalBinary(r.Data); err != nil {
			return nil, err
		}
		if f.Name != name {
			return nil, fmt.Errorf("genl: resolve family %q: controller answered with family %q", name, f.Name)
		}
		c.mu.Lock()
		c.families[name] = f
		c.mu.Unlock()
		return f.clone(), nil
	}
	return nil, fmt.Errorf("genl: resolve family %q: controller sent no family", name)
}

// ForgetFamily drops a family from the cache, so that the next Family
// asks the kernel again. Use it after a request to the family failed
// with ENOENT: the family was unregistered (its module unloaded) and may
// have come back under a new ID.
func (c *Conn) ForgetFamily(name string) {
	c.mu.Lock()
	delete(c.families, name)
	c.mu.Unlock()
}

// Families streams every registered family, decoded one at a time.
//
// Equivalent to: `genl ctrl list`.
func (c *Conn) Families(ctx context.Context) iter.Seq2[*Family, error] {
	return func(yield func(*Family, error) bool) {
		req := Message{Header: Header{Command: ctrlCmdGetFamily, Version: ctrlVersion}}
		for m, err := range c.Dump(ctx, ctrlID, req) {
			if err != nil {
				yield(nil, err)
				return
			}
			if m.Header.Command != ctrlCmdNewFamily {
				continue
			}
			f := new(Family)
			if err := f.UnmarshalBinary(m.Data); err != nil {
				yield(nil, err)
				return
			}
			c.mu.Lock()
			c.families[f.Name] = f.clone()
			c.mu.Unlock()
			if !yield(f, nil) {
				return
			}
		}
	}
}

// ListFamilies returns every registered family, in the kernel's order
// (by ID).
//
// Equivalent to: `genl ctrl list`.
func (c *Conn) ListFamilies(ctx context.Context) ([]*Family, error) {
	var out []*Family
	for f, err := range c.Families(ctx) {
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// JoinGroup subscribes the Conn to a family's multicast group, both
// given by name, and returns the group. Some groups need CAP_NET_ADMIN
// (EPERM otherwise). A missing group fails with an error matching
// ErrGroupNotFound; a missing family as Family does. Read the events with
// Receive or Messages, preferably on a Conn used for nothing else.
//
// Equivalent to: `genl monitor` (which joins the controller's "notify").
func (c *Conn) JoinGroup(ctx context.Context, family, group string) (MulticastGroup, error) {
	g, err := c.group(ctx, family, group)
	if err != nil {
		return MulticastGroup{}, err
	}
	if err := c.c.JoinGroup(g.ID); err != nil {
		return MulticastGroup{}, fmt.Errorf("genl: join group %q of family %q: %w", group, family, err)
	}
	return g, nil
}

// LeaveGroup unsubscribes from a family's multicast group.
//
// Equivalent to: ending `genl monitor`.
func (c *Conn) LeaveGroup(ctx context.Context, family, group string) error {
	g, err := c.group(ctx, family, group)
	if err != nil {
		return err
	}
	if err := c.c.LeaveGroup(g.ID); err != nil {
		return fmt.Errorf("genl: leave group %q of family %q: %w", group, family, err)
	}
	return nil
}

func (c *Conn) group(ctx context.Context, family, group string) (MulticastGroup, error) {
	f, err := c.Family(ctx, family)
	if err != nil {
		return MulticastGroup{}, err
	}
	return f.Group(group)
}
