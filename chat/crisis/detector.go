package crisis

import "sync"

// RuleDetector is the lexicon-driven Detector. It is immutable and safe for
// concurrent use; per-call buffers come from a sync.Pool so a message that
// raises no alert costs no allocation.
type RuleDetector struct {
	c *compiled
}

// NewRuleDetector compiles lex (DefaultLexicon when nil). Compilation takes
// some milliseconds and a few megabytes; build one detector at start-up and
// share it.
func NewRuleDetector(lex *Lexicon) *RuleDetector {
	if lex == nil {
		lex = DefaultLexicon()
	}
	return &RuleDetector{c: compileLexicon(lex)}
}

type match struct {
	r    int32 // rule index
	s, e int32 // token range
	kind kind  // the rule's kind, at hand
	dead bool  // overridden by an idiom or a longer cue
}

type cand struct {
	m     int32 // index into matches
	eff   Severity
	other bool
	quote bool // entirely inside a quotation: never escalated
	esc   bool // escalated to Imminent by method, means, plan, time or a farewell
}

type scratch struct {
	units     []unit // (the reference normaliser's, in a test)
	ambiguous bool
	norm      []byte
	toks      []token
	tmp       []byte
	matches   []match
	brk       []bool
	clause    []int32
	sent      []int32
	reach     []reach // per rule: the tokens a match may start at
	gen       uint32  // stamps reach entries of the current call
	live      []int32 // rules outside the trie with every anchor present
	tried     []match // their matches
	merged    []match // spare buffer for merging
	found     []found
	byKind    [kindCount][]int32 // matches of each kind, in order
	cands     []cand
	fUnits    unitMasks // the term classes per clause and sentence (factor.go)
	spans     []evSpan
	feats     []uint32 // the model's features (model_features.go)
}

func newScratch() *scratch {
	return &scratch{
		norm:    make([]byte, 0, 1024),
		toks:    make([]token, 0, 256),
		matches: make([]match, 0, 64),
	}
}

func (sc *scratch) reset() {
	sc.units = sc.units[:0]
	sc.norm = sc.norm[:0]
	sc.toks = sc.toks[:0]
	sc.matches = sc.matches[:0]
	sc.cands = sc.cands[:0]
	sc.spans = sc.spans[:0]
}

var scratchPool = sync.Pool{New: func() any { return newScratch() }}

// maxPooled keeps one huge message from pinning megabytes in the pool.
const maxPooled = 1 << 16

// Detect scores one message.
func (d *RuleDetector) Detect(text string) Verdict {
	sc := scratchPool.Get().(*scratch)
	sc.reset()
	d.c.normalize(text, sc)
	v := d.judge(text, sc)
	putScratch(sc)
	return v
}

// judge scores the normalised message in sc.
func (d *RuleDetector) judge(text string, sc *scratch) Verdict {
	if !d.c.mayAlarm(sc.toks) { // nothing can raise an alert: most chat
		return Verdict{}
	}
	d.c.findMatches(sc)
	return d.c.score(text, sc)
}

func putScratch(sc *scratch) {
	if cap(sc.norm) <= maxPooled && cap(sc.toks) <= maxPooled && cap(sc.feats) <= maxPooled {
		scratchPool.Put(sc)
	}
}

// reach bounds where a rule can start in the current message: within
// lo[k]..hi[k] (inclusive) for each anchor slot k seen. Entries from an
// earlier call (gen differs) are empty.
type reach struct {
	gen    uint32
	seen   uint8
	lo, hi [2]int32
}

// findMatches finds every rule match in the tokens of sc, in order of
// start token (at one start, the trie's before the matcher's): the finite
// rules by one trie walk per token, the others by the backtracking matcher
// where their anchors are within reach.
func (cl *compiled) findMatches(sc *scratch) {
	cl.stampReach(sc)
	cl.noteAnchors(sc)
	cl.walkTrie(sc)
	sc.tried = sc.tried[:0]
	if len(sc.live) == 0 {
		return
	}
	cl.tryLive(sc)
	if len(sc.tried) == 0 {
		return
	}
	sc.mergeTried()
}

// stampReach starts a call's reach entries (a new gen makes every earlier
// entry empty) and makes the rules without an anchor live everywhere.
func (cl *compiled) stampReach(sc *scratch) {
	n := int32(len(sc.toks))
	if len(sc.reach) < len(cl.dense) {
		sc.reach = make([]reach, len(cl.dense))
	}
	sc.gen++
	if sc.gen == 0 { // wrapped: forget every stamp
		clear(sc.reach)
		sc.gen = 1
	}
	// live lists the rules outside the trie whose anchors all occur.
	sc.live = sc.live[:0]
	for _, ri := range cl.always {
		sc.reach[ri] = reach{gen: sc.gen, seen: 1, lo: [2]int32{0, 0}, hi: [2]int32{n, 0}}
		sc.live = append(sc.live, ri)
	}
}

