package crisis

import (
	"unicode"
	"unicode/utf8"
)

// Folding: how one character of a message becomes units (normalize.go):
// look-alike and styled letters fold to ASCII, leetspeak and punctuation
// are classified, invisible characters vanish, emoji become words.

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
		return emojiUnits(buf, w, i, j)
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

// emojiUnits appends the units of an emoji that stands for the words w
// ("🔪" -> knife), found at text[i:j]: those words, set apart from their
// neighbours.
func emojiUnits(buf []unit, w string, i, j int) []unit {
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
