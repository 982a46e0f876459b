package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketsContiguous(t *testing.T) {
	// Every bucket starts right after the previous one ends, and every value
	// falls in the bucket whose range holds it.
	var prevHi int64 = -1
	for i := 0; i < numBuckets; i++ {
		lo, hi := bucketRange(i)
		if lo != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, previous ended at %d", i, lo, prevHi)
		}
		if hi < lo {
			t.Fatalf("bucket %d: hi %d < lo %d", i, hi, lo)
		}
		for _, v := range []int64{lo, hi, lo + (hi-lo)/2} {
			if b := bucketOf(v); b != i {
				t.Fatalf("value %d: bucket %d, want %d", v, b, i)
			}
		}
		prevHi = hi
		if hi < 0 || hi == 1<<63-1 {
			break
		}
	}
	if b := bucketOf(1<<63 - 1); b >= numBuckets {
		t.Fatalf("max int64 in bucket %d of %d", b, numBuckets)
	}
}

func TestQuantilesAgainstExact(t *testing.T) {
	h := NewHistogram()
	r := rand.New(rand.NewPCG(1, 2))
	vals := make([]int64, 100000)
	for i := range vals {
		// log-uniform from 10 µs to 2 s
		v := int64(10e3 * math.Pow(2e5, r.Float64()))
		vals[i] = v
		h.Record(time.Duration(v))
	}
	slices.Sort(vals)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
		idx := int(math.Ceil(q*float64(len(vals)))) - 1
		want := float64(vals[idx])
		got := float64(h.Quantile(q))
		if got < want || got > want*(1+1.0/subCount) {
			t.Errorf("q=%v: got %v, exact %v (allowed +%.2f%%)", q, got, want, 100.0/subCount)
		}
	}
	if h.Max() != time.Duration(vals[len(vals)-1]) || h.Min() != time.Duration(vals[0]) {
		t.Errorf("min/max %v/%v, want %v/%v", h.Min(), h.Max(), vals[0], vals[len(vals)-1])
	}
	if h.Count() != uint64(len(vals)) {
		t.Errorf("count %d", h.Count())
	}
}

func TestSmallValuesExactAndMerge(t *testing.T) {
	a, b := NewHistogram(), NewHistogram()
	for i := 1; i <= 100; i++ {
		a.Record(time.Duration(i))
		b.Record(time.Duration(i + 100))
	}
	if got := a.Quantile(0.5); got != 50 {
		t.Errorf("p50 of 1..100 = %v, want 50ns", got)
	}
	a.Merge(b)
	if a.Count() != 200 || a.Max() != 200 || a.Min() != 1 {
		t.Errorf("merged count/min/max %d/%v/%v", a.Count(), a.Min(), a.Max())
	}
	if got := a.Quantile(0.99); got != 198 {
		t.Errorf("p99 of 1..200 = %v, want 198ns", got)
	}
	e := NewHistogram()
	if e.Quantile(0.99) != 0 || e.Max() != 0 || e.Summary().Count != 0 {
		t.Error("empty histogram should report zeros")
	}
}

func TestSummaryMilliseconds(t *testing.T) {
	h := NewHistogram()
	for i := 0; i < 99; i++ {
		h.Record(2 * time.Millisecond)
	}
	h.Record(30 * time.Millisecond)
	s := h.Summary()
	if s.P50Ms < 2 || s.P50Ms > 2.02 || s.MaxMs != 30 || s.P99Ms > 2.02 {
		t.Errorf("summary %+v", s)
	}
}
