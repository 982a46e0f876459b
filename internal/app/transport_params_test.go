package app_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/auth"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// firstN is an operation with an Int variable, as clients send over every
// transport.
const firstN = `query FirstN($n: Int) { shipments(first: $n) { edges { node { id } } } }`

// wsResult runs payload as one operation over proto (graphql-transport-ws or
// the legacy graphql-ws) and returns the first result's payload.
func wsResult(t *testing.T, url, key, proto string, payload map[string]any) json.RawMessage {
	t.Helper()
	m := wsFirst(t, url, key, proto, payload)
	if (m.Type != "next" && m.Type != "data") || m.ID != "1" {
		t.Fatalf("%s: want a result, got %s %s %s", proto, m.Type, m.ID, m.Payload)
	}
	return m.Payload
}

// wsFirst runs payload as one operation over proto and returns the first
// message about it.
func wsFirst(t *testing.T, url, key, proto string, payload map[string]any) testutil.WSMessage {
	t.Helper()
	ws := testutil.MustDialWS(t, url, proto)
	ws.Init(bearer(key))
	typ := "subscribe"
	if proto == "graphql-ws" {
		typ = "start"
	}
	ws.Send(map[string]any{"id": "1", "type": typ, "payload": payload})
	m, err := ws.Read(10 * time.Second)
	if err != nil {
		t.Fatalf("%s: %v", proto, err)
	}
	return m
}

// sseResult posts body to /graphql as graphql-sse does and returns the data
// of its first event.
func sseResult(t *testing.T, url, key string, body map[string]any) string {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url+"/graphql", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		raw, _ := io.ReadAll(resp.Body)
		t.Fatalf("SSE: HTTP %d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), raw)
	}
	raw, _ := io.ReadAll(resp.Body) // an operation that is not a subscription ends with complete
	for line := range strings.SplitSeq(string(raw), "\n") {
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			return data
		}
	}
	t.Fatalf("SSE: no event in %q", raw)
	return ""
}

// wantEdges checks a result of firstN: no errors, n edges.
func wantEdges(t *testing.T, transport string, result []byte, n int) {
	t.Helper()
	var out struct {
		Data struct {
			Shipments struct {
				Edges []any `json:"edges"`
			} `json:"shipments"`
		} `json:"data"`
		Errors []any `json:"errors"`
	}
	if err := json.Unmarshal(result, &out); err != nil || len(out.Errors) > 0 || len(out.Data.Shipments.Edges) != n {
		t.Errorf("%s: want %d edges and no errors, got %s (%v)", transport, n, result, err)
	}
}

// TestIntVariablesOnEveryTransport: an Int variable coerces over Server-Sent
// Events and both websocket protocols as it does over POST (their payloads
// were decoded with float64 numbers: "float64 is not an int").
func TestIntVariablesOnEveryTransport(t *testing.T) {
	e := newEnv(t, testutil.SQLite)
	for range 3 {
		e.create(createInput(activeCustomer, "UPS"))
	}
	url := e.gql.URL()
	vars := map[string]any{"n": 2}
	r := e.gql.Do(firstN, vars)
	wantEdges(t, "POST", r.Raw, 2)
	wantEdges(t, "SSE", []byte(sseResult(t, url, e.adminKey, map[string]any{"query": firstN, "variables": vars})), 2)
	for _, proto := range []string{"graphql-transport-ws", "graphql-ws"} {
		wantEdges(t, proto, wsResult(t, url, e.adminKey, proto, map[string]any{"query": firstN, "variables": vars}), 2)
	}
}

// TestAllowlistOnSubscriptionTransports: a trusted document sent by its ID
// (documentId, or id) runs over Server-Sent Events and both websocket
// protocols as over POST and GET, and a document not listed is refused
// there too.
func TestAllowlistOnSubscriptionTransports(t *testing.T) {
	e := newEnv(t, testutil.SQLite, "PERSISTED_QUERIES=allowlist", "PERSISTED_QUERIES_ADMIN_BYPASS=true") // the admin creates the fixtures
	const id = "sha256:" + "5f2b1c0d9e8a7b6c5f2b1c0d9e8a7b6c5f2b1c0d9e8a7b6c5f2b1c0d9e8a7b6c"
	manifest, _ := json.Marshal(map[string]string{id: firstN})
	e.importManifest(t, manifest)
	e.create(createInput(activeCustomer, "UPS"))
	e.create(createInput(activeCustomer, "UPS"))
	url := e.gql.URL()
	key := e.key(auth.RoleStaff)
	vars := map[string]any{"n": 1}
	byID := map[string]any{"documentId": id, "variables": vars}
	wantEdges(t, "SSE documentId", []byte(sseResult(t, url, key, byID)), 1)
	for _, proto := range []string{"graphql-transport-ws", "graphql-ws"} {
		wantEdges(t, proto+" documentId", wsResult(t, url, key, proto, byID), 1)
	}
	wantEdges(t, "graphql-ws id", wsResult(t, url, key, "graphql-ws", map[string]any{"id": id, "variables": vars}), 1)

	unlisted := `query Unlisted { shipments { totalCount } }`
	if data := sseResult(t, url, key, map[string]any{"query": unlisted}); !strings.Contains(data, "PERSISTED_QUERY_NOT_ALLOWED") {
		t.Errorf("SSE unlisted: %s", data)
	}
	for _, proto := range []string{"graphql-transport-ws", "graphql-ws"} {
		if m := wsFirst(t, url, key, proto, map[string]any{"query": unlisted}); m.Type != "error" || !strings.Contains(string(m.Payload), "PERSISTED_QUERY_NOT_ALLOWED") {
			t.Errorf("%s unlisted: %s %s", proto, m.Type, m.Payload)
		}
	}
}

