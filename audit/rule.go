package audit

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

// Filter is the list a rule is on (the low bits of audit_rule_data.flags):
// where in the kernel it is evaluated.
type Filter uint32

// Filters (AUDIT_FILTER_*).
const (
	FilterUser      Filter = 0x00 // AUDIT_FILTER_USER: user-space messages
	FilterTask      Filter = 0x01 // AUDIT_FILTER_TASK: at task creation
	FilterEntry     Filter = 0x02 // AUDIT_FILTER_ENTRY: at syscall entry (deprecated; the kernel refuses it)
	FilterWatch     Filter = 0x03 // AUDIT_FILTER_WATCH: file system watches (internal)
	FilterExit      Filter = 0x04 // AUDIT_FILTER_EXIT: at syscall exit; syscall and watch rules
	FilterExclude   Filter = 0x05 // AUDIT_FILTER_EXCLUDE (AUDIT_FILTER_TYPE): before a record is created
	FilterFS        Filter = 0x06 // AUDIT_FILTER_FS: at __audit_inode_child
	FilterURingExit Filter = 0x07 // AUDIT_FILTER_URING_EXIT: at io_uring operation exit
)

const (
	filterPrepend = 0x10 // AUDIT_FILTER_PREPEND: add at the front of the list
	filterMask    = 0x07 // the list bits of flags (auditctl's AUDIT_FILTER_MASK)
	numFilters    = 8    // AUDIT_NR_FILTERS
)

var filterNames = []string{"user", "task", "entry", "watch", "exit", "exclude", "filesystem", "io_uring"}

// String returns auditctl's name of the list ("exit").
func (f Filter) String() string {
	if int(f) < len(filterNames) {
		return filterNames[f]
	}
	return fmt.Sprintf("filter(%d)", uint32(f))
}

// Action is what a matching rule does (audit_rule_data.action).
type Action uint32

// Actions.
const (
	ActionNever    Action = 0 // AUDIT_NEVER: do not audit
	ActionPossible Action = 1 // AUDIT_POSSIBLE: build a context (deprecated)
	ActionAlways   Action = 2 // AUDIT_ALWAYS: audit
)

var actionNames = []string{"never", "possible", "always"}

// String returns auditctl's name of the action ("always").
func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("action(%d)", uint32(a))
}

// FieldType is what a rule field compares (audit_rule_data.fields[i]).
type FieldType uint32

