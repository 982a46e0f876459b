// Package upload serves the GraphQL multipart request specification
// (https://github.com/jaydenseric/graphql-multipart-request-spec) as a gqlgen
// transport that streams.
//
// gqlgen's own MultipartForm transport reads every file (into memory or a
// temporary file) before the operation runs. This one reads the
// "operations" and "map" parts, starts the operation, and hands each file
// part to the resolver that opens its Upload while the part is still
// arriving on the wire: a resolver copying an Upload to storage copies from
// the client's connection, through a small buffer. Parts arrive in the order
// the client wrote them; when a resolver asks for a later file than the part
// at hand, the part at hand is spooled to a temporary file (bounded by the
// per-file limit) so that no order of reads can deadlock.
package upload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/99designs/gqlgen/graphql"
)

// Upload is the value of the GraphQL Upload scalar: a handle on one file part
// of the request. It is opened at most once.
type Upload struct {
	s *slot
}

// Part is an opened upload: the file's bytes as they arrive. Close it when
// done; bytes not read are skipped.
type Part struct {
	// Filename and ContentType are what the client said; neither is trusted.
	Filename    string
	ContentType string

	r     io.Reader
	close func()
	once  sync.Once
	// spooled parts are read from a temporary file: their errors are the
	// server's, not the client's body's.
	spooled bool
}

// Read reads the file's bytes. An error of the client's body (a broken
// connection, a malformed part, the request limit) is a *ReadError.
func (p *Part) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if err != nil && err != io.EOF && !p.spooled {
		var re *ReadError
		if !errors.As(err, &re) {
			err = &ReadError{Err: err}
		}
	}
	return n, err
}

// Close releases the part; the transport moves on to the next one.
func (p *Part) Close() error {
	p.once.Do(p.close)
	return nil
}

// ReadError is a failure to read the client's request body: the client's
// fault, not the server's.
type ReadError struct{ Err error }

func (e *ReadError) Error() string { return "read the uploaded file: " + e.Err.Error() }

// Unwrap returns the cause (an *http.MaxBytesError when the request was too large).
func (e *ReadError) Unwrap() error { return e.Err }

// ErrMissing is the error of an Upload whose part the request does not contain.
var ErrMissing = errors.New("the request ended before this file's part")

// ErrReused is the error of an Upload opened a second time.
var ErrReused = errors.New("this file was already read: each file part can fill one variable")

// Open waits for the upload's part and returns it. It fails with ErrMissing if
// the body ends without it, and with the context's error if ctx ends first.
func (u Upload) Open(ctx context.Context) (*Part, error) {
	if u.s == nil {
		return nil, ErrMissing
	}
	return u.s.open(ctx)
}

// Key is the name of the upload's part in the multipart body.
func (u Upload) Key() string {
	if u.s == nil {
		return ""
	}
	return u.s.key
}

// MarshalUpload implements the output side of the scalar, which is input only.
func MarshalUpload(Upload) graphql.Marshaler {
	return graphql.Null
}

// UnmarshalUpload accepts only the values the transport puts into the
// variables: an Upload is sent as a file part, never inline.
func UnmarshalUpload(v any) (Upload, error) {
	if u, ok := v.(Upload); ok {
		return u, nil
	}
	return Upload{}, fmt.Errorf("an Upload must be sent as a file part of a multipart request (graphql-multipart-request-spec), got %T", v)
}

// slot is the rendezvous of one file part and the resolver that reads it.
type slot struct {
	key string
	st  *stream

	// Guarded by st.mu.
	opened    bool // a resolver called Open
	delivered bool // part or err is set and ready is closed
	part      *Part
	err       error
	spool     string // temporary file holding the part, removed at cleanup

	ready    chan struct{} // closed once part or err is set
	finished chan struct{} // closed when the resolver closes a streamed part
}

func (s *slot) open(ctx context.Context) (*Part, error) {
	s.st.mu.Lock()
	if s.opened {
		s.st.mu.Unlock()
		return nil, ErrReused
	}
	s.opened = true
	s.st.mu.Unlock()
	s.st.poke()
	select {
	case <-s.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if s.err != nil {
		return nil, s.err
	}
	return s.part, nil
}

// deliver sets the outcome of the slot; st.mu is held.
func (s *slot) deliver(p *Part, err error) {
	if s.delivered {
		return
	}
	s.part, s.err, s.delivered = p, err, true
	close(s.ready)
}

// stream is the state of one multipart request's file parts.
type stream struct {
	mu    sync.Mutex
	slots map[string]*slot
	// wake tells the body reader that a resolver opened an upload.
	wake chan struct{}
}

func newStream() *stream {
	return &stream{slots: map[string]*slot{}, wake: make(chan struct{}, 1)}
}

func (st *stream) add(key string) Upload {
	s := &slot{key: key, st: st, ready: make(chan struct{}), finished: make(chan struct{})}
	st.slots[key] = s
	return Upload{s: s}
}

func (st *stream) poke() {
	select {
	case st.wake <- struct{}{}:
	default:
	}
}

// othersWaiting reports whether a resolver waits for a slot other than s; st.mu is held.
func (st *stream) othersWaiting(s *slot) bool {
	for _, o := range st.slots {
		if o != s && o.opened && !o.delivered {
			return true
		}
	}
	return false
}

// failPending ends every slot not delivered yet with err.
func (st *stream) failPending(err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, s := range st.slots {
		s.deliver(nil, err)
	}
}

// cleanup removes the spooled parts.
func (st *stream) cleanup() {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, s := range st.slots {
		if s.part != nil {
			_ = s.part.Close()
		}
		if s.spool != "" {
			_ = os.Remove(s.spool)
		}
	}
}
