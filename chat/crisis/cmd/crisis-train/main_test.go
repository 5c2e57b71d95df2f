package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kindred-health/kindred/chat/crisis"
)

// corpusDir writes a small labelled corpus laid out like chat/crisis.
func corpusDir(t *testing.T, extra string) string {
	t.Helper()
	dir := t.TempDir()
	var a, b strings.Builder
	a.WriteString("# a tiny corpus\n")
	for i := range 30 {
		fmt.Fprintf(&a, "high\tsuicide\tself\ti want to kill myself tonight number %d\n", i)
		fmt.Fprintf(&b, "none\t-\t-\tthe garden party on day %d was lovely\n", i)
	}
	a.WriteString(extra)
	for name, text := range map[string]string{
		"corpus/train-a.tsv":   a.String(),
		"corpus/train-b.tsv":   b.String(),
		"testdata/eval.tsv":    "concern\t-\tself\ti feel so hopeless lately\n",
		"testdata/holdout.tsv": "imminent\toverdose\tother\tmy brother took all his pills and wont wake up\n",
		// The held-out sets must never be read: make them unreadable as
		// a corpus, so that reading them would fail the run.
		"testdata/holdout2.tsv": "not a corpus line\n",
		"testdata/blind.tsv":    "not a corpus line\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestTrainWritesTheSameModelTwice(t *testing.T) {
	dir := corpusDir(t, "")
	var models [][]byte
	for i := range 2 {
		out := filepath.Join(t.TempDir(), fmt.Sprintf("m%d.bin", i))
		var stderr bytes.Buffer
		if err := run([]string{"-dir", dir, "-out", out, "-bits", "10", "-epochs", "2"}, &stderr); err != nil {
			t.Fatalf("run: %v\n%s", err, stderr.String())
		}
		if !strings.Contains(stderr.String(), "from 62 messages") || !strings.Contains(stderr.String(), "rules + model, cross-validated") {
			t.Errorf("the report lacks the message count or the figures:\n%s", stderr.String())
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := crisis.ParseModel(b); err != nil {
			t.Fatalf("the written model does not parse: %v", err)
		}
		models = append(models, b)
	}
	if !bytes.Equal(models[0], models[1]) {
		t.Error("two runs on the same corpus wrote different bytes")
	}
}

func TestTrainErrors(t *testing.T) {
	bad := corpusDir(t, "high\tsuicide\tsomeone\ttext\n")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-dir", t.TempDir()}, "no corpus"},
		{[]string{"-dir", bad, "-out", filepath.Join(t.TempDir(), "m.bin")}, "train-a.tsv: line 32: unknown about"},
		{[]string{"-dir", corpusDir(t, ""), "-bits", "40"}, "bucket bits"},
		{[]string{"stray"}, "unexpected arguments"},
	} {
		err := run(c.args, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err = %v, want one containing %q", c.args, err, c.want)
		}
	}
}

// -misses lists the corpus's own errors: a message labelled none that the
// rules score high is listed with its part and label; the high messages
// that are found are not.
func TestTrainListsMisses(t *testing.T) {
	dir := corpusDir(t, "none\t-\t-\ti want to kill myself tonight\n")
	var stderr bytes.Buffer
	if err := run([]string{"-dir", dir, "-out", filepath.Join(t.TempDir(), "m.bin"), "-bits", "10", "-epochs", "2", "-misses"}, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	out := stderr.String()
	if !strings.Contains(out, "train-a.tsv\tnone\trules imminent") || !strings.Contains(out, "\ti want to kill myself tonight\n") {
		t.Errorf("-misses did not list the none message the rules raise:\n%s", out)
	}
	if strings.Contains(out, "tonight number 3\n") {
		t.Errorf("-misses listed a high message that was found:\n%s", out)
	}
}
