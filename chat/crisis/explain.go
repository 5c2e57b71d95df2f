package crisis

import (
	"fmt"
	"strings"
)

// Explain shows how the detector reads text, for lexicon authors and for
// the failure messages of tests: the normalised tokens (a word missing from
// the vocabulary is marked "?"; " , " and " . " stand for clause and
// sentence breaks), every rule match with its kind, rule id, token range
// and original text, and the verdict. The format is for people and may
// change. `go run ./chat/crisis/cmd/crisis-explain` prints it for lines of
// input.
func (d *RuleDetector) Explain(text string) string {
	sc := newScratch()
	d.c.normalize(text, sc)
	d.c.findMatches(sc)
	var b strings.Builder
	for i, t := range sc.toks {
		if i > 0 {
			b.WriteString([]string{"", " ", " , ", " . "}[t.sep])
		}
		b.Write(sc.norm[t.s:t.e])
		if t.id < 0 {
			b.WriteByte('?')
		}
	}
	b.WriteByte('\n')
	for _, m := range sc.matches {
		d.explainMatch(&b, text, sc, m)
	}
	n := len(sc.matches)
	v := d.c.score(text, sc)
	for _, m := range sc.matches[n:] { // score only appends to matches
		d.explainMatch(&b, text, sc, m) // the risk factors that fired
	}
	fmt.Fprintf(&b, "  => %s %v %s\n", v.Severity, v.Categories, v.About)
	return b.String()
}

// kindName returns the lexicon keyword of kind k.
func kindName(k kind) string {
	for name, kn := range kindNames {
		if kn == k {
			return name
		}
	}
	return ""
}

// explainMatch writes one match: kind, rule id, token range, original text.
func (d *RuleDetector) explainMatch(b *strings.Builder, text string, sc *scratch, m match) {
	r := d.c.rules[m.r]
	fmt.Fprintf(b, "  %-10s %-28s [%d,%d) %q\n", kindName(r.kind), r.id, m.s, m.e, text[sc.toks[m.s].os:sc.toks[m.e-1].oe])
}
