package crisis

import (
	"math/bits"
	"slices"
)

// Scoring turns the matches of one message into a Verdict. In order:
// clauses and sentences are numbered; idioms and longer cues override what
// they cover; the message-wide context (humour, a serious tone, means, a
// plan, a time, a method) is read; every live signal, farewell and means
// is judged in its own context (negation, tense, subject, topic, humour,
// quotes) into a candidate; weak candidates without backing are dropped;
// escalators raise candidates to Imminent; the strongest candidate sets the
// severity, and the candidates and their escalators become the evidence.
// The context queries (negated, tense, subject ...) are in cues.go.

// isSignal reports the kinds that state a danger: signals and factors.
func isSignal(k kind) bool { return k == kSignal || k == kFactor }

// isCue reports kinds that describe context rather than danger.
func isCue(k kind) bool {
	switch k {
	case kSignal, kFarewell, kMeans, kMethod, kBenign, kPlan, kTerm, kFactor:
		return false
	}
	return true
}

// msgContext is what the message as a whole says, read once and consulted
// for every candidate.
type msgContext struct {
	// Message-wide cues.
	humour, serious, continuity, safe bool
	// Escalators: means at hand, a plan, a time, the categories of the
	// methods mentioned.
	hasMeans, hasPlan, hasTime bool
	methodCats                 catSet
	// Backing, counted over the candidates before weak ones are dropped:
	// non-weak signals and farewells, the farewells' summed severity, and
	// the farewells with finality (high or imminent ones).
	strong, farewellWeight, finality int
}

// score turns the matches in sc into the message's Verdict (see the top of
// this file).
func (cl *compiled) score(text string, sc *scratch) Verdict {
	if len(sc.matches) == 0 || len(sc.toks) == 0 {
		return Verdict{}
	}
	cl.numberClauses(sc)
	killOverridden(sc.matches)
	sc.groupByKind()
	var mc msgContext
	mc.readCues(sc)
	cl.readEscalators(sc, &mc)
	cl.fireFactors(sc)
	cl.gatherCandidates(sc, &mc)
	cl.countBacking(sc, &mc)
	cl.dropUnbacked(sc, &mc)
	if len(sc.cands) == 0 {
		return Verdict{}
	}
	cl.escalate(sc, &mc)
	return cl.verdict(text, sc)
}

