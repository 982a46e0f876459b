// Package shipmentapi is a typed client of the shipmentapp GraphQL API: the
// code genqlient generates from the operations in *.graphql (generated.go),
// an HTTP client that authenticates with an API key, the errors' codes, and
// paging through a connection.
package shipmentapi

//go:generate go tool genqlient
//go:generate go run ../tools/persistedmanifest -in operations.json -out persisted-manifest.json

import (
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/Khan/genqlient/graphql"
)

// Options tune NewClient; the zero value is sensible.
type Options struct {
	// Timeout bounds one request, from connecting to reading the whole
	// answer (default 30s, the server's own HTTP_REQUEST_TIMEOUT).
	Timeout time.Duration
	// UserAgent names the program in the server's logs.
	UserAgent string
	// Transport is the round tripper under the authentication (default: a
	// transport with connection, TLS and header timeouts).
	Transport http.RoundTripper
}

// NewClient returns a client of the GraphQL endpoint (https://host/graphql)
// that sends apiKey as its bearer credential on every request.
func NewClient(endpoint, apiKey string, opts Options) (graphql.Client, error) {
	if apiKey == "" {
		return nil, errors.New("shipmentapi: no API key")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "shipmentapi-go-example"
	}
	base := opts.Transport
	if base == nil {
		base = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: opts.Timeout,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConnsPerHost:   4,
			ForceAttemptHTTP2:     true,
		}
	}
	httpClient := &http.Client{
		Timeout:   opts.Timeout,
		Transport: &authTransport{key: apiKey, userAgent: opts.UserAgent, base: base},
		// A redirect would resend the key elsewhere: an API never needs one.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return graphql.NewClient(endpoint, httpClient), nil
}

// authTransport adds the credential and the media types to each request.
type authTransport struct {
	key       string
	userAgent string
	base      http.RoundTripper
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	// A RoundTripper must not change the request it was given.
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+t.key)
	// The GraphQL over HTTP media type first: errors that stop a request
	// before it runs then come with a 4xx status, which genqlient returns
	// as a *graphql.HTTPError (Errors reads both kinds).
	req.Header.Set("Accept", "application/graphql-response+json, application/json;q=0.9")
	req.Header.Set("User-Agent", t.userAgent)
	return t.base.RoundTrip(req)
}

// Upload is what genqlient binds the Upload scalar to. Files go up in a
// multipart request (the GraphQL multipart request spec), which genqlient's
// JSON client cannot send: marshalling an Upload fails with this
// explanation rather than sending what the server would refuse.
type Upload struct{}

// MarshalJSON implements json.Marshaler.
func (Upload) MarshalJSON() ([]byte, error) {
	return nil, errors.New("shipmentapi: an Upload cannot be sent as JSON: upload files with a multipart request (see the README's Files section)")
}