// Fields (AUDIT_* field numbers).
const (
	FieldPID          FieldType = 0   // AUDIT_PID
	FieldUID          FieldType = 1   // AUDIT_UID
	FieldEUID         FieldType = 2   // AUDIT_EUID
	FieldSUID         FieldType = 3   // AUDIT_SUID
	FieldFSUID        FieldType = 4   // AUDIT_FSUID
	FieldGID          FieldType = 5   // AUDIT_GID
	FieldEGID         FieldType = 6   // AUDIT_EGID
	FieldSGID         FieldType = 7   // AUDIT_SGID
	FieldFSGID        FieldType = 8   // AUDIT_FSGID
	FieldLoginUID     FieldType = 9   // AUDIT_LOGINUID: auid
	FieldPers         FieldType = 10  // AUDIT_PERS: personality
	FieldArch         FieldType = 11  // AUDIT_ARCH: the syscall table (AUDIT_ARCH_X86_64, ...)
	FieldMsgType      FieldType = 12  // AUDIT_MSGTYPE
	FieldSubjUser     FieldType = 13  // AUDIT_SUBJ_USER: string
	FieldSubjRole     FieldType = 14  // AUDIT_SUBJ_ROLE: string
	FieldSubjType     FieldType = 15  // AUDIT_SUBJ_TYPE: string
	FieldSubjSen      FieldType = 16  // AUDIT_SUBJ_SEN: string
	FieldSubjClr      FieldType = 17  // AUDIT_SUBJ_CLR: string
	FieldPPID         FieldType = 18  // AUDIT_PPID
	FieldObjUser      FieldType = 19  // AUDIT_OBJ_USER: string
	FieldObjRole      FieldType = 20  // AUDIT_OBJ_ROLE: string
	FieldObjType      FieldType = 21  // AUDIT_OBJ_TYPE: string
	FieldObjLevLow    FieldType = 22  // AUDIT_OBJ_LEV_LOW: string
	FieldObjLevHigh   FieldType = 23  // AUDIT_OBJ_LEV_HIGH: string
	FieldLoginUIDSet  FieldType = 24  // AUDIT_LOGINUID_SET
	FieldSessionID    FieldType = 25  // AUDIT_SESSIONID
	FieldFSType       FieldType = 26  // AUDIT_FSTYPE: file system magic
	FieldDevMajor     FieldType = 100 // AUDIT_DEVMAJOR
	FieldDevMinor     FieldType = 101 // AUDIT_DEVMINOR
	FieldInode        FieldType = 102 // AUDIT_INODE
	FieldExit         FieldType = 103 // AUDIT_EXIT: syscall return value (signed)
	FieldSuccess      FieldType = 104 // AUDIT_SUCCESS
	FieldWatch        FieldType = 105 // AUDIT_WATCH: a file path (string), auditctl's "path" and -w
	FieldPerm         FieldType = 106 // AUDIT_PERM: Perm bits of a watch
	FieldDir          FieldType = 107 // AUDIT_DIR: a directory tree (string), auditctl's "dir" and -w on a directory
	FieldFileType     FieldType = 108 // AUDIT_FILETYPE: S_IF* bits
	FieldObjUID       FieldType = 109 // AUDIT_OBJ_UID
	FieldObjGID       FieldType = 110 // AUDIT_OBJ_GID
	FieldFieldCompare FieldType = 111 // AUDIT_FIELD_COMPARE: AUDIT_COMPARE_* (auditctl -C)
	FieldExe          FieldType = 112 // AUDIT_EXE: executable path (string)
	FieldSaddrFam     FieldType = 113 // AUDIT_SADDR_FAM: socket address family
	FieldArg0         FieldType = 200 // AUDIT_ARG0: a0
	FieldArg1         FieldType = 201 // AUDIT_ARG1: a1
	FieldArg2         FieldType = 202 // AUDIT_ARG2: a2
	FieldArg3         FieldType = 203 // AUDIT_ARG3: a3
	FieldFilterKey    FieldType = 210 // AUDIT_FILTERKEY: the rule's key (string), auditctl -k
)

// fieldNames are auditctl's names (lib/fieldtab.h), one per field.
var fieldNames = map[FieldType]string{
	FieldPID: "pid", FieldUID: "uid", FieldEUID: "euid", FieldSUID: "suid", FieldFSUID: "fsuid",
	FieldGID: "gid", FieldEGID: "egid", FieldSGID: "sgid", FieldFSGID: "fsgid", FieldLoginUID: "auid",
	FieldPers: "pers", FieldArch: "arch", FieldMsgType: "msgtype", FieldSubjUser: "subj_user",
	FieldSubjRole: "subj_role", FieldSubjType: "subj_type", FieldSubjSen: "subj_sen",
	FieldSubjClr: "subj_clr", FieldPPID: "ppid", FieldObjUser: "obj_user", FieldObjRole: "obj_role",
	FieldObjType: "obj_type", FieldObjLevLow: "obj_lev_low", FieldObjLevHigh: "obj_lev_high",
	FieldLoginUIDSet: "loginuid_set", FieldSessionID: "sessionid", FieldFSType: "fstype",
	FieldDevMajor: "devmajor", FieldDevMinor: "devminor", FieldInode: "inode", FieldExit: "exit",
	FieldSuccess: "success", FieldWatch: "path", FieldPerm: "perm", FieldDir: "dir",
	FieldFileType: "filetype", FieldObjUID: "obj_uid", FieldObjGID: "obj_gid",
	FieldFieldCompare: "field_compare", FieldExe: "exe", FieldSaddrFam: "saddr_fam",
	FieldArg0: "a0", FieldArg1: "a1", FieldArg2: "a2", FieldArg3: "a3", FieldFilterKey: "key",
}

// String returns auditctl's name of the field ("auid", "path", "key").
func (f FieldType) String() string {
	if s, ok := fieldNames[f]; ok {
		return s
	}
	return fmt.Sprintf("field(%d)", uint32(f))
}

// IsString reports whether the field's value is a string (in the rule's
// buffer) rather than a number.
func (f FieldType) IsString() bool {
	switch f {
	case FieldSubjUser, FieldSubjRole, FieldSubjType, FieldSubjSen, FieldSubjClr,
		FieldObjUser, FieldObjRole, FieldObjType, FieldObjLevLow, FieldObjLevHigh,
		FieldWatch, FieldDir, FieldFilterKey, FieldExe:
		return true
	}
	return false
}

