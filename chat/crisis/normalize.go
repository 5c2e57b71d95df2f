package crisis

import (
	"slices"
	"unicode/utf8"
)

// Normalisation turns a message into a sequence of tokens that the lexicon's
// patterns can match regardless of how the writer spelled things, and keeps,
// for every token, the byte range of the ORIGINAL text it came from so that
// evidence can point at exactly what was typed.
//
// It reads the message once (normalize), into pooled buffers:
//
//   - every rune becomes zero or more one-byte units: a letter, a digit, a
//     leetspeak symbol, an apostrophe or a separator. Case, accents and
//     homoglyphs (Cyrillic, Greek, small capitals, mathematical, circled
//     and fullwidth letters) fold to ASCII; zero-width characters and
//     combining marks vanish without breaking the word ("ki\u200bll");
//     known emoji become words ("🔪" -> knife). Runs of plain ASCII letters
//     skip the unit step: they are the bulk of every message.
//   - units build words, cut at separators. Inside a word, leetspeak digits
//     and symbols become letters ("k1ll", "my$elf", "k!ll") and apostrophes
//     vanish ("don't" -> dont); a word that starts with a digit ("50mg",
//     "3am", "12th") keeps its digits. Repeated letters are squeezed to one
//     ("killl" -> "kil", "sooo" -> "so"); the lexicon is squeezed the same
//     way, so "kill" and the misspelling "kil" are one word.
//   - every word is looked up in the vocabulary as it is finished (one hash
//     probe: misspellings of the fuzzy words and vowel-dropped forms of the
//     devowel words are precomputed entries); then (collapse, only when
//     there are any) runs of single letters re-join into one word ("k i l
//     l", "k.i.l.l", "k-i-l-l") and the merged words are looked up.
//
// Plain-ASCII text (most messages) takes normalizeASCII
// (normalize_ascii.go), the same rules in one pass over bytes without the
// unit step, with its state in a small struct and the letter loop in
// locals. The units of other characters come from fold.go.
//
// normalize_ref_test.go keeps the original three-pass version of this code;
// a test checks that both the general and the ASCII paths produce the same
// tokens.

// Unit classes.
const (
	clsLetter uint8 = iota + 1
	clsDigit
	clsLeet // @ $ ! | : a letter inside a word, a separator elsewhere
	clsApos
	clsSep
)

// Separator strengths, recorded between tokens. Clause and sentence
// boundaries limit how far negation, subjects and tense reach.
const (
	sepNone     uint8 = 0
	sepSpace    uint8 = 1
	sepClause   uint8 = 2
	sepSentence uint8 = 3
)

type unit struct {
	c      byte  // the folded byte (letters lower-case), or the separator strength
	cls    uint8 // clsLetter ...
	thin   bool  // a separator that may sit inside a spaced-out word: space . - _ * /
	quote  int8  // a quotation mark: +1 opens, -1 closes, 2 toggles (")
	os, oe int32 // original byte range of the rune that produced this unit
}

type token struct {
	s, e   int32 // range in scratch.norm
	os, oe int32 // range in the original text
	sep    uint8 // strongest separator between the previous token and this one
	thin   bool  // exactly one thin separator before this token
	num    bool  // all digits
	many   bool  // a number of 10 or more
	single bool  // one letter (or leet digit) long, before collapsing
	quoted bool  // inside a quotation ("I hurt myself today" as a lyric)
	id     int32 // vocabulary id, or -1
}

// tokenizer is the state of the single normalisation pass. The message is
// read once; plain ASCII letters take a short path straight into the
// token being built, everything else goes through feed.
type tokenizer struct {
	cl   *compiled
	text string
	norm []byte
	toks []token

	inTok     bool
	cur       *token // the token being built: the last of toks
	hasLetter bool
	sawLeet   bool  // the token holds digits or leet symbols
	firstCls  uint8 // class of the token's first unit
	nUnits    int   // units in the token, before squeezing
	last      byte  // last letter written, for squeezing ("killll" -> "kil")
	prevCls   uint8 // class of the previous unit, for leet and apostrophes

	sepMax    uint8
	sepCount  int
	sepThin   bool
	inQuote   bool
	quoteFrom int

	run spacedRun
}

