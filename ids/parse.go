package ids

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// Classification is one entry of a classification table (Suricata's
// classification.config): a classtype keyword, its description (EVE's
// alert.category) and its default priority (alert.severity).
type Classification struct {
	Name        string
	Description string
	Priority    int
}

// Options configures parsing.
type Options struct {
	// Vars are address and port variables ($HOME_NET), by name without
	// the $. Variables defined in the rules file (var, ipvar, portvar
	// lines) are added to them. HOME_NET and EXTERNAL_NET default to
	// any; using any other undefined variable is an error.
	Vars map[string]string
	// Classifications are added to (and override) the built-in table,
	// Suricata's classification.config.
	Classifications []Classification
	// File names the source in errors.
	File string
}

// Rules is a parsed rule set.
type Rules struct {
	Rules []*Rule
}

type parser struct {
	vars    map[string]string
	classes map[string]Classification
}

func newParser(o *Options) *parser {
	p := &parser{vars: map[string]string{"HOME_NET": "any", "EXTERNAL_NET": "any"}, classes: map[string]Classification{}}
	for _, c := range defaultClassifications {
		p.classes[c.Name] = c
	}
	if o != nil {
		for k, v := range o.Vars {
			p.vars[strings.TrimPrefix(k, "$")] = v
		}
		for _, c := range o.Classifications {
			p.classes[c.Name] = c
		}
	}
	return p
}

// ParseFile reads and parses a rules file; see Parse.
func ParseFile(name string, o *Options) (*Rules, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("ids: rules: %w", err)
	}
	defer f.Close()
	var oo Options
	if o != nil {
		oo = *o
	}
	if oo.File == "" {
		oo.File = name
	}
	return Parse(f, &oo)
}

// maxRuleLen bounds one rule, continuation lines included.
const maxRuleLen = 1 << 20

// Parse reads rules, one per line (a line ending in \ continues on the
// next), skipping blank lines and # comments. Besides rules, it takes
// `var NAME VALUE` (also ipvar and portvar) and
// `config classification: NAME,DESCRIPTION,PRIORITY` lines, which apply
// to the rules after them. Every rule it cannot use is an error: the
// result is an error joining one *ParseError per faulty line, each naming
// the line and, where the fault is in one, the option; no rule is
// skipped silently. Two rules with the same gid:sid are an error.
func Parse(r io.Reader, o *Options) (*Rules, error) {
	p := newParser(o)
	file := ""
	if o != nil {
		file = o.File
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), maxRuleLen)
	var errs []error
	var out Rules
	type key struct{ gid, sid uint32 }
	sids := map[key]int{}
	var text strings.Builder
	lineNo, start := 0, 0
	fail := func(line int, err error) {
		pe := &ParseError{File: file, Line: line, Err: err}
		var oe *optError
		if errors.As(err, &oe) {
			pe.Option, pe.Err = oe.opt, oe.err
		}
		errs = append(errs, pe)
	}
	handle := func(s string, line int) {
		switch {
		case strings.HasPrefix(s, "var ") || strings.HasPrefix(s, "ipvar ") || strings.HasPrefix(s, "portvar "):
			f := strings.Fields(s)
			if len(f) != 3 {
				fail(line, fmt.Errorf("want `%s NAME VALUE`", f[0]))
				return
			}
			p.vars[strings.TrimPrefix(f[1], "$")] = f[2]
		case strings.HasPrefix(s, "config "):
			rest := strings.TrimSpace(strings.TrimPrefix(s, "config "))
			v, ok := strings.CutPrefix(rest, "classification:")
			if !ok {
				fail(line, fmt.Errorf("unsupported config line (only `config classification:` is)"))
				return
			}
			parts := strings.Split(v, ",")
			if len(parts) != 3 {
				fail(line, fmt.Errorf("want `config classification: NAME,DESCRIPTION,PRIORITY`"))
				return
			}
			prio, err := strconv.Atoi(strings.TrimSpace(parts[2]))
			if err != nil || prio < 1 || prio > 255 {
				fail(line, fmt.Errorf("classification priority %q is not a number from 1 to 255", strings.TrimSpace(parts[2])))
				return
			}
			c := Classification{Name: strings.TrimSpace(parts[0]), Description: strings.TrimSpace(parts[1]), Priority: prio}
			p.classes[c.Name] = c
		default:
			rule, err := p.parseRule(s, line)
			if err != nil {
				fail(line, err)
				return
			}
			k := key{rule.GID, rule.SID}
			if prev, dup := sids[k]; dup {
				fail(line, &optError{opt: "sid", err: fmt.Errorf("sid %d (gid %d) is already used by the rule on line %d", rule.SID, rule.GID, prev)})
				return
			}
			sids[k] = line
			out.Rules = append(out.Rules, rule)
		}
	}
	for sc.Scan() {
		lineNo++
		l := sc.Text()
		if text.Len() == 0 {
			t := strings.TrimSpace(l)
			if t == "" || strings.HasPrefix(t, "#") {
				continue
			}
			start = lineNo
		}
		if strings.HasSuffix(l, "\\") {
			text.WriteString(strings.TrimSuffix(l, "\\"))
			if text.Len() > maxRuleLen {
				fail(start, fmt.Errorf("rule longer than %d bytes", maxRuleLen))
				text.Reset()
			}
			continue
		}
		text.WriteString(l)
		s := strings.TrimSpace(text.String())
		text.Reset()
		handle(s, start)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("ids: read rules: %w", err)
	}
	if text.Len() > 0 {
		fail(start, fmt.Errorf("the last rule ends in a line continuation (\\)"))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("ids: rules: %w", errors.Join(errs...))
	}
	return &out, nil
}