// Operator compares a field with its value (audit_rule_data.fieldflags[i]).
type Operator uint32

// Operators.
const (
	OpBitMask        Operator = 0x08000000 // AUDIT_BIT_MASK: "&"
	OpLessThan       Operator = 0x10000000 // AUDIT_LESS_THAN: "<"
	OpGreaterThan    Operator = 0x20000000 // AUDIT_GREATER_THAN: ">"
	OpNotEqual       Operator = 0x30000000 // AUDIT_NOT_EQUAL: "!="
	OpEqual          Operator = 0x40000000 // AUDIT_EQUAL: "="
	OpBitTest        Operator = 0x48000000 // AUDIT_BIT_TEST: "&="
	OpLessOrEqual    Operator = 0x50000000 // AUDIT_LESS_THAN_OR_EQUAL: "<="
	OpGreaterOrEqual Operator = 0x60000000 // AUDIT_GREATER_THAN_OR_EQUAL: ">="

	opMask Operator = 0x78000000 // AUDIT_OPERATORS
)

var operatorSymbols = map[Operator]string{
	OpBitMask: "&", OpLessThan: "<", OpGreaterThan: ">", OpNotEqual: "!=", OpEqual: "=",
	OpBitTest: "&=", OpLessOrEqual: "<=", OpGreaterOrEqual: ">=",
}

// String returns the operator's symbol ("!=").
func (o Operator) String() string {
	if s, ok := operatorSymbols[o]; ok {
		return s
	}
	return fmt.Sprintf("op(%#x)", uint32(o))
}

// Perm is the set of accesses a watch audits (the AUDIT_PERM field).
type Perm uint32

// Permissions.
const (
	PermExec  Perm = 1 // AUDIT_PERM_EXEC: x
	PermWrite Perm = 2 // AUDIT_PERM_WRITE: w
	PermRead  Perm = 4 // AUDIT_PERM_READ: r
	PermAttr  Perm = 8 // AUDIT_PERM_ATTR: a, attribute changes

	// PermAll is what auditctl -w watches without -p.
	PermAll = PermRead | PermWrite | PermExec | PermAttr
)

// String returns the permissions as auditctl prints them, in the order
// r, w, x, a ("wa"); unknown bits follow as a hex number.
func (p Perm) String() string {
	var b strings.Builder
	for _, x := range []struct {
		p Perm
		c byte
	}{{PermRead, 'r'}, {PermWrite, 'w'}, {PermExec, 'x'}, {PermAttr, 'a'}} {
		if p&x.p != 0 {
			b.WriteByte(x.c)
			p &^= x.p
		}
	}
	if p != 0 {
		fmt.Fprintf(&b, "%#x", uint32(p))
	}
	return b.String()
}

// ParsePerm parses permission letters r, w, x and a in any order ("wa").
func ParsePerm(s string) (Perm, error) {
	if s == "" {
		return 0, errors.New("empty permissions: want letters r, w, x and a")
	}
	var p Perm
	for _, c := range s {
		switch c {
		case 'r':
			p |= PermRead
		case 'w':
			p |= PermWrite
		case 'x':
			p |= PermExec
		case 'a':
			p |= PermAttr
		default:
			return 0, fmt.Errorf("bad permission %q in %q: want letters r, w, x and a", c, s)
		}
	}
	return p, nil
}

// Arch is an AUDIT_ARCH_* value: an ELF machine with 64-bit and
// little-endian bits, naming a syscall table.
type Arch uint32

// Architectures (AUDIT_ARCH_*); the Go names follow GOARCH.
const (
	ArchAMD64   Arch = 0xc000003e // AUDIT_ARCH_X86_64
	Arch386     Arch = 0x40000003 // AUDIT_ARCH_I386
	ArchARM64   Arch = 0xc00000b7 // AUDIT_ARCH_AARCH64
	ArchARM     Arch = 0x40000028 // AUDIT_ARCH_ARM
	ArchPPC64LE Arch = 0xc0000015 // AUDIT_ARCH_PPC64LE
	ArchPPC64   Arch = 0x80000015 // AUDIT_ARCH_PPC64
	ArchS390X   Arch = 0x80000016 // AUDIT_ARCH_S390X
	ArchRISCV64 Arch = 0xc00000f3 // AUDIT_ARCH_RISCV64
	ArchLoong64 Arch = 0xc0000102 // AUDIT_ARCH_LOONGARCH64

	arch64Bit Arch = 0x80000000 // __AUDIT_ARCH_64BIT
)

