package crisis

import "math/bits"

// Risk factors (factors.txt). A term rule marks an occurrence of a word
// class (a method, a time, a substance, a body effect ...); a factor rule
// names the classes that must meet within a clause, a sentence (the
// default) or the message, and the category and severity their meeting
// signals. After the matches are found and the idioms have killed what they
// cover, every live term that is not negated marks its class in its
// clause, its sentence and the message; every factor whose classes all
// meet in one unit becomes a synthetic match spanning the terms involved,
// and is then judged like any signal (negation, tense, subject, topic,
// humour, quotes, safety) and escalated like one.

// maxTermClasses is the number of term classes a lexicon may define (a
// unit's classes are a bit set).
const maxTermClasses = 64

// linkFactors numbers the term classes and turns every factor's elements
// into class masks. A class no term defines fills nothing, so a factor
// that needs it never fires; so does a class beyond the first
// maxTermClasses (LoadLexicon refuses such a file; Merge cannot fail).
func (cl *compiled) linkFactors() {
	bit := map[string]int8{}
	for ri := range cl.rules {
		r := &cl.rules[ri]
		if r.kind != kTerm {
			continue
		}
		b, ok := bit[r.subject]
		if !ok {
			b = -1
			if len(cl.termClasses) < maxTermClasses {
				b = int8(len(cl.termClasses))
				cl.termClasses = append(cl.termClasses, r.subject)
			}
			bit[r.subject] = b
		}
		r.tclass = b
	}
	fi := 0
	for ri := range cl.rules {
		r := &cl.rules[ri]
		if r.kind != kFactor {
			continue
		}
		for _, el := range cl.factorNeeds[fi] {
			var mask uint64
			for _, name := range el {
				if b, ok := bit[name]; ok && b >= 0 {
					mask |= 1 << b
				}
			}
			r.need = append(r.need, mask)
		}
		fi++
		cl.factors = append(cl.factors, int32(ri))
	}
	cl.factorNeeds = nil
}

// factorAlarm adds to the alarm words, for every factor, the words of its
// most selective element: a message without any of them cannot fire it.
func (cl *compiled) factorAlarm() {
	classIDs := make([][]int32, len(cl.termClasses))
	for ri := range cl.rules {
		r := &cl.rules[ri]
		if r.kind != kTerm {
			continue
		}
		if r.tclass < 0 {
			continue
		}
		cs := cl.anchorCands(r.seq)
		if len(cs) == 0 {
			cl.alarmAlways = true
			return
		}
		classIDs[r.tclass] = append(classIDs[r.tclass], cs[0].ids...)
	}
	for _, ri := range cl.factors {
		var best []int32
		for k, mask := range cl.rules[ri].need {
			var ids []int32
			for b := range classIDs {
				if mask&(1<<b) != 0 {
					ids = append(ids, classIDs[b]...)
				}
			}
			if k == 0 || cl.selectivity(ids) < cl.selectivity(best) {
				best = ids
			}
		}
		for _, id := range best {
			cl.alarm[id>>6] |= 1 << (id & 63)
		}
	}
}

// selectivity scores a word set as anchorCands does: fewer and rarer is
// better (lower).
func (cl *compiled) selectivity(ids []int32) int {
	score := len(ids)
	for _, id := range ids {
		if commonWords[cl.words[id]] {
			score += 1000
		}
	}
	return score
}

// unitMasks holds, per clause and per sentence, the term classes present;
// for the message, also where each class's live terms start and end.
type unitMasks struct {
	clause, sent []uint64
	msg          uint64
	lo, hi       [maxTermClasses]int32 // valid for the classes in msg
}

// fireFactors marks the classes of the live, un-negated terms and appends
// a synthetic kFactor match for every factor satisfied in a unit (see the
// top of this file). It runs after readEscalators, before the candidates
// are gathered.
func (cl *compiled) fireFactors(sc *scratch) {
	terms := sc.byKind[kTerm]
	if len(terms) == 0 || len(cl.factors) == 0 {
		return
	}
	n := len(sc.toks)
	um := &sc.fUnits
	um.clause = resize(um.clause, int(sc.clause[n-1])+1)
	um.sent = resize(um.sent, int(sc.sent[n-1])+1)
	clear(um.clause)
	clear(um.sent)
	um.msg = 0
	live := terms[:0]
	for _, ti := range terms {
		m := &sc.matches[ti]
		if cl.rules[m.r].tclass < 0 || cl.negated(sc, m) {
			m.dead = true
			continue
		}
		live = append(live, ti)
		c := cl.rules[m.r].tclass
		bit := uint64(1) << c
		um.clause[sc.clause[m.s]] |= bit
		um.sent[sc.sent[m.s]] |= bit
		if um.msg&bit == 0 {
			um.lo[c], um.hi[c] = m.s, m.e
		}
		um.lo[c], um.hi[c] = min(um.lo[c], m.s), max(um.hi[c], m.e)
		um.msg |= bit
	}
	sc.byKind[kTerm] = live
	for _, fi := range cl.factors {
		f := &cl.rules[fi]
		if !satisfies(um.msg, f.need) {
			continue // not even in the whole message: most factors
		}
		switch {
		case f.flags&fMessage != 0:
			cl.addFactor(sc, fi, -1, nil)
		case f.flags&fClause != 0:
			for u, mask := range um.clause {
				if satisfies(mask, f.need) {
					cl.addFactor(sc, fi, int32(u), sc.clause)
				}
			}
		default:
			for u, mask := range um.sent {
				if satisfies(mask, f.need) {
					cl.addFactor(sc, fi, int32(u), sc.sent)
				}
			}
		}
	}
}

// satisfies reports whether the classes in mask fill every element.
func satisfies(mask uint64, need []uint64) bool {
	for _, el := range need {
		if mask&el == 0 {
			return false
		}
	}
	return true
}

// addFactor appends factor fi's match in unit u (of the numbering units,
// nil for the whole message): it spans the live terms of the factor's
// classes there.
func (cl *compiled) addFactor(sc *scratch, fi, u int32, units []int32) {
	var all uint64
	for _, el := range cl.rules[fi].need {
		all |= el
	}
	s, e := int32(-1), int32(-1)
	if units == nil { // the message: from the classes' extents
		um := &sc.fUnits
		for cs := all & um.msg; cs != 0; cs &= cs - 1 {
			c := bits.TrailingZeros64(cs)
			if s < 0 || um.lo[c] < s {
				s = um.lo[c]
			}
			e = max(e, um.hi[c])
		}
	} else {
		for _, ti := range sc.byKind[kTerm] {
			m := &sc.matches[ti]
			if all&(1<<cl.rules[m.r].tclass) == 0 || units[m.s] != u {
				continue
			}
			if s < 0 || m.s < s {
				s = m.s
			}
			e = max(e, m.e)
		}
	}
	sc.matches = appendMatch(sc.matches, fi, s, e, kFactor)
	sc.byKind[kFactor] = append(sc.byKind[kFactor], int32(len(sc.matches)-1))
}
