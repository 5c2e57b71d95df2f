// Command crisis-explain shows how the crisis detector reads messages: for
// each one, its normalised tokens, every rule that matched (kind, rule id,
// token range, original text), the rules' verdict, then the statistical
// model's part (each head's probability and the one it must reach, what
// the model alone says, whether it raised the rules' verdict and from
// what) and the verdict the server would act on. It is a tool for lexicon
// authors and for operators asking why a message was flagged:
//
//	go run ./chat/crisis/cmd/crisis-explain "I want to d1e tonight" "this traffic is killing me"
//	printf '%s\n' "I want to die" | go run ./chat/crisis/cmd/crisis-explain
//	go run ./chat/crisis/cmd/crisis-explain -crisis-lexicon my.txt < messages.txt
//
// Messages come from the arguments, or else one per line from standard
// input. -crisis-lexicon, -crisis-lexicon-replace and -crisis-model choose
// the lexicon and the model as they do for `kindred serve` and `kindred
// crisis-check` (-crisis-model=false: the rules alone).
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/kindred-health/kindred/chat/crisis"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "crisis-explain:", err)
		os.Exit(1)
	}
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("crisis-explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: crisis-explain [flags] [message ...]   (no message: one per line on standard input)")
		fs.PrintDefaults()
	}
	lexPath := fs.String("crisis-lexicon", "", "a lexicon file merged onto the built-in one (format: chat/crisis/lexicon.txt)")
	replace := fs.Bool("crisis-lexicon-replace", false, "use -crisis-lexicon instead of the built-in lexicon, not on top of it")
	withModel := fs.Bool("crisis-model", true, "show the embedded statistical model beside the rules (false: the rules alone)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	rules, err := detector(*lexPath, *replace)
	if err != nil {
		return err
	}
	var d explainer = rules
	if *withModel {
		d = crisis.NewModelDetector(rules, crisis.DefaultModel())
	}
	bw := bufio.NewWriter(stdout)
	if fs.NArg() > 0 {
		for _, m := range fs.Args() {
			explain(bw, d, m)
		}
		return bw.Flush()
	}
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		explain(bw, d, sc.Text()) // without its "\n" or "\r\n"
	}
	if err := sc.Err(); err != nil {
		bw.Flush()
		return err
	}
	return bw.Flush()
}

// explainer is a detector that shows how it reads a message: the rules
// alone (*crisis.RuleDetector) or with the model (*crisis.ModelDetector).
type explainer interface{ Explain(string) string }

func explain(w io.Writer, d explainer, msg string) {
	fmt.Fprintf(w, "%q\n%s", msg, d.Explain(msg))
}

// detector builds the rule detector for the lexicon flags.
func detector(path string, replace bool) (*crisis.RuleDetector, error) {
	if path == "" {
		if replace {
			return nil, errors.New("-crisis-lexicon-replace needs -crisis-lexicon")
		}
		return crisis.NewRuleDetector(nil), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	own, err := crisis.LoadLexicon(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if replace {
		return crisis.NewRuleDetector(own), nil
	}
	return crisis.NewRuleDetector(crisis.DefaultLexicon().Merge(own)), nil
}
