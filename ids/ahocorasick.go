package ids

// acAutomaton is an Aho-Corasick automaton that finds every occurrence
// of many patterns in one pass over the input, case-insensitively (ASCII):
// patterns are lowered when built and each input byte is lowered as it is
// read. Callers verify case-sensitive patterns at the reported positions.
//
// It is a full DFA (every state has a transition for every byte class),
// so a scan costs one table lookup per input byte whatever the number of
// patterns. Bytes that appear in no pattern share one class, which keeps
// the table small: states × classes entries.
type acAutomaton struct {
	class    [256]uint8 // lowered byte -> class
	nclass   int
	delta    []int32   // state*nclass + class -> state
	out      [][]int32 // patterns ending at a state (own outputs)
	dictLink []int32   // next state on the failure chain with outputs, -1 if none
	lens     []int     // pattern lengths
}

var lowerTable = func() (t [256]byte) {
	for i := range t {
		c := byte(i)
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		t[i] = c
	}
	return t
}()

// newAC builds an automaton over patterns; pattern i is reported as i.
// Empty patterns are never reported.
func newAC(patterns [][]byte) *acAutomaton {
	a := &acAutomaton{lens: make([]int, len(patterns))}
	// Byte classes: class 0 for bytes in no pattern.
	used := [256]bool{}
	for _, p := range patterns {
		for _, c := range p {
			used[lowerTable[c]] = true
		}
	}
	n := 1
	for c := 0; c < 256; c++ {
		if used[c] {
			a.class[c] = uint8(n)
			n++
		}
	}
	// More than 255 distinct classes cannot happen: at most 256 byte
	// values minus the 26 upper-case letters lowered away, plus class 0.
	a.nclass = n
	// Trie, as a sparse goto function first.
	type node struct {
		next map[uint8]int32
	}
	nodes := []node{{next: map[uint8]int32{}}}
	a.out = [][]int32{nil}
	for i, p := range patterns {
		a.lens[i] = len(p)
		if len(p) == 0 {
			continue
		}
		s := int32(0)
		for _, c := range p {
			k := a.class[lowerTable[c]]
			nx, ok := nodes[s].next[k]
			if !ok {
				nx = int32(len(nodes))
				nodes = append(nodes, node{next: map[uint8]int32{}})
				a.out = append(a.out, nil)
				nodes[s].next[k] = nx
			}
			s = nx
		}
		a.out[s] = append(a.out[s], int32(i))
	}
	// Breadth-first: failure links, then the full transition table.
	ns := len(nodes)
	a.delta = make([]int32, ns*n)
	fail := make([]int32, ns)
	a.dictLink = make([]int32, ns)
	for i := range a.dictLink {
		a.dictLink[i] = -1
	}
	queue := make([]int32, 0, ns)
	for k := 0; k < n; k++ {
		if nx, ok := nodes[0].next[uint8(k)]; ok {
			a.delta[k] = nx
			fail[nx] = 0
			queue = append(queue, nx)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		f := fail[s]
		if len(a.out[f]) > 0 {
			a.dictLink[s] = f
		} else {
			a.dictLink[s] = a.dictLink[f]
		}
		for k := 0; k < n; k++ {
			if nx, ok := nodes[s].next[uint8(k)]; ok {
				a.delta[int(s)*n+k] = nx
				fail[nx] = a.delta[int(f)*n+k]
				queue = append(queue, nx)
			} else {
				a.delta[int(s)*n+k] = a.delta[int(f)*n+k]
			}
		}
	}
	return a
}

// scan reports every occurrence of every pattern in b, as the pattern
// number and the index just past its end, in order of end position.
// fn returning false stops the scan.
func (a *acAutomaton) scan(b []byte, fn func(pattern int, end int) bool) {
	n := a.nclass
	s := int32(0)
	for i, c := range b {
		s = a.delta[int(s)*n+int(a.class[lowerTable[c]])]
		for t := s; t > 0; t = a.dictLink[t] {
			for _, p := range a.out[t] {
				if !fn(int(p), i+1) {
					return
				}
			}
		}
	}
}

// states returns the number of states (for tests and sizing).
func (a *acAutomaton) states() int { return len(a.out) }
