package crisis

import (
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"sync"
)

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
	spans     []evSpan
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
	var v Verdict
	if d.c.mayAlarm(sc.toks) { // else nothing can raise an alert: most chat
		d.c.findMatches(sc)
		v = d.c.score(text, sc)
	}
	if cap(sc.norm) <= maxPooled && cap(sc.toks) <= maxPooled {
		scratchPool.Put(sc)
	}
	return v
}

// reach bounds where a rule can start in the current message: within
// lo[k]..hi[k] (inclusive) for each anchor slot k seen. Entries from an
// earlier call (gen differs) are empty.
type reach struct {
	gen    uint32
	seen   uint8
	lo, hi [2]int32
}

func (cl *compiled) findMatches(sc *scratch) {
	toks := sc.toks
	n := int32(len(toks))
	if len(sc.reach) < len(cl.dense) {
		sc.reach = make([]reach, len(cl.dense))
	}
	sc.gen++
	if sc.gen == 0 { // wrapped: forget every stamp
		clear(sc.reach)
		sc.gen = 1
	}
	gen, reaches, masks := sc.gen, sc.reach, cl.anchorMask
	// live lists the rules outside the trie whose anchors all occur.
	sc.live = sc.live[:0]
	for _, ri := range cl.always {
		reaches[ri] = reach{gen: gen, seen: 1, lo: [2]int32{0, 0}, hi: [2]int32{n, 0}}
		sc.live = append(sc.live, ri)
	}
	tr := cl.trie
	for ti := range toks {
		t := &toks[ti]
		if id := t.id; id >= 0 {
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
		// The trie: every finite rule that matches here, walked once.
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
		// One match per rule and start: the longest.
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
	sc.tried = sc.tried[:0]
	if len(sc.live) == 0 {
		return
	}

	// The other rules, by the backtracking matcher, only where their
	// anchors are within reach, at the tokens they can start with.
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
	if len(sc.tried) == 0 {
		return
	}
	// Merge them in by start, after the trie's: the order score relies on.
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
	if e := m.match(cl.rules[ri].seq, nil, ti); e > ti {
		sc.tried = appendMatch(sc.tried, ri, int32(ti), int32(e), cl.kinds[ri])
	}
}

// isCue reports kinds that describe context rather than danger.
func isCue(k kind) bool {
	switch k {
	case kSignal, kFarewell, kMeans, kMethod, kBenign, kPlan:
		return false
	}
	return true
}

func (cl *compiled) score(text string, sc *scratch) Verdict {
	toks := sc.toks
	ms := sc.matches
	n := len(toks)
	if len(ms) == 0 || n == 0 {
		return Verdict{}
	}
	rules := cl.rules

	// Clause and sentence numbering. "but", "though" ... open a clause.
	sc.brk = resize(sc.brk, n)
	for i := range sc.brk {
		sc.brk[i] = false
	}
	for i := range ms {
		if rules[ms[i].r].kind == kBreak {
			sc.brk[ms[i].s] = true
		}
	}
	sc.clause = resize(sc.clause, n)
	sc.sent = resize(sc.sent, n)
	var c, s int32
	for i := range toks {
		if i > 0 {
			if toks[i].sep >= sepSentence {
				s++
			}
			if toks[i].sep >= sepClause || sc.brk[i] {
				c++
			}
		}
		sc.clause[i], sc.sent[i] = c, s
	}

	// Idioms override what they overlap; a cue inside a longer cue
	// ("ago" inside "20 minutes ago", "my" inside "my sister") yields to it.
	// Matches are ordered by start token, which bounds both scans.
	maxLen := int32(0)
	for i := range ms {
		maxLen = max(maxLen, ms[i].e-ms[i].s)
	}
	for i := range ms {
		ki := ms[i].kind
		if ki == kBenign {
			for j := range ms {
				if ms[j].s >= ms[i].e {
					break
				}
				kj := ms[j].kind
				if !isCue(kj) && kj != kBenign && ms[i].s < ms[j].e {
					ms[j].dead = true
				}
			}
			continue
		}
		if !isCue(ki) {
			continue
		}
		// A longer cue that covers this one starts at most maxLen tokens
		// before it and no later than it.
		lo := i
		for lo > 0 && ms[lo-1].s >= ms[i].e-maxLen {
			lo--
		}
		for j := lo; j < len(ms); j++ {
			if ms[j].s > ms[i].s {
				break
			}
			if j != i && ms[i].e <= ms[j].e && ms[j].e-ms[j].s > ms[i].e-ms[i].s && isCue(ms[j].kind) {
				ms[i].dead = true
				break
			}
		}
	}

	// Cues by kind, so that each question below reads only its own kind.
	for k := range sc.byKind {
		sc.byKind[k] = sc.byKind[k][:0]
	}
	for i := range ms {
		if !ms[i].dead {
			sc.byKind[ms[i].kind] = append(sc.byKind[ms[i].kind], int32(i))
		}
	}

	// Message-wide context.
	humour := len(sc.byKind[kHumour]) > 0
	serious := len(sc.byKind[kSerious]) > 0
	continuity := len(sc.byKind[kContinuity]) > 0
	safe := len(sc.byKind[kSafe]) > 0

	// Escalators: means at hand, a plan, a time, a method.
	var hasMeans, hasPlan, hasTime bool
	var methodCats catSet
	for i := range ms {
		m := &ms[i]
		if m.dead {
			continue
		}
		switch m.kind {
		case kMeans:
			if cl.negated(sc, m) || cl.inSentence(sc, m, kMedical) || cl.tense(sc, m) == tensePast {
				m.dead = true
				continue
			}
			hasMeans = true
		case kPlan, kTime, kMethod:
			if cl.negated(sc, m) {
				m.dead = true
				continue
			}
			switch m.kind {
			case kPlan:
				hasPlan = true
			case kTime:
				hasTime = true
			default:
				methodCats |= rules[m.r].cats
			}
		}
	}

	// Candidates: every live signal, farewell and means, in its own context.
	sc.cands = sc.cands[:0]
	for i := range ms {
		m := &ms[i]
		if m.dead || (m.kind != kSignal && m.kind != kFarewell && m.kind != kMeans) {
			continue
		}
		r := &rules[m.r]
		other, explicit := cl.subject(sc, m)
		if r.kind == kMeans {
			sc.cands = append(sc.cands, cand{m: int32(i), eff: Concern, other: other})
			continue
		}
		if r.kind == kFarewell && continuity {
			continue
		}
		if cl.negated(sc, m) || cl.resolvedAfter(sc, m) {
			continue
		}
		eff := r.sev
		if r.flags&(fIntent|fNow) == 0 {
			// Intentions are about now or later, and some statements are
			// present by construction; tense only qualifies the rest.
			switch cl.tense(sc, m) {
			case tensePast:
				if !other || cl.inSentence(sc, m, kRecovery) {
					continue // recovery talk
				}
				eff = Concern
			case tenseNear:
				if cl.inSentence(sc, m, kRecovery) {
					continue
				}
				if eff > Concern && r.flags&fOngoing == 0 {
					eff-- // abuse last weekend is abuse now
				}
			}
		}
		if (other || !explicit) && cl.inSentence(sc, m, kTopic) {
			continue // news, books, lectures
		}
		if r.flags&fHyper != 0 && !serious && (humour || cl.inSentence(sc, m, kHyperbole)) {
			eff--
		}
		if safe && r.flags&(fIntent|fAct) == 0 && eff == High {
			eff-- // "... but I called my sponsor": still worth a glance
		}
		quoted := toks[m.s].quoted && toks[m.e-1].quoted
		if quoted && eff > Concern {
			eff-- // a lyric, a quote, someone else's words
		}
		if eff == None {
			continue
		}
		sc.cands = append(sc.cands, cand{m: int32(i), eff: eff, other: other, quote: quoted})
	}

	// Ambiguous (weak) signals count only when something else backs them.
	var strong, farewellWeight, finality int
	for _, cd := range sc.cands {
		r := &rules[ms[cd.m].r]
		switch {
		case r.kind == kFarewell:
			farewellWeight += int(cd.eff)
			if r.sev >= High {
				finality++
			}
			strong++
		case r.kind == kSignal && r.flags&fWeak == 0:
			strong++
		}
	}
	keep := sc.cands[:0]
	for _, cd := range sc.cands {
		r := &rules[ms[cd.m].r]
		if r.flags&fWeak != 0 && !(serious || hasMeans || hasPlan || strong > 0 || cl.hasContext(sc, r.cats)) {
			continue
		}
		keep = append(keep, cd)
	}
	sc.cands = keep
	if len(sc.cands) == 0 {
		return Verdict{}
	}

	// Escalation to Imminent. It looks at a rule's own severity, not at the
	// humour-lowered one: "lol gonna kms tonight" is a plan with a time.
	//
	// A farewell is a goodbye with finality ("this is my last message",
	// "nice knowing you": high or imminent farewells) or a sign-off
	// ("thanks for everything, love you all, bye!": concern farewells). A
	// final farewell is imminent with any crisis signal in the message, and
	// sign-offs count towards it (3 = imminent); a sign-off alone, however
	// many, is a concern, and imminent only with a crisis signal in its own
	// or a nearby sentence (or means or a plan).
	for i := range sc.cands {
		cd := &sc.cands[i]
		r := &rules[ms[cd.m].r]
		esc := false
		switch r.kind {
		case kSignal:
			esc = !cd.quote && r.sev >= High &&
				((r.flags&fIntent != 0 && (hasTime || methodCats&r.cats != 0)) || hasMeans || hasPlan)
		case kMeans:
			esc = hasTime || hasPlan || (finality > 0 && farewellWeight > 0) || cl.farewellNear(sc, &ms[cd.m])
		case kFarewell:
			esc = hasMeans || hasPlan || (finality > 0 && (farewellWeight >= 3 || cl.signalNear(sc, &ms[cd.m], 1<<20))) ||
				cl.signalNear(sc, &ms[cd.m], nearSentences)
		}
		if esc && cd.eff < Imminent {
			cd.eff, cd.esc = Imminent, true
		}
	}

	// Someone else's crisis reported by the writer: their ideation is a
	// Concern for this room; a danger happening now stays Imminent.
	var v Verdict
	var cats catSet
	best := -1
	escalated := false
	for i := range sc.cands {
		cd := &sc.cands[i]
		if cd.other && cd.eff == High {
			cd.eff = Concern
		}
		cats |= rules[ms[cd.m].r].cats
		if best < 0 || cd.eff > sc.cands[best].eff || (cd.eff == sc.cands[best].eff && !cd.other && sc.cands[best].other) {
			best = i
		}
		if cd.esc {
			escalated = true
		}
	}
	v.Severity = sc.cands[best].eff
	v.About = AboutSelf
	if sc.cands[best].other {
		v.About = AboutOther
	}
	v.Categories = make([]Category, 0, bits.OnesCount8(uint8(cats)))
	for i, k := range KnownCategories {
		if cats&(1<<i) != 0 {
			v.Categories = append(v.Categories, k)
		}
	}

	// Evidence: the candidates, plus what escalated them. Ranges and rules
	// are gathered and sorted first (small, pointer-free); the spans are
	// built once, for the ones kept.
	sc.spans = sc.spans[:0]
	add := func(m *match) {
		sc.spans = append(sc.spans, evSpan{a: toks[m.s].os, b: toks[m.e-1].oe, r: m.r})
	}
	for _, cd := range sc.cands {
		add(&ms[cd.m])
	}
	if escalated {
		for i := range ms {
			m := &ms[i]
			if m.dead {
				continue
			}
			switch m.kind {
			case kTime, kPlan, kMethod:
				add(m)
			}
		}
	}
	sp := sc.spans
	slices.SortFunc(sp, func(x, y evSpan) int {
		if x.a != y.a {
			return int(x.a - y.a)
		}
		return int(y.b - x.b)
	})
	kept := 0
	for i, x := range sp {
		if kept > 0 && x.b <= sp[kept-1].b {
			continue // inside the previous span
		}
		sp[kept] = sp[i]
		kept++
	}
	v.Evidence = make([]Span, kept)
	for i, x := range sp[:kept] {
		v.Evidence[i] = Span{Start: int(x.a), End: int(x.b), Text: text[x.a:x.b], Rule: rules[x.r].id}
	}
	return v
}

// evSpan is a piece of evidence before it becomes a Span.
type evSpan struct {
	a, b int32 // original byte range
	r    int32 // rule
}

// nearSentences is how many sentences away a crisis signal still backs a
// sign-off ("sorry everyone. i can't anymore. goodbye.").
const nearSentences = 2

// signalNear reports a candidate signal within dist sentences of m. It
// may be about someone else: "she posted goodbye stuff and isn't
// answering" is a farewell too, whoever the subject detection settles on.
func (cl *compiled) signalNear(sc *scratch, m *match, dist int32) bool {
	for _, cd := range sc.cands {
		q := &sc.matches[cd.m]
		if q.kind == kSignal && sentDist(sc, m, q) <= dist {
			return true
		}
	}
	return false
}

// farewellNear reports a candidate farewell within nearSentences of m.
func (cl *compiled) farewellNear(sc *scratch, m *match) bool {
	for _, cd := range sc.cands {
		q := &sc.matches[cd.m]
		if q.kind == kFarewell && sentDist(sc, m, q) <= nearSentences {
			return true
		}
	}
	return false
}

func sentDist(sc *scratch, a, b *match) int32 {
	as, ae, bs, be := sc.sent[a.s], sc.sent[a.e-1], sc.sent[b.s], sc.sent[b.e-1]
	switch {
	case be < as:
		return as - be
	case bs > ae:
		return bs - ae
	}
	return 0
}

func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// negated reports a live negation cue before m, in the same clause, with
// only "bridge" words between ("I'm not going to", "never thought about").
// Words outside the bridge class end the negation's reach, which is what
// keeps "I can't stop thinking about killing myself" un-negated.
func (cl *compiled) negated(sc *scratch, m *match) bool {
	ms := sc.matches
	for _, qi := range sc.byKind[kNegation] {
		q := &ms[qi]
		if q.dead || q.e > m.s {
			continue
		}
		if m.s-q.e > 6 || sc.clause[q.e-1] != sc.clause[m.s] {
			continue
		}
		ok := true
		for t := q.e; t < m.s; t++ {
			id := sc.toks[t].id
			if id < 0 || !cl.bridge[id] {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// resolvedAfter reports a "resolved" cue after m in its sentence ("the urge
// to self harm is gone", "asked if I'd hurt myself and I said no").
func (cl *compiled) resolvedAfter(sc *scratch, m *match) bool {
	ms := sc.matches
	sent := sc.sent[m.e-1]
	for _, qi := range sc.byKind[kResolved] {
		q := &ms[qi]
		if !q.dead && q.s >= m.e && sc.sent[q.s] == sent {
			return true
		}
	}
	return false
}

func (cl *compiled) inSentence(sc *scratch, m *match, k kind) bool {
	ms := sc.matches
	lo, hi := sc.sent[m.s], sc.sent[m.e-1]
	for _, qi := range sc.byKind[k] {
		q := &ms[qi]
		if !q.dead && sc.sent[q.s] >= lo && sc.sent[q.s] <= hi {
			return true
		}
	}
	return false
}

func (cl *compiled) hasContext(sc *scratch, cats catSet) bool {
	for _, qi := range sc.byKind[kContext] {
		q := &sc.matches[qi]
		if !q.dead && cl.rules[q.r].cats&cats != 0 {
			return true
		}
	}
	return false
}

// subject decides whether m is about someone other than the writer: the
// nearest subject cue before it in its clause wins ("my sister said she
// ..."). No subject means the writer, but not explicitly (explicit matters
// for news and book talk).
func (cl *compiled) subject(sc *scratch, m *match) (other, explicit bool) {
	r := &cl.rules[m.r]
	if r.flags&fOther != 0 {
		return true, true
	}
	if r.flags&fSelf != 0 {
		return false, true
	}
	ms := sc.matches
	bestEnd, bestLen := int32(-1), int32(0)
	for _, qi := range sc.byKind[kSubject] {
		q := &ms[qi]
		if q.dead || q.e > m.s || m.s-q.e > 8 || sc.clause[q.e-1] != sc.clause[m.s] {
			continue
		}
		if q.e > bestEnd || (q.e == bestEnd && q.e-q.s > bestLen) {
			bestEnd, bestLen = q.e, q.e-q.s
			other = cl.rules[q.r].subject == AboutOther
			explicit = true
		}
	}
	return other, explicit
}

const (
	tenseNow = iota
	tensePast
	tenseNear
)

// tense reads the tense cue nearest to m in its clause(s): recent ("last
// night", "20 minutes ago"), present ("again", "still") and time ("tonight")
// cues mean now; past ("a year ago", "used to", "when I was 19") means
// recovery talk; near past ("last week") means it happened, recently enough
// to matter. The nearest cue wins so that "two years ago I attempted and
// today I graduated" reads as past. No cue means now.
func (cl *compiled) tense(sc *scratch, m *match) int {
	lo, hi := sc.clause[m.s], sc.clause[m.e-1]
	best, bestDist, bestRank := tenseNow, int32(1<<30), 0
	for _, k := range [...]kind{kRecent, kNearPast, kPast, kPresent, kTime} {
		var t, rank int
		switch k {
		case kRecent:
			t, rank = tenseNow, 4
		case kNearPast:
			t, rank = tenseNear, 3
		case kPast:
			t, rank = tensePast, 2
		default:
			t, rank = tenseNow, 1
		}
		for _, qi := range sc.byKind[k] {
			q := &sc.matches[qi]
			if q.dead {
				continue
			}
			if c := sc.clause[q.s]; c < lo || c > hi {
				continue
			}
			var d int32
			switch {
			case q.e <= m.s:
				d = m.s - q.e
			case q.s >= m.e:
				d = q.s - m.e
			}
			if d < bestDist || (d == bestDist && rank > bestRank) {
				best, bestDist, bestRank = t, d, rank
			}
		}
	}
	return best
}

// debug renders tokens and matches, for tests and lexicon authors.
func (d *RuleDetector) debug(text string) string {
	sc := newScratch()
	d.c.normalize(text, sc)
	d.c.findMatches(sc)
	var b strings.Builder
	for i, t := range sc.toks {
		if i > 0 {
			b.WriteString([]string{"", " ", " , ", " . "}[t.sep])
		}
		b.Write(sc.norm[t.s:t.e])
		if t.id < 0 {
			b.WriteByte('?')
		}
	}
	b.WriteByte('\n')
	for _, m := range sc.matches {
		r := d.c.rules[m.r]
		kn := ""
		for name, k := range kindNames {
			if k == r.kind {
				kn = name
			}
		}
		fmt.Fprintf(&b, "  %-10s %-28s [%d,%d) %q\n", kn, r.id, m.s, m.e, text[sc.toks[m.s].os:sc.toks[m.e-1].oe])
	}
	v := d.c.score(text, sc)
	fmt.Fprintf(&b, "  => %s %v %s\n", v.Severity, v.Categories, v.About)
	return b.String()
}
