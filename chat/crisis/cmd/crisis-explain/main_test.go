package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExplainArgsAndStdin(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"I want to d1e tonight"}, strings.NewReader("ignored\n"), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{`"I want to d1e tonight"`, "i want to die tonight", "die-wish", "=> high [suicide] self"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "ignored") {
		t.Error("read standard input although messages were given as arguments")
	}

	out.Reset()
	if err := run(nil, strings.NewReader("this traffic is killing me\r\nhello\n"), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); strings.Count(got, "=> none") != 2 || !strings.Contains(got, "killing-me") {
		t.Errorf("stdin:\n%s", got)
	}
}

func TestExplainLexiconFlags(t *testing.T) {
	lex := filepath.Join(t.TempDir(), "lex.txt")
	if err := os.WriteFile(lex, []byte("signal grape-code suicide high = purple grapes tonight\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := run([]string{"-crisis-lexicon", lex, "purple grapes tonight"}, nil, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "grape-code") {
		t.Errorf("merged lexicon not used:\n%s", out.String())
	}
	if err := run([]string{"-crisis-lexicon-replace", "x"}, nil, &out, &errOut); err == nil {
		t.Error("-crisis-lexicon-replace without -crisis-lexicon: no error")
	}
	if err := run([]string{"-crisis-lexicon", filepath.Join(t.TempDir(), "missing.txt"), "x"}, nil, &out, &errOut); err == nil {
		t.Error("missing lexicon file: no error")
	}
}

// TestExplainModel: by default the model's part is shown, and a verdict it
// raised says so; -crisis-model=false shows the rules alone.
func TestExplainModel(t *testing.T) {
	lex := filepath.Join(t.TempDir(), "tiny.txt")
	if err := os.WriteFile(lex, []byte("signal zorblax self_harm high = zorblax\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const msg = "i am going to kill myself tonight, i have saved up the pills and wrote my goodbye letters"
	var out, errOut bytes.Buffer
	if err := run([]string{"-crisis-lexicon", lex, "-crisis-lexicon-replace", msg}, nil, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"rules say  none", "model      high+", "RAISED the verdict from none to "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := run([]string{"-crisis-model=false", "-crisis-lexicon", lex, "-crisis-lexicon-replace", msg}, nil, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); strings.Contains(got, "model") || !strings.Contains(got, "=> none") {
		t.Errorf("-crisis-model=false:\n%s", got)
	}
}