func (t *tokenizer) start(cls uint8, os int32) {
	t.inTok = true
	// Built in place: a token assembled aside and then copied in costs a
	// store-forwarding stall per word.
	sep := t.sepMax
	if len(t.toks) == 0 {
		sep = sepNone
	}
	t.toks = append(t.toks, token{})
	c := &t.toks[len(t.toks)-1]
	c.s, c.os, c.sep, c.thin, c.quoted, c.id = int32(len(t.norm)), os, sep, t.sepCount == 1 && t.sepThin, t.inQuote, -1
	t.cur = c
	t.hasLetter, t.sawLeet, t.firstCls, t.nUnits, t.last = false, false, cls, 0, 0
	t.sepMax, t.sepCount, t.sepThin = 0, 0, false
}

// letter adds an ASCII letter (already lower-case); the hot path.
func (t *tokenizer) letter(c byte, os, oe int32) {
	if !t.inTok {
		t.start(clsLetter, os)
	}
	t.cur.oe = oe
	t.nUnits++
	t.hasLetter = true
	t.prevCls = clsLetter
	if c != t.last {
		t.last = c
		t.norm = append(t.norm, c)
	}
}

// raw adds any other in-word unit (a digit, an in-word leet symbol, a byte
// of a non-ASCII letter).
func (t *tokenizer) raw(u unit, cls uint8) {
	if !t.inTok {
		t.start(cls, u.os)
	}
	t.cur.oe = u.oe
	t.nUnits++
	switch cls {
	case clsLetter:
		t.hasLetter = true
	default:
		t.sawLeet = true
	}
	t.prevCls = cls
	t.last = 0
	t.norm = append(t.norm, u.c)
}

func (t *tokenizer) sep(s uint8, thin bool, quote int8) {
	if t.inTok {
		t.finish()
	}
	if s > t.sepMax {
		t.sepMax = s
	}
	switch {
	case quote == 1 || (quote == 2 && !t.inQuote):
		t.inQuote, t.quoteFrom = true, len(t.toks)
	case quote == -1 || quote == 2:
		t.inQuote = false
	}
	t.sepCount++
	t.sepThin = thin
	t.prevCls = clsSep
}

// peek returns the class of the unit that follows text[:next].
func (t *tokenizer) peek(next int) uint8 {
	for next < len(t.text) {
		b := t.text[next]
		if b < utf8.RuneSelf {
			return asciiUnit(b, next).cls
		}
		r, size := utf8.DecodeRuneInString(t.text[next:])
		var buf [16]unit
		if us := t.cl.runeUnits(buf[:0], r, next, next+size); len(us) > 0 {
			return us[0].cls
		}
		next += size // an invisible character
	}
	return 0
}

// feed adds one unit; next is where the text after it starts.
func (t *tokenizer) feed(u unit, next int) {
	switch u.cls {
	case clsLetter:
		if u.c >= 'a' && u.c <= 'z' {
			t.letter(u.c, u.os, u.oe)
		} else {
			t.raw(u, clsLetter)
		}
	case clsDigit:
		t.raw(u, clsDigit)
	case clsLeet:
		// Inside a word a leet symbol is a letter ("k!ll", "my$elf");
		// elsewhere it separates ("wow!" ends a sentence).
		prevW := t.prevCls == clsLetter || t.prevCls == clsDigit
		nc := t.peek(next)
		if (prevW && (nc == clsLetter || nc == clsDigit || nc == clsLeet)) || (u.c == '$' && nc == clsLetter) {
			t.raw(u, clsLeet)
			return
		}
		s := sepSpace
		if u.c == '!' {
			s = sepSentence
		}
		t.sep(s, false, 0)
	case clsApos:
		// "don't" -> "dont"; a quote mark elsewhere separates.
		if (t.prevCls == clsLetter || t.prevCls == clsDigit) && t.peek(next) == clsLetter {
			t.cur.oe = u.oe
			t.prevCls = clsApos
			return
		}
		t.sep(sepSpace, false, 0)
	default:
		t.sep(u.c, u.thin, u.quote)
	}
}

