// Package crisis spots messages that signal a crisis — suicide, self-harm,
// overdose, harm to others, abuse, relapse — so that a human supervisor can
// reach the writer quickly.
//
// Detection never silences, hides or delays anyone's message: a Verdict only
// decides whom to alert and how urgently. Two failures matter and they are not
// equal: a missed crisis is the worst outcome, a flood of false alarms the
// second worst (supervisors who are paged for "this traffic is killing me"
// stop reading pages). The rules are therefore written to keep recall on
// present, self-directed danger very high and to spend their precision effort
// on the common benign uses of crisis words: idioms, jokes, negation, past
// recovery talk, news and medication talk.
//
// The pipeline runs once per chat message and is built to take microseconds:
//
//  1. normalise (normalize.go, normalize_ascii.go, fold.go, vocab.go):
//     fold case, homoglyphs, fullwidth and "fancy text" letters, leetspeak,
//     strip zero-width characters and combining marks, turn known emoji
//     into words, re-join spaced-out letters and squeeze repeated letters,
//     while remembering for every token where it came from in the original
//     text; every token is then resolved to a word id by one hash probe,
//     misspellings and vowel-dropped forms ("kll myslf") included.
//     Plain-ASCII text, the common case, takes a single-pass fast path;
//  2. match (detector.go, trie.go, match.go): the Lexicon's rules are
//     compiled over word ids (pattern.go, compile.go, anchors.go); rules
//     that are finite phrase sets share one trie walked once per token, the
//     others (with gaps) are tried by a small backtracking matcher, and
//     only at tokens from which the selective words they need are within
//     reach;
//  3. risk factors (factor.go, factors.txt): besides phrase rules, the
//     lexicon has term rules, occurrences of word classes (a method, access
//     to it, a time, an intent, a preparatory act, a substance, a quantity,
//     a body effect, a break in tolerance, an abuser and a controlling or
//     violent act, a weapon and a target ...), and factor rules, the
//     classes that must meet in a clause, a sentence or the message, with a
//     category and a severity: the steps of the Columbia Suicide Severity
//     Rating Scale (wish to be dead, active thoughts, method, intent, plan,
//     preparatory acts), overdose signs, abuse disclosure, harm to others.
//     The severity table is at the top of factors.txt (for example method +
//     access + time, or any preparatory act, is imminent). A negated term
//     fills nothing; a fired factor is judged like a phrase signal;
//  4. score (score.go, cues.go): context — negation, past tense, who the
//     subject is, humour, idioms, method, plan, timing and farewells —
//     turns the matches and factors into a Verdict with evidence spans
//     pointing into the original text. Someone else at risk keeps a
//     factor's severity (docs/crisis-labels.md);
//  5. model (model*.go): beside the rules, a small statistical model
//     (logistic regression over hashed words, word pairs and character
//     n-grams of the normalised tokens, embedded as model.bin and trained
//     by `make crisis-model`) may raise the rules' verdict, never lower
//     it. NewDetector is the rules with the model (what the server runs),
//     NewRuleDetector the rules alone.
//
// The rules live in human-editable data files (lexicon.txt and factors.txt,
// embedded); their formats are documented at the top of those files. Operators extend it with
// LoadLexicon and Lexicon.Merge; RuleDetector.Explain shows how the rules
// read a message, ModelDetector.Explain adds the model's part (its
// probabilities, and whether it raised the verdict and from what), and
// `go run ./chat/crisis/cmd/crisis-explain` prints either. An
// optional external classifier can be combined with the rules (Combine); it
// may only raise the severity.
package crisis

import (
	"fmt"
	"strings"
)

// Severity orders how urgently a message needs a human. The zero value is
// None, so an empty Verdict means "no alert".
type Severity int

// Severities, from no alert to "someone may die within hours".
const (
	// None: no crisis signal.
	None Severity = iota
	// Concern: hopelessness, passive or joking death talk, someone else's
	// reported distress, relapse; worth a supervisor's glance.
	Concern
	// High: explicit current suicidal ideation, self-harm, intent to
	// overdose or to hurt someone, disclosure of current abuse.
	High
	// Imminent: intent with method, plan or timing, a farewell, an attempt
	// in progress, or immediate danger from another person.
	Imminent
)

var severityNames = [...]string{"none", "concern", "high", "imminent"}

// String returns "none", "concern", "high" or "imminent".
func (s Severity) String() string {
	if s >= None && int(s) < len(severityNames) {
		return severityNames[s]
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// MarshalText encodes the severity by name, so JSON carries "high" rather than
// a number whose meaning could drift.
func (s Severity) MarshalText() ([]byte, error) {
	if s < None || int(s) >= len(severityNames) {
		return nil, fmt.Errorf("crisis: invalid severity %d", int(s))
	}
	return []byte(severityNames[s]), nil
}

// UnmarshalText accepts a severity name, case-insensitively.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseSeverity parses "none", "concern", "high" or "imminent"
// (case-insensitive, surrounding space ignored).
func ParseSeverity(name string) (Severity, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	for i, v := range severityNames {
		if n == v {
			return Severity(i), nil
		}
	}
	return None, fmt.Errorf("crisis: unknown severity %q (want none, concern, high or imminent)", name)
}

// Category names the kind of danger a message signals.
type Category string

// Categories. Relapse exists because Kindred hosts recovery groups: a relapse
// or a strong urge to use is what those groups' supervisors want to see (and a
// relapse after abstinence carries a real overdose risk), but on its own it is
// never more than Concern unless it comes with lethal intent, which then also
// carries Overdose.
const (
	Suicide    Category = "suicide"
	SelfHarm   Category = "self_harm"
	Overdose   Category = "overdose"
	HarmOthers Category = "harm_others"
	Abuse      Category = "abuse"
	Relapse    Category = "relapse"
)

// KnownCategories lists every category the rule detector can emit, in a
// stable order (the order Verdict.Categories uses).
var KnownCategories = []Category{Suicide, SelfHarm, Overdose, HarmOthers, Abuse, Relapse}

func categoryIndex(c Category) int {
	for i, k := range KnownCategories {
		if k == c {
			return i
		}
	}
	return -1
}

// Span is one piece of evidence: a byte range of the ORIGINAL message (not
// the normalised form, so a supervisor's UI can highlight exactly what the
// writer typed, homoglyphs and all) and the rule that matched there.
type Span struct {
	Start int    `json:"start"`
	End   int    `json:"end"`
	Text  string `json:"text"`
	Rule  string `json:"rule"`
}

// About values.
const (
	AboutSelf  = "self"
	AboutOther = "other"
)

// Verdict is the outcome for one message. Categories are sorted in
// KnownCategories order; Evidence in order of position. About is "self" when
// the writer is the person at risk (including as a victim of abuse), "other"
// when they report someone else's crisis, and empty when Severity is None.
type Verdict struct {
	Severity   Severity   `json:"severity"`
	Categories []Category `json:"categories"`
	Evidence   []Span     `json:"evidence"`
	About      string     `json:"about,omitempty"`
}

// Detector scores one message. Implementations must be safe for concurrent
// use: the chat server calls Detect from every connection's goroutine.
type Detector interface {
	Detect(text string) Verdict
}
