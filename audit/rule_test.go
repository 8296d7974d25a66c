package audit

import (
	"encoding/binary"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// amd64 parses as on an x86-64 machine, whatever this one is.
var amd64 = RuleParser{Arch: ArchAMD64}

func parse(t *testing.T, s string) Rule {
	t.Helper()
	r, err := amd64.Parse(strings.Fields(s))
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return r
}

func TestParseRuleForms(t *testing.T) {
	all := SyscallMask{}
	all.SetAll()
	var openat, unlinks SyscallMask
	openat.Set(257)
	unlinks.Set(87)
	unlinks.Set(263)
	tests := []struct {
		in   string
		want Rule
		out  string // String(); "" means in
	}{
		{
			"-w /etc/passwd -p wa -k passwd",
			Rule{Filter: FilterExit, Action: ActionAlways, Syscalls: all, Fields: []RuleField{
				{Field: FieldWatch, Op: OpEqual, Str: "/etc/passwd"},
				{Field: FieldPerm, Op: OpEqual, Value: uint32(PermWrite | PermAttr)},
				{Field: FieldFilterKey, Op: OpEqual, Str: "passwd"},
			}},
			"",
		},
		{
			"-a always,exit -F arch=b64 -S openat -k mykey",
			Rule{Filter: FilterExit, Action: ActionAlways, Syscalls: openat, Fields: []RuleField{
				{Field: FieldArch, Op: OpEqual, Value: uint32(ArchAMD64)},
				{Field: FieldFilterKey, Op: OpEqual, Str: "mykey"},
			}},
			"-a always,exit -F arch=b64 -S openat -F key=mykey",
		},
		{
			"-a exit,always -S unlinkat -F arch=b64 -S unlink -F auid>=1000 -F auid!=-1 -k a -k b",
			Rule{Filter: FilterExit, Action: ActionAlways, Syscalls: unlinks, Fields: []RuleField{
				{Field: FieldArch, Op: OpEqual, Value: uint32(ArchAMD64)},
				{Field: FieldLoginUID, Op: OpGreaterOrEqual, Value: 1000},
				{Field: FieldLoginUID, Op: OpNotEqual, Value: 0xffffffff},
				{Field: FieldFilterKey, Op: OpEqual, Str: "a\x01b"},
			}},
			"-a always,exit -F arch=b64 -S unlink,unlinkat -F auid>=1000 -F auid!=unset -F key=a -F key=b",
		},
		{
			"-w /etc/ -k etc",
			Rule{Filter: FilterExit, Action: ActionAlways, Syscalls: all, Fields: []RuleField{
				{Field: FieldDir, Op: OpEqual, Str: "/etc"},
				{Field: FieldPerm, Op: OpEqual, Value: uint32(PermAll)},
				{Field: FieldFilterKey, Op: OpEqual, Str: "etc"},
			}},
			"-w /etc -p rwxa -k etc",
		},
		{
			"-A never,task",
			Rule{Filter: FilterTask, Action: ActionNever, Prepend: true},
			"",
		},
		{
			"-a always,exclude -F msgtype=CWD",
			Rule{Filter: FilterExclude, Action: ActionAlways, Fields: []RuleField{{Field: FieldMsgType, Op: OpEqual, Value: uint32(MsgCWD)}}},
			"",
		},
		{
			"-a always,exit -F arch=b32 -S open,execve -F exit=-EACCES -F success=0 -F filetype=dir -F a0&=0x10 -F perm=rx",
			func() Rule {
				var m SyscallMask
				m.Set(5)
				m.Set(11)
				return Rule{Filter: FilterExit, Action: ActionAlways, Syscalls: m, Fields: []RuleField{
					{Field: FieldArch, Op: OpEqual, Value: uint32(Arch386)},
					{Field: FieldExit, Op: OpEqual, Value: uint32(0xfffffff3)},
					{Field: FieldSuccess, Op: OpEqual, Value: 0},
					{Field: FieldFileType, Op: OpEqual, Value: 0o040000},
					{Field: FieldArg0, Op: OpBitTest, Value: 0x10},
					{Field: FieldPerm, Op: OpEqual, Value: uint32(PermRead | PermExec)},
				}}
			}(),
			"",
		},
		{
			"-a always,exit -S all -F path=/etc/shadow -F perm=r -F exe=/usr/bin/cat",
			Rule{Filter: FilterExit, Action: ActionAlways, Syscalls: all, Fields: []RuleField{
				{Field: FieldWatch, Op: OpEqual, Str: "/etc/shadow"},
				{Field: FieldPerm, Op: OpEqual, Value: uint32(PermRead)},
				{Field: FieldExe, Op: OpEqual, Str: "/usr/bin/cat"},
			}},
			"",
		},
	}
	for _, tt := range tests {
		r := parse(t, tt.in)
		if !reflect.DeepEqual(r, tt.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tt.in, r, tt.want)
			continue
		}
		want := tt.out
		if want == "" {
			want = tt.in
		}
		if s := r.format(ArchAMD64); s != want {
			t.Errorf("%q prints as %q, want %q", tt.in, s, want)
		}
		// What String prints parses back to the same rule (a directory
		// is known as one by asking the file system, as auditctl does).
		isDir := RuleParser{Arch: ArchAMD64, IsDir: func(p string) bool { return p == "/etc" }}
		if back, err := isDir.Parse(strings.Fields(r.format(ArchAMD64))); err != nil || !back.Equal(r) {
			t.Errorf("%q: printed and parsed again: %+v, %v", tt.in, back, err)
		}
		// And the wire format keeps it.
		b, err := r.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var dec Rule
		if err := dec.UnmarshalBinary(b); err != nil || !reflect.DeepEqual(dec, r) {
			t.Errorf("%q: binary round trip %+v, %v", tt.in, dec, err)
		}
	}
	// A syscall number outside the mask.
	if _, err := amd64.Parse(strings.Fields("-a always,exit -S 9999")); !errors.Is(err, ErrRuleSyntax) || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("-S 9999: %v", err)
	}
	// Numbers for syscalls without a name.
	r := parse(t, "-a always,exit -S 1000 -Fkey=k")
	if !r.Syscalls.Has(1000) || r.format(ArchAMD64) != "-a always,exit -S 1000 -F key=k" {
		t.Errorf("-S 1000: %v", r.format(ArchAMD64))
	}
}

