// Package gqlhttp is the wire format of GraphQL over HTTP, as the GraphQL over
// HTTP draft (https://graphql.github.io/graphql-over-http/draft/) has it:
// Accept negotiation between application/graphql-response+json and
// application/json, the status codes of each, no data entry when nothing ran,
// 405 for mutations over GET and 415 for bodies of other media types.
//
// Incremental delivery of @defer lives here too: multipart/mixed answers
// (deferSpec=20220824) to the GET and POST requests that accept them
// (WriteIncremental), and InlineDefer, which resolves deferred fragments in
// place for every other request, so that no transport answers without them.
//
// Every rule of the wire format lives here. The transports (POST, GET and
// Unsupported here, multipart uploads in internal/upload) decode requests and
// answer through the Format that Protocol.Negotiate returns. DecodeParams is
// the one decoder of an operation's parameters, for those and for the
// subscription transports (internal/subtransport: SSE bodies, websocket
// payloads), and PrefersEventStream decides, by the same negotiation, which
// POSTs are Server-Sent Events.
package gqlhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shipmentapp/shipmentapp/internal/apperr"
)

// The response media types.
const (
	// GraphQLResponse is the draft's media type. Its status codes can be
	// trusted: a request whose operation did not run is 4xx (5xx for a
	// server fault) and has no data entry.
	GraphQLResponse = "application/graphql-response+json"
	// JSON is the legacy media type: a well-formed request is answered 200
	// even when its operation did not run, because a non-200 application/json
	// answer may come from any proxy on the way.
	JSON = "application/json"
)

// Protocol holds the one switch of the wire format.
type Protocol struct {
	// Legacy answers as gqlgen v0.17 did, for clients that cannot change
	// (GRAPHQL_HTTP_LEGACY): an Accept header naming neither media type gets
	// application/json instead of 406, and application/json answers have no
	// charset parameter, keep "data": null on request errors, and are 422
	// when the document does not parse or validate.
	Legacy bool
}

// Format is the media type a response is written in, and the rules that go
// with it.
type Format struct {
	mediaType string
	legacy    bool
	// incremental: the request accepts multipart/mixed incremental
	// delivery; multipartOnly: and no JSON type.
	incremental, multipartOnly bool
}

// MediaType returns the response's media type (GraphQLResponse or JSON).
func (f Format) MediaType() string { return f.mediaType }

// Negotiate returns the Format r accepts. When r accepts neither media type
// (nor multipart/mixed incremental delivery) it answers 406 Not Acceptable
// itself and returns false (with Legacy set, it returns JSON instead).
func (p Protocol) Negotiate(w http.ResponseWriter, r *http.Request) (Format, bool) {
	accept := r.Header.Values("Accept")
	inc := acceptsIncremental(accept)
	mt, ok := negotiate(accept)
	if ok {
		return Format{mediaType: mt, legacy: p.Legacy, incremental: inc}, true
	}
	f := Format{mediaType: JSON, legacy: p.Legacy, incremental: inc, multipartOnly: inc}
	if p.Legacy || inc {
		return f, true
	}
	f.WriteError(w, http.StatusNotAcceptable, apperr.BadRequest,
		"the Accept header names no media type this server answers in: accept application/graphql-response+json or application/json")
	return f, false
}

// formatFor is the Format of an answer to a request that is refused anyway:
// the negotiated one, else application/json.
func (p Protocol) formatFor(r *http.Request) Format {
	mt, ok := negotiate(r.Header.Values("Accept"))
	if !ok {
		mt = JSON
	}
	return Format{mediaType: mt, legacy: p.Legacy}
}

// negotiate picks the media type of the answer from the Accept header
// values: the one with the highest q; on a tie, the one named more
// specifically (application/json over application/* over */*), then the one
// listed first; between two matched by the same wildcard, application/json.
// No Accept header means application/json (what clients that send none have
// always received). It reports false when neither type is acceptable.
func negotiate(values []string) (string, bool) {
	// JSON first: it wins a full tie (*/*, application/*).
	return prefer(values, JSON, GraphQLResponse)
}

// EventStream is the media type of Server-Sent Events, the answer of the
// subscription transport (internal/subtransport).
const EventStream = "text/event-stream"

// PrefersEventStream reports whether the Accept header values prefer an
// event stream to either JSON answer, by negotiate's rules: a client that
// lists text/event-stream after a JSON type (urql's default for queries and
// mutations) is answered in JSON; one that sends only text/event-stream
// (graphql-sse), or ranks it first, gets the stream; on a full tie (*/*) JSON
// wins.
func PrefersEventStream(values []string) bool {
	mt, ok := prefer(values, JSON, GraphQLResponse, EventStream)
	return ok && mt == EventStream
}

