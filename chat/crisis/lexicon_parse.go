package crisis

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Parsing of one lexicon statement (the format is documented at the top of
// lexicon.txt); parseLexicon (lexicon.go) reads the file line by line.

// stripComment removes a comment: "#" at the start of a line or after a
// space, to the end of the line.
func stripComment(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t') {
			return s[:i]
		}
	}
	return s
}

// parseLine parses one statement (comment stripped, not blank) into l.
// ids holds the rule ids seen so far (with their lines); collect records
// the class references of a pattern, checked once the file is read.
func (l *Lexicon) parseLine(s string, line int, ids map[string]int, collect func([]pelem, int)) error {
	head, body, hasEq := strings.Cut(s, "=")
	p := &lineParser{l: l, line: line, fields: strings.Fields(head), body: body, hasEq: hasEq}
	if len(p.fields) == 0 {
		return p.fail("missing keyword")
	}
	switch p.fields[0] {
	case "class":
		return p.class(collect)
	case "map":
		return p.emojiMap()
	case "fuzzy", "exact", "disable", "devowel":
		return p.wordList()
	}
	return p.rule(ids, collect)
}

// lineParser holds one statement: the fields before "=" and the body
// after it.
type lineParser struct {
	l      *Lexicon
	line   int
	fields []string
	body   string
	hasEq  bool
}

func (p *lineParser) fail(format string, a ...any) error {
	return &LexiconError{p.line, fmt.Sprintf(format, a...)}
}

// class parses "class NAME = ALT | ALT ...".
func (p *lineParser) class(collect func([]pelem, int)) error {
	if !p.hasEq || len(p.fields) != 2 {
		return p.fail("want: class NAME = alternative | alternative ...")
	}
	name := p.fields[1]
	if !validName(name) {
		return p.fail("bad class name %q (use a-z, 0-9, _)", name)
	}
	for _, a := range splitTop(p.body) {
		a = strings.TrimSpace(a)
		if a == "" {
			return p.fail("empty alternative in class %s", name)
		}
		pat, err := parsePattern(a)
		if err != nil {
			return p.fail("class %s: %v", name, err)
		}
		collect(pat, p.line)
		p.l.classes[name] = append(p.l.classes[name], alt{text: a, pat: pat, line: p.line})
	}
	return nil
}

// emojiMap parses "map SYMBOL = WORDS".
func (p *lineParser) emojiMap() error {
	if !p.hasEq || len(p.fields) != 2 {
		return p.fail("want: map SYMBOL = words")
	}
	sym := p.fields[1]
	r, size := utf8.DecodeRuneInString(sym)
	if size != len(sym) || r < 0x80 {
		return p.fail("map wants exactly one non-ASCII symbol, got %q", sym)
	}
	w := strings.ToLower(strings.Join(strings.Fields(p.body), " "))
	if w == "" {
		return p.fail("map %s: empty replacement", sym)
	}
	for _, c := range []byte(w) {
		if (c < 'a' || c > 'z') && c != ' ' {
			return p.fail("map %s: replacement must be plain words a-z", sym)
		}
	}
	p.l.emoji[r] = w
	return nil
}

// wordList parses "fuzzy|exact|disable|devowel WORD ...".
func (p *lineParser) wordList() error {
	kw := p.fields[0]
	if p.hasEq || len(p.fields) < 2 {
		return p.fail("want: %s WORD ...", kw)
	}
	for _, w := range p.fields[1:] {
		if kw == "disable" {
			p.l.disabled = append(p.l.disabled, w)
			continue
		}
		n := normWords(w, nil)
		if len(n) != 1 {
			return p.fail("%s: %q is not a single word", kw, w)
		}
		switch kw {
		case "fuzzy":
			if len(n[0]) < 5 {
				return p.fail("fuzzy: %q is too short (5 letters at least, or misspellings would hit ordinary words)", w)
			}
			p.l.fuzzy = append(p.l.fuzzy, n[0])
		case "devowel":
			if len(n[0]) < 3 || !allLetters(n[0]) {
				return p.fail("devowel: %q must be a word of 3 letters or more", w)
			}
			p.l.devowel = append(p.l.devowel, n[0])
		default:
			p.l.exact = append(p.l.exact, n[0])
		}
	}
	return nil
}

