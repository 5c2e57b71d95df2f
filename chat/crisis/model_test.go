package crisis

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"slices"
	"strings"
	"testing"
)

// TestEmbeddedModelIsFresh retrains the model from the committed corpus
// and checks that the embedded model.bin is exactly what comes out: a
// corpus (or feature, or trainer) change without `make crisis-model` fails
// here. It also shows that training is reproducible across processes. It
// keeps the embedded thresholds rather than choosing them again by
// cross-validation (dozens of trainings, minutes under the race
// detector); the weights, which any corpus, feature or trainer change
// moves, are retrained in full. TestRetrainWithThresholds shows that this
// gives TrainModel's bytes, and the crisis-train tests run the whole
// pipeline.
func TestEmbeddedModelIsFresh(t *testing.T) {
	ex, err := LoadTrainingSet(".")
	if err != nil {
		t.Fatal(err)
	}
	got, err := retrainWithThresholds(ex, TrainOptions{}, DefaultModel())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, embeddedModel) {
		t.Fatalf("chat/crisis/model.bin is stale (%d bytes; training the committed corpus gives %d other bytes): run `make crisis-model` and commit it", len(embeddedModel), len(got))
	}
}

// TestRetrainWithThresholds: retraining with a model's own thresholds gives
// the bytes TrainModel gave, and other examples give other bytes.
func TestRetrainWithThresholds(t *testing.T) {
	part := everyNth(t, 5)
	o := TrainOptions{Bits: 12, Epochs: 3}
	want, rep, err := TrainModel(part, o)
	if err != nil {
		t.Fatal(err)
	}
	// Sanity, not a target: the model must have learnt something, within
	// the false-alarm budget its thresholds were chosen for.
	if rep.HighRecall < 0.5 || rep.NoneHigh > 0.021 || rep.NoneConcern > 0.031 {
		t.Errorf("implausible cross-validated figures: %+v", rep)
	}
	base, err := ParseModel(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := retrainWithThresholds(part, o, base)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("retraining with the model's own thresholds gave other bytes than TrainModel")
	}
	other, err := retrainWithThresholds(part[1:], o, base)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(other, want) {
		t.Fatal("other examples gave the same bytes")
	}
}

// everyNth is every nth example of the training set: a small corpus that
// still holds every author's file, for tests of the trainer.
func everyNth(t *testing.T, n int) []Example {
	t.Helper()
	ex, err := LoadTrainingSet(".")
	if err != nil {
		t.Fatal(err)
	}
	var part []Example
	for i := 0; i < len(ex); i += n {
		part = append(part, ex[i])
	}
	return part
}

// TestTrainingIsDeterministic trains twice on the same examples, in one
// process, and wants the same bytes; and other bytes from other examples.
func TestTrainingIsDeterministic(t *testing.T) {
	part := everyNth(t, 3)
	o := TrainOptions{Bits: 12, Epochs: 3}
	a, _, err := TrainModel(part, o)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := TrainModel(part, o)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two trainings on the same examples gave different model bytes")
	}
	c, _, err := TrainModel(part[1:], o)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, c) {
		t.Fatal("a different corpus gave the same model bytes")
	}
	if _, err := ParseModel(a); err != nil {
		t.Fatalf("the trained model does not parse: %v", err)
	}
	if _, _, err := TrainModel(part[:3], o); err == nil {
		t.Error("training on 3 examples: want an error")
	}
}

// TestCrossValidationLeavesOutAnAuthor: when the examples come from
// several files, each file is scored by a model trained without it. Here
// the second file's crisis messages are the first file's ordinary ones
// with "zqx" added: left out whole, they read as ordinary to a model that
// never saw "zqx"; shuffled into random folds (the same examples without
// groups), the rest of their own file teaches the model to find them.
func TestCrossValidationLeavesOutAnAuthor(t *testing.T) {
	var ex []Example
	add := func(g int, sev Severity, text string) {
		e := Example{Severity: sev, Text: text, Group: g}
		if sev != None {
			e.Categories, e.About = []Category{Suicide}, AboutSelf
		}
		ex = append(ex, e)
	}
	for i := range 60 {
		add(0, High, fmt.Sprintf("i want to kill myself tonight, day %d", i))
		add(0, None, fmt.Sprintf("the garden party on day %d was lovely", i))
		add(1, High, fmt.Sprintf("the garden party on day %d was lovely zqx", i))
		add(1, None, fmt.Sprintf("a quiet walk by the canal, week %d", i))
	}
	o := TrainOptions{Bits: 12, Epochs: 3}
	found := func(ex []Example) int {
		_, rep, err := TrainModel(ex, o)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for i := 2; i < len(ex); i += 4 { // the "zqx" messages
			if rep.OOF[i] >= High {
				n++
			}
		}
		return n
	}
	if n := found(ex); n != 0 {
		t.Errorf("grouped: %d of the second file's 60 crisis messages found by models that never saw that file, want 0", n)
	}
	flat := slices.Clone(ex)
	for i := range flat {
		flat[i].Group = 0
	}
	if n := found(flat); n < 50 {
		t.Errorf("shuffled folds: %d of 60 found, want most (the folds share the file)", n)
	}
}

func TestExpDet(t *testing.T) {
	for _, x := range []float64{0, -1e-9, -0.3, -1, -2.5, -10, -50, -300, -699, -800} {
		if got, want := expDet(x), math.Exp(x); math.Abs(got-want) > 1e-14*want {
			t.Errorf("expDet(%g) = %g, want %g", x, got, want)
		}
	}
	if s := sigmoid(3); math.Abs(s-1/(1+math.Exp(-3))) > 1e-15 {
		t.Errorf("sigmoid(3) = %g", s)
	}
}

// reseal rewrites the checksum of a model file after an edit.
func reseal(b []byte) []byte {
	b = bytes.Clone(b)
	binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.ChecksumIEEE(b[:len(b)-4]))
	return b
}

func TestParseModelErrors(t *testing.T) {
	good := embeddedModel
	m, err := ParseModel(good)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.marshal(), good) {
		t.Fatal("parse then marshal does not give the same bytes")
	}
	edit := func(f func(b []byte)) []byte {
		b := bytes.Clone(good)
		f(b)
		return reseal(b)
	}
	nan := math.Float32bits(float32(math.NaN()))
	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "not a model file"},
		{"text", []byte("hello, I am not a model at all"), "not a model file"},
		{"truncated", good[:len(good)/2], "checksum"},
		{"flipped bit", func() []byte { b := bytes.Clone(good); b[len(b)/2] ^= 1; return b }(), "checksum"},
		{"format version", edit(func(b []byte) { b[4] = 9 }), "format version 9"},
		{"feature version", edit(func(b []byte) { b[6] = 9 }), "feature version 9"},
		{"heads", edit(func(b []byte) { b[8] = 3 }), "3 heads"},
		{"bits", edit(func(b []byte) { b[10] = 40 }), "bucket bits"},
		{"category bits above bits", edit(func(b []byte) { b[11] = b[10] + 1 }), "bucket bits"},
		{"category bits too few", edit(func(b []byte) { b[11] = minBucketBits - 1 }), "bucket bits"},
		{"short", reseal(append(bytes.Clone(good[:len(good)-8]), 0, 0, 0, 0)), "bytes, want"},
		{"NaN scale", edit(func(b []byte) { binary.LittleEndian.PutUint32(b[modelHeader:], nan) }), "non-finite"},
	}
	for _, c := range cases {
		_, err := ParseModel(c.b)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one containing %q", c.name, err, c.want)
		}
	}
}
