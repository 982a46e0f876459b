package files

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/privacy"
	"github.com/shipmentapp/shipmentapp/internal/apperr"
	"github.com/shipmentapp/shipmentapp/internal/gid"
	"github.com/shipmentapp/shipmentapp/internal/storage"
)

// DownloadPath is the path prefix of local download links.
const DownloadPath = "/files/"

// URL returns a link downloading f for expires: presigned by the store when
// it can (S3), else a link to this API signed with the signing key. The
// caller has loaded f through the viewer's scope: that is the check.
func (s *Service) URL(ctx context.Context, f *ent.File, expires time.Duration) (string, error) {
	if expires < time.Second || expires > s.opts.MaxURLExpiry {
		return "", apperr.Invalid("expiresIn", "expiresIn must be between 1 and %d seconds", int(s.opts.MaxURLExpiry/time.Second))
	}
	if p, ok := s.store.(storage.Presigner); ok {
		u, err := p.PresignGet(ctx, f.StorageKey, expires, storage.Meta{ContentType: f.ContentType, ContentDisposition: Disposition(f.Name)})
		if err != nil {
			return "", fmt.Errorf("sign link of file %d: %w", f.ID, err)
		}
		return u, nil
	}
	exp := s.opts.Now().Add(expires).Unix()
	id := gid.New(gid.TypeFile, f.ID).String()
	obj := objectTag(f.StorageKey)
	q := url.Values{"expires": {strconv.FormatInt(exp, 10)}, "object": {obj}, "signature": {hex.EncodeToString(s.sign(id, obj, exp))}}
	return strings.TrimRight(s.opts.BaseURL, "/") + DownloadPath + id + "/" + url.PathEscape(f.Name) + "?" + q.Encode(), nil
}

// objectTagLen is the length, in hex digits, of a link's object tag.
const objectTagLen = 16

// objectTag names a stored object in a link without telling its key: the
// first 64 bits of the key's SHA-256, in hex. A link carries it so that it
// never serves another object than the one it was made for, even if a file
// ID were reused after a restore.
func objectTag(storageKey string) string {
	sum := sha256.Sum256([]byte(storageKey))
	return hex.EncodeToString(sum[:objectTagLen/2])
}

// sign is the HMAC-SHA256 of what a link says: the file ID of its path, the
// tag of the object it was made for and its expiry. Everything signed is in
// the link, so a link is checked before anything is read.
func (s *Service) sign(id, obj string, exp int64) []byte {
	m := hmac.New(sha256.New, s.opts.SigningKey)
	fmt.Fprintf(m, "shipmentapp-file-link-v3\n%s\n%s\n%d", id, obj, exp)
	return m.Sum(nil)
}

// serveLocal reports whether this service signs and serves its own links
// (a store that presigns them, S3, serves its downloads itself).
func (s *Service) serveLocal() bool {
	_, presigns := s.store.(storage.Presigner)
	return !presigns && len(s.opts.SigningKey) >= minSigningKey
}

// Handler serves local download links: GET and HEAD of
// /files/{id}/{name}?expires=...&object=...&signature=....
//
// The link is checked from itself alone, before the file's row is read: a
// link that was not signed for its path, or that expired, is 403 whatever
// exists (and costs no database read), so that links do not tell which file
// IDs exist. Only a correctly signed link whose file (or object) is gone is
// 404. Range requests, If-None-Match (the ETag is the SHA-256) and
// If-Modified-Since are answered by net/http's ServeContent.
func (s *Service) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			httpError(w, http.StatusMethodNotAllowed, "use GET")
			return
		}
		if !s.serveLocal() {
			httpError(w, http.StatusNotFound, "no such file")
			return
		}
		link, ok := s.verify(r)
		if !ok {
			httpError(w, http.StatusForbidden, "this link is not valid: ask for a new one with File.url")
			return
		}
		now := s.opts.Now()
		if now.Unix() > link.exp {
			httpError(w, http.StatusForbidden, "this link has expired: ask for a new one with File.url")
			return
		}
		// The signed link is the permission: the viewer's scope was checked
		// when it was made.
		ctx := privacy.DecisionContext(r.Context(), privacy.Allow)
		f, err := s.client.File.Get(ctx, link.file)
		if ent.IsNotFound(err) {
			httpError(w, http.StatusNotFound, "no such file: it was deleted")
			return
		}
		if err != nil {
			s.serverError(w, r, "load file", err)
			return
		}
		if objectTag(f.StorageKey) != link.obj {
			// The ID now names another object than the link was made for.
			httpError(w, http.StatusNotFound, "no such file: it was deleted")
			return
		}
		exp := link.exp
		// A large file on a slow link may take longer than HTTP_WRITE_TIMEOUT.
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(s.opts.DownloadTimeout))
		body, _, err := s.store.Get(ctx, f.StorageKey)
		if errors.Is(err, storage.ErrNotFound) {
			httpError(w, http.StatusNotFound, "no such file: it was deleted")
			return
		}
		if err != nil {
			s.serverError(w, r, "open file", err)
			return
		}
		defer body.Close()
		h := w.Header()
		h.Set("Content-Type", f.ContentType)
		h.Set("Content-Disposition", Disposition(f.Name))
		h.Set("ETag", `"`+f.Sha256+`"`)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
		h.Set("Cache-Control", fmt.Sprintf("private, max-age=%d", exp-now.Unix()))
		if rs, ok := body.(io.ReadSeeker); ok {
			http.ServeContent(w, r, "", f.UploadedAt, rs)
			return
		}
		// A store without seeking serves the whole object.
		h.Set("Content-Length", strconv.FormatInt(f.Size, 10))
		if r.Method == http.MethodHead {
			return
		}
		_, _ = io.Copy(w, body)
	})
}

// signedLink is what a verified download link names.
type signedLink struct {
	file int    // the file's local ID
	obj  string // the tag of the object it was made for
	exp  int64  // its expiry, in Unix seconds
}

// verify checks r's link from the link alone: its signature must cover the
// file ID of its path, its object tag and its expiry. It reads nothing.
func (s *Service) verify(r *http.Request) (signedLink, bool) {
	idText, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, DownloadPath), "/")
	q := r.URL.Query()
	exp, err := strconv.ParseInt(q.Get("expires"), 10, 64)
	if err != nil {
		return signedLink{}, false
	}
	obj := q.Get("object")
	if len(obj) != objectTagLen {
		return signedLink{}, false
	}
	sig, err := hex.DecodeString(q.Get("signature"))
	if err != nil || len(sig) != sha256.Size || !hmac.Equal(sig, s.sign(idText, obj, exp)) {
		return signedLink{}, false
	}
	// Signed by this service, so made by URL: the ID is a File's.
	local, err := gid.ParseAs(gid.TypeFile, idText)
	if err != nil {
		return signedLink{}, false
	}
	return signedLink{file: local, obj: obj, exp: exp}, true
}

func (s *Service) serverError(w http.ResponseWriter, r *http.Request, what string, err error) {
	id := apperr.RequestID(r.Context())
	s.opts.Logger.ErrorContext(r.Context(), "download: "+what, "request_id", id, "error", err.Error())
	httpError(w, http.StatusServiceUnavailable, "the file cannot be read now; try again later (request "+id+")")
}

func httpError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg+"\n")
}