func TestParseRuleErrors(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", "no rule"},
		{"-w", `missing value after "-w"`},
		{"-w relative", "must be absolute"},
		{"-w /a -w /b", "only one watch"},
		{"-w /a -p rwz", "bad permission 'z'"},
		{"-w /a -p ''", "empty permissions"},
		{"-w /a -S open", "-w /a takes only -p and -k"},
		{"-w /a -F uid=0", "-w /a takes only -p and -k"},
		{"-w /a -a always,exit", "exclude each other"},
		{"-a always,exit -p r", "-p applies to -w only"},
		{"-a always", "want LIST,ACTION"},
		{"-a sometimes,exit", `unknown action "sometimes"`},
		{"-a always,exits", `unknown list "exits"`},
		{"-a always,entry", "deprecated"},
		{"-a always,exit -a never,task", "only one -a"},
		{"-a always,exit -S opnat", `unknown syscall "opnat" for arch x86_64`},
		{"-a always,exit -S open,,close", "empty syscall name"},
		{"-a always,task -S open", "takes no syscalls"},
		{"-a always,exit -F uid", "want NAME OP VALUE"},
		{"-a always,exit -F =0", "want NAME OP VALUE"},
		{"-a always,exit -F foo=1", `unknown field "foo"`},
		{"-a always,exit -F uid=", "missing value"},
		{"-a always,exit -F uid=abc", `bad value "abc"`},
		{"-a always,exit -F uid=4294967296", "bad value"},
		{"-a always,exit -F arch=b16", `unknown arch "b16"`},
		{"-a always,exit -F exit=-ENOTANERRNO", `unknown errno "ENOTANERRNO"`},
		{"-a always,exit -F key!=x", "key takes only ="},
		{"-a always,exit -F path<x", "takes only = or !="},
		{"-a always,exit -F msgtype=NOSUCH", "unknown message type"},
		{"-a always,exit -k " + strings.Repeat("k", 257), "at most 256"},
		{"-a always,exit -k " + strings.Repeat("k", 200) + " -k " + strings.Repeat("k", 100), "at most 256"},
		{"-x y", `unknown option`},
		{"always,exit", "unexpected"},
	}
	for _, tt := range tests {
		args := strings.Fields(tt.in)
		for i, a := range args {
			if a == "''" {
				args[i] = ""
			}
		}
		_, err := amd64.Parse(args)
		if !errors.Is(err, ErrRuleSyntax) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want an ErrRuleSyntax saying %q", tt.in, err, tt.want)
		}
	}
	_, err := amd64.Parse(strings.Fields("-a always,exit -S opnat"))
	if !errors.Is(err, ErrUnknownSyscall) {
		t.Errorf("unknown syscall does not match ErrUnknownSyscall: %v", err)
	}
	// An arch without a table here: numbers only.
	arm := RuleParser{Arch: ArchARM64}
	if _, err := arm.Parse(strings.Fields("-a always,exit -S openat")); !errors.Is(err, ErrUnknownSyscall) || !strings.Contains(err.Error(), "give its number") {
		t.Errorf("arm64 -S openat: %v", err)
	}
	if r, err := arm.Parse(strings.Fields("-a always,exit -F arch=b32 -S 56")); err != nil || r.Arch() != ArchARM || !r.Syscalls.Has(56) {
		t.Errorf("arm64 -F arch=b32 -S 56: %+v, %v", r, err)
	}
}