// TestEventStreamRouting: a POST is answered with an event stream only when
// the client prefers one (graphql-sse; urql's subscriptions), not when it
// merely lists text/event-stream after JSON (urql's queries and mutations).
func TestEventStreamRouting(t *testing.T) {
	e := newEnv(t, testutil.SQLite)
	for _, c := range []struct{ accept, want string }{
		// @urql/core's fetch options for queries and mutations.
		{"application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed", "application/graphql-response+json"},
		// ... and for subscriptions.
		{"text/event-stream, multipart/mixed", "text/event-stream"},
		{"text/event-stream", "text/event-stream"},
		{"application/json;q=0.5, text/event-stream", "text/event-stream"},
		{"*/*", "application/json"},
	} {
		b, _ := json.Marshal(map[string]any{"query": firstN, "variables": map[string]any{"n": 1}})
		r := e.gql.RawH(http.MethodPost, "/graphql", map[string]string{"Content-Type": "application/json", "Accept": c.accept}, b)
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, c.want) || r.Status != http.StatusOK {
			t.Errorf("Accept %q: HTTP %d %s, want %s", c.accept, r.Status, ct, c.want)
		}
	}
}

// TestRealClientsIntVariables: the real clients (graphql-ws,
// subscriptions-transport-ws, graphql-sse; testdata/subclient) run an
// operation with an Int variable on each transport.
func TestRealClientsIntVariables(t *testing.T) {
	script := testutil.RequireNodeClients(t, "../..")
	e := newEnv(t, testutil.SQLite)
	for range 3 {
		e.create(createInput(activeCustomer, "UPS"))
	}
	for _, proto := range []string{"graphql-transport-ws", "graphql-ws", "sse"} {
		t.Run(proto, func(t *testing.T) {
			url := "ws" + strings.TrimPrefix(e.gql.URL(), "http") + "/graphql"
			if proto == "sse" {
				url = e.gql.URL() + "/graphql"
			}
			lines, wait := runNodeClient(t, script, "--protocol", proto, "--url", url, "--key", e.adminKey,
				"--max", "1", "--query", firstN, "--variables", `{"n": 2}`)
			results := 0
			for l := range lines {
				switch l.Type {
				case "next":
					results++
					wantEdges(t, proto, l.Payload, 2)
				case "error":
					t.Errorf("client error: %s", l.Error)
				}
			}
			if err := wait(); err != nil {
				t.Fatalf("client: %v", err)
			}
			if results != 1 {
				t.Errorf("%d results, want 1", results)
			}
		})
	}
}

// TestAllowlistUpload: a multipart upload names its trusted document by
// documentId in the operations part, as a JSON POST does (the upload
// transport decoded the part without it: PERSISTED_QUERY_NOT_ALLOWED).
func TestAllowlistUpload(t *testing.T) {
	e := newEnv(t, testutil.SQLite, "PERSISTED_QUERIES=allowlist", "PERSISTED_QUERIES_ADMIN_BYPASS=true") // the admin creates the fixtures
	const id = "sha256:" + "6e3b1c0d9e8a7b6c5f2b1c0d9e8a7b6c5f2b1c0d9e8a7b6c5f2b1c0d9e8a7b6c"
	manifest, _ := json.Marshal(map[string]string{id: uploadOneMutation})
	e.importManifest(t, manifest)
	sh := e.create(createInput(activeCustomer, "DHL"))
	ops, _ := json.Marshal(map[string]any{"documentId": id, "variables": map[string]any{"s": sh.ID, "k": "LABEL", "f": nil}})
	body, ct := testutil.Multipart(t,
		testutil.Part{Name: "operations", Body: ops},
		testutil.Part{Name: "map", Body: []byte(`{"0":["variables.f"]}`)},
		testutil.Part{Name: "0", FileName: "a.pdf", ContentType: "application/pdf", Body: samplePDF[:1000]})
	staff := e.gql.Anonymous().As(e.key(auth.RoleStaff))
	r := staff.RawH(http.MethodPost, "/graphql", map[string]string{"Content-Type": ct}, body)
	if r.Status != http.StatusOK || len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"name":"a.pdf"`) {
		t.Errorf("upload by documentId: HTTP %d %s", r.Status, r.Raw)
	}
}
