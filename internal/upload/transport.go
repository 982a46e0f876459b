package upload

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shipmentapp/shipmentapp/internal/apperr"
	"github.com/shipmentapp/shipmentapp/internal/gqlhttp"
)

// bodyBuffer is the read buffer of a multipart body.
const bodyBuffer = 256 << 10

// Transport is the streaming multipart/form-data transport.
type Transport struct {
	// MaxRequestBytes bounds the whole body (413 beyond).
	MaxRequestBytes int64
	// MaxFileBytes bounds a part spooled to disk; resolvers enforce it on
	// the parts they stream themselves.
	MaxFileBytes int64
	// MaxOperationsBytes bounds the operations and map parts, which are
	// read into memory.
	MaxOperationsBytes int64
	// MaxFiles bounds the number of files of one request.
	MaxFiles int
	// TempDir holds spooled parts (os.TempDir() if empty).
	TempDir string
	// OperationsTimeout bounds reading the operations and map parts (the
	// connection's read deadline until the map shows files).
	OperationsTimeout time.Duration
	// UploadTimeout is how long a request that carries files may take to
	// arrive and be answered: the connection's read and write deadlines are
	// moved to it once the map shows files (until then the server's
	// HTTP_READ_TIMEOUT holds).
	UploadTimeout time.Duration
	// Slots, when not nil, bounds the uploads in progress on this instance
	// (its capacity); a request beyond it gets 429 with Retry-After.
	Slots chan struct{}
	// Protocol is the wire format of the answers (Accept negotiation,
	// status codes), the same as the other HTTP transports'.
	Protocol gqlhttp.Protocol
}

var _ graphql.Transport = Transport{}

// Supports implements graphql.Transport: POSTs of multipart/form-data.
func (t Transport) Supports(r *http.Request) bool {
	return r.Header.Get("Upgrade") == "" && IsMultipart(r)
}

// IsMultipart reports whether r is a POST of multipart/form-data: what this
// transport serves, and what the HTTP layer must leave unread for it.
func IsMultipart(r *http.Request) bool {
	if r.Method != http.MethodPost {
		return false
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "multipart/form-data"
}

// requestError is a request refused before the operation runs.
type requestError struct {
	status int
	code   apperr.Code
	msg    string
}

func (e *requestError) Error() string { return e.msg }

func badRequest(format string, args ...any) *requestError {
	return &requestError{status: http.StatusBadRequest, code: apperr.BadUserInput, msg: fmt.Sprintf(format, args...)}
}

// bodyError turns a failure to read the body into a request error, without
// the network error's text (it names the server's addresses).
func (t Transport) bodyError(what string, err error) *requestError {
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return &requestError{status: http.StatusRequestEntityTooLarge, code: apperr.RequestTooLarge,
			msg: fmt.Sprintf("the request body exceeds %d bytes", t.MaxRequestBytes)}
	case errors.Is(err, os.ErrDeadlineExceeded):
		return &requestError{status: http.StatusRequestTimeout, code: apperr.Timeout,
			msg: fmt.Sprintf("could not %s in time", what)}
	}
	return badRequest("could not %s: the multipart body is malformed or was cut off", what)
}

