package httpedge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/apperr"
	"github.com/shipmentapp/shipmentapp/internal/upload"
)

// Limits bounds every GraphQL request's body size and duration.
type Limits struct {
	// MaxBody is HTTP_MAX_BODY_BYTES: a larger body is refused with 413
	// REQUEST_TOO_LARGE before GraphQL reads it.
	MaxBody int64
	// Timeout is HTTP_REQUEST_TIMEOUT, the deadline of a request's context.
	Timeout time.Duration
	// UploadTimeout is FILE_UPLOAD_TIMEOUT, the deadline of an upload's.
	UploadTimeout time.Duration
}

// Wrap is the middleware. Uploads (multipart/form-data) are streamed, not
// read here: the upload transport enforces FILE_MAX_REQUEST_BYTES as it
// reads, and they get UploadTimeout instead of Timeout (the transport moves
// the connection's deadlines once the request shows it carries files).
// Other bodies are read here, whole, up to MaxBody.
func (l Limits) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if upload.IsMultipart(r) {
			ctx, cancel := context.WithTimeout(r.Context(), l.UploadTimeout)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
			return
		}
		if r.ContentLength > l.MaxBody {
			tooLarge(w, l.MaxBody)
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, l.MaxBody))
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				tooLarge(w, l.MaxBody)
				return
			}
			if err != nil {
				apperr.WriteHTTP(w, http.StatusBadRequest, apperr.BadUserInput, "could not read the request body")
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
		}
		ctx, cancel := context.WithTimeout(r.Context(), l.Timeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func tooLarge(w http.ResponseWriter, limit int64) {
	w.Header().Set("Connection", "close")
	apperr.WriteHTTP(w, http.StatusRequestEntityTooLarge, apperr.RequestTooLarge, fmt.Sprintf("the request body exceeds %d bytes", limit))
}
