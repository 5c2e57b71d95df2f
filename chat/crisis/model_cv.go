package crisis

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
)

// TrainReport holds the cross-validated figures of a training run: every
// message scored by a model that did not see it (out of fold), with the
// thresholds that were chosen.
type TrainReport struct {
	Messages int
	// Each message's out-of-fold model severity, in input order, with the
	// thresholds and with the strict ones (for when the rules say none).
	OOF, OOFStrict []Severity
	// Of the model alone, out of fold: high and imminent messages scored
	// high or above; none messages scored high or above, and concern or
	// above; imminent messages scored below high.
	HighRecall, NoneHigh, NoneConcern float64
	ImminentLow                       int
	// Of the messages labelled high or above, out of fold: the share whose
	// categories the model names exactly (the likeliest one when no head
	// passes), and the share whose "about other" it gets right.
	CategoriesExact, OtherRight float64
}

// TrainModel trains the model on the examples, in the order given, and
// returns its file (ParseModel reads it) and the cross-validated report.
// The same examples and options give the same bytes.
func TrainModel(examples []Example, o TrainOptions) ([]byte, TrainReport, error) {
	o = o.withDefaults()
	samples, groups, err := prepare(examples, o)
	if err != nil {
		return nil, TrainReport{}, err
	}
	oof := crossValidate(samples, groups, o, rand.New(rand.NewPCG(o.Seed, cvStream)))
	thresh, strict := chooseThresholds(examples, oof, o)
	return trainFinal(samples, o, thresh, strict), report(examples, oof, thresh, strict), nil
}

// retrainWithThresholds trains the final model on the examples as
// TrainModel does and gives it the thresholds of base, skipping the
// cross-validation that chose them: when base came from the same examples
// and options, it returns base's bytes. The final training has a random
// stream of its own, so that it does not depend on the cross-validation's.
// It is how a test checks that the embedded model is fresh in seconds
// rather than the minutes the dozens of cross-validation folds take.
func retrainWithThresholds(examples []Example, o TrainOptions, base *Model) ([]byte, error) {
	o = o.withDefaults()
	samples, _, err := prepare(examples, o)
	if err != nil {
		return nil, err
	}
	var thresh, strict [numHeads]float32
	for h := range numHeads {
		thresh[h], strict[h] = base.heads[h].thresh, base.heads[h].strict
	}
	return trainFinal(samples, o, thresh, strict), nil
}

// The PCG streams of the cross-validation's shuffles and of the final
// training's, both seeded with TrainOptions.Seed.
const (
	cvStream    = 0x6b696e64726564 // "kindred"
	finalStream = 0x66696e616c     // "final"
)

// prepare checks the options and turns every example into a sample of
// its features; groups holds each example's fold group.
func prepare(examples []Example, o TrainOptions) (samples []sample, groups []int, err error) {
	if o.Bits < minBucketBits || o.Bits > maxBucketBits || o.CatBits < minBucketBits || o.CatBits > o.Bits {
		return nil, nil, errors.New("crisis: bucket bits out of range")
	}
	if len(examples) < 2*o.Folds {
		return nil, nil, errors.New("crisis: too few examples to train on")
	}
	cl := compileLexicon(DefaultLexicon())
	sc := newScratch()
	samples = make([]sample, len(examples))
	groups = make([]int, len(examples))
	for i, ex := range examples {
		sc.reset()
		cl.normalize(ex.Text, sc)
		samples[i] = newSample(ex, appendFeatures(nil, ex.Text, sc.norm, sc.toks, o.Bits))
		groups[i] = max(ex.Group, 0)
	}
	return samples, groups, nil
}

// trainFinal trains the model on every sample and gives it the
// thresholds; it returns the model file.
func trainFinal(samples []sample, o TrainOptions, thresh, strict [numHeads]float32) []byte {
	l := newLearner(o)
	l.train(samples, allIndices(len(samples)), rand.New(rand.NewPCG(o.Seed, finalStream)))
	m := l.quantise()
	for h := range numHeads {
		m.heads[h].thresh, m.heads[h].strict = thresh[h], strict[h]
	}
	return m.marshal()
}

