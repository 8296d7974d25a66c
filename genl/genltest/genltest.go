// Package genltest is a fake generic netlink kernel for unit tests of
// family clients: the controller ("nlctrl") and the families a test
// registers, on an nltest endpoint, so that genl.Conn and any client
// built on it run unchanged and need no privileges.
//
//	k := genltest.New()
//	f := k.Register(genl.Family{
//		Name: "nlhello", Version: 1,
//		Ops:    []genl.Op{{ID: 1, Flags: genl.OpCapDo}},
//		Groups: []genl.MulticastGroup{{Name: "packets"}},
//	}, func(r *genltest.Request) error {
//		// r.Message is the genl request; answer it or return an error
//		// (a syscall.Errno or an *nltest.Error with extended-ack text).
//		return r.Reply(genl.Message{Header: genl.Header{Command: 1, Version: 1}, Data: attrs})
//	})
//	c, err := k.Dial(nil) // a *genl.Conn
//	fam, err := c.Family(ctx, "nlhello") // fam.ID == f.ID
//	k.Multicast("nlhello", "packets", genl.Message{...})
//
// The controller answers CTRL_CMD_GETFAMILY by name (ENOENT for an
// unknown name) and as a dump, and announces Register and Unregister on
// its "notify" group (CTRL_CMD_NEWFAMILY, CTRL_CMD_DELFAMILY), as the
// kernel does. Requests to a family are checked as the kernel's
// genl_family_rcv_msg does before the handler runs: an unknown family ID
// is ENOENT, a message shorter than the genl header EINVAL, and when the
// family lists Ops, an unknown command or a "do" or dump the command
// cannot serve EOPNOTSUPP. Permissions are not modelled.
//
// Concurrency: a Kernel is safe for concurrent use; handlers run in the
// sending goroutine, as nltest's input callback does.
package genltest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"

	"github.com/nlkit/nlkit/genl"
	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/nltest"
)

// Controller constants (linux/genetlink.h).
const (
	ctrlID             = 0x10 // GENL_ID_CTRL
	ctrlNotifyGroup    = 0x10 // the id of nlctrl's "notify" group
	ctrlCmdNewFamily   = 1    // CTRL_CMD_NEWFAMILY
	ctrlCmdDelFamily   = 2    // CTRL_CMD_DELFAMILY
	ctrlCmdGetFamily   = 3    // CTRL_CMD_GETFAMILY
	ctrlCmdGetPolicy   = 10   // CTRL_CMD_GETPOLICY
	ctrlAttrFamilyID   = 1    // CTRL_ATTR_FAMILY_ID
	ctrlAttrFamilyName = 2    // CTRL_ATTR_FAMILY_NAME
	maxGroups          = 1024 // group IDs the fake endpoint accepts
)

// Handler answers one request to a registered family.
type Handler func(r *Request) error

// Request is one generic netlink request, as a family's handler sees it.
type Request struct {
	// Raw is the netlink-level request: the sender's port and socket
	// options, and Dump and Multicast for multi-part answers.
	Raw *nltest.Request
	// Family is the family the request was sent to.
	Family genl.Family
	// Message is the request's genl header and attributes; Message.Netlink
	// holds its netlink header (flags: netlink.Dump for a dump).
	Message genl.Message
}

// IsDump reports whether the request asked for a dump (NLM_F_DUMP).
func (r *Request) IsDump() bool {
	return r.Message.Netlink.Flags&netlink.Dump == netlink.Dump
}

func toNetlink(family uint16, msgs []genl.Message) ([]netlink.Message, error) {
	out := make([]netlink.Message, 0, len(msgs))
	for _, m := range msgs {
		b, err := m.MarshalBinary()
		if err != nil {
			return nil, err
		}
		h := m.Netlink
		h.Type = netlink.HeaderType(family)
		out = append(out, netlink.Message{Header: h, Data: b})
	}
	return out, nil
}

