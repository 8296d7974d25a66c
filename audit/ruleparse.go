package audit

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrRuleSyntax is matched (errors.Is) by every error of ParseRule.
var ErrRuleSyntax = errors.New("bad rule")

// syntaxError is a ParseRule error: what was wrong, naming the argument,
// wrapping the cause where there is one.
type syntaxError struct{ err error }

func (e *syntaxError) Error() string        { return e.err.Error() }
func (e *syntaxError) Unwrap() error        { return e.err }
func (e *syntaxError) Is(target error) bool { return target == ErrRuleSyntax }

func syntaxErrorf(format string, a ...any) error {
	return &syntaxError{err: fmt.Errorf(format, a...)}
}

// RuleParser reads rules in auditctl's syntax. The zero value names
// syscalls by the running machine's architecture and treats every -w
// path as a file.
type RuleParser struct {
	// Arch is the machine's native architecture: it resolves b64 and b32
	// and names syscalls of rules without an arch field. 0 means
	// NativeArch().
	Arch Arch
	// IsDir, if set, tells a directory from a file for -w, as auditctl
	// does with stat(2): a directory becomes a DirWatchRule. Without it
	// only a path ending in "/" is taken as a directory.
	IsDir func(path string) bool
}

// ParseRule reads a rule in auditctl's syntax with the zero RuleParser.
// See RuleParser.Parse.
func ParseRule(args []string) (Rule, error) {
	var p RuleParser
	return p.Parse(args)
}

// Parse reads a rule in the syntax auditctl takes and auditctl -l (and
// Rule.String) prints, one argument per word:
//
//	-w PATH [-p PERMS] [-k KEY]...               a watch (auditctl -w)
//	-a LIST,ACTION [-S SYSCALL[,SYSCALL]]... [-F FIELD OP VALUE]... [-k KEY]...
//	-A LIST,ACTION ...                           the same, at the front of the list
//
// LIST is exit, task, user, exclude, filesystem or io_uring and ACTION
// always or never, in either order. SYSCALL is a name of the rule's
// architecture (its -F arch=b64|b32|NAME, else the machine's), a number
// or "all". FIELD is one of auditctl's field names (auid, uid, pid,
// exit, success, path, dir, perm, key, exe, arch, msgtype, filetype,
// a0 ...), OP one of = != < > <= >= & &=, with no spaces: "auid>=1000",
// "auid!=unset", "exit=-EACCES", "perm=wa". Options may be written with
// their value attached ("-Fkey=x"). -d and -W, auditctl's delete forms of
// -a and -w, are accepted as synonyms, so a rule can be deleted by the
// words that added it with the option changed.
//
// Errors match ErrRuleSyntax and name the offending argument; an unknown
// syscall also matches ErrUnknownSyscall.
func (p *RuleParser) Parse(args []string) (Rule, error) {
	native := p.Arch
	if native == 0 {
		native = NativeArch()
	}
	st := ruleState{native: native}
	for i := 0; i < len(args); i++ {
		opt, val, attached := splitOption(args[i])
		if opt == "" {
			if strings.HasPrefix(args[i], "-") {
				return Rule{}, syntaxErrorf("unknown option %q: want -w, -p, -k, -a, -A, -S or -F", args[i])
			}
			return Rule{}, syntaxErrorf("unexpected %q: want an option such as -w, -a, -S, -F or -k", args[i])
		}
		if !attached {
			if i+1 >= len(args) {
				return Rule{}, syntaxErrorf("missing value after %q", opt)
			}
			i++
			val = args[i]
		}
		if err := st.option(opt, val); err != nil {
			return Rule{}, err
		}
	}
	return st.finish(p.IsDir)
}

// splitOption splits "-Fkey=x" into "-F", "key=x"; "-F" gives "-F", "",
// false. Words that are not options give "".
func splitOption(s string) (opt, val string, attached bool) {
	if len(s) < 2 || s[0] != '-' || !strings.ContainsRune("wWpkaAdSF", rune(s[1])) {
		return "", "", false
	}
	if len(s) > 2 {
		return s[:2], s[2:], true
	}
	return s, "", false
}

// ruleState collects the options of one rule.
type ruleState struct {
	native Arch

	watch    string // -w PATH
	hasWatch bool
	perm     Perm
	hasPerm  bool
	list     string // -a LIST,ACTION as given
	rule     Rule
	hasList  bool
	syscalls []string
	keys     []string
	fields   []RuleField
}