var archNames = map[Arch]string{
	ArchAMD64: "x86_64", Arch386: "i386", ArchARM64: "aarch64", ArchARM: "arm",
	ArchPPC64LE: "ppc64le", ArchPPC64: "ppc64", ArchS390X: "s390x", ArchRISCV64: "riscv64",
	ArchLoong64: "loongarch64",
}

// String returns the kernel's name of the architecture ("x86_64"), or
// the value in hex.
func (a Arch) String() string {
	if s, ok := archNames[a]; ok {
		return s
	}
	return fmt.Sprintf("%#x", uint32(a))
}

// Is64Bit reports whether the architecture's syscall table is 64-bit.
func (a Arch) Is64Bit() bool { return a&arch64Bit != 0 }

// NativeArch returns the architecture of the running program's syscalls
// (from GOARCH), or 0 if this package does not know it.
func NativeArch() Arch { return archFor(runtime.GOARCH) }

func archFor(goarch string) Arch {
	switch goarch {
	case "amd64":
		return ArchAMD64
	case "386":
		return Arch386
	case "arm64":
		return ArchARM64
	case "arm":
		return ArchARM
	case "ppc64le":
		return ArchPPC64LE
	case "ppc64":
		return ArchPPC64
	case "s390x":
		return ArchS390X
	case "riscv64":
		return ArchRISCV64
	case "loong64":
		return ArchLoong64
	}
	return 0
}

// bitness returns the 64-bit and 32-bit syscall tables of a machine whose
// native architecture is native (auditctl's b64 and b32).
func bitness(native Arch) (b64, b32 Arch) {
	switch native {
	case ArchAMD64, Arch386:
		return ArchAMD64, Arch386
	case ArchARM64, ArchARM:
		return ArchARM64, ArchARM
	case ArchPPC64LE:
		return ArchPPC64LE, 0
	case ArchPPC64:
		return ArchPPC64, 0x14 // AUDIT_ARCH_PPC
	case ArchS390X:
		return ArchS390X, 0x16 // AUDIT_ARCH_S390
	}
	if native.Is64Bit() {
		return native, 0
	}
	return 0, native
}

// syscallTable returns the syscall names of arch, or nil if this package
// has no table for it (then rules and output use numbers).
func syscallTable(arch Arch) []string {
	switch arch {
	case ArchAMD64:
		return syscallsX8664[:]
	case Arch386:
		return syscallsI386[:]
	}
	return nil
}

// SyscallName returns the name of syscall nr of arch ("openat"), or ""
// if unknown.
func SyscallName(arch Arch, nr int) string {
	t := syscallTable(arch)
	if nr < 0 || nr >= len(t) {
		return ""
	}
	return t[nr]
}

// ErrUnknownSyscall reports a syscall name that the architecture's table
// does not have.
var ErrUnknownSyscall = errors.New("unknown syscall")

// SyscallNumber returns the number of the syscall called name on arch.
// Errors match ErrUnknownSyscall and name the architecture.
func SyscallNumber(arch Arch, name string) (int, error) {
	t := syscallTable(arch)
	if t == nil {
		return 0, fmt.Errorf("%w %q: no syscall names for arch %v here; give its number", ErrUnknownSyscall, name, arch)
	}
	if i := slices.Index(t, name); i >= 0 && name != "" {
		return i, nil
	}
	return 0, fmt.Errorf("%w %q for arch %v", ErrUnknownSyscall, name, arch)
}

// Syscall mask size (AUDIT_BITMASK_SIZE words of 32 bits) and the class
// bits at its top that the kernel expands (AUDIT_SYSCALL_CLASSES).
const (
	maskWords      = 64
	maxSyscall     = maskWords*32 - 1
	syscallClasses = 16
)

// SyscallMask is the set of syscalls a rule applies to
// (audit_rule_data.mask): bit n is syscall n of the rule's architecture.
type SyscallMask [maskWords]uint32

// Set adds syscall nr (0 to 2047).
func (m *SyscallMask) Set(nr int) error {
	if nr < 0 || nr > maxSyscall {
		return fmt.Errorf("syscall number %d out of range 0-%d", nr, maxSyscall)
	}
	m[nr/32] |= 1 << (nr % 32)
	return nil
}

