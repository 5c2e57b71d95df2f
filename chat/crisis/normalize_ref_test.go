package crisis

// The original three-pass normaliser (units, tokens, collapse), kept as a
// reference: TestNormalizeMatchesReference checks that the fused
// single-pass normaliser (normalize.go, normalize_ascii.go) produces the
// same tokens.

import (
	"unicode"
	"unicode/utf8"
)

func wordish(cls uint8) bool { return cls == clsLetter || cls == clsDigit }

func refMkUnit(c byte, cls uint8, thin bool, os, oe int) unit {
	return unit{c: c, cls: cls, thin: thin, os: int32(os), oe: int32(oe)}
}

// toUnits is pass 1. It appends to a local slice (appending through the
// scratch pointer would reload and store the slice header for every byte)
// and counts the ambiguous units that pass 2 must resolve.
func (cl *compiled) refToUnits(text string, sc *scratch) {
	units := sc.units[:0]
	ambiguous := 0
	for i := 0; i < len(text); {
		b := text[i]
		if b < utf8.RuneSelf {
			switch {
			case b >= 'a' && b <= 'z':
				units = append(units, unit{c: b, cls: clsLetter, os: int32(i), oe: int32(i + 1)})
			case b >= '0' && b <= '9':
				units = append(units, refMkUnit(b, clsDigit, false, i, i+1))
			case b >= 'A' && b <= 'Z':
				units = append(units, refMkUnit(b+'a'-'A', clsLetter, false, i, i+1))
			case b == '\'' || b == '`':
				units = append(units, refMkUnit(b, clsApos, false, i, i+1))
				ambiguous++
			case b == '@' || b == '$' || b == '!' || b == '|':
				units = append(units, refMkUnit(b, clsLeet, false, i, i+1))
				ambiguous++
			default:
				s := asciiSep[b]
				if s == 0 {
					s = sepSpace
				}
				units = append(units, refMkUnit(s, clsSep, thinSep[b], i, i+1))
				if b == '"' {
					units[len(units)-1].quote = 2
				}
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		j := i + size
		switch {
		case r == utf8.RuneError && size == 1:
			units = append(units, refMkUnit(sepSpace, clsSep, false, i, j))
		case invisible(r):
			// Dropped: no unit, no word break.
		case r == '\u2019' || r == '\u2018' || r == '\u02BC' || r == '\u2032' || r == '\uFF07':
			units = append(units, refMkUnit('\'', clsApos, false, i, j))
			ambiguous++
		default:
			if f := foldLetter(r); f != 0 {
				cls := clsLetter
				if f >= 'A' && f <= 'Z' {
					f += 'a' - 'A'
				} else if f >= '0' && f <= '9' {
					cls = clsDigit
				} else if f < 'a' || f > 'z' {
					// A folded fullwidth punctuation mark.
					if f == '\'' {
						cls = clsApos
						ambiguous++
					} else if f == '@' || f == '$' || f == '!' || f == '|' {
						cls = clsLeet
						ambiguous++
					} else {
						s := asciiSep[f]
						if s == 0 {
							s = sepSpace
						}
						units = append(units, refMkUnit(s, clsSep, false, i, j))
						break
					}
				}
				units = append(units, refMkUnit(f, cls, false, i, j))
				break
			}
			if w, ok := cl.emoji[r]; ok {
				// An emoji that stands for a word ("🔪" -> knife) becomes
				// that word, set apart from its neighbours.
				units = append(units, refMkUnit(sepSpace, clsSep, false, i, j))
				for k := 0; k < len(w); k++ {
					c := w[k]
					if c == ' ' {
						units = append(units, refMkUnit(sepSpace, clsSep, false, i, j))
					} else {
						units = append(units, refMkUnit(c, clsLetter, false, i, j))
					}
				}
				units = append(units, refMkUnit(sepSpace, clsSep, false, i, j))
				break
			}
			switch {
			case unicode.IsLetter(r):
				// A letter of another script: kept (lower-cased) so that it
				// still separates words and never matches an English rule.
				var buf [utf8.UTFMax]byte
				n := utf8.EncodeRune(buf[:], unicode.ToLower(r))
				for k := 0; k < n; k++ {
					units = append(units, refMkUnit(buf[k], clsLetter, false, i, j))
				}
			case unicode.IsDigit(r):
				units = append(units, refMkUnit('0', clsDigit, false, i, j))
			case r == '…' || r == '。' || r == '！' || r == '？' || r == '\u2028' || r == '\u2029':
				units = append(units, refMkUnit(sepSentence, clsSep, false, i, j))
			case r == '–' || r == '—' || r == '、' || r == '，':
				units = append(units, refMkUnit(sepClause, clsSep, false, i, j))
			case r == '“' || r == '«' || r == '„':
				units = append(units, refMkUnit(sepSpace, clsSep, false, i, j))
				units[len(units)-1].quote = 1
			case r == '”' || r == '»':
				units = append(units, refMkUnit(sepSpace, clsSep, false, i, j))
				units[len(units)-1].quote = -1
			default:
				units = append(units, refMkUnit(sepSpace, clsSep, false, i, j))
			}
		}
		i = j
	}
	sc.units, sc.ambiguous = units, ambiguous > 0
}

// toTokens is pass 2.
func (cl *compiled) refToTokens(sc *scratch) {
	units := sc.units
	// Resolve leet symbols and apostrophes: inside a word they belong to it,
	// elsewhere they separate ("wow!" ends a sentence, "k!ll" is a word).
	for k := 0; sc.ambiguous && k < len(units); k++ {
		u := &units[k]
		switch u.cls {
		case clsLeet:
			prevW := k > 0 && wordish(units[k-1].cls)
			nextW := k+1 < len(units) && (wordish(units[k+1].cls) || units[k+1].cls == clsLeet)
			if (prevW && nextW) || (u.c == '$' && k+1 < len(units) && units[k+1].cls == clsLetter) {
				continue
			}
			s := sepSpace
			if u.c == '!' {
				s = sepSentence
			}
			u.c, u.cls = s, clsSep
		case clsApos:
			if k > 0 && wordish(units[k-1].cls) && k+1 < len(units) && units[k+1].cls == clsLetter {
				continue
			}
			u.c, u.cls = sepSpace, clsSep
		}
	}

	norm, toks := sc.norm[:0], sc.toks[:0]
	var (
		sepMax    uint8
		sepCount  int
		sepThin   bool
		inQuote   bool
		quoteFrom int
	)
	for k := 0; k < len(units); {
		u := &units[k]
		if u.cls == clsSep {
			if u.c > sepMax {
				sepMax = u.c
			}
			switch {
			case u.quote == 1 || (u.quote == 2 && !inQuote):
				inQuote, quoteFrom = true, len(toks)
			case u.quote == -1 || u.quote == 2:
				inQuote = false
			}
			sepCount++
			sepThin = u.thin
			k++
			continue
		}
		// A word: units up to the next separator.
		cur := token{s: int32(len(norm)), os: u.os, sep: sepMax, thin: sepCount == 1 && sepThin, quoted: inQuote, id: -1}
		if len(toks) == 0 {
			cur.sep = sepNone
		}
		sepMax, sepCount, sepThin = 0, 0, false
		firstCls := u.cls
		hasLetter := false
		nUnits := 0
		for ; k < len(units) && units[k].cls != clsSep; k++ {
			w := &units[k]
			cur.oe = w.oe
			if w.cls == clsApos {
				continue // "don't" -> "dont"
			}
			nUnits++
			if w.cls == clsLetter {
				hasLetter = true
			}
			norm = append(norm, w.c)
		}
		cur.e = int32(len(norm))
		word := norm[cur.s:cur.e]
		if hasLetter && firstCls != clsDigit {
			for p, c := range word {
				if c < 128 && leetMap[c] != 0 {
					word[p] = leetMap[c]
				}
			}
		}
		if !hasLetter && firstCls == clsDigit {
			cur.num = true
			for _, c := range word {
				if c < '0' || c > '9' {
					cur.num = false
					break
				}
			}
			// Two digits or more, ignoring leading zeros: 10 and up.
			z := 0
			for z < len(word)-1 && word[z] == '0' {
				z++
			}
			cur.many = cur.num && len(word)-z >= 2
		}
		cur.single = nUnits == 1 && (firstCls == clsLetter || (firstCls == clsDigit && leetMap[word[0]] != 0))
		toks = append(toks, cur)
	}
	if inQuote {
		// An unclosed quotation mark (5'10", a stray ") quotes nothing.
		for k := quoteFrom; k < len(toks); k++ {
			toks[k].quoted = false
		}
	}
	sc.norm, sc.toks = norm, toks
}

// collapse is pass 3: re-join spaced-out letters, then squeeze repeated
// letters and look every token up in the vocabulary.
func (cl *compiled) refCollapse(sc *scratch) {
	toks := sc.toks
	out := toks[:0]
	for i := 0; i < len(toks); {
		j := i + 1
		if toks[i].single {
			for j < len(toks) && toks[j].single && toks[j].thin {
				j++
			}
		}
		if j-i < 3 || !cl.refMostlyLetters(sc, toks[i:j]) {
			for ; i < j; i++ {
				if len(out) != i {
					out = append(out, toks[i])
				} else {
					out = out[:i+1] // in place: nothing has merged yet
				}
			}
			continue
		}
		// A spaced-out word. Its digits are leetspeak ("k 1 l l").
		m := toks[i]
		m.e, m.oe, m.single = toks[j-1].e, toks[j-1].oe, false
		for p := m.s; p < m.e; p++ {
			if c := sc.norm[p]; c < 128 && leetMap[c] != 0 && c <= '9' {
				sc.norm[p] = leetMap[c]
			}
		}
		// "I have a k n i f e": a leading article or pronoun written next to
		// a spaced-out word is usually its own word. Keep it apart when the
		// rest is a word we know and the whole is not.
		if c := sc.norm[m.s]; (c == 'a' || c == 'i') && j-i >= 4 {
			if cl.refSqueezedID(sc, m.s, m.e) < 0 && cl.refSqueezedID(sc, m.s+1, m.e) >= 0 {
				first := toks[i]
				out = append(out, first)
				m.s, m.os, m.sep, m.thin = toks[i+1].s, toks[i+1].os, toks[i+1].sep, toks[i+1].thin
			}
		}
		out = append(out, m)
		i = j
	}
	sc.toks = out

	// Squeeze repeated letters in place (the buffer only shrinks), hashing
	// as we go, and look every token up.
	norm := sc.norm
	w := int32(0)
	for k := range sc.toks {
		t := &sc.toks[k]
		s := w
		var last byte
		for p := t.s; p < t.e; p++ {
			c := norm[p]
			if c == last && c >= 'a' && c <= 'z' {
				continue
			}
			last = c
			norm[w] = c
			w++
		}
		t.s, t.e = s, w
		t.id = cl.lookup(norm[s:w])
	}
	sc.norm = norm[:w]
}

func (cl *compiled) refMostlyLetters(sc *scratch, toks []token) bool {
	n := 0
	for _, t := range toks {
		if c := sc.norm[t.s]; c >= 'a' && c <= 'z' {
			n++
		}
	}
	return n >= 2 && n*2 >= len(toks)
}

// squeezedID looks up norm[s:e] as it would read after squeezing, without
// modifying the buffer.
func (cl *compiled) refSqueezedID(sc *scratch, s, e int32) int32 {
	sc.tmp = sc.tmp[:0]
	for p := s; p < e; p++ {
		c := sc.norm[p]
		if c >= 'a' && c <= 'z' && len(sc.tmp) > 0 && sc.tmp[len(sc.tmp)-1] == c {
			continue
		}
		if c < 128 && c <= '9' && leetMap[c] != 0 {
			c = leetMap[c]
		}
		sc.tmp = append(sc.tmp, c)
	}
	if id, ok := cl.vocab[string(sc.tmp)]; ok {
		return id
	}
	return -1
}

// normalize runs all passes, leaving the tokens in sc.toks.
func (cl *compiled) refNormalize(text string, sc *scratch) {
	cl.refToUnits(text, sc)
	cl.refToTokens(sc)
	cl.refCollapse(sc)
}
