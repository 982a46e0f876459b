package gqlhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/shipmentapp/shipmentapp/internal/apperr"
	"github.com/shipmentapp/shipmentapp/internal/apq"
)

// POST serves POSTs of application/json (UTF-8), the media type every
// client sends.
type POST struct{ Protocol }

var _ graphql.Transport = POST{}

// Supports implements graphql.Transport.
func (POST) Supports(r *http.Request) bool {
	return r.Method == http.MethodPost && isJSON(r.Header.Get("Content-Type"))
}

// isJSON reports whether a Content-Type is application/json in UTF-8 (the
// default when no charset is named).
func isJSON(contentType string) bool {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != JSON {
		return false
	}
	cs, ok := params["charset"]
	return !ok || strings.EqualFold(cs, "utf-8")
}

// Do implements graphql.Transport.
func (t POST) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	f, ok := t.Negotiate(w, r)
	if !ok {
		return
	}
	start := graphql.Now()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		f.WriteError(w, http.StatusBadRequest, apperr.BadRequest, "could not read the request body")
		return
	}
	params, err := DecodeParams(body)
	if err != nil {
		f.WriteError(w, http.StatusBadRequest, apperr.BadRequest, err.Error())
		return
	}
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	serve(r.Context(), w, r, exec, f, params, false)
}

// DecodeParams reads one GraphQL operation's parameters as every transport
// receives them — a POST body, an SSE POST body, a websocket subscribe (or
// legacy start) payload: one JSON object whose query and operationName are
// strings and whose variables and extensions are objects (any of them may be
// null or absent). Numbers stay json.Number, so that gqlgen coerces them to
// Int and Float alike on every transport, and a trusted document's ID
// (documentId, or id) becomes its persisted query (apq.SetDocumentID). The
// error says what is wrong in a few words, never echoing the input.
func DecodeParams(data []byte) (*graphql.RawParams, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New(`the request is empty: send {"query": "..."}`)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var p struct {
		graphql.RawParams
		// A trusted document's ID (apq.SetDocumentID): any JSON value, so
		// that one that is not a string is ignored, not refused.
		ID         any `json:"id"`
		DocumentID any `json:"documentId"`
	}
	if err := dec.Decode(&p); err != nil {
		// What is wrong first: a websocket close reason keeps 123 bytes.
		return nil, fmt.Errorf("not a GraphQL request: %s (send a JSON object with a string query, and optionally a string operationName and object variables and extensions)", jsonProblem(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("more than one JSON value: batched requests are not supported")
	}
	apq.SetDocumentID(&p.RawParams, p.DocumentID, p.ID)
	return &p.RawParams, nil
}

// jsonProblem describes a decoding error without echoing the body.
func jsonProblem(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		if typeErr.Field == "" {
			return "got a JSON " + typeErr.Value
		}
		// The path may hold the client's own map keys: never echo much.
		field := strings.TrimPrefix(typeErr.Field, "RawParams.") // DecodeParams' embedding
		if len(field) > 64 {
			field = strings.ToValidUTF8(field[:64], "") + "…"
		}
		return fmt.Sprintf("%q is a JSON %s", field, typeErr.Value)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "the JSON is cut off"
	}
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) {
		return fmt.Sprintf("invalid JSON at byte %d", syntaxErr.Offset)
	}
	return "invalid JSON"
}

// GET serves queries over GET, the parameters in the URL's query string
// (persisted queries, cacheable by a CDN). Mutations and subscriptions get
// 405 with Allow: POST, and never run.
type GET struct{ Protocol }

var _ graphql.Transport = GET{}

// Supports implements graphql.Transport.
func (GET) Supports(r *http.Request) bool { return r.Method == http.MethodGet }

// Do implements graphql.Transport.
func (t GET) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	f, ok := t.Negotiate(w, r)
	if !ok {
		return
	}
	start := graphql.Now()
	params, err := decodeQuery(r.URL.RawQuery)
	if err != nil {
		f.WriteError(w, http.StatusBadRequest, apperr.BadRequest, err.Error())
		return
	}
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	serve(r.Context(), w, r, exec, f, params, true)
}

// decodeQuery reads the GraphQL-over-HTTP parameters of a GET's query
// string: query and operationName as they are, variables and extensions as
// JSON objects (or null), each one JSON value with nothing after it.
func decodeQuery(rawQuery string) (*graphql.RawParams, error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, errors.New("the URL's query string is not application/x-www-form-urlencoded")
	}
	params := &graphql.RawParams{Query: q.Get("query"), OperationName: q.Get("operationName")}
	for _, p := range []struct {
		name string
		into *map[string]any
	}{{"variables", &params.Variables}, {"extensions", &params.Extensions}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(v))
		dec.UseNumber()
		if err := dec.Decode(p.into); err != nil {
			return nil, fmt.Errorf("the %s parameter is not a JSON object: %s", p.name, jsonProblem(err))
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, fmt.Errorf("the %s parameter is not one JSON object: something follows it", p.name)
		}
	}
	apq.SetDocumentID(params, q.Get("documentId"), q.Get("id"))
	return params, nil
}

// serve runs a decoded request and answers it in f.
func serve(ctx context.Context, w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, f Format, params *graphql.RawParams, queriesOnly bool) {
	if params.Query == "" && params.Extensions["persistedQuery"] == nil {
		f.WriteError(w, http.StatusBadRequest, apperr.BadRequest, "the request has no query: send the document as query (or a persisted query's hash in extensions.persistedQuery)")
		return
	}
	params.Headers = r.Header
	if f.incremental {
		// The query's @defer is kept (InlineDefer), served as multipart.
		ctx = WithIncremental(ctx)
	}
	rc, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		f.WriteRequestError(graphql.WithOperationContext(ctx, rc), w, exec, errs)
		return
	}
	if f.RefuseSubscription(w, rc) {
		return
	}
	if queriesOnly && rc.Operation != nil && rc.Operation.Operation != ast.Query {
		w.Header().Set("Allow", http.MethodPost)
		f.WriteError(w, http.StatusMethodNotAllowed, apperr.BadRequest,
			fmt.Sprintf("a %s runs only over POST: GET serves queries", rc.Operation.Operation))
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, rc)
	if f.incremental {
		f.WriteIncremental(ctx, w, responses)
		return
	}
	f.WriteResult(w, responses(ctx))
}

// Unsupported answers what no other transport serves, so it must be added
// last: 405 with Allow for methods other than GET and POST, 415 for POSTs of
// another media type (or none).
type Unsupported struct{ Protocol }

var _ graphql.Transport = Unsupported{}

// Supports implements graphql.Transport: everything.
func (Unsupported) Supports(*http.Request) bool { return true }

// Do implements graphql.Transport.
func (t Unsupported) Do(w http.ResponseWriter, r *http.Request, _ graphql.GraphExecutor) {
	f := t.formatFor(r)
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET, POST, OPTIONS")
		f.WriteError(w, http.StatusMethodNotAllowed, apperr.BadRequest,
			fmt.Sprintf("/graphql serves GET (queries) and POST, not %s", r.Method))
		return
	}
	ct := "none"
	if v := r.Header.Get("Content-Type"); v != "" {
		ct = fmt.Sprintf("%.64q", v)
	}
	f.WriteError(w, http.StatusUnsupportedMediaType, apperr.BadRequest,
		fmt.Sprintf("unsupported Content-Type %s: send Content-Type: application/json (UTF-8), or multipart/form-data for uploads", ct))
}
