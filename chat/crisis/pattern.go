package crisis

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"
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

type fuzzyWord struct {
	w   string
	id  int32
	bag uint32
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
	// words resolves a token to its word id in one probe, whatever way it
	// was spelled: vocab holds the words themselves; alias, probed only
	// when vocab misses, the vowel-dropped forms of the devowel words
	// ("kll", "myslf") and every misspelling one edit away from a fuzzy
	// word ("suicdie"). Keeping the aliases (thousands) apart keeps the
	// table nearly every token hits small enough for the L1 cache.
	vocabTab, aliasTab hashTable
}

type devowelWord struct {
	w  string
	id int32
}

// hashTable is an open-addressing hash from token spelling to word id. A
// slot holds what a probe needs in 16 bytes: the key's first 8 bytes (all
// of it for most words: tokens hold no zero byte, so the zero padding
// tells lengths apart), the hash and the id; keys longer than 8 bytes are
// checked against long.
type hashTable struct {
	slots []tabSlot
	long  []string // per slot: the key, when longer than 8 bytes
	mask  uint32
}

type tabSlot struct {
	head uint64 // the key's first 8 bytes, little-endian, zero-padded
	h    uint32
	id   int32 // word id + 1; 0 = empty
}

func newHashTable(keys []string, ids []int32) hashTable {
	size := 16
	for size*5 < len(keys)*8 { // load factor at most 0.625
		size <<= 1
	}
	t := hashTable{slots: make([]tabSlot, size), long: make([]string, size), mask: uint32(size - 1)}
	for e, k := range keys {
		h, head := wordKey([]byte(k))
		i := h & t.mask
		for t.slots[i].id != 0 {
			i = (i + 1) & t.mask
		}
		t.slots[i] = tabSlot{head: head, h: h, id: ids[e] + 1}
		if len(k) > 8 {
			t.long[i] = k
		}
	}
	return t
}

// get returns the id stored for b (whose wordKey is h, head), or -1.
func (t *hashTable) get(b []byte, h uint32, head uint64) int32 {
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		sl := &t.slots[i]
		if sl.id == 0 {
			return -1
		}
		if sl.h == h && sl.head == head && (len(b) <= 8 || t.long[i] == string(b)) {
			return sl.id - 1
		}
	}
}

const (
	hashK1 = 0x9e3779b97f4a7c15
	hashK2 = 0xff51afd7ed558ccd
	hashK3 = 0xc4ceb9fe1a85ec53
)

// hashHead hashes a key of n <= 8 bytes held in head.
func hashHead(head uint64, n int) uint32 {
	x := (head ^ uint64(n)*hashK1) * hashK2
	x = (x ^ x>>32) * hashK3
	return uint32(x >> 32)
}

// wordKey hashes a token for the vocabulary tables, eight bytes at a time
// (most words are one integer), and returns its first eight bytes.
func wordKey(b []byte) (h uint32, head uint64) {
	n := len(b)
	if n >= 8 {
		head = binary.LittleEndian.Uint64(b)
	} else {
		for i := n - 1; i >= 0; i-- {
			head = head<<8 | uint64(b[i])
		}
	}
	if n <= 8 {
		return hashHead(head, n), head
	}
	x := (head ^ uint64(n)*hashK1) * hashK2
	for rest := b[8:]; len(rest) > 0; {
		var c uint64
		if len(rest) >= 8 {
			c, rest = binary.LittleEndian.Uint64(rest), rest[8:]
		} else {
			for i := len(rest) - 1; i >= 0; i-- {
				c = c<<8 | uint64(rest[i])
			}
			rest = nil
		}
		x = (x ^ x>>32 ^ c) * hashK2
	}
	x = (x ^ x>>32) * hashK3
	return uint32(x >> 32), head
}

func (cl *compiled) buildTable() {
	ids := make([]int32, len(cl.words))
	for id := range ids {
		ids[id] = int32(id)
	}
	cl.vocabTab = newHashTable(cl.words, ids)
	var akeys []string
	var aids []int32
	seen := map[string]bool{}
	add := func(key string, id int32) {
		if _, word := cl.vocab[key]; !word && !seen[key] {
			seen[key] = true
			akeys, aids = append(akeys, key), append(aids, id)
		}
	}
	for _, d := range cl.devowel {
		for _, v := range devowelForms(d.w) {
			add(v, d.id)
		}
	}
	for _, f := range cl.fuzzy {
		for _, v := range oneEditForms(f.w) {
			add(v, f.id)
		}
	}
	cl.aliasTab = newHashTable(akeys, aids)
}