// Has reports whether syscall nr is in the set.
func (m *SyscallMask) Has(nr int) bool {
	return nr >= 0 && nr <= maxSyscall && m[nr/32]&(1<<(nr%32)) != 0
}

// SetAll selects every syscall (auditctl -S all).
func (m *SyscallMask) SetAll() {
	for i := range m {
		m[i] = ^uint32(0)
	}
}

// All reports whether every syscall is selected. The last word is not
// looked at: its top bits are the syscall classes, which the kernel
// replaces by the syscalls they stand for, so a rule read back differs
// there from the rule added.
func (m *SyscallMask) All() bool {
	for _, w := range m[:maskWords-1] {
		if w != ^uint32(0) {
			return false
		}
	}
	return true
}

// Empty reports whether no syscall is selected.
func (m *SyscallMask) Empty() bool { return *m == SyscallMask{} }

// Numbers returns the selected syscall numbers in order.
func (m *SyscallMask) Numbers() []int {
	var out []int
	for nr := 0; nr <= maxSyscall; nr++ {
		if m.Has(nr) {
			out = append(out, nr)
		}
	}
	return out
}

// normalized is the mask as the kernel keeps it: a mask selecting all
// syscalls with its class bits cleared, so added and listed rules compare
// equal.
func (m SyscallMask) normalized() SyscallMask {
	if m.All() {
		m[maskWords-1] = ^uint32(0) >> syscallClasses
	}
	return m
}

// RuleField is one comparison of a rule: Field Op Value, or Field Op Str
// for string fields (IsString).
type RuleField struct {
	Field FieldType
	Op    Operator
	// Value is the number compared with (unused, 0, for string fields;
	// the kernel's values[i] holds the string's length).
	Value uint32
	// Str is the value of a string field (a path, a key, a label).
	Str string
}

// Rule is an audit rule (struct audit_rule_data), as auditctl adds and
// lists them:
//
//	auditctl -a always,exit -F arch=b64 -S openat -k mykey
//	    Rule{Filter: FilterExit, Action: ActionAlways, Syscalls: {openat},
//	         Fields: [arch = AUDIT_ARCH_X86_64, key = "mykey"]}
//	auditctl -w /etc/passwd -p wa -k passwd
//	    Rule{Filter: FilterExit, Action: ActionAlways, Syscalls: all,
//	         Fields: [path = "/etc/passwd", perm = wa, key = "passwd"]}
//
// String prints it in auditctl -l syntax; ParseRule reads that syntax.
type Rule struct {
	// Filter is the list the rule is on; syscall and watch rules are on
	// FilterExit.
	Filter Filter
	// Prepend puts the rule at the front of its list (auditctl -A,
	// AUDIT_FILTER_PREPEND); the kernel keeps and lists the flag.
	Prepend bool
	// Action is what a match does.
	Action Action
	// Syscalls are the syscalls the rule applies to (exit list).
	Syscalls SyscallMask
	// Fields are the comparisons, all of which must match (at most 64).
	Fields []RuleField
}

// Limits of a rule (AUDIT_MAX_FIELDS, AUDIT_MAX_KEY_LEN) and the size of
// struct audit_rule_data before its string buffer.
const (
	MaxFields  = 64
	MaxKeyLen  = 256
	ruleHdrLen = 4*3 + 4*maskWords + 4*MaxFields*3 + 4 // 1040
	keySep     = "\x01"                                // AUDIT_KEY_SEPARATOR
)

// Errors of rule decoding.
var (
	ErrShortRule = errors.New("audit: rule shorter than struct audit_rule_data")
	ErrBadRule   = errors.New("audit: malformed rule")
)

// WatchRule returns the rule auditctl -w path -p perms -k key adds: on
// the exit list, for all syscalls, comparing the path (a file: use
// DirWatchRule for a directory tree). perms 0 means PermAll; key "" adds
// no key.
func WatchRule(path string, perms Perm, key string) Rule {
	return watchRule(FieldWatch, path, perms, key)
}

// DirWatchRule is WatchRule for a directory and everything under it
// (AUDIT_DIR), what auditctl -w adds when the path is a directory.
func DirWatchRule(path string, perms Perm, key string) Rule {
	return watchRule(FieldDir, path, perms, key)
}

