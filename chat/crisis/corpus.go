package crisis

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Example is one labelled message of a corpus file (chat/crisis/corpus,
// chat/crisis/testdata): what the model is trained on and the evaluation
// scores.
type Example struct {
	Line       int // line number in its file
	Severity   Severity
	Categories []Category
	About      string // AboutSelf, AboutOther, or "" for None
	Text       string
	// Group is the index of the training file it came from
	// (LoadTrainingSet): cross-validation leaves out one file, one author,
	// at a time (TrainModel).
	Group int
}

// ReadExamples reads a labelled corpus file: one message per line, as
// severity TAB categories TAB about TAB text, where categories is a
// comma-separated list or "-", about is "self", "other" or "-", and
// "\u{XXXX}" in the text stands for an invisible code point. Empty lines
// and lines starting with "#" are skipped. docs/crisis-labels.md says how
// messages are labelled: none has neither categories nor about, every
// other severity has an about, and high and imminent name a category.
func ReadExamples(r io.Reader) ([]Example, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxCheckLine)
	var out []Example
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		ex, err := parseExample(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		ex.Line = n
		out = append(out, ex)
	}
	return out, sc.Err()
}

func parseExample(line string) (Example, error) {
	cols := strings.SplitN(line, "\t", 4)
	if len(cols) != 4 {
		return Example{}, fmt.Errorf("want 4 tab-separated columns, got %d", len(cols))
	}
	sev, err := ParseSeverity(cols[0])
	if err != nil {
		return Example{}, err
	}
	ex := Example{Severity: sev}
	if cols[1] != "-" {
		for _, c := range strings.Split(cols[1], ",") {
			if categoryIndex(Category(c)) < 0 {
				return Example{}, fmt.Errorf("unknown category %q", c)
			}
			ex.Categories = append(ex.Categories, Category(c))
		}
	}
	noCats := cols[1] == "-"
	if (sev == None) != (cols[2] == "-") || (sev == None && !noCats) || (sev >= High && noCats) {
		return Example{}, fmt.Errorf("none needs '-' categories and about; concern needs about; high and imminent need both")
	}
	switch cols[2] {
	case AboutSelf, AboutOther:
		ex.About = cols[2]
	case "-":
	default:
		return Example{}, fmt.Errorf("unknown about %q", cols[2])
	}
	ex.Text, err = unescapeText(cols[3])
	return ex, err
}

// unescapeText replaces every "\u{XXXX}" by its code point.
func unescapeText(s string) (string, error) {
	for {
		i := strings.Index(s, `\u{`)
		if i < 0 {
			return s, nil
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return "", fmt.Errorf("unterminated \\u{ in %q", s)
		}
		r, err := strconv.ParseUint(s[i+3:i+j], 16, 32)
		if err != nil {
			return "", fmt.Errorf("bad \\u{} escape in %q", s)
		}
		s = s[:i] + string(rune(r)) + s[i+j+1:]
	}
}

// TrainingFiles lists, under dir (the chat/crisis directory), the files the
// embedded model is trained on, in the order it reads them: every
// corpus/*.tsv by name, then testdata/eval.tsv and testdata/holdout.tsv.
// The held-out sets (testdata/holdout2.tsv, blind.tsv, blind2.tsv) are never
// among them.
func TrainingFiles(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "corpus", "*.tsv"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("crisis: no corpus/*.tsv under %s", dir)
	}
	slices.Sort(files)
	return append(files, filepath.Join(dir, "testdata", "eval.tsv"), filepath.Join(dir, "testdata", "holdout.tsv")), nil
}

// LoadTrainingSet reads the TrainingFiles under dir, in order.
func LoadTrainingSet(dir string) ([]Example, error) {
	files, err := TrainingFiles(dir)
	if err != nil {
		return nil, err
	}
	var all []Example
	for g, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		ex, err := ReadExamples(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for i := range ex {
			ex[i].Group = g
		}
		all = append(all, ex...)
	}
	return all, nil
}
