package genl

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nlkit/nlkit/netlink"
)

// The controller: the generic netlink family that names the others
// (linux/genetlink.h).
const (
	ctrlID      = 0x10 // GENL_ID_CTRL
	ctrlName    = "nlctrl"
	ctrlVersion = 2 // the controller's version on every kernel since 2.6.23
)

// Controller commands (enum CTRL_CMD_*).
const (
	ctrlCmdNewFamily   = 1 // CTRL_CMD_NEWFAMILY
	ctrlCmdDelFamily   = 2 // CTRL_CMD_DELFAMILY
	ctrlCmdGetFamily   = 3 // CTRL_CMD_GETFAMILY
	ctrlCmdNewMcastGrp = 7 // CTRL_CMD_NEWMCAST_GRP
	ctrlCmdDelMcastGrp = 8 // CTRL_CMD_DELMCAST_GRP
)

// Controller attributes (enum CTRL_ATTR_*).
const (
	ctrlAttrFamilyID    = 1 // CTRL_ATTR_FAMILY_ID: u16
	ctrlAttrFamilyName  = 2 // CTRL_ATTR_FAMILY_NAME: string
	ctrlAttrVersion     = 3 // CTRL_ATTR_VERSION: u32
	ctrlAttrHdrSize     = 4 // CTRL_ATTR_HDRSIZE: u32
	ctrlAttrMaxAttr     = 5 // CTRL_ATTR_MAXATTR: u32
	ctrlAttrOps         = 6 // CTRL_ATTR_OPS: nested array of ops
	ctrlAttrMcastGroups = 7 // CTRL_ATTR_MCAST_GROUPS: nested array of groups
)

// Attributes of one op (enum CTRL_ATTR_OP_*) and one multicast group
// (enum CTRL_ATTR_MCAST_GRP_*).
const (
	ctrlAttrOpID         = 1 // CTRL_ATTR_OP_ID: u32
	ctrlAttrOpFlags      = 2 // CTRL_ATTR_OP_FLAGS: u32
	ctrlAttrMcastGrpName = 1 // CTRL_ATTR_MCAST_GRP_NAME: string
	ctrlAttrMcastGrpID   = 2 // CTRL_ATTR_MCAST_GRP_ID: u32
)

// genlNameSize is GENL_NAMSIZ: family and group names are at most 15
// bytes plus the NUL.
const genlNameSize = 16

// OpFlags describe what a command of a family can do and who may use it
// (CTRL_ATTR_OP_FLAGS, GENL_* flags).
type OpFlags uint32

// Op flags.
const (
	OpAdminPerm    OpFlags = 0x01 // GENL_ADMIN_PERM: needs CAP_NET_ADMIN in the initial user namespace
	OpCapDo        OpFlags = 0x02 // GENL_CMD_CAP_DO: has a "do" handler (a request with a reply)
	OpCapDump      OpFlags = 0x04 // GENL_CMD_CAP_DUMP: has a dump handler (NLM_F_DUMP)
	OpCapHasPolicy OpFlags = 0x08 // GENL_CMD_CAP_HASPOL: validates attributes against a policy
	OpUnsAdminPerm OpFlags = 0x10 // GENL_UNS_ADMIN_PERM: needs CAP_NET_ADMIN in the family's user namespace
)

// The names of the kernel's netlink spec for nlctrl (op-flags in
// Documentation/netlink/specs/nlctrl.yaml).
var opFlagNames = []struct {
	f    OpFlags
	name string
}{
	{OpAdminPerm, "admin-perm"}, {OpCapDo, "cmd-cap-do"}, {OpCapDump, "cmd-cap-dump"},
	{OpCapHasPolicy, "cmd-cap-haspol"}, {OpUnsAdminPerm, "uns-admin-perm"},
}

// Names returns the names of the flags set, in bit order, with unknown
// bits as one hexadecimal number; an empty (non-nil) slice for none.
func (f OpFlags) Names() []string {
	names := []string{}
	for _, n := range opFlagNames {
		if f&n.f != 0 {
			names = append(names, n.name)
			f &^= n.f
		}
	}
	if f != 0 {
		names = append(names, fmt.Sprintf("%#x", uint32(f)))
	}
	return names
}

