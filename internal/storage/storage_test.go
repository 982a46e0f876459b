package storage_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/storage"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// stores runs fn against the local disk and the test S3 server.
func stores(t *testing.T, fn func(t *testing.T, s storage.Store)) {
	t.Run("local", func(t *testing.T) {
		s, err := storage.NewLocal(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		fn(t, s)
	})
	t.Run("s3", func(t *testing.T) {
		s, _ := testutil.NewS3Store(t)
		fn(t, s)
	})
}

func keys(t *testing.T, s storage.Store, prefix string) []string {
	t.Helper()
	var out []string
	if err := s.List(context.Background(), prefix, func(o storage.Info) error {
		out = append(out, o.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestStoreRoundTrip(t *testing.T) {
	stores(t, func(t *testing.T, s storage.Store) {
		ctx := context.Background()
		if err := s.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		small := []byte("hello, shipment")
		big := bytes.Repeat([]byte("0123456789abcdef"), (6<<20)/16+3) // over one 5 MiB part
		for key, body := range map[string][]byte{"files/a/small": small, "files/b/big": big, "other/x": small} {
			h := sha256.New()
			observe := func(p []byte) { h.Write(p) }
			if err := s.Put(ctx, key, bytes.NewReader(body), storage.Meta{ContentType: "application/pdf", Observe: observe}); err != nil {
				t.Fatalf("put %s: %v", key, err)
			}
			if want := sha256.Sum256(body); !bytes.Equal(h.Sum(nil), want[:]) {
				t.Fatalf("put %s: Observe saw other bytes than were stored", key)
			}
			rc, info, err := s.Get(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			_ = rc.Close()
			if err != nil || !bytes.Equal(got, body) || info.Size != int64(len(body)) {
				t.Fatalf("get %s: %d bytes (info %d), %v", key, len(got), info.Size, err)
			}
		}
		if got := strings.Join(keys(t, s, "files/"), ","); got != "files/a/small,files/b/big" {
			t.Fatalf("list files/ = %s", got)
		}
		for range 2 { // deleting twice is fine
			if err := s.Delete(ctx, "files/a/small"); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := s.Get(ctx, "files/a/small"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("get after delete: %v, want ErrNotFound", err)
		}
		if err := s.Put(ctx, "../escape", bytes.NewReader(small), storage.Meta{}); err == nil {
			t.Fatal("a key with .. was accepted")
		}
	})
}

// failingReader fails after n bytes, like a client whose connection drops.
type failingReader struct{ n int }

var errDropped = errors.New("connection dropped")

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errDropped
	}
	n := min(len(p), f.n)
	for i := range p[:n] {
		p[i] = 'x'
	}
	f.n -= n
	return n, nil
}

// TestPutFailureLeavesNothing: a body that fails mid-way (a small one, and
// one past the first multipart part) leaves no object, no temporary file
// and no pending multipart upload.
func TestPutFailureLeavesNothing(t *testing.T) {
	stores(t, func(t *testing.T, s storage.Store) {
		for _, n := range []int{1000, 7 << 20} {
			err := s.Put(context.Background(), "files/failed", &failingReader{n: n}, storage.Meta{})
			if !errors.Is(err, errDropped) {
				t.Fatalf("put of a failing body (%d bytes): %v", n, err)
			}
			if got := keys(t, s, ""); len(got) != 0 {
				t.Fatalf("objects after a failed put: %v", got)
			}
			switch s := s.(type) {
			case *storage.Local:
				tmp, _ := os.ReadDir(filepath.Join(s.Root(), ".tmp"))
				if len(tmp) != 0 {
					t.Fatalf("temporary files left: %d", len(tmp))
				}
			case *storage.S3:
				if n, err := s.PendingUploads(context.Background(), "files/"); err != nil || n != 0 {
					t.Fatalf("pending multipart uploads: %d %v", n, err)
				}
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := s.Put(ctx, "files/cancelled", strings.NewReader("x"), storage.Meta{}); err == nil {
			t.Fatal("put with a cancelled context succeeded")
		}
	})
}

func TestS3Unreachable(t *testing.T) {
	s, err := storage.NewS3(context.Background(), storage.S3Config{
		Bucket: "b", Region: "us-east-1", AccessKeyID: "a", SecretAccessKey: "s",
		Endpoint: "http://127.0.0.1:1", PathStyle: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); err == nil {
		t.Fatal("ping of an unreachable store succeeded")
	}
}

// TestPresignPublicEndpoint: links name the public endpoint when one is
// set, the app's endpoint otherwise.
func TestPresignPublicEndpoint(t *testing.T) {
	for _, c := range []struct{ public, want string }{
		{"", "http://s3.internal:9000/b/files/x?"},
		{"https://files.example.com", "https://files.example.com/b/files/x?"},
	} {
		s, err := storage.NewS3(context.Background(), storage.S3Config{
			Bucket: "b", Region: "us-east-1", AccessKeyID: "a", SecretAccessKey: "s",
			Endpoint: "http://s3.internal:9000", PathStyle: true, PublicEndpoint: c.public,
		})
		if err != nil {
			t.Fatal(err)
		}
		u, err := s.PresignGet(context.Background(), "files/x", time.Minute, storage.Meta{})
		if err != nil || !strings.HasPrefix(u, c.want) || !strings.Contains(u, "X-Amz-Signature=") {
			t.Errorf("public endpoint %q: %s %v", c.public, u, err)
		}
	}
}

func TestCheckKey(t *testing.T) {
	for key, ok := range map[string]bool{
		"files/2026/11/22/0123abcd": true,
		"a":                         true,
		"":                          false,
		"/abs":                      false,
		"a//b":                      false,
		"a/../b":                    false,
		"./a":                       false,
		"A":                         false,
		"a b":                       false,
		"a\\b":                      false,
		strings.Repeat("a", 256):    false,
	} {
		if err := storage.CheckKey(key); (err == nil) != ok {
			t.Errorf("CheckKey(%q) = %v, want ok=%v", key, err, ok)
		}
	}
}
