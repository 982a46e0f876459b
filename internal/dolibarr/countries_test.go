package dolibarr

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/ent"
)

// fakeCountries is the table behind a countryCache under test.
type fakeCountries struct {
	mu    sync.Mutex
	rows  map[int]string // id -> code
	fail  error
	loads [][]int // the ids of each load; nil: the whole table
	block chan struct{}
}

func (f *fakeCountries) load(_ context.Context, ids []int) ([]*ent.Country, error) {
	if f.block != nil {
		<-f.block
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.loads = append(f.loads, slices.Clone(ids))
	if f.fail != nil {
		return nil, f.fail
	}
	var out []*ent.Country
	for id, code := range f.rows {
		if ids == nil || slices.Contains(ids, id) {
			out = append(out, &ent.Country{ID: id, Code: code})
		}
	}
	return out, nil
}

func codes(m map[int]*ent.Country) map[int]string {
	out := map[int]string{}
	for id, c := range m {
		out[id] = c.Code
	}
	return out
}

func TestCountryCache(t *testing.T) {
	errDown := errors.New("dolibarr down")
	type step struct {
		advance time.Duration // clock moves before the read
		change  func(f *fakeCountries)
		ids     []int
		want    map[int]string
		wantErr bool
		loads   int // loads so far
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"read once, then served from memory", []step{
			{ids: []int{1, 2}, want: map[int]string{1: "FR", 2: "DE"}, loads: 1},
			{advance: 9 * time.Minute, ids: []int{2}, want: map[int]string{2: "DE"}, loads: 1},
		}},
		{"read again after the TTL", []step{
			{ids: []int{1}, want: map[int]string{1: "FR"}, loads: 1},
			{advance: 11 * time.Minute, change: func(f *fakeCountries) { f.rows[1] = "FX" }, ids: []int{1}, want: map[int]string{1: "FX"}, loads: 2},
		}},
		{"a country added since is read on its own", []step{
			{ids: []int{1}, want: map[int]string{1: "FR"}, loads: 1},
			{change: func(f *fakeCountries) { f.rows[3] = "IT" }, ids: []int{1, 3}, want: map[int]string{1: "FR", 3: "IT"}, loads: 2},
		}},
		{"an unknown country is absent, not an error", []step{
			{ids: []int{1, 99}, want: map[int]string{1: "FR"}, loads: 2},
		}},
		{"a failed refresh serves the previous table", []step{
			{ids: []int{1}, want: map[int]string{1: "FR"}, loads: 1},
			{advance: 11 * time.Minute, change: func(f *fakeCountries) { f.fail = errDown }, ids: []int{1}, want: map[int]string{1: "FR"}, loads: 2},
			{change: func(f *fakeCountries) { f.fail = nil; f.rows[1] = "FX" }, ids: []int{1}, want: map[int]string{1: "FX"}, loads: 3},
		}},
		{"no table and Dolibarr down: an error", []step{
			{change: func(f *fakeCountries) { f.fail = errDown }, ids: []int{1}, wantErr: true, loads: 1},
			{change: func(f *fakeCountries) { f.fail = nil }, ids: []int{1}, want: map[int]string{1: "FR"}, loads: 2},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeCountries{rows: map[int]string{1: "FR", 2: "DE"}}
			now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
			c := &countryCache{ttl: CountryCacheTTL, now: func() time.Time { return now }, load: f.load}
			for i, s := range tc.steps {
				now = now.Add(s.advance)
				if s.change != nil {
					s.change(f)
				}
				got, err := c.get(context.Background(), s.ids)
				if (err != nil) != s.wantErr {
					t.Fatalf("step %d: err = %v, want error %v", i, err, s.wantErr)
				}
				if !s.wantErr && !sameCodes(codes(got), s.want) {
					t.Errorf("step %d: got %v, want %v", i, codes(got), s.want)
				}
				if len(f.loads) != s.loads {
					t.Errorf("step %d: %d loads (%v), want %d", i, len(f.loads), f.loads, s.loads)
				}
			}
		})
	}
}

func sameCodes(a, b map[int]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestCountryCacheConcurrent: callers that find the table missing at once
// share one read of it.
func TestCountryCacheConcurrent(t *testing.T) {
	f := &fakeCountries{rows: map[int]string{1: "FR"}, block: make(chan struct{})}
	c := &countryCache{ttl: CountryCacheTTL, now: time.Now, load: f.load}
	var wg sync.WaitGroup
	var ok atomic.Int32
	for range 20 {
		wg.Go(func() {
			if got, err := c.get(context.Background(), []int{1}); err == nil && got[1] != nil {
				ok.Add(1)
			}
		})
	}
	time.Sleep(50 * time.Millisecond) // let them all wait on the read
	close(f.block)
	wg.Wait()
	if ok.Load() != 20 || len(f.loads) != 1 {
		t.Fatalf("%d of 20 callers answered, %d loads; want 20 and 1", ok.Load(), len(f.loads))
	}
}