func watchRule(f FieldType, path string, perms Perm, key string) Rule {
	if perms == 0 {
		perms = PermAll
	}
	r := Rule{Filter: FilterExit, Action: ActionAlways}
	r.Syscalls.SetAll()
	r.Fields = []RuleField{{Field: f, Op: OpEqual, Str: path}, {Field: FieldPerm, Op: OpEqual, Value: uint32(perms)}}
	if key != "" {
		r.Fields = append(r.Fields, RuleField{Field: FieldFilterKey, Op: OpEqual, Str: key})
	}
	return r
}

// Keys returns the rule's keys (auditctl joins several -k into one key
// field, separated by \x01), or nil.
func (r Rule) Keys() []string {
	var keys []string
	for _, f := range r.Fields {
		if f.Field == FieldFilterKey {
			keys = append(keys, strings.Split(f.Str, keySep)...)
		}
	}
	return keys
}

// Arch returns the value of the rule's arch field, or 0 if it has none.
func (r Rule) Arch() Arch {
	for _, f := range r.Fields {
		if f.Field == FieldArch && f.Op == OpEqual {
			return Arch(f.Value)
		}
	}
	return 0
}

// Equal reports whether r and o are the same rule to the kernel (which
// is how it finds the rule to delete): same list, flags, action,
// syscalls and fields in the same order. Masks that select all syscalls
// compare equal whatever their class bits (see SyscallMask.All).
func (r Rule) Equal(o Rule) bool {
	if r.Filter != o.Filter || r.Prepend != o.Prepend || r.Action != o.Action ||
		r.Syscalls.normalized() != o.Syscalls.normalized() || len(r.Fields) != len(o.Fields) {
		return false
	}
	for i, f := range r.Fields {
		g := o.Fields[i]
		if f.Field != g.Field || f.Op != g.Op || f.Str != g.Str || (!f.Field.IsString() && f.Value != g.Value) {
			return false
		}
	}
	return true
}

// MarshalBinary encodes r as struct audit_rule_data (native byte order)
// followed by the string fields' bytes, for AUDIT_ADD_RULE and
// AUDIT_DEL_RULE. It checks what the kernel would refuse without saying
// why: more than 64 fields, an unknown operator, a list out of range.
func (r Rule) MarshalBinary() ([]byte, error) {
	if len(r.Fields) > MaxFields {
		return nil, fmt.Errorf("audit: rule has %d fields, the kernel takes at most %d", len(r.Fields), MaxFields)
	}
	if r.Filter >= numFilters {
		return nil, fmt.Errorf("audit: rule on unknown list %d", uint32(r.Filter))
	}
	var buf []byte
	var fields, values, flags [MaxFields]uint32
	for i, f := range r.Fields {
		if _, ok := operatorSymbols[f.Op]; !ok {
			return nil, fmt.Errorf("audit: rule field %v: unknown operator %#x", f.Field, uint32(f.Op))
		}
		fields[i], flags[i], values[i] = uint32(f.Field), uint32(f.Op), f.Value
		if f.Field.IsString() {
			values[i] = uint32(len(f.Str))
			buf = append(buf, f.Str...)
		}
	}
	ne := binary.NativeEndian
	flagsWord := uint32(r.Filter)
	if r.Prepend {
		flagsWord |= filterPrepend
	}
	b := make([]byte, 0, ruleHdrLen+len(buf))
	b = ne.AppendUint32(b, flagsWord)
	b = ne.AppendUint32(b, uint32(r.Action))
	b = ne.AppendUint32(b, uint32(len(r.Fields)))
	for _, w := range r.Syscalls {
		b = ne.AppendUint32(b, w)
	}
	for _, arr := range [][MaxFields]uint32{fields, values, flags} {
		for _, v := range arr {
			b = ne.AppendUint32(b, v)
		}
	}
	b = ne.AppendUint32(b, uint32(len(buf)))
	return append(b, buf...), nil
}

