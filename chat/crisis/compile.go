package crisis

import "math/bits"

// Compilation turns a Lexicon into its immutable, shareable matching form:
// words interned to ids (vocab.go), classes inlined, groups given dispatch
// tables, finite rules put in the trie (trie.go), the others indexed by
// their first words and their anchors (anchors.go).

type node struct {
	kind pkind
	opt  bool
	gap  uint8
	id   int32
	pre  string
	alts [][]node
	// For groups with many alternatives: which alternatives can start with
	// a given token (in their original order), and those that can start
	// with anything (prefixes, numbers, optional starts). Without this
	// table a class like @pills would be scanned at every attempt.
	anyStart []int32
	// first has a bit for every word the group can start with; when no
	// alternative can start with anything else (firstOnly), a token whose
	// bit is clear is rejected without looking at a single alternative.
	first     []uint64
	firstOnly bool
	// For groups with many alternatives, lists[rank(id)] holds the
	// alternatives that can start with word id (in their original order),
	// rank(id) being the number of set bits of first below id: a dense
	// dispatch table without a map lookup. Without it a class like @pills
	// would be scanned at every attempt.
	rankBase []uint16
	lists    [][]int32
}

// dispatchMin is the group size from which a dispatch table pays off.
const dispatchMin = 6

func (cl *compiled) buildDispatch(n *node) {
	var fs firstSet
	nullable := fs.add([]node{{kind: pGroup, alts: n.alts}})
	n.first = make([]uint64, (len(cl.words)+63)/64+1)
	for _, id := range fs.ids {
		n.first[id>>6] |= 1 << (id & 63)
	}
	n.firstOnly = !nullable && len(fs.pres) == 0 && !fs.num
	if len(n.alts) < dispatchMin {
		return
	}
	firsts := make([][]int32, len(n.alts))
	for a, seq := range n.alts {
		var afs firstSet
		if afs.add(seq) || len(afs.pres) > 0 || afs.num {
			n.anyStart = append(n.anyStart, int32(a))
			continue
		}
		firsts[a] = afs.ids
	}
	n.rankBase = make([]uint16, len(n.first))
	rank := 0
	for w := range n.first {
		n.rankBase[w] = uint16(rank)
		rank += bits.OnesCount64(n.first[w])
	}
	n.lists = make([][]int32, rank)
	for a := range n.alts {
		any := false
		for _, x := range n.anyStart {
			any = any || x == int32(a)
		}
		for w := range n.first {
			for b := 0; b < 64; b++ {
				if n.first[w]&(1<<b) == 0 {
					continue
				}
				id := int32(w*64 + b)
				starts := any
				for _, x := range firsts[a] {
					starts = starts || x == id
				}
				if starts {
					r := n.rank(id)
					n.lists[r] = append(n.lists[r], int32(a))
				}
			}
		}
	}
}

// rank returns the index of word id among the group's first words; the
// caller has checked that id's bit is set.
func (n *node) rank(id int32) int {
	w := id >> 6
	return int(n.rankBase[w]) + bits.OnesCount64(n.first[w]&(1<<(id&63)-1))
}

type crule struct {
	kind    kind
	id      string
	cats    catSet
	sev     Severity
	flags   ruleFlags
	subject string
	seq     []node
	// Factors (factors.txt): a term's class (a bit index); a factor's
	// elements, each a mask of the term classes that fill it.
	tclass int8
	need   []uint64
}

// ruleStart says which tokens a rule can start at: words (a bit set over
// word ids), word prefixes, numbers.
type ruleStart struct {
	ids  []uint64
	pres []string
	num  bool
}

func (st *ruleStart) ok(t *token, norm []byte) bool {
	if t.id >= 0 && st.ids[t.id>>6]&(1<<(t.id&63)) != 0 {
		return true
	}
	if t.num && st.num {
		return true
	}
	for _, p := range st.pres {
		if int(t.e-t.s) >= len(p) && string(norm[t.s:t.s+int32(len(p))]) == p {
			return true
		}
	}
	return false
}

