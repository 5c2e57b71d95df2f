package crisis

import (
	"bufio"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

//go:embed lexicon.txt
var defaultLexiconText string

//go:embed factors.txt
var defaultFactorsText string

// A Lexicon is a parsed rule set: word classes, rules, emoji words and fuzzy
// words. It is immutable once built; Merge returns a new one. The format is
// documented at the top of lexicon.txt.
type Lexicon struct {
	classes  map[string][]alt
	rules    []ruleDef
	emoji    map[rune]string
	fuzzy    []string
	devowel  []string
	exact    []string
	disabled []string
}

type alt struct {
	text string
	pat  []pelem
	line int
}

type ruleDef struct {
	kind    kind
	id      string
	cats    catSet
	sev     Severity
	flags   ruleFlags
	subject string // for kind subject: self or other; for kind term: its class
	pat     []pelem
	need    [][]string // for kind factor: per element, the term classes that fill it
	text    string
	line    int
}

// LexiconError reports a problem in a lexicon file.
type LexiconError struct {
	Line int
	Msg  string
}

func (e *LexiconError) Error() string { return fmt.Sprintf("lexicon line %d: %s", e.Line, e.Msg) }

// kind says what a rule contributes; see lexicon.txt for the meaning of each.
type kind uint8

const (
	kSignal kind = iota + 1
	kFarewell
	kMeans
	kMethod
	kTime
	kPlan
	kBenign
	kNegation
	kResolved
	kPast
	kNearPast
	kRecent
	kPresent
	kSubject
	kHumour
	kSerious
	kHyperbole
	kSafe
	kContext
	kTopic
	kContinuity
	kBreak
	kMedical
	kRecovery
	kTerm     // an occurrence of a risk-factor word class (factors.txt)
	kFactor   // a combination of word classes (factors.txt)
	kindCount // not a kind: one more than the last
)

var kindNames = map[string]kind{
	"signal": kSignal, "farewell": kFarewell, "means": kMeans, "method": kMethod, "time": kTime,
	"plan": kPlan, "benign": kBenign, "negation": kNegation, "resolved": kResolved, "past": kPast,
	"nearpast": kNearPast, "recent": kRecent, "present": kPresent, "subject": kSubject,
	"humour": kHumour, "serious": kSerious, "hyperbole": kHyperbole, "safe": kSafe,
	"context": kContext, "topic": kTopic, "continuity": kContinuity, "break": kBreak,
	"medical": kMedical, "recovery": kRecovery, "term": kTerm, "factor": kFactor,
}

type ruleFlags uint16

const (
	fIntent  ruleFlags = 1 << iota // states an intention or an act in progress
	fAct                           // reports an act (tense decides how urgent)
	fHyper                         // often hyperbole: humour or "makes me want to" lowers it
	fWeak                          // ambiguous alone: counts only when corroborated
	fOther                         // always about someone else ("kill herself")
	fSelf                          // about the writer whatever the subject ("he hits me", "they'd be better off without me")
	fNow                           // present by construction ("... but tonight I want to"): tense cues are ignored
	fOngoing                       // abuse, assault: a near-past cue ("last weekend") does not lower it
	fClause                        // factor: its classes must meet in one clause
	fMessage                       // factor: its classes may meet anywhere in the message
)

var flagNames = map[string]ruleFlags{
	"intent": fIntent, "act": fAct, "hyper": fHyper, "weak": fWeak, "other": fOther, "self": fSelf, "now": fNow,
	"ongoing": fOngoing, "clause": fClause, "message": fMessage,
}

// catSet is a bit set over KnownCategories.
type catSet uint8

func (c catSet) has(cat Category) bool { i := categoryIndex(cat); return i >= 0 && c&(1<<i) != 0 }

var (
	defaultOnce sync.Once
	defaultLex  *Lexicon
	defaultErr  error
)

// DefaultLexicon returns the built-in rule set (lexicon.txt, embedded). The
// returned Lexicon is shared and must be treated as read-only; Merge never
// modifies its receiver.
func DefaultLexicon() *Lexicon {
	defaultOnce.Do(func() {
		defaultLex, defaultErr = parseDefault()
	})
	if defaultErr != nil {
		// The embedded file is covered by tests; failing here means the
		// binary was built from a broken tree.
		panic("crisis: embedded lexicon.txt: " + defaultErr.Error())
	}
	return defaultLex
}

// parseDefault parses lexicon.txt, then factors.txt (which may use the
// classes of lexicon.txt), and merges them.
func parseDefault() (*Lexicon, error) {
	lex, err := parseLexicon(strings.NewReader(defaultLexiconText), nil)
	if err != nil {
		return nil, err
	}
	fac, err := parseLexicon(strings.NewReader(defaultFactorsText), lex.classes)
	if err != nil {
		return nil, fmt.Errorf("factors.txt: %w", err)
	}
	return lex.Merge(fac), nil
}

// LoadLexicon parses a lexicon file (format: see lexicon.txt). Rules may
// refer to classes defined in the file itself or in DefaultLexicon, since an
// operator's file is meant to be merged onto the default. Errors carry the
// line number (*LexiconError).
//
// Term classes (factors.txt) are counted with the default's: more than
// maxTermClasses is an error.
func LoadLexicon(r io.Reader) (*Lexicon, error) {
	def := DefaultLexicon()
	l, err := parseLexicon(r, def.classes)
	if err != nil {
		return nil, err
	}
	if n := len(termClassNames(def, l)); n > maxTermClasses {
		return nil, &LexiconError{0, fmt.Sprintf("%d term classes with the default lexicon's, at most %d", n, maxTermClasses)}
	}
	return l, nil
}

// termClassNames returns the set of term classes the lexicons define.
func termClassNames(lexs ...*Lexicon) map[string]bool {
	names := map[string]bool{}
	for _, l := range lexs {
		for _, r := range l.rules {
			if r.kind == kTerm {
				names[r.subject] = true
			}
		}
	}
	return names
}

func parseLexicon(r io.Reader, known map[string][]alt) (*Lexicon, error) {
	l := &Lexicon{classes: map[string][]alt{}, emoji: map[rune]string{}}
	ids := map[string]int{}
	type ref struct {
		name string
		line int
	}
	var refs []ref
	collect := func(p []pelem, line int) {
		walkClasses(p, func(n string) { refs = append(refs, ref{n, line}) })
	}
	br := bufio.NewReader(r)
	line := 0
	for {
		raw, err := br.ReadString('\n')
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("lexicon: read: %w", err)
		}
		if raw == "" && err == io.EOF {
			break
		}
		line++
		if !utf8.ValidString(raw) {
			return nil, &LexiconError{line, "not valid UTF-8"}
		}
		s := strings.TrimSpace(stripComment(raw))
		if s != "" {
			if perr := l.parseLine(s, line, ids, collect); perr != nil {
				return nil, perr
			}
		}
		if err == io.EOF {
			break
		}
	}
	for _, rf := range refs {
		if _, ok := l.classes[rf.name]; ok {
			continue
		}
		if _, ok := known[rf.name]; ok {
			continue
		}
		return nil, &LexiconError{rf.line, fmt.Sprintf("unknown class @%s", rf.name)}
	}
	if name, line := findCycle(l.classes); name != "" {
		return nil, &LexiconError{line, fmt.Sprintf("class @%s refers to itself", name)}
	}
	return l, nil
}

