package main

import (
	"math"
	"math/bits"
	"sync/atomic"
)

// hist is a high-dynamic-range histogram of non-negative integers (the tool
// records microseconds). It is log-linear, like HdrHistogram: values below
// 2^(sub+1) have a bucket each, and every power of two above that is cut
// into 2^sub equal buckets, so a recorded value is known to within 1/2^sub
// of itself however large it is. Counts are atomics so that every reader
// goroutine can record into one histogram without a lock; snapshots are
// taken once the readers are quiet.
type hist struct {
	sub    uint // sub-bucket bits: precision 2^-sub
	counts []atomic.Int64
	total  atomic.Int64
	sum    atomic.Int64
	max    atomic.Int64
	min    atomic.Int64 // math.MaxInt64 when empty
}

// histMaxValue caps recorded values at 2^36 µs (about 19 hours): anything
// slower than that is a hung connection, not a latency.
const histMaxValue = 1<<36 - 1

func newHist(sub uint) *hist {
	h := &hist{sub: sub, counts: make([]atomic.Int64, histIndex(sub, histMaxValue)+1)}
	h.min.Store(math.MaxInt64)
	return h
}

// histIndex returns the bucket of v.
func histIndex(sub uint, v int64) int {
	if v < 1<<(sub+1) {
		return int(v)
	}
	e := uint(bits.Len64(uint64(v))) - (sub + 1) // ≥ 1
	m := v >> e                                  // in [2^sub, 2^(sub+1))
	return 1<<(sub+1) + int(e-1)<<sub + int(m-1<<sub)
}

// histHighest returns the largest value that falls in bucket i; a
// percentile is reported as that value (as HdrHistogram does), so it is
// never an underestimate.
func histHighest(sub uint, i int) int64 {
	if i < 1<<(sub+1) {
		return int64(i)
	}
	j := i - 1<<(sub+1)
	e := uint(j>>sub) + 1
	m := int64(j&(1<<sub-1)) + 1<<sub
	return (m+1)<<e - 1
}

// record adds one value; negative values count as 0 and huge ones are
// clamped to histMaxValue.
func (h *hist) record(v int64) {
	v = max(0, min(v, histMaxValue))
	h.counts[histIndex(h.sub, v)].Add(1)
	h.total.Add(1)
	h.sum.Add(v)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			break
		}
	}
	for {
		m := h.min.Load()
		if v >= m || h.min.CompareAndSwap(m, v) {
			break
		}
	}
}

// histSnap is a histogram in JSON form: non-empty buckets only, so a worker
// can send its histograms to the parent and the parent can merge them.
type histSnap struct {
	Sub     uint       `json:"sub"`
	Count   int64      `json:"count"`
	Sum     int64      `json:"sum"`
	Min     int64      `json:"min"`
	Max     int64      `json:"max"`
	Buckets [][2]int64 `json:"buckets,omitempty"` // [bucket index, count]
}

func (h *hist) snapshot() histSnap {
	s := histSnap{Sub: h.sub, Count: h.total.Load(), Sum: h.sum.Load(), Max: h.max.Load(), Min: h.min.Load()}
	if s.Count == 0 {
		s.Min = 0
	}
	for i := range h.counts {
		if n := h.counts[i].Load(); n > 0 {
			s.Buckets = append(s.Buckets, [2]int64{int64(i), n})
		}
	}
	return s
}

// merge adds o to s. Both must have the same precision (every histogram of
// one kind is made with the same sub).
func (s *histSnap) merge(o histSnap) {
	if o.Count == 0 {
		return
	}
	if s.Count == 0 {
		s.Sub, s.Min = o.Sub, o.Min
	}
	s.Min = min(s.Min, o.Min)
	s.Max = max(s.Max, o.Max)
	s.Count += o.Count
	s.Sum += o.Sum
	// Both lists are sorted by bucket index; merge them in order.
	out := make([][2]int64, 0, max(len(s.Buckets), len(o.Buckets)))
	i, j := 0, 0
	for i < len(s.Buckets) || j < len(o.Buckets) {
		switch {
		case j == len(o.Buckets) || (i < len(s.Buckets) && s.Buckets[i][0] < o.Buckets[j][0]):
			out = append(out, s.Buckets[i])
			i++
		case i == len(s.Buckets) || o.Buckets[j][0] < s.Buckets[i][0]:
			out = append(out, o.Buckets[j])
			j++
		default:
			out = append(out, [2]int64{s.Buckets[i][0], s.Buckets[i][1] + o.Buckets[j][1]})
			i++
			j++
		}
	}
	s.Buckets = out
}

// percentile returns the value at or below which p percent of the recorded
// values lie (0 < p ≤ 100), to the histogram's precision and never above
// the exact maximum; 0 when empty.
func (s *histSnap) percentile(p float64) int64 {
	if s.Count == 0 {
		return 0
	}
	rank := int64(math.Ceil(p / 100 * float64(s.Count)))
	rank = max(1, min(rank, s.Count))
	var seen int64
	for _, b := range s.Buckets {
		seen += b[1]
		if seen >= rank {
			return min(histHighest(s.Sub, int(b[0])), s.Max)
		}
	}
	return s.Max
}

func (s *histSnap) mean() float64 {
	if s.Count == 0 {
		return 0
	}
	return float64(s.Sum) / float64(s.Count)
}