// compiled is the immutable, shareable form of a Lexicon.
type compiled struct {
	emoji map[rune]string
	vocab map[string]int32
	words []string
	fuzzy []fuzzyWord
	rules []crule
	kinds []kind // per rule, at hand
	// alarm has a bit for every word without which no signal, farewell or
	// means can match: a message with none of them needs no matching at
	// all (most chat). alarmAlways disables the shortcut.
	alarm       []uint64
	alarmAlways bool
	dense       []int32     // the rules outside the trie; what follows numbers them so
	starts      []ruleStart // per dense rule: the tokens it can start at
	byID        [][]int32   // per word: the dense rules that can start with it
	oddStart    []int32     // dense rules that can start with a prefix or a number
	bridge      []bool      // @bridge: words a negation reaches across
	negword     []bool      // @negword: words a gap never skips
	// anchors[id] lists the (non-trie) rules for which word id is an
	// anchor: a word that any match must contain, at a bounded distance from
	// the match's start. A rule is only attempted at the tokens from which
	// one of its anchors in the message is within reach; always lists the
	// rules without an anchor.
	anchors    [][]anchorRef
	anchorMask []uint8 // per dense rule: the anchor slots a match needs filled
	always     []int32
	trie       *trie // the finite rules (trie.go); the others are indexed above
	devowel    []devowelWord
	factors    []int32 // the factor rules, in lexicon order
	// termClasses names the term classes by bit; factorNeeds holds the
	// factors' elements by name until linkFactors resolves them.
	termClasses []string
	factorNeeds [][][]string
	// words resolves a token to its word id in one probe, whatever way it
	// was spelled: vocab holds the words themselves; alias, probed only
	// when vocab misses, the vowel-dropped forms of the devowel words
	// ("kll", "myslf") and every misspelling one edit away from a fuzzy
	// word ("suicdie"). Keeping the aliases (thousands) apart keeps the
	// table nearly every token hits small enough for the L1 cache.
	vocabTab, aliasTab hashTable
}

// compileLexicon builds the matching form of l. Words are interned as
// they are met, in a fixed order (the rules, then the engine's own word
// lists), so a lexicon always compiles to the same ids.
func compileLexicon(l *Lexicon) *compiled {
	cl := &compiled{emoji: l.emoji, vocab: map[string]int32{}}
	cl.addRules(l)
	cl.linkFactors()
	cl.addWordLists(l)
	// Every word is interned now: build the group tables.
	cl.buildDispatches()
	cl.buildTable()
	cl.indexRules(cl.buildTrie())
	cl.buildAnchors()
	cl.buildAlarm()
	cl.buildStarts()
	return cl
}

// topAlts returns the alternatives of a pattern written as "alt | alt |
// ...", or the pattern itself as its one alternative.
func topAlts(seq []node) [][]node {
	if len(seq) == 1 && seq[0].kind == pGroup && !seq[0].opt {
		return seq[0].alts
	}
	return [][]node{seq}
}

// addRules compiles the rules. A rule written as "alt | alt | ..." becomes
// one compiled rule per alternative, all with the rule's id and meaning:
// its finite alternatives can then go into the trie even when another one
// has a gap, and each alternative gets its own anchors.
func (cl *compiled) addRules(l *Lexicon) {
	pc := patternCompiler{cl: cl, classes: l.classes, done: map[string][][]node{}, inProgress: map[string]bool{}}
	for _, r := range l.rules {
		if r.kind == kFactor {
			cl.rules = append(cl.rules, crule{kind: r.kind, id: r.id, cats: r.cats, sev: r.sev, flags: r.flags})
			cl.factorNeeds = append(cl.factorNeeds, r.need)
			continue
		}
		for _, a := range topAlts(pc.seq(r.pat)) {
			cl.rules = append(cl.rules, crule{
				kind: r.kind, id: r.id, cats: r.cats, sev: r.sev, flags: r.flags,
				subject: r.subject, seq: a,
			})
		}
	}
}

// patternCompiler compiles patterns to node trees, interning their words
// and inlining their classes. A class is compiled once and shared between
// the rules that use it.
type patternCompiler struct {
	cl         *compiled
	classes    map[string][]alt
	done       map[string][][]node
	inProgress map[string]bool
}

// class compiles the alternatives of class name.
func (pc *patternCompiler) class(name string) [][]node {
	if c, ok := pc.done[name]; ok {
		return c
	}
	if pc.inProgress[name] {
		return nil // a cycle across merged files: matches nothing
	}
	pc.inProgress[name] = true
	var alts [][]node
	for _, a := range pc.classes[name] {
		alts = append(alts, pc.seq(a.pat))
	}
	delete(pc.inProgress, name)
	pc.done[name] = alts
	return alts
}

// seq compiles a sequence of elements. A word element that normalises to
// several words ("self-harm") becomes those words in a row; optional, it
// becomes an optional group of them.
func (pc *patternCompiler) seq(p []pelem) []node {
	var out []node
	for _, e := range p {
		switch e.kind {
		case pWord:
			if e.opt && len(e.words) > 1 {
				var seq []node
				for _, w := range e.words {
					seq = append(seq, node{kind: pWord, id: pc.cl.intern(w)})
				}
				out = append(out, node{kind: pGroup, opt: true, alts: [][]node{seq}})
				continue
			}
			for _, w := range e.words {
				out = append(out, node{kind: pWord, id: pc.cl.intern(w), opt: e.opt})
			}
		case pPrefix:
			out = append(out, node{kind: pPrefix, pre: e.pre, opt: e.opt})
		case pNum, pMany, pEnd:
			out = append(out, node{kind: e.kind, opt: e.opt})
		case pGap:
			out = append(out, node{kind: pGap, gap: uint8(e.gap)})
		case pClass:
			out = append(out, node{kind: pGroup, alts: pc.class(e.class), opt: e.opt})
		case pGroup:
			var alts [][]node
			for _, a := range e.alts {
				alts = append(alts, pc.seq(a))
			}
			out = append(out, node{kind: pGroup, alts: alts, opt: e.opt})
		}
	}
	return out
}

