package crisis

import (
	"fmt"
	"strings"
	"testing"
)

// TestModelExplain: an operator reading ModelDetector.Explain sees the
// model's probabilities, whether it raised the rules' verdict and from
// what, and ends on the very verdict Detect returns.
func TestModelExplain(t *testing.T) {
	tiny, err := LoadLexicon(strings.NewReader("signal zorblax self_harm high = zorblax\n"))
	if err != nil {
		t.Fatal(err)
	}
	const msg = "i am going to kill myself tonight, i have saved up the pills and wrote my goodbye letters"
	cases := []struct {
		name  string
		d     *ModelDetector
		text  string
		wants []string
	}{
		// The tiny lexicon finds nothing: the model alone raises it.
		{"raised", NewModelDetector(NewRuleDetector(tiny), DefaultModel()), msg,
			[]string{"rules say  none", "model      imminent       p=", "(strict: the rules found nothing)", "RAISED the verdict from none to "}},
		{"not raised", NewDetector(nil), "I want to d1e tonight",
			[]string{"rules say  high", "model      high+          p=", "did not raise the rules' high"}},
		{"no model", NewModelDetector(nil, nil), "I want to d1e tonight",
			[]string{"rules say  high", "model      none (the rules alone)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.d.Explain(c.text)
			for _, w := range c.wants {
				if !strings.Contains(got, w) {
					t.Errorf("lacks %q:\n%s", w, got)
				}
			}
			v := c.d.Detect(c.text)
			last := fmt.Sprintf("  => %s %v %s\n", v.Severity, v.Categories, v.About)
			if !strings.HasSuffix(got, last) || strings.Count(got, "=> ") != 1 {
				t.Errorf("does not end on Detect's verdict %q alone:\n%s", last, got)
			}
		})
	}
}
