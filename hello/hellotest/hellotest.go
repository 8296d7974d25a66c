// Package hellotest is the nlhello kernel module as a fake kernel, for
// unit tests of code that uses package hello: its raw netlink endpoint on
// an nltest.Endpoint and its generic netlink family "nlhello" on a
// genltest.Kernel, sharing one set of counters, answering as the module
// does (replies, errors with the module's extended-ack texts, counters)
// and passing up packets injected with InjectPacket to both multicast
// groups. No privileges or module needed.
//
//	m := hellotest.New(nil)
//	c, _ := m.Dial(nil)                  // a *hello.Client
//	reply, err := c.Hello(ctx, "Hello world") // "Thank you"
//	sub, _ := m.Watch(nil)               // a *hello.Subscription
//	m.InjectPacket(hello.Packet{Protocol: 0x0800, Data: ipv4})
//
// Faults of the netlink layer (spoofed senders, overruns, full receive
// buffers) come from the underlying endpoints: see Endpoint, Generic and
// Config.BeforeReply.
//
// Differences from the module: generic netlink policy validation is
// modelled only as far as the module's contract names it (reserved
// field, unknown attribute, TEXT without NUL, trailing bytes) and
// without attribute offsets; a packet nobody received is counted in
// PacketsDroppedNoListener even when subscribers exist but their buffers
// were full (the fake cannot tell the two apart); permissions are not
// modelled.
//
// Concurrency: a Module is safe for concurrent use; handlers run in the
// sending goroutine, as the kernel runs them in the sender's context.
package hellotest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nlkit/nlkit/genl"
	"github.com/nlkit/nlkit/genl/genltest"
	"github.com/nlkit/nlkit/hello"
	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/nltest"
)

// DefaultIfIndex is the interface index InjectPacket fills in when a
// Packet has none and Config.IfIndex is zero.
const DefaultIfIndex = 2

// Config configures the fake module. The zero value is the module loaded
// with its defaults.
type Config struct {
	// Protocol is the raw endpoint's protocol number (0 means
	// hello.DefaultProtocol).
	Protocol int
	// IfIndex is the index of the module's interface (0 means
	// DefaultIfIndex).
	IfIndex int32
	// ReceiveBuffer is the default receive buffer of user sockets in
	// bytes (see nltest.Config.ReceiveBuffer).
	ReceiveBuffer int
	// BeforeReply, if set, runs for every raw request the module is
	// about to answer successfully, before its reply is sent: a test can
	// send spoofed or stale replies first (r.Endpoint().SpoofUnicast,
	// r.Endpoint().Unicast with another sequence number).
	BeforeReply func(r *nltest.Request)
}

// Module is the fake nlhello module.
type Module struct {
	cfg Config
	raw *nltest.Endpoint
	gk  *genltest.Kernel

	famMu sync.Mutex
	fam   genl.Family // as registered

	msgsReceived, repliesSent, errorsSent   atomic.Uint64
	passed, droppedNoListener, droppedNoMem atomic.Uint64
	droppedBufferFull                       atomic.Uint64
}

// New returns the module loaded with cfg (nil for the defaults).
func New(cfg *Config) *Module {
	m := &Module{}
	if cfg != nil {
		m.cfg = *cfg
	}
	if m.cfg.Protocol == 0 {
		m.cfg.Protocol = hello.DefaultProtocol
	}
	if m.cfg.IfIndex == 0 {
		m.cfg.IfIndex = DefaultIfIndex
	}
	m.raw = nltest.NewEndpoint(m.cfg.Protocol, nltest.Config{
		Groups:        1, // NLHELLO_GROUPS
		Input:         m.rawInput,
		ReceiveBuffer: m.cfg.ReceiveBuffer,
	})
	m.gk = genltest.New()
	m.register()
	return m
}

// register adds the family to the fake generic netlink kernel.
func (m *Module) register() {
	f := m.gk.Register(genl.Family{
		Name: hello.FamilyName, Version: hello.FamilyVersion, MaxAttr: hello.AttrText,
		Ops: []genl.Op{
			{ID: uint32(hello.CmdHello), Flags: genl.OpCapDo | genl.OpCapHasPolicy},
			{ID: uint32(hello.CmdGetStats), Flags: genl.OpCapDo | genl.OpCapHasPolicy},
		},
		Groups: []genl.MulticastGroup{{Name: hello.FamilyGroupPackets}},
	}, m.genlInput)
	m.famMu.Lock()
	m.fam = f
	m.famMu.Unlock()
}

