package crisis

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
// pass over the bytes that needs no units and writes each token once,
// complete, with its vocabulary id. It alternates between separators and
// words; a word runs until a byte that cannot continue it.
func (cl *compiled) normalizeASCII(text string, sc *scratch) {
	norm := sc.norm[:0]
	if cap(norm) < len(text)+8 {
		norm = make([]byte, 0, len(text)+len(text)/2+64)
	}
	// A word writes at most one byte per input byte.
	p := asciiPass{text: text, buf: norm[:cap(norm)], toks: sc.toks[:0]}
	for i := p.separators(0); i < len(text); i = p.separators(i) {
		i = p.word(cl, i)
	}
	if p.inQuote {
		unquote(p.toks[p.quoteFrom:])
	}
	sc.norm, sc.toks = p.buf[:p.n], p.toks
	if p.run.spaced {
		cl.collapse(sc)
	}
}

// asciiPass is normalizeASCII's state between words.
type asciiPass struct {
	text string
	buf  []byte // the normalised bytes are buf[:n]
	n    int
	toks []token

	sepMax    uint8 // strongest separator since the last word
	sepCount  int   // separators since the last word
	sepThin   bool  // the last of them is thin
	inQuote   bool
	quoteFrom int // the first token of the open quotation
	run       spacedRun
}

// asciiWord is the state of the word being read.
type asciiWord struct {
	firstCls  uint8 // class of the word's first byte
	prevCls   uint8 // class of the previous byte, for leet and apostrophes
	hasLetter bool
	sawLeet   bool // the word holds digits or leet symbols
	units     int  // bytes in the word, before squeezing
}

// startsWord reports whether text[i] starts a word: a letter, a digit, or
// a "$" before a letter ("$elf").
func startsWord(text string, i int) bool {
	b := text[i]
	switch asciiUnits[b].cls {
	case clsLetter, clsDigit:
		return true
	case clsLeet:
		return b == '$' && i+1 < len(text) && asciiUnits[text[i+1]].cls == clsLetter
	}
	return false
}

// separators notes the bytes between words from text[i] on and returns
// where the next word starts.
func (p *asciiPass) separators(i int) int {
	text := p.text
	sepMax, sepCount, sepThin := p.sepMax, p.sepCount, p.sepThin
	for ; i < len(text) && !startsWord(text, i); i++ {
		b := text[i]
		u := &asciiUnits[b]
		s, thin, quote := u.c, u.thin, u.quote
		switch u.cls {
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
			if !p.inQuote {
				p.inQuote, p.quoteFrom = true, len(p.toks)
			} else {
				p.inQuote = false
			}
		}
		sepCount++
		sepThin = thin
	}
	p.sepMax, p.sepCount, p.sepThin = sepMax, sepCount, sepThin
	return i
}

// openToken starts the token of a word at text[i], written in place: a
// token assembled aside and copied in costs a store-forwarding stall.
func (p *asciiPass) openToken(i int) *token {
	if len(p.toks) == 0 {
		p.sepMax = sepNone
	}
	p.toks = append(p.toks, token{})
	tk := &p.toks[len(p.toks)-1]
	tk.s, tk.os, tk.sep, tk.thin, tk.quoted = int32(p.n), int32(i), p.sepMax, p.sepCount == 1 && p.sepThin, p.inQuote
	p.sepMax, p.sepCount, p.sepThin = 0, 0, false
	return tk
}

// word reads the word that starts at text[i] into a new token, finishes
// the token and returns where the word ends.
func (p *asciiPass) word(cl *compiled, i int) int {
	tk := p.openToken(i)
	text, buf, n := p.text, p.buf, p.n
	w := asciiWord{firstCls: asciiUnits[text[i]].cls}
	var last byte // the last letter written, for squeezing ("killll" -> "kil")
read:
	for i < len(text) {
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
				if i++; i >= len(text) {
					break
				}
				if l = lowerLetter[text[i]]; l == 0 {
					break
				}
			}
			w.units += i - start
			w.hasLetter, w.prevCls = true, clsLetter
			tk.oe = int32(i)
			continue
		}
		switch asciiUnits[b].cls {
		case clsDigit:
		case clsLeet:
			if !w.leetInWord(text, i) {
				break read
			}
		case clsApos:
			if !w.aposInWord(text, i) {
				break read
			}
			w.prevCls = clsApos
			i++
			tk.oe = int32(i)
			continue
		default:
			break read
		}
		// A digit or an in-word leet symbol.
		buf[n] = b
		n++
		last = 0
		w.units++
		w.sawLeet, w.prevCls = true, asciiUnits[b].cls
		i++
		tk.oe = int32(i)
	}
	p.n = n
	p.closeToken(cl, tk, &w)
	return i
}

// leetInWord reports whether the leet symbol text[i] is a letter of the
// word ("k!ll", "my$elf"); elsewhere it separates ("wow!").
func (w *asciiWord) leetInWord(text string, i int) bool {
	var nc uint8 // the class of the byte after it
	if i+1 < len(text) {
		nc = asciiUnits[text[i+1]].cls
	}
	prevW := w.prevCls == clsLetter || w.prevCls == clsDigit
	return (prevW && (nc == clsLetter || nc == clsDigit || nc == clsLeet)) || (text[i] == '$' && nc == clsLetter)
}

// aposInWord reports whether the apostrophe text[i] sits inside a word,
// where it vanishes ("don't" -> dont); elsewhere it separates.
func (w *asciiWord) aposInWord(text string, i int) bool {
	return (w.prevCls == clsLetter || w.prevCls == clsDigit) && i+1 < len(text) && asciiUnits[text[i+1]].cls == clsLetter
}

// closeToken finishes the word's token (as tokenizer.finish does) and looks
// it up.
func (p *asciiPass) closeToken(cl *compiled, tk *token, w *asciiWord) {
	word := p.buf[tk.s:p.n]
	if w.sawLeet && w.hasLetter && w.firstCls != clsDigit {
		p.n = int(tk.s) + unleet(word)
		word = p.buf[tk.s:p.n]
	}
	if !w.hasLetter && w.firstCls == clsDigit {
		tk.num, tk.many = numberFlags(word)
	}
	tk.e = int32(p.n)
	tk.single = w.units == 1 && (w.firstCls == clsLetter || (w.firstCls == clsDigit && leetMap[word[0]] != 0))
	p.run.add(tk.single, tk.thin)
	tk.id = cl.lookupAt(p.buf, tk.s, tk.e)
}