// Reply unicasts msgs, in one datagram, to the requester, as messages of
// the request's family with the request's sequence number.
func (r *Request) Reply(msgs ...genl.Message) error {
	nl, err := toNetlink(r.Family.ID, msgs)
	if err != nil {
		return err
	}
	return r.Raw.Reply(nl...)
}

// Dump answers with a multi-part reply of msgs, ended by NLMSG_DONE; see
// nltest.Request.Dump.
func (r *Request) Dump(msgs []genl.Message, opts nltest.DumpOptions) error {
	nl, err := toNetlink(r.Family.ID, msgs)
	if err != nil {
		return err
	}
	return r.Raw.Dump(nl, opts)
}

type family struct {
	f genl.Family
	h Handler
}

// Kernel is a fake generic netlink kernel.
type Kernel struct {
	ep *nltest.Endpoint

	mu        sync.Mutex
	byID      map[uint16]*family
	byName    map[string]*family
	nextID    uint16
	nextGroup uint32
}

// New returns a fake kernel with only the controller registered.
func New() *Kernel {
	k := &Kernel{
		byID: map[uint16]*family{}, byName: map[string]*family{},
		nextID: ctrlID + 1, nextGroup: ctrlNotifyGroup + 1,
	}
	k.ep = nltest.NewEndpoint(netlink.Generic, nltest.Config{Groups: maxGroups, Input: k.input})
	ctrl := &family{f: genl.Family{
		ID: ctrlID, Name: "nlctrl", Version: 2, MaxAttr: 10,
		Ops: []genl.Op{
			{ID: ctrlCmdGetFamily, Flags: genl.OpCapDo | genl.OpCapDump | genl.OpCapHasPolicy},
			{ID: ctrlCmdGetPolicy, Flags: genl.OpCapDump | genl.OpCapHasPolicy},
		},
		Groups: []genl.MulticastGroup{{ID: ctrlNotifyGroup, Name: "notify"}},
	}}
	ctrl.h = k.controller
	k.byID[ctrlID], k.byName["nlctrl"] = ctrl, ctrl
	return k
}

// Endpoint returns the underlying nltest endpoint, for overruns,
// spoofed senders and other netlink-level faults.
func (k *Kernel) Endpoint() *nltest.Endpoint { return k.ep }

// Dial opens a generic netlink Conn to the fake kernel; cfg may be nil.
func (k *Kernel) Dial(cfg *netlink.Config) (*genl.Conn, error) {
	c, err := k.ep.Dial(cfg)
	if err != nil {
		return nil, err
	}
	return genl.NewConn(c), nil
}

// Register adds a family and returns it as registered: a zero ID and
// zero group IDs are assigned, as the kernel assigns them. It panics if
// the name or an explicit ID is taken, a test setup error.
func (k *Kernel) Register(f genl.Family, h Handler) genl.Family {
	k.mu.Lock()
	if k.byName[f.Name] != nil {
		k.mu.Unlock()
		panic(fmt.Sprintf("genltest: family %q registered twice", f.Name))
	}
	if f.ID == 0 {
		for k.byID[k.nextID] != nil {
			k.nextID++
		}
		f.ID = k.nextID
		k.nextID++
	} else if k.byID[f.ID] != nil {
		k.mu.Unlock()
		panic(fmt.Sprintf("genltest: family ID %#x registered twice", f.ID))
	}
	f.Ops = append([]genl.Op(nil), f.Ops...)
	f.Groups = append([]genl.MulticastGroup(nil), f.Groups...)
	for i := range f.Groups {
		if f.Groups[i].ID == 0 {
			f.Groups[i].ID = k.nextGroup
			k.nextGroup++
		}
		if f.Groups[i].ID > maxGroups {
			k.mu.Unlock()
			panic(fmt.Sprintf("genltest: group ID %d above %d", f.Groups[i].ID, maxGroups))
		}
	}
	fam := &family{f: f, h: h}
	k.byID[f.ID], k.byName[f.Name] = fam, fam
	k.mu.Unlock()
	k.notify(ctrlCmdNewFamily, f)
	return f
}