// finish closes the current token: leetspeak digits become letters unless
// the word starts with a digit ("k1ll" but "50mg", "3am"), which may need
// a second squeeze ("ki1l" -> "kiil" -> "kil").
func (t *tokenizer) finish() {
	c := t.cur
	c.e = int32(len(t.norm))
	word := t.norm[c.s:c.e]
	if t.sawLeet && t.hasLetter && t.firstCls != clsDigit {
		c.e = c.s + int32(unleet(word))
		t.norm = t.norm[:c.e]
		word = t.norm[c.s:c.e]
	}
	if !t.hasLetter && t.firstCls == clsDigit {
		c.num, c.many = numberFlags(word)
	}
	c.single = t.nUnits == 1 && (t.firstCls == clsLetter || (t.firstCls == clsDigit && leetMap[word[0]] != 0))
	t.inTok = false
	t.run.add(c.single, c.thin)
	// Look the word up now, while it is at hand; collapse redoes only the
	// words it merges.
	c.id = t.cl.lookupAt(t.norm, c.s, c.e)
}

// unleet turns the leetspeak digits and symbols of a word into the letters
// they stand for and squeezes the result again ("ki1l" -> "kiil" -> "kil");
// it returns the new length.
func unleet(word []byte) int {
	for p, b := range word {
		if b < 128 && leetMap[b] != 0 {
			word[p] = leetMap[b]
		}
	}
	return squeezeInPlace(word)
}

// numberFlags reads a word that starts with a digit and holds no letter:
// num when it is all digits, many when it is then 10 or more (two digits or
// more, ignoring leading zeros).
func numberFlags(word []byte) (num, many bool) {
	num = true
	for _, b := range word {
		if b < '0' || b > '9' {
			num = false
			break
		}
	}
	z := 0
	for z < len(word)-1 && word[z] == '0' {
		z++
	}
	return num, num && len(word)-z >= 2
}

// spacedRun follows the single-letter tokens in a row, each after exactly
// one thin separator ("k i l l", "k.i.l.l"): a run of 3 or more is a
// spaced-out word, and collapse has work to do.
type spacedRun struct {
	n      int
	spaced bool
}

// add notes the next token.
func (r *spacedRun) add(single, thin bool) {
	switch {
	case !single:
		r.n = 0
	case r.n > 0 && thin:
		r.n++
		r.spaced = r.spaced || r.n >= 3
	default:
		r.n = 1
	}
}

// unquote clears the quoted mark of toks: an unclosed quotation mark
// (5'10", a stray ") quotes nothing.
func unquote(toks []token) {
	for k := range toks {
		toks[k].quoted = false
	}
}

// squeezeInPlace drops repeated ASCII letters and returns the new length.
func squeezeInPlace(w []byte) int {
	n := 0
	for _, b := range w {
		if n > 0 && b == w[n-1] && b >= 'a' && b <= 'z' {
			continue
		}
		w[n] = b
		n++
	}
	return n
}

