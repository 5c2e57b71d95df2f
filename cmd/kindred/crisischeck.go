package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/kindred-health/kindred/chat/crisis"
)

// crisisFlags choose the lexicon of the crisis detector and whether the
// embedded model reads beside the rules; serve and crisis-check share them
// so operators test exactly what the server runs.
type crisisFlags struct {
	lexicon *string
	replace *bool
	model   *bool
}

func addCrisisFlags(fs *flagSet) crisisFlags {
	return crisisFlags{
		lexicon: fs.String("crisis-lexicon", "", "a lexicon file merged onto the built-in one (format: chat/crisis/lexicon.txt); its rules may use the built-in classes and \"disable\" built-in rules"),
		replace: fs.Bool("crisis-lexicon-replace", false, "use --crisis-lexicon instead of the built-in lexicon, not on top of it"),
		model:   fs.Bool("crisis-model", true, "run the embedded statistical model beside the rules: it may raise a verdict, never lower one (--crisis-model=false: the rules alone)"),
	}
}

// detector builds the detector the flags describe.
func (f crisisFlags) detector() (crisis.Detector, error) {
	rules, err := f.rules()
	if err != nil {
		return nil, err
	}
	if !*f.model {
		return rules, nil
	}
	return crisis.NewModelDetector(rules, crisis.DefaultModel()), nil
}

// rules builds the rule detector from the lexicon the flags choose.
func (f crisisFlags) rules() (*crisis.RuleDetector, error) {
	lex := crisis.DefaultLexicon()
	if *f.lexicon != "" {
		file, err := os.Open(*f.lexicon)
		if err != nil {
			return nil, fmt.Errorf("crisis lexicon: %w", err)
		}
		defer file.Close()
		own, err := crisis.LoadLexicon(file)
		if err != nil {
			return nil, fmt.Errorf("crisis lexicon %s: %w", *f.lexicon, err)
		}
		if *f.replace {
			lex = own
		} else {
			lex = lex.Merge(own)
		}
	} else if *f.replace {
		return nil, errors.New("--crisis-lexicon-replace needs --crisis-lexicon")
	}
	return crisis.NewRuleDetector(lex), nil
}

func runCrisisCheck(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("crisis-check", "Read messages from standard input, one per line (UTF-8), and write one JSON\nverdict per line: {\"severity\":...,\"categories\":[...],\"evidence\":[...]}.\nUse it to test a lexicon before giving it to serve. A verdict the model raised\nhas an evidence span with rule \"model\".", stderr)
	cf := addCrisisFlags(fs)
	if err := fs.parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	d, err := cf.detector()
	if err != nil {
		return err
	}
	return crisis.RunCheck(stdin, stdout, d)
}
