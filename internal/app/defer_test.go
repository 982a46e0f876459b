package app_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/auth"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// @defer (internal/gqlhttp's incremental.go and deferinline.go): a client
// that asks for multipart/mixed gets the deferred fragments in later parts;
// any other gets them in place, in one answer. Either way, the data and the
// errors are those of the same document without @defer.

// acceptDefer is what Apollo Client sends for a document with @defer.
const acceptDefer = "multipart/mixed;deferSpec=20220824, application/json"

// deferDoc is a document with @defer and its twin without.
type deferDoc struct {
	name   string
	query  string
	plain  string
	vars   map[string]any
	defers bool // some fragment is deferred (not @defer(if: false))
}

func deferDocs(shipmentID string) []deferDoc {
	return []deferDoc{
		{
			name:   "the issue's list",
			query:  `{ shipments(first: 2) { edges { node { reference ... @defer { customer { name } } } } } }`,
			plain:  `{ shipments(first: 2) { edges { node { reference customer { name } } } } }`,
			defers: true,
		},
		{
			name: "labelled named fragment",
			query: `query { shipments(first: 3) { totalCount edges { node { id ...Customer @defer(label: "customer") } } } }
				fragment Customer on Shipment { customer { name country { code } } }`,
			plain: `query { shipments(first: 3) { totalCount edges { node { id ...Customer } } } }
				fragment Customer on Shipment { customer { name country { code } } }`,
			defers: true,
		},
		{
			name:   "one shipment, two labels",
			query:  `query($id: ID!) { shipment(id: $id) { reference ... @defer(label: "a") { carrier } ... @defer(label: "b") { customer { name } } } }`,
			plain:  `query($id: ID!) { shipment(id: $id) { reference carrier customer { name } } }`,
			vars:   map[string]any{"id": shipmentID},
			defers: true,
		},
		{
			// gqlgen defers no root field: one payload, with its error.
			name:  "@defer at the root, a field error",
			query: `{ shipments(first: 1) { totalCount } ... @defer { node(id: "not an id") { id } } }`,
			plain: `{ shipments(first: 1) { totalCount } node(id: "not an id") { id } }`,
		},
		{
			name:  "@defer(if: false)",
			query: `query($d: Boolean!) { shipments(first: 2) { edges { node { reference ... @defer(if: $d) { status } } } } }`,
			plain: `{ shipments(first: 2) { edges { node { reference status } } } }`,
			vars:  map[string]any{"d": false},
		},
	}
}

// deferAnswer is an answer read whole: the data with every deferred
// fragment merged in place, its errors, and the payloads it came in.
type deferAnswer struct {
	status   int
	ctype    string
	data     any
	errors   []testutil.GQLError
	payloads []map[string]json.RawMessage
	raw      []byte
}

// sendDefer sends doc (or its plain twin) over method with accept.
func sendDefer(t *testing.T, gql *testutil.Client, method, accept, query string, vars map[string]any) deferAnswer {
	t.Helper()
	var r *testutil.Response
	switch method {
	case http.MethodGet:
		q := url.Values{"query": {query}}
		if vars != nil {
			b, _ := json.Marshal(vars)
			q.Set("variables", string(b))
		}
		r = gql.RawH(method, "/graphql?"+q.Encode(), getHeaders(accept), nil)
	default:
		body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		r = gql.RawH(method, "/graphql", jsonPost(accept), body)
	}
	return readAnswer(t, r.Status, r.Header.Get("Content-Type"), r.Raw)
}

// readAnswer reads a JSON or multipart/mixed answer and merges its payloads.
func readAnswer(t *testing.T, status int, ctype string, raw []byte) deferAnswer {
	t.Helper()
	a := deferAnswer{status: status, ctype: ctype, raw: raw}
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		t.Fatalf("Content-Type %q: %v", ctype, err)
	}
	var bodies [][]byte
	if mt == "multipart/mixed" {
		mr := multipart.NewReader(bytes.NewReader(raw), params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("multipart: %v in %q", err, raw)
			}
			if ct := p.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("part Content-Type %q", ct)
			}
			b, err := io.ReadAll(p)
			if err != nil {
				t.Fatal(err)
			}
			bodies = append(bodies, b)
		}
	} else {
		bodies = [][]byte{raw}
	}
	for _, b := range bodies {
		var p map[string]json.RawMessage
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatalf("payload %q: %v", b, err)
		}
		a.payloads = append(a.payloads, p)
	}
	for i, p := range a.payloads {
		var errs []testutil.GQLError
		if e, ok := p["errors"]; ok {
			if err := json.Unmarshal(e, &errs); err != nil {
				t.Fatal(err)
			}
			a.errors = append(a.errors, errs...)
		}
		if i == 0 {
			if d, ok := p["data"]; ok {
				if err := json.Unmarshal(d, &a.data); err != nil {
					t.Fatal(err)
				}
			}
			continue
		}
		var items []struct {
			Data   map[string]any      `json:"data"`
			Path   []any               `json:"path"`
			Label  string              `json:"label"`
			Errors []testutil.GQLError `json:"errors"`
		}
		if err := json.Unmarshal(p["incremental"], &items); err != nil {
			t.Fatalf("incremental of %s: %v", raw, err)
		}
		for _, it := range items {
			a.errors = append(a.errors, it.Errors...)
			if err := mergeAt(a.data, it.Path, it.Data); err != nil {
				t.Fatalf("%v in %s", err, raw)
			}
		}
	}
	return a
}

