package httpedge

import (
	"mime"
	"net/http"

	"github.com/shipmentapp/shipmentapp/internal/apperr"
)

// PreflightHeaders mark a request a browser could not send cross-site
// without a CORS preflight.
var PreflightHeaders = []string{"Apollo-Require-Preflight", "X-Apollo-Operation-Name", "GraphQL-Require-Preflight"}

// CSRF refuses the requests a browser sends cross-site without a preflight —
// a GET, or a POST whose content type is text/plain,
// application/x-www-form-urlencoded or multipart/form-data — unless they
// carry one of PreflightHeaders (Apollo Server's rule), with 400
// CSRF_PREVENTED. JSON POSTs need a preflight and pass, and so do OPTIONS.
func CSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodOptions && !preflighted(r) {
			apperr.WriteHTTP(w, http.StatusBadRequest, apperr.CSRFPrevented,
				"this request has been blocked as a potential cross-site request forgery: send it as application/json, "+
					"or with a non-empty Apollo-Require-Preflight (or GraphQL-Require-Preflight) header")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func preflighted(r *http.Request) bool {
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
