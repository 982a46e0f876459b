package apq

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
)

type mapCache map[string]string

func (c mapCache) Get(_ context.Context, k string) (string, bool) { v, ok := c[k]; return v, ok }
func (c mapCache) Add(_ context.Context, k, v string)             { c[k] = v }

// mapAllowlist finds documents by ID or by hash.
type mapAllowlist map[string]string

func (l mapAllowlist) Lookup(_ context.Context, idOrHash string) (string, bool, error) {
	body, ok := l[idOrHash]
	return body, ok, nil
}

// knownCodes are the codes MutateOperationParameters may refuse with.
var knownCodes = map[string]bool{
	CodeNotFound: true, CodeNotSupported: true, CodeNotAllowed: true, CodeHashMismatch: true, CodeBadExtension: true,
}

// decodeExtensions decodes extensions as the HTTP transports do.
func decodeExtensions(s string) (map[string]any, bool) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil {
		return nil, false
	}
	return m, true
}

// FuzzPersistedQueryExtension: whatever extensions.persistedQuery holds, in
// every mode, the request gets a document that hashes to what it named, or
// one of the persisted-query codes; never a panic.
func FuzzPersistedQueryExtension(f *testing.F) {
	const doc = `query A { shipments { totalCount } }`
	h := Hash(doc)
	for _, s := range [][2]string{
		{`{"persistedQuery": {"version": 1, "sha256Hash": "` + h + `"}}`, ""},
		{`{"persistedQuery": {"version": 1, "sha256Hash": "` + h + `"}}`, doc},
		{`{"persistedQuery": {"version": 1, "sha256Hash": "` + strings.ToUpper(h) + `"}}`, doc},
		{`{"persistedQuery": {"version": 1, "sha256Hash": "` + h + `"}}`, "{ other }"},
		{`{"persistedQuery": {"version": 1.0, "sha256Hash": "` + h + `"}}`, ""},
		{`{"persistedQuery": {"version": "1", "sha256Hash": "` + h + `"}}`, ""},
		{`{"persistedQuery": {"version": 2, "sha256Hash": "` + h + `"}}`, ""},
		{`{"persistedQuery": {"version": 1, "sha256Hash": "manifest-id", "documentId": true}}`, ""},
		{`{"persistedQuery": {"version": 1, "sha256Hash": 42}}`, ""},
		{`{"persistedQuery": {"sha256Hash": ["` + h + `"]}}`, ""},
		{`{"persistedQuery": {"version": 1, "sha256Hash": "zz` + h[2:] + `"}}`, ""},
		{`{"persistedQuery": {"version": 1, "sha256Hash": "` + strings.Repeat("a", 200) + `"}}`, ""},
		{`{"persistedQuery": "` + h + `"}`, ""},
		{`{"persistedQuery": [1]}`, ""},
		{`{"persistedQuery": null}`, doc},
		{`{"persistedQuery": {}}`, ""},
		{`{}`, doc},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, extensions, query string) {
		ext, ok := decodeExtensions(extensions)
		if !ok {
			return
		}
		ctx := context.Background()
		req, perr := parse(&graphql.RawParams{Query: query, Extensions: ext})
		if perr == nil && req.hasHash && !req.document && (!isSHA256(req.hash) || req.hash != strings.ToLower(req.hash)) {
			t.Fatalf("accepted hash %q", req.hash)
		}
		for _, e := range []Extension{
			{Mode: ModeAPQ, Cache: mapCache{h: doc}},
			{Mode: ModeAllowlist, Allowlist: mapAllowlist{h: doc, "manifest-id": doc}},
			{Mode: ModeAllowlist, Allowlist: mapAllowlist{h: doc}, Bypass: func(context.Context) bool { return true }},
			{Mode: ModeOff},
		} {
			raw := &graphql.RawParams{Query: query, Extensions: ext}
			err := e.MutateOperationParameters(ctx, raw)
			if err != nil {
				if code, _ := err.Extensions["code"].(string); !knownCodes[code] {
					t.Fatalf("%s: code %q: %v", e.Mode, code, err)
				}
				if len(err.Message) > 200 {
					t.Fatalf("%s: long message %q", e.Mode, err.Message)
				}
				continue
			}
			if perr != nil {
				t.Fatalf("%s: parse refused the extension (%v), the mode accepted it", e.Mode, perr)
			}
			switch {
			case e.Mode == ModeAPQ && req.hasHash && !req.document && Hash(raw.Query) != req.hash:
				t.Fatalf("apq: ran %q for hash %s", raw.Query, req.hash)
			case e.Mode == ModeAllowlist && e.Bypass == nil && raw.Query != doc:
				t.Fatalf("allowlist: ran %q", raw.Query)
			case e.Mode == ModeOff && raw.Query != query:
				t.Fatalf("off: the query changed to %q", raw.Query)
			}
		}
	})
}
