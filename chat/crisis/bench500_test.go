package crisis

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
	"unicode/utf8"
)

// BenchmarkDetect500 measures the cost of one Detect on many different
// 500-character messages, built by joining the training corpus's messages
// (corpus/*.tsv) end to end and cutting at 500 characters: ordinary talk,
// hard negatives and crises, in the voices the detector will meet.
//
// On a shared machine a wall-clock percentile over calls mostly measures
// the neighbours (a preempted call takes milliseconds). So every message is
// timed in several rounds, interleaved with the others, and keeps its
// fastest time: its own cost. The benchmark reports the 50th and 99th
// percentile and the maximum of those costs over the messages, for the
// rules alone and for the rules with the model. It is a measurement, never
// a pass/fail test. Run: go test -run '^$' -bench Detect500 ./chat/crisis
func BenchmarkDetect500(b *testing.B) {
	msgs := messages500(b)
	for _, c := range []struct {
		name string
		d    Detector
	}{{"rules", NewRuleDetector(nil)}, {"model", NewDetector(nil)}} {
		b.Run(c.name, func(b *testing.B) {
			floor := make([]time.Duration, len(msgs))
			for i := range floor {
				floor[i] = time.Hour
			}
			for b.Loop() {
				for i, m := range msgs {
					t0 := time.Now()
					c.d.Detect(m)
					floor[i] = min(floor[i], time.Since(t0))
				}
			}
			slices.Sort(floor)
			b.ReportMetric(float64(len(msgs)), "messages")
			b.ReportMetric(float64(floor[len(floor)/2].Nanoseconds()), "p50-ns")
			b.ReportMetric(float64(floor[len(floor)*99/100].Nanoseconds()), "p99-ns")
			b.ReportMetric(float64(floor[len(floor)-1].Nanoseconds()), "max-ns")
		})
	}
}

// messages500 joins the corpus's messages into 500-character messages.
func messages500(b *testing.B) []string {
	files, err := filepath.Glob("corpus/*.tsv")
	if err != nil || len(files) == 0 {
		b.Fatalf("no corpus: %v", err)
	}
	var out []string
	var cur []byte
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		ex, err := ReadExamples(f)
		f.Close()
		if err != nil {
			b.Fatalf("%s: %v", path, err)
		}
		for _, e := range ex {
			cur = append(append(cur, e.Text...), ' ')
			if utf8.RuneCount(cur) >= 500 {
				out = append(out, string([]rune(string(cur))[:500]))
				cur = cur[:0]
			}
		}
	}
	return out
}
