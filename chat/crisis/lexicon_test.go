package crisis

import (
	"errors"
	"strings"
	"testing"
)

func TestDefaultLexiconParses(t *testing.T) {
	if _, err := parseLexicon(strings.NewReader(defaultLexiconText), nil); err != nil {
		t.Fatal(err)
	}
	l := DefaultLexicon()
	if l.Rules() < 100 {
		t.Errorf("default lexicon has %d rules", l.Rules())
	}
	if DefaultLexicon() != l {
		t.Error("DefaultLexicon is not cached")
	}
}

func TestLoadLexiconErrors(t *testing.T) {
	cases := []struct {
		src  string
		line int
		msg  string
	}{
		{"# ok\n\nfrobnicate x = y", 3, `unknown keyword "frobnicate"`},
		{"signal a suicide high = want to die\nsignal a suicide high = kms", 2, `duplicate rule id "a"`},
		{"signal a suicide urgent = x", 1, "bad severity"},
		{"signal a suicide none = x", 1, "bad severity"},
		{"signal a sadness high = x", 1, `unknown category "sadness"`},
		{"signal a suicide high loud = x", 1, `unknown flag "loud"`},
		{"signal a suicide high", 1, `missing "= pattern"`},
		{"signal a suicide = x", 1, "signal wants"},
		{"time t suicide = tonight", 1, "takes no fields"},
		{"\n\nsignal a suicide high = want to @nosuchclass", 3, "unknown class @nosuchclass"},
		{"signal a suicide high = (want to die", 1, "missing )"},
		{"signal a suicide high = ~2 die", 1, "cannot start with a gap"},
		{"signal a suicide high = want ~9 die", 1, "bad gap"},
		{"signal a suicide high = die?", 1, "every element is optional"},
		{"signal a suicide high = <end> die", 1, "cannot start with <end>"},
		{"signal a suicide high = <when> die", 1, "unknown element"},
		{"signal a suicide high = ki* myself", 1, "3 letters or more"},
		{"signal a suicide high = want to || die", 1, "empty pattern"},
		{"class x = a | | b", 1, "empty alternative"},
		{"class Bad = a", 1, "bad class name"},
		{"class a = @b\nclass b = @a", 1, "refers to itself"},
		{"map k = knife", 1, "exactly one non-ASCII symbol"},
		{"map 🔪 = kn1fe", 1, "plain words"},
		{"fuzzy kill", 1, "too short"},
		{"devowel ki", 1, "3 letters or more"},
		{"devowel = kill", 1, "want: devowel WORD"},
		{"signal a abuse high ongoing loud = x", 1, `unknown flag "loud"`},
		{"subject s maybe = he", 1, "subject wants"},
		{"signal Bad-ID suicide high = x", 1, "bad rule id"},
		{"ok line\n", 1, `unknown keyword "ok"`},
		{"signal a suicide high = \xff", 1, "not valid UTF-8"},
	}
	for _, c := range cases {
		_, err := LoadLexicon(strings.NewReader(c.src))
		if err == nil {
			t.Errorf("%q: no error", c.src)
			continue
		}
		var le *LexiconError
		if !errors.As(err, &le) {
			t.Errorf("%q: error %v is not a *LexiconError", c.src, err)
			continue
		}
		if le.Line != c.line || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%q: got %q (line %d), want line %d containing %q", c.src, err, le.Line, c.line, c.msg)
		}
		if !strings.HasPrefix(err.Error(), "lexicon line ") {
			t.Errorf("%q: error %q does not lead with the line", c.src, err)
		}
	}
}