// numberClauses numbers the clause and the sentence of every token.
// Punctuation separates both; "but", "though" ... (break cues) open a
// clause.
func (cl *compiled) numberClauses(sc *scratch) {
	toks, ms := sc.toks, sc.matches
	n := len(toks)
	sc.brk = resize(sc.brk, n)
	for i := range sc.brk {
		sc.brk[i] = false
	}
	for i := range ms {
		if cl.rules[ms[i].r].kind == kBreak {
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
}

// killOverridden marks dead what another match overrides: idioms override
// the danger matches they overlap; a cue inside a longer cue ("ago" inside
// "20 minutes ago", "my" inside "my sister") yields to it. Matches are
// ordered by start token, which bounds both scans.
func killOverridden(ms []match) {
	maxLen := int32(0)
	for i := range ms {
		maxLen = max(maxLen, ms[i].e-ms[i].s)
	}
	for i := range ms {
		switch k := ms[i].kind; {
		case k == kBenign:
			killCovered(ms, i)
		case isCue(k):
			if coveredCue(ms, i, maxLen) {
				ms[i].dead = true
			}
		}
	}
}

// killCovered marks dead every danger match (not a cue, not an idiom) that
// the idiom ms[i] overlaps.
func killCovered(ms []match, i int) {
	for j := range ms {
		if ms[j].s >= ms[i].e {
			break
		}
		kj := ms[j].kind
		if !isCue(kj) && kj != kBenign && ms[i].s < ms[j].e {
			ms[j].dead = true
		}
	}
}

// coveredCue reports whether a longer cue covers the cue ms[i]. Such a cue
// starts at most maxLen tokens before it and no later than it.
func coveredCue(ms []match, i int, maxLen int32) bool {
	lo := i
	for lo > 0 && ms[lo-1].s >= ms[i].e-maxLen {
		lo--
	}
	for j := lo; j < len(ms); j++ {
		if ms[j].s > ms[i].s {
			break
		}
		if j != i && ms[i].e <= ms[j].e && ms[j].e-ms[j].s > ms[i].e-ms[i].s && isCue(ms[j].kind) {
			return true
		}
	}
	return false
}

// groupByKind lists the live matches of each kind, so that each question
// about the context reads only its own kind.
func (sc *scratch) groupByKind() {
	for k := range sc.byKind {
		sc.byKind[k] = sc.byKind[k][:0]
	}
	ms := sc.matches
	for i := range ms {
		if !ms[i].dead {
			sc.byKind[ms[i].kind] = append(sc.byKind[ms[i].kind], int32(i))
		}
	}
}

// readCues notes the message-wide cues.
func (mc *msgContext) readCues(sc *scratch) {
	mc.humour = len(sc.byKind[kHumour]) > 0
	mc.serious = len(sc.byKind[kSerious]) > 0
	mc.continuity = len(sc.byKind[kContinuity]) > 0
	mc.safe = len(sc.byKind[kSafe]) > 0
}

// readEscalators notes means at hand, a plan, a time and methods. Negated
// ones are marked dead, and so are means in medication talk or in the past.
func (cl *compiled) readEscalators(sc *scratch, mc *msgContext) {
	ms := sc.matches
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
			mc.hasMeans = true
		case kPlan, kTime, kMethod:
			if cl.negated(sc, m) {
				m.dead = true
				continue
			}
			switch m.kind {
			case kPlan:
				mc.hasPlan = true
			case kTime:
				mc.hasTime = true
			default:
				mc.methodCats |= cl.rules[m.r].cats
			}
		}
	}
}

// gatherCandidates judges every live signal, farewell and means in its own
// context; those that stand become sc.cands.
//
// A factor (they come last) that could add nothing is not judged: when
// the firm candidates (not weak) already reach the most it could become
// and hold all its categories. Crisis messages fire many factors.
func (cl *compiled) gatherCandidates(sc *scratch, mc *msgContext) {
	sc.cands = sc.cands[:0]
	ms := sc.matches
	var firm Severity
	var cats catSet
	for i := range ms {
		m := &ms[i]
		if m.dead || (!isSignal(m.kind) && m.kind != kFarewell && m.kind != kMeans) {
			continue
		}
		r := &cl.rules[m.r]
		if m.kind == kFactor && r.cats&^cats == 0 && factorCeiling(r) <= firm {
			continue
		}
		if cd, ok := cl.judge(sc, mc, i); ok {
			sc.cands = append(sc.cands, cd)
			if r.flags&fWeak == 0 {
				firm, cats = max(firm, cd.eff), cats|r.cats
			}
		}
	}
}

// factorCeiling is the most a factor's candidate can become: a high one
// may be escalated to imminent (by means, a plan or a time), a concern
// never.
func factorCeiling(r *crule) Severity {
	if r.sev >= High {
		return Imminent
	}
	return r.sev
}

