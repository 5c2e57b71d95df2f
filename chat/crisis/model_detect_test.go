package crisis

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// propertyTexts returns every message of the training files (never the
// held-out sets) and generated strings: corpus words in random order with
// leetspeak, spacing, emoji, negations and stray bytes mixed in.
func propertyTexts(t *testing.T) []string {
	t.Helper()
	ex, err := LoadTrainingSet(".")
	if err != nil {
		t.Fatal(err)
	}
	var texts, words []string
	for _, e := range ex {
		texts = append(texts, e.Text)
		words = append(words, strings.Fields(e.Text)...)
	}
	extra := []string{"not", "never", "k1ll", "d i e", "💊", "🔪", "tonight", "\u200b", "\"", ".", "!!!", "lol", "\xff", "ｋｉｌｌ", "myself", "he", "she"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		n := 1 + rng.IntN(40)
		var b strings.Builder
		for range n {
			if rng.IntN(4) == 0 {
				b.WriteString(extra[rng.IntN(len(extra))])
			} else {
				b.WriteString(words[rng.IntN(len(words))])
			}
			b.WriteByte(" .,\n"[rng.IntN(4)])
		}
		texts = append(texts, b.String())
	}
	return append(texts, "", " ", strings.Repeat("die ", 2000))
}

// alwaysRaising returns the embedded model with every severity threshold
// at -Inf: it says imminent to everything, so that raise meets every rule
// verdict.
func alwaysRaising(t *testing.T) *Model {
	m, err := ParseModel(embeddedModel)
	if err != nil {
		t.Fatal(err)
	}
	for h := headConcern; h <= headImminent; h++ {
		m.heads[h].thresh = float32(math.Inf(-1))
		m.heads[h].strict = float32(math.Inf(-1))
	}
	return m
}

// TestModelNeverLowersTheRules: over every training message and thousands
// of generated ones, the rules with the model beside them never score
// below the rules alone, never drop or change the rules' categories, who
// is at risk or evidence, and mark every raise with a "model" span.
func TestModelNeverLowersTheRules(t *testing.T) {
	rules := NewRuleDetector(nil)
	detectors := map[string]*ModelDetector{
		"embedded":       NewModelDetector(rules, DefaultModel()),
		"always raising": NewModelDetector(rules, alwaysRaising(t)),
	}
	raised := map[string]int{}
	for _, text := range propertyTexts(t) {
		r := rules.Detect(text)
		for name, d := range detectors {
			v := d.Detect(text)
			if msg := checkRaise(r, v); msg != "" {
				t.Fatalf("%s model, %q: %s\nrules: %+v\nboth:  %+v", name, text, msg, r, v)
			}
			if v.Severity > r.Severity {
				raised[name]++
			}
		}
	}
	t.Logf("raised by the model: %v", raised)
	if raised["embedded"] == 0 || raised["always raising"] == 0 {
		t.Errorf("the model raised no verdict at all: %v", raised)
	}
}

// checkRaise returns what is wrong with v as a raise of the rules' r.
func checkRaise(r, v Verdict) string {
	switch {
	case v.Severity < r.Severity:
		return "lowered the severity"
	case v.Severity == r.Severity:
		if !slices.Equal(v.Categories, r.Categories) || v.About != r.About || len(v.Evidence) != len(r.Evidence) {
			return "changed a verdict it did not raise"
		}
		return ""
	case len(r.Categories) > 0 && !slices.Equal(v.Categories, r.Categories):
		return "changed the rules' categories"
	case r.About != "" && v.About != r.About:
		return "changed the rules' about"
	case v.About != AboutSelf && v.About != AboutOther:
		return "raised without saying who is at risk"
	case v.Severity >= High && len(v.Categories) == 0:
		return "raised to high or above without a category"
	case len(v.Evidence) != len(r.Evidence)+1 || !slices.Equal(v.Evidence[:len(r.Evidence)], r.Evidence):
		return "did not keep the rules' evidence"
	case v.Evidence[len(r.Evidence)] != (Span{Rule: ModelRule}):
		return "did not record the raise as a model span without text"
	}
	return ""
}

func TestModelDetectorRaises(t *testing.T) {
	d := NewModelDetector(NewRuleDetector(nil), alwaysRaising(t))
	v := d.Detect("what a lovely afternoon for a walk")
	if v.Severity != Imminent || len(v.Categories) == 0 || v.About == "" {
		t.Fatalf("an always-imminent model on a benign message: %+v", v)
	}
	// Without a model, the rules alone.
	plain := NewModelDetector(nil, nil)
	if v := plain.Detect("what a lovely afternoon for a walk"); v.Severity != None {
		t.Fatalf("no model: %+v", v)
	}
}

