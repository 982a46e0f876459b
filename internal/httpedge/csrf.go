package httpedge

import (
	"mime"
	"net/http"
	"strings"

	"github.com/shipmentapp/shipmentapp/internal/apperr"
)

// PreflightHeaders mark a request a browser could not send cross-site
// without a CORS preflight.
var PreflightHeaders = []string{"Apollo-Require-Preflight", "X-Apollo-Operation-Name", "GraphQL-Require-Preflight"}

// CSRF refuses the requests a browser sends cross-site without a preflight —
// a GET, or a POST whose content type is text/plain,
// application/x-www-form-urlencoded or multipart/form-data — unless they
// carry one of PreflightHeaders (Apollo Server's rule) or credentials in a
// header (hasCredentialHeader), with 400 CSRF_PREVENTED. JSON POSTs need a
// preflight and pass, and so do OPTIONS.
func CSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodOptions && !preflighted(r) {
			apperr.WriteHTTP(w, http.StatusBadRequest, apperr.CSRFPrevented,
				"this request has been blocked as a potential cross-site request forgery: send it as application/json, "+
					"with its credentials (Authorization: Bearer, or X-API-Key), "+
					"or with a non-empty Apollo-Require-Preflight (or GraphQL-Require-Preflight) header")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// hasCredentialHeader reports whether r carries the API's credentials in a
// header: a bearer token in Authorization, or X-API-Key. Neither is a
// CORS-safelisted request header, so a page of another origin can send it
// only after a preflight this server's CORS policy answers: such a request
// is no forgery. Only these: Cookie, Origin and Sec-Fetch-* are set by the
// browser itself, and so is an Authorization of a scheme it manages (the
// Basic or Digest credentials it cached for the site, say for a proxy's
// login in front of the API), which is why only Bearer counts.
func hasCredentialHeader(r *http.Request) bool {
	if r.Header.Get("X-API-Key") != "" {
		return true
	}
	scheme, token, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	return strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(token) != ""
}

func preflighted(r *http.Request) bool {
	if hasCredentialHeader(r) {
		return true
	}
	for _, h := range PreflightHeaders {
		if r.Header.Get(h) != "" {
			return true
		}
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	switch mt {
	case "text/plain", "application/x-www-form-urlencoded", "multipart/form-data":
		return false
	}
	return true
}