// normalize turns text into tokens in sc.toks (see the top of this file).
func (cl *compiled) normalize(text string, sc *scratch) {
	if isASCII(text) {
		cl.normalizeASCII(text, sc)
		return
	}
	t := tokenizer{cl: cl, text: text, norm: sc.norm[:0], toks: sc.toks[:0]}
	var buf [24]unit
	for i := 0; i < len(text); {
		if text[i] < utf8.RuneSelf {
			i = t.ascii(i)
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		j := i + size
		for _, u := range cl.runeUnits(buf[:0], r, i, j) {
			t.feed(u, j)
		}
		i = j
	}
	if t.inTok {
		t.finish()
	}
	if t.inQuote {
		unquote(t.toks[t.quoteFrom:])
	}
	sc.norm, sc.toks = t.norm, t.toks
	if t.run.spaced {
		cl.collapse(sc)
	}
}

// ascii adds the run of ASCII bytes at text[i:] and returns where it
// ends. Letters take the hot path, kept in locals and written into spare
// capacity (grown first if need be); a space is handled inline; the other
// bytes go through asciiByte.
func (t *tokenizer) ascii(i int) int {
	text := t.text
	for i < len(text) {
		b := text[i]
		switch {
		case b >= utf8.RuneSelf:
			return i
		case b == ' ': // t.sep(sepSpace, true, 0), inlined
			if t.inTok {
				t.finish()
			}
			t.sepMax = max(t.sepMax, sepSpace)
			t.sepCount++
			t.sepThin = true
			t.prevCls = clsSep
			i++
			continue
		case lowerLetter[b] == 0:
			t.asciiByte(b, i)
			i++
			continue
		}
		if !t.inTok {
			t.start(clsLetter, int32(i))
		}
		start := i
		norm, last := t.norm, t.last
		if cap(norm)-len(norm) < len(text)-i+8 {
			norm = slices.Grow(norm, len(text)-i+8+len(norm)/2)
		}
		n, buf := len(norm), norm[:cap(norm)]
		for ; i < len(text); i++ {
			l := lowerLetter[text[i]]
			if l == 0 {
				break
			}
			if l != last {
				buf[n] = l
				n++
				last = l
			}
		}
		t.norm, t.last = buf[:n], last
		t.cur.oe = int32(i)
		t.nUnits += i - start
		t.hasLetter = true
		t.prevCls = clsLetter
	}
	return i
}

// asciiByte adds text[i] = b, an ASCII byte that is neither a letter nor
// a space: what feed would do, without the detour through a unit for
// separators and digits.
func (t *tokenizer) asciiByte(b byte, i int) {
	switch u := &asciiUnits[b]; u.cls {
	case clsSep:
		t.sep(u.c, u.thin, u.quote)
	case clsDigit:
		if !t.inTok {
			t.start(clsDigit, int32(i))
		}
		t.cur.oe = int32(i + 1)
		t.nUnits++
		t.sawLeet = true
		t.prevCls = clsDigit
		t.last = 0
		t.norm = append(t.norm, b)
	default:
		t.feed(asciiUnit(b, i), i+1)
	}
}

// collapse re-joins spaced-out letters ("k i l l", "k-i-l-l") and looks
// the merged words up in the vocabulary (finish looked up the others).
func (cl *compiled) collapse(sc *scratch) {
	toks := sc.toks
	out := toks[:0]
	for i := 0; i < len(toks); {
		j := i + 1
		if toks[i].single {
			for j < len(toks) && toks[j].single && toks[j].thin {
				j++
			}
		}
		if j-i < 3 || !mostlyLetters(sc.norm, toks[i:j]) {
			for ; i < j; i++ {
				if len(out) != i {
					out = append(out, toks[i])
				} else {
					out = out[:i+1] // in place: nothing has merged yet
				}
			}
			continue
		}
		// A spaced-out word; single letters are contiguous in norm. Its
		// digits are leetspeak ("k 1 l l").
		m := toks[i]
		m.e, m.oe, m.single = toks[j-1].e, toks[j-1].oe, false
		w := sc.norm[m.s:m.e]
		for p, c := range w {
			if c <= '9' && leetMap[c] != 0 {
				w[p] = leetMap[c]
			}
		}
		// When the first letter equals the second ("1 1 a a" is "iiaa"),
		// squeezing merges them: the squeezed word minus its first letter
		// is then not the rest, and the rest is the whole.
		firstMerges := w[1] == w[0]
		m.e = m.s + int32(squeezeInPlace(w)) // leaves a hole after it
		// "I have a k n i f e": a leading article or pronoun written next
		// to a spaced-out word is usually its own word. Keep it apart when
		// the rest is a word we know and the whole is not.
		if c := sc.norm[m.s]; (c == 'a' || c == 'i') && j-i >= 4 && !firstMerges {
			if _, whole := cl.vocab[string(sc.norm[m.s:m.e])]; !whole {
				if _, rest := cl.vocab[string(sc.norm[m.s+1:m.e])]; rest {
					out = append(out, toks[i])
					out[len(out)-1].id = -2 // its leet digit may have become a letter
					m.s, m.os, m.sep, m.thin = m.s+1, toks[i+1].os, toks[i+1].sep, toks[i+1].thin
				}
			}
		}
		m.id = -2 // to look up
		out = append(out, m)
		i = j
	}
	sc.toks = out
	for k := range out {
		if tk := &out[k]; tk.id == -2 {
			tk.id = cl.lookupAt(sc.norm, tk.s, tk.e)
		}
	}
}

func mostlyLetters(norm []byte, toks []token) bool {
	n := 0
	for _, t := range toks {
		if c := norm[t.s]; c >= 'a' && c <= 'z' {
			n++
		}
	}
	return n >= 2 && n*2 >= len(toks)
}