func allIndices(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// crossValidate returns every sample's logits from the quantised model of
// the fold that left it out. When the examples come from several groups
// (training files, each by its own author), each group is a fold: every
// message is scored by a model that never saw its author's text, which
// is what the detector meets in use (a random partition scored each part
// by a model trained on the rest of the same author's messages, and chose
// thresholds that raised more false alarms on a new author's text than it
// said). Otherwise the folds are a shuffled partition.
func crossValidate(samples []sample, groups []int, o TrainOptions, rng *rand.Rand) [][numHeads]float64 {
	perm := allIndices(len(samples))
	rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
	fold := func(k, i int) int { return k % o.Folds }
	folds := o.Folds
	if n := slices.Max(groups) + 1; n >= 2 {
		fold, folds = func(_, i int) int { return groups[i] }, n
	}
	oof := make([][numHeads]float64, len(samples))
	for f := range folds {
		var in, out []int
		for k, i := range perm {
			if fold(k, i) == f {
				out = append(out, i)
			} else {
				in = append(in, i)
			}
		}
		if len(out) == 0 || len(in) == 0 {
			continue
		}
		slices.Sort(in)
		l := newLearner(o)
		l.train(samples, in, rng)
		m := l.quantise()
		for _, i := range out {
			oof[i] = m.score(samples[i].feats)
		}
	}
	return oof
}

// chooseThresholds sets each head's thresholds from the out-of-fold
// logits. Severity: the lowest thresholds that keep the none messages
// raised within o.NoneHigh (to high or above; a quarter of it to
// imminent) and o.NoneConcern (to concern or above), which maximises the
// recall at that false-alarm rate; the strict ones the same with
// o.NoneStrict for high or above. Categories: the threshold of best F1
// among the messages labelled concern or above. Other: the best accuracy
// there.
func chooseThresholds(ex []Example, oof [][numHeads]float64, o TrainOptions) (th, strict [numHeads]float32) {
	var none [][numHeads]float64
	for i, e := range ex {
		if e.Severity == None {
			none = append(none, oof[i])
		}
	}
	severityCuts(&th, none, o.NoneHigh, o.NoneConcern)
	severityCuts(&strict, none, o.NoneStrict, o.NoneConcern)
	for c := range KnownCategories {
		th[headCat0+c] = bestCut(ex, oof, headCat0+c, func(e Example) bool { return slices.Contains(e.Categories, KnownCategories[c]) }, true)
	}
	th[headOther] = bestCut(ex, oof, headOther, func(e Example) bool { return e.About == AboutOther }, false)
	for h := headCat0; h < numHeads; h++ {
		strict[h] = th[h]
	}
	return th, strict
}

// severityCuts sets the severity thresholds in th so that at most a share
// high of the none messages' logits are raised to high or above (a
// quarter of it to imminent), and at most concern to concern or above.
func severityCuts(th *[numHeads]float32, none [][numHeads]float64, high, concern float64) {
	col := func(h int) []float64 {
		s := make([]float64, len(none))
		for k := range none {
			s[k] = none[k][h]
		}
		return s
	}
	th[headImminent] = cutAbove(col(headImminent), high/4)
	// already raised by a higher head: counts at every lower level.
	hi := col(headHigh)
	for k := range none {
		if none[k][headImminent] >= float64(th[headImminent]) {
			hi[k] = math.Inf(1)
		}
	}
	th[headHigh] = cutAbove(hi, high)
	co := col(headConcern)
	for k := range none {
		if math.IsInf(hi[k], 1) || hi[k] >= float64(th[headHigh]) {
			co[k] = math.Inf(1)
		}
	}
	th[headConcern] = cutAbove(co, concern)
}

// cutAbove returns the lowest float32 threshold t such that at most
// ⌊rate·len(s)⌋ of s are >= t (infinities always count).
func cutAbove(s []float64, rate float64) float32 {
	d := slices.Clone(s)
	slices.SortFunc(d, func(a, b float64) int { return -cmpFloat(a, b) })
	k := int(math.Floor(rate * float64(len(d))))
	if k >= len(d) {
		return float32(math.Inf(-1))
	}
	return above(d[k])
}

// above returns the smallest float32 greater than x.
func above(x float64) float32 {
	if math.IsInf(x, 1) {
		return float32(math.Inf(1))
	}
	t := float32(x)
	for float64(t) <= x {
		t = math.Nextafter32(t, float32(math.Inf(1)))
	}
	return t
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// bestCut returns the threshold on head h, among the messages labelled
// concern or above, that maximises F1 (f1) or accuracy of yes.
func bestCut(ex []Example, oof [][numHeads]float64, h int, yes func(Example) bool, f1 bool) float32 {
	type pt struct {
		s   float64
		pos bool
	}
	var pts []pt
	npos := 0
	for i, e := range ex {
		if e.Severity == None {
			continue
		}
		p := pt{oof[i][h], yes(e)}
		if p.pos {
			npos++
		}
		pts = append(pts, p)
	}
	slices.SortStableFunc(pts, func(a, b pt) int { return -cmpFloat(a.s, b.s) })
	best, bestT := -1.0, float32(0)
	tp := 0
	for k, p := range pts { // the threshold just at p.s: pts[:k+1] say yes
		if p.pos {
			tp++
		}
		if k+1 < len(pts) && pts[k+1].s == p.s {
			continue
		}
		fp, fn := k+1-tp, npos-tp
		score := float64(len(pts)-fp-fn) / float64(len(pts))
		if f1 {
			score = 2 * float64(tp) / float64(2*tp+fp+fn)
		}
		if score > best {
			best, bestT = score, float32(p.s)
			for float64(bestT) > p.s {
				bestT = math.Nextafter32(bestT, float32(math.Inf(-1)))
			}
		}
	}
	return bestT
}

// report computes the cross-validated figures of the model alone.
func report(ex []Example, oof [][numHeads]float64, th, strict [numHeads]float32) TrainReport {
	m := &Model{}
	for h := range numHeads {
		m.heads[h].thresh, m.heads[h].strict = th[h], strict[h]
	}
	r := TrainReport{Messages: len(ex), OOF: make([]Severity, len(ex)), OOFStrict: make([]Severity, len(ex))}
	var hiN, hiGot, noneN, noneHi, noneCo, catOK, otherOK int
	for i, e := range ex {
		s := m.sevOf(&oof[i], false)
		if e.Severity >= High {
			if m.categories(&oof[i], true) == catsOf(e) {
				catOK++
			}
			if (oof[i][headOther] >= float64(th[headOther])) == (e.About == AboutOther) {
				otherOK++
			}
		}
		r.OOF[i], r.OOFStrict[i] = s, m.sevOf(&oof[i], true)
		switch {
		case e.Severity >= High:
			hiN++
			if s >= High {
				hiGot++
			} else if e.Severity == Imminent {
				r.ImminentLow++
			}
		case e.Severity == None:
			noneN++
			if s >= High {
				noneHi++
			}
			if s >= Concern {
				noneCo++
			}
		}
	}
	r.HighRecall, r.NoneHigh, r.NoneConcern = share(hiGot, hiN), share(noneHi, noneN), share(noneCo, noneN)
	r.CategoriesExact, r.OtherRight = share(catOK, hiN), share(otherOK, hiN)
	return r
}

// catsOf returns an example's labelled categories as a set.
func catsOf(e Example) catSet {
	var c catSet
	for _, name := range e.Categories {
		if i := categoryIndex(name); i >= 0 {
			c |= 1 << i
		}
	}
	return c
}

func share(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