// Unregister removes a family, as unloading its module does: later
// requests to its ID fail with ENOENT. It reports whether it existed.
func (k *Kernel) Unregister(name string) bool {
	k.mu.Lock()
	fam := k.byName[name]
	if fam == nil || fam.f.ID == ctrlID {
		k.mu.Unlock()
		return false
	}
	delete(k.byName, name)
	delete(k.byID, fam.f.ID)
	k.mu.Unlock()
	k.notify(ctrlCmdDelFamily, fam.f)
	return true
}

// notify announces a family change on nlctrl's "notify" group.
func (k *Kernel) notify(cmd uint8, f genl.Family) {
	data, err := f.MarshalBinary()
	if err != nil {
		return
	}
	m := genl.Message{Header: genl.Header{Command: cmd, Version: 2}, Data: data}
	b, _ := m.MarshalBinary()
	_, _ = k.ep.Multicast(ctrlNotifyGroup, netlink.Message{Header: netlink.Header{Type: ctrlID}, Data: b})
}

// Multicast sends msgs as notifications of family to its group (both by
// name). It returns how many sockets received them; ESRCH if none did.
func (k *Kernel) Multicast(familyName, group string, msgs ...genl.Message) (int, error) {
	k.mu.Lock()
	fam := k.byName[familyName]
	k.mu.Unlock()
	if fam == nil {
		return 0, fmt.Errorf("genltest: no family %q: %w", familyName, syscall.ENOENT)
	}
	g, err := fam.f.Group(group)
	if err != nil {
		return 0, err
	}
	nl, err := toNetlink(fam.f.ID, msgs)
	if err != nil {
		return 0, err
	}
	for i := range nl {
		nl[i].Header.Sequence, nl[i].Header.PID = 0, 0
	}
	return k.ep.Multicast(g.ID, nl...)
}

// input dispatches one request, checking it as genl_family_rcv_msg does.
func (k *Kernel) input(r *nltest.Request) error {
	k.mu.Lock()
	fam := k.byID[uint16(r.Message.Header.Type)]
	k.mu.Unlock()
	if fam == nil {
		return syscall.ENOENT
	}
	m, err := genl.ParseMessage(r.Message)
	if err != nil {
		return syscall.EINVAL
	}
	dump := r.Message.Header.Flags&netlink.Dump == netlink.Dump
	if len(fam.f.Ops) > 0 {
		op, ok := fam.f.Op(uint32(m.Header.Command))
		switch {
		case !ok:
			return syscall.EOPNOTSUPP
		case dump && op.Flags&genl.OpCapDump == 0:
			return syscall.EOPNOTSUPP
		case !dump && op.Flags&genl.OpCapDo == 0:
			return syscall.EOPNOTSUPP
		}
	}
	if fam.h == nil {
		return syscall.EOPNOTSUPP
	}
	return fam.h(&Request{Raw: r, Family: fam.f, Message: m})
}

