package main

import (
	"bytes"
	"encoding/json"
)

// The cheap frame reader. Nearly every frame the tool receives is a
// message (one per delivery) or an ack, and of those it needs a few
// fields: the type, the conversation, the sequence number, the client id,
// the duplicate flag and the first bytes of the body. Decoding each frame
// fully (encoding/json, reflection, a string per field) cost about half of
// the tool's CPU in a broadcast run; scanFrame walks the top level of the
// object once instead, without allocating, and leaves every frame it is
// not sure of to the full decoder (fullFrame), which stays the reference.

// frameFields are the fields scanFrame extracts, as slices of the line.
type frameFields struct {
	typ       []byte
	conv      []byte
	id        []byte
	body      []byte // the body's JSON string, quotes included; nil if absent
	seq       int64
	duplicate bool
}

// scanFrame reads the fields the hot path needs from one frame (a JSON
// object on one line). It reports false whenever the full decoder might
// read the line differently: not an object, a field of an unexpected JSON
// type, escapes or non-ASCII bytes in the type, conversation or id, a key
// with escapes or in another case (encoding/json matches keys without
// regard to case), or a number that is not a plain integer. Other fields
// are skipped, whatever they hold; strings inside them, escaped quotes
// included, cannot be mistaken for keys. The body is returned raw, for
// bodyStamp.
func scanFrame(line []byte, f *frameFields) bool {
	*f = frameFields{}
	i := skipSpace(line, 0)
	if i >= len(line) || line[i] != '{' {
		return false
	}
	i = skipSpace(line, i+1)
	if i < len(line) && line[i] == '}' {
		return skipSpace(line, i+1) == len(line)
	}
	for {
		if i >= len(line) || line[i] != '"' {
			return false
		}
		end, esc := stringEnd(line, i)
		if end < 0 || esc || !isASCII(line[i+1:end-1]) {
			return false
		}
		key := line[i+1 : end-1]
		i = skipSpace(line, end)
		if i >= len(line) || line[i] != ':' {
			return false
		}
		i = skipSpace(line, i+1)
		end = valueEnd(line, i)
		if end < 0 || !f.set(key, line[i:end]) {
			return false
		}
		i = skipSpace(line, end)
		if i >= len(line) {
			return false
		}
		switch line[i] {
		case ',':
			i = skipSpace(line, i+1)
		case '}':
			return skipSpace(line, i+1) == len(line)
		default:
			return false
		}
	}
}

// set records one field of interest; v is its raw JSON value. It reports
// false when the value is not what the full decoder would read plainly.
func (f *frameFields) set(key, v []byte) bool {
	switch string(key) {
	case "type":
		return plainString(v, &f.typ)
	case "conv":
		return plainString(v, &f.conv)
	case "id":
		return plainString(v, &f.id)
	case "body":
		if v[0] == 'n' { // null leaves the field as it was
			return true
		}
		f.body = v
		return v[0] == '"'
	case "seq":
		if v[0] == 'n' {
			return true
		}
		n, ok := parseUint(v)
		f.seq = n
		return ok
	case "duplicate":
		switch string(v) {
		case "true":
			f.duplicate = true
		case "false":
			f.duplicate = false
		case "null":
		default:
			return false
		}
		return true
	}
	// encoding/json would also take "Seq" or "CONV" for these.
	return len(key) > 9 || !foldsToWanted(key)
}

func foldsToWanted(key []byte) bool {
	for _, w := range [...]string{"type", "conv", "id", "body", "seq", "duplicate"} {
		if len(w) == len(key) && bytes.EqualFold(key, []byte(w)) {
			return true
		}
	}
	return false
}

// plainString sets *dst to the contents of JSON string v when it needs no
// unescaping and is plain ASCII (so it decodes to exactly these bytes); a
// null leaves *dst as it was.
func plainString(v []byte, dst *[]byte) bool {
	if v[0] == 'n' {
		return true
	}
	if v[0] != '"' {
		return false
	}
	s := v[1 : len(v)-1]
	if !isASCII(s) || bytes.IndexByte(s, '\\') >= 0 {
		return false
	}
	*dst = s
	return true
}

func isASCII(s []byte) bool {
	for _, c := range s {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// parseUint reads a non-negative integer without sign, fraction or
// exponent, as the server writes sequence numbers.
func parseUint(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 18 || (v[0] == '0' && len(v) > 1) {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the JSON string starting at
// b[i] (a quote), and whether it holds an escape; -1 if it does not end.
func stringEnd(b []byte, i int) (end int, escaped bool) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '"':
			return j + 1, escaped
		case '\\':
			escaped = true
			j++
		}
	}
	return -1, escaped
}

// valueEnd returns the index just past the JSON value starting at b[i],
// or -1. Objects and arrays are skipped by depth, minding their strings;
// literals and numbers run to the next delimiter (the full decoder is the
// one that validates them, when they matter).
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		end, _ := stringEnd(b, i)
		return end
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, _ := stringEnd(b, j)
				if end < 0 {
					return -1
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	if j == i {
		return -1
	}
	return j
}

// bodyStamp reads the send time a message body starts with (see
// parseStamp) from the body's raw JSON string. Only when an escape comes
// before the first space does it unquote the string first, so it reads
// exactly what parseStamp reads from the decoded body.
func bodyStamp(raw []byte) (int64, bool) {
	if len(raw) < 2 {
		return 0, false
	}
	s := raw[1 : len(raw)-1]
	if i := bytes.IndexByte(s, ' '); i >= 0 {
		s = s[:i]
	}
	if bytes.IndexByte(s, '\\') >= 0 {
		var body string
		if json.Unmarshal(raw, &body) != nil {
			return 0, false
		}
		return parseStamp(body)
	}
	return parseStampBytes(s)
}

// parseStampBytes is parseStamp's number on bytes without escapes: what
// strconv.ParseInt accepts in base 10 (an optional sign, then digits),
// positive and within int64.
func parseStampBytes(s []byte) (int64, bool) {
	if len(s) > 0 && s[0] == '+' {
		s = s[1:]
	}
	if len(s) == 0 {
		return 0, false
	}
	for len(s) > 1 && s[0] == '0' {
		s = s[1:]
	}
	if len(s) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if n == 0 || n > 1<<63-1 {
		return 0, false
	}
	return int64(n), true
}
