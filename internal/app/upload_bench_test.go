package app_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/storage"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// uploadSize is the file of BenchmarkUpload100MiB.
const uploadSize = 100 << 20

// source returns n bytes of a PDF-looking file without holding them: a
// header, then a 1 MiB random block over and over.
func source(n int64) io.Reader {
	block := make([]byte, 1<<20)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range block {
		block[i] = byte(r.Uint32())
	}
	copy(block, "%PDF-1.7\n")
	return io.LimitReader(&repeat{block: block}, n)
}

type repeat struct {
	block []byte
	off   int
}

func (r *repeat) Read(p []byte) (int, error) {
	n := copy(p, r.block[r.off:])
	r.off = (r.off + n) % len(r.block)
	return n, nil
}

// heapSampler records the peak of HeapInuse above a baseline while it runs.
type heapSampler struct {
	base, peak uint64
	stop       chan struct{}
	done       sync.WaitGroup
}

func startSampler() *heapSampler {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s := &heapSampler{base: ms.HeapInuse, peak: ms.HeapInuse, stop: make(chan struct{})}
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				runtime.ReadMemStats(&ms)
				s.peak = max(s.peak, ms.HeapInuse)
			}
		}
	}()
	return s
}

// growth stops the sampler and returns the peak growth in bytes.
func (s *heapSampler) growth() uint64 {
	close(s.stop)
	s.done.Wait()
	return s.peak - s.base
}

// postUpload streams a multipart upload of size bytes to the API over TCP,
// as a browser sends a file: with its length known, straight from the source.
func postUpload(b *testing.B, e *env, shipment string, size int64) {
	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	ops, _ := json.Marshal(map[string]any{"query": `mutation($s: ID!, $f: Upload!) { uploadShipmentFile(shipmentId: $s, kind: OTHER, file: $f) { id size } }`,
		"variables": map[string]any{"s": shipment, "f": nil}})
	_ = mw.WriteField("operations", string(ops))
	_ = mw.WriteField("map", `{"0":["variables.f"]}`)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="0"; filename="big.pdf"`)
	h.Set("Content-Type", "application/pdf")
	if _, err := mw.CreatePart(h); err != nil {
		b.Fatal(err)
	}
	tail := "\r\n--" + mw.Boundary() + "--\r\n"
	body := chunked{io.MultiReader(bytes.NewReader(head.Bytes()), source(size), strings.NewReader(tail))}
	req, _ := http.NewRequest(http.MethodPost, e.gql.URL()+"/graphql", body)
	req.ContentLength = int64(head.Len()) + size + int64(len(tail))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Apollo-Require-Preflight", "1")
	req.Header.Set("Authorization", "Bearer "+e.adminKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var out testutil.Response
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Errors) > 0 {
		b.Fatalf("upload: %d %v %+v", resp.StatusCode, err, out.Errors)
	}
}

// chunked sends its reader in 256 KiB writes, as curl or a browser would,
// rather than the 32 KiB of net/http's default copy.
type chunked struct{ io.Reader }

func (c chunked) WriteTo(w io.Writer) (int64, error) {
	return io.CopyBuffer(struct{ io.Writer }{w}, c.Reader, make([]byte, 256<<10))
}

// BenchmarkUpload100MiB uploads a 100 MiB file through POST /graphql (a
// streamed multipart request over a real TCP connection) and, side by side,
// copies the same bytes to the same store with Store.Put, bare and while
// hashing them (SHA-256 in the copy's goroutine). It reports the
// throughputs, the ratios, and the peak growth of the heap during the
// upload (client and server are in this process; the S3 server is not).
func BenchmarkUpload100MiB(b *testing.B) {
	for _, disk := range []string{"local", "s3"} {
		b.Run(disk, func(b *testing.B) {
			extra := []string{"FILE_MAX_BYTES=209715200", "FILE_MAX_REQUEST_BYTES=268435456"}
			if disk == "s3" {
				extra = append(extra, testutil.NewBucket(b)...)
			}
			e := newEnv(b, testutil.SQLite, extra...)
			sh := e.create(createInput(activeCustomer, "DHL"))
			store := e.app.Files.Store()
			ctx := context.Background()
			var api, direct, hashed, cpu time.Duration
			var peak uint64
			b.SetBytes(uploadSize)
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				start := time.Now()
				key := fmt.Sprintf("bench/direct-%d", i)
				if err := store.Put(ctx, key, source(uploadSize), storage.Meta{ContentType: "application/pdf"}); err != nil {
					b.Fatal(err)
				}
				direct += time.Since(start)
				_ = store.Delete(ctx, key)

				// The least an upload must do: copy and hash (the store
				// hashes what it writes, as for the service).
				start = time.Now()
				h := sha256.New()
				if err := store.Put(ctx, key, source(uploadSize), storage.Meta{Observe: func(p []byte) { h.Write(p) }}); err != nil {
					b.Fatal(err)
				}
				_ = h.Sum(nil)
				hashed += time.Since(start)
				_ = store.Delete(ctx, key)

				s := startSampler()
				var ru0, ru1 syscall.Rusage
				_ = syscall.Getrusage(0, &ru0)
				start = time.Now()
				postUpload(b, e, sh.ID, uploadSize)
				api += time.Since(start)
				_ = syscall.Getrusage(0, &ru1)
				cpu += time.Duration(ru1.Utime.Nano() - ru0.Utime.Nano() + ru1.Stime.Nano() - ru0.Stime.Nano())
				peak = max(peak, s.growth())
			}
			n := float64(b.N)
			b.ReportMetric(uploadSize*n/api.Seconds()/1e6, "api-MB/s")
			b.ReportMetric(uploadSize*n/direct.Seconds()/1e6, "direct-MB/s")
			b.ReportMetric(api.Seconds()/direct.Seconds(), "api/direct")
			b.ReportMetric(cpu.Seconds()/api.Seconds(), "cpu/wall")
			b.ReportMetric(uploadSize*n/hashed.Seconds()/1e6, "direct+sha256-MB/s")
			b.ReportMetric(api.Seconds()/hashed.Seconds(), "api/direct+sha256")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}
