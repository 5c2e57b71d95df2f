package crisis

import "sort"

// Most rules are finite sets of phrases: no gaps, no prefixes. They are
// expanded at compile time into one trie over word ids shared by all rules,
// so that at each token a single walk finds every such rule that matches
// there, instead of trying each rule in turn. Rules with a gap or a prefix
// (and the few whose expansion would be too large) keep the backtracking
// matcher in match.go. Both paths report, for a rule and a start token,
// one match; the trie reports the longest.

const (
	keyEnd  int32 = -2 // <end>: a boundary follows, nothing consumed
	keyNum  int32 = -3 // <num>
	keyMany int32 = -4 // <many>
)

// maxPhrases bounds one rule's expansion. Bigger ones (a product of long
// classes) go to the matcher instead, indexed by their rarer words: at 4096
// the trie had 34,000 nodes, at 1024 under 15,000, for the same matches and
// speed, and a smaller footprint in the cache when messages vary.
const maxPhrases = 1024

type trieNode struct {
	keys  []int32 // sorted child keys: keyMany, keyNum, keyEnd, then word ids
	kids  []int32
	terms []int32 // rules that end here
}

type trie struct {
	nodes []trieNode // while building; freeze packs them into the fields below
	root  []int32    // word id -> child of the root (0 = none)
	num   int32      // child of the root for a number
	many  int32      // child of the root for a number >= 10

	// Frozen form: 16 bytes a node, children and rules in shared arrays,
	// so that a walk touches little memory.
	fn    []tnode
	keys  []int32
	kids  []int32
	terms []int32
}

type tnode struct {
	bloom uint64 // bit id&63 set for every child word id
	k0    int32  // keys[k0:k0+nk], kids alike
	nk    uint16 // number of children
	nspec uint16 // of which special keys (<many>, <num>, <end>), first
	t0    int32  // terms[t0:t0+nt]
	nt    int32
}

// freeze packs the nodes into their walking form.
func (t *trie) freeze() {
	t.fn = make([]tnode, len(t.nodes))
	for i := range t.nodes {
		nd := &t.nodes[i]
		spec := 0
		for spec < len(nd.keys) && nd.keys[spec] < 0 {
			spec++
		}
		var bloom uint64
		for _, k := range nd.keys[spec:] {
			bloom |= 1 << (k & 63)
		}
		t.fn[i] = tnode{bloom: bloom, k0: int32(len(t.keys)), nk: uint16(len(nd.keys)), nspec: uint16(spec), t0: int32(len(t.terms)), nt: int32(len(nd.terms))}
		t.keys = append(t.keys, nd.keys...)
		t.kids = append(t.kids, nd.kids...)
		t.terms = append(t.terms, nd.terms...)
	}
	t.nodes = nil
}

// expand lists the phrases seq can match, or ok=false when seq is not a
// finite set of word sequences (gaps, prefixes) or has too many.
func expand(seq []node, budget int) (out [][]int32, ok bool) {
	out = [][]int32{nil}
	for _, n := range seq {
		var options [][]int32
		switch n.kind {
		case pWord:
			options = [][]int32{{n.id}}
		case pNum:
			options = [][]int32{{keyNum}}
		case pMany:
			options = [][]int32{{keyMany}}
		case pEnd:
			options = [][]int32{{keyEnd}}
		case pGroup:
			for _, a := range n.alts {
				sub, ok := expand(a, budget)
				if !ok {
					return nil, false
				}
				options = append(options, sub...)
				if len(options) > budget {
					return nil, false
				}
			}
		default:
			return nil, false
		}
		if n.opt {
			options = append(options, nil)
		}
		if len(out)*len(options) > budget {
			return nil, false
		}
		next := make([][]int32, 0, len(out)*len(options))
		for _, p := range out {
			for _, o := range options {
				q := make([]int32, 0, len(p)+len(o))
				q = append(append(q, p...), o...)
				next = append(next, q)
			}
		}
		out = next
	}
	return out, true
}

func (t *trie) child(n int32, key int32) int32 {
	nd := &t.nodes[n]
	i := sort.Search(len(nd.keys), func(i int) bool { return nd.keys[i] >= key })
	if i < len(nd.keys) && nd.keys[i] == key {
		return nd.kids[i]
	}
	return 0
}

