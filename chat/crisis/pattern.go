package crisis

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// Patterns are sequences of token matchers (syntax in lexicon.txt). They are
// parsed into pelem trees when a lexicon is loaded, and compiled into node
// trees — words interned to integer ids, classes inlined — when a detector is
// built, so matching compares integers, never strings.

type pkind uint8

const (
	pWord   pkind = iota + 1 // one or more normalised words in a row
	pPrefix                  // word*  : a token starting with these letters
	pClass                   // @name
	pNum                     // <num>  : a token of digits
	pMany                    // <many> : a number of 10 or more ("30 pills", not "2 ibuprofen")
	pEnd                     // <end>  : a clause/sentence boundary or the end follows
	pGap                     // ~N     : skip 0..N tokens (not across a sentence)
	pGroup                   // ( a b | c )
)

type pelem struct {
	kind  pkind
	words []string
	pre   string
	class string
	gap   int
	alts  [][]pelem
	opt   bool
}

const maxGap = 6

type pparser struct {
	s string
	i int
}

// parsePattern parses "alt | alt" where each alt is a sequence of elements.
func parsePattern(s string) ([]pelem, error) {
	p := &pparser{s: s}
	alts, err := p.alts()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i < len(p.s) {
		return nil, fmt.Errorf("unexpected %q at column %d", p.s[p.i], p.i+1)
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return []pelem{{kind: pGroup, alts: alts}}, nil
}

func (p *pparser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *pparser) alts() ([][]pelem, error) {
	var out [][]pelem
	for {
		seq, err := p.seq()
		if err != nil {
			return nil, err
		}
		if len(seq) == 0 {
			return nil, errEmptyPattern
		}
		out = append(out, seq)
		p.space()
		if p.i < len(p.s) && p.s[p.i] == '|' {
			p.i++
			continue
		}
		return out, nil
	}
}

func (p *pparser) seq() ([]pelem, error) {
	var out []pelem
	for {
		p.space()
		if p.i >= len(p.s) || p.s[p.i] == '|' || p.s[p.i] == ')' {
			return out, nil
		}
		e, err := p.elem()
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
}

func isWordByte(c byte) bool {
	return c != ' ' && c != '\t' && c != '(' && c != ')' && c != '|' && c != '?'
}

func (p *pparser) elem() (pelem, error) {
	var e pelem
	c := p.s[p.i]
	switch {
	case c == '(':
		p.i++
		alts, err := p.alts()
		if err != nil {
			return e, err
		}
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != ')' {
			return e, fmt.Errorf("missing )")
		}
		p.i++
		e = pelem{kind: pGroup, alts: alts}
	default:
		start := p.i
		for p.i < len(p.s) && isWordByte(p.s[p.i]) {
			p.i++
		}
		w := p.s[start:p.i]
		switch {
		case w == "":
			return e, fmt.Errorf("unexpected %q at column %d", c, p.i+1)
		case w == "<num>":
			e = pelem{kind: pNum}
		case w == "<end>":
			e = pelem{kind: pEnd}
		case w == "<many>":
			e = pelem{kind: pMany}
		case w[0] == '<':
			return e, fmt.Errorf("unknown element %q (<num>, <many> or <end>)", w)
		case w[0] == '~':
			n, err := strconv.Atoi(w[1:])
			if err != nil || n < 1 || n > maxGap {
				return e, fmt.Errorf("bad gap %q (~1 to ~%d)", w, maxGap)
			}
			e = pelem{kind: pGap, gap: n}
		case w[0] == '@':
			if !validName(w[1:]) {
				return e, fmt.Errorf("bad class reference %q", w)
			}
			e = pelem{kind: pClass, class: w[1:]}
		case strings.HasSuffix(w, "*"):
			n := normWords(w[:len(w)-1], nil)
			if len(n) != 1 || len(n[0]) < 3 {
				return e, fmt.Errorf("prefix %q must be one word of 3 letters or more", w)
			}
			e = pelem{kind: pPrefix, pre: n[0]}
		default:
			n := normWords(w, nil)
			if len(n) == 0 {
				return e, fmt.Errorf("%q has no letters or digits", w)
			}
			e = pelem{kind: pWord, words: n}
		}
	}
	if p.i < len(p.s) && p.s[p.i] == '?' {
		if e.kind == pGap || e.kind == pEnd {
			return e, fmt.Errorf("~N and <end> cannot be optional")
		}
		e.opt = true
		p.i++
	}
	return e, nil
}

// checkStart rejects patterns that could begin anywhere: a rule is indexed by
// its first token, so it must start with something that consumes one.
func checkStart(p []pelem) error {
	for _, e := range p {
		switch e.kind {
		case pGap:
			return fmt.Errorf("a pattern cannot start with a gap")
		case pEnd:
			return fmt.Errorf("a pattern cannot start with <end>")
		}
		if !e.opt {
			return nil
		}
	}
	return fmt.Errorf("every element is optional")
}

func walkClasses(p []pelem, f func(string)) {
	for _, e := range p {
		switch e.kind {
		case pClass:
			f(e.class)
		case pGroup:
			for _, a := range e.alts {
				walkClasses(a, f)
			}
		}
	}
}

// normWords normalises a lexicon word the same way message text is
// normalised; it may yield several tokens ("self-harm" -> self, harm).
func normWords(w string, emoji map[rune]string) []string {
	cl := &compiled{emoji: emoji}
	sc := newScratch()
	cl.normalize(w, sc)
	out := make([]string, 0, len(sc.toks))
	for _, t := range sc.toks {
		out = append(out, string(sc.norm[t.s:t.e]))
	}
	return out
}

// ---- compiled form ----

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
}

type prefixRule struct {
	pre  string
	rule int32
}

type fuzzyWord struct {
	w   string
	id  int32
	bag uint32
}

// compiled is the immutable, shareable form of a Lexicon.
type compiled struct {
	emoji    map[rune]string
	vocab    map[string]int32
	words    []string
	fuzzy    []fuzzyWord
	rules    []crule
	byID     [][]int32
	prefixes []prefixRule
	numRules []int32
	bridge   []bool // @bridge: words a negation reaches across
	negword  []bool // @negword: words a gap never skips
	// anchors[id] lists the rules for which word id is an anchor: a word
	// that any match must contain. A rule is only attempted in messages
	// where one of its anchors occurs; always lists the rules without one.
	anchors [][]int32
	always  []int32
	trie    *trie // the finite rules (trie.go); the others are indexed above
	// table is an open-addressing hash of the vocabulary (FNV-1a), faster
	// on the hot path than a map keyed by string.
	table     []int32 // word id + 1, 0 = empty
	tableMask uint32
	hashes    []uint32 // per word id
}

const (
	fnvOffset = 2166136261
	fnvPrime  = 16777619
)

func fnv(s string) uint32 {
	h := uint32(fnvOffset)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * fnvPrime
	}
	return h
}

