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
	q := url.Values{"expires": {strconv.FormatInt(exp, 10)}, "signature": {hex.EncodeToString(s.sign(id, exp, f.StorageKey))}}
	return strings.TrimRight(s.opts.BaseURL, "/") + DownloadPath + id + "/" + url.PathEscape(f.Name) + "?" + q.Encode(), nil
}

// sign is the HMAC-SHA256 of a file's ID, its storage key (so a link never
// serves another object, even if an ID were reused after a restore) and the
// link's expiry.
func (s *Service) sign(id string, exp int64, key string) []byte {
	m := hmac.New(sha256.New, s.opts.SigningKey)
	fmt.Fprintf(m, "shipmentapp-file-link-v2\n%s\n%s\n%d", id, key, exp)
	return m.Sum(nil)
}

// serveLocal reports whether this service signs and serves its own links
// (a store that presigns them, S3, serves its downloads itself).
func (s *Service) serveLocal() bool {
	_, presigns := s.store.(storage.Presigner)
	return !presigns && len(s.opts.SigningKey) >= minSigningKey
}

// Handler serves local download links: GET and HEAD of
// /files/{id}/{name}?expires=...&signature=..., 403 when the signature does
// not verify or the link expired, 404 when the file is gone. Range requests,
// If-None-Match (the ETag is the SHA-256) and If-Modified-Since are answered
// by net/http's ServeContent.
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
		rest := strings.TrimPrefix(r.URL.Path, DownloadPath)
		idText, _, _ := strings.Cut(rest, "/")
		q := r.URL.Query()
		exp, err := strconv.ParseInt(q.Get("expires"), 10, 64)
		sig, herr := hex.DecodeString(q.Get("signature"))
		if err != nil || herr != nil || len(sig) != sha256.Size {
			httpError(w, http.StatusForbidden, "this link is not valid: ask for a new one with File.url")
			return
		}
		now := s.opts.Now()
		if now.Unix() > exp {
			httpError(w, http.StatusForbidden, "this link has expired: ask for a new one with File.url")
			return
		}
		local, err := gid.ParseAs(gid.TypeFile, idText)
		if err != nil {
			httpError(w, http.StatusForbidden, "this link is not valid: ask for a new one with File.url")
			return
		}
		// The signed link is the permission: the viewer's scope was checked
		// when it was made. (File IDs are sequential: that one exists is no
		// secret, so a missing row may say 404 before the signature is checked.)
		ctx := privacy.DecisionContext(r.Context(), privacy.Allow)
		f, err := s.client.File.Get(ctx, local)
		if ent.IsNotFound(err) {
			httpError(w, http.StatusNotFound, "no such file: it was deleted")
			return
		}
		if err != nil {
			s.serverError(w, r, "load file", err)
			return
		}
		if !hmac.Equal(sig, s.sign(idText, exp, f.StorageKey)) {
			httpError(w, http.StatusForbidden, "this link is not valid: ask for a new one with File.url")
			return
		}
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
