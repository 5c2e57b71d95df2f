package crisis

import (
	"os"
	"strings"
	"testing"
)

// TestDebug prints the normalised tokens and matches for CRISIS_DEBUG
// messages (separated by "||"). A tool for lexicon authors.
func TestDebug(t *testing.T) {
	msgs := os.Getenv("CRISIS_DEBUG")
	if msgs == "" {
		t.Skip("set CRISIS_DEBUG")
	}
	d := NewRuleDetector(nil)
	for _, m := range strings.Split(msgs, "||") {
		t.Log(d.debug(m))
	}
}
