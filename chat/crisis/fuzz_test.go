package crisis

import (
	"slices"
	"strings"
	"sync"
	"testing"
)

// fuzzDetector is the detector the server runs: rules and model.
var fuzzDetector = sync.OnceValue(func() *ModelDetector { return NewModelDetector(sharedDetector(), DefaultModel()) })

// FuzzNormalize feeds the normaliser and the detector arbitrary text (any
// bytes: a message body is only checked to be UTF-8 without NUL, and the
// detector must not rely even on that). Neither may panic; every token
// points into the text and the normalised form, in order; the single-pass
// normaliser agrees with the reference one; and every piece of evidence
// is a byte range of the original message whose Text is that range.
// Seeds: testdata/fuzz/FuzzNormalize.
func FuzzNormalize(f *testing.F) {
	f.Fuzz(func(t *testing.T, text string) {
		cl := sharedDetector().c
		sc := newScratch()
		cl.normalize(text, sc)
		prev := int32(0)
		for i, tk := range sc.toks {
			if tk.os < prev || tk.os > tk.oe || int(tk.oe) > len(text) {
				t.Fatalf("token %d: original range [%d:%d] of %d bytes (previous ends %d)", i, tk.os, tk.oe, len(text), prev)
			}
			if tk.s < 0 || tk.s > tk.e || int(tk.e) > len(sc.norm) {
				t.Fatalf("token %d: normalised range [%d:%d] of %d bytes", i, tk.s, tk.e, len(sc.norm))
			}
			prev = tk.os
		}
		ref := newScratch()
		cl.refNormalize(text, ref)
		if got, want := tokenDump(sc), tokenDump(ref); !slices.Equal(got, want) {
			t.Fatalf("%q:\nreference:\n  %s\nfused:\n  %s", text, strings.Join(want, "\n  "), strings.Join(got, "\n  "))
		}

		v := fuzzDetector().Detect(text)
		if v.Severity < None || v.Severity > Imminent {
			t.Fatalf("severity %v", v.Severity)
		}
		for _, sp := range v.Evidence {
			if sp.Start < 0 || sp.Start > sp.End || sp.End > len(text) || sp.Text != text[sp.Start:sp.End] {
				t.Fatalf("evidence %+v outside %q", sp, text)
			}
		}
	})
}
