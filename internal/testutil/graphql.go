package testutil

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// GQLError is one error of a GraphQL response.
type GQLError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code returns extensions.code.
func (e GQLError) Code() string {
	c, _ := e.Extensions["code"].(string)
	return c
}

// Response is a GraphQL response.
type Response struct {
	Status int
	Header http.Header
	Raw    []byte
	Data   json.RawMessage `json:"data"`
	Errors []GQLError      `json:"errors"`
}

// Codes returns the extensions.code of every error.
func (r *Response) Codes() []string {
	out := make([]string, len(r.Errors))
	for i, e := range r.Errors {
		out[i] = e.Code()
	}
	return out
}

// Client posts GraphQL documents to a handler through a real HTTP server.
type Client struct {
	t       testing.TB
	srv     *httptest.Server
	headers map[string]string
}

// NewClient starts an httptest server for h, closed when t ends.
func NewClient(t testing.TB, h http.Handler) *Client {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &Client{t: t, srv: srv}
}

// With returns a client for the same server that reports to t (inside a
// fuzz target, for instance).
func (c *Client) With(t testing.TB) *Client { return &Client{t: t, srv: c.srv, headers: c.headers} }

// WithHeader returns a client for the same server that sends header k: v
// on every request (credentials, typically).
func (c *Client) WithHeader(k, v string) *Client {
	h := map[string]string{}
	for key, val := range c.headers {
		h[key] = val
	}
	h[k] = v
	return &Client{t: c.t, srv: c.srv, headers: h}
}

// As returns a client sending secret as its bearer credential.
func (c *Client) As(secret string) *Client { return c.WithHeader("Authorization", "Bearer "+secret) }

// Anonymous returns a client sending no default headers.
func (c *Client) Anonymous() *Client { return &Client{t: c.t, srv: c.srv} }

// URL is the server's base URL.
func (c *Client) URL() string { return c.srv.URL }

// Do posts a query with variables and decodes the response.
func (c *Client) Do(query string, vars map[string]any) *Response {
	c.t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		c.t.Fatal(err)
	}
	return c.Raw(http.MethodPost, "/graphql", "application/json", body)
}

// Raw sends any request and decodes a JSON response if there is one.
func (c *Client) Raw(method, path, contentType string, body []byte) *Response {
	c.t.Helper()
	h := map[string]string{}
	if contentType != "" {
		h["Content-Type"] = contentType
	}
	return c.RawH(method, path, h, body)
}

// RawH is Raw with any request headers.
func (c *Client) RawH(method, path string, headers map[string]string, body []byte) *Response {
	c.t.Helper()
	req, err := http.NewRequest(method, c.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := c.srv.Client().Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	out := &Response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if strings.Contains(resp.Header.Get("Content-Type"), "json") {
		if err := json.Unmarshal(raw, out); err != nil {
			c.t.Fatalf("decode response %q: %v", raw, err)
		}
	}
	return out
}

// MustData posts a query, fails the test on any error, and decodes data into v.
func (c *Client) MustData(query string, vars map[string]any, v any) {
	c.t.Helper()
	r := c.Do(query, vars)
	if len(r.Errors) > 0 || r.Status != http.StatusOK {
		c.t.Fatalf("query failed (HTTP %d): %s\nquery: %s", r.Status, r.Raw, query)
	}
	if v != nil {
		if err := json.Unmarshal(r.Data, v); err != nil {
			c.t.Fatalf("decode data %s: %v", r.Data, err)
		}
	}
}

// MustFail posts a query and fails the test unless it returns an error with code.
func (c *Client) MustFail(query string, vars map[string]any, code string) *Response {
	c.t.Helper()
	r := c.Do(query, vars)
	for _, e := range r.Errors {
		if e.Code() == code {
			return r
		}
	}
	c.t.Fatalf("want an error with code %s, got HTTP %d: %s", code, r.Status, r.Raw)
	return nil
}

// Sprintf is fmt.Sprintf, for building documents in tests.
func Sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