// Endpoint returns the raw endpoint, for netlink-level faults (overruns,
// spoofed senders) and raw Conns.
func (m *Module) Endpoint() *nltest.Endpoint { return m.raw }

// Generic returns the fake generic netlink kernel the family is
// registered with.
func (m *Module) Generic() *genltest.Kernel { return m.gk }

// Family returns the family as currently registered.
func (m *Module) Family() genl.Family {
	m.famMu.Lock()
	defer m.famMu.Unlock()
	return m.fam
}

// ReloadFamily unregisters the family and registers it again under a
// new ID, as rmmod and insmod do: requests to the old ID fail with
// ENOENT. It returns the family as registered again.
func (m *Module) ReloadFamily() genl.Family {
	m.gk.Unregister(hello.FamilyName)
	m.register()
	return m.Family()
}

// Dial returns a raw client on the module; cfg may be nil.
func (m *Module) Dial(cfg *netlink.Config) (*hello.Client, error) {
	c, err := m.raw.Dial(cfg)
	if err != nil {
		return nil, err
	}
	return hello.NewClient(c), nil
}

// DialGeneric returns a generic netlink client on the module's family.
func (m *Module) DialGeneric(ctx context.Context, cfg *netlink.Config) (*hello.GenericClient, error) {
	c, err := m.gk.Dial(cfg)
	if err != nil {
		return nil, err
	}
	g, err := hello.NewGenericClient(ctx, c)
	if err != nil {
		c.Close()
		return nil, err
	}
	return g, nil
}

// Watch returns a subscription to the raw endpoint's packets.
func (m *Module) Watch(cfg *netlink.Config) (*hello.Subscription, error) {
	c, err := m.raw.Dial(cfg)
	if err != nil {
		return nil, err
	}
	s, err := hello.NewSubscription(c)
	if err != nil {
		c.Close()
		return nil, err
	}
	return s, nil
}

// WatchGeneric returns a subscription to the family's "packets" group.
func (m *Module) WatchGeneric(ctx context.Context, cfg *netlink.Config) (*hello.Subscription, error) {
	c, err := m.gk.Dial(cfg)
	if err != nil {
		return nil, err
	}
	s, err := hello.NewGenericSubscription(ctx, c)
	if err != nil {
		c.Close()
		return nil, err
	}
	return s, nil
}

// Stats returns the module's counters.
func (m *Module) Stats() hello.Stats {
	return hello.Stats{
		MsgsReceived:             m.msgsReceived.Load(),
		RepliesSent:              m.repliesSent.Load(),
		PacketsPassed:            m.passed.Load(),
		PacketsDroppedNoListener: m.droppedNoListener.Load(),
		PacketsDroppedBufferFull: m.droppedBufferFull.Load(),
		ErrorsSent:               m.errorsSent.Load(),
		PacketsDroppedNoMem:      m.droppedNoMem.Load(),
	}
}

// InjectPacket passes a packet up as if the interface had sent it: it
// multicasts a notification to the raw endpoint's group 1 and to the
// family's "packets" group and counts it. Missing fields are filled in
// as the module would: IfIndex (the module's interface), Length
// (len(Data)), Timestamp (now); Data is cut to hello.PacketCap bytes and
// CapLen set. It returns the notification as sent, and
// syscall.ESRCH if no subscriber received it.
func (m *Module) InjectPacket(p hello.Packet) (hello.Packet, error) {
	if p.IfIndex == 0 {
		p.IfIndex = m.cfg.IfIndex
	}
	if p.Length == 0 {
		p.Length = uint32(len(p.Data))
	}
	if p.Timestamp.IsZero() {
		p.Timestamp = time.Now()
	}
	n := min(uint64(len(p.Data)), hello.PacketCap, uint64(p.Length))
	p.Data = append([]byte(nil), p.Data[:n]...)
	p.CapLen = uint32(n)
	attrs, err := p.MarshalBinary()
	if err != nil {
		return p, err
	}
	rawN, rawErr := m.raw.Multicast(hello.GroupPackets, netlink.Message{
		Header: netlink.Header{Type: hello.MsgPacket},
		Data:   attrs,
	})
	genlN, genlErr := m.gk.Multicast(hello.FamilyName, hello.FamilyGroupPackets, genl.Message{
		Header: genl.Header{Command: uint8(hello.CmdPacket), Version: hello.FamilyVersion},
		Data:   attrs,
	})
	switch {
	case rawN > 0 || genlN > 0:
		m.passed.Add(1)
		return p, nil
	case errors.Is(rawErr, syscall.ESRCH) && errors.Is(genlErr, syscall.ESRCH):
		m.droppedNoListener.Add(1)
		return p, syscall.ESRCH
	default:
		m.droppedNoMem.Add(1)
		return p, errors.Join(rawErr, genlErr)
	}
}

