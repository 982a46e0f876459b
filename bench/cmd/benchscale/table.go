package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// result holds the figures table reads from one benchload result.
type result struct {
	RequestsPerSec float64 `json:"requestsPerSec"`
	Errors         uint64  `json:"errors"`
	Latency        struct {
		P50 float64 `json:"p50Ms"`
		P99 float64 `json:"p99Ms"`
	} `json:"latency"`
	Server *struct {
		CPUMsPerRequest float64 `json:"cpuMsPerRequest"`
	} `json:"server"`
	SQL *struct {
		PerRequest float64 `json:"perRequest"`
	} `json:"sql"`
}

// scaleSizes and scaleWorkloads name the files of bench/scale.sh:
// <size>-<workload>-<mode>.json.
var (
	scaleSizes     = [2]string{"small", "large"}
	scaleWorkloads = []string{"a", "b", "deep"}
)

// table writes the two sizes side by side: for each workload and mode,
// requests/s, p50 and p99 (ms), server CPU ms and statements per request,
// and the large set's throughput relative to the small one's.
func table(w io.Writer, dir string) error {
	if dir == "" {
		return errors.New("table needs -dir")
	}
	read := func(size, wl, mode string) (*result, error) {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%s-%s-%s.json", size, wl, mode)))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		var r result
		return &r, json.Unmarshal(b, &r)
	}
	fmt.Fprintln(w, "| workload | mode | req/s small | req/s large | large/small | p50 ms small | p50 ms large | p99 ms small | p99 ms large | CPU ms/req small | CPU ms/req large | stmts/req small | stmts/req large | errors |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	rows := 0
	for _, wl := range scaleWorkloads {
		for _, mode := range []string{"max", "rate"} {
			var rs [2]*result
			for i, size := range scaleSizes {
				r, err := read(size, wl, mode)
				if err != nil {
					return err
				}
				rs[i] = r
			}
			if rs[0] == nil && rs[1] == nil {
				continue
			}
			rows++
			cell := func(i int, f func(*result) float64, format string) string {
				if rs[i] == nil {
					return "–"
				}
				return fmt.Sprintf(format, f(rs[i]))
			}
			rps := func(r *result) float64 { return r.RequestsPerSec }
			p50 := func(r *result) float64 { return r.Latency.P50 }
			p99 := func(r *result) float64 { return r.Latency.P99 }
			cpu := func(r *result) float64 {
				if r.Server == nil {
					return 0
				}
				return r.Server.CPUMsPerRequest
			}
			stmts := func(r *result) float64 {
				if r.SQL == nil {
					return 0
				}
				return r.SQL.PerRequest
			}
			ratio := "–"
			if rs[0] != nil && rs[1] != nil && rs[0].RequestsPerSec > 0 {
				ratio = fmt.Sprintf("%.2f", rs[1].RequestsPerSec/rs[0].RequestsPerSec)
			}
			errs := uint64(0)
			for _, r := range rs {
				if r != nil {
					errs += r.Errors
				}
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d |\n", wl, mode,
				cell(0, rps, "%.1f"), cell(1, rps, "%.1f"), ratio,
				cell(0, p50, "%.1f"), cell(1, p50, "%.1f"), cell(0, p99, "%.1f"), cell(1, p99, "%.1f"),
				cell(0, cpu, "%.2f"), cell(1, cpu, "%.2f"), cell(0, stmts, "%.2f"), cell(1, stmts, "%.2f"), errs)
		}
	}
	if rows == 0 {
		return fmt.Errorf("no result in %s", dir)
	}
	return nil
}
