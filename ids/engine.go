package ids

import (
	"bytes"
	"net/netip"
	"slices"
	"sync"
)

// Verdict is the engine's decision on a packet.
type Verdict uint8

// Verdicts.
const (
	Accept Verdict = iota // let the packet through
	Drop                  // a drop rule matched
)

// String returns "accept" or "drop".
func (v Verdict) String() string {
	if v == Drop {
		return "drop"
	}
	return "accept"
}

// Result is the outcome of inspecting one packet.
type Result struct {
	Verdict Verdict
	// Pass is the first pass rule that matched; when set, nothing else
	// is reported and the verdict is Accept.
	Pass *Rule
	// Alerts are the alert and drop rules that matched, in rule-file
	// order: one EVE alert each.
	Alerts []*Rule
}

// Engine is a compiled rule set. It is immutable and safe for concurrent
// use; reloading means building a new Engine and swapping it in.
//
// Matching has two stages, as in Suricata and Snort: one Aho-Corasick
// pass over the payload finds which rules' fast patterns (the longest
// content of each rule, or the one marked fast_pattern) occur; only those
// rules, and the rules that have no content, are then checked in full
// (header, every content with its position modifiers, pcre). The cost of
// a packet thus grows with its length and the number of candidate rules,
// not with the size of the rule set.
type Engine struct {
	rules  []*Rule
	ac     *acAutomaton
	refs   [][]patRef // per automaton pattern, the rules it is the fast pattern of
	always []int32    // rules without a fast pattern: always checked
	pool   sync.Pool  // *scratch
}

type patRef struct {
	rule   int32
	exact  []byte // the pattern as written, to verify case-sensitive hits
	nocase bool
}

type scratch struct {
	seen  []uint32 // generation at which each rule became a candidate
	gen   uint32
	cands []int32
}

// NewEngine compiles rules.
func NewEngine(rs *Rules) *Engine {
	e := &Engine{}
	if rs != nil {
		e.rules = rs.Rules
	}
	var pats [][]byte
	index := map[string]int{}
	for i, r := range e.rules {
		if r.fast < 0 {
			e.always = append(e.always, int32(i))
			continue
		}
		c := &r.Contents[r.fast]
		k := string(c.lower)
		pi, ok := index[k]
		if !ok {
			pi = len(pats)
			index[k] = pi
			pats = append(pats, c.lower)
			e.refs = append(e.refs, nil)
		}
		e.refs[pi] = append(e.refs[pi], patRef{rule: int32(i), exact: c.Pattern, nocase: c.NoCase})
	}
	e.ac = newAC(pats)
	n := len(e.rules)
	e.pool.New = func() any { return &scratch{seen: make([]uint32, n)} }
	return e
}

// Rules returns the engine's rules, in file order.
func (e *Engine) Rules() []*Rule { return e.rules }

// Inspect matches p against every rule and fills res (reusing its Alerts
// slice).
func (e *Engine) Inspect(p *Packet, res *Result) {
	res.Verdict, res.Pass, res.Alerts = Accept, nil, res.Alerts[:0]
	if len(e.rules) == 0 {
		return
	}
	s := e.pool.Get().(*scratch)
	defer e.pool.Put(s)
	s.gen++
	if s.gen == 0 { // wrapped: forget old marks
		clear(s.seen)
		s.gen = 1
	}
	s.cands = s.cands[:0]
	if len(p.Payload) > 0 && len(e.refs) > 0 {
		e.ac.scan(p.Payload, func(pat, end int) bool {
			for _, ref := range e.refs[pat] {
				if s.seen[ref.rule] == s.gen {
					continue
				}
				if !ref.nocase && !bytes.Equal(p.Payload[end-len(ref.exact):end], ref.exact) {
					continue
				}
				s.seen[ref.rule] = s.gen
				s.cands = append(s.cands, ref.rule)
			}
			return true
		})
	}
	s.cands = append(s.cands, e.always...)
	slices.Sort(s.cands)
	for _, i := range s.cands {
		r := e.rules[i]
		if !r.matches(p) {
			continue
		}
		switch r.Action {
		case ActionPass:
			res.Verdict, res.Pass, res.Alerts = Accept, r, res.Alerts[:0]
			return
		case ActionDrop:
			res.Verdict = Drop
		}
		res.Alerts = append(res.Alerts, r)
	}
}

