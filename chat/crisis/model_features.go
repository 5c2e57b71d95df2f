package crisis

// The statistical model (model.go) reads a message as a bag of hashed
// features of its NORMALISED tokens (normalize.go), so that it sees the
// same folded, unleeted, squeezed words the rules see ("k1lll" is "kil"):
//
//   - every word, as a different feature after a negation in its clause
//     ("not" ... "die");
//   - every pair of neighbouring words within a sentence, and every pair
//     two or three words apart there (a skip pair: "pills ... tonight" is
//     one feature whatever stands between them);
//   - every character 4-gram of every word but a number, with "^" and "$"
//     marking its ends ("^kil", "kill", "ill$"), so that an unseen
//     inflection or misspelling still shares most of its features with a
//     known word.
//     (3-grams as well were a third more features, so a third more random
//     reads of the weights, for no better cross-validated recall: 4-grams
//     alone scored 0.930 against 0.928 on corpus A-H, and 55 imminent
//     messages below high against 65.)
//
// A number is read as a word when it has at most maxNumWord digits ("40
// units", "32 of them"), and as one feature standing for any longer
// number; a code (isCode: a hash, a token, a tracking number) is one
// feature standing for any code. Their characters say nothing about risk,
// yet their n-grams landed in buckets the training had weighted: a load
// test's bodies ("1796419950568762562 xxx…") were all raised to high on
// the days their timestamps began with those digits, and one random hex
// string in a thousand was.
//
// Each feature is hashed to one of 1<<bits buckets. Only the bytes of the
// normalised text are hashed, never the lexicon's word ids, so that a
// lexicon edit does not change what the model reads (the emoji the lexicon
// maps to words are the one exception). featureVersion names this scheme in
// the model file: change it with any change here, and retrain.
const featureVersion = 5

// maxGramWord bounds the bytes of one word that character n-grams are
// taken from: a 300-letter "word" (a URL, a key mash) is not 600 features.
const maxGramWord = 24

// maxNumWord is the most digits a number has and still be read as a word.
const maxNumWord = 4

// Feature kinds, mixed into the hash so that the word "die" and the 4-gram
// "^die" are different features.
const (
	tagWord    = 0x77 << 56
	tagBigram  = 0x62 << 56
	tagGram    = 0x63 << 56
	tagNegWord = 0x6e << 56
	tagSkip    = 0x73 << 56
	tagLongNum = 0x6c << 56 // the word hash of every number of more than maxNumWord digits
	tagCode    = 0x6b << 56 // the word hash of every code (isCode)
)

// negator reports whether a normalised word negates what follows it in
// its clause.
func negator(w []byte) bool {
	switch string(w) {
	case "not", "no", "never", "dont", "cant", "wont", "didnt", "isnt", "aint", "nt", "doesnt", "wouldnt", "couldnt", "shouldnt", "nothing", "nobody", "without":
		return true
	}
	return false
}

// mix64 is a strong 64-bit finaliser (from SplitMix64).
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// appendFeatures appends the bucket of every feature of the tokens to dst,
// in order of appearance, duplicates included. It is on every message's
// path: dst is grown once, then written by index.
func appendFeatures(dst []uint32, text string, norm []byte, toks []token, bits uint8) []uint32 {
	shift := 64 - bits
	n, need := len(dst), len(dst)+4*len(toks)+2*len(norm)
	if cap(dst) < need {
		dst = append(dst[:cap(dst)], make([]uint32, need-cap(dst))...)
	}
	out := dst[:need]
	var prev, prev2, prev3 uint64
	sent := 0 // tokens of the current sentence so far
	neg := false
	for i := range toks {
		t := &toks[i]
		w := norm[t.s:t.e]
		if len(w) == 0 {
			continue
		}
		if t.sep >= sepClause {
			neg = false
		}
		var h uint64
		switch {
		case t.num && len(w) > maxNumWord:
			h = tagLongNum
		case t.oe-t.os >= minCode && isCode(text[t.os:t.oe]):
			h = tagCode
		case t.num:
			h = wordHash(w)
		default:
			h, n = grams(out, n, w, shift)
		}
		tag := uint64(tagWord)
		if neg {
			tag = tagNegWord
		}
		out[n] = uint32(mix64(h^tag) >> shift)
		n++
		if negator(w) {
			neg = true
		}
		if i == 0 || t.sep >= sepSentence {
			sent = 0
		}
		if sent >= 1 {
			out[n] = uint32(mix64((prev*0x9e3779b97f4a7c15)^h^tagBigram) >> shift)
			n++
		}
		if sent >= 2 {
			out[n] = uint32(mix64((prev2*0xc2b2ae3d27d4eb4f)^h^tagSkip) >> shift)
			n++
		}
		if sent >= 3 {
			out[n] = uint32(mix64((prev3*0xc2b2ae3d27d4eb4f)^h^tagSkip) >> shift)
			n++
		}
		sent++
		prev3, prev2, prev = prev2, prev, h
	}
	return out[:n]
}

// minCode is the fewest bytes a code has (isCode).
const minCode = 8

// isCode reports whether a token of the original text, at least minCode
// bytes long, is a code rather than a word: a hash, a token, a tracking
// number, a video's id in a link. It mixes letters with at least four
// digits, or changes from lower to upper case twice with a digit among
// them. Leetspeak ("k1ll", "su1c1d3") stays a word; the rules read those
// either way.
func isCode(tok string) bool {
	var digits, letters, ups int
	lower := false
	for i := 0; i < len(tok); i++ {
		switch c := tok[i]; {
		case c >= '0' && c <= '9':
			digits++
			lower = false
		case c >= 'a' && c <= 'z':
			letters++
			lower = true
		case c >= 'A' && c <= 'Z':
			letters++
			if lower {
				ups++
			}
			lower = false
		}
	}
	return letters >= 2 && (digits >= 4 || digits >= 1 && ups >= 2)
}

// The 64-bit FNV-1a hash of a word, which wordHash and grams compute.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// wordHash is the FNV-1a hash of a word, as grams returns it.
func wordHash(w []byte) uint64 {
	h := uint64(fnvOffset)
	for _, c := range w {
		h = (h ^ uint64(c)) * fnvPrime
	}
	return h
}

// grams writes the character 4-grams of "^" + w + "$" (of its first
// maxGramWord bytes) into out from n on, and returns the hash of the whole
// word (FNV-1a) and the new n.
func grams(out []uint32, n int, w []byte, shift uint8) (uint64, int) {
	h := uint64(fnvOffset)
	win := uint64('^') // the last four bytes of the padded word, newest lowest
	for i, c := range w {
		h = (h ^ uint64(c)) * fnvPrime
		if i >= maxGramWord {
			continue
		}
		win = (win<<8 | uint64(c)) & 0xffffffff
		if i >= 2 {
			out[n] = gram(win|4<<32, shift)
			n++
		}
	}
	win = (win<<8 | '$') & 0xffffffff
	if len(w) >= 2 {
		out[n] = gram(win|4<<32, shift)
		n++
	}
	return h, n
}

// gram hashes a packed n-gram by one multiplication (its top bits mix
// every bit of the key).
func gram(key uint64, shift uint8) uint32 {
	return uint32(((key | tagGram) * 0x9e3779b97f4a7c15) >> shift)
}