// prefer is negotiate over candidates, the one listed first winning a full
// tie: a range matches a candidate exactly (specificity 2), by its type's
// wildcard such as application/* (1), or by */* (0).
func prefer(values []string, candidates ...string) (string, bool) {
	type match struct {
		q           float64
		specificity int // 2 exact, 1 application/*, 0 */*
		pos         int
	}
	var ranges []string
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				ranges = append(ranges, part)
			}
		}
	}
	if len(ranges) == 0 {
		return candidates[0], true
	}
	// At most three candidates (JSON, GraphQLResponse, EventStream): the
	// state stays on the stack, as this runs for every POST (twice).
	var bestArr [3]match
	var foundArr [3]bool
	best, found := bestArr[:len(candidates)], foundArr[:len(candidates)]
	for pos, raw := range ranges {
		mt, params, err := mime.ParseMediaType(raw)
		if err != nil {
			continue
		}
		q := 1.0
		if s, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(s, 64); err != nil || q < 0 || q > 1 {
				continue
			}
		}
		if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
			continue // we only write UTF-8
		}
		for i, c := range candidates {
			spec := -1
			switch {
			case mt == c:
				spec = 2
			case strings.HasSuffix(mt, "/*") && strings.HasPrefix(c, mt[:len(mt)-1]) && mt != "*/*":
				spec = 1
			case mt == "*/*":
				spec = 0
			}
			// The most specific range that matches decides a type's q.
			if spec < 0 || found[i] && spec <= best[i].specificity {
				continue
			}
			best[i], found[i] = match{q: q, specificity: spec, pos: pos}, true
		}
	}
	choice := -1
	for i := range candidates {
		if !found[i] || best[i].q <= 0 {
			continue
		}
		if choice < 0 {
			choice = i
			continue
		}
		b, c := best[i], best[choice]
		if b.q > c.q || b.q == c.q && (b.specificity > c.specificity || b.specificity == c.specificity && b.pos < c.pos) {
			choice = i
		}
	}
	if choice < 0 {
		return "", false
	}
	return candidates[choice], true
}

// contentType is the Content-Type of f's answers.
func (f Format) contentType() string {
	if f.legacy && f.mediaType == JSON {
		return JSON
	}
	return f.mediaType + "; charset=utf-8"
}

func (f Format) writeHeader(w http.ResponseWriter, status int) {
	h := w.Header()
	h.Set("Content-Type", f.contentType())
	// The answer depends on Accept: shared caches (GET, persisted queries)
	// must keep one copy per media type.
	h.Add("Vary", "Accept")
	w.WriteHeader(status)
}

// RefuseSubscription answers a subscription sent to a transport that answers
// once (POST, GET, multipart) with 400 BAD_REQUEST, and reports whether it
// did. Dispatched there, it would hold the request until its first event or
// its deadline, and answer that one event alone.
func (f Format) RefuseSubscription(w http.ResponseWriter, rc *graphql.OperationContext) bool {
	if rc == nil || rc.Operation == nil || rc.Operation.Operation != ast.Subscription {
		return false
	}
	f.WriteError(w, http.StatusBadRequest, apperr.BadRequest,
		"a subscription runs over a websocket (graphql-transport-ws or graphql-ws) or Server-Sent Events (POST with Accept: text/event-stream)")
	return true
}

// WriteResult answers a request whose operation ran: 200 with the data entry
// (null or partial when there are field errors), for either media type; 503
// with Retry-After when it produced no data because the main database could
// not be reached (UNAVAILABLE): load balancers and clients see a failure
// worth retrying, not a success. A nil resp — the executor's end of stream,
// when the request's context ended before the operation could run — is a
// TIMEOUT.
func (f Format) WriteResult(w http.ResponseWriter, resp *graphql.Response) {
	if resp == nil {
		f.WriteError(w, http.StatusServiceUnavailable, apperr.Timeout, "the request took too long and was stopped")
		return
	}
	if resp.HasNext != nil && *resp.HasNext {
		// Deferred fragments follow, and this answer is the only one: never
		// answer without them. InlineDefer keeps this from happening.
		f.WriteError(w, http.StatusInternalServerError, apperr.Internal,
			"the operation's deferred fragments cannot be delivered on this transport")
		return
	}
	b, err := encodeResult(resp)
	if err != nil {
		f.WriteError(w, http.StatusInternalServerError, apperr.Internal, "the response could not be encoded")
		return
	}
	status := http.StatusOK
	if unavailable(resp) {
		w.Header().Set("Retry-After", "1")
		status = http.StatusServiceUnavailable
	}
	f.writeHeader(w, status)
	_, _ = w.Write(b)
}

