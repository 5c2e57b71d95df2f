package crisis

import "slices"

// Anchors and alarm words spare the matcher work. A message without any
// alarm word cannot raise an alert and is not matched at all; a rule outside
// the trie is only tried at tokens from which its anchors (selective words
// that every match contains) are within reach.

// commonWords make poor anchors: nearly every message contains them.
var commonWords = map[string]bool{
	"i": true, "im": true, "me": true, "my": true, "to": true, "the": true, "a": true, "and": true,
	"it": true, "is": true, "of": true, "in": true, "so": true, "that": true, "be": true, "do": true,
	"for": true, "you": true, "with": true, "on": true, "this": true, "just": true, "have": true,
	"was": true, "not": true, "but": true, "at": true, "are": true, "all": true, "like": true,
	"get": true, "go": true, "going": true, "can": true, "if": true, "what": true, "no": true,
	"now": true, "out": true, "up": true, "about": true, "they": true, "he": true, "she": true,
	"we": true, "or": true, "an": true, "as": true, "ive": true, "id": true, "il": true, "dont": true,
	"want": true, "wana": true, "know": true, "feel": true, "today": true, "one": true, "time": true,
	"day": true, "will": true, "would": true, "been": true, "had": true, "her": true, "him": true,
	"them": true, "there": true, "when": true, "how": true, "got": true, "too": true, "really": true,
}

// anchorRef says that a match of rule starts between lo and hi tokens
// before an occurrence of the anchor word. A rule has one or two anchor
// slots (two independent required words); a match needs every slot filled
// within reach.
type anchorRef struct {
	rule   int32
	slot   int32
	lo, hi int32
}

// seqLen bounds the number of tokens a match of seq consumes.
func seqLen(seq []node) (lo, hi int32) {
	for i := range seq {
		l, h := nodeLen(&seq[i])
		if seq[i].opt {
			l = 0
		}
		lo, hi = lo+l, hi+h
	}
	return lo, hi
}

func nodeLen(n *node) (lo, hi int32) {
	switch n.kind {
	case pEnd:
		return 0, 0
	case pGap:
		return 0, int32(n.gap)
	case pGroup:
		for k, a := range n.alts {
			l, h := seqLen(a)
			if k == 0 || l < lo {
				lo = l
			}
			hi = max(hi, h)
		}
		return lo, hi
	}
	return 1, 1
}

type anchorCand struct {
	ids    []int32
	lo, hi int32 // tokens between the match's start and the element
	score  int   // fewer and rarer words are more selective
	first  bool  // the pattern's first element
}

// anchorCands lists the required elements of an alternative that can serve
// as anchors: their possible first words are known (no prefix, no number).
func (cl *compiled) anchorCands(seq []node) []anchorCand {
	var out []anchorCand
	for k, n := range seq {
		if n.opt || n.kind == pGap || n.kind == pEnd {
			continue
		}
		var fs firstSet
		if fs.add([]node{n}) || len(fs.pres) > 0 || fs.num || len(fs.ids) == 0 {
			continue
		}
		score := len(fs.ids)
		for _, id := range fs.ids {
			if commonWords[cl.words[id]] {
				score += 1000
			}
		}
		lo, hi := seqLen(seq[:k])
		out = append(out, anchorCand{ids: fs.ids, lo: lo, hi: hi, score: score, first: k == 0})
	}
	slices.SortStableFunc(out, func(a, b anchorCand) int { return a.score - b.score })
	return out
}

// buildAlarm collects, for every signal, farewell and means rule, the words
// of its most selective required element.
func (cl *compiled) buildAlarm() {
	cl.alarm = make([]uint64, (len(cl.words)+63)/64)
	for ri := range cl.rules {
		switch cl.rules[ri].kind {
		case kSignal, kFarewell, kMeans:
		default:
			continue
		}
		for _, a := range topAlts(cl.rules[ri].seq) {
			cs := cl.anchorCands(a)
			if len(cs) == 0 {
				cl.alarmAlways = true
				return
			}
			for _, id := range cs[0].ids {
				cl.alarm[id>>6] |= 1 << (id & 63)
			}
		}
	}
	cl.factorAlarm()
}

// mayAlarm reports whether any token is an alarm word.
func (cl *compiled) mayAlarm(toks []token) bool {
	if cl.alarmAlways {
		return true
	}
	for i := range toks {
		if id := toks[i].id; id >= 0 && cl.alarm[id>>6]&(1<<(id&63)) != 0 {
			return true
		}
	}
	return false
}

// buildAnchors indexes the rules the trie does not hold by their anchors.
// The first element of a rule is already required by the dispatch on the
// first token (byID), so anchors are taken after it when possible: "(it
// ends | ending it) @soon" is tried at "it" only when a time word follows
// within reach.
func (cl *compiled) buildAnchors() {
	cl.anchors = make([][]anchorRef, len(cl.words))
	cl.anchorMask = make([]uint8, len(cl.dense))
	for d, ri := range cl.dense {
		slots, ok := cl.anchorSlots(cl.rules[ri].seq)
		if !ok {
			cl.always = append(cl.always, int32(d))
			cl.anchorMask[d] = 1
			continue
		}
		cl.anchorMask[d] = uint8(1)<<len(slots) - 1
		cl.addAnchors(int32(d), slots)
	}
}

// anchorSlots picks a rule's anchors: one or two slots, each filled by
// the words of its candidates. It returns false for a rule without
// anchors, which is then tried everywhere.
func (cl *compiled) anchorSlots(seq []node) ([][]anchorCand, bool) {
	if len(seq) == 1 && seq[0].kind == pGroup && !seq[0].opt {
		// Alternatives inside: one slot, the union of their anchors.
		var slot []anchorCand
		for _, a := range seq[0].alts {
			cs := cl.anchorCands(a)
			if len(cs) == 0 {
				return nil, false
			}
			slot = append(slot, cs[0])
		}
		return [][]anchorCand{slot}, true
	}
	var picked []anchorCand
	cs := cl.anchorCands(seq)
	for _, c := range cs {
		// A second slot only pays when its words are rare: one
		// holding "my" or "the" is registered all over a message.
		if !c.first && (len(picked) == 0 || (len(picked) == 1 && c.score < 1000)) {
			picked = append(picked, c)
		}
	}
	if len(picked) == 0 && len(cs) > 0 {
		picked = cs[:1]
	}
	if len(picked) == 0 {
		return nil, false
	}
	slots := make([][]anchorCand, len(picked))
	for i, c := range picked {
		slots[i] = []anchorCand{c}
	}
	return slots, true
}

// addAnchors registers dense rule d under the words of its anchor slots,
// one reference per word and slot spanning all the word's distances, in
// order of word and slot.
func (cl *compiled) addAnchors(d int32, slots [][]anchorCand) {
	type key struct{ id, slot int32 }
	set := map[key]anchorRef{}
	for slot, cands := range slots {
		for _, c := range cands {
			for _, id := range c.ids {
				k := key{id, int32(slot)}
				r, dup := set[k]
				if !dup {
					r = anchorRef{rule: d, slot: int32(slot), lo: c.lo, hi: c.hi}
				}
				r.lo, r.hi = min(r.lo, c.lo), max(r.hi, c.hi)
				set[k] = r
			}
		}
	}
	keys := make([]key, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int {
		if a.id != b.id {
			return int(a.id - b.id)
		}
		return int(a.slot - b.slot)
	})
	for _, k := range keys {
		cl.anchors[k.id] = append(cl.anchors[k.id], set[k])
	}
}