func (cl *compiled) buildTable() {
	size := 1
	for size < 4*len(cl.words) {
		size <<= 1
	}
	cl.table = make([]int32, size)
	cl.tableMask = uint32(size - 1)
	cl.hashes = make([]uint32, len(cl.words))
	for id, w := range cl.words {
		h := fnv(w)
		cl.hashes[id] = h
		i := h & cl.tableMask
		for cl.table[i] != 0 {
			i = (i + 1) & cl.tableMask
		}
		cl.table[i] = int32(id + 1)
	}
}

// lookupHashed is lookup for a token whose FNV-1a hash is h.
func (cl *compiled) lookupHashed(sc *scratch, b []byte, h uint32) int32 {
	if len(cl.table) > 0 {
		for i := h & cl.tableMask; ; i = (i + 1) & cl.tableMask {
			e := cl.table[i]
			if e == 0 {
				break
			}
			if cl.hashes[e-1] == h && cl.words[e-1] == string(b) {
				return e - 1
			}
		}
	}
	return cl.fuzzyLookup(b)
}

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

// anchorFor picks the most selective required element of an alternative:
// its possible first words form the anchor set. ok is false when no element
// qualifies (everything optional, or starting with a prefix or a number).
func (cl *compiled) anchorFor(seq []node) (ids []int32, ok bool) {
	best := -1
	for _, n := range seq {
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
		if best < 0 || score < best {
			best, ids, ok = score, fs.ids, true
		}
	}
	return ids, ok
}

