package crisis

// ModelDetector is the detector the server runs: the rules, with the
// statistical model (Model) beside them. The rules are the floor: the
// model may raise their verdict (none to concern, or to high or imminent
// when it is confident), never lower it, and it adds categories and who is
// at risk only when the rules named none. A verdict the model raised
// carries an evidence span with rule "model" and no text (the model points
// at no words). Both read the message normalised once. It is immutable and
// safe for concurrent use; a message that raises no alert costs no
// allocation.
type ModelDetector struct {
	rules *RuleDetector
	model *Model
}

// ModelRule is the rule id of the evidence span that records that the
// model raised a verdict.
const ModelRule = "model"

// NewDetector returns the rules compiled from lex (DefaultLexicon when
// nil) with the embedded model beside them: the detector the server runs
// unless told to use the rules alone (NewRuleDetector).
func NewDetector(lex *Lexicon) *ModelDetector {
	return NewModelDetector(NewRuleDetector(lex), DefaultModel())
}

// NewModelDetector puts model beside rules; a nil model leaves the rules
// alone.
func NewModelDetector(rules *RuleDetector, model *Model) *ModelDetector {
	if rules == nil {
		rules = NewRuleDetector(nil)
	}
	return &ModelDetector{rules: rules, model: model}
}

// Detect implements Detector.
func (d *ModelDetector) Detect(text string) Verdict {
	sc := scratchPool.Get().(*scratch)
	sc.reset()
	d.rules.c.normalize(text, sc)
	var lg [numHeads]float64
	if d.model != nil {
		sc.feats = appendFeatures(sc.feats[:0], text, sc.norm, sc.toks, d.model.bits)
		lg = d.model.severityLogits(sc.feats)
	}
	v := d.rules.judge(text, sc)
	// Where the rules found nothing, the model's strict thresholds apply.
	if strict := v.Severity == None; d.model != nil && d.model.sevOf(&lg, strict) > v.Severity {
		d.model.addOtherLogits(sc.feats, &lg) // rare: only now read the other heads
		v = raise(v, d.model.decide(&lg, strict))
	}
	putScratch(sc)
	return v
}

// raise lets the model's verdict raise the rules' one, never lower it.
func raise(v Verdict, mv modelVerdict) Verdict {
	if mv.sev <= v.Severity {
		return v
	}
	out := Verdict{Severity: mv.sev, About: v.About}
	out.Evidence = append(append(make([]Span, 0, len(v.Evidence)+1), v.Evidence...), Span{Rule: ModelRule})
	out.Categories = v.Categories
	if len(v.Categories) == 0 && mv.cats != 0 {
		out.Categories = categoryList(mv.cats)
	}
	if out.About == "" {
		out.About = AboutSelf // the safer reading when unsure
		if mv.other {
			out.About = AboutOther
		}
	}
	return out
}