// controller answers CTRL_CMD_GETFAMILY, as ctrl_getfamily and
// ctrl_dumpfamily do.
func (k *Kernel) controller(r *Request) error {
	if r.Message.Header.Command != ctrlCmdGetFamily {
		return syscall.EOPNOTSUPP
	}
	reply := func(f genl.Family) (genl.Message, error) {
		data, err := f.MarshalBinary()
		return genl.Message{Header: genl.Header{Command: ctrlCmdNewFamily, Version: 2}, Data: data}, err
	}
	if r.IsDump() {
		k.mu.Lock()
		fams := make([]genl.Family, 0, len(k.byID))
		for id := uint16(0); id < 0xffff && len(fams) < len(k.byID); id++ {
			if f := k.byID[id]; f != nil {
				fams = append(fams, f.f)
			}
		}
		k.mu.Unlock()
		msgs := make([]genl.Message, 0, len(fams))
		for _, f := range fams {
			m, err := reply(f)
			if err != nil {
				return err
			}
			msgs = append(msgs, m)
		}
		return r.Dump(msgs, nltest.DumpOptions{})
	}
	var name string
	var id uint16
	d := netlink.NewAttributeDecoder(r.Message.Data)
	for d.Next() {
		switch d.Type() {
		case ctrlAttrFamilyName:
			name = d.String()
		case ctrlAttrFamilyID:
			id = d.Uint16()
		}
	}
	if d.Err() != nil {
		return &nltest.Error{Errno: syscall.EINVAL, Message: "malformed attributes"}
	}
	k.mu.Lock()
	var fam *family
	switch {
	case name != "":
		fam = k.byName[name]
	case id != 0:
		fam = k.byID[id]
	default:
		k.mu.Unlock()
		return syscall.EINVAL
	}
	k.mu.Unlock()
	if fam == nil {
		return syscall.ENOENT
	}
	m, err := reply(fam.f)
	if err != nil {
		return err
	}
	return r.Reply(m)
}

// ParseCtrlList parses the text that `genl ctrl list` (iproute2) prints
// into families, for tests that use genl as an independent oracle. Op
// flags are 0 where genl did not print them: iproute2 prints an op's
// capabilities only for families whose own version is 2 or more.
func ParseCtrlList(text string) ([]genl.Family, error) {
	var out []genl.Family
	var cur *genl.Family
	section := ""
	for n, line := range strings.Split(text, "\n") {
		s := strings.TrimSpace(line)
		bad := func(err error) error {
			return fmt.Errorf("genltest: genl ctrl list line %d %q: %w", n+1, line, err)
		}
		switch {
		case s == "":
		case strings.HasPrefix(s, "Name: "):
			out = append(out, genl.Family{Name: strings.TrimPrefix(s, "Name: ")})
			cur, section = &out[len(out)-1], ""
		case cur == nil:
			return nil, bad(errors.New("text before the first family"))
		case strings.HasPrefix(s, "ID: "):
			var id, version uint32
			if _, err := fmt.Sscanf(s, "ID: 0x%x Version: 0x%x header size: %d max attribs: %d",
				&id, &version, &cur.HeaderSize, &cur.MaxAttr); err != nil {
				return nil, bad(err)
			}
			cur.ID, cur.Version = uint16(id), uint8(version)
		case s == "commands supported:":
			section = "ops"
		case s == "multicast groups:":
			section = "groups"
		case strings.HasPrefix(s, "#") && section == "ops":
			var i, id uint32
			if _, err := fmt.Sscanf(s, "#%d: ID-0x%x", &i, &id); err != nil {
				return nil, bad(err)
			}
			cur.Ops = append(cur.Ops, genl.Op{ID: id})
		case strings.HasPrefix(s, "#") && section == "groups":
			var i, id uint32
			var name string
			if _, err := fmt.Sscanf(s, "#%d: ID-0x%x name: %s", &i, &id, &name); err != nil {
				return nil, bad(err)
			}
			cur.Groups = append(cur.Groups, genl.MulticastGroup{ID: id, Name: name})
		case strings.HasPrefix(s, "Capabilities (") && section == "ops" && len(cur.Ops) > 0:
			var fl uint32
			if _, err := fmt.Sscanf(s, "Capabilities (0x%x):", &fl); err != nil {
				return nil, bad(err)
			}
			cur.Ops[len(cur.Ops)-1].Flags = genl.OpFlags(fl)
		case section == "ops" && (strings.HasPrefix(s, "can ") || strings.HasPrefix(s, "has ") || strings.HasPrefix(s, "requires ")):
			// The words of the capabilities just parsed.
		default:
			return nil, bad(errors.New("unexpected line"))
		}
	}
	return out, nil
}