// judge weighs match i in its context and returns it as a candidate, or
// false when the context cancels it. Means are a concern wherever they are
// (readEscalators has dropped the negated and past ones).
func (cl *compiled) judge(sc *scratch, mc *msgContext, i int) (cand, bool) {
	m := &sc.matches[i]
	r := &cl.rules[m.r]
	other, explicit := cl.subject(sc, m)
	if r.kind == kMeans {
		return cand{m: int32(i), eff: Concern, other: other}, true
	}
	if r.kind == kFarewell && mc.continuity {
		return cand{}, false
	}
	if cl.negated(sc, m) || cl.resolvedAfter(sc, m) {
		return cand{}, false
	}
	// Harm to others is about someone else, but the writer is who acts:
	// their own past is recovery talk ("I used to think about hurting
	// him").
	eff, ok := cl.tensed(sc, m, other && !r.cats.has(HarmOthers))
	if !ok {
		return cand{}, false
	}
	if (other || !explicit) && cl.inSentence(sc, m, kTopic) {
		return cand{}, false // news, books, lectures
	}
	if r.kind == kFactor && r.flags&fIntent != 0 && r.cats.has(Overdose) && cl.medicalAround(sc, m) {
		return cand{}, false // taking one's medication as prescribed
	}
	if r.flags&fHyper != 0 && !mc.serious && (mc.humour || cl.inSentence(sc, m, kHyperbole)) {
		eff--
	}
	if mc.safe && r.flags&(fIntent|fAct) == 0 && eff == High {
		eff-- // "... but I called my sponsor": still worth a glance
	}
	quoted := sc.toks[m.s].quoted && sc.toks[m.e-1].quoted
	if quoted && eff > Concern {
		eff-- // a lyric, a quote, someone else's words
	}
	if eff == None {
		return cand{}, false
	}
	return cand{m: int32(i), eff: eff, other: other, quote: quoted}, true
}

// tensed returns the severity of m's rule as its tense qualifies it, or
// false when it is recovery talk. Intentions are about now or later, and
// some statements are present by construction; tense only qualifies the
// rest: one's own past is recovery talk, someone else's a concern; a near
// past lowers all but ongoing dangers one level ("abuse last weekend is
// abuse now").
func (cl *compiled) tensed(sc *scratch, m *match, other bool) (Severity, bool) {
	r := &cl.rules[m.r]
	eff := r.sev
	if r.flags&(fIntent|fNow) != 0 {
		return eff, true
	}
	switch cl.tense(sc, m) {
	case tensePast:
		if !other || cl.inSentence(sc, m, kRecovery) {
			return eff, false // recovery talk
		}
		eff = Concern
	case tenseNear:
		if cl.inSentence(sc, m, kRecovery) {
			return eff, false
		}
		if eff > Concern && r.flags&fOngoing == 0 {
			eff--
		}
	}
	return eff, true
}

// countBacking counts, over the candidates, what backs weak signals and
// escalates farewells.
func (cl *compiled) countBacking(sc *scratch, mc *msgContext) {
	for _, cd := range sc.cands {
		r := &cl.rules[sc.matches[cd.m].r]
		switch {
		case r.kind == kFarewell:
			mc.farewellWeight += int(cd.eff)
			if r.sev >= High {
				mc.finality++
			}
			mc.strong++
		case isSignal(r.kind) && r.flags&fWeak == 0:
			mc.strong++
		}
	}
}

// dropUnbacked drops the ambiguous (weak) candidates that nothing else in
// the message backs.
func (cl *compiled) dropUnbacked(sc *scratch, mc *msgContext) {
	keep := sc.cands[:0]
	for _, cd := range sc.cands {
		r := &cl.rules[sc.matches[cd.m].r]
		if r.flags&fWeak != 0 && !(mc.serious || mc.hasMeans || mc.hasPlan || mc.strong > 0 || cl.hasContext(sc, r.cats)) {
			continue
		}
		keep = append(keep, cd)
	}
	sc.cands = keep
}

// escalate raises to Imminent the candidates that their escalators make
// imminent (see escalates).
func (cl *compiled) escalate(sc *scratch, mc *msgContext) {
	for i := range sc.cands {
		cd := &sc.cands[i]
		if cl.escalates(sc, mc, cd) && cd.eff < Imminent {
			cd.eff, cd.esc = Imminent, true
		}
	}
}