// unavailable reports whether resp has no data and an UNAVAILABLE error.
func unavailable(resp *graphql.Response) bool {
	if d := bytes.TrimSpace(resp.Data); len(d) != 0 && !bytes.Equal(d, []byte("null")) {
		return false
	}
	for _, e := range resp.Errors {
		if e.Extensions["code"] == string(apperr.Unavailable) {
			return true
		}
	}
	return false
}

// encodeResult is json.Marshal(resp), byte for byte but for <, > and & in
// the data, which it leaves unescaped (a JSON body, never HTML). The data is
// copied as gqlgen wrote it, compact and valid: json.Marshal would scan it
// to validate and compact it once more, a few percent of the CPU a large
// list costs. Incremental (@defer) parts take the general path.
func encodeResult(resp *graphql.Response) ([]byte, error) {
	if resp.Label != "" || resp.Path != nil || resp.HasNext != nil {
		return json.Marshal(resp)
	}
	var buf bytes.Buffer
	buf.Grow(len(resp.Data) + 64)
	buf.WriteByte('{')
	if len(resp.Errors) > 0 {
		errs, err := json.Marshal(resp.Errors)
		if err != nil {
			return nil, fmt.Errorf("encode the errors: %w", err)
		}
		buf.WriteString(`"errors":`)
		buf.Write(errs)
		buf.WriteByte(',')
	}
	buf.WriteString(`"data":`)
	if len(resp.Data) == 0 {
		buf.WriteString("null")
	} else {
		buf.Write(resp.Data)
	}
	if len(resp.Extensions) > 0 {
		ext, err := json.Marshal(resp.Extensions)
		if err != nil {
			return nil, fmt.Errorf("encode the extensions: %w", err)
		}
		buf.WriteString(`,"extensions":`)
		buf.Write(ext)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// requestError is a GraphQL response whose operation did not run: the GraphQL
// specification leaves out its data entry.
type requestError struct {
	Errors     gqlerror.List  `json:"errors"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

// WriteRequestError answers a well-formed request whose operation did not
// run — the document does not parse or validate, the operation cannot be
// found, the variables do not coerce, a persisted query is unknown, a
// GRAPHQL_MAX_* limit is exceeded. errs go through the error presenter.
// application/graphql-response+json: 400 (500 when the fault is the
// server's) and no data entry. application/json: 200 and no data entry.
func (f Format) WriteRequestError(ctx context.Context, w http.ResponseWriter, exec graphql.GraphExecutor, errs gqlerror.List) {
	// gqlgen's kind of the errors, read before the presenter renames codes.
	protocol := errcode.GetErrorKind(errs) == errcode.KindProtocol
	resp := exec.DispatchError(ctx, errs)
	status := http.StatusOK
	switch {
	case f.mediaType == GraphQLResponse:
		status = http.StatusBadRequest
		for _, e := range resp.Errors {
			if code, _ := e.Extensions["code"].(string); code == string(apperr.Internal) {
				status = http.StatusInternalServerError
			}
		}
	case f.legacy && protocol:
		status = http.StatusUnprocessableEntity
	}
	var body any = requestError{Errors: resp.Errors, Extensions: resp.Extensions}
	if f.legacy && f.mediaType == JSON {
		body = resp // gqlgen's "data": null
	}
	b, err := json.Marshal(body)
	if err != nil {
		f.WriteError(w, http.StatusInternalServerError, apperr.Internal, "the response could not be encoded")
		return
	}
	f.writeHeader(w, status)
	_, _ = w.Write(b)
}

// WriteError answers a request refused before GraphQL — not a well-formed
// GraphQL-over-HTTP request (BAD_REQUEST), over a limit, not allowed — with
// status, whatever the media type, and a GraphQL-shaped error carrying code
// and no data entry.
func (f Format) WriteError(w http.ResponseWriter, status int, code apperr.Code, msg string) {
	b, _ := json.Marshal(requestError{Errors: gqlerror.List{{
		Message: msg, Extensions: map[string]any{"code": string(code)},
	}}})
	f.writeHeader(w, status)
	_, _ = w.Write(b)
}
