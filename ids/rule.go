package ids

import (
	"bytes"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// Action is what a rule does when it matches.
type Action uint8

// Actions, in the order Suricata applies them (its default action-order):
// a matching pass rule wins over drop, drop over alert.
const (
	ActionPass  Action = 1 // pass: accept the packet, stop inspecting, no alert
	ActionDrop  Action = 2 // drop: drop the packet and alert ("blocked")
	ActionAlert Action = 3 // alert: alert and let the packet through ("allowed")
)

// String returns the action's keyword.
func (a Action) String() string {
	switch a {
	case ActionPass:
		return "pass"
	case ActionDrop:
		return "drop"
	case ActionAlert:
		return "alert"
	}
	return fmt.Sprintf("action(%d)", uint8(a))
}

// Protocol is the protocol keyword of a rule header.
type Protocol uint8

// Rule protocols. ProtoICMP matches ICMP for IPv4 and ICMPv6 for IPv6,
// as in Suricata; ProtoIP matches every IP packet.
const (
	ProtoIP   Protocol = 1 // ip
	ProtoTCP  Protocol = 2 // tcp
	ProtoUDP  Protocol = 3 // udp
	ProtoICMP Protocol = 4 // icmp (and icmpv6)
)

// String returns the protocol's keyword.
func (p Protocol) String() string {
	switch p {
	case ProtoIP:
		return "ip"
	case ProtoTCP:
		return "tcp"
	case ProtoUDP:
		return "udp"
	case ProtoICMP:
		return "icmp"
	}
	return fmt.Sprintf("protocol(%d)", uint8(p))
}

// Rule is one parsed rule:
//
//	action proto src_addr src_port -> dst_addr dst_port (options)
type Rule struct {
	Action   Action
	Protocol Protocol
	Src, Dst AddrSet
	SrcPorts PortSet
	DstPorts PortSet
	// Bidirectional is true for "<>": the rule also matches with source
	// and destination swapped.
	Bidirectional bool

	Msg       string // msg
	GID       uint32 // gid (1 unless given)
	SID       uint32 // sid (required)
	Rev       uint32 // rev
	ClassType string // classtype keyword
	// Category is the classification's description, as EVE writes it
	// in alert.category ("A Network Trojan was detected").
	Category string
	// Priority is the rule's priority (EVE alert.severity): the priority
	// option, else the classification's, else 3.
	Priority int

	Contents []Content
	PCREs    []PCRE

	// Line is the line of the rules file the rule starts on; Text is the
	// rule as written.
	Line int
	Text string

	fast int // index in Contents of the fast pattern, -1 if none
}

// Content is one content option with its modifiers.
type Content struct {
	Pattern []byte // the bytes to find, |hex| decoded
	Negated bool   // content:!"..."
	NoCase  bool   // nocase
	// Offset and Depth (absolute) or Distance and Within (relative to
	// the end of the previous content match); HasX says it was given.
	Offset, Depth       int
	Distance, Within    int
	HasOffset, HasDepth bool
	HasDistance         bool
	HasWithin           bool
	// FastPattern is true if the rule chose this content with
	// fast_pattern for the multi-pattern prefilter.
	FastPattern bool

	lower []byte // Pattern in ASCII lower case, for NoCase
}

// relative reports whether c is placed after the previous content.
func (c *Content) relative() bool { return c.HasDistance || c.HasWithin }

// PCRE is one pcre option, compiled with Go's regexp (RE2 syntax: no
// back-references or look-around).
type PCRE struct {
	Source  string // as written: /pattern/flags
	Negated bool
	Regexp  *regexp.Regexp
}

// AddrSet is a rule's address field: any, addresses and prefixes,
// lists, negations and variables, resolved.
type AddrSet struct {
	Any bool
	// An address matches if it is in some Include item (or Include is
	// empty) and in no Exclude item.
	Include []AddrSet
	Exclude []AddrSet
	Prefix  netip.Prefix // a leaf: valid when not Any and without items
}

// Contains reports whether a is in the set.
func (s *AddrSet) Contains(a netip.Addr) bool {
	if s.Any {
		return true
	}
	if len(s.Include) == 0 && len(s.Exclude) == 0 {
		return s.Prefix.IsValid() && s.Prefix.Contains(a.Unmap())
	}
	in := len(s.Include) == 0
	for i := range s.Include {
		if s.Include[i].Contains(a) {
			in = true
			break
		}
	}
	if !in {
		return false
	}
	for i := range s.Exclude {
		if s.Exclude[i].Contains(a) {
			return false
		}
	}
	return true
}

// PortSet is a rule's port field: any, ports, ranges, lists, negations.
type PortSet struct {
	Any     bool
	Include []PortSet
	Exclude []PortSet
	Lo, Hi  uint16 // a leaf range
}

// Contains reports whether port p is in the set.
func (s *PortSet) Contains(p uint16) bool {
	if s.Any {
		return true
	}
	if len(s.Include) == 0 && len(s.Exclude) == 0 {
		return p >= s.Lo && p <= s.Hi
	}
	in := len(s.Include) == 0
	for i := range s.Include {
		if s.Include[i].Contains(p) {
			in = true
			break
		}
	}
	if !in {
		return false
	}
	for i := range s.Exclude {
		if s.Exclude[i].Contains(p) {
			return false
		}
	}
	return true
}

// ParseError is the error for a rule that cannot be used: its file and
// line, the option (if the fault is in one) and the reason.
type ParseError struct {
	File   string // "" for rules not read from a file
	Line   int
	Option string // the option at fault, or ""
	Err    error
}

func (e *ParseError) Error() string {
	where := fmt.Sprintf("line %d", e.Line)
	if e.File != "" {
		where = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Option != "" {
		return fmt.Sprintf("%s: option %q: %v", where, e.Option, e.Err)
	}
	return where + ": " + e.Err.Error()
}

// Unwrap returns the reason.
func (e *ParseError) Unwrap() error { return e.Err }

// optError is a fault in one option; the caller adds the line.
type optError struct {
	opt string
	err error
}

func (e *optError) Error() string { return fmt.Sprintf("option %q: %v", e.opt, e.err) }

func optErrf(opt, format string, args ...any) error {
	return &optError{opt: opt, err: fmt.Errorf(format, args...)}
}

// parseRule parses one rule (already joined over continuation lines).
func (p *parser) parseRule(text string, line int) (*Rule, error) {
	r := &Rule{Line: line, Text: text, GID: 1, fast: -1}
	open := strings.IndexByte(text, '(')
	if open < 0 || !strings.HasSuffix(strings.TrimSpace(text), ")") {
		return nil, fmt.Errorf("want: action proto src_addr src_port -> dst_addr dst_port (options)")
	}
	head := headerFields(text[:open])
	if len(head) != 7 {
		return nil, fmt.Errorf("rule header has %d fields, want 7: action proto src_addr src_port -> dst_addr dst_port", len(head))
	}
	switch head[0] {
	case "alert":
		r.Action = ActionAlert
	case "drop":
		r.Action = ActionDrop
	case "pass":
		r.Action = ActionPass
	case "reject", "rejectsrc", "rejectdst", "rejectboth", "sdrop", "log", "activate", "dynamic":
		return nil, fmt.Errorf("action %q is not supported (alert, drop and pass are)", head[0])
	default:
		return nil, fmt.Errorf("unknown action %q (want alert, drop or pass)", head[0])
	}
	switch head[1] {
	case "ip":
		r.Protocol = ProtoIP
	case "tcp":
		r.Protocol = ProtoTCP
	case "udp":
		r.Protocol = ProtoUDP
	case "icmp":
		r.Protocol = ProtoICMP
	default:
		return nil, fmt.Errorf("protocol %q is not supported (ip, tcp, udp and icmp are)", head[1])
	}
	var err error
	if r.Src, err = p.parseAddrField(head[2], 0); err != nil {
		return nil, fmt.Errorf("source address %q: %w", head[2], err)
	}
	if r.SrcPorts, err = p.parsePortField(head[3], 0); err != nil {
		return nil, fmt.Errorf("source port %q: %w", head[3], err)
	}
	switch head[4] {
	case "->":
	case "<>":
		r.Bidirectional = true
	case "<-":
		return nil, fmt.Errorf(`direction "<-" is not valid (want -> or <>)`)
	default:
		return nil, fmt.Errorf("direction %q: want -> or <>", head[4])
	}
	if r.Dst, err = p.parseAddrField(head[5], 0); err != nil {
		return nil, fmt.Errorf("destination address %q: %w", head[5], err)
	}
	if r.DstPorts, err = p.parsePortField(head[6], 0); err != nil {
		return nil, fmt.Errorf("destination port %q: %w", head[6], err)
	}
	if (r.Protocol == ProtoIP || r.Protocol == ProtoICMP) && (!r.SrcPorts.Any || !r.DstPorts.Any) {
		return nil, fmt.Errorf("ports must be any for protocol %s, which has none", r.Protocol)
	}
	body := strings.TrimSpace(text[open+1:])
	body = strings.TrimSuffix(body, ")")
	opts, err := splitOptions(body)
	if err != nil {
		return nil, err
	}
	if err := p.applyOptions(r, opts); err != nil {
		return nil, err
	}
	return r, nil
}

// headerFields splits the rule header on spaces, keeping [lists with
// spaces] whole.
func headerFields(s string) []string {
	var out []string
	depth, start := 0, -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '[':
			depth++
		case c == ']':
			depth--
		}
		space := (c == ' ' || c == '\t') && depth <= 0
		if space {
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	for i := range out {
		out[i] = strings.ReplaceAll(strings.ReplaceAll(out[i], " ", ""), "\t", "")
	}
	return out
}

// option is one "name:value" or "name" from the options part.
type option struct {
	name, value string
	hasValue    bool
}

// splitOptions splits "msg:"a\;b"; sid:1;" on unquoted, unescaped
// semicolons.
func splitOptions(s string) ([]option, error) {
	var out []option
	var cur strings.Builder
	quoted := false
	flush := func() error {
		text := strings.TrimSpace(cur.String())
		cur.Reset()
		if text == "" {
			return nil
		}
		name, value, has := strings.Cut(text, ":")
		name = strings.TrimSpace(name)
		if name == "" || strings.ContainsAny(name, " \t\"") {
			return fmt.Errorf("malformed option %q (want name:value;)", text)
		}
		out = append(out, option{name: name, value: strings.TrimSpace(value), hasValue: has})
		return nil
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			cur.WriteByte(c)
			cur.WriteByte(s[i+1])
			i++
		case c == '"':
			quoted = !quoted
			cur.WriteByte(c)
		case c == ';' && !quoted:
			if err := flush(); err != nil {
				return nil, err
			}
		default:
			cur.WriteByte(c)
		}
	}
	if quoted {
		return nil, fmt.Errorf("unterminated quoted string in options")
	}
	if strings.TrimSpace(cur.String()) != "" {
		return nil, fmt.Errorf("option %q is not closed by ';'", strings.TrimSpace(cur.String()))
	}
	return out, nil
}

// applyOptions interprets the options of r in order.
func (p *parser) applyOptions(r *Rule, opts []option) error {
	var last *Content // the content modifiers apply to
	hasSID, hasPriority := false, false
	seen := map[string]bool{}
	for _, o := range opts {
		needValue := func() error {
			if !o.hasValue || o.value == "" {
				return optErrf(o.name, "needs a value")
			}
			return nil
		}
		noValue := func() error {
			if o.hasValue {
				return optErrf(o.name, "takes no value")
			}
			return nil
		}
		once := func() error {
			if seen[o.name] {
				return optErrf(o.name, "given twice")
			}
			seen[o.name] = true
			return nil
		}
		var err error
		switch o.name {
		case "msg":
			if err = firstErr(needValue(), once()); err == nil {
				r.Msg, err = unquote(o.value)
			}
		case "sid", "rev", "gid":
			if err = firstErr(needValue(), once()); err != nil {
				break
			}
			v, perr := strconv.ParseUint(o.value, 10, 32)
			if perr != nil || (o.name != "rev" && v == 0) {
				err = optErrf(o.name, "%q is not a number from 1 to 4294967295", o.value)
				break
			}
			switch o.name {
			case "sid":
				r.SID, hasSID = uint32(v), true
			case "rev":
				r.Rev = uint32(v)
			case "gid":
				r.GID = uint32(v)
			}
		case "classtype":
			if err = firstErr(needValue(), once()); err != nil {
				break
			}
			c, ok := p.classes[o.value]
			if !ok {
				err = optErrf(o.name, "unknown classification %q (add `config classification: %s,DESCRIPTION,PRIORITY` before the rule)", o.value, o.value)
				break
			}
			r.ClassType, r.Category = o.value, c.Description
			if !hasPriority {
				r.Priority = c.Priority
			}
		case "priority":
			if err = firstErr(needValue(), once()); err != nil {
				break
			}
			v, perr := strconv.Atoi(o.value)
			if perr != nil || v < 1 || v > 255 {
				err = optErrf(o.name, "%q is not a number from 1 to 255", o.value)
				break
			}
			r.Priority, hasPriority = v, true
		case "reference", "metadata":
			// Informational: kept in Text, no effect on matching.
			err = needValue()
		case "content":
			if err = needValue(); err != nil {
				break
			}
			var c Content
			v := o.value
			if strings.HasPrefix(v, "!") {
				c.Negated = true
				v = strings.TrimSpace(v[1:])
			}
			if c.Pattern, err = parseContent(v); err != nil {
				err = &optError{opt: o.name, err: err}
				break
			}
			if len(c.Pattern) == 0 {
				err = optErrf(o.name, "empty pattern")
				break
			}
			r.Contents = append(r.Contents, c)
			last = &r.Contents[len(r.Contents)-1]
		case "nocase", "fast_pattern":
			if err = noValue(); err != nil {
				break
			}
			if last == nil {
				err = optErrf(o.name, "modifies a content, but no content precedes it")
				break
			}
			if o.name == "nocase" {
				last.NoCase = true
			} else {
				if last.Negated {
					err = optErrf(o.name, "a negated content cannot be the fast pattern")
					break
				}
				for i := range r.Contents {
					r.Contents[i].FastPattern = false
				}
				last.FastPattern = true
			}
		case "offset", "depth", "distance", "within":
			if err = needValue(); err != nil {
				break
			}
			if last == nil {
				err = optErrf(o.name, "modifies a content, but no content precedes it")
				break
			}
			err = setPosition(last, o.name, o.value, len(r.Contents) == 1)
		case "pcre":
			if err = needValue(); err != nil {
				break
			}
			var pc PCRE
			if pc, err = parsePCRE(o.value); err != nil {
				err = &optError{opt: o.name, err: err}
				break
			}
			r.PCREs = append(r.PCREs, pc)
		default:
			err = optErrf(o.name, "unknown or unsupported option")
		}
		if err != nil {
			return err
		}
	}
	if !hasSID {
		return fmt.Errorf("rule has no sid")
	}
	if r.Priority == 0 {
		r.Priority = 3
	}
	r.finish()
	return nil
}

// finish prepares the contents for matching and picks the fast pattern:
// the one marked fast_pattern, else the longest non-negated content.
func (r *Rule) finish() {
	r.fast = -1
	for i := range r.Contents {
		c := &r.Contents[i]
		c.lower = bytes.ToLower(c.Pattern)
		if c.Negated {
			continue
		}
		if c.FastPattern {
			r.fast = i
			break
		}
		if r.fast < 0 || len(c.Pattern) > len(r.Contents[r.fast].Pattern) {
			r.fast = i
		}
	}
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// setPosition sets offset, depth, distance or within on c.
func setPosition(c *Content, name, value string, first bool) error {
	v, err := strconv.Atoi(value)
	if err != nil || v > 65535 || v < -65535 {
		return optErrf(name, "%q is not a number", value)
	}
	switch name {
	case "offset", "depth":
		if c.relative() {
			return optErrf(name, "cannot be mixed with distance or within on the same content")
		}
		if v < 0 {
			return optErrf(name, "must not be negative")
		}
	case "distance", "within":
		if c.HasOffset || c.HasDepth {
			return optErrf(name, "cannot be mixed with offset or depth on the same content")
		}
		if first {
			return optErrf(name, "is relative to a previous content, and there is none")
		}
	}
	switch name {
	case "offset":
		c.Offset, c.HasOffset = v, true
	case "depth":
		if v < len(c.Pattern) {
			return optErrf(name, "%d is shorter than the pattern (%d bytes)", v, len(c.Pattern))
		}
		c.Depth, c.HasDepth = v, true
	case "distance":
		c.Distance, c.HasDistance = v, true
	case "within":
		if v < len(c.Pattern) {
			return optErrf(name, "%d is shorter than the pattern (%d bytes)", v, len(c.Pattern))
		}
		c.Within, c.HasWithin = v, true
	}
	return nil
}

// unquote strips the quotes of an option value and resolves \" \; \\
// escapes. Unquoted values are taken as they are.
func unquote(s string) (string, error) {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		if strings.ContainsRune(s, '"') {
			return "", fmt.Errorf("badly quoted value %s", s)
		}
		return s, nil
	}
	s = s[1 : len(s)-1]
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		} else if s[i] == '"' {
			return "", fmt.Errorf("unescaped quote inside %q", s)
		}
		b.WriteByte(s[i])
	}
	return b.String(), nil
}