// mergeAt copies patch's entries into the object at path in data.
func mergeAt(data any, path []any, patch map[string]any) error {
	cur := data
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := cur.(map[string]any)
			if !ok {
				return fmt.Errorf("path %v: %q of a non-object", path, k)
			}
			cur = m[k]
		case float64:
			l, ok := cur.([]any)
			if !ok || int(k) >= len(l) {
				return fmt.Errorf("path %v: index %v out of a list", path, k)
			}
			cur = l[int(k)]
		}
	}
	m, ok := cur.(map[string]any)
	if !ok {
		return fmt.Errorf("path %v: not an object", path)
	}
	for k, v := range patch {
		m[k] = v
	}
	return nil
}

// errorKeys is errors as sorted "code path" strings.
func errorKeys(errs []testutil.GQLError) []string {
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = fmt.Sprintf("%s %v", e.Code(), e.Path)
	}
	sort.Strings(out)
	return out
}

func hasNextOf(p map[string]json.RawMessage) string { return string(p["hasNext"]) }

func TestDefer(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := newEnv(t, b)
		mine := e.create(createInput(activeCustomer, "UPS"))
		e.create(createInput(otherActiveCustomer, "DHL"))
		e.create(createInput(activeCustomer, "GLS"))
		partner := testutil.NewClient(t, e.app.Handler).As(e.key(auth.RolePartner, activeCustomer))
		clients := []struct {
			name string
			gql  *testutil.Client
		}{{"admin", e.gql}, {"partner", partner}}
		for _, c := range clients {
			for _, doc := range deferDocs(mine.ID) {
				want := sendDefer(t, c.gql, http.MethodPost, "", doc.plain, doc.vars)
				if want.status != 200 || want.data == nil {
					t.Fatalf("%s: the plain document: %d %s", doc.name, want.status, want.raw)
				}
				for _, method := range []string{http.MethodPost, http.MethodGet} {
					for _, accept := range []string{"", "application/json", acceptGR, acceptDefer, "multipart/mixed"} {
						name := fmt.Sprintf("%s/%s/%s/%s", c.name, doc.name, method, accept)
						t.Run(name, func(t *testing.T) {
							got := sendDefer(t, c.gql, method, accept, doc.query, doc.vars)
							if got.status != 200 {
								t.Fatalf("HTTP %d: %s", got.status, got.raw)
							}
							switch {
							case strings.HasPrefix(accept, "multipart/mixed") && doc.defers:
								checkStream(t, got)
							case accept == "multipart/mixed":
								// No JSON type accepted: one part.
								if !strings.HasPrefix(got.ctype, "multipart/mixed") || len(got.payloads) != 1 {
									t.Fatalf("answer to Accept %q: %q %s", accept, got.ctype, got.raw)
								}
								if _, ok := got.payloads[0]["hasNext"]; ok {
									t.Fatalf("hasNext in a whole answer: %s", got.raw)
								}
							default:
								if strings.HasPrefix(got.ctype, "multipart/") {
									t.Fatalf("multipart answer to Accept %q: %s", accept, got.raw)
								}
								if _, ok := got.payloads[0]["hasNext"]; ok {
									t.Fatalf("hasNext in a whole answer: %s", got.raw)
								}
							}
							if !reflect.DeepEqual(got.data, want.data) {
								t.Errorf("data:\n got %s\nwant %s", got.raw, want.raw)
							}
							if g, w := errorKeys(got.errors), errorKeys(want.errors); !reflect.DeepEqual(g, w) {
								t.Errorf("errors %v, want %v: %s", g, w, got.raw)
							}
						})
					}
				}
			}
		}
	})
}