// Do implements graphql.Transport.
func (t Transport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	f, ok := t.Protocol.Negotiate(w, r)
	if !ok {
		return
	}
	refuse := func(e *requestError) { f.WriteError(w, e.status, e.code, e.msg) }
	start := graphql.Now()
	if t.MaxRequestBytes > 0 && r.ContentLength > t.MaxRequestBytes {
		w.Header().Set("Connection", "close")
		refuse(&requestError{status: http.StatusRequestEntityTooLarge, code: apperr.RequestTooLarge,
			msg: fmt.Sprintf("the request body exceeds %d bytes", t.MaxRequestBytes)})
		return
	}
	if t.MaxRequestBytes > 0 {
		r.Body = http.MaxBytesReader(w, r.Body, t.MaxRequestBytes)
	}
	_, ctParams, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	boundary := ctParams["boundary"]
	if err != nil || boundary == "" {
		refuse(badRequest("not a multipart/form-data body: the Content-Type has no boundary"))
		return
	}
	// multipart.NewReader keeps a reader that is already buffered enough:
	// a 64 KiB buffer instead of its 4 KiB one makes file parts arrive in
	// large reads (fewer writes to storage, fewer boundary scans).
	mr := multipart.NewReader(bufio.NewReaderSize(r.Body, bodyBuffer), boundary)
	st := newStream()
	defer st.cleanup()
	conn := http.NewResponseController(w)
	if t.OperationsTimeout > 0 {
		_ = conn.SetReadDeadline(time.Now().Add(t.OperationsTimeout))
	}
	params, rerr := t.readOperation(mr, st)
	if rerr != nil {
		if rerr.status == http.StatusRequestEntityTooLarge || rerr.status == http.StatusRequestTimeout {
			w.Header().Set("Connection", "close")
		}
		refuse(rerr)
		return
	}
	if t.Slots != nil {
		select {
		case t.Slots <- struct{}{}:
			defer func() { <-t.Slots }()
		default:
			w.Header().Set("Retry-After", "5")
			w.Header().Set("Connection", "close")
			refuse(&requestError{status: http.StatusTooManyRequests, code: apperr.RateLimited,
				msg: fmt.Sprintf("this instance is receiving %d uploads already; retry in 5 s", cap(t.Slots))})
			return
		}
	}
	if t.UploadTimeout > 0 {
		deadline := time.Now().Add(t.UploadTimeout)
		_ = conn.SetReadDeadline(deadline)
		_ = conn.SetWriteDeadline(deadline.Add(10 * time.Second))
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	ctx := r.Context()
	rc, gerr := exec.CreateOperationContext(ctx, params)
	if gerr != nil {
		f.WriteRequestError(graphql.WithOperationContext(ctx, rc), w, exec, gerr)
		return
	}
	if f.RefuseSubscription(w, rc) {
		return
	}

	var resp *graphql.Response
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			// gqlgen recovers resolver panics itself; this is the last net
			// for the executor, so that the process never dies of a request.
			if recover() != nil {
				resp = &graphql.Response{Errors: gqlerror.List{{
					Message: "internal server error", Extensions: map[string]any{"code": "INTERNAL"},
				}}}
			}
		}()
		responses, octx := exec.DispatchOperation(ctx, rc)
		resp = responses(octx)
	}()
	t.feed(mr, st, done)
	<-done
	// A body not read to its end cannot be reused for the next request.
	w.Header().Set("Connection", "close")
	f.WriteResult(w, resp)
}

// readOperation reads the operations and map parts and puts an Upload at
// every path the map names.
func (t Transport) readOperation(mr *multipart.Reader, st *stream) (*graphql.RawParams, *requestError) {
	limit := t.MaxOperationsBytes
	if limit <= 0 {
		limit = 1 << 20
	}
	ops, rerr := t.field(mr, "operations", limit)
	if rerr != nil {
		return nil, rerr
	}
	if b := bytes.TrimSpace(ops); len(b) > 0 && b[0] == '[' {
		return nil, badRequest("batched operations are not supported in a multipart request: send one operation")
	}
	// The one decoder of every transport: json.Number, documentId.
	params, err := gqlhttp.DecodeParams(ops)
	if err != nil {
		return nil, badRequest("the operations part: %v", err)
	}
	if params.Variables == nil {
		params.Variables = map[string]any{}
	}
	rawMap, rerr := t.field(mr, "map", limit)
	if rerr != nil {
		return nil, rerr
	}
	var files map[string][]string
	if err := json.Unmarshal(rawMap, &files); err != nil {
		return nil, badRequest(`the map part must be a JSON object of file keys to variable paths, such as {"0": ["variables.file"]}: %v`, err)
	}
	if len(files) == 0 {
		return nil, badRequest("a multipart request must carry at least one file; send other operations as application/json")
	}
	if t.MaxFiles > 0 && len(files) > t.MaxFiles {
		return nil, badRequest("the request has %d files, more than the %d allowed", len(files), t.MaxFiles)
	}
	for key, paths := range files {
		if key == "" || key == "operations" || key == "map" {
			return nil, badRequest("%q is not a valid file key in the map", key)
		}
		if len(paths) != 1 {
			return nil, badRequest("the map must give each file exactly one variable path; %q has %d", key, len(paths))
		}
		if err := setPath(params.Variables, paths[0], st.add(key)); err != nil {
			return nil, badRequest("map %q: %v", key, err)
		}
	}
	return params, nil
}

// field reads the next part, which must be the form field name, up to limit bytes.
func (t Transport) field(mr *multipart.Reader, name string, limit int64) ([]byte, *requestError) {
	part, err := mr.NextPart()
	if err == io.EOF {
		return nil, badRequest("the request has no %s part", name)
	}
	if err != nil {
		return nil, t.bodyError("read the "+name+" part", err)
	}
	if part.FormName() != name {
		return nil, badRequest("the %s part must come first (got %q): see the GraphQL multipart request specification", name, part.FormName())
	}
	b, err := io.ReadAll(io.LimitReader(part, limit+1))
	if err != nil {
		return nil, t.bodyError("read the "+name+" part", err)
	}
	if int64(len(b)) > limit {
		return nil, &requestError{status: http.StatusRequestEntityTooLarge, code: apperr.RequestTooLarge,
			msg: fmt.Sprintf("the %s part exceeds %d bytes", name, limit)}
	}
	return b, nil
}