// rule parses "KIND ID [FIELDS] = PATTERN".
func (p *lineParser) rule(ids map[string]int, collect func([]pelem, int)) error {
	k, ok := kindNames[p.fields[0]]
	if !ok {
		return p.fail("unknown keyword %q", p.fields[0])
	}
	if !p.hasEq {
		return p.fail("missing \"= pattern\"")
	}
	if len(p.fields) < 2 {
		return p.fail("missing rule id")
	}
	rd := ruleDef{kind: k, id: p.fields[1], line: p.line, text: strings.TrimSpace(p.body)}
	if !validID(rd.id) {
		return p.fail("bad rule id %q (use a-z, 0-9, -, _)", rd.id)
	}
	if prev, dup := ids[rd.id]; dup {
		return p.fail("duplicate rule id %q (first on line %d)", rd.id, prev)
	}
	ids[rd.id] = p.line
	if err := p.ruleFields(&rd); err != nil {
		return err
	}
	if k == kFactor {
		need, err := parseNeed(rd.text)
		if err != nil {
			return p.fail("factor %s: %v", rd.id, err)
		}
		rd.need = need
		p.l.rules = append(p.l.rules, rd)
		return nil
	}
	pat, err := parsePattern(rd.text)
	if err != nil {
		return p.fail("rule %s: %v", rd.id, err)
	}
	if err := checkStart(pat); err != nil {
		return p.fail("rule %s: %v", rd.id, err)
	}
	collect(pat, p.line)
	rd.pat = pat
	p.l.rules = append(p.l.rules, rd)
	return nil
}

// ruleFields parses the fields between a rule's id and "=", which depend
// on its kind (see lexicon.txt).
func (p *lineParser) ruleFields(rd *ruleDef) error {
	kw, rest := p.fields[0], p.fields[2:]
	switch rd.kind {
	case kSignal, kFarewell, kFactor:
		if len(rest) < 2 {
			return p.fail("%s wants: %s ID CATEGORIES SEVERITY [FLAGS] = PATTERN", kw, kw)
		}
		cs, err := parseCats(rest[0])
		if err != nil {
			return p.fail("%v", err)
		}
		sev, err := ParseSeverity(rest[1])
		if err != nil || sev == None {
			return p.fail("bad severity %q (concern, high or imminent)", rest[1])
		}
		rd.cats, rd.sev = cs, sev
		for _, f := range rest[2:] {
			fl, ok := flagNames[f]
			if !ok {
				return p.fail("unknown flag %q (intent, act, hyper, weak, other, self, now, ongoing, clause, message)", f)
			}
			rd.flags |= fl
		}
	case kMeans, kMethod, kContext:
		if len(rest) != 1 {
			return p.fail("%s wants: %s ID CATEGORIES = PATTERN", kw, kw)
		}
		cs, err := parseCats(rest[0])
		if err != nil {
			return p.fail("%v", err)
		}
		rd.cats = cs
	case kTerm:
		if len(rest) != 1 || !validName(rest[0]) {
			return p.fail("term wants: term ID CLASS = PATTERN (CLASS in a-z, 0-9, _)")
		}
		rd.subject = rest[0]
	case kSubject:
		if len(rest) != 1 || (rest[0] != AboutSelf && rest[0] != AboutOther) {
			return p.fail("subject wants: subject ID self|other = PATTERN")
		}
		rd.subject = rest[0]
	default:
		if len(rest) != 0 {
			return p.fail("%s takes no fields between the id and \"=\"", kw)
		}
	}
	return nil
}

func parseCats(s string) (catSet, error) {
	var cs catSet
	for _, c := range strings.Split(s, ",") {
		i := categoryIndex(Category(c))
		if i < 0 {
			return 0, fmt.Errorf("unknown category %q (suicide, self_harm, overdose, harm_others, abuse, relapse)", c)
		}
		cs |= 1 << i
	}
	return cs, nil
}

func allLetters(s string) bool {
	for _, c := range []byte(s) {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func validID(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// splitTop splits s at every "|" outside parentheses.
func splitTop(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
		case '|':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// parseNeed parses a factor's body: term classes joined by "+", each
// element possibly alternatives joined by "/" ("method + access/prep").
func parseNeed(body string) ([][]string, error) {
	var need [][]string
	for _, el := range strings.Split(body, "+") {
		var alts []string
		for _, c := range strings.Split(el, "/") {
			c = strings.TrimSpace(c)
			if !validName(c) {
				return nil, fmt.Errorf("bad term class %q (want: class + class/class ...)", c)
			}
			alts = append(alts, c)
		}
		need = append(need, alts)
	}
	if len(need) > 4 {
		return nil, errors.New("at most 4 elements")
	}
	return need, nil
}
