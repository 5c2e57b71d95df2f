package crisis

import (
	"fmt"
	"math"
	"strings"
)

// Explain shows how the detector reads text: the rules' explanation
// (RuleDetector.Explain), then the model's part, so that an operator can
// see why a message was flagged: every head's probability beside the
// probability it must reach (the strict one when the rules found nothing),
// what the model alone would say, and whether it raised the rules' verdict
// and from what. The last line is the verdict Detect returns. The format
// is for people and may change. It is a tool, not the hot path: it
// allocates freely.
func (d *ModelDetector) Explain(text string) string {
	var b strings.Builder
	rules := d.rules.Explain(text)
	// The rules' verdict line becomes "rules say"; the last line is Detect's.
	if i := strings.LastIndex(rules, "  => "); i >= 0 {
		rules = rules[:i] + "  rules say  " + rules[i+len("  => "):]
	}
	b.WriteString(rules)
	rv := d.rules.Detect(text)
	v := d.Detect(text)
	if d.model == nil {
		b.WriteString("  model      none (the rules alone)\n")
		fmt.Fprintf(&b, "  => %s %v %s\n", v.Severity, v.Categories, v.About)
		return b.String()
	}
	sc := newScratch()
	d.rules.c.normalize(text, sc)
	feats := appendFeatures(nil, text, sc.norm, sc.toks, d.model.bits)
	lg := d.model.score(feats)
	strict := rv.Severity == None
	for h := range numHeads {
		fmt.Fprintf(&b, "  model      %-14s p=%.3f  needs %s\n", headName(h), sigmoid(lg[h]), d.model.needs(h, strict))
	}
	mv := d.model.decide(&lg, strict)
	fmt.Fprintf(&b, "  model      alone: %s %v%s\n", mv.sev, categoryList(mv.cats), map[bool]string{true: " other"}[mv.other])
	if v.Severity > rv.Severity {
		fmt.Fprintf(&b, "  model      RAISED the verdict from %s to %s\n", rv.Severity, v.Severity)
	} else {
		fmt.Fprintf(&b, "  model      did not raise the rules' %s\n", rv.Severity)
	}
	fmt.Fprintf(&b, "  => %s %v %s\n", v.Severity, v.Categories, v.About)
	return b.String()
}

// headName names head h for Explain.
func headName(h int) string {
	switch {
	case h == headConcern:
		return "concern+"
	case h == headHigh:
		return "high+"
	case h == headImminent:
		return "imminent"
	case h == headOther:
		return "about other"
	default:
		return string(KnownCategories[h-headCat0])
	}
}

// needs describes the probability head h must reach to say yes: its
// strict threshold for a severity head when strict (the rules found
// nothing), its ordinary one otherwise.
func (m *Model) needs(h int, strict bool) string {
	t := m.heads[h].thresh
	label := ""
	if strict && h <= headImminent {
		t = max(t, m.heads[h].strict)
		label = " (strict: the rules found nothing)"
	}
	if math.IsInf(float64(t), 1) {
		return "never" + label
	}
	return fmt.Sprintf(">= %.3f%s", sigmoid(float64(t)), label)
}