// UnmarshalBinary decodes struct audit_rule_data and its strings, as the
// kernel lists rules (AUDIT_LIST_RULES). Every count and length is
// checked against the payload. A field whose fieldflags are 0 takes its
// operator from the high bits of the field number, as the old API
// (struct audit_rule) encoded it.
func (r *Rule) UnmarshalBinary(b []byte) error {
	if len(b) < ruleHdrLen {
		return fmt.Errorf("%w: %d bytes, want at least %d", ErrShortRule, len(b), ruleHdrLen)
	}
	ne := binary.NativeEndian
	word := func(i int) uint32 { return ne.Uint32(b[4*i:]) }
	flags, action, count := word(0), word(1), word(2)
	if count > MaxFields {
		return fmt.Errorf("%w: %d fields, at most %d", ErrBadRule, count, MaxFields)
	}
	if flags&^(filterMask|filterPrepend) != 0 {
		return fmt.Errorf("%w: unknown flags %#x", ErrBadRule, flags)
	}
	buflen := word(ruleHdrLen/4 - 1)
	buf := b[ruleHdrLen:]
	if uint64(buflen) > uint64(len(buf)) {
		return fmt.Errorf("%w: string buffer of %d bytes, %d present", ErrBadRule, buflen, len(buf))
	}
	buf = buf[:buflen]
	out := Rule{Filter: Filter(flags & filterMask), Prepend: flags&filterPrepend != 0, Action: Action(action)}
	for i := range out.Syscalls {
		out.Syscalls[i] = word(3 + i)
	}
	const fieldsAt, valuesAt, flagsAt = 3 + maskWords, 3 + maskWords + MaxFields, 3 + maskWords + 2*MaxFields
	for i := 0; i < int(count); i++ {
		field, value, op := word(fieldsAt+i), word(valuesAt+i), Operator(word(flagsAt+i))
		if op == 0 {
			op = Operator(field) & opMask
			field &^= uint32(opMask) | 0x80000000 // AUDIT_NEGATE
		}
		if _, ok := operatorSymbols[op]; !ok {
			return fmt.Errorf("%w: field %d (%v) has unknown operator %#x", ErrBadRule, i, FieldType(field), uint32(op))
		}
		f := RuleField{Field: FieldType(field), Op: op, Value: value}
		if f.Field.IsString() {
			if uint64(value) > uint64(len(buf)) {
				return fmt.Errorf("%w: field %d (%v) string of %d bytes, %d left in the buffer", ErrBadRule, i, f.Field, value, len(buf))
			}
			f.Str, f.Value = string(buf[:value]), 0
			buf = buf[value:]
		}
		out.Fields = append(out.Fields, f)
	}
	*r = out
	return nil
}

// String returns the rule in the syntax auditctl -l prints, which
// ParseRule reads back:
//
//	-w /etc/passwd -p wa -k passwd
//	-a always,exit -F arch=b64 -S openat,openat2 -F auid>=1000 -F key=mykey
//
// Syscalls are named from the table of the rule's arch field (or the
// machine's, without one) where this package has it, else numbered.
func (r Rule) String() string { return r.format(NativeArch()) }

// format is String on a machine whose architecture is native.
func (r Rule) format(native Arch) string {
	if s, ok := r.watchString(); ok {
		return s
	}
	var b strings.Builder
	opt := "-a"
	if r.Prepend {
		opt = "-A"
	}
	fmt.Fprintf(&b, "%s %v,%v", opt, r.Action, r.Filter)
	arch := native
	for _, f := range r.Fields {
		if f.Field == FieldArch {
			fmt.Fprintf(&b, " -F arch%v%s", f.Op, formatArch(Arch(f.Value), native))
			if f.Op == OpEqual {
				arch = Arch(f.Value)
			}
		}
	}
	if r.takesSyscalls() {
		if r.Syscalls.All() {
			b.WriteString(" -S all")
		} else if nums := r.Syscalls.Numbers(); len(nums) > 0 {
			b.WriteString(" -S ")
			for i, nr := range nums {
				if i > 0 {
					b.WriteByte(',')
				}
				if name := SyscallName(arch, nr); name != "" {
					b.WriteString(name)
				} else {
					b.WriteString(strconv.Itoa(nr))
				}
			}
		}
	}
	for _, f := range r.Fields {
		switch f.Field {
		case FieldArch:
			continue
		case FieldFilterKey:
			for _, k := range strings.Split(f.Str, keySep) {
				fmt.Fprintf(&b, " -F key%v%s", f.Op, k)
			}
			continue
		}
		fmt.Fprintf(&b, " -F %v%v%s", f.Field, f.Op, formatFieldValue(f, native))
	}
	return b.String()
}