// modErr is a module error with its extended-ack text, counted.
func (m *Module) modErr(errno syscall.Errno, msg string) error {
	m.errorsSent.Add(1)
	return &nltest.Error{Errno: errno, Message: msg}
}

// rawInput answers one request on the raw endpoint, as nlhello_rcv_msg
// does (nltest has already applied netlink_rcv_skb's rules).
func (m *Module) rawInput(r *nltest.Request) error {
	m.msgsReceived.Add(1)
	req := r.Message
	var reply netlink.Message
	switch req.Header.Type {
	case hello.MsgHello, hello.MsgStats:
		if req.Header.Flags&netlink.Dump == netlink.Dump {
			return m.modErr(syscall.EOPNOTSUPP, "dump is not supported")
		}
		if req.Header.Type == hello.MsgHello {
			if len(req.Data) == 0 {
				return m.modErr(syscall.EINVAL, "hello: empty payload, expected NUL-terminated text")
			}
			if !hasNUL(req.Data) {
				return m.modErr(syscall.EINVAL, "hello: text is not NUL-terminated")
			}
			reply = netlink.Message{Header: netlink.Header{Type: hello.MsgHello}, Data: []byte(hello.ReplyText + "\x00")}
		} else {
			if len(req.Data) != 0 {
				return m.modErr(syscall.EINVAL, "stats: request takes no payload")
			}
			data, err := m.Stats().MarshalBinary()
			if err != nil {
				return m.modErr(syscall.EMSGSIZE, "")
			}
			reply = netlink.Message{Header: netlink.Header{Type: hello.MsgStats}, Data: data}
		}
	case hello.MsgPacket:
		return m.modErr(syscall.EOPNOTSUPP, "packet messages are sent by the kernel only")
	default:
		return m.modErr(syscall.EOPNOTSUPP, "unknown message type")
	}
	if m.cfg.BeforeReply != nil {
		m.cfg.BeforeReply(r)
	}
	// Raw replies carry port 0 and the request's sequence (nlmsg_put(skb,
	// 0, seq, ...)); nltest's Request.Reply would put the requester's port.
	reply.Header.Sequence = req.Header.Sequence
	if err := r.Endpoint().Unicast(r.Port, reply); err != nil {
		m.errorsSent.Add(1)
		return err
	}
	m.repliesSent.Add(1)
	return nil
}

func hasNUL(b []byte) bool {
	for _, c := range b {
		if c == 0 {
			return true
		}
	}
	return false
}

// genlInput answers one request to the family, after the checks the
// generic netlink core makes (command known, "do" only) and the strict
// policy validation the module's family asks for.
func (m *Module) genlInput(r *genltest.Request) error {
	if r.Message.Header.Reserved != 0 {
		return &nltest.Error{Errno: syscall.EINVAL, Message: "genlmsghdr.reserved field is not 0"}
	}
	hasText := false
	d := netlink.NewAttributeDecoder(r.Message.Data)
	for d.Next() {
		switch d.Type() {
		case hello.AttrText:
			b := d.Bytes()
			if len(b) == 0 || !hasNUL(b) {
				return &nltest.Error{Errno: syscall.EINVAL, Message: "Attribute failed policy validation"}
			}
			hasText = true
		default:
			return &nltest.Error{Errno: syscall.EINVAL, Message: "Unknown attribute type"}
		}
	}
	if d.Err() != nil {
		return &nltest.Error{Errno: syscall.EINVAL, Message: "bytes leftover after parsing attributes"}
	}
	m.msgsReceived.Add(1)
	var e netlink.AttributeEncoder
	cmd := hello.Command(r.Message.Header.Command)
	switch cmd {
	case hello.CmdHello:
		if !hasText {
			return m.modErr(syscall.EINVAL, "hello: missing TEXT attribute")
		}
		e.String(hello.AttrText, hello.ReplyText)
	case hello.CmdGetStats:
		for _, c := range m.Stats().Counters() {
			e.Uint64(uint16(c.Attr), c.Value)
		}
	default:
		return m.modErr(syscall.EOPNOTSUPP, "")
	}
	data, err := e.Encode()
	if err != nil {
		return m.modErr(syscall.EMSGSIZE, "")
	}
	err = r.Reply(genl.Message{Header: genl.Header{Command: uint8(cmd), Version: hello.FamilyVersion}, Data: data})
	if err != nil {
		m.errorsSent.Add(1)
		return err
	}
	m.repliesSent.Add(1)
	return nil
}