// checkStream checks the shape of a multipart/mixed answer: the first
// payload {data, hasNext: true}, then {incremental, hasNext}, hasNext false
// on the last only.
func checkStream(t *testing.T, a deferAnswer) {
	t.Helper()
	if a.ctype != `multipart/mixed; boundary="-"; deferSpec=20220824` {
		t.Fatalf("Content-Type %q: %s", a.ctype, a.raw)
	}
	if len(a.payloads) < 2 {
		t.Fatalf("%d payloads: %s", len(a.payloads), a.raw)
	}
	if _, ok := a.payloads[0]["data"]; !ok || hasNextOf(a.payloads[0]) != "true" {
		t.Errorf("first payload: %s", a.raw)
	}
	for i, p := range a.payloads[1:] {
		last := i == len(a.payloads)-2
		if _, ok := p["incremental"]; !ok {
			t.Errorf("payload %d has no incremental: %s", i+1, a.raw)
		}
		if want := fmt.Sprint(!last); hasNextOf(p) != want {
			t.Errorf("payload %d hasNext %s, want %s: %s", i+1, hasNextOf(p), want, a.raw)
		}
	}
	if !bytes.HasSuffix(a.raw, []byte("\r\n-----\r\n")) {
		t.Errorf("no closing delimiter: %q", a.raw)
	}
}

// TestDeferInlinedElsewhere: where deferred fragments cannot follow — a
// mutation (gqlgen never completes them), a query or a subscription over
// Server-Sent Events (and websockets, through the same executor) — they are
// resolved in place: one answer with every field, never hasNext.
func TestDeferInlinedElsewhere(t *testing.T) {
	e := newEnv(t, testutil.SQLite)
	sh := e.create(createInput(activeCustomer, "UPS"))
	const customer = `"customer":{"name":"Boulangerie Martin SARL"}`

	mutation := `mutation($id: ID!, $in: TrackingEventInput!) {
		addTrackingEvent(shipmentId: $id, input: $in) { status ... @defer(label: "more") { shipment { reference customer { name } } } } }`
	for i, accept := range []string{"", acceptDefer} {
		body, _ := json.Marshal(map[string]any{"query": mutation, "variables": map[string]any{"id": sh.ID, "in": map[string]any{
			"status": []string{"LABEL_CREATED", "IN_TRANSIT"}[i], "occurredAt": at(i + 1), "description": "scan",
		}}})
		r := e.gql.RawH(http.MethodPost, "/graphql", jsonPost(accept), body)
		if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") ||
			!strings.Contains(string(r.Raw), customer) || strings.Contains(string(r.Raw), "hasNext") || len(r.Errors) > 0 {
			t.Errorf("mutation, Accept %q: HTTP %d %s", accept, r.Status, r.Raw)
		}
	}

	url := e.gql.URL()
	_, q := openSSE(t, url, e.adminKey, `query($id: ID!) { shipment(id: $id) { reference ... @defer { customer { name } } } }`, map[string]any{"id": sh.ID})
	if ev, _ := nextSSE(t, q); ev.name != "next" || !strings.Contains(ev.data, customer) || strings.Contains(ev.data, "hasNext") {
		t.Fatalf("query over SSE: %+v", ev)
	}
	if ev, _ := nextSSE(t, q); ev.name != "complete" {
		t.Fatalf("query over SSE: want complete, got %+v", ev)
	}

	_, events := openSSE(t, url, e.adminKey, `subscription($id: ID!) { trackingEventAdded(shipmentId: $id) { status ... @defer { shipment { customer { name } } } } }`, map[string]any{"id": sh.ID})
	waitSubscribers(t, e.app, 1)
	if r := e.addEvent(sh.ID, "EXCEPTION", at(5)); len(r.Errors) > 0 {
		t.Fatalf("add an event: %s", r.Raw)
	}
	if ev, _ := nextSSE(t, events); ev.name != "next" || !strings.Contains(ev.data, customer) || strings.Contains(ev.data, "hasNext") {
		t.Fatalf("subscription over SSE: %+v", ev)
	}
}

