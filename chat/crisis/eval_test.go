package crisis

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

type labelled struct {
	line  int
	sev   Severity
	cats  []Category
	about string
	text  string
}

// loadLabelled reads testdata/*.tsv: severity, categories, about, text.
// "\u{XXXX}" in the text stands for an invisible code point.
func loadLabelled(t *testing.T, path string) []labelled {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []labelled
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.SplitN(line, "\t", 4)
		if len(cols) != 4 {
			t.Fatalf("%s:%d: want 4 tab-separated columns, got %d", path, n, len(cols))
		}
		sev, err := ParseSeverity(cols[0])
		if err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		var cats []Category
		if cols[1] != "-" {
			for _, c := range strings.Split(cols[1], ",") {
				if categoryIndex(Category(c)) < 0 {
					t.Fatalf("%s:%d: unknown category %q", path, n, c)
				}
				cats = append(cats, Category(c))
			}
		}
		if (sev == None) != (cols[1] == "-") || (sev == None) != (cols[2] == "-") {
			t.Fatalf("%s:%d: none needs '-' categories and about, others need both", path, n)
		}
		out = append(out, labelled{line: n, sev: sev, cats: cats, about: cols[2], text: unescape(t, cols[3])})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func unescape(t *testing.T, s string) string {
	for {
		i := strings.Index(s, `\u{`)
		if i < 0 {
			return s
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			t.Fatalf("unterminated \\u{ in %q", s)
		}
		r, err := strconv.ParseUint(s[i+3:i+j], 16, 32)
		if err != nil {
			t.Fatalf("bad \\u{} escape in %q", s)
		}
		s = s[:i] + string(rune(r)) + s[i+j+1:]
	}
}

type evalResult struct {
	n            int
	confusion    [4][4]int // [expected][got]
	catHit       int       // expected categories found, over non-none items
	catWant      int
	aboutOK      int // About matches, over non-none items detected >= Concern
	aboutN       int
	misses       []string
	highRecall   float64
	fpr          float64
	imminentLow  int // imminent scored below High
	noneHighPlus int
	noneN        int
}

func evaluate(d Detector, items []labelled) evalResult {
	var r evalResult
	for _, it := range items {
		v := d.Detect(it.text)
		r.n++
		r.confusion[it.sev][v.Severity]++
		if it.sev != v.Severity {
			r.misses = append(r.misses, fmt.Sprintf("line %d: want %-8s got %-8s %q  %v", it.line, it.sev, v.Severity, it.text, ruleIDs(v)))
		}
		if it.sev != None {
			for _, c := range it.cats {
				r.catWant++
				for _, g := range v.Categories {
					if g == c {
						r.catHit++
						break
					}
				}
			}
			if v.Severity != None {
				r.aboutN++
				if v.About == it.about {
					r.aboutOK++
				}
			}
		}
		if it.sev == Imminent && v.Severity < High {
			r.imminentLow++
		}
		if it.sev == None {
			r.noneN++
			if v.Severity >= High {
				r.noneHighPlus++
			}
		}
	}
	var hiWant, hiGot int
	for e := High; e <= Imminent; e++ {
		for g := None; g <= Imminent; g++ {
			hiWant += r.confusion[e][g]
			if g >= High {
				hiGot += r.confusion[e][g]
			}
		}
	}
	r.highRecall = ratio(hiGot, hiWant)
	r.fpr = ratio(r.noneHighPlus, r.noneN)
	return r
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

func ruleIDs(v Verdict) []string {
	var ids []string
	for _, e := range v.Evidence {
		ids = append(ids, e.Rule)
	}
	return ids
}

func (r evalResult) report() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d messages\n", r.n)
	fmt.Fprintf(&b, "confusion (rows = expected, columns = detected)\n")
	fmt.Fprintf(&b, "%10s %8s %8s %8s %8s\n", "", "none", "concern", "high", "imminent")
	for e := None; e <= Imminent; e++ {
		fmt.Fprintf(&b, "%10s", e)
		for g := None; g <= Imminent; g++ {
			fmt.Fprintf(&b, " %8d", r.confusion[e][g])
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "%10s %9s %9s\n", "severity", "precision", "recall")
	for s := None; s <= Imminent; s++ {
		var tp, col, row int
		for x := None; x <= Imminent; x++ {
			col += r.confusion[x][s]
			row += r.confusion[s][x]
		}
		tp = r.confusion[s][s]
		fmt.Fprintf(&b, "%10s %9.3f %9.3f\n", s, ratio(tp, col), ratio(tp, row))
	}
	fmt.Fprintf(&b, "recall(high or imminent detected >= high) = %.3f\n", r.highRecall)
	fmt.Fprintf(&b, "imminent detected below high = %d\n", r.imminentLow)
	fmt.Fprintf(&b, "false-positive rate (none detected >= high) = %.3f (%d/%d)\n", r.fpr, r.noneHighPlus, r.noneN)
	fmt.Fprintf(&b, "category recall = %.3f, about accuracy = %.3f\n", ratio(r.catHit, r.catWant), ratio(r.aboutOK, r.aboutN))
	return b.String()
}

func (r evalResult) failures() []string {
	var f []string
	if r.highRecall < 0.95 {
		f = append(f, fmt.Sprintf("recall for high/imminent %.3f < 0.95", r.highRecall))
	}
	if r.imminentLow > 0 {
		f = append(f, fmt.Sprintf("%d imminent message(s) scored below high", r.imminentLow))
	}
	if r.fpr > 0.05 {
		f = append(f, fmt.Sprintf("false-positive rate %.3f > 0.05", r.fpr))
	}
	return f
}

// TestEvaluation scores testdata/eval.tsv and fails on the safety
// thresholds: recall for high-or-imminent >= 0.95, no imminent message
// below high, false-positive rate (none scored high or above) <= 5%.
// Set CRISIS_EVAL_VERBOSE=1 to log every disagreement.
func TestEvaluation(t *testing.T) {
	items := loadLabelled(t, "testdata/eval.tsv")
	if len(items) < 450 {
		t.Fatalf("eval set has %d messages, want >= 450", len(items))
	}
	r := evaluate(NewRuleDetector(nil), items)
	t.Log("\n" + r.report())
	if os.Getenv("CRISIS_EVAL_VERBOSE") != "" {
		for _, m := range r.misses {
			t.Log(m)
		}
	}
	for _, f := range r.failures() {
		t.Error(f)
	}
}

// holdoutAsserted records whether the held-out set met the thresholds when
// it was first scored (it was written before tuning and never tuned on).
// When true, TestHoldout guards against regressions; when false it only
// reports. At first scoring it did NOT meet them (recall for high/imminent
// 0.895, one imminent message — "I'm writing this from the bridge" — scored
// none; false-positive rate 0/34), so it only reports. Do not edit the
// file or tune the lexicon on it to make it pass: that would turn the only
// honest estimate of unseen-phrasing performance into another training set.
const holdoutAsserted = false

// TestHoldout scores testdata/holdout.tsv, an honest estimate of performance
// on unseen phrasing. Set CRISIS_EVAL_VERBOSE=1 to log disagreements.
func TestHoldout(t *testing.T) {
	items := loadLabelled(t, "testdata/holdout.tsv")
	r := evaluate(NewRuleDetector(nil), items)
	t.Log("\n" + r.report())
	if os.Getenv("CRISIS_EVAL_VERBOSE") != "" {
		for _, m := range r.misses {
			t.Log(m)
		}
	}
	for _, f := range r.failures() {
		if holdoutAsserted {
			t.Error(f)
		} else {
			t.Log("not asserted (see holdoutAsserted): " + f)
		}
	}
}