// parseContent decodes a content value: "text|41 42|text".
func parseContent(v string) ([]byte, error) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return nil, fmt.Errorf("pattern must be quoted: %s", v)
	}
	v = v[1 : len(v)-1]
	var out []byte
	hex := false
	var digits []byte
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '|':
			if hex {
				if len(digits)%2 != 0 {
					return nil, fmt.Errorf("odd number of hex digits in |...|")
				}
				digits = digits[:0]
			}
			hex = !hex
		case hex:
			switch {
			case c == ' ' || c == '\t':
				if len(digits)%2 != 0 {
					return nil, fmt.Errorf("hex byte cut by a space in |...|")
				}
			case isHex(c):
				digits = append(digits, c)
				if len(digits)%2 == 0 {
					out = append(out, unhex(digits[len(digits)-2])<<4|unhex(c))
				}
			default:
				return nil, fmt.Errorf("%q is not a hex digit in |...|", c)
			}
		case c == '\\':
			if i+1 >= len(v) {
				return nil, fmt.Errorf("pattern ends in a backslash")
			}
			i++
			switch v[i] {
			case '"', ';', '\\', ':', '|':
				out = append(out, v[i])
			default:
				return nil, fmt.Errorf(`unknown escape \%c (escape only " ; \ : |)`, v[i])
			}
		case c == '"':
			return nil, fmt.Errorf(`unescaped " inside the pattern`)
		default:
			out = append(out, c)
		}
	}
	if hex {
		return nil, fmt.Errorf("unterminated |...| hex section")
	}
	return out, nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// parsePCRE compiles "/pattern/flags" (optionally negated with !).