// setPath stores v at path ("variables.input.files.0.file") in vars, where
// the operations must hold null.
func setPath(vars map[string]any, path string, v Upload) error {
	parts := strings.Split(path, ".")
	if len(parts) < 2 || parts[0] != "variables" {
		return fmt.Errorf("path %q must start with \"variables.\"", path)
	}
	var parent any = vars
	for i, p := range parts[1:] {
		last := i == len(parts)-2
		switch c := parent.(type) {
		case map[string]any:
			cur, ok := c[p]
			if last {
				if !ok || cur != nil {
					return fmt.Errorf("path %q must name a null value of the operation's variables", path)
				}
				c[p] = v
				return nil
			}
			if !ok {
				return fmt.Errorf("path %q: no %q in the variables", path, p)
			}
			parent = cur
		case []any:
			n, err := strconv.Atoi(p)
			if err != nil || n < 0 || n >= len(c) {
				return fmt.Errorf("path %q: %q is not an index of a list of %d", path, p, len(c))
			}
			if last {
				if c[n] != nil {
					return fmt.Errorf("path %q must name a null value of the operation's variables", path)
				}
				c[n] = v
				return nil
			}
			parent = c[n]
		default:
			return fmt.Errorf("path %q: %q is not inside an object or a list", path, p)
		}
	}
	return fmt.Errorf("path %q names no value", path)
}

// feed reads the file parts in order and hands each to its resolver, until
// the body ends or the operation is done (then the rest is left unread).
func (t Transport) feed(mr *multipart.Reader, st *stream, done <-chan struct{}) {
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			st.failPending(ErrMissing)
			return
		}
		if err != nil {
			st.failPending(&ReadError{Err: err})
			return
		}
		st.mu.Lock()
		s := st.slots[part.FormName()]
		if s == nil || s.delivered {
			// A part the map does not name (or a second part of one name) is skipped.
			st.mu.Unlock()
			continue
		}
		st.mu.Unlock()
		if !t.handOver(part, s, done) {
			return
		}
	}
}

// handOver waits until a resolver wants part (it streams), or wants another
// file (part is spooled), or the operation is done (false: stop reading).
func (t Transport) handOver(part *multipart.Part, s *slot, done <-chan struct{}) bool {
	st := s.st
	for {
		st.mu.Lock()
		switch {
		case s.opened:
			p := &Part{Filename: part.FileName(), ContentType: part.Header.Get("Content-Type"), r: part}
			p.close = func() { close(s.finished) }
			s.deliver(p, nil)
			st.mu.Unlock()
			select {
			case <-s.finished:
				return true
			case <-done:
				return false
			}
		case st.othersWaiting(s):
			st.mu.Unlock()
			t.spool(part, s)
			return true
		}
		st.mu.Unlock()
		select {
		case <-st.wake:
		case <-done:
			return false
		}
	}
}

// spool copies part to a temporary file (at most MaxFileBytes+1 bytes: the
// resolver sees the excess and refuses the file) and delivers it from there.
func (t Transport) spool(part *multipart.Part, s *slot) {
	f, err := os.CreateTemp(t.TempDir, "upload-*")
	if err != nil {
		s.st.mu.Lock()
		s.deliver(nil, fmt.Errorf("spool upload %q: %w", s.key, err))
		s.st.mu.Unlock()
		return
	}
	s.st.mu.Lock()
	s.spool = f.Name()
	s.st.mu.Unlock()
	var src io.Reader = part
	if t.MaxFileBytes > 0 {
		src = io.LimitReader(part, t.MaxFileBytes+1)
	}
	_, err = io.Copy(f, src)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	if err != nil {
		_ = f.Close()
		var re *ReadError
		if !errors.As(err, &re) && !isWriteErr(err) {
			err = &ReadError{Err: err}
		}
		s.deliver(nil, err)
		return
	}
	p := &Part{Filename: part.FileName(), ContentType: part.Header.Get("Content-Type"), r: f, spooled: true}
	p.close = func() { _ = f.Close() }
	s.deliver(p, nil)
}

// isWriteErr reports whether err came from the temporary file rather than the body.
func isWriteErr(err error) bool {
	var pe *os.PathError
	return errors.As(err, &pe)
}
