package crisis

import (
	"fmt"
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

// elem parses one element: a group or a word-like element, then an
// optional "?".
func (p *pparser) elem() (pelem, error) {
	var e pelem
	var err error
	if p.s[p.i] == '(' {
		e, err = p.group()
	} else {
		e, err = p.word()
	}
	if err != nil {
		return e, err
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

// group parses "( alt | alt )".
func (p *pparser) group() (pelem, error) {
	p.i++
	alts, err := p.alts()
	if err != nil {
		return pelem{}, err
	}
	p.space()
	if p.i >= len(p.s) || p.s[p.i] != ')' {
		return pelem{}, fmt.Errorf("missing )")
	}
	p.i++
	return pelem{kind: pGroup, alts: alts}, nil
}

// word parses a word, a prefix (word*), a class reference (@name), a gap
// (~N) or <num>, <many>, <end>.
func (p *pparser) word() (pelem, error) {
	c := p.s[p.i]
	start := p.i
	for p.i < len(p.s) && isWordByte(p.s[p.i]) {
		p.i++
	}
	w := p.s[start:p.i]
	switch {
	case w == "":
		return pelem{}, fmt.Errorf("unexpected %q at column %d", c, p.i+1)
	case w == "<num>":
		return pelem{kind: pNum}, nil
	case w == "<end>":
		return pelem{kind: pEnd}, nil
	case w == "<many>":
		return pelem{kind: pMany}, nil
	case w[0] == '<':
		return pelem{}, fmt.Errorf("unknown element %q (<num>, <many> or <end>)", w)
	case w[0] == '~':
		n, err := strconv.Atoi(w[1:])
		if err != nil || n < 1 || n > maxGap {
			return pelem{}, fmt.Errorf("bad gap %q (~1 to ~%d)", w, maxGap)
		}
		return pelem{kind: pGap, gap: n}, nil
	case w[0] == '@':
		if !validName(w[1:]) {
			return pelem{}, fmt.Errorf("bad class reference %q", w)
		}
		return pelem{kind: pClass, class: w[1:]}, nil
	case strings.HasSuffix(w, "*"):
		n := normWords(w[:len(w)-1], nil)
		if len(n) != 1 || len(n[0]) < 3 {
			return pelem{}, fmt.Errorf("prefix %q must be one word of 3 letters or more", w)
		}
		return pelem{kind: pPrefix, pre: n[0]}, nil
	}
	n := normWords(w, nil)
	if len(n) == 0 {
		return pelem{}, fmt.Errorf("%q has no letters or digits", w)
	}
	return pelem{kind: pWord, words: n}, nil
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
