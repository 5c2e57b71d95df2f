package crisis

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func tokenDump(sc *scratch) []string {
	out := make([]string, len(sc.toks))
	for i, t := range sc.toks {
		out[i] = fmt.Sprintf("%q[%d:%d] sep=%d thin=%v q=%v num=%v many=%v single=%v id=%d",
			sc.norm[t.s:t.e], t.os, t.oe, t.sep, t.thin, t.quoted, t.num, t.many, t.single, t.id)
	}
	return out
}

// TestNormalizeMatchesReference checks the fused single-pass normaliser
// against the original three-pass one on every message we have and on
// random adversarial strings.
func TestNormalizeMatchesReference(t *testing.T) {
	cl := sharedDetector().c
	var texts []string
	for _, f := range []string{"testdata/eval.tsv", "testdata/holdout.tsv"} {
		for _, it := range loadLabelled(t, f) {
			texts = append(texts, it.text)
		}
	}
	texts = append(texts, benchMessages...)
	texts = append(texts, "k i l l myself", "a k n i f e", "i have a k n i f e", "k.i.l.l", "k 1 l l", "ki1l", "my$elf",
		"wow!!! ok", "k!ll", "don't", "'quoted'", "5'10\" tall", "\"I hurt myself today\" hits", "“a” b", "«x»",
		"ｋｉｌｌ ｍｙｓｅｌｆ", "ｄｏｎ＇ｔ", "＂x＂", "｀x", "ⓘ ⓦⓐⓝⓣ", "𝐤𝐢𝐥𝐥", "d\u0337i\u0337e", "ki\u200bll", "\xff\xfeabc",
		"100 pills 007 010 5", "50mg", "3am", "2nite", "i w4nt t0 d13", "$$$", "@@@ @sam", "|||", "a.b.c.d", "u r a s t a r")
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "e", "i", "k", "l", "m", "s", "y", "K", "L", "0", "1", "3", "4", "5", "7", "9",
		" ", " ", " ", ".", ",", "!", "?", "-", "_", "*", "/", "'", "`", "\"", "@", "$", "|", "#", "\n",
		"’", "“", "”", "«", "»", "…", "—", "і", "е", "ο", "ｋ", "１", "！", "＇", "\u200b", "\u0301", "🔪", "💊", "😂", "🎉",
		"é", "ß", "ж", "中", "\xff", "kill", "myself", "die", "ll", "ing"}
	for n := 0; n < 20000; n++ {
		var b strings.Builder
		for k := rng.IntN(14); k >= 0; k-- {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		texts = append(texts, b.String())
	}
	// Plain ASCII takes normalizeASCII: give it its own adversarial mix.
	var ascii []string
	for _, a := range alphabet {
		if isASCII(a) {
			ascii = append(ascii, a)
		}
	}
	ascii = append(ascii, "0", "00", "10", "$elf", "I", "A", "'", "'s", "!!", "\"", "\" ", "a b c", "k.i.l.l", "!a", "a!", "1$", "$1")
	for n := 0; n < 30000; n++ {
		var b strings.Builder
		for k := rng.IntN(16); k >= 0; k-- {
			b.WriteString(ascii[rng.IntN(len(ascii))])
		}
		texts = append(texts, b.String())
	}
	for _, f := range []string{"testdata/holdout2.tsv"} {
		for _, it := range loadLabelled(t, f) {
			texts = append(texts, it.text)
		}
	}
	for _, text := range texts {
		a, b := newScratch(), newScratch()
		cl.refNormalize(text, a)
		cl.normalize(text, b)
		da, db := tokenDump(a), tokenDump(b)
		if strings.Join(da, "\n") != strings.Join(db, "\n") {
			t.Fatalf("%q:\nreference:\n  %s\nfused:\n  %s", text, strings.Join(da, "\n  "), strings.Join(db, "\n  "))
		}
	}
}

func BenchmarkNormalizeReference(b *testing.B) {
	d := NewRuleDetector(nil)
	sc := newScratch()
	msg := benchMessages[0]
	for b.Loop() {
		sc.reset()
		d.c.refNormalize(msg, sc)
	}
}
