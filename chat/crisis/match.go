package crisis

// The backtracking matcher tries the rules that the trie (trie.go) does not
// hold: those with gaps or prefixes, and those with too many phrases to
// expand. findMatches runs it only where a rule's anchors are within reach.

// cont is what remains to match after the sequence being matched: the
// rest of an enclosing sequence, then its own continuation.
type cont struct {
	seq  []node
	next *cont
}

type matcher struct {
	toks    []token
	norm    []byte
	negword []bool
	start   int // the token the match began at
}

// within reports whether token ti can continue a match that began at
// m.start: a rule's words never run on across a sentence ("to end my
// life. today" is not "end my life today").
func (m *matcher) within(ti int) bool {
	return ti < len(m.toks) && (ti == m.start || m.toks[ti].sep < sepSentence)
}

// match tries seq (then the continuation k) at token ti and returns the
// index after the match, or -1. Alternatives are tried in order, optional
// elements greedily, gaps shortest first.
func (m *matcher) match(seq []node, k *cont, ti int) int {
	for len(seq) == 0 {
		if k == nil {
			return ti
		}
		seq, k = k.seq, k.next
	}
	n := &seq[0]
	rest := seq[1:]
	switch n.kind {
	case pWord:
		if m.within(ti) && m.toks[ti].id == n.id {
			if r := m.match(rest, k, ti+1); r >= 0 {
				return r
			}
		}
	case pPrefix, pNum, pMany:
		if m.takes(n, ti) {
			if r := m.match(rest, k, ti+1); r >= 0 {
				return r
			}
		}
	case pEnd:
		if ti >= len(m.toks) || m.toks[ti].sep >= sepClause {
			return m.match(rest, k, ti)
		}
		return -1
	case pGap:
		return m.matchGap(n, rest, k, ti)
	case pGroup:
		if r := m.matchGroup(n, rest, k, ti); r >= 0 {
			return r
		}
	}
	if n.opt {
		return m.match(rest, k, ti)
	}
	return -1
}

// takes reports whether token ti is what the prefix, <num> or <many>
// element n asks for.
func (m *matcher) takes(n *node, ti int) bool {
	if !m.within(ti) {
		return false
	}
	t := &m.toks[ti]
	if n.kind == pPrefix {
		return int(t.e-t.s) >= len(n.pre) && string(m.norm[t.s:t.s+int32(len(n.pre))]) == n.pre
	}
	return t.num && (n.kind == pNum || t.many)
}

// matchGap skips 0 to n.gap tokens at ti, shortest first, then matches
// rest (and k).
func (m *matcher) matchGap(n *node, rest []node, k *cont, ti int) int {
	for g := 0; g <= int(n.gap) && ti+g <= len(m.toks); g++ {
		if g > 0 {
			// Never skip a sentence boundary or a negation: "going to
			// never kill myself" must not read as "going to kill myself".
			skipped := &m.toks[ti+g-1]
			if skipped.sep >= sepSentence || (skipped.id >= 0 && m.negword[skipped.id]) {
				break
			}
		}
		if ti+g < len(m.toks) && g > 0 && m.toks[ti+g].sep >= sepSentence {
			break
		}
		if r := m.match(rest, k, ti+g); r >= 0 {
			return r
		}
	}
	return -1
}

// matchGroup tries the alternatives of group n at ti, in order, each
// followed by rest (and k). Its first-word bits and dispatch lists skip
// the alternatives that cannot start with token ti.
func (m *matcher) matchGroup(n *node, rest []node, k *cont, ti int) int {
	id := int32(-1)
	if ti < len(m.toks) {
		id = m.toks[ti].id
	}
	known := id >= 0 && n.first[id>>6]&(1<<(id&63)) != 0
	if n.firstOnly && !known {
		return -1
	}
	c := cont{seq: rest, next: k}
	if n.lists != nil {
		list := n.anyStart
		if known {
			list = n.lists[n.rank(id)]
		}
		for _, a := range list {
			if r := m.match(n.alts[a], &c, ti); r >= 0 {
				return r
			}
		}
		return -1
	}
	for a := range n.alts {
		if r := m.match(n.alts[a], &c, ti); r >= 0 {
			return r
		}
	}
	return -1
}
