package crisis

import (
	"sort"
	"testing"
	"time"
)

// Realistic ~500-character peer-support messages: long check-ins that mix
// recovery talk, idioms and crisis words, the costly case for the matcher.
var benchMessages = []string{
	// benign check-in full of hard negatives
	"Checking in after a long week. Work has been killing me and my feet are killing me after three double shifts, " +
		"but I'm 14 months clean today and honestly proud of myself. A year ago I tried to end it, and back then I never " +
		"thought I'd make it this far. My sponsor says one day at a time. I started a new med last month, taking it every " +
		"morning with food like my doctor said, side effects are finally easing. Going to a meeting tonight, then I'd kill " +
		"for a long bath and some sleep lol. Thanks for being here, you all kept me going this winter.",
	// high: present ideation buried in a long vent
	"I don't even know how to start this. Things with my partner have been bad for weeks, we argue every night and he " +
		"throws things when he drinks. I've been skipping meetings and I haven't called my sponsor. I keep telling everyone " +
		"I'm fine but honestly I'm not okay. I can't sleep, I can't eat, and lately I keep thinking about killing myself. " +
		"I'm not going to do anything tonight, I just needed to say it somewhere where people get it. I hate feeling like " +
		"a burden to everyone here. Sorry for the long message, I know you all have your own stuff going on right now.",
	// imminent, obfuscated
	"ok so i guess this is it. i've tried everything, therapy, meds, meetings, all of it, and nothing changes. i'm so " +
		"tired of fighting every single day. i have the p1lls saved up and i'm t4king them t0night when everyone's asleep. " +
		"please don't try to stop me, i've made up my mind. thank you all for everything, you were the only people who ever " +
		"listened to me. tell my mom i'm sorry and that it wasn't her fault. goodbye everyone, this is my last message. " +
		"i love you all. 💊💊💊 i'm done",
}

func BenchmarkDetect(b *testing.B) { benchDetect(b, NewRuleDetector(nil), benchMessages[0]) }

// BenchmarkDetectModel is BenchmarkDetect with the model beside the rules.
func BenchmarkDetectModel(b *testing.B) { benchDetect(b, NewDetector(nil), benchMessages[0]) }

func BenchmarkDetectCrisis(b *testing.B) { benchDetect(b, NewRuleDetector(nil), benchMessages[2]) }

func benchDetect(b *testing.B, d Detector, msg string) {
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		d.Detect(msg)
	}
}

// BenchmarkDetectP99 times each call over a mix of the messages above and
// reports the 50th and 99th percentile latency, for the rules alone and
// for the rules with the model (the detector the server runs). It is a
// measurement, not a pass/fail test: wall-clock thresholds in tests are
// flaky on shared CI.
func BenchmarkDetectP99(b *testing.B) {
	for _, c := range []struct {
		name string
		d    Detector
	}{{"rules", NewRuleDetector(nil)}, {"model", NewDetector(nil)}} {
		b.Run(c.name, func(b *testing.B) { measureP99(b, c.d) })
	}
}

func measureP99(b *testing.B, d Detector) {
	lat := make([]time.Duration, 0, 1<<16)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		msg := benchMessages[i%len(benchMessages)]
		i++
		t0 := time.Now()
		d.Detect(msg)
		if len(lat) < cap(lat) {
			lat = append(lat, time.Since(t0))
		}
	}
	if len(lat) == 0 {
		return
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

func BenchmarkDetectParallel(b *testing.B) {
	d := NewRuleDetector(nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			d.Detect(benchMessages[i%len(benchMessages)])
			i++
		}
	})
}

func BenchmarkNormalize(b *testing.B) {
	d := NewRuleDetector(nil)
	sc := newScratch()
	msg := benchMessages[0]
	for b.Loop() {
		sc.reset()
		d.c.normalize(msg, sc)
	}
}

func BenchmarkNewRuleDetector(b *testing.B) {
	lex := DefaultLexicon()
	b.ReportAllocs()
	for b.Loop() {
		NewRuleDetector(lex)
	}
}
