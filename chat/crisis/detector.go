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
	units     []unit
	ambiguous bool // units holds leet symbols or apostrophes to resolve
	norm      []byte
	toks      []token
	tmp       []byte
	matches   []match
	brk       []bool
	clause    []int32
	sent      []int32
	viable    []bool // per rule: one of its anchors occurs in the message
	found     []found
	cands     []cand
	spans     []Span
}

func newScratch() *scratch {
	return &scratch{
		units:   make([]unit, 0, 1024),
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
	d.c.findMatches(sc)
	v := d.c.score(text, sc)
	if cap(sc.units) <= maxPooled {
		scratchPool.Put(sc)
	}
	return v
}

func (cl *compiled) findMatches(sc *scratch) {
	m := matcher{toks: sc.toks, norm: sc.norm, negword: cl.negword}
	sc.viable = resize(sc.viable, len(cl.rules))
	clear(sc.viable)
	for _, ri := range cl.always {
		sc.viable[ri] = true
	}
	for ti := range sc.toks {
		if id := sc.toks[ti].id; id >= 0 {
			for _, ri := range cl.anchors[id] {
				sc.viable[ri] = true
			}
		}
	}
	try := func(ri int32, ti int) {
		if !sc.viable[ri] {
			return
		}
		// The same rule can be reached twice at one token (through two of
		// its first words); keep one match.
		for k := len(sc.matches) - 1; k >= 0 && sc.matches[k].s == int32(ti); k-- {
			if sc.matches[k].r == ri {
				return
			}
		}
		if e := m.match(cl.rules[ri].seq, nil, ti); e > ti {
			sc.matches = append(sc.matches, match{r: ri, s: int32(ti), e: int32(e)})
		}
	}
	tr := cl.trie
	for ti := range sc.toks {
		t := &sc.toks[ti]
		sc.found = sc.found[:0]
		if t.id >= 0 && tr.root[t.id] != 0 {
			tr.walk(sc.toks, tr.root[t.id], ti+1, sc)
		}
		if t.num && tr.num != 0 {
			tr.walk(sc.toks, tr.num, ti+1, sc)
		}
		if t.many && tr.many != 0 {
			tr.walk(sc.toks, tr.many, ti+1, sc)
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
			sc.matches = append(sc.matches, match{r: f.rule, s: int32(ti), e: end})
		}
		if t.id >= 0 {
			for _, ri := range cl.byID[t.id] {
				try(ri, ti)
			}
		}
		for _, p := range cl.prefixes {
			if int(t.e-t.s) >= len(p.pre) && string(sc.norm[t.s:t.s+int32(len(p.pre))]) == p.pre {
				try(p.rule, ti)
			}
		}
		if t.num {
			for _, ri := range cl.numRules {
				try(ri, ti)
			}
		}
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
	for i := range ms {
		ki := rules[ms[i].r].kind
		if ki == kBenign {
			for j := range ms {
				if ms[j].s >= ms[i].e {
					break
				}
				kj := rules[ms[j].r].kind
				if !isCue(kj) && kj != kBenign && ms[i].s < ms[j].e {
					ms[j].dead = true
				}
			}
			continue
		}
		if !isCue(ki) {
			continue
		}
		for j := range ms {
			if ms[j].s > ms[i].s {
				break
			}
			if j != i && ms[i].e <= ms[j].e && ms[j].e-ms[j].s > ms[i].e-ms[i].s && isCue(rules[ms[j].r].kind) {
				ms[i].dead = true
				break
			}
		}
	}

	// Message-wide context.
	var humour, serious, continuity, safe bool
	for i := range ms {
		if ms[i].dead {
			continue
		}
		switch rules[ms[i].r].kind {
		case kHumour:
			humour = true
		case kSerious:
			serious = true
		case kContinuity:
			continuity = true
		case kSafe:
			safe = true
		}
	}

	// Escalators: means at hand, a plan, a time, a method.
	var hasMeans, hasPlan, hasTime bool
	var methodCats catSet
	for i := range ms {
		m := &ms[i]
		if m.dead {
			continue
		}
		switch rules[m.r].kind {
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
			switch rules[m.r].kind {
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
		r := &rules[m.r]
		if m.dead || (r.kind != kSignal && r.kind != kFarewell && r.kind != kMeans) {
			continue
		}
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
				if eff > Concern {
					eff--
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
	var strong, farewells, farewellWeight, signals int
	for _, cd := range sc.cands {
		r := &rules[ms[cd.m].r]
		switch {
		case r.kind == kFarewell:
			farewells++
			farewellWeight += int(cd.eff)
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
		if r.kind == kSignal {
			signals++
		}
		keep = append(keep, cd)
	}
	sc.cands = keep
	if len(sc.cands) == 0 {
		return Verdict{}
	}

	// Escalation to Imminent. It looks at a rule's own severity, not at the
	// humour-lowered one: "lol gonna kms tonight" is a plan with a time.
	for i := range sc.cands {
		cd := &sc.cands[i]
		r := &rules[ms[cd.m].r]
		esc := false
		switch r.kind {
		case kSignal:
			esc = !cd.quote && r.sev >= High &&
				((r.flags&fIntent != 0 && (hasTime || methodCats&r.cats != 0)) || hasMeans || hasPlan)
		case kMeans:
			esc = hasTime || hasPlan || farewells > 0
		case kFarewell:
			// "goodbye" alone is a concern; "goodbye. i love you all. i'm
			// sorry." adds up.
			esc = farewellWeight >= 3 || signals > 0 || hasMeans || hasPlan
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

	// Evidence: the candidates, plus what escalated them.
	sc.spans = sc.spans[:0]
	add := func(m *match) {
		a, b := toks[m.s].os, toks[m.e-1].oe
		sc.spans = append(sc.spans, Span{Start: int(a), End: int(b), Text: text[a:b], Rule: rules[m.r].id})
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
			switch rules[m.r].kind {
			case kTime, kPlan, kMethod:
				add(m)
			}
		}
	}
	sp := sc.spans
	slices.SortFunc(sp, func(a, b Span) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return b.End - a.End
	})
	v.Evidence = make([]Span, 0, len(sp))
	for _, x := range sp {
		if k := len(v.Evidence); k > 0 && x.End <= v.Evidence[k-1].End {
			continue // inside the previous span
		}
		v.Evidence = append(v.Evidence, x)
	}
	return v
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
	for i := range ms {
		q := &ms[i]
		if q.dead || q.e > m.s || cl.rules[q.r].kind != kNegation {
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
	for i := range ms {
		q := &ms[i]
		if !q.dead && q.s >= m.e && cl.rules[q.r].kind == kResolved && sc.sent[q.s] == sent {
			return true
		}
	}
	return false
}

func (cl *compiled) inSentence(sc *scratch, m *match, k kind) bool {
	ms := sc.matches
	lo, hi := sc.sent[m.s], sc.sent[m.e-1]
	for i := range ms {
		q := &ms[i]
		if !q.dead && cl.rules[q.r].kind == k && sc.sent[q.s] >= lo && sc.sent[q.s] <= hi {
			return true
		}
	}
	return false
}

func (cl *compiled) hasContext(sc *scratch, cats catSet) bool {
	for i := range sc.matches {
		q := &sc.matches[i]
		if !q.dead && cl.rules[q.r].kind == kContext && cl.rules[q.r].cats&cats != 0 {
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
	for i := range ms {
		q := &ms[i]
		if q.dead || cl.rules[q.r].kind != kSubject || q.e > m.s {
			continue
		}
		if m.s-q.e > 8 || sc.clause[q.e-1] != sc.clause[m.s] {
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
	for i := range sc.matches {
		q := &sc.matches[i]
		if q.dead {
			continue
		}
		if c := sc.clause[q.s]; c < lo || c > hi {
			continue
		}
		var t, rank int
		switch cl.rules[q.r].kind {
		case kRecent:
			t, rank = tenseNow, 4
		case kNearPast:
			t, rank = tenseNear, 3
		case kPast:
			t, rank = tensePast, 2
		case kPresent, kTime:
			t, rank = tenseNow, 1
		default:
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
