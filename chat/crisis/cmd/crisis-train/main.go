// Command crisis-train trains the crisis detector's statistical model from
// the labelled corpus and writes the model file that the detector embeds
// (chat/crisis/model.bin). `make crisis-model` runs it from the top of the
// repository:
//
//	go run ./chat/crisis/cmd/crisis-train
//
// It reads chat/crisis/corpus/*.tsv (by name), then testdata/eval.tsv and
// testdata/holdout.tsv; never the held-out sets. The same corpus gives the
// same bytes. It prints the cross-validated figures (each message scored by
// a model trained without it) of the model alone, of the rules alone and
// of both together, as the server runs them.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/kindred-health/kindred/chat/crisis"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "crisis-train:", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("crisis-train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "chat/crisis", "the crisis package's directory: corpus/ and testdata/ are read from it")
	out := fs.String("out", "", "where to write the model (default: model.bin in -dir)")
	var o crisis.TrainOptions
	bits := fs.Uint("bits", 0, "log2 of the feature buckets (0: the default)")
	catBits := fs.Uint("cat-bits", 0, "log2 of the category heads' buckets, at most -bits (0: the default)")
	fs.IntVar(&o.Epochs, "epochs", 0, "passes over the corpus (0: the default)")
	fs.Float64Var(&o.Rate, "rate", 0, "AdaGrad learning rate (0: the default)")
	fs.Float64Var(&o.L2, "l2", 0, "L2 penalty (0: the default)")
	fs.Float64Var(&o.NoneHigh, "none-high", 0, "share of none messages the model alone may raise to high or above, cross-validated (0: the default)")
	fs.Float64Var(&o.NoneStrict, "none-strict", 0, "the same where the rules found nothing (0: the default)")
	misses := fs.Bool("misses", false, "also list the training messages that the rules with the cross-validated model get wrong at high (part, label, verdict, text)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *bits > 255 || *catBits > 255 {
		return fmt.Errorf("-bits %d or -cat-bits %d is out of range", *bits, *catBits)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *out == "" {
		*out = filepath.Join(*dir, "model.bin")
	}
	ex, parts, err := loadParts(*dir)
	if err != nil {
		return err
	}
	o.Bits, o.CatBits = uint8(*bits), uint8(*catBits)
	model, rep, err := crisis.TrainModel(ex, o)
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, model, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s (%d bytes) from %d messages\n", *out, len(model), rep.Messages)
	printReport(stderr, ex, parts, rep)
	if *misses {
		printMisses(stderr, ex, parts, rep)
	}
	return nil
}

// loadParts reads the training files (crisis.LoadTrainingSet, which marks
// each example with the index of its file in Example.Group) and returns
// the files' base names, in that order.
func loadParts(dir string) ([]crisis.Example, []string, error) {
	files, err := crisis.TrainingFiles(dir)
	if err != nil {
		return nil, nil, err
	}
	ex, err := crisis.LoadTrainingSet(dir)
	if err != nil {
		return nil, nil, err
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = filepath.Base(f)
	}
	return ex, names, nil
}

// printReport writes the cross-validated figures: the model alone, the
// rules alone, and the rules raised by the model; over the whole corpus,
// then file by file (each message scored by a model that did not see it).
func printReport(w io.Writer, ex []crisis.Example, parts []string, rep crisis.TrainReport) {
	var alone, both [4][4]int // [label][detected]
	perAlone, perBoth := make([][4][4]int, len(parts)), make([][4][4]int, len(parts))
	scored(ex, rep, func(e crisis.Example, r, m crisis.Severity) {
		p := e.Group
		for _, c := range []*[4][4]int{&alone, &perAlone[p]} {
			c[e.Severity][r]++
		}
		for _, c := range []*[4][4]int{&both, &perBoth[p]} {
			c[e.Severity][max(r, m)]++
		}
	})
	fmt.Fprintf(w, "cross-validated, model alone: recall(high+) %.3f, none raised to high+ %.3f, to concern+ %.3f, imminent below high %d\n",
		rep.HighRecall, rep.NoneHigh, rep.NoneConcern, rep.ImminentLow)
	fmt.Fprintf(w, "cross-validated, model alone, high+ messages: categories exact %.3f, about other right %.3f\n", rep.CategoriesExact, rep.OtherRight)
	fmt.Fprintf(w, "rules alone (tuned on part of this corpus): %s\n", figures(alone))
	fmt.Fprintf(w, "rules + model, cross-validated:             %s\n", figures(both))
	fmt.Fprintf(w, "%-10s %28s   %s\n", "", "rules alone", "rules + model")
	fmt.Fprintf(w, "%-10s %28s   %s\n", "labelled", "none concern high imminent", "none concern high imminent")
	for l := crisis.None; l <= crisis.Imminent; l++ {
		fmt.Fprintf(w, "%-10s %4d %7d %4d %8d   %4d %7d %4d %8d\n", l,
			alone[l][0], alone[l][1], alone[l][2], alone[l][3], both[l][0], both[l][1], both[l][2], both[l][3])
	}
	for k, name := range parts {
		fmt.Fprintf(w, "%s, rules alone:    %s\n%s, rules + model: %s\n", name, figures(perAlone[k]), name, figures(perBoth[k]))
	}
}

// printMisses lists the training messages labelled high or imminent that
// the rules with the cross-validated model score below high, and the none
// messages they score high or above: the corpus's own errors, to read when
// working on the rules. It reads only the training files.
func printMisses(w io.Writer, ex []crisis.Example, parts []string, rep crisis.TrainReport) {
	scored(ex, rep, func(e crisis.Example, r, m crisis.Severity) {
		if (e.Severity >= crisis.High) != (max(r, m) >= crisis.High) {
			fmt.Fprintf(w, "%s\t%s\trules %s, model %s\t%s\n", parts[e.Group], e.Severity, r, m, e.Text)
		}
	})
}

// scored calls f with every example, the rules' severity and the
// cross-validated model's (its strict verdict where the rules found
// nothing, as ModelDetector reads it).
func scored(ex []crisis.Example, rep crisis.TrainReport, f func(e crisis.Example, rules, model crisis.Severity)) {
	rules := crisis.NewRuleDetector(nil)
	for i, e := range ex {
		r := rules.Detect(e.Text).Severity
		m := rep.OOF[i]
		if r == crisis.None {
			m = rep.OOFStrict[i]
		}
		f(e, r, m)
	}
}

func figures(c [4][4]int) string {
	var hiN, hiGot, noneN, noneHi, noneCo, immLow int
	for d := range 4 {
		for l := 2; l < 4; l++ {
			hiN += c[l][d]
			if d >= 2 {
				hiGot += c[l][d]
			}
		}
		if d < 2 {
			immLow += c[3][d]
		}
		noneN += c[0][d]
		if d >= 2 {
			noneHi += c[0][d]
		}
		if d >= 1 {
			noneCo += c[0][d]
		}
	}
	return fmt.Sprintf("recall(high+) %.3f (%d/%d), none to high+ %.3f (%d/%d), none to concern+ %.3f, imminent below high %d",
		frac(hiGot, hiN), hiGot, hiN, frac(noneHi, noneN), noneHi, noneN, frac(noneCo, noneN), immLow)
}

func frac(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