func TestParseRuleIsDir(t *testing.T) {
	p := RuleParser{Arch: ArchAMD64, IsDir: func(path string) bool { return path == "/etc" }}
	for in, want := range map[string]FieldType{"-w /etc": FieldDir, "-w /etc/passwd": FieldWatch, "-w /var/log/": FieldDir, "-w /": FieldWatch} {
		r, err := p.Parse(strings.Fields(in))
		if err != nil || r.Fields[0].Field != want {
			t.Errorf("%q: %+v, %v; want %v", in, r, err, want)
		}
	}
}

func TestRuleWireLayout(t *testing.T) {
	r := WatchRule("/etc/passwd", PermWrite|PermAttr, "passwd")
	b, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	ne := binary.NativeEndian
	u32 := func(off int) uint32 { return ne.Uint32(b[off:]) }
	// struct audit_rule_data: flags, action, field_count, mask[64],
	// fields[64], values[64], fieldflags[64], buflen, buf[].
	if len(b) != 1040+len("/etc/passwd")+len("passwd") {
		t.Fatalf("%d bytes", len(b))
	}
	checks := []struct {
		name string
		off  int
		want uint32
	}{
		{"flags", 0, 4}, {"action", 4, 2}, {"field_count", 8, 3},
		{"mask[0]", 12, 0xffffffff}, {"mask[63]", 12 + 63*4, 0xffffffff},
		{"fields[0]", 268, 105}, {"fields[1]", 272, 106}, {"fields[2]", 276, 210}, {"fields[3]", 280, 0},
		{"values[0]", 524, 11}, {"values[1]", 528, 0x0a}, {"values[2]", 532, 6},
		{"fieldflags[0]", 780, 0x40000000}, {"fieldflags[2]", 788, 0x40000000},
		{"buflen", 1036, 17},
	}
	for _, c := range checks {
		if got := u32(c.off); got != c.want {
			t.Errorf("%s at %d: %#x, want %#x", c.name, c.off, got, c.want)
		}
	}
	if string(b[1040:]) != "/etc/passwdpasswd" {
		t.Errorf("buf %q", b[1040:])
	}
	r.Prepend = true
	b, _ = r.MarshalBinary()
	if u32(0) != 0x14 {
		t.Errorf("prepended flags %#x, want 0x14", u32(0))
	}
}

func TestRuleUnmarshalErrors(t *testing.T) {
	good, _ := WatchRule("/etc/passwd", 0, "k").MarshalBinary()
	mod := func(off int, v uint32) []byte {
		b := append([]byte(nil), good...)
		binary.NativeEndian.PutUint32(b[off:], v)
		return b
	}
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"short", good[:1039], ErrShortRule},
		{"65 fields", mod(8, 65), ErrBadRule},
		{"unknown flags", mod(0, 0x104), ErrBadRule},
		{"buflen past the end", mod(1036, 100), ErrBadRule},
		{"string past the buffer", mod(524, 50), ErrBadRule},
		{"unknown operator", mod(780, 0x7000000), ErrBadRule},
		{"cut buffer", good[:len(good)-1], ErrBadRule},
	}
	for _, tt := range tests {
		var r Rule
		if err := r.UnmarshalBinary(tt.b); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	// The old API: operator in the field number, fieldflags 0.
	b := mod(268+4, uint32(FieldPerm)|uint32(OpNotEqual))
	binary.NativeEndian.PutUint32(b[784:], 0)
	var r Rule
	if err := r.UnmarshalBinary(b); err != nil || r.Fields[1].Field != FieldPerm || r.Fields[1].Op != OpNotEqual {
		t.Errorf("old-style operator: %+v, %v", r.Fields, err)
	}
}