// noteAnchors widens, for every anchor word in the message, the reach of
// the rules it anchors, and makes a rule live once all its slots are seen.
func (cl *compiled) noteAnchors(sc *scratch) {
	gen, reaches, masks := sc.gen, sc.reach, cl.anchorMask
	for ti := range sc.toks {
		id := sc.toks[ti].id
		if id < 0 {
			continue
		}
		for _, a := range cl.anchors[id] {
			lo, hi := int32(ti)-a.hi, int32(ti)-a.lo
			r := &reaches[a.rule]
			if r.gen != gen {
				*r = reach{gen: gen}
			}
			k := a.slot & 1
			if bit := uint8(1) << k; r.seen&bit == 0 {
				r.seen |= bit
				r.lo[k], r.hi[k] = lo, hi
				if r.seen == masks[a.rule] {
					sc.live = append(sc.live, a.rule)
				}
				continue
			}
			r.lo[k], r.hi[k] = min(r.lo[k], lo), max(r.hi[k], hi)
		}
	}
}

// walkTrie walks the trie once at every token: it finds every finite rule
// that matches there.
func (cl *compiled) walkTrie(sc *scratch) {
	toks, tr := sc.toks, cl.trie
	for ti := range toks {
		t := &toks[ti]
		sc.found = sc.found[:0]
		if t.id >= 0 && tr.root[t.id] != 0 {
			tr.walk(toks, tr.root[t.id], ti+1, sc)
		}
		if t.num && tr.num != 0 {
			tr.walk(toks, tr.num, ti+1, sc)
		}
		if t.many && tr.many != 0 {
			tr.walk(toks, tr.many, ti+1, sc)
		}
		if len(sc.found) > 0 {
			cl.keepLongest(sc, ti)
		}
	}
}

// keepLongest appends the trie's finds at token ti as matches: one per
// rule, the longest.
func (cl *compiled) keepLongest(sc *scratch, ti int) {
	for i, f := range sc.found {
		if f.rule < 0 {
			continue
		}
		end := f.end
		for j := i + 1; j < len(sc.found); j++ {
			if sc.found[j].rule == f.rule {
				end = max(end, sc.found[j].end)
				sc.found[j].rule = -1
			}
		}
		sc.matches = appendMatch(sc.matches, f.rule, int32(ti), end, cl.kinds[f.rule])
	}
}

// tryLive runs the backtracking matcher for the live rules outside the
// trie, only where their anchors are within reach, at the tokens they can
// start with. Their matches go to sc.tried, in order of start.
func (cl *compiled) tryLive(sc *scratch) {
	toks := sc.toks
	gen, reaches, masks := sc.gen, sc.reach, cl.anchorMask
	m := matcher{toks: toks, norm: sc.norm, negword: cl.negword}
	for ti := range toks {
		t := &toks[ti]
		if t.id >= 0 {
			for _, ri := range cl.byID[t.id] {
				if r := &reaches[ri]; r.gen == gen && r.seen == masks[ri] && r.within(int32(ti)) {
					cl.try(sc, &m, ri, ti)
				}
			}
		}
		for _, ri := range cl.oddStart {
			if r := &reaches[ri]; r.gen == gen && r.seen == masks[ri] && r.within(int32(ti)) && cl.starts[ri].ok(t, sc.norm) {
				cl.try(sc, &m, ri, ti)
			}
		}
	}
}

// mergeTried merges the matcher's matches into the trie's, by start, after
// the trie's at the same start: the order score relies on.
func (sc *scratch) mergeTried() {
	tried := sc.tried
	out := sc.merged[:0]
	a := sc.matches
	for len(a) > 0 || len(tried) > 0 {
		if len(tried) == 0 || (len(a) > 0 && a[0].s <= tried[0].s) {
			out = append(out, a[0])
			a = a[1:]
		} else {
			out = append(out, tried[0])
			tried = tried[1:]
		}
	}
	sc.merged, sc.matches = sc.matches[:0], out
}

// appendMatch appends a match written in place (a struct assembled aside
// and copied in costs a store-forwarding stall).
func appendMatch(ms []match, r, s, e int32, k kind) []match {
	ms = append(ms, match{})
	m := &ms[len(ms)-1]
	m.r, m.s, m.e, m.kind = r, s, e, k
	return ms
}

// within reports whether a match may start at token t.
func (r *reach) within(t int32) bool {
	return t >= r.lo[0] && t <= r.hi[0] && (r.seen < 2 || (t >= r.lo[1] && t <= r.hi[1]))
}

// try runs the backtracking matcher for dense rule d at token ti.
func (cl *compiled) try(sc *scratch, m *matcher, d int32, ti int) {
	ri := cl.dense[d]
	// The same rule can be reached twice at one token (through two of its
	// first words); keep one match.
	for k := len(sc.tried) - 1; k >= 0 && sc.tried[k].s == int32(ti); k-- {
		if sc.tried[k].r == ri {
			return
		}
	}
	m.start = ti
	if e := m.match(cl.rules[ri].seq, nil, ti); e > ti {
		sc.tried = appendMatch(sc.tried, ri, int32(ti), int32(e), cl.kinds[ri])
	}
}

func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