func (st *ruleState) option(opt, val string) error {
	switch opt {
	case "-w", "-W":
		if st.hasWatch {
			return syntaxErrorf("%s %s: only one watch per rule", opt, val)
		}
		if val == "" {
			return syntaxErrorf("%s: empty path", opt)
		}
		st.watch, st.hasWatch = val, true
	case "-p":
		p, err := ParsePerm(val)
		if err != nil {
			return syntaxErrorf("-p %s: %w", val, err)
		}
		st.perm, st.hasPerm = p, true
	case "-k":
		if err := checkKey(val); err != nil {
			return syntaxErrorf("-k %q: %w", val, err)
		}
		st.keys = append(st.keys, val)
	case "-a", "-A", "-d":
		if st.hasList {
			return syntaxErrorf("%s %s: only one -a per rule", opt, val)
		}
		if err := st.parseList(opt, val); err != nil {
			return err
		}
	case "-S":
		for _, s := range strings.Split(val, ",") {
			if s == "" {
				return syntaxErrorf("-S %q: empty syscall name", val)
			}
			st.syscalls = append(st.syscalls, s)
		}
	case "-F":
		return st.parseField(val)
	default:
		return syntaxErrorf("unknown option %q", opt)
	}
	return nil
}

func checkKey(k string) error {
	switch {
	case k == "":
		return errors.New("empty key")
	case len(k) > MaxKeyLen:
		return fmt.Errorf("key of %d bytes, at most %d", len(k), MaxKeyLen)
	case strings.Contains(k, keySep):
		return errors.New("key contains the separator \\x01")
	}
	return nil
}

var listByName = map[string]Filter{
	"exit": FilterExit, "task": FilterTask, "user": FilterUser, "exclude": FilterExclude,
	"filesystem": FilterFS, "io_uring": FilterURingExit,
}

var actionByName = map[string]Action{"always": ActionAlways, "never": ActionNever}

// parseList reads "LIST,ACTION" or "ACTION,LIST".
func (st *ruleState) parseList(opt, val string) error {
	a, b, ok := strings.Cut(val, ",")
	if !ok {
		return syntaxErrorf("%s %q: want LIST,ACTION such as always,exit", opt, val)
	}
	if _, isList := listByName[a]; isList {
		a, b = b, a
	}
	act, ok := actionByName[a]
	if !ok {
		return syntaxErrorf("%s %s: unknown action %q: want always or never", opt, val, a)
	}
	list, ok := listByName[b]
	if !ok {
		if b == "entry" {
			return syntaxErrorf("%s %s: the entry list is deprecated; use exit", opt, val)
		}
		return syntaxErrorf("%s %s: unknown list %q: want exit, task, user, exclude, filesystem or io_uring", opt, val, b)
	}
	st.list, st.hasList = opt+" "+val, true
	st.rule.Filter, st.rule.Action, st.rule.Prepend = list, act, opt == "-A"
	return nil
}

var fieldByName = func() map[string]FieldType {
	m := map[string]FieldType{"loginuid": FieldLoginUID, "auid_set": FieldLoginUIDSet, "filterkey": FieldFilterKey}
	for f, n := range fieldNames {
		m[n] = f
	}
	return m
}()

// operators in the order they must be tried (two-character ones first).
var operatorsBySymbol = []struct {
	sym string
	op  Operator
}{
	{"!=", OpNotEqual}, {"<=", OpLessOrEqual}, {">=", OpGreaterOrEqual}, {"&=", OpBitTest},
	{"=", OpEqual}, {"<", OpLessThan}, {">", OpGreaterThan}, {"&", OpBitMask},
}

// parseField reads "NAME OP VALUE" written without spaces.
func (st *ruleState) parseField(val string) error {
	i := strings.IndexAny(val, "!<>=&")
	if i <= 0 {
		return syntaxErrorf("-F %q: want NAME OP VALUE such as auid>=1000 or key=mykey", val)
	}
	name := val[:i]
	var op Operator
	var rest string
	for _, o := range operatorsBySymbol {
		if v, ok := strings.CutPrefix(val[i:], o.sym); ok {
			op, rest = o.op, v
			break
		}
	}
	if op == 0 {
		return syntaxErrorf("-F %q: unknown operator: want = != < > <= >= & or &=", val)
	}
	f, ok := fieldByName[name]
	if !ok {
		return syntaxErrorf("-F %s: unknown field %q", val, name)
	}
	if rest == "" {
		return syntaxErrorf("-F %s: missing value", val)
	}
	if f == FieldFilterKey {
		if op != OpEqual {
			return syntaxErrorf("-F %s: key takes only =", val)
		}
		if err := checkKey(rest); err != nil {
			return syntaxErrorf("-F %s: %w", val, err)
		}
		st.keys = append(st.keys, rest)
		return nil
	}
	rf := RuleField{Field: f, Op: op}
	if f.IsString() {
		if op != OpEqual && op != OpNotEqual {
			return syntaxErrorf("-F %s: %s takes only = or !=", val, name)
		}
		rf.Str = rest
	} else {
		v, err := st.fieldValue(f, rest)
		if err != nil {
			return syntaxErrorf("-F %s: %w", val, err)
		}
		rf.Value = v
	}
	if len(st.fields) >= MaxFields {
		return syntaxErrorf("-F %s: more than %d fields", val, MaxFields)
	}
	st.fields = append(st.fields, rf)
	return nil
}