func isVowel(c byte) bool { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' }

// devowelForms lists the spellings of w (normalised) with some of its
// vowels left out, first letter kept: "kil" -> "kl", "myself" -> "myslf",
// "suicide" -> "sucide", "sucde", ... Forms shorter than 3/5 of the word
// (or than 2 letters) are not kept: "scd" is not "suicide".
func devowelForms(w string) []string {
	var pos []int
	for i := 1; i < len(w); i++ {
		if isVowel(w[i]) {
			pos = append(pos, i)
		}
	}
	if len(pos) > 10 {
		pos = pos[:10]
	}
	var out []string
	buf := make([]byte, 0, len(w))
	for mask := 1; mask < 1<<len(pos); mask++ {
		buf = buf[:0]
		k := 0
		for i := 0; i < len(w); i++ {
			if k < len(pos) && pos[k] == i {
				drop := mask&(1<<k) != 0
				k++
				if drop {
					continue
				}
			}
			buf = append(buf, w[i])
		}
		n := squeezeInPlace(buf)
		if n < 2 || 5*n < 3*len(w) {
			continue
		}
		out = append(out, string(buf[:n]))
	}
	return out
}

// oneEditForms lists the strings of 4 letters or more one edit away from w
// (a deletion, an insertion, a substitution or a swap of neighbours): the
// misspellings a fuzzy word also matches.
func oneEditForms(w string) []string {
	var out []string
	keep := func(b []byte) {
		if len(b) >= 4 && within1(b, w) {
			out = append(out, string(b))
		}
	}
	b := make([]byte, 0, len(w)+1)
	for i := 0; i < len(w); i++ {
		keep(append(append(b[:0], w[:i]...), w[i+1:]...)) // deletion
		if i+1 < len(w) {
			b = append(b[:0], w...)
			b[i], b[i+1] = b[i+1], b[i]
			keep(b) // swap
		}
	}
	for i := 0; i <= len(w); i++ {
		for c := byte('a'); c <= 'z'; c++ {
			keep(append(append(append(b[:0], w[:i]...), c), w[i:]...)) // insertion
			if i < len(w) && c != w[i] {
				b = append(b[:0], w...)
				b[i] = c
				keep(b) // substitution
			}
		}
	}
	return out
}

// lookup resolves a token (normalised bytes) to a word id, or -1.
func (cl *compiled) lookup(b []byte) int32 {
	if cl.vocabTab.slots == nil {
		return -1 // normWords' bare compiled: no vocabulary yet
	}
	h, head := wordKey(b)
	if id := cl.vocabTab.get(b, h, head); id >= 0 {
		return id
	}
	return cl.aliasTab.get(b, h, head)
}

// lookupAt is lookup for norm[s:e]. A token of up to 8 bytes is read as
// one integer straight from the buffer, whose spare capacity pads the last.
func (cl *compiled) lookupAt(norm []byte, s, e int32) int32 {
	if cl.vocabTab.slots == nil {
		return -1 // normWords' bare compiled: no vocabulary yet
	}
	n := e - s
	if n < 1 || n > 8 || int(s)+8 > cap(norm) {
		return cl.lookup(norm[s:e])
	}
	head := binary.LittleEndian.Uint64(norm[s:cap(norm)]) & (^uint64(0) >> ((64 - 8*n) & 63))
	b := norm[s:e]
	h := hashHead(head, len(b))
	if id := cl.vocabTab.get(b, h, head); id >= 0 {
		return id
	}
	return cl.aliasTab.get(b, h, head)
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
		seq := cl.rules[ri].seq
		alts := [][]node{seq}
		if len(seq) == 1 && seq[0].kind == pGroup && !seq[0].opt {
			alts = seq[0].alts
		}
		for _, a := range alts {
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
		seq := cl.rules[ri].seq
		type key struct{ id, slot int32 }
		set := map[key]anchorRef{}
		addSlot := func(slot int32, c anchorCand) {
			for _, id := range c.ids {
				r, dup := set[key{id, slot}]
				if !dup {
					r = anchorRef{rule: int32(d), slot: slot, lo: c.lo, hi: c.hi}
				}
				r.lo, r.hi = min(r.lo, c.lo), max(r.hi, c.hi)
				set[key{id, slot}] = r
			}
		}
		always := false
		if len(seq) == 1 && seq[0].kind == pGroup && !seq[0].opt {
			// Alternatives inside: one slot, the union of their anchors.
			for _, a := range seq[0].alts {
				cs := cl.anchorCands(a)
				if len(cs) == 0 {
					always = true
					break
				}
				addSlot(0, cs[0])
			}
			cl.anchorMask[d] = 1
		} else {
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
				always = true
			}
			for slot, c := range picked {
				addSlot(int32(slot), c)
			}
			cl.anchorMask[d] = uint8(1)<<len(picked) - 1
		}
		if always {
			cl.always = append(cl.always, int32(d))
			cl.anchorMask[d] = 1
			continue
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
	for _, w := range l.devowel {
		cl.devowel = append(cl.devowel, devowelWord{w: w, id: cl.intern(w)})
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
	cl.buildTable()
	inTrie := cl.buildTrie()
	cl.kinds = make([]kind, len(cl.rules))
	for ri := range cl.rules {
		cl.kinds[ri] = cl.rules[ri].kind
		if !inTrie[ri] {
			cl.dense = append(cl.dense, int32(ri))
		}
	}
	cl.buildAnchors()
	cl.buildAlarm()
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
