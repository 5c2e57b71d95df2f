package crisis

// The context queries score asks about one match: is it negated, resolved,
// in the past, about someone else, near a farewell or a signal.

// nearSentences is how many sentences away a crisis signal still backs a
// sign-off ("sorry everyone. i can't anymore. goodbye.").
const nearSentences = 2

// signalNear reports a candidate signal within dist sentences of m. It
// may be about someone else: "she posted goodbye stuff and isn't
// answering" is a farewell too, whoever the subject detection settles on.
func (cl *compiled) signalNear(sc *scratch, m *match, dist int32) bool {
	for _, cd := range sc.cands {
		q := &sc.matches[cd.m]
		if isSignal(q.kind) && sentDist(sc, m, q) <= dist {
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

// medicalAround reports prescription talk in m's sentences outside m
// itself ("my old dose" is part of what an overdose factor says).
func (cl *compiled) medicalAround(sc *scratch, m *match) bool {
	lo, hi := sc.sent[m.s], sc.sent[m.e-1]
	for _, qi := range sc.byKind[kMedical] {
		q := &sc.matches[qi]
		if !q.dead && sc.sent[q.s] >= lo && sc.sent[q.s] <= hi && (q.e <= m.s || q.s >= m.e) {
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
	for _, tc := range tenseCues {
		for _, qi := range sc.byKind[tc.k] {
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
			if d < bestDist || (d == bestDist && tc.rank > bestRank) {
				best, bestDist, bestRank = tc.tense, d, tc.rank
			}
		}
	}
	return best
}

// tenseCues gives the tense each kind of tense cue means, and its rank: of
// two cues at the same distance, the higher rank wins.
var tenseCues = [...]struct {
	k     kind
	tense int
	rank  int
}{
	{kRecent, tenseNow, 4},
	{kNearPast, tenseNear, 3},
	{kPast, tensePast, 2},
	{kPresent, tenseNow, 1},
	{kTime, tenseNow, 1},
}