// Matches reports whether r matches p, checking everything (no
// prefilter). Engine.Inspect is the fast way to match many rules.
func (r *Rule) Matches(p *Packet) bool {
	if r.fast < 0 && len(r.Contents) > 0 {
		r.finish()
	}
	return r.matches(p)
}

func (r *Rule) matches(p *Packet) bool {
	if !r.matchProto(p) {
		return false
	}
	if !r.matchHeader(p.Src, p.SrcPort, p.Dst, p.DstPort) &&
		!(r.Bidirectional && r.matchHeader(p.Dst, p.DstPort, p.Src, p.SrcPort)) {
		return false
	}
	if len(r.Contents) > 0 {
		budget := maxContentSteps
		if !matchContents(r.Contents, p.Payload, 0, &budget) {
			return false
		}
	}
	for i := range r.PCREs {
		pc := &r.PCREs[i]
		if pc.Regexp.Match(p.Payload) == pc.Negated {
			return false
		}
	}
	return true
}

func (r *Rule) matchProto(p *Packet) bool {
	switch r.Protocol {
	case ProtoIP:
		return p.Src.IsValid()
	case ProtoTCP:
		return p.IPProto == ipProtoTCP && !p.Fragment
	case ProtoUDP:
		return p.IPProto == ipProtoUDP && !p.Fragment
	case ProtoICMP:
		return (p.IPProto == ipProtoICMP && p.Src.Is4() || p.IPProto == ipProtoICMPv6 && p.Src.Is6()) && !p.Fragment
	}
	return false
}

func (r *Rule) matchHeader(src netip.Addr, sport uint16, dst netip.Addr, dport uint16) bool {
	return r.Src.Contains(src) && r.Dst.Contains(dst) && r.SrcPorts.Contains(sport) && r.DstPorts.Contains(dport)
}

// maxContentSteps bounds the backtracking of relative contents per rule
// and packet (Suricata's inspection recursion limit is of the same
// order): a rule that needs more is taken as not matching.
const maxContentSteps = 3000

// matchContents reports whether cs match payload in order, the first
// relative one placed after prevEnd. A relative content that fails after
// one occurrence of its predecessor is retried after the next one, as
// Suricata does.
func matchContents(cs []Content, payload []byte, prevEnd int, budget *int) bool {
	if len(cs) == 0 {
		return true
	}
	if *budget--; *budget < 0 {
		return false
	}
	c := &cs[0]
	lo, hi := 0, len(payload)
	if c.relative() {
		lo = prevEnd + c.Distance
		if lo < 0 {
			lo = 0
		}
		if c.HasWithin {
			hi = min(hi, prevEnd+c.Distance+c.Within)
		}
	} else {
		lo = c.Offset
		if c.HasDepth {
			hi = min(hi, c.Offset+c.Depth)
		}
	}
	if c.Negated {
		if lo < hi && find(c, payload[lo:hi]) >= 0 {
			return false
		}
		return matchContents(cs[1:], payload, prevEnd, budget)
	}
	for lo+len(c.Pattern) <= hi {
		i := find(c, payload[lo:hi])
		if i < 0 {
			return false
		}
		pos := lo + i
		if matchContents(cs[1:], payload, pos+len(c.Pattern), budget) {
			return true
		}
		if *budget < 0 {
			return false
		}
		lo = pos + 1
	}
	return false
}

// find returns the index of c's pattern in b, or -1.
func find(c *Content, b []byte) int {
	if !c.NoCase {
		return bytes.Index(b, c.Pattern)
	}
	n := c.lower
	if len(n) == 0 || len(n) > len(b) {
		return -1
	}
	first := n[0]
	for i := 0; i+len(n) <= len(b); i++ {
		if lowerTable[b[i]] != first {
			continue
		}
		j := 1
		for j < len(n) && lowerTable[b[i+j]] == n[j] {
			j++
		}
		if j == len(n) {
			return i
		}
	}
	return -1
}