func (t *trie) addChild(n int32, key int32) int32 {
	if c := t.child(n, key); c != 0 {
		return c
	}
	c := int32(len(t.nodes))
	t.nodes = append(t.nodes, trieNode{})
	nd := &t.nodes[n]
	i := sort.Search(len(nd.keys), func(i int) bool { return nd.keys[i] >= key })
	nd.keys = append(nd.keys, 0)
	nd.kids = append(nd.kids, 0)
	copy(nd.keys[i+1:], nd.keys[i:])
	copy(nd.kids[i+1:], nd.kids[i:])
	nd.keys[i], nd.kids[i] = key, c
	return c
}

// add inserts phrase for rule r. Phrases must start with a word or a
// number (checkStart guarantees a consuming first element, and <end> is
// never first).
func (t *trie) add(phrase []int32, r int32) {
	var n int32
	switch first := phrase[0]; {
	case first == keyNum:
		if t.num == 0 {
			t.num = int32(len(t.nodes))
			t.nodes = append(t.nodes, trieNode{})
		}
		n = t.num
	case first == keyMany:
		if t.many == 0 {
			t.many = int32(len(t.nodes))
			t.nodes = append(t.nodes, trieNode{})
		}
		n = t.many
	case first >= 0:
		if t.root[first] == 0 {
			t.root[first] = int32(len(t.nodes))
			t.nodes = append(t.nodes, trieNode{})
		}
		n = t.root[first]
	default:
		return
	}
	for _, k := range phrase[1:] {
		n = t.addChild(n, k)
	}
	for _, x := range t.nodes[n].terms {
		if x == r {
			return
		}
	}
	t.nodes[n].terms = append(t.nodes[n].terms, r)
}

// buildTrie moves every finite rule into the trie and reports which rules
// it took.
func (cl *compiled) buildTrie() []bool {
	t := &trie{nodes: make([]trieNode, 1), root: make([]int32, len(cl.words))}
	inTrie := make([]bool, len(cl.rules))
	for ri := range cl.rules {
		if cl.rules[ri].kind == kFactor {
			continue
		}
		phrases, ok := expand(cl.rules[ri].seq, maxPhrases)
		if !ok {
			continue
		}
		usable := true
		for _, p := range phrases {
			if len(p) == 0 || p[0] == keyEnd {
				usable = false
			}
		}
		if !usable {
			continue
		}
		for _, p := range phrases {
			t.add(p, int32(ri))
		}
		inTrie[ri] = true
	}
	for _, nd := range t.nodes {
		if len(nd.keys) > 1<<16-1 {
			panic("crisis: trie node with too many children")
		}
	}
	t.freeze()
	cl.trie = t
	return inTrie
}

// walk records, for every trie rule that matches starting at token ti, its
// longest match, into sc.found (rule, end) pairs.
func (t *trie) walk(toks []token, n int32, pos int, sc *scratch) {
	for {
		nd := &t.fn[n]
		for i := nd.t0; i < nd.t0+nd.nt; i++ {
			sc.found = append(sc.found, found{t.terms[i], int32(pos)})
		}
		if nd.nk == 0 {
			return
		}
		k0, k1 := int(nd.k0), int(nd.k0)+int(nd.nk)
		// A rule's words never run on across a sentence: "to end my
		// life. today" is not "end my life today".
		next := pos < len(toks) && toks[pos].sep < sepSentence
		// Special keys sort first: a big number, a number, a boundary.
		for k := k0; k < k0+int(nd.nspec); k++ {
			switch t.keys[k] {
			case keyMany:
				if next && toks[pos].many {
					t.walk(toks, t.kids[k], pos+1, sc)
				}
			case keyNum:
				if next && toks[pos].num {
					t.walk(toks, t.kids[k], pos+1, sc)
				}
			case keyEnd:
				if pos >= len(toks) || toks[pos].sep >= sepClause {
					t.walk(toks, t.kids[k], pos, sc)
				}
			}
		}
		if !next {
			return
		}
		id := toks[pos].id
		if id < 0 || nd.bloom&(1<<(id&63)) == 0 {
			return
		}
		// A short scan for the few children of most nodes, a binary
		// search for the many of a common first word.
		lo, hi := k0+int(nd.nspec), k1
		for hi-lo > 8 {
			mid := int(uint(lo+hi) >> 1)
			if t.keys[mid] < id {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		kid := int32(0)
		for i := lo; i < k1; i++ { // keys[hi] >= id ends it
			if key := t.keys[i]; key >= id {
				if key == id {
					kid = t.kids[i]
				}
				break
			}
		}
		if kid == 0 {
			return
		}
		n, pos = kid, pos+1
	}
}

type found struct {
	rule int32
	end  int32
}
