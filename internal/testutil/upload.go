package testutil

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/storage"
)

// File is one file of a multipart GraphQL request.
type File struct {
	// Var is the variable path the file fills, such as "variables.file".
	Var         string
	Name        string
	ContentType string
	Body        []byte
}

// Upload sends query as a GraphQL multipart request (the variables named by
// files must be null in vars) and decodes the JSON response.
func (c *Client) Upload(query string, vars map[string]any, files ...File) *Response {
	c.t.Helper()
	ops, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		c.t.Fatal(err)
	}
	m := map[string][]string{}
	for i, f := range files {
		m[fmt.Sprint(i)] = []string{f.Var}
	}
	mp, _ := json.Marshal(m)
	parts := []Part{{Name: "operations", Body: ops}, {Name: "map", Body: mp}}
	for i, f := range files {
		parts = append(parts, Part{Name: fmt.Sprint(i), FileName: f.Name, ContentType: f.ContentType, Body: f.Body})
	}
	body, ct := Multipart(c.t, parts...)
	return c.RawH(http.MethodPost, "/graphql", map[string]string{"Content-Type": ct, "Apollo-Require-Preflight": "true"}, body)
}

// Part is one part of a multipart body.
type Part struct {
	Name, FileName, ContentType string
	Body                        []byte
}

// Multipart encodes parts as a multipart/form-data body and returns it with
// its Content-Type.
func Multipart(t testing.TB, parts ...Part) ([]byte, string) {
	t.Helper()
	var b strings.Builder
	w := multipart.NewWriter(&b)
	for _, p := range parts {
		var pw io.Writer
		var err error
		if p.FileName != "" || p.ContentType != "" {
			h := make(map[string][]string)
			h["Content-Disposition"] = []string{fmt.Sprintf(`form-data; name=%q; filename*=UTF-8''%s`, p.Name, encode5987(p.FileName))}
			ct := p.ContentType
			if ct == "" {
				ct = "application/octet-stream"
			}
			h["Content-Type"] = []string{ct}
			pw, err = w.CreatePart(h)
		} else {
			pw, err = w.CreateFormField(p.Name)
		}
		if err != nil {
			t.Fatal(err)
		}
		_, _ = pw.Write(p.Body)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return []byte(b.String()), w.FormDataContentType()
}

// encode5987 percent-encodes s as an RFC 5987 extended value, the way a
// client sends a file name with any bytes in it.
func encode5987(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// S3 is the test S3-compatible server started by scripts/services.sh
// (versitygw): TEST_S3_ENDPOINT, default http://127.0.0.1:7070, with the
// credentials TEST_S3_ACCESS_KEY and TEST_S3_SECRET_KEY.
func S3() (endpoint, access, secret string) {
	return envOr("TEST_S3_ENDPOINT", "http://127.0.0.1:7070"),
		envOr("TEST_S3_ACCESS_KEY", "shipmentapp"),
		envOr("TEST_S3_SECRET_KEY", "shipmentapp-secret")
}

// NewBucket creates a fresh bucket on the test S3 server (skipping t when it
// does not answer), removed with its objects when t ends, and returns the
// configuration entries that select it.
func NewBucket(t testing.TB) []string {
	t.Helper()
	_, env := NewS3Store(t)
	return env
}

// NewS3Store is NewBucket that also returns a store over the bucket.
func NewS3Store(t testing.TB) (*storage.S3, []string) {
	t.Helper()
	endpoint, access, secret := S3()
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	RequireTCP(t, "s3 (versitygw)", u.Host)
	bucket := strings.ToLower(sanitize(fmt.Sprintf("sa-%s-%d", t.Name(), time.Now().UnixNano()%1e9)))
	bucket = strings.ReplaceAll(bucket, "_", "-")
	if len(bucket) > 63 {
		bucket = bucket[len(bucket)-63:]
	}
	bucket = strings.Trim(bucket, "-")
	s, err := storage.NewS3(context.Background(), storage.S3Config{
		Bucket: bucket, Region: "us-east-1", AccessKeyID: access, SecretAccessKey: secret,
		Endpoint: endpoint, PathStyle: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateBucket(context.Background()); err != nil {
		t.Fatalf("create bucket %s: %v", bucket, err)
	}
	t.Cleanup(func() {
		if err := s.DeleteBucket(context.Background()); err != nil {
			t.Logf("delete bucket %s: %v", bucket, err)
		}
	})
	return s, []string{
		"FILESYSTEM_DISK=s3", "AWS_BUCKET=" + bucket, "AWS_DEFAULT_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=" + access, "AWS_SECRET_ACCESS_KEY=" + secret,
		"AWS_ENDPOINT=" + endpoint, "AWS_USE_PATH_STYLE_ENDPOINT=true",
	}
}