func findCycle(classes map[string][]alt) (string, int) {
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(n string) (string, int)
	visit = func(n string) (string, int) {
		switch state[n] {
		case 1:
			line := 0
			if a := classes[n]; len(a) > 0 {
				line = a[0].line
			}
			return n, line
		case 2:
			return "", 0
		}
		state[n] = 1
		for _, a := range classes[n] {
			var cn string
			var cl int
			walkClasses(a.pat, func(c string) {
				if cn == "" {
					if _, ok := classes[c]; ok {
						cn, cl = visit(c)
					}
				}
			})
			if cn != "" {
				return cn, cl
			}
		}
		state[n] = 2
		return "", 0
	}
	names := make([]string, 0, len(classes))
	for n := range classes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if c, line := visit(n); c != "" {
			return c, line
		}
	}
	return "", 0
}

// Merge returns a new Lexicon holding l's rules plus other's: classes are
// united (other's alternatives are added), a rule in other with the same id
// as one in l replaces it, "disable ID" lines in other drop l's rules, emoji
// words in other win, fuzzy and exact word lists are united. Neither input
// is modified; a nil other yields a copy of l.
func (l *Lexicon) Merge(other *Lexicon) *Lexicon {
	out := &Lexicon{classes: map[string][]alt{}, emoji: map[rune]string{}}
	if l == nil {
		l = &Lexicon{}
	}
	for n, a := range l.classes {
		out.classes[n] = append([]alt(nil), a...)
	}
	for r, w := range l.emoji {
		out.emoji[r] = w
	}
	out.fuzzy = append(out.fuzzy, l.fuzzy...)
	out.devowel = append(out.devowel, l.devowel...)
	out.exact = append(out.exact, l.exact...)
	out.disabled = append(out.disabled, l.disabled...)
	if other == nil {
		out.rules = append(out.rules, l.rules...)
		return out
	}
	drop := map[string]bool{}
	for _, r := range other.rules {
		drop[r.id] = true
	}
	for _, id := range other.disabled {
		drop[id] = true
	}
	for _, r := range l.rules {
		if !drop[r.id] {
			out.rules = append(out.rules, r)
		}
	}
	out.rules = append(out.rules, other.rules...)
	for n, as := range other.classes {
	next:
		for _, a := range as {
			for _, b := range out.classes[n] {
				if b.text == a.text {
					continue next
				}
			}
			out.classes[n] = append(out.classes[n], a)
		}
	}
	for r, w := range other.emoji {
		out.emoji[r] = w
	}
	out.fuzzy = appendNew(out.fuzzy, other.fuzzy)
	out.devowel = appendNew(out.devowel, other.devowel)
	out.exact = appendNew(out.exact, other.exact)
	out.disabled = append(out.disabled, other.disabled...)
	return out
}

func appendNew(dst, src []string) []string {
	for _, s := range src {
		found := false
		for _, d := range dst {
			if d == s {
				found = true
				break
			}
		}
		if !found {
			dst = append(dst, s)
		}
	}
	return dst
}

// Rules returns the number of rules, for logs and tests.
func (l *Lexicon) Rules() int { return len(l.rules) }

// HasRule reports whether a rule with this id is present.
func (l *Lexicon) HasRule(id string) bool {
	for _, r := range l.rules {
		if r.id == id {
			return true
		}
	}
	return false
}

var errEmptyPattern = errors.New("empty pattern")