// escalates reports whether the message makes candidate cd imminent. It
// looks at the rule's own severity, not at the humour-lowered one: "lol
// gonna kms tonight" is a plan with a time.
//
// A farewell is a goodbye with finality ("this is my last message", "nice
// knowing you": high or imminent farewells) or a sign-off ("thanks for
// everything, love you all, bye!": concern farewells). A final farewell is
// imminent with any crisis signal in the message, and sign-offs count
// towards it (3 = imminent); a sign-off alone, however many, is a concern,
// and imminent only with a crisis signal in its own or a nearby sentence
// (or means or a plan).
func (cl *compiled) escalates(sc *scratch, mc *msgContext, cd *cand) bool {
	m := &sc.matches[cd.m]
	r := &cl.rules[m.r]
	switch r.kind {
	case kSignal, kFactor:
		return !cd.quote && r.sev >= High &&
			((r.flags&fIntent != 0 && (mc.hasTime || mc.methodCats&r.cats != 0)) || mc.hasMeans || mc.hasPlan)
	case kMeans:
		return mc.hasTime || mc.hasPlan || (mc.finality > 0 && mc.farewellWeight > 0) || cl.farewellNear(sc, m)
	case kFarewell:
		return mc.hasMeans || mc.hasPlan || (mc.finality > 0 && (mc.farewellWeight >= 3 || cl.signalNear(sc, m, 1<<20))) ||
			cl.signalNear(sc, m, nearSentences)
	}
	return false
}

// verdict builds the Verdict from the candidates: the strongest sets the
// severity and whom it is about (the writer winning a tie).
//
// Someone else's crisis reported by the writer keeps its severity: a
// friend, a child or a sponsee described with the signs of a high risk is
// at high risk (docs/crisis-labels.md); their past is a concern (tensed).
func (cl *compiled) verdict(text string, sc *scratch) Verdict {
	var cats catSet
	best := -1
	escalated := false
	for i := range sc.cands {
		cd := &sc.cands[i]
		cats |= cl.rules[sc.matches[cd.m].r].cats
		if best < 0 || cd.eff > sc.cands[best].eff || (cd.eff == sc.cands[best].eff && !cd.other && sc.cands[best].other) {
			best = i
		}
		if cd.esc {
			escalated = true
		}
	}
	v := Verdict{Severity: sc.cands[best].eff, About: AboutSelf}
	if sc.cands[best].other {
		v.About = AboutOther
	}
	v.Categories = categoryList(cats)
	v.Evidence = cl.evidence(text, sc, escalated)
	return v
}

// categoryList lists the categories of cats in KnownCategories order.
func categoryList(cats catSet) []Category {
	out := make([]Category, 0, bits.OnesCount8(uint8(cats)))
	for i, k := range KnownCategories {
		if cats&(1<<i) != 0 {
			out = append(out, k)
		}
	}
	return out
}

// evSpan is a piece of evidence before it becomes a Span.
type evSpan struct {
	a, b int32 // original byte range
	r    int32 // rule
}

// addSpan records m as evidence.
func (sc *scratch) addSpan(m *match) {
	sc.spans = append(sc.spans, evSpan{a: sc.toks[m.s].os, b: sc.toks[m.e-1].oe, r: m.r})
}

// evidence lists the candidates, plus what escalated them, in order of
// position, without spans inside a previous one. Ranges and rules are
// gathered and sorted first (small, pointer-free); the spans are built
// once, for the ones kept.
func (cl *compiled) evidence(text string, sc *scratch, escalated bool) []Span {
	sc.spans = sc.spans[:0]
	ms := sc.matches
	for _, cd := range sc.cands {
		sc.addSpan(&ms[cd.m])
	}
	if escalated {
		for i := range ms {
			m := &ms[i]
			if m.dead {
				continue
			}
			switch m.kind {
			case kTime, kPlan, kMethod:
				sc.addSpan(m)
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
	out := make([]Span, kept)
	for i, x := range sp[:kept] {
		out[i] = Span{Start: int(x.a), End: int(x.b), Text: text[x.a:x.b], Rule: cl.rules[x.r].id}
	}
	return out
}