// ParseRule parses a single rule, with the default variables and
// classifications.
func ParseRule(s string) (*Rule, error) {
	rs, err := Parse(strings.NewReader(s), nil)
	if err != nil {
		return nil, err
	}
	if len(rs.Rules) != 1 {
		return nil, fmt.Errorf("ids: want one rule, got %d", len(rs.Rules))
	}
	return rs.Rules[0], nil
}

// maxVarDepth bounds variable expansion ($A naming $B ...), which also
// stops cycles.
const maxVarDepth = 16

// parseAddrField parses an address field: any, an address, a prefix,
// $VAR, !X or a [list] of these.
func (p *parser) parseAddrField(s string, depth int) (AddrSet, error) {
	if depth > maxVarDepth {
		return AddrSet{}, fmt.Errorf("variables nested too deep (a cycle?)")
	}
	if s == "" {
		return AddrSet{}, fmt.Errorf("empty address")
	}
	if s == "any" {
		return AddrSet{Any: true}, nil
	}
	if strings.HasPrefix(s, "!") {
		inner, err := p.parseAddrField(s[1:], depth+1)
		if err != nil {
			return AddrSet{}, err
		}
		if inner.Any {
			return AddrSet{}, fmt.Errorf("!any matches nothing")
		}
		return AddrSet{Exclude: []AddrSet{inner}}, nil
	}
	if strings.HasPrefix(s, "$") {
		v, ok := p.vars[s[1:]]
		if !ok {
			return AddrSet{}, fmt.Errorf("undefined variable %s (define it with `var %s VALUE` or --var %s=VALUE)", s, s[1:], s[1:])
		}
		return p.parseAddrField(v, depth+1)
	}
	if strings.HasPrefix(s, "[") {
		if !strings.HasSuffix(s, "]") {
			return AddrSet{}, fmt.Errorf("list not closed by ]")
		}
		items, err := splitList(s[1 : len(s)-1])
		if err != nil {
			return AddrSet{}, err
		}
		var set AddrSet
		for _, it := range items {
			x, err := p.parseAddrField(it, depth+1)
			if err != nil {
				return AddrSet{}, err
			}
			switch {
			case x.Any:
				set.Include = append(set.Include, x)
			case len(x.Include) == 0 && len(x.Exclude) == 1:
				set.Exclude = append(set.Exclude, x.Exclude[0])
			default:
				set.Include = append(set.Include, x)
			}
		}
		if len(set.Include) == 0 && len(set.Exclude) == 0 {
			return AddrSet{}, fmt.Errorf("empty list")
		}
		return set, nil
	}
	if strings.Contains(s, "/") {
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			return AddrSet{}, fmt.Errorf("%q is not an address or prefix", s)
		}
		return AddrSet{Prefix: pfx.Masked()}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return AddrSet{}, fmt.Errorf("%q is not an address, prefix, list, variable or any", s)
	}
	a = a.Unmap()
	return AddrSet{Prefix: netip.PrefixFrom(a, a.BitLen())}, nil
}

// parsePortField parses a port field: any, N, N:M, N:, :M, $VAR, !X or a
// [list] of these.
func (p *parser) parsePortField(s string, depth int) (PortSet, error) {
	if depth > maxVarDepth {
		return PortSet{}, fmt.Errorf("variables nested too deep (a cycle?)")
	}
	if s == "" {
		return PortSet{}, fmt.Errorf("empty port")
	}
	if s == "any" {
		return PortSet{Any: true}, nil
	}
	if strings.HasPrefix(s, "!") {
		inner, err := p.parsePortField(s[1:], depth+1)
		if err != nil {
			return PortSet{}, err
		}
		if inner.Any {
			return PortSet{}, fmt.Errorf("!any matches nothing")
		}
		return PortSet{Exclude: []PortSet{inner}}, nil
	}
	if strings.HasPrefix(s, "$") {
		v, ok := p.vars[s[1:]]
		if !ok {
			return PortSet{}, fmt.Errorf("undefined variable %s (define it with `portvar %s VALUE` or --var %s=VALUE)", s, s[1:], s[1:])
		}
		return p.parsePortField(v, depth+1)
	}
	if strings.HasPrefix(s, "[") {
		if !strings.HasSuffix(s, "]") {
			return PortSet{}, fmt.Errorf("list not closed by ]")
		}
		items, err := splitList(s[1 : len(s)-1])
		if err != nil {
			return PortSet{}, err
		}
		var set PortSet
		for _, it := range items {
			x, err := p.parsePortField(it, depth+1)
			if err != nil {
				return PortSet{}, err
			}
			if !x.Any && len(x.Include) == 0 && len(x.Exclude) == 1 {
				set.Exclude = append(set.Exclude, x.Exclude[0])
			} else {
				set.Include = append(set.Include, x)
			}
		}
		if len(set.Include) == 0 && len(set.Exclude) == 0 {
			return PortSet{}, fmt.Errorf("empty list")
		}
		return set, nil
	}
	lo, hi, isRange := strings.Cut(s, ":")
	if !isRange {
		v, err := parsePort(s)
		if err != nil {
			return PortSet{}, err
		}
		return PortSet{Lo: v, Hi: v}, nil
	}
	r := PortSet{Lo: 0, Hi: 65535}
	var err error
	if lo != "" {
		if r.Lo, err = parsePort(lo); err != nil {
			return PortSet{}, err
		}
	}
	if hi != "" {
		if r.Hi, err = parsePort(hi); err != nil {
			return PortSet{}, err
		}
	}
	if lo == "" && hi == "" {
		return PortSet{}, fmt.Errorf("range %q has no bounds", s)
	}
	if r.Lo > r.Hi {
		return PortSet{}, fmt.Errorf("range %q is empty (%d > %d)", s, r.Lo, r.Hi)
	}
	return r, nil
}

