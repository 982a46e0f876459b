package gqlhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shipmentapp/shipmentapp/internal/apperr"
)

// Incremental delivery of @defer (the GraphQL over HTTP incremental
// delivery RFC, in the form of deferSpec=20220824 that Apollo Client reads
// with its own parser, and Relay and urql through meros).
const (
	// Multipart is the media type of incremental delivery.
	Multipart = "multipart/mixed"
	// DeferSpec is the version of the payloads' format served: a first
	// payload {data, hasNext: true}, then {incremental: [{data, path,
	// label}], hasNext}, the last one with hasNext: false.
	DeferSpec = "20220824"
	// Boundary is the multipart boundary, the one these clients assume
	// when none is named.
	Boundary = "-"
	// MultipartContentType is the Content-Type of an incremental answer.
	MultipartContentType = `multipart/mixed; boundary="` + Boundary + `"; deferSpec=` + DeferSpec
	// partContentType is the Content-Type of each part.
	partContentType = "application/json; charset=utf-8"
)

// acceptsIncremental reports whether the Accept header values name
// multipart/mixed with q above 0 and either no deferSpec or deferSpec=20220824.
func acceptsIncremental(values []string) bool {
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil || mt != Multipart {
				continue
			}
			if s, ok := params["q"]; ok {
				if q, err := strconv.ParseFloat(s, 64); err != nil || q <= 0 || q > 1 {
					continue
				}
			}
			// mime lowercases parameter names.
			if spec, ok := params["deferspec"]; ok && spec != DeferSpec {
				continue
			}
			return true
		}
	}
	return false
}

// WriteIncremental answers a query operation dispatched on a context marked
// by WithIncremental, from its responses: when the first one says hasNext
// (the document defers fragments), a multipart/mixed stream of parts, each
// flushed as it is ready, the last one with hasNext false; otherwise the one
// answer as WriteResult writes it (a multipart of one part when the request
// accepts no JSON type). A context that ends before the last part (the
// request's deadline) ends the stream with a part of hasNext false and a
// TIMEOUT error, so that the client never waits for parts that will not
// come.
func (f Format) WriteIncremental(ctx context.Context, w http.ResponseWriter, responses graphql.ResponseHandler) {
	// gqlgen's handler blocks on its channel of deferred results without
	// watching the context, and a deferred result may be dropped when the
	// context ends: the responses are read by a goroutine of their own so
	// that the answer can end on time. That goroutine ends with the
	// responses, or as soon as this function returns and nobody reads them.
	results := make(chan *graphql.Response)
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			r := responses(ctx)
			select {
			case results <- r:
			case <-done:
				return
			}
			if r == nil {
				return
			}
		}
	}()

	var first *graphql.Response
	select {
	case first = <-results:
	case <-ctx.Done():
	}
	if first == nil || first.HasNext == nil {
		if !f.multipartOnly {
			f.WriteResult(w, first)
			return
		}
		if first == nil {
			first = timeoutPayload()
		}
	}
	mw := multipartWriter{w: w, rc: http.NewResponseController(w)}
	mw.start()
	body, err := encodeResult(first)
	if err != nil {
		mw.end(failurePayload(apperr.Internal, "the response could not be encoded"))
		return
	}
	if err := mw.part(body); err != nil {
		return // the client is gone
	}
	if first.HasNext == nil || !*first.HasNext {
		mw.close()
		return
	}
	for {
		var r *graphql.Response
		select {
		case r = <-results:
		case <-ctx.Done():
			mw.end(timeoutPayload())
			return
		}
		if r == nil {
			// The executor has nothing more though it said hasNext: end
			// the stream properly rather than leave the client waiting.
			mw.end(&graphql.Response{HasNext: new(bool)})
			return
		}
		body, err := encodeIncremental(r)
		if err != nil {
			mw.end(failurePayload(apperr.Internal, "the response could not be encoded"))
			return
		}
		if err := mw.part(body); err != nil {
			return
		}
		if r.HasNext == nil || !*r.HasNext {
			mw.close()
			return
		}
	}
}

// timeoutPayload is the last payload of a stream whose request's context
// ended first.
func timeoutPayload() *graphql.Response {
	return failurePayload(apperr.Timeout, "the request took too long and was stopped before its deferred fragments were delivered")
}

// failurePayload is a last payload (hasNext false) carrying one error.
func failurePayload(code apperr.Code, msg string) *graphql.Response {
	return &graphql.Response{
		Errors:  gqlerror.List{{Message: msg, Extensions: map[string]any{"code": string(code)}}},
		HasNext: new(bool),
	}
}

// incrementalItem is one entry of a subsequent payload's incremental list.
type incrementalItem struct {
	Data       json.RawMessage `json:"data"`
	Path       ast.Path        `json:"path"`
	Label      string          `json:"label,omitempty"`
	Errors     gqlerror.List   `json:"errors,omitempty"`
	Extensions map[string]any  `json:"extensions,omitempty"`
}

// subsequentPayload is a payload after the first.
type subsequentPayload struct {
	Incremental []incrementalItem `json:"incremental"`
	HasNext     bool              `json:"hasNext"`
}

// encodeIncremental encodes a deferred result as a subsequent payload.
func encodeIncremental(r *graphql.Response) ([]byte, error) {
	data := r.Data
	if len(bytes.TrimSpace(data)) == 0 {
		data = json.RawMessage("null")
	}
	path := r.Path
	if path == nil {
		path = ast.Path{}
	}
	b, err := json.Marshal(subsequentPayload{
		Incremental: []incrementalItem{{Data: data, Path: path, Label: r.Label, Errors: r.Errors, Extensions: r.Extensions}},
		HasNext:     r.HasNext != nil && *r.HasNext,
	})
	if err != nil {
		return nil, fmt.Errorf("encode an incremental payload: %w", err)
	}
	return b, nil
}

// multipartWriter writes the parts of a multipart/mixed answer, flushing
// each.
type multipartWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	started bool
}

// start writes the head of the answer.
func (m *multipartWriter) start() {
	h := m.w.Header()
	h.Set("Content-Type", MultipartContentType)
	h.Add("Vary", "Accept")
	// Each part must reach the client when it is written: no proxy
	// buffering (nginx honours this header), no caching of a stream.
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	m.w.WriteHeader(http.StatusOK)
}

// part writes one part, then the delimiter that ends it, and flushes
// them: Apollo Client and meros hand a part over when they read the
// delimiter after it, so it must not wait for the next part.
func (m *multipartWriter) part(body []byte) error {
	var buf bytes.Buffer
	buf.Grow(len(body) + 64)
	if !m.started {
		buf.WriteString("--" + Boundary)
	}
	m.started = true
	buf.WriteString("\r\nContent-Type: " + partContentType + "\r\n\r\n")
	buf.Write(body)
	buf.WriteString("\r\n--" + Boundary)
	if _, err := m.w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write a part: %w", err)
	}
	if err := m.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return fmt.Errorf("flush a part: %w", err)
	}
	return nil
}

// end writes a last payload, then the closing delimiter.
func (m *multipartWriter) end(last *graphql.Response) {
	b, err := json.Marshal(last)
	if err == nil && m.part(b) != nil {
		return
	}
	m.close()
}

// close turns the delimiter after the last part into the closing one.
func (m *multipartWriter) close() {
	if !m.started {
		_, _ = m.w.Write([]byte("--" + Boundary))
	}
	_, _ = m.w.Write([]byte("--\r\n"))
	_ = m.rc.Flush()
}
