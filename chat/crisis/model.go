package crisis

import (
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"sync"
)

// Model is the statistical layer beside the rules: logistic regression over
// hashed features of the normalised text (model_features.go), one head per
// question it answers (see the head constants), with weights quantised to
// int8 and the decision thresholds chosen by cross-validation when it was
// trained (model_train.go, `make crisis-model`). It is immutable and safe
// for concurrent use. It never decides alone: ModelDetector lets it raise
// the rules' verdict, never lower it.
type Model struct {
	bits    uint8 // log2 of the severity heads' buckets: a feature's bucket f < 1<<bits
	catBits uint8 // log2 of the other heads' buckets: they read f>>(bits-catBits)
	heads   [numHeads]head
	sev     []int8 // the severity heads' weights, bucket by bucket: sev[b*sevStride+h]
	cat     []int8 // the others: cat[(f>>(bits-catBits))*catStride+h-headCat0]
}

// head is one logistic output: logit = bias + scale*Σw/n^¼, where n is
// the number of features (a fourth root: a long message's features each
// weigh less, but not so much that one crisis sentence in a long vent
// drowns); it says yes when logit >= thresh, or, for a message
// in which the rules found nothing at all, logit >= strict (a severity
// head's strict threshold is higher: raising a message without a single
// crisis cue needs more evidence).
type head struct {
	scale, bias, thresh, strict float32
}

// The heads, in the order of the model file.
const (
	headConcern  = iota         // P(severity >= concern)
	headHigh                    // P(severity >= high)
	headImminent                // P(severity >= imminent)
	headCat0                    // one per KnownCategories entry, in that order
	headOther    = headCat0 + 6 // P(about = other), given a crisis
	numHeads     = headOther + 1
)

// The model file, little-endian:
//
//	magic "KCM1", format version (u16), feature version (u16),
//	heads (u16), bucket bits (u8), category bucket bits (u8, <= bits),
//	per head: scale, bias, threshold, strict threshold (f32 each),
//	severity weights: (1<<bits)*headCat0 int8, bucket-major,
//	other weights: (1<<catBits)*(heads-headCat0) int8, bucket-major,
//	CRC-32 (IEEE) of all the bytes before it (u32).
//
// Format 2 had one table of (1<<bits)*heads, every head at bits.
const (
	modelMagic    = "KCM1"
	modelVersion  = 3
	modelHeader   = 12
	headBytes     = 16
	minBucketBits = 8
	maxBucketBits = 20
)

//go:embed model.bin
var embeddedModel []byte

var defaultModel = sync.OnceValues(func() (*Model, error) { return ParseModel(embeddedModel) })

// DefaultModel returns the model embedded in the binary, parsed once.
func DefaultModel() *Model {
	m, err := defaultModel()
	if err != nil {
		panic("crisis: the embedded model is broken (run `make crisis-model`): " + err.Error())
	}
	return m
}

// ParseModel reads a model file (the format is documented in model.go).
func ParseModel(b []byte) (*Model, error) {
	if len(b) < modelHeader+4 || string(b[:4]) != modelMagic {
		return nil, errors.New("crisis: not a model file")
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return nil, errors.New("crisis: model file is corrupt (checksum)")
	}
	if v := binary.LittleEndian.Uint16(b[4:]); v != modelVersion {
		return nil, fmt.Errorf("crisis: model format version %d, want %d", v, modelVersion)
	}
	if v := binary.LittleEndian.Uint16(b[6:]); v != featureVersion {
		return nil, fmt.Errorf("crisis: model feature version %d, want %d (retrain it)", v, featureVersion)
	}
	if h := binary.LittleEndian.Uint16(b[8:]); h != numHeads {
		return nil, fmt.Errorf("crisis: model has %d heads, want %d", h, numHeads)
	}
	m := &Model{bits: b[10], catBits: b[11]}
	if m.bits < minBucketBits || m.bits > maxBucketBits || m.catBits < minBucketBits || m.catBits > m.bits {
		return nil, fmt.Errorf("crisis: model bucket bits %d, %d out of range", m.bits, m.catBits)
	}
	nw := (1<<m.bits)*headCat0 + (1<<m.catBits)*(numHeads-headCat0)
	if want := modelHeader + numHeads*headBytes + nw; len(body) != want {
		return nil, fmt.Errorf("crisis: model file is %d bytes, want %d", len(b), want+4)
	}
	p := body[modelHeader:]
	for h := range m.heads {
		hd := &m.heads[h]
		hd.scale = math.Float32frombits(binary.LittleEndian.Uint32(p[0:]))
		hd.bias = math.Float32frombits(binary.LittleEndian.Uint32(p[4:]))
		hd.thresh = math.Float32frombits(binary.LittleEndian.Uint32(p[8:]))
		hd.strict = math.Float32frombits(binary.LittleEndian.Uint32(p[12:]))
		p = p[headBytes:]
		if !finite(hd.scale) || !finite(hd.bias) || hd.scale < 0 || hd.thresh != hd.thresh || hd.strict != hd.strict {
			return nil, fmt.Errorf("crisis: model head %d has a non-finite or negative parameter", h)
		}
	}
	m.sev, m.cat = widen(p, 1<<m.bits, 1<<m.catBits)
	return m, nil
}

func finite(f float32) bool {
	return !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0)
}