// takesSyscalls reports whether the rule's list evaluates syscalls (the
// others ignore the mask, and auditctl prints no -S for them).
func (r Rule) takesSyscalls() bool {
	switch r.Filter {
	case FilterUser, FilterTask, FilterExclude, FilterFS:
		return false
	}
	return true
}

// watchString formats a rule that auditctl -w would have added as
// "-w PATH -p PERMS -k KEY": exit list, always, all syscalls, one path or
// dir, a perm, keys, nothing else, every comparison "=".
func (r Rule) watchString() (string, bool) {
	if r.Filter != FilterExit || r.Action != ActionAlways || r.Prepend || !r.Syscalls.All() {
		return "", false
	}
	var path string
	var perm Perm
	var keys []string
	paths, perms := 0, 0
	for _, f := range r.Fields {
		if f.Op != OpEqual {
			return "", false
		}
		switch f.Field {
		case FieldWatch, FieldDir:
			path = f.Str
			paths++
		case FieldPerm:
			perm = Perm(f.Value)
			perms++
		case FieldFilterKey:
			keys = append(keys, strings.Split(f.Str, keySep)...)
		default:
			return "", false
		}
	}
	if paths != 1 || perms != 1 || perm == 0 || perm&^PermAll != 0 {
		return "", false
	}
	s := fmt.Sprintf("-w %s -p %v", path, perm)
	for _, k := range keys {
		s += " -k " + k
	}
	return s, true
}

// formatArch writes an arch value as auditctl does: b64 or b32 for the
// machine's own tables, else the architecture's name.
func formatArch(a, native Arch) string {
	b64, b32 := bitness(native)
	switch {
	case a == b64 && a != 0:
		return "b64"
	case a == b32 && a != 0:
		return "b32"
	}
	if _, ok := archNames[a]; ok {
		return a.String()
	}
	return fmt.Sprintf("%#x", uint32(a))
}

// File types of the filetype field (S_IF* of the file's mode), by
// auditctl's names.
var fileTypes = map[uint32]string{
	0o140000: "socket", 0o120000: "link", 0o100000: "file", 0o060000: "block",
	0o040000: "dir", 0o020000: "character", 0o010000: "fifo",
}

// isID reports whether f holds a user or group ID, where 4294967295
// (-1) means "unset".
func isID(f FieldType) bool {
	switch f {
	case FieldUID, FieldEUID, FieldSUID, FieldFSUID, FieldGID, FieldEGID, FieldSGID, FieldFSGID,
		FieldLoginUID, FieldObjUID, FieldObjGID:
		return true
	}
	return false
}

// ValueString returns the field's value as auditctl -l writes it after
// the operator: a string field's string, "unset" for an unset ID,
// permission letters, -EACCES for an exit code, b64 or b32 for the
// machine's architectures, a message type's or file type's name, else
// the number.
func (f RuleField) ValueString() string { return formatFieldValue(f, NativeArch()) }

// String returns the field as auditctl -l writes it after -F
// ("auid>=1000"), except that a key is written key=VALUE even when it
// holds several keys.
func (f RuleField) String() string { return f.Field.String() + f.Op.String() + f.ValueString() }

// formatFieldValue writes a field's value as auditctl -l does.
func formatFieldValue(f RuleField, native Arch) string {
	if f.Field.IsString() {
		return f.Str
	}
	v := f.Value
	switch {
	case isID(f.Field) && v == ^uint32(0):
		return "unset"
	case f.Field == FieldPerm:
		if p := Perm(v); p != 0 && p&^PermAll == 0 {
			return p.String()
		}
	case f.Field == FieldExit:
		e := int32(v)
		if e < 0 && int(-e) < len(errnoNames) && errnoNames[-e] != "" {
			return "-" + errnoNames[-e]
		}
		return strconv.Itoa(int(e))
	case f.Field == FieldMsgType:
		if _, ok := messageTypeNames[MessageType(v)]; ok && v <= 0xffff {
			return MessageType(v).String()
		}
	case f.Field == FieldFileType:
		if s, ok := fileTypes[v]; ok {
			return s
		}
	case f.Field == FieldFSType, f.Field == FieldArg0, f.Field == FieldArg1, f.Field == FieldArg2, f.Field == FieldArg3:
		return fmt.Sprintf("%#x", v)
	case f.Field == FieldArch:
		return formatArch(Arch(v), native)
	}
	return strconv.FormatUint(uint64(v), 10)
}
