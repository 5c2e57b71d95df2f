package crisis

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestRunCheckFormat(t *testing.T) {
	in := strings.Join([]string{
		"I want to die",
		"",
		"this traffic is killing me",
		"goodbye everyone, this is my last message\r", // CRLF input
		"my sister said she wants to die",
		"Ｉ ｗａｎｔ ｔｏ ｄｉｅ <3 & \"quotes\"",
	}, "\n") // no final newline: the last line still counts
	var out bytes.Buffer
	if err := RunCheck(strings.NewReader(in), &out, sharedDetector()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 6 {
		t.Fatalf("got %d output lines, want 6:\n%s", len(lines), out.String())
	}
	want := []string{"high", "none", "none", "imminent", "high", "high"}
	inLines := strings.Split(in, "\n")
	for i, l := range lines {
		var raw map[string]json.RawMessage
		if err := json.Unmarshal([]byte(l), &raw); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", i+1, err, l)
		}
		for _, k := range []string{"severity", "categories", "evidence"} {
			if _, ok := raw[k]; !ok {
				t.Errorf("line %d: missing %q: %s", i+1, k, l)
			}
		}
		var got struct {
			Severity   string   `json:"severity"`
			Categories []string `json:"categories"`
			Evidence   []struct {
				Start, End int
				Text, Rule string
			} `json:"evidence"`
			About string `json:"about"`
		}
		if err := json.Unmarshal([]byte(l), &got); err != nil {
			t.Fatal(err)
		}
		if got.Severity != want[i] {
			t.Errorf("line %d: severity %s, want %s", i+1, got.Severity, want[i])
		}
		if got.Categories == nil || got.Evidence == nil {
			t.Errorf("line %d: categories and evidence must be arrays, not null: %s", i+1, l)
		}
		src := strings.TrimSuffix(inLines[i], "\r")
		for _, e := range got.Evidence {
			if e.Start < 0 || e.End > len(src) || src[e.Start:e.End] != e.Text || e.Rule == "" {
				t.Errorf("line %d: span %+v does not point into %q", i+1, e, src)
			}
		}
		if (got.Severity == "none") != (got.About == "") {
			t.Errorf("line %d: about %q with severity %s", i+1, got.About, got.Severity)
		}
	}
	if lines[1] != `{"severity":"none","categories":[],"evidence":[]}` {
		t.Errorf("empty line output: %s", lines[1])
	}
	if strings.Contains(lines[5], `\u003c`) || strings.Contains(lines[5], `\u0026`) {
		t.Errorf("HTML escaping in output: %s", lines[5])
	}
}

func TestRunCheckEmptyInput(t *testing.T) {
	var out bytes.Buffer
	if err := RunCheck(strings.NewReader(""), &out, nil); err != nil || out.Len() != 0 {
		t.Errorf("empty input: %q, %v", out.String(), err)
	}
	out.Reset()
	if err := RunCheck(strings.NewReader("\n"), &out, nil); err != nil || strings.Count(out.String(), "\n") != 1 {
		t.Errorf("one empty line: %q, %v", out.String(), err)
	}
}

func TestRunCheckLongAndBrokenLines(t *testing.T) {
	long := strings.Repeat("ok ", 100000) + "I want to kill myself" // ~300 KB: beyond bufio's default
	var out bytes.Buffer
	if err := RunCheck(strings.NewReader(long+"\n\xff\xfe\n"), &out, nil); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"severity":"high"`) || !json.Valid([]byte(lines[1])) {
		t.Errorf("got %d lines: %.200s", len(lines), out.String())
	}
	tooLong := strings.Repeat("a", maxCheckLine+10)
	if err := RunCheck(strings.NewReader(tooLong), &bytes.Buffer{}, nil); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("over-long line: %v", err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestRunCheckWriteError(t *testing.T) {
	in := strings.Repeat("I want to die\n", 10000)
	if err := RunCheck(strings.NewReader(in), failingWriter{}, nil); err == nil {
		t.Error("write error not reported")
	}
}