// String returns the flag names joined by commas ("cmd-cap-do,cmd-cap-dump"),
// or "0" for none.
func (f OpFlags) String() string {
	if f == 0 {
		return "0"
	}
	return strings.Join(f.Names(), ",")
}

// Op is one command a family supports (CTRL_ATTR_OPS entry).
type Op struct {
	// ID is the command number (Header.Command in requests).
	ID uint32
	// Flags say whether it can "do" and "dump" and who may use it.
	Flags OpFlags
}

// MulticastGroup is one multicast group of a family (CTRL_ATTR_MCAST_GROUPS
// entry). Group IDs are global to the kernel and assigned at registration.
type MulticastGroup struct {
	// ID is the group number to join (netlink.Conn.JoinGroup).
	ID uint32
	// Name is the group's name within its family, such as "notify".
	Name string
}

// Family is a generic netlink family as the controller describes it.
type Family struct {
	// ID is the family's netlink message type (CTRL_ATTR_FAMILY_ID),
	// assigned by the kernel when the family registers; it changes if
	// the family is unregistered and registered again.
	ID uint16
	// Name identifies the family (CTRL_ATTR_FAMILY_NAME), such as
	// "nlctrl", "ethtool" or "TASKSTATS".
	Name string
	// Version is the family's interface version (CTRL_ATTR_VERSION).
	Version uint8
	// HeaderSize is the size of the family's own header after the genl
	// header (CTRL_ATTR_HDRSIZE); 0 for most families.
	HeaderSize uint32
	// MaxAttr is the highest attribute type of the family's policy
	// (CTRL_ATTR_MAXATTR).
	MaxAttr uint32
	// Ops are the family's commands (CTRL_ATTR_OPS).
	Ops []Op
	// Groups are the family's multicast groups (CTRL_ATTR_MCAST_GROUPS).
	Groups []MulticastGroup
}

// ErrGroupNotFound reports that a family has no multicast group of the
// given name.
var ErrGroupNotFound = errors.New("generic netlink multicast group not found")

// Group returns the family's multicast group called name. The error
// satisfies errors.Is(err, ErrGroupNotFound) if there is none.
func (f *Family) Group(name string) (MulticastGroup, error) {
	for _, g := range f.Groups {
		if g.Name == name {
			return g, nil
		}
	}
	return MulticastGroup{}, fmt.Errorf("genl: family %q has no multicast group %q: %w", f.Name, name, ErrGroupNotFound)
}

// Op returns the family's command with the given ID and whether it has
// one.
func (f *Family) Op(id uint32) (Op, bool) {
	for _, o := range f.Ops {
		if o.ID == id {
			return o, true
		}
	}
	return Op{}, false
}

// clone returns a deep copy of f, so cached families are never shared.
func (f *Family) clone() *Family {
	out := *f
	out.Ops = append([]Op(nil), f.Ops...)
	out.Groups = append([]MulticastGroup(nil), f.Groups...)
	return &out
}

