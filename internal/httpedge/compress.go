package httpedge

import (
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/klauspost/compress/gzhttp"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// DefaultCompressMinBytes is HTTP_COMPRESS_MIN_BYTES's default: below about
// one packet, compressing saves nothing worth the CPU.
const DefaultCompressMinBytes = 1024

// Compression is the compression of responses: gzip, or zstd where the
// client's Accept-Encoding prefers it (a higher q-value, or the same one),
// for answers of at least MinBytes whose type is not already compressed.
// It is github.com/klauspost/compress's gzhttp, whose encoders are pooled
// (zstd with a 128 KiB window and one goroutine each) and which buffers at
// most max(MinBytes, 512) bytes of an answer before deciding.
//
// It leaves alone, whatever Accept-Encoding says: HEAD requests (an answer
// without a body; gzhttp's rule, for the caches that mix up the two), answers
// that already have a Content-Encoding or a Content-Range, 1xx, 204 and 304
// answers, compressed media types (images but SVG, audio, video, archives),
// websocket upgrades and server-sent event streams (text/event-stream: a
// stream whose frames must reach the client when written). Every answer it
// could have compressed says Vary: Accept-Encoding, compressed or not.
type Compression struct {
	// MinBytes is HTTP_COMPRESS_MIN_BYTES: smaller answers go as they are.
	MinBytes int
}

// Middleware returns the compression middleware. It fails only on a
// negative MinBytes, which the configuration refuses.
func (c Compression) Middleware() (Middleware, error) {
	if c.MinBytes < 0 {
		return nil, fmt.Errorf("compression: minimum size %d is negative", c.MinBytes)
	}
	wrap, err := gzhttp.NewWrapper(
		gzhttp.MinSize(c.MinBytes),
		gzhttp.CompressionLevel(gzip.DefaultCompression),
		gzhttp.EnableZstd(true),
		gzhttp.ZstdCompressionLevel(int(zstd.SpeedFastest)),
		gzhttp.PreferZstd(true),
		gzhttp.ContentTypeFilter(compressible),
	)
	if err != nil {
		return nil, fmt.Errorf("compression: %w", err)
	}
	return func(next http.Handler) http.Handler {
		compressed := wrap(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isUpgrade(r) || acceptsOnlyEventStream(r) {
				next.ServeHTTP(w, r)
				return
			}
			compressed.ServeHTTP(w, r)
		})
	}, nil
}

// compressible reports whether an answer of media type ct is worth
// compressing: not an event stream, and not a type compressed already.
func compressible(ct string) bool {
	if mt, _, err := mime.ParseMediaType(ct); err == nil && mt == "text/event-stream" {
		return false
	}
	return gzhttp.DefaultContentTypeFilter(ct)
}

// isUpgrade reports whether r asks to switch protocols (a websocket).
func isUpgrade(r *http.Request) bool {
	for _, v := range r.Header.Values("Connection") {
		for tok := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "upgrade") {
				return true
			}
		}
	}
	return r.Header.Get("Upgrade") != ""
}

// acceptsOnlyEventStream reports whether r asks for an event stream and
// nothing else: its answer streams, frame by frame.
func acceptsOnlyEventStream(r *http.Request) bool {
	accept := r.Header.Values("Accept")
	if len(accept) == 0 {
		return false
	}
	for _, v := range accept {
		for part := range strings.SplitSeq(v, ",") {
			mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil || mt != "text/event-stream" {
				return false
			}
		}
	}
	return true
}
