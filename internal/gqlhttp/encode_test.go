package gqlhttp

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// sameJSON reports whether a and b decode to the same value.
func sameJSON(t testing.TB, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("not JSON: %v: %s", err, a)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
	return reflect.DeepEqual(va, vb)
}

func TestEncodeResult(t *testing.T) {
	yes := true
	for _, tc := range []struct {
		name string
		resp graphql.Response
	}{
		{"data", graphql.Response{Data: json.RawMessage(`{"a":[1,2,{"b":"c"}]}`)}},
		{"null data", graphql.Response{}},
		{"errors and data", graphql.Response{Data: json.RawMessage(`{"a":null}`), Errors: gqlerror.List{{Message: "boom <&>", Path: ast.Path{ast.PathName("a")}, Extensions: map[string]any{"code": "X"}}}}},
		{"extensions", graphql.Response{Data: json.RawMessage(`{}`), Extensions: map[string]any{"cost": 3}}},
		{"incremental", graphql.Response{Data: json.RawMessage(`{}`), Label: "l", HasNext: &yes}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := encodeResult(&tc.resp)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := json.Marshal(&tc.resp)
			if !bytes.Equal(got, want) {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

// FuzzEncodeResult: whatever valid data gqlgen wrote, the answer is valid JSON
// that means what json.Marshal's does.
func FuzzEncodeResult(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `null`, `{"s":"<script>&amp;\u2028"}`, `[{"x":[]}]`} {
		f.Add(s, "msg")
	}
	f.Fuzz(func(t *testing.T, data, msg string) {
		var compact bytes.Buffer
		if json.Compact(&compact, []byte(data)) != nil {
			return // gqlgen writes valid, compact JSON
		}
		resp := &graphql.Response{Data: compact.Bytes()}
		if msg != "" {
			resp.Errors = gqlerror.List{{Message: msg}}
		}
		got, err := encodeResult(resp)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(got) || !sameJSON(t, got, want) {
			t.Fatalf("got %s, want %s", got, want)
		}
	})
}

// TestWriteResultStatus: a result is 200, but 503 with Retry-After (and its
// media type) when it has no data because the database was unavailable.
func TestWriteResultStatus(t *testing.T) {
	unavailableErr := &gqlerror.Error{Message: "the database is unavailable", Extensions: map[string]any{"code": "UNAVAILABLE"}}
	for _, tc := range []struct {
		name   string
		resp   graphql.Response
		status int
	}{
		{"data", graphql.Response{Data: json.RawMessage(`{"a":1}`)}, http.StatusOK},
		{"partial data and UNAVAILABLE", graphql.Response{Data: json.RawMessage(`{"a":null}`), Errors: gqlerror.List{unavailableErr}}, http.StatusOK},
		{"no data and another error", graphql.Response{Data: json.RawMessage(`null`), Errors: gqlerror.List{{Message: "x", Extensions: map[string]any{"code": "TIMEOUT"}}}}, http.StatusOK},
		{"no data and UNAVAILABLE", graphql.Response{Data: json.RawMessage(`null`), Errors: gqlerror.List{unavailableErr}}, http.StatusServiceUnavailable},
		{"empty data and UNAVAILABLE", graphql.Response{Errors: gqlerror.List{unavailableErr}}, http.StatusServiceUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, ok := Protocol{}.Negotiate(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/graphql", nil))
			if !ok {
				t.Fatal("no format")
			}
			w := httptest.NewRecorder()
			f.WriteResult(w, &tc.resp)
			retry := w.Header().Get("Retry-After")
			if w.Code != tc.status || (tc.status == http.StatusServiceUnavailable) != (retry != "") ||
				!strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
				t.Errorf("HTTP %d, Retry-After %q, Content-Type %q; want %d", w.Code, retry, w.Header().Get("Content-Type"), tc.status)
			}
		})
	}
}
