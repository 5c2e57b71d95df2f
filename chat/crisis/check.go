package crisis

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// checkLine is the JSON shape RunCheck writes for each message. Categories
// and evidence are always arrays (never null) so that consumers can index
// them without a nil check.
type checkLine struct {
	Severity   Severity   `json:"severity"`
	Categories []Category `json:"categories"`
	Evidence   []Span     `json:"evidence"`
	About      string     `json:"about,omitempty"`
}

// maxCheckLine bounds one input line; a longer line is an error rather than
// an unbounded allocation.
const maxCheckLine = 1 << 20

// RunCheck backs `kindred crisis-check`: it reads one message per line from
// in (UTF-8; a trailing "\r" is dropped) and writes one JSON object per line
// to out:
//
//	{"severity":"high","categories":["suicide"],"evidence":[{"start":2,"end":16,"text":"want to die","rule":"die-wish"}],"about":"self"}
//
// Evidence offsets are byte offsets into the line as read. An empty line
// yields severity "none" with empty arrays, so output lines always pair up
// with input lines. "about" is omitted when the severity is none.
func RunCheck(in io.Reader, out io.Writer, d Detector) error {
	if d == nil {
		d = NewRuleDetector(nil)
	}
	br := bufio.NewReaderSize(in, 64<<10)
	bw := bufio.NewWriter(out)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	lineNo := 0
	for {
		line, err := readLine(br)
		if err == io.EOF {
			break
		}
		lineNo++
		if err != nil {
			return fmt.Errorf("crisis-check: line %d: %w", lineNo, err)
		}
		v := d.Detect(line)
		cl := checkLine(v)
		if cl.Categories == nil {
			cl.Categories = []Category{}
		}
		if cl.Evidence == nil {
			cl.Evidence = []Span{}
		}
		if v.Severity == None {
			cl.About = ""
		}
		if err := enc.Encode(cl); err != nil {
			return fmt.Errorf("crisis-check: line %d: %w", lineNo, err)
		}
	}
	return bw.Flush()
}

// readLine returns the next line without its "\n" or "\r\n", io.EOF when
// the input is exhausted (a final line without "\n" is still returned).
func readLine(br *bufio.Reader) (string, error) {
	var sb strings.Builder
	for {
		chunk, isPrefix, err := br.ReadLine()
		if err != nil {
			if err == io.EOF && sb.Len() > 0 {
				return sb.String(), nil
			}
			return "", err
		}
		if sb.Len()+len(chunk) > maxCheckLine {
			return "", fmt.Errorf("longer than %d bytes", maxCheckLine)
		}
		sb.Write(chunk)
		if !isPrefix {
			return sb.String(), nil
		}
	}
}