func TestLoadLexiconAcceptsDefaultClasses(t *testing.T) {
	src := `
# An operator's extension: a regional slang term and a local service name.
class self = me myself and i
signal bridge-slang suicide high = (go | going) off the (humber | clifton) bridge
benign helpline = (call | called | ring) the samaritans
`
	l, err := LoadLexicon(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if l.Rules() != 2 || !l.HasRule("bridge-slang") {
		t.Errorf("rules: %d", l.Rules())
	}
}

func TestMerge(t *testing.T) {
	ext, err := LoadLexicon(strings.NewReader(`
signal grape-code suicide high = purple grapes tonight  # a (made-up) community code phrase
signal die-wish suicide concern hyper = @want ~2 @die   # an operator lowers a default rule
disable catch-bus
class kill = yeet
map 🐉 = dragon
fuzzy dragonfly
`))
	if err != nil {
		t.Fatal(err)
	}
	base := DefaultLexicon()
	n := base.Rules()
	merged := base.Merge(ext)
	if base.Rules() != n || !base.HasRule("catch-bus") {
		t.Fatal("Merge modified its receiver")
	}
	if merged.HasRule("catch-bus") || !merged.HasRule("grape-code") || !merged.HasRule("die-wish") {
		t.Error("merge: disable, add or replace did not apply")
	}
	if merged.Rules() != n {
		t.Errorf("merged has %d rules, want %d (one added, one replaced, one disabled)", merged.Rules(), n)
	}
	d := NewRuleDetector(merged)
	if v := d.Detect("purple grapes tonight"); v.Severity < High {
		t.Errorf("added rule: %v", v.Severity)
	}
	if v := d.Detect("i want 2 dye"); v.Severity != Concern {
		t.Errorf("replaced rule: %v, want concern", v.Severity)
	}
	if v := d.Detect("i want to yeet myself"); v.Severity != High {
		t.Errorf("class extended with yeet: %v", v.Severity)
	}
	if v := d.Detect("thinking of ctb"); v.Severity < High {
		t.Errorf("disabling catch-bus must not disable ctb: %v", v.Severity)
	}
	// The default detector is untouched.
	if v := sharedDetector().Detect("i want to die"); v.Severity != High {
		t.Errorf("default changed by merge: %v", v.Severity)
	}
	// Merging nil is a copy.
	if c := base.Merge(nil); c.Rules() != n || c == base {
		t.Error("Merge(nil) is not a copy")
	}
	// Merging twice with the same file does not duplicate class words.
	twice := merged.Merge(ext)
	if len(twice.classes["kill"]) != len(merged.classes["kill"]) {
		t.Error("class alternatives duplicated by a second merge")
	}
}

func TestPatternSyntax(t *testing.T) {
	src := `
class verb = hurt | harm
signal t-opt self_harm high = want to really? @verb myself
signal t-gap self_harm high = planning ~2 @verb <end>
signal t-num relapse concern = <num> drinks tonight
signal t-pre suicide high = suicid* plan
signal t-alt abuse high self = (he | she) (hit | hits) me | they (hurt | harm) me
`
	l, err := LoadLexicon(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	d := NewRuleDetector(l)
	cases := []struct {
		text string
		want Severity
	}{
		{"want to hurt myself", High},
		{"want to really harm myself", High},
		{"want to badly hurt myself", None},
		{"planning to hurt", High},
		{"planning to hurt him", None}, // <end> required after the verb
		{"planning to hurt. now", High},
		{"12 drinks tonight", Concern},
		{"twelve drinks tonight", None},
		{"my suicidal plan", High},
		{"she hit me", High},
		{"they harm me", High},
		{"he harm me", None},
	}
	for _, c := range cases {
		if v := d.Detect(c.text); v.Severity != c.want {
			t.Errorf("%q: %s, want %s\n%s", c.text, v.Severity, c.want, d.Explain(c.text))
		}
	}
}

func TestWithin1(t *testing.T) {
	for _, c := range []struct {
		a, b string
		ok   bool
	}{
		{"suicide", "suicide", true},
		{"suicdie", "suicide", true}, // swap
		{"sucide", "suicide", true},  // deletion
		{"suiicide", "suicide", true},
		{"suiside", "suicide", true}, // substitution
		{"sucidie", "suicide", false},
		{"myslef", "myself", true},
		{"mysel", "myself", true},
		{"suicides", "suicide", true},
		{"abcdefg", "suicide", false},
	} {
		if got := within1([]byte(c.a), c.b); got != c.ok {
			t.Errorf("within1(%q, %q) = %v", c.a, c.b, got)
		}
	}
	// Real words close to a fuzzy word are listed as exact and stay apart.
	d := sharedDetector()
	if v := d.Detect("I totally overdone it at the gym, want to overdo everything"); v.Severity != None {
		t.Errorf("overdone read as overdose: %v", v.Severity)
	}
}