func parsePCRE(v string) (PCRE, error) {
	pc := PCRE{}
	if strings.HasPrefix(v, "!") {
		pc.Negated = true
		v = strings.TrimSpace(v[1:])
	}
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return pc, fmt.Errorf(`want "/pattern/flags"`)
	}
	// Only \" and \; are rule-level escapes; other backslashes belong
	// to the regular expression.
	s := strings.NewReplacer(`\"`, `"`, `\;`, `;`).Replace(v[1 : len(v)-1])
	end := strings.LastIndexByte(s, '/')
	if !strings.HasPrefix(s, "/") || end < 1 {
		return pc, fmt.Errorf(`want "/pattern/flags", got %q`, s)
	}
	pat, flags := s[1:end], s[end+1:]
	goFlags := ""
	for _, f := range flags {
		switch f {
		case 'i', 's', 'm':
			if !strings.ContainsRune(goFlags, f) {
				goFlags += string(f)
			}
		default:
			return pc, fmt.Errorf("flag %q is not supported (i, s and m are)", f)
		}
	}
	expr := pat
	if goFlags != "" {
		expr = "(?" + goFlags + ")" + pat
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return pc, fmt.Errorf("%q: %w (Go's RE2 syntax: no back-references or look-around)", pat, err)
	}
	pc.Source, pc.Regexp = s, re
	return pc, nil
}
