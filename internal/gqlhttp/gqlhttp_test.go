package gqlhttp_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shipmentapp/shipmentapp/internal/gqlhttp"
)

func TestNegotiate(t *testing.T) {
	const (
		gr   = gqlhttp.GraphQLResponse
		js   = gqlhttp.JSON
		none = "" // 406
	)
	cases := []struct {
		accept []string // Accept header values; nil: no header
		want   string
		legacy string // with Legacy set; "" means the same as want
	}{
		// No Accept: application/json, what such clients always received (and
		// what the graphql-http audit expects, 80D8).
		{nil, js, ""},
		{[]string{""}, js, ""},
		{[]string{js}, js, ""},
		{[]string{gr}, gr, ""},
		{[]string{"application/json; charset=utf-8"}, js, ""},
		{[]string{"application/graphql-response+json; charset=UTF-8"}, gr, ""},
		// The draft's recommended client header: its first type wins the tie.
		{[]string{"application/graphql-response+json; charset=utf-8, application/json; charset=utf-8"}, gr, ""},
		{[]string{"application/json, application/graphql-response+json"}, js, ""},
		// q decides before the order.
		{[]string{"application/json;q=0.9, application/graphql-response+json"}, gr, ""},
		{[]string{"application/graphql-response+json;q=0.5, application/json"}, js, ""},
		// Apollo Client's and urql's header.
		{[]string{"application/graphql-response+json,application/json;q=0.9"}, gr, ""},
		// Wildcards give application/json (audit 47DE), unless a named type
		// is preferred.
		{[]string{"*/*"}, js, ""},
		{[]string{"application/*"}, js, ""},
		{[]string{"text/html, */*;q=0.1"}, js, ""},
		{[]string{"*/*;q=0.5, application/graphql-response+json"}, gr, ""},
		{[]string{"*/*, application/graphql-response+json"}, gr, ""}, // exact beats wildcard at equal q
		// GraphiQL's header: multipart/mixed is not served, JSON is.
		{[]string{"application/json, multipart/mixed"}, js, ""},
		// Several Accept header lines are one list.
		{[]string{"text/html", "application/graphql-response+json"}, gr, ""},
		// q=0 refuses a type, even when a wildcard would take it.
		{[]string{"application/json;q=0, */*"}, gr, ""},
		{[]string{"application/json;q=0, application/graphql-response+json;q=0, */*"}, none, js},
		// Nothing we write: 406 (Legacy: application/json anyway).
		{[]string{"text/html"}, none, js},
		{[]string{"application/xml, text/plain"}, none, js},
		{[]string{"text/event-stream"}, none, js}, // (SSE never reaches here)
		{[]string{"application/json; charset=iso-8859-1"}, none, js},
		{[]string{"*/*;q=0"}, none, js},
		// Malformed ranges are skipped.
		{[]string{"garbage;;, application/json"}, js, ""},
		{[]string{"application/json;q=abc"}, none, js},
		{[]string{"application/json;q=2"}, none, js},
	}
	for _, c := range cases {
		for _, legacy := range []bool{false, true} {
			want := c.want
			if legacy && c.legacy != "" {
				want = c.legacy
			}
			r := httptest.NewRequest(http.MethodPost, "/graphql", nil)
			for _, v := range c.accept {
				r.Header.Add("Accept", v)
			}
			w := httptest.NewRecorder()
			f, ok := gqlhttp.Protocol{Legacy: legacy}.Negotiate(w, r)
			switch {
			case want == none:
				if ok || w.Code != http.StatusNotAcceptable || w.Header().Get("Content-Type") != "application/json; charset=utf-8" {
					t.Errorf("legacy=%v Accept %q: ok=%v HTTP %d %q, want 406", legacy, c.accept, ok, w.Code, w.Header().Get("Content-Type"))
				}
				var body struct {
					Data   any `json:"data"`
					Errors []struct {
						Extensions map[string]any `json:"extensions"`
					} `json:"errors"`
				}
				if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || len(body.Errors) != 1 || body.Errors[0].Extensions["code"] != "BAD_REQUEST" {
					t.Errorf("406 body: %s", w.Body)
				}
			case !ok || f.MediaType() != want || w.Body.Len() > 0:
				t.Errorf("legacy=%v Accept %q: ok=%v %q (wrote %q), want %q", legacy, c.accept, ok, f.MediaType(), w.Body, want)
			}
		}
	}
}