func (cl *compiled) buildAnchors() {
	cl.anchors = make([][]int32, len(cl.words))
	for ri := range cl.rules {
		seq := cl.rules[ri].seq
		alts := [][]node{seq}
		if len(seq) == 1 && seq[0].kind == pGroup && !seq[0].opt {
			alts = seq[0].alts
		}
		set := map[int32]bool{}
		always := false
		for _, a := range alts {
			ids, ok := cl.anchorFor(a)
			if !ok {
				always = true
				break
			}
			for _, id := range ids {
				set[id] = true
			}
		}
		if always {
			cl.always = append(cl.always, int32(ri))
			continue
		}
		for id := range set {
			cl.anchors[id] = append(cl.anchors[id], int32(ri))
		}
	}
}

func compileLexicon(l *Lexicon) *compiled {
	cl := &compiled{emoji: l.emoji, vocab: map[string]int32{}}
	classCache := map[string][][]node{}
	inProgress := map[string]bool{}
	var compileSeq func(p []pelem) []node
	compileClass := func(name string) [][]node {
		// (Classes are shared between the rules that use them.)
		if c, ok := classCache[name]; ok {
			return c
		}
		if inProgress[name] {
			return nil // a cycle across merged files: matches nothing
		}
		inProgress[name] = true
		var alts [][]node
		for _, a := range l.classes[name] {
			alts = append(alts, compileSeq(a.pat))
		}
		delete(inProgress, name)
		classCache[name] = alts
		return alts
	}
	compileSeq = func(p []pelem) []node {
		var out []node
		for _, e := range p {
			switch e.kind {
			case pWord:
				if e.opt && len(e.words) > 1 {
					var seq []node
					for _, w := range e.words {
						seq = append(seq, node{kind: pWord, id: cl.intern(w)})
					}
					out = append(out, node{kind: pGroup, opt: true, alts: [][]node{seq}})
					continue
				}
				for _, w := range e.words {
					out = append(out, node{kind: pWord, id: cl.intern(w), opt: e.opt})
				}
			case pPrefix:
				out = append(out, node{kind: pPrefix, pre: e.pre, opt: e.opt})
			case pNum, pMany, pEnd:
				out = append(out, node{kind: e.kind, opt: e.opt})
			case pGap:
				out = append(out, node{kind: pGap, gap: uint8(e.gap)})
			case pClass:
				out = append(out, node{kind: pGroup, alts: compileClass(e.class), opt: e.opt})
			case pGroup:
				var alts [][]node
				for _, a := range e.alts {
					alts = append(alts, compileSeq(a))
				}
				out = append(out, node{kind: pGroup, alts: alts, opt: e.opt})
			}
		}
		return out
	}
	for _, r := range l.rules {
		seq := compileSeq(r.pat)
		// A rule written as "alt | alt | ..." becomes one compiled rule per
		// alternative, all with the rule's id and meaning: its finite
		// alternatives can then go into the trie even when another one
		// has a gap, and each alternative gets its own anchors.
		alts := [][]node{seq}
		if len(seq) == 1 && seq[0].kind == pGroup && !seq[0].opt {
			alts = seq[0].alts
		}
		for _, a := range alts {
			cl.rules = append(cl.rules, crule{
				kind: r.kind, id: r.id, cats: r.cats, sev: r.sev, flags: r.flags,
				subject: r.subject, seq: a,
			})
		}
	}
	for _, w := range l.exact {
		cl.intern(w)
	}
	// Reserved single-word classes used by the engine itself.
	wordSet := func(name string) []int32 {
		var ids []int32
		for _, a := range l.classes[name] {
			if len(a.pat) == 1 && a.pat[0].kind == pWord && len(a.pat[0].words) == 1 {
				ids = append(ids, cl.intern(a.pat[0].words[0]))
			}
		}
		return ids
	}
	bridgeIDs, negIDs := wordSet("bridge"), wordSet("negword")
	for _, w := range l.fuzzy {
		cl.fuzzy = append(cl.fuzzy, fuzzyWord{w: w, id: cl.intern(w), bag: letterBag(w)})
	}
	cl.bridge = make([]bool, len(cl.words))
	for _, id := range bridgeIDs {
		cl.bridge[id] = true
	}
	cl.negword = make([]bool, len(cl.words))
	for _, id := range negIDs {
		cl.negword[id] = true
	}
	// Every word is interned now: build the group tables.
	seen := map[*node]bool{}
	var walk func(seq []node)
	walk = func(seq []node) {
		for i := range seq {
			n := &seq[i]
			if n.kind != pGroup || seen[n] {
				continue
			}
			seen[n] = true
			for _, a := range n.alts {
				walk(a)
			}
			cl.buildDispatch(n)
		}
	}
	for ri := range cl.rules {
		walk(cl.rules[ri].seq)
	}
	cl.buildAnchors()
	cl.buildTable()
	inTrie := cl.buildTrie()
	cl.byID = make([][]int32, len(cl.words))
	for ri := range cl.rules {
		if inTrie[ri] {
			continue
		}
		var fs firstSet
		fs.add(cl.rules[ri].seq)
		seen := map[int32]bool{}
		for _, id := range fs.ids {
			if !seen[id] {
				seen[id] = true
				cl.byID[id] = append(cl.byID[id], int32(ri))
			}
		}
		for _, pre := range fs.pres {
			cl.prefixes = append(cl.prefixes, prefixRule{pre, int32(ri)})
		}
		if fs.num {
			cl.numRules = append(cl.numRules, int32(ri))
		}
	}
	return cl
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

// fuzzyLookup resolves a token that is not in the vocabulary to a fuzzy
// word one edit away ("suicdie", "sucide", "myslef"), or -1. A letter-bag
// comparison rejects almost every candidate before the edit check.
func (cl *compiled) fuzzyLookup(b []byte) int32 {
	if len(b) < 4 || len(cl.fuzzy) == 0 {
		return -1
	}
	bag := uint32(0)
	for _, c := range b {
		if c < 'a' || c > 'z' {
			return -1
		}
		bag |= 1 << (c - 'a')
	}
	for i := range cl.fuzzy {
		f := &cl.fuzzy[i]
		d := len(b) - len(f.w)
		if d < -1 || d > 1 || bits.OnesCount32(bag^f.bag) > 2 {
			continue
		}
		if within1(b, f.w) {
			return f.id
		}
	}
	return -1
}

func letterBag(w string) uint32 {
	var bag uint32
	for i := 0; i < len(w); i++ {
		if c := w[i]; c >= 'a' && c <= 'z' {
			bag |= 1 << (c - 'a')
		}
	}
	return bag
}

// within1 reports whether a and b are at most one edit apart, counting a
// swap of two neighbouring letters as one edit (Damerau).
func within1(a []byte, b string) bool {
	la, lb := len(a), len(b)
	i := 0
	for i < la && i < lb && a[i] == b[i] {
		i++
	}
	switch la - lb {
	case 0:
		if i == la {
			return true
		}
		if string(a[i+1:]) == b[i+1:] {
			return true
		}
		return i+1 < la && a[i] == b[i+1] && a[i+1] == b[i] && string(a[i+2:]) == b[i+2:]
	case 1:
		return string(a[i+1:]) == b[i:]
	case -1:
		return string(a[i:]) == b[i+1:]
	}
	return false
}

// ---- matching ----

type cont struct {
	seq  []node
	next *cont
}

type matcher struct {
	toks    []token
	norm    []byte
	negword []bool
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
		if ti < len(m.toks) && m.toks[ti].id == n.id {
			if r := m.match(rest, k, ti+1); r >= 0 {
				return r
			}
		}
	case pPrefix:
		if ti < len(m.toks) {
			t := &m.toks[ti]
			if int(t.e-t.s) >= len(n.pre) && string(m.norm[t.s:t.s+int32(len(n.pre))]) == n.pre {
				if r := m.match(rest, k, ti+1); r >= 0 {
					return r
				}
			}
		}
	case pNum, pMany:
		if ti < len(m.toks) && m.toks[ti].num && (n.kind == pNum || m.toks[ti].many) {
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
	case pGroup:
		id := int32(-1)
		if ti < len(m.toks) {
			id = m.toks[ti].id
		}
		known := id >= 0 && n.first[id>>6]&(1<<(id&63)) != 0
		if n.firstOnly && !known {
			break
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
			break
		}
		for a := range n.alts {
			if r := m.match(n.alts[a], &c, ti); r >= 0 {
				return r
			}
		}
	}
	if n.opt {
		return m.match(rest, k, ti)
	}
	return -1
}