func TestRuleMarshalErrors(t *testing.T) {
	r := Rule{Filter: FilterExit, Action: ActionAlways}
	for range 65 {
		r.Fields = append(r.Fields, RuleField{Field: FieldUID, Op: OpEqual})
	}
	if _, err := r.MarshalBinary(); err == nil {
		t.Error("65 fields marshalled")
	}
	if _, err := (Rule{Filter: 9}).MarshalBinary(); err == nil {
		t.Error("list 9 marshalled")
	}
	if _, err := (Rule{Fields: []RuleField{{Field: FieldUID, Op: 3}}}).MarshalBinary(); err == nil {
		t.Error("operator 3 marshalled")
	}
}

func TestRuleEqualClassBits(t *testing.T) {
	added := WatchRule("/x", PermWrite, "k")
	listed := added
	listed.Syscalls[63] = 0x0000ffff // as the kernel lists it
	if !added.Equal(listed) || !listed.Equal(added) {
		t.Error("a watch as added and as listed differ")
	}
	if listed.String() != "-w /x -p w -k k" {
		t.Errorf("listed watch prints as %q", listed.String())
	}
	other := added
	other.Fields = append([]RuleField(nil), added.Fields...)
	other.Fields[1].Value = uint32(PermRead)
	if added.Equal(other) {
		t.Error("different perms equal")
	}
	var some SyscallMask
	some.Set(2)
	if (Rule{Syscalls: some}).Equal(Rule{}) {
		t.Error("different syscalls equal")
	}
}

func TestRuleStringNotWatch(t *testing.T) {
	// Rules that look like watches but are not printed as -w.
	w := WatchRule("/x", PermWrite, "")
	never := w
	never.Action = ActionNever
	extra := w
	extra.Fields = append(append([]RuleField(nil), w.Fields...), RuleField{Field: FieldUID, Op: OpEqual, Value: 0})
	noperm := w
	noperm.Fields = w.Fields[:1]
	for _, r := range []Rule{never, extra, noperm} {
		if s := r.String(); strings.HasPrefix(s, "-w") || !strings.Contains(s, "-S all -F path=/x") {
			t.Errorf("%+v prints as %q", r, s)
		}
	}
}

func TestSyscallNames(t *testing.T) {
	for _, c := range []struct {
		arch Arch
		name string
		nr   int
	}{{ArchAMD64, "openat", 257}, {ArchAMD64, "execve", 59}, {ArchAMD64, "read", 0}, {Arch386, "execve", 11}, {Arch386, "openat", 295}} {
		nr, err := SyscallNumber(c.arch, c.name)
		if err != nil || nr != c.nr || SyscallName(c.arch, c.nr) != c.name {
			t.Errorf("%v %s: %d, %v", c.arch, c.name, nr, err)
		}
	}
	if SyscallName(ArchAMD64, 5000) != "" || SyscallName(ArchAMD64, -1) != "" || SyscallName(ArchARM64, 1) != "" {
		t.Error("names for unknown numbers")
	}
	if _, err := SyscallNumber(ArchAMD64, ""); !errors.Is(err, ErrUnknownSyscall) {
		t.Errorf("empty name: %v", err)
	}
}

func TestSyscallMask(t *testing.T) {
	var m SyscallMask
	if !m.Empty() || m.All() {
		t.Error("zero mask")
	}
	for _, nr := range []int{0, 31, 32, 2047} {
		if err := m.Set(nr); err != nil || !m.Has(nr) {
			t.Errorf("Set(%d): %v", nr, err)
		}
	}
	if m.Set(2048) == nil || m.Set(-1) == nil || m.Has(2048) || m.Has(-1) {
		t.Error("out of range accepted")
	}
	if got := m.Numbers(); !reflect.DeepEqual(got, []int{0, 31, 32, 2047}) {
		t.Errorf("Numbers: %v", got)
	}
	m.SetAll()
	if !m.All() || m.Empty() {
		t.Error("SetAll")
	}
}