// TestDeferPersisted: a persisted query (APQ) with @defer, named by its hash
// over GET, is streamed like the document itself.
func TestDeferPersisted(t *testing.T) {
	e := newEnv(t, testutil.SQLite)
	e.create(createInput(activeCustomer, "UPS"))
	const query = `{ shipments(first: 1) { edges { node { reference ... @defer { customer { name } } } } } }`
	sum := sha256.Sum256([]byte(query))
	ext := fmt.Sprintf(`{"persistedQuery":{"version":1,"sha256Hash":"%x"}}`, sum)
	// Registered by a POST of the document with its hash.
	reg := e.gql.RawH(http.MethodPost, "/graphql", jsonPost(acceptDefer), []byte(fmt.Sprintf(`{"query":%q,"extensions":%s}`, query, ext)))
	checkStream(t, readAnswer(t, reg.Status, reg.Header.Get("Content-Type"), reg.Raw))
	for _, accept := range []string{acceptDefer, acceptGR} {
		r := e.gql.RawH(http.MethodGet, "/graphql?"+url.Values{"extensions": {ext}}.Encode(), getHeaders(accept), nil)
		a := readAnswer(t, r.Status, r.Header.Get("Content-Type"), r.Raw)
		if accept == acceptDefer {
			checkStream(t, a)
		} else if len(a.payloads) != 1 || strings.Contains(string(r.Raw), "hasNext") {
			t.Errorf("Accept %q: %s", accept, r.Raw)
		}
		if !strings.Contains(fmt.Sprint(a.data), "Boulangerie Martin SARL") || len(a.errors) > 0 {
			t.Errorf("Accept %q: %v %s", accept, a.data, r.Raw)
		}
	}
}

// TestDeferDolibarrDown: with Dolibarr unreachable (no answer: the
// DOLIBARR_DB_TIMEOUT passes), the shipment list comes first, at once, and
// the deferred customers follow as null with one DOLIBARR_UNAVAILABLE error
// each, as in the plain answer.
func TestDeferDolibarrDown(t *testing.T) {
	a, gql, proxy := dolibarrBehindProxy(t, 2)
	proxy.Blackhole()
	const (
		query = `{ shipments(first: 2) { edges { node { reference ... @defer { customer { name } } } } } }`
		plain = `{ shipments(first: 2) { edges { node { reference customer { name } } } } }`
	)

	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest(http.MethodPost, gql.URL()+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", acceptDefer)
	req.Header.Set("Authorization", "Bearer "+newKey(t, a, auth.RoleAdmin))
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	// The first part is read before the rest is written: it is flushed.
	var raw bytes.Buffer
	br := bufio.NewReader(io.TeeReader(resp.Body, &raw))
	var firstAt time.Duration
	for firstAt == 0 {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("%v: %q", err, raw.String())
		}
		if strings.Contains(line, `"hasNext":true`) {
			firstAt = time.Since(start)
		}
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		t.Fatal(err)
	}
	total := time.Since(start)
	// DOLIBARR_DB_TIMEOUT is 1s: the list must not wait for it.
	if firstAt > 500*time.Millisecond || total-firstAt < 500*time.Millisecond {
		t.Errorf("first part after %v, the last after %v: the list did not come first", firstAt, total)
	}
	got := readAnswer(t, resp.StatusCode, resp.Header.Get("Content-Type"), raw.Bytes())
	checkStream(t, got)
	want := sendDefer(t, gql, http.MethodPost, "", plain, nil)
	if !reflect.DeepEqual(got.data, want.data) {
		t.Errorf("data:\n got %s\nwant %s", got.raw, want.raw)
	}
	if g, w := errorKeys(got.errors), errorKeys(want.errors); !reflect.DeepEqual(g, w) || len(g) != 2 || !strings.HasPrefix(g[0], "DOLIBARR_UNAVAILABLE ") {
		t.Errorf("errors %v, want %v (two DOLIBARR_UNAVAILABLE): %s", g, w, got.raw)
	}
}

// TestDeferNonNullError: a non-null field that fails under a deferred
// fragment nulls that part's data, with its error; the first part stands.
// In place (no multipart), the null goes up to the nearest nullable field,
// as without @defer.
func TestDeferNonNullError(t *testing.T) {
	e := newEnv(t, testutil.SQLite)
	sh := e.create(createInput(activeCustomer, "UPS"))
	const query = `query($id: ID!) { shipment(id: $id) { reference ... @defer(label: "events") { events(first: 1000) { totalCount } } } }`
	vars := map[string]any{"id": sh.ID}
	got := sendDefer(t, e.gql, http.MethodPost, acceptDefer, query, vars)
	checkStream(t, got)
	if len(got.payloads) != 2 || !bytes.Contains(got.payloads[0]["data"], []byte(sh.Reference)) ||
		!strings.Contains(string(got.payloads[1]["incremental"]), `"data":null`) || len(got.errors) != 1 {
		t.Errorf("streamed: %s", got.raw)
	}
	plain := sendDefer(t, e.gql, http.MethodPost, "", query, vars)
	if !reflect.DeepEqual(plain.data, map[string]any{"shipment": nil}) || len(plain.errors) != 1 || plain.errors[0].Code() != got.errors[0].Code() {
		t.Errorf("in place: %s", plain.raw)
	}
}
