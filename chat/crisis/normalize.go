package crisis

import (
	"slices"
	"unicode"
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
// Plain-ASCII text (most messages) takes normalizeASCII, the same rules in
// one loop over bytes with its state in local variables.
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

// latinExtA folds U+0100..U+017F (Latin Extended-A) to base letters.
const latinExtA = "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiiiijjkkkllllllllllnnnnnnnnnoooooooorrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs"

// latin1 folds U+00C0..U+00FF to base letters ('.' marks × and ÷, which are
// not letters; æ, ß and þ fold to their first letter, close enough to match).
const latin1 = "aaaaaaaceeeeiiiidnooooo.ouuuuyts" + "aaaaaaaceeeeiiiidnooooo.ouuuuyty"

// homoglyphs maps letters from other scripts that are routinely used to look
// like Latin letters (to dodge filters, or by "fancy text" generators) onto
// the Latin letter they imitate. It deliberately covers only look-alikes: a
// Cyrillic letter with no Latin twin is kept as it is.
var homoglyphs = map[rune]byte{
	// Cyrillic, lower and upper case.
	'а': 'a', 'в': 'b', 'г': 'r', 'е': 'e', 'ё': 'e', 'к': 'k', 'м': 'm', 'н': 'h', 'о': 'o',
	'п': 'n', 'р': 'p', 'с': 'c', 'т': 't', 'у': 'y', 'х': 'x', 'і': 'i', 'ї': 'i', 'ј': 'j',
	'ѕ': 's', 'ԁ': 'd', 'һ': 'h', 'ԛ': 'q', 'ԝ': 'w', 'ӏ': 'l', 'ү': 'y', 'ь': 'b',
	'А': 'a', 'В': 'b', 'Е': 'e', 'Ё': 'e', 'К': 'k', 'М': 'm', 'Н': 'h', 'О': 'o', 'Р': 'p',
	'С': 'c', 'Т': 't', 'У': 'y', 'Х': 'x', 'І': 'i', 'Ї': 'i', 'Ј': 'j', 'Ѕ': 's', 'Ԁ': 'd',
	'Һ': 'h', 'Ԛ': 'q', 'Ԝ': 'w', 'Ӏ': 'l', 'Ү': 'y',
	// Greek.
	'α': 'a', 'β': 'b', 'γ': 'y', 'ε': 'e', 'η': 'n', 'ι': 'i', 'κ': 'k', 'μ': 'u', 'ν': 'v',
	'ο': 'o', 'ρ': 'p', 'τ': 't', 'υ': 'u', 'χ': 'x', 'ω': 'w', 'ά': 'a', 'έ': 'e', 'ή': 'n',
	'ί': 'i', 'ό': 'o', 'ύ': 'u', 'ώ': 'w', 'ϲ': 'c',
	'Α': 'a', 'Β': 'b', 'Ε': 'e', 'Ζ': 'z', 'Η': 'h', 'Ι': 'i', 'Κ': 'k', 'Μ': 'm', 'Ν': 'n',
	'Ο': 'o', 'Ρ': 'p', 'Τ': 't', 'Υ': 'y', 'Χ': 'x',
	// Small capitals and IPA letters used by "small caps" text generators.
	'ᴀ': 'a', 'ʙ': 'b', 'ᴄ': 'c', 'ᴅ': 'd', 'ᴇ': 'e', 'ꜰ': 'f', 'ɢ': 'g', 'ʜ': 'h', 'ɪ': 'i',
	'ᴊ': 'j', 'ᴋ': 'k', 'ʟ': 'l', 'ᴍ': 'm', 'ɴ': 'n', 'ᴏ': 'o', 'ᴘ': 'p', 'ǫ': 'q', 'ʀ': 'r',
	'ꜱ': 's', 'ᴛ': 't', 'ᴜ': 'u', 'ᴠ': 'v', 'ᴡ': 'w', 'ʏ': 'y', 'ᴢ': 'z', 'ɑ': 'a', 'ɡ': 'g',
	'ɩ': 'i', 'ı': 'i', 'ȷ': 'j', 'ℓ': 'l',
	// Letterlike symbols (they fill the holes of the mathematical alphabets).
	'ℂ': 'c', 'ℊ': 'g', 'ℋ': 'h', 'ℌ': 'h', 'ℍ': 'h', 'ℎ': 'h', 'ℐ': 'i', 'ℑ': 'i', 'ℒ': 'l',
	'ℕ': 'n', 'ℙ': 'p', 'ℚ': 'q', 'ℛ': 'r', 'ℜ': 'r', 'ℝ': 'r', 'ℤ': 'z', 'ℬ': 'b', 'ℯ': 'e',
	'ℰ': 'e', 'ℱ': 'f', 'ℳ': 'm', 'ℴ': 'o',
}

// leetMap gives the letter a leetspeak character stands for inside a word.
var leetMap = [128]byte{
	'0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't',
	'@': 'a', '$': 's', '!': 'i', '|': 'l',
}

// invisible reports characters that render as nothing (or that only modify
// the look of the previous character) and are dropped without leaving a
// word break, so "ki\u200bll" stays one word.
func invisible(r rune) bool {
	switch {
	case r == 0xAD, r == 0x34F, r == 0x61C, r == 0x115F, r == 0x1160, r == 0x17B4, r == 0x17B5,
		r >= 0x180B && r <= 0x180F,
		r >= 0x200B && r <= 0x200F,
		r >= 0x202A && r <= 0x202E,
		r >= 0x2060 && r <= 0x206F,
		r == 0x3164, r == 0xFEFF, r == 0xFFA0,
		r >= 0xFE00 && r <= 0xFE0F,   // variation selectors
		r >= 0x1F3FB && r <= 0x1F3FF, // skin tones
		r >= 0xE0000 && r <= 0xE0FFF: // tags, variation selectors supplement
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me)
}

// foldLetter maps a non-ASCII rune to one ASCII letter or digit when it is a
// known look-alike or styled form of one. It returns 0 otherwise.
func foldLetter(r rune) byte {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E: // fullwidth ASCII
		return byte(r - 0xFEE0)
	case r >= 0xC0 && r <= 0xFF:
		if b := latin1[r-0xC0]; b != '.' {
			return b
		}
		return 0
	case r >= 0x100 && r <= 0x17F:
		return latinExtA[r-0x100]
	case r >= 0x1D400 && r <= 0x1D6A3: // mathematical bold, italic, script, fraktur, ... letters
		i := (r - 0x1D400) % 52
		if i < 26 {
			return byte('a' + i)
		}
		return byte('a' + i - 26)
	case r >= 0x1D7CE && r <= 0x1D7FF: // mathematical digits
		return byte('0' + (r-0x1D7CE)%10)
	case r >= 0x24B6 && r <= 0x24CF: // circled capitals
		return byte('a' + r - 0x24B6)
	case r >= 0x24D0 && r <= 0x24E9: // circled small letters
		return byte('a' + r - 0x24D0)
	case r >= 0x249C && r <= 0x24B5: // parenthesised letters
		return byte('a' + r - 0x249C)
	case r >= 0x1F130 && r <= 0x1F149: // squared capitals
		return byte('a' + r - 0x1F130)
	case r >= 0x1F150 && r <= 0x1F169: // negative circled capitals
		return byte('a' + r - 0x1F150)
	case r >= 0x1F170 && r <= 0x1F189: // negative squared capitals
		return byte('a' + r - 0x1F170)
	case r >= 0x1F1E6 && r <= 0x1F1FF: // regional indicators, used as letters
		return byte('a' + r - 0x1F1E6)
	}
	return homoglyphs[r]
}