func TestPerm(t *testing.T) {
	for s, want := range map[string]Perm{"r": PermRead, "wa": PermWrite | PermAttr, "xwra": PermAll, "aaa": PermAttr} {
		p, err := ParsePerm(s)
		if err != nil || p != want {
			t.Errorf("ParsePerm(%q) = %v, %v", s, p, err)
		}
	}
	if PermAll.String() != "rwxa" || (PermExec|PermAttr).String() != "xa" || Perm(0x12).String() != "w0x10" {
		t.Error("Perm.String")
	}
	for _, bad := range []string{"", "q", "rw-"} {
		if _, err := ParsePerm(bad); err == nil {
			t.Errorf("ParsePerm(%q) succeeded", bad)
		}
	}
}

func TestRuleFieldString(t *testing.T) {
	for _, c := range []struct {
		f    RuleField
		want string
	}{
		{RuleField{Field: FieldLoginUID, Op: OpGreaterOrEqual, Value: 1000}, "auid>=1000"},
		{RuleField{Field: FieldLoginUID, Op: OpNotEqual, Value: 0xffffffff}, "auid!=unset"},
		{RuleField{Field: FieldPerm, Op: OpEqual, Value: 6}, "perm=rw"},
		{RuleField{Field: FieldPerm, Op: OpEqual, Value: 0x30}, "perm=48"},
		{RuleField{Field: FieldExit, Op: OpEqual, Value: 0xfffffff3}, "exit=-EACCES"},
		{RuleField{Field: FieldExit, Op: OpEqual, Value: 0xffff0000}, "exit=-65536"},
		{RuleField{Field: FieldExit, Op: OpGreaterThan, Value: 5}, "exit>5"},
		{RuleField{Field: FieldMsgType, Op: OpEqual, Value: 1300}, "msgtype=SYSCALL"},
		{RuleField{Field: FieldMsgType, Op: OpEqual, Value: 70000}, "msgtype=70000"},
		{RuleField{Field: FieldFileType, Op: OpEqual, Value: 0o100000}, "filetype=file"},
		{RuleField{Field: FieldFSType, Op: OpEqual, Value: 0x9123683e}, "fstype=0x9123683e"},
		{RuleField{Field: FieldExe, Op: OpNotEqual, Str: "/bin/sh"}, "exe!=/bin/sh"},
		{RuleField{Field: FieldPID, Op: OpLessThan, Value: 10}, "pid<10"},
		{RuleField{Field: FieldArch, Op: OpEqual, Value: 0x1234}, "arch=0x1234"},
	} {
		if got := c.f.String(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.f, got, c.want)
		}
		if strings.HasPrefix(c.want, "arch=0x") || strings.Contains(c.want, "=-65536") || strings.Contains(c.want, "=48") ||
			strings.Contains(c.want, "=70000") {
			continue
		}
		// And it parses back.
		r, err := amd64.Parse([]string{"-a", "always,exit", "-F", c.want})
		if err != nil || len(r.Fields) != 1 || r.Fields[0] != c.f {
			t.Errorf("%q parses to %+v, %v", c.want, r.Fields, err)
		}
	}
	if got := (RuleField{Field: FieldArch, Op: OpEqual, Value: uint32(Arch386)}).ValueString(); (NativeArch() == ArchAMD64) != (got == "b32") {
		t.Errorf("i386 on this machine: %q", got)
	}
}

func TestRuleKeysAndArch(t *testing.T) {
	r := parse(t, "-a always,exit -F arch=b64 -S openat -k one -k two")
	if got := r.Keys(); !reflect.DeepEqual(got, []string{"one", "two"}) || r.Arch() != ArchAMD64 {
		t.Errorf("keys %q arch %v", got, r.Arch())
	}
	if (Rule{}).Keys() != nil || (Rule{}).Arch() != 0 {
		t.Error("empty rule has keys or arch")
	}
}

func TestFieldNamesComplete(t *testing.T) {
	// Every field has one name, and every name parses back to it.
	seen := map[string]bool{}
	for f, n := range fieldNames {
		if seen[n] {
			t.Errorf("name %q twice", n)
		}
		seen[n] = true
		if fieldByName[n] != f {
			t.Errorf("%q parses to %v, want %v", n, fieldByName[n], f)
		}
	}
	if FieldType(999).String() != "field(999)" || Operator(1).String() != "op(0x1)" || Filter(9).String() != "filter(9)" || Action(7).String() != "action(7)" {
		t.Error("unknown enum names")
	}
}