// marshal writes m in the model file format.
func (m *Model) marshal() []byte {
	nb, nc := len(m.sev)/sevStride, len(m.cat)/catStride
	b := make([]byte, 0, modelHeader+numHeads*headBytes+nb*headCat0+nc*(numHeads-headCat0)+4)
	b = append(b, modelMagic...)
	b = binary.LittleEndian.AppendUint16(b, modelVersion)
	b = binary.LittleEndian.AppendUint16(b, featureVersion)
	b = binary.LittleEndian.AppendUint16(b, numHeads)
	b = append(b, m.bits, m.catBits)
	for _, hd := range m.heads {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(hd.scale))
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(hd.bias))
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(hd.thresh))
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(hd.strict))
	}
	for k := range nb {
		for _, x := range m.sev[k*sevStride : k*sevStride+headCat0] {
			b = append(b, byte(x))
		}
	}
	for k := range nc {
		for _, x := range m.cat[k*catStride : k*catStride+numHeads-headCat0] {
			b = append(b, byte(x))
		}
	}
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

// sevStride and catStride are the row widths of the two weight tables:
// the three severity heads, read for every message, and the others, read
// only when the model is about to raise a verdict.
const (
	sevStride = 4
	catStride = 8
)

// widen lays the file's packed, bucket-major tables (nb severity rows of
// headCat0 weights, then nc rows of the others) out with the strides the
// sums read.
func widen(p []byte, nb, nc int) (sev, cat []int8) {
	sev, cat = make([]int8, nb*sevStride), make([]int8, nc*catStride)
	for b := range nb {
		for h := range headCat0 {
			sev[b*sevStride+h] = int8(p[b*headCat0+h])
		}
	}
	p = p[nb*headCat0:]
	const nh = numHeads - headCat0
	for b := range nc {
		for h := range nh {
			cat[b*catStride+h] = int8(p[b*nh+h])
		}
	}
	return sev, cat
}

// severitySums adds up the severity heads' weights over the features.
func (m *Model) severitySums(feats []uint32) (acc [numHeads]int32) {
	w := m.sev
	for _, f := range feats {
		r := w[int(f)*sevStride : int(f)*sevStride+sevStride : int(f)*sevStride+sevStride]
		acc[0] += int32(r[0])
		acc[1] += int32(r[1])
		acc[2] += int32(r[2])
	}
	return acc
}

// otherSums adds up the weights of the heads from headCat0 on into acc.
// The model is immutable: go:norace spares the race detector's tests its
// reads.
//
//go:norace
func (m *Model) otherSums(feats []uint32, acc *[numHeads]int32) {
	w, shift := m.cat, m.bits-m.catBits
	for _, f := range feats {
		c := int(f >> shift)
		r := w[c*catStride : c*catStride+catStride : c*catStride+catStride]
		for k := range numHeads - headCat0 {
			acc[headCat0+k] += int32(r[k])
		}
	}
}

// logits turns the sums of heads [lo, hi) into their logits in lg.
// Written with explicit conversions so that no multiply-add is fused: the
// trainer chooses the thresholds with this very function, on every
// platform alike.
func (m *Model) logits(lg *[numHeads]float64, acc *[numHeads]int32, nfeats, lo, hi int) {
	inv := 0.0
	if nfeats > 0 {
		inv = 1 / math.Sqrt(math.Sqrt(float64(nfeats)))
	}
	for h := lo; h < hi; h++ {
		hd := &m.heads[h]
		lg[h] = float64(float64(hd.scale)*float64(acc[h])*inv) + float64(hd.bias)
	}
}

// score returns every head's logit for a message's features.
func (m *Model) score(feats []uint32) [numHeads]float64 {
	lg := m.severityLogits(feats)
	m.addOtherLogits(feats, &lg)
	return lg
}

// severityLogits returns the logits of the severity heads only (the
// others are zero).
func (m *Model) severityLogits(feats []uint32) (lg [numHeads]float64) {
	acc := m.severitySums(feats)
	m.logits(&lg, &acc, len(feats), 0, headCat0)
	return lg
}

// addOtherLogits fills in the logits of the heads from headCat0 on, for
// the features whose severity logits lg already holds.
func (m *Model) addOtherLogits(feats []uint32, lg *[numHeads]float64) {
	var acc [numHeads]int32
	m.otherSums(feats, &acc)
	m.logits(lg, &acc, len(feats), headCat0, numHeads)
}

// sevOf returns the highest severity whose head passes its threshold (its
// strict one when strict).
func (m *Model) sevOf(lg *[numHeads]float64, strict bool) Severity {
	for s := Imminent; s >= Concern; s-- {
		h := headConcern + int(s-Concern)
		if t := m.heads[h].thresh; lg[h] >= float64(t) && (!strict || lg[h] >= float64(m.heads[h].strict)) {
			return s
		}
	}
	return None
}

// categories returns the categories whose heads pass their thresholds;
// when none does and always, the likeliest one.
func (m *Model) categories(lg *[numHeads]float64, always bool) catSet {
	var cats catSet
	best := headCat0
	for i := range KnownCategories {
		h := headCat0 + i
		if lg[h] >= float64(m.heads[h].thresh) {
			cats |= 1 << i
		}
		if lg[h]-float64(m.heads[h].thresh) > lg[best]-float64(m.heads[best].thresh) {
			best = h
		}
	}
	if cats == 0 && always {
		cats = 1 << (best - headCat0)
	}
	return cats
}

// modelVerdict is what the model says about one message.
type modelVerdict struct {
	sev   Severity
	cats  catSet
	other bool
}

// decide turns logits into a verdict: the highest severity whose head
// passes its threshold; the categories whose heads pass (the likeliest
// one when the severity is high or above and none does); "other" when
// that head passes.
func (m *Model) decide(lg *[numHeads]float64, strict bool) modelVerdict {
	v := modelVerdict{sev: m.sevOf(lg, strict)}
	if v.sev == None {
		return v
	}
	v.cats = m.categories(lg, v.sev >= High)
	v.other = lg[headOther] >= float64(m.heads[headOther].thresh)
	return v
}