// TestModelDetectorAllocs: a 500-character message that raises no alert
// costs no allocation with the model beside the rules.
func TestModelDetectorAllocs(t *testing.T) {
	d := NewDetector(nil)
	msg := "Quick update from the Tuesday group: we finally planted the tomatoes, basil and peppers in the " +
		"community garden on Saturday, and the kids painted little signs for every row. My sister came along " +
		"and stayed for the potluck, which was lovely. Work is busy with the end of the quarter, but I am " +
		"sleeping better since I started walking to the station instead of driving. Next week I will bring " +
		"the folding chairs and some lemonade. Does anyone know a good recipe for zucchini bread? See you all " +
		"at the meeting on Thursday evening."
	if v := d.Detect(msg); v.Severity != None {
		t.Fatalf("a benign message scores %v: %+v", v.Severity, v)
	}
	if raceEnabled {
		return // the verdict is checked; allocations are counted without -race
	}
	if n := testing.AllocsPerRun(200, func() { d.Detect(msg) }); n != 0 {
		t.Errorf("Detect of a benign message: %v allocations, want 0", n)
	}
}

// The optional external classifier still combines with the rules and the
// model: it may raise their verdict, and a "none" from it lowers nothing.
func TestCombineBesideTheModel(t *testing.T) {
	d := NewModelDetector(NewRuleDetector(nil), alwaysRaising(t))
	text := "what a lovely afternoon for a walk"
	base := d.Detect(text) // imminent, raised by the model
	none, _ := classifierServer(t, 200, `{"severity":"none","categories":[]}`, 0)
	if got := Combine(d, NewHTTPClassifier(none.URL, time.Second), time.Second).Detect(text); got.Severity != base.Severity || len(got.Evidence) != len(base.Evidence) {
		t.Errorf("a classifier's none changed the model's verdict: %+v, want %+v", got, base)
	}
	plain := NewDetector(nil)
	high, _ := classifierServer(t, 200, `{"severity":"high","categories":["abuse"],"about":"other"}`, 0)
	got := Combine(plain, NewHTTPClassifier(high.URL, time.Second), time.Second).Detect(text)
	if got.Severity != High || !slices.Equal(got.Categories, []Category{Abuse}) || got.About != AboutOther {
		t.Errorf("the classifier did not raise beside the model: %+v", got)
	}
}

// TestNumbersAndCodesNeverRaise checks that text made of numbers, codes
// and filler raises no alarm: a pasted order number, a token or a load
// test's bodies must never page a supervisor. The model once read the
// digits of long numbers as character n-grams, and every body of the load
// tool ("<UnixNano timestamp> xxx…") was raised to high on the days its
// timestamps began with 1796.
func TestNumbersAndCodesNeverRaise(t *testing.T) {
	d := NewDetector(nil)
	rng := rand.New(rand.NewPCG(7, 7))
	random := func(alphabet string, n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	const (
		digits = "0123456789"
		hex    = "0123456789abcdef"
		b64    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	)
	var msgs []string
	// The load tool's bodies over four years, one every six hours.
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for at := start; at.Year() < 2030; at = at.Add(6 * time.Hour) {
		ns := at.UnixNano() + rng.Int64N(int64(6*time.Hour))
		msgs = append(msgs, strconv.FormatInt(ns, 10)+" "+strings.Repeat("x", 20+rng.IntN(200)))
	}
	for range 1000 {
		msgs = append(msgs,
			random(digits, 5+rng.IntN(15)),
			"order "+random(digits, 6+rng.IntN(8))+" shipped, tracking "+random(digits+"ABCDEFGHJKLMNPQRSTUVWXYZ", 14),
			random(hex, 8+rng.IntN(56)),
			random(b64, 8+rng.IntN(72)))
	}
	raised := 0
	for _, m := range msgs {
		if v := d.Detect(m); v.Severity != None {
			if raised++; raised <= 5 {
				t.Errorf("%q: %s %v", m, v.Severity, v.Categories)
			}
		}
	}
	if raised > 0 {
		t.Errorf("%d of %d messages of numbers and codes raised an alarm", raised, len(msgs))
	}
}