// addWordLists interns the words the engine itself uses besides the rules:
// the exact words, the reserved single-word classes @bridge and @negword,
// the fuzzy and the devowel words; then marks the bridge and negword ids.
func (cl *compiled) addWordLists(l *Lexicon) {
	for _, w := range l.exact {
		cl.intern(w)
	}
	bridgeIDs, negIDs := cl.wordSet(l, "bridge"), cl.wordSet(l, "negword")
	for _, w := range l.fuzzy {
		cl.fuzzy = append(cl.fuzzy, fuzzyWord{w: w, id: cl.intern(w), bag: letterBag(w)})
	}
	for _, w := range l.devowel {
		cl.devowel = append(cl.devowel, devowelWord{w: w, id: cl.intern(w)})
	}
	cl.bridge = cl.wordFlags(bridgeIDs)
	cl.negword = cl.wordFlags(negIDs)
}

// wordSet interns the single-word alternatives of class name.
func (cl *compiled) wordSet(l *Lexicon, name string) []int32 {
	var ids []int32
	for _, a := range l.classes[name] {
		if len(a.pat) == 1 && a.pat[0].kind == pWord && len(a.pat[0].words) == 1 {
			ids = append(ids, cl.intern(a.pat[0].words[0]))
		}
	}
	return ids
}

// wordFlags returns a per-word table, true for ids.
func (cl *compiled) wordFlags(ids []int32) []bool {
	flags := make([]bool, len(cl.words))
	for _, id := range ids {
		flags[id] = true
	}
	return flags
}

// buildDispatches builds the dispatch table of every group, once each.
func (cl *compiled) buildDispatches() {
	seen := map[*node]bool{}
	for ri := range cl.rules {
		cl.dispatchGroups(cl.rules[ri].seq, seen)
	}
}

// dispatchGroups builds the dispatch tables of the groups in seq, inner
// groups first.
func (cl *compiled) dispatchGroups(seq []node, seen map[*node]bool) {
	for i := range seq {
		n := &seq[i]
		if n.kind != pGroup || seen[n] {
			continue
		}
		seen[n] = true
		for _, a := range n.alts {
			cl.dispatchGroups(a, seen)
		}
		cl.buildDispatch(n)
	}
}

// indexRules notes every rule's kind and numbers the rules the trie does
// not hold (dense).
func (cl *compiled) indexRules(inTrie []bool) {
	cl.kinds = make([]kind, len(cl.rules))
	for ri := range cl.rules {
		cl.kinds[ri] = cl.rules[ri].kind
		if !inTrie[ri] && cl.rules[ri].kind != kFactor {
			cl.dense = append(cl.dense, int32(ri))
		}
	}
}

// buildStarts records, for every dense rule, the tokens it can start at,
// and indexes the rules by their first words (byID) or as starting with a
// prefix or a number (oddStart).
func (cl *compiled) buildStarts() {
	cl.starts = make([]ruleStart, len(cl.dense))
	cl.byID = make([][]int32, len(cl.words))
	for d, ri := range cl.dense {
		var fs firstSet
		fs.add(cl.rules[ri].seq)
		st := &cl.starts[d]
		st.ids = make([]uint64, (len(cl.words)+63)/64)
		for _, id := range fs.ids {
			st.ids[id>>6] |= 1 << (id & 63)
		}
		st.pres, st.num = fs.pres, fs.num
		seen := map[int32]bool{}
		for _, id := range fs.ids {
			if !seen[id] {
				seen[id] = true
				cl.byID[id] = append(cl.byID[id], int32(d))
			}
		}
		if len(fs.pres) > 0 || fs.num {
			cl.oddStart = append(cl.oddStart, int32(d))
		}
	}
}

func (cl *compiled) intern(w string) int32 {
	if id, ok := cl.vocab[w]; ok {
		return id
	}
	id := int32(len(cl.words))
	cl.vocab[w] = id
	cl.words = append(cl.words, w)
	return id
}

type firstSet struct {
	ids  []int32
	pres []string
	num  bool
}

// add collects the tokens seq can start with and reports whether seq can
// match without consuming any token.
func (f *firstSet) add(seq []node) (nullable bool) {
	for _, n := range seq {
		consumes := true
		switch n.kind {
		case pWord:
			f.ids = append(f.ids, n.id)
		case pPrefix:
			f.pres = append(f.pres, n.pre)
		case pNum, pMany:
			f.num = true
		case pEnd, pGap:
			consumes = false
		case pGroup:
			// A group consumes a token only if every alternative does; an
			// empty group (a class with no words) matches nothing at all.
			for _, a := range n.alts {
				if f.add(a) {
					consumes = false
				}
			}
		}
		if consumes && !n.opt {
			return false
		}
	}
	return true
}