// MarshalBinary encodes f as the attributes of a CTRL_CMD_NEWFAMILY
// message (the Data of a Message) byte for byte as the kernel's
// ctrl_fill_info does: name, ID, version, header size and maximum
// attribute always; ops and groups, when there are any, as arrays of
// nests numbered from 1, without NLA_F_NESTED (nla_nest_start_noflag).
func (f *Family) MarshalBinary() ([]byte, error) {
	var e netlink.AttributeEncoder
	e.String(ctrlAttrFamilyName, f.Name)
	e.Uint16(ctrlAttrFamilyID, f.ID)
	e.Uint32(ctrlAttrVersion, uint32(f.Version))
	e.Uint32(ctrlAttrHdrSize, f.HeaderSize)
	e.Uint32(ctrlAttrMaxAttr, f.MaxAttr)
	var list, item netlink.AttributeEncoder
	if len(f.Ops) > 0 {
		list.Reset(nil)
		for i, op := range f.Ops {
			item.Reset(nil)
			item.Uint32(ctrlAttrOpID, op.ID)
			item.Uint32(ctrlAttrOpFlags, uint32(op.Flags))
			b, err := item.Encode()
			if err != nil {
				return nil, fmt.Errorf("genl: encode family %q: op %d: %w", f.Name, op.ID, err)
			}
			list.Raw(uint16(i+1), b)
		}
		b, err := list.Encode()
		if err != nil {
			return nil, fmt.Errorf("genl: encode family %q: ops: %w", f.Name, err)
		}
		e.Raw(ctrlAttrOps, b)
	}
	if len(f.Groups) > 0 {
		list.Reset(nil)
		for i, g := range f.Groups {
			item.Reset(nil)
			item.Uint32(ctrlAttrMcastGrpID, g.ID)
			item.String(ctrlAttrMcastGrpName, g.Name)
			b, err := item.Encode()
			if err != nil {
				return nil, fmt.Errorf("genl: encode family %q: group %q: %w", f.Name, g.Name, err)
			}
			list.Raw(uint16(i+1), b)
		}
		b, err := list.Encode()
		if err != nil {
			return nil, fmt.Errorf("genl: encode family %q: groups: %w", f.Name, err)
		}
		e.Raw(ctrlAttrMcastGroups, b)
	}
	b, err := e.Encode()
	if err != nil {
		return nil, fmt.Errorf("genl: encode family %q: %w", f.Name, err)
	}
	return b, nil
}

// UnmarshalBinary decodes the attributes of a CTRL_CMD_NEWFAMILY message
// (the Data of a Message, after the genl header) into f. Unknown
// attributes are skipped. f owns its memory; it does not alias b.
func (f *Family) UnmarshalBinary(b []byte) error {
	*f = Family{}
	d := netlink.NewAttributeDecoder(b)
	for d.Next() {
		switch d.Type() {
		case ctrlAttrFamilyID:
			f.ID = d.Uint16()
		case ctrlAttrFamilyName:
			f.Name = d.String()
		case ctrlAttrVersion:
			v := d.Uint32()
			if v > 0xff {
				return fmt.Errorf("genl: decode family %q: version %d does not fit the genl header's byte", f.Name, v)
			}
			f.Version = uint8(v)
		case ctrlAttrHdrSize:
			f.HeaderSize = d.Uint32()
		case ctrlAttrMaxAttr:
			f.MaxAttr = d.Uint32()
		case ctrlAttrOps:
			d.Nested(f.decodeOps)
		case ctrlAttrMcastGroups:
			d.Nested(f.decodeGroups)
		}
	}
	if err := d.Err(); err != nil {
		return fmt.Errorf("genl: decode family %q: %w", f.Name, err)
	}
	return nil
}

// decodeOps decodes CTRL_ATTR_OPS: one nested attribute per op, whose
// type is its position (1, 2, ...).
func (f *Family) decodeOps(d *netlink.AttributeDecoder) error {
	for d.Next() {
		var op Op
		d.Nested(func(d *netlink.AttributeDecoder) error {
			for d.Next() {
				switch d.Type() {
				case ctrlAttrOpID:
					op.ID = d.Uint32()
				case ctrlAttrOpFlags:
					op.Flags = OpFlags(d.Uint32())
				}
			}
			return nil
		})
		f.Ops = append(f.Ops, op)
	}
	if err := d.Err(); err != nil {
		return fmt.Errorf("ops: %w", err)
	}
	return nil
}

// decodeGroups decodes CTRL_ATTR_MCAST_GROUPS, an array like the ops.
func (f *Family) decodeGroups(d *netlink.AttributeDecoder) error {
	for d.Next() {
		var g MulticastGroup
		d.Nested(func(d *netlink.AttributeDecoder) error {
			for d.Next() {
				switch d.Type() {
				case ctrlAttrMcastGrpName:
					g.Name = d.String()
				case ctrlAttrMcastGrpID:
					g.ID = d.Uint32()
				}
			}
			return nil
		})
		f.Groups = append(f.Groups, g)
	}
	if err := d.Err(); err != nil {
		return fmt.Errorf("multicast groups: %w", err)
	}
	return nil
}