// TestWriteResultUnavailable: a result with no data because the main
// database could not be reached is answered 503 with Retry-After, its media
// type and Vary set; with data, or with other errors, it is 200. The status
// is written once (the soak test found a 503 written by a response hook
// before the transport wrote 200: the headers set after it were lost and the
// access log and metrics counted 200).
func TestWriteResultUnavailable(t *testing.T) {
	unavailable := gqlerror.List{{Message: "the database is unavailable; retry later", Extensions: map[string]any{"code": "UNAVAILABLE"}}}
	other := gqlerror.List{{Message: "no", Extensions: map[string]any{"code": "FORBIDDEN"}}}
	for _, c := range []struct {
		name       string
		resp       graphql.Response
		status     int
		retryAfter string
	}{
		{"no data, UNAVAILABLE", graphql.Response{Errors: unavailable}, http.StatusServiceUnavailable, "1"},
		{"null data, UNAVAILABLE", graphql.Response{Data: json.RawMessage(`null`), Errors: unavailable}, http.StatusServiceUnavailable, "1"},
		{"partial data, UNAVAILABLE", graphql.Response{Data: json.RawMessage(`{"a":null,"b":1}`), Errors: unavailable}, http.StatusOK, ""},
		{"no data, another error", graphql.Response{Errors: other}, http.StatusOK, ""},
		{"data", graphql.Response{Data: json.RawMessage(`{"a":1}`)}, http.StatusOK, ""},
	} {
		r := httptest.NewRequest(http.MethodPost, "/graphql", nil)
		r.Header.Set("Accept", gqlhttp.JSON)
		rec := httptest.NewRecorder()
		w := &countingWriter{ResponseWriter: rec}
		f, ok := gqlhttp.Protocol{}.Negotiate(w, r)
		if !ok {
			t.Fatal("negotiate")
		}
		f.WriteResult(w, &c.resp)
		if rec.Code != c.status || rec.Header().Get("Retry-After") != c.retryAfter || w.headers != 1 ||
			rec.Header().Get("Content-Type") != "application/json; charset=utf-8" || rec.Header().Get("Vary") != "Accept" {
			t.Errorf("%s: HTTP %d (%d WriteHeader calls) Retry-After %q Content-Type %q Vary %q, want %d once, Retry-After %q",
				c.name, rec.Code, w.headers, rec.Header().Get("Retry-After"), rec.Header().Get("Content-Type"), rec.Header().Get("Vary"), c.status, c.retryAfter)
		}
		var body struct{ Errors []any }
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || len(body.Errors) != len(c.resp.Errors) {
			t.Errorf("%s: body %s", c.name, rec.Body)
		}
	}
}

// countingWriter counts WriteHeader calls.
type countingWriter struct {
	http.ResponseWriter
	headers int
}

func (w *countingWriter) WriteHeader(code int) {
	w.headers++
	w.ResponseWriter.WriteHeader(code)
}

// TestPrefersEventStream: text/event-stream competes with the JSON types by
// Negotiate's rules (q, then specificity, then order; JSON wins a full tie).
func TestPrefersEventStream(t *testing.T) {
	for _, c := range []struct {
		accept []string
		want   bool
	}{
		{nil, false},
		{[]string{""}, false},
		{[]string{"text/event-stream"}, true}, // graphql-sse
		{[]string{"TEXT/EVENT-STREAM; charset=utf-8"}, true},
		{[]string{"text/event-stream; charset=iso-8859-1"}, false},
		// @urql/core: queries and mutations, then subscriptions.
		{[]string{"application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed"}, false},
		{[]string{"text/event-stream, multipart/mixed"}, true},
		{[]string{"application/json, text/event-stream"}, false},
		{[]string{"text/event-stream, application/json"}, true},
		{[]string{"application/json;q=0.9, text/event-stream"}, true},
		{[]string{"text/event-stream;q=0.9, application/json"}, false},
		{[]string{"text/event-stream;q=0"}, false},
		{[]string{"*/*, text/event-stream"}, true}, // exact beats wildcard
		{[]string{"application/*, text/event-stream"}, true},
		{[]string{"application/json", "text/event-stream;q=1"}, false}, // several lines are one list
		{[]string{"text/*"}, true},
		{[]string{"*/*"}, false},
		{[]string{"multipart/mixed"}, false},
	} {
		if got := gqlhttp.PrefersEventStream(c.accept); got != c.want {
			t.Errorf("%q: %v, want %v", c.accept, got, c.want)
		}
	}
}