// asciiSep gives the separator strength of ASCII punctuation (0 = not a
// separator).
var asciiSep = [128]uint8{
	' ': sepSpace, '\t': sepSpace, '-': sepSpace, '_': sepSpace, '*': sepSpace, '/': sepSpace,
	'"': sepSpace, '(': sepSpace, ')': sepSpace, '[': sepSpace, ']': sepSpace, '{': sepSpace,
	'}': sepSpace, '#': sepSpace, '&': sepSpace, '+': sepSpace, '=': sepSpace, '<': sepSpace,
	'>': sepSpace, '~': sepSpace, '^': sepSpace, '%': sepSpace, '\\': sepSpace,
	',': sepClause, ';': sepClause, ':': sepClause,
	'.': sepSentence, '?': sepSentence, '\n': sepSentence, '\r': sepSentence,
}

// thinSep are separators that writers put between the letters of a
// spaced-out word ("k i l l", "k.i.l.l", "k-i-l-l").
var thinSep = [128]bool{' ': true, '.': true, '-': true, '_': true, '*': true, '/': true}

func mkUnit(c byte, cls uint8, thin bool, os, oe int) unit {
	return unit{c: c, cls: cls, thin: thin, os: int32(os), oe: int32(oe)}
}

// lowerLetter maps an ASCII letter to its lower case, any other byte to 0.
var lowerLetter = func() (t [256]byte) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = byte(c), byte(c)
	}
	return t
}()