func parsePort(s string) (uint16, error) {
	v, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, fmt.Errorf("%q is not a port from 0 to 65535", s)
	}
	return uint16(v), nil
}

// splitList splits the inside of a [list] on commas at its own level.
func splitList(s string) ([]string, error) {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			depth++
		case ']':
			depth--
			if depth < 0 {
				return nil, fmt.Errorf("unbalanced ] in list")
			}
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("unbalanced [ in list")
	}
	out = append(out, strings.TrimSpace(s[start:]))
	for _, it := range out {
		if it == "" {
			return nil, fmt.Errorf("empty item in list")
		}
	}
	return out, nil
}

// defaultClassifications is Suricata's classification.config.
var defaultClassifications = []Classification{
	{"not-suspicious", "Not Suspicious Traffic", 3},
	{"unknown", "Unknown Traffic", 3},
	{"bad-unknown", "Potentially Bad Traffic", 2},
	{"attempted-recon", "Attempted Information Leak", 2},
	{"successful-recon-limited", "Information Leak", 2},
	{"successful-recon-largescale", "Large Scale Information Leak", 2},
	{"attempted-dos", "Attempted Denial of Service", 2},
	{"successful-dos", "Denial of Service", 2},
	{"attempted-user", "Attempted User Privilege Gain", 1},
	{"unsuccessful-user", "Unsuccessful User Privilege Gain", 1},
	{"successful-user", "Successful User Privilege Gain", 1},
	{"attempted-admin", "Attempted Administrator Privilege Gain", 1},
	{"successful-admin", "Successful Administrator Privilege Gain", 1},
	{"rpc-portmap-decode", "Decode of an RPC Query", 2},
	{"shellcode-detect", "Executable code was detected", 1},
	{"string-detect", "A suspicious string was detected", 3},
	{"suspicious-filename-detect", "A suspicious filename was detected", 2},
	{"suspicious-login", "An attempted login using a suspicious username was detected", 2},
	{"system-call-detect", "A system call was detected", 2},
	{"tcp-connection", "A TCP connection was detected", 4},
	{"trojan-activity", "A Network Trojan was detected", 1},
	{"unusual-client-port-connection", "A client was using an unusual port", 2},
	{"network-scan", "Detection of a Network Scan", 3},
	{"denial-of-service", "Detection of a Denial of Service Attack", 2},
	{"non-standard-protocol", "Detection of a non-standard protocol or event", 2},
	{"protocol-command-decode", "Generic Protocol Command Decode", 3},
	{"web-application-activity", "access to a potentially vulnerable web application", 2},
	{"web-application-attack", "Web Application Attack", 1},
	{"misc-activity", "Misc activity", 3},
	{"misc-attack", "Misc Attack", 2},
	{"icmp-event", "Generic ICMP event", 3},
	{"inappropriate-content", "Inappropriate Content was Detected", 1},
	{"policy-violation", "Potential Corporate Privacy Violation", 1},
	{"default-login-attempt", "Attempt to login by a default username and password", 2},
	{"targeted-activity", "Targeted Malicious Activity was Detected", 1},
	{"exploit-kit", "Exploit Kit Activity Detected", 1},
	{"external-ip-check", "Device Retrieving External IP Address Detected", 2},
	{"domain-c2", "Domain Observed Used for C2 Detected", 1},
	{"pup-activity", "Possibly Unwanted Program Detected", 2},
	{"credential-theft", "Successful Credential Theft Detected", 1},
	{"social-engineering", "Possible Social Engineering Attempted", 2},
	{"coin-mining", "Crypto Currency Mining Activity Detected", 2},
	{"command-and-control", "Malware Command and Control Activity Detected", 1},
}