// fieldValue parses the value of a numeric field, with the names auditctl
// accepts where it has them.
func (st *ruleState) fieldValue(f FieldType, s string) (uint32, error) {
	switch {
	case f == FieldArch:
		return st.parseArch(s)
	case isID(f) && (s == "unset" || s == "-1"):
		return ^uint32(0), nil
	case f == FieldPerm:
		p, err := ParsePerm(s)
		return uint32(p), err
	case f == FieldExit:
		if name, ok := strings.CutPrefix(s, "-"); ok && strings.HasPrefix(name, "E") {
			for n, e := range errnoNames {
				if e == name {
					return uint32(-int32(n)), nil
				}
			}
			return 0, fmt.Errorf("unknown errno %q", name)
		}
		n, err := strconv.ParseInt(s, 0, 32)
		if err != nil {
			return 0, fmt.Errorf("bad exit value %q: want a number or -ENAME", s)
		}
		return uint32(int32(n)), nil
	case f == FieldMsgType:
		t, err := ParseMessageType(s)
		return uint32(t), err
	case f == FieldFileType:
		for v, n := range fileTypes {
			if n == s {
				return v, nil
			}
		}
	}
	n, err := strconv.ParseUint(s, 0, 32)
	if err != nil {
		return 0, fmt.Errorf("bad value %q for %v: want a number from 0 to 4294967295", s, f)
	}
	return uint32(n), nil
}

// parseArch reads b64, b32, an architecture name or a number.
func (st *ruleState) parseArch(s string) (uint32, error) {
	b64, b32 := bitness(st.native)
	switch s {
	case "b64":
		if b64 == 0 {
			return 0, fmt.Errorf("arch b64: no 64-bit syscall table on %v", st.native)
		}
		return uint32(b64), nil
	case "b32":
		if b32 == 0 {
			return 0, fmt.Errorf("arch b32: no 32-bit syscall table on %v", st.native)
		}
		return uint32(b32), nil
	}
	for a, n := range archNames {
		if n == s {
			return uint32(a), nil
		}
	}
	if n, err := strconv.ParseUint(s, 0, 32); err == nil {
		return uint32(n), nil
	}
	return 0, fmt.Errorf("unknown arch %q: want b64, b32 or a name such as x86_64", s)
}

// finish checks the combination of options and builds the rule.
func (st *ruleState) finish(isDir func(string) bool) (Rule, error) {
	switch {
	case !st.hasWatch && !st.hasList:
		return Rule{}, syntaxErrorf("no rule: want -w PATH or -a LIST,ACTION")
	case st.hasWatch && st.hasList:
		return Rule{}, syntaxErrorf("-w and %s exclude each other: a watch is on the exit list already", st.list)
	case st.hasPerm && !st.hasWatch:
		return Rule{}, syntaxErrorf("-p applies to -w only; with -a use -F perm=%v", st.perm)
	}
	key := strings.Join(st.keys, keySep)
	if len(key) > MaxKeyLen {
		return Rule{}, syntaxErrorf("keys %q are %d bytes together, at most %d", st.keys, len(key), MaxKeyLen)
	}
	if st.hasWatch {
		if len(st.syscalls) > 0 || len(st.fields) > 0 {
			return Rule{}, syntaxErrorf("-w %s takes only -p and -k; for more, use -a always,exit -F path=%s", st.watch, st.watch)
		}
		path := st.watch
		if !strings.HasPrefix(path, "/") {
			return Rule{}, syntaxErrorf("-w %s: the path must be absolute", path)
		}
		dir := len(path) > 1 && strings.HasSuffix(path, "/")
		for len(path) > 1 && strings.HasSuffix(path, "/") {
			path = path[:len(path)-1]
		}
		if isDir != nil && isDir(path) {
			dir = true
		}
		if dir {
			return DirWatchRule(path, st.perm, key), nil
		}
		return WatchRule(path, st.perm, key), nil
	}
	r := st.rule
	r.Fields = st.fields
	if key != "" {
		if len(r.Fields) >= MaxFields {
			return Rule{}, syntaxErrorf("more than %d fields with the key", MaxFields)
		}
		r.Fields = append(r.Fields, RuleField{Field: FieldFilterKey, Op: OpEqual, Str: key})
	}
	if len(st.syscalls) > 0 {
		if !r.takesSyscalls() {
			return Rule{}, syntaxErrorf("%s: the %v list takes no syscalls (-S)", st.list, r.Filter)
		}
		arch := r.Arch()
		if arch == 0 {
			arch = st.native
		}
		for _, s := range st.syscalls {
			if s == "all" {
				r.Syscalls.SetAll()
				continue
			}
			nr, err := strconv.Atoi(s)
			if err != nil {
				if nr, err = SyscallNumber(arch, s); err != nil {
					return Rule{}, syntaxErrorf("-S %s: %w", s, err)
				}
			}
			if err := r.Syscalls.Set(nr); err != nil {
				return Rule{}, syntaxErrorf("-S %s: %w", s, err)
			}
		}
	}
	return r, nil
}
