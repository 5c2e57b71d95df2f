package crisis

import (
	"math/bits"
	"math/rand/v2"
	"testing"
)

// refLookup is the original lookup: the vocabulary, then a scan of the fuzzy
// words for one within one edit. The hash table's precomputed misspellings
// must give the same answers.
func (cl *compiled) refLookup(b []byte) int32 {
	if id, ok := cl.vocab[string(b)]; ok {
		return id
	}
	return cl.refFuzzyLookup(b)
}

// refFuzzyLookup resolves a token that is not in the vocabulary to a fuzzy
// word one edit away ("suicdie", "sucide", "myslef"), or -1. A letter-bag
// comparison rejects almost every candidate before the edit check.
func (cl *compiled) refFuzzyLookup(b []byte) int32 {
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

func TestLookupTableMatchesFuzzyScan(t *testing.T) {
	cl := sharedDetector().c
	devowel := map[string]bool{}
	for _, d := range cl.devowel {
		for _, v := range devowelForms(d.w) {
			devowel[v] = true
		}
	}
	check := func(w string) {
		b := []byte(w)
		got := cl.lookup(b)
		if devowel[w] {
			if _, inVocab := cl.vocab[w]; !inVocab {
				return // a vowel-dropped form: not the fuzzy scan's business
			}
		}
		if want := cl.refLookup(b); got != want {
			t.Fatalf("%q: table gives %d, scan gives %d", w, got, want)
		}
	}
	for _, w := range cl.words {
		check(w)
	}
	for _, f := range cl.fuzzy {
		for _, v := range oneEditForms(f.w) {
			check(v)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for n := 0; n < 200000; n++ {
		f := cl.fuzzy[rng.IntN(len(cl.fuzzy))].w
		b := []byte(f)
		for k := rng.IntN(3); k >= 0; k-- {
			i := rng.IntN(len(b))
			switch rng.IntN(3) {
			case 0:
				b[i] = byte('a' + rng.IntN(26))
			case 1:
				b = append(b[:i], b[i+1:]...)
			default:
				b = append(b[:i], append([]byte{byte('a' + rng.IntN(26))}, b[i:]...)...)
			}
		}
		check(string(b))
	}
}