// asciiUnits holds asciiUnit(b, 0) for every ASCII byte.
var asciiUnits = func() (t [utf8.RuneSelf]unit) {
	for b := range t {
		t[b] = asciiUnit(byte(b), 0)
	}
	return t
}()

// asciiUnit classifies one ASCII byte at text[i].
func asciiUnit(b byte, i int) unit {
	switch {
	case b >= 'a' && b <= 'z':
		return mkUnit(b, clsLetter, false, i, i+1)
	case b >= 'A' && b <= 'Z':
		return mkUnit(b+'a'-'A', clsLetter, false, i, i+1)
	case b >= '0' && b <= '9':
		return mkUnit(b, clsDigit, false, i, i+1)
	case b == '\'' || b == '`':
		return mkUnit(b, clsApos, false, i, i+1)
	case b == '@' || b == '$' || b == '!' || b == '|':
		return mkUnit(b, clsLeet, false, i, i+1)
	}
	s := asciiSep[b]
	if s == 0 {
		s = sepSpace
	}
	u := mkUnit(s, clsSep, thinSep[b], i, i+1)
	if b == '"' {
		u.quote = 2
	}
	return u
}

// runeUnits appends the units of the non-ASCII rune r, found at text[i:j].
func (cl *compiled) runeUnits(buf []unit, r rune, i, j int) []unit {
	switch {
	case r == utf8.RuneError && j-i == 1:
		return append(buf, mkUnit(sepSpace, clsSep, false, i, j))
	case invisible(r):
		return buf // dropped: no unit, no word break ("ki\u200bll")
	case r == '\u2019' || r == '\u2018' || r == '\u02BC' || r == '\u2032':
		return append(buf, mkUnit('\'', clsApos, false, i, j))
	}
	if f := foldLetter(r); f != 0 {
		switch {
		case f >= 'A' && f <= 'Z':
			return append(buf, mkUnit(f+'a'-'A', clsLetter, false, i, j))
		case f >= 'a' && f <= 'z':
			return append(buf, mkUnit(f, clsLetter, false, i, j))
		}
		// A fullwidth digit or punctuation mark reads like its ASCII twin
		// (but is never a thin separator, a quote toggle or a backquote).
		u := asciiUnit(f, i)
		u.oe, u.thin, u.quote = int32(j), false, 0
		if f == '`' {
			u.c, u.cls = sepSpace, clsSep
		}
		return append(buf, u)
	}
	if w, ok := cl.emoji[r]; ok {
		// An emoji that stands for a word ("🔪" -> knife) becomes that
		// word, set apart from its neighbours.
		buf = append(buf, mkUnit(sepSpace, clsSep, false, i, j))
		for k := 0; k < len(w); k++ {
			if c := w[k]; c == ' ' {
				buf = append(buf, mkUnit(sepSpace, clsSep, false, i, j))
			} else {
				buf = append(buf, mkUnit(c, clsLetter, false, i, j))
			}
		}
		return append(buf, mkUnit(sepSpace, clsSep, false, i, j))
	}
	switch {
	case unicode.IsLetter(r):
		// A letter of another script: kept (lower-cased) so that it still
		// joins its word and never matches an English rule.
		var b [utf8.UTFMax]byte
		n := utf8.EncodeRune(b[:], unicode.ToLower(r))
		for k := 0; k < n; k++ {
			buf = append(buf, mkUnit(b[k], clsLetter, false, i, j))
		}
		return buf
	case unicode.IsDigit(r):
		return append(buf, mkUnit('0', clsDigit, false, i, j))
	case r == '…' || r == '。' || r == '\u2028' || r == '\u2029':
		return append(buf, mkUnit(sepSentence, clsSep, false, i, j))
	case r == '–' || r == '—' || r == '、':
		return append(buf, mkUnit(sepClause, clsSep, false, i, j))
	case r == '“' || r == '«' || r == '„':
		u := mkUnit(sepSpace, clsSep, false, i, j)
		u.quote = 1
		return append(buf, u)
	case r == '”' || r == '»':
		u := mkUnit(sepSpace, clsSep, false, i, j)
		u.quote = -1
		return append(buf, u)
	}
	return append(buf, mkUnit(sepSpace, clsSep, false, i, j))
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

	singleRun int  // single-letter tokens in a row, thinly separated
	spaced    bool // a run of 3 or more: collapse has work to do
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
		for p, b := range word {
			if b < 128 && leetMap[b] != 0 {
				word[p] = leetMap[b]
			}
		}
		c.e = c.s + int32(squeezeInPlace(word))
		t.norm = t.norm[:c.e]
		word = t.norm[c.s:c.e]
	}
	if !t.hasLetter && t.firstCls == clsDigit {
		c.num = true
		for _, b := range word {
			if b < '0' || b > '9' {
				c.num = false
				break
			}
		}
		// Two digits or more, ignoring leading zeros: 10 and up.
		z := 0
		for z < len(word)-1 && word[z] == '0' {
			z++
		}
		c.many = c.num && len(word)-z >= 2
	}
	c.single = t.nUnits == 1 && (t.firstCls == clsLetter || (t.firstCls == clsDigit && leetMap[word[0]] != 0))
	t.inTok = false
	switch {
	case !c.single:
		t.singleRun = 0
	case t.singleRun > 0 && c.thin:
		t.singleRun++
		t.spaced = t.spaced || t.singleRun >= 3
	default:
		t.singleRun = 1
	}
	// Look the word up now, while it is at hand; collapse redoes only the
	// words it merges.
	c.id = t.cl.lookupAt(t.norm, c.s, c.e)
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
		b := text[i]
		if b < utf8.RuneSelf {
			if l := b | 0x20; l < 'a' || l > 'z' {
				switch u := &asciiUnits[b]; u.cls {
				case clsSep:
					if b == ' ' { // t.sep(sepSpace, true, 0), inlined
						if t.inTok {
							t.finish()
						}
						t.sepMax = max(t.sepMax, sepSpace)
						t.sepCount++
						t.sepThin = true
						t.prevCls = clsSep
						break
					}
					t.sep(u.c, u.thin, u.quote) // what feed would do, without the detour
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
				i++
				continue
			}
			// A run of ASCII letters: the hot path, kept in locals and
			// written into spare capacity (grown first if need be).
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
		// An unclosed quotation mark (5'10", a stray ") quotes nothing.
		for k := t.quoteFrom; k < len(t.toks); k++ {
			t.toks[k].quoted = false
		}
	}
	sc.norm, sc.toks = t.norm, t.toks
	if t.spaced {
		cl.collapse(sc)
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
		m.e = m.s + int32(squeezeInPlace(w)) // leaves a hole after it
		// "I have a k n i f e": a leading article or pronoun written next
		// to a spaced-out word is usually its own word. Keep it apart when
		// the rest is a word we know and the whole is not.
		if c := sc.norm[m.s]; (c == 'a' || c == 'i') && j-i >= 4 {
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

// isASCII reports whether text is plain ASCII, eight bytes at a time.
func isASCII(text string) bool {
	i := 0
	for ; i+8 <= len(text); i += 8 {
		t := text[i : i+8]
		if (t[0]|t[1]|t[2]|t[3]|t[4]|t[5]|t[6]|t[7])&0x80 != 0 {
			return false
		}
	}
	for ; i < len(text); i++ {
		if text[i]&0x80 != 0 {
			return false
		}
	}
	return true
}

// normalizeASCII is normalize for plain-ASCII text, the common case: the
// same tokens (TestNormalizeMatchesReference holds it to that), from one
// loop that keeps its state in local variables and writes each token once,
// complete, with its vocabulary id. It alternates between separators and
// words; a word runs until a byte that cannot continue it.
func (cl *compiled) normalizeASCII(text string, sc *scratch) {
	norm := sc.norm[:0]
	if cap(norm) < len(text)+8 {
		norm = make([]byte, 0, len(text)+len(text)/2+64)
	}
	buf := norm[:cap(norm)] // a word writes at most one byte per input byte
	n := 0
	toks := sc.toks[:0]
	var (
		sepMax    uint8
		sepCount  int
		sepThin   bool
		inQuote   bool
		quoteFrom int
		singleRun int
		spaced    bool
	)
	L := len(text)
	for i := 0; i < L; {
		// Separators.
		b := text[i]
		u := &asciiUnits[b]
		cls := u.cls
		switch {
		case cls == clsLetter || cls == clsDigit:
		case cls == clsLeet && b == '$' && i+1 < L && asciiUnits[text[i+1]].cls == clsLetter:
		default:
			s, thin, quote := u.c, u.thin, u.quote
			switch cls {
			case clsLeet: // not inside a word: it separates ("wow!")
				s, thin, quote = sepSpace, false, 0
				if b == '!' {
					s = sepSentence
				}
			case clsApos:
				s, thin, quote = sepSpace, false, 0
			}
			sepMax = max(sepMax, s)
			if quote == 2 {
				if !inQuote {
					inQuote, quoteFrom = true, len(toks)
				} else {
					inQuote = false
				}
			}
			sepCount++
			sepThin = thin
			i++
			continue
		}

		// A word, written in place: a token assembled aside and copied in
		// costs a store-forwarding stall.
		if len(toks) == 0 {
			sepMax = sepNone
		}
		toks = append(toks, token{})
		tk := &toks[len(toks)-1]
		tk.s, tk.os, tk.sep, tk.thin, tk.quoted = int32(n), int32(i), sepMax, sepCount == 1 && sepThin, inQuote
		sepMax, sepCount, sepThin = 0, 0, false
		firstCls := cls
		var hasLetter, sawLeet bool
		var prevCls uint8
		var last byte
		units := 0
	word:
		for i < L {
			b := text[i]
			if l := lowerLetter[b]; l != 0 {
				// A run of letters, squeezed as it is copied.
				start := i
				for {
					if l != last {
						buf[n] = l
						n++
						last = l
					}
					if i++; i >= L {
						break
					}
					if l = lowerLetter[text[i]]; l == 0 {
						break
					}
				}
				units += i - start
				hasLetter, prevCls = true, clsLetter
				tk.oe = int32(i)
				continue
			}
			switch asciiUnits[b].cls {
			case clsDigit:
			case clsLeet:
				// Inside a word a leet symbol is a letter ("k!ll", "my$elf").
				var nc uint8
				if i+1 < L {
					nc = asciiUnits[text[i+1]].cls
				}
				prevW := prevCls == clsLetter || prevCls == clsDigit
				if !(prevW && (nc == clsLetter || nc == clsDigit || nc == clsLeet)) && !(b == '$' && nc == clsLetter) {
					break word
				}
			case clsApos:
				// "don't" -> "dont"; a quote mark elsewhere separates.
				if (prevCls == clsLetter || prevCls == clsDigit) && i+1 < L && asciiUnits[text[i+1]].cls == clsLetter {
					prevCls = clsApos
					i++
					tk.oe = int32(i)
					continue
				}
				break word
			default:
				break word
			}
			// A digit or an in-word leet symbol.
			buf[n] = b
			n++
			last = 0
			units++
			sawLeet, prevCls = true, asciiUnits[b].cls
			i++
			tk.oe = int32(i)
		}
		// Finish the word (as tokenizer.finish).
		word := buf[tk.s:n]
		if sawLeet && hasLetter && firstCls != clsDigit {
			for p, c := range word {
				if leetMap[c] != 0 {
					word[p] = leetMap[c]
				}
			}
			n = int(tk.s) + squeezeInPlace(word)
			word = buf[tk.s:n]
		}
		if !hasLetter && firstCls == clsDigit {
			tk.num = true
			for _, c := range word {
				if c < '0' || c > '9' {
					tk.num = false
					break
				}
			}
			z := 0
			for z < len(word)-1 && word[z] == '0' {
				z++
			}
			tk.many = tk.num && len(word)-z >= 2
		}
		tk.e = int32(n)
		tk.single = units == 1 && (firstCls == clsLetter || (firstCls == clsDigit && leetMap[word[0]] != 0))
		switch {
		case !tk.single:
			singleRun = 0
		case singleRun > 0 && tk.thin:
			singleRun++
			spaced = spaced || singleRun >= 3
		default:
			singleRun = 1
		}
		tk.id = cl.lookupAt(buf, tk.s, tk.e)
	}
	if inQuote {
		// An unclosed quotation mark (5'10", a stray ") quotes nothing.
		for k := quoteFrom; k < len(toks); k++ {
			toks[k].quoted = false
		}
	}
	sc.norm, sc.toks = buf[:n], toks
	if spaced {
		cl.collapse(sc)
	}
}
