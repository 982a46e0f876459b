package apq

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Modes of PERSISTED_QUERIES.
const (
	ModeAPQ       = "apq"
	ModeAllowlist = "allowlist"
	ModeOff       = "off"
)

// Error codes.
const (
	CodeNotFound      = "PERSISTED_QUERY_NOT_FOUND"
	CodeNotSupported  = "PERSISTED_QUERY_NOT_SUPPORTED"
	CodeNotAllowed    = "PERSISTED_QUERY_NOT_ALLOWED"
	CodeHashMismatch  = "PERSISTED_QUERY_HASH_MISMATCH"
	CodeBadExtension  = "PERSISTED_QUERY_BAD_REQUEST"
	noCache           = "private, no-cache, must-revalidate"
	extensionName     = "PersistedQueries"
	documentIDMarkKey = "documentId"
)

// Allowlist finds trusted documents by their manifest ID or SHA-256.
type Allowlist interface {
	Lookup(ctx context.Context, idOrHash string) (body string, ok bool, err error)
}

// Extension is the gqlgen handler extension for persisted queries.
type Extension struct {
	Mode  string
	Cache graphql.Cache[string]
	// Allowlist serves allowlist mode.
	Allowlist Allowlist
	// Bypass, when it returns true, lets a request run any document in
	// allowlist mode (admin keys, when configured).
	Bypass func(context.Context) bool
	// SetHeader sets a header of the response of the request of ctx (to
	// mark refusals uncacheable); nil sets none.
	SetHeader func(ctx context.Context, key, value string)
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = Extension{}

// ExtensionName implements graphql.HandlerExtension.
func (Extension) ExtensionName() string { return extensionName }

// Validate implements graphql.HandlerExtension.
func (e Extension) Validate(graphql.ExecutableSchema) error {
	switch e.Mode {
	case ModeAPQ:
		if e.Cache == nil {
			return fmt.Errorf("apq: mode %s needs a cache", e.Mode)
		}
	case ModeAllowlist:
		if e.Allowlist == nil {
			return fmt.Errorf("apq: mode %s needs an allowlist", e.Mode)
		}
	case ModeOff:
	default:
		return fmt.Errorf("apq: unknown mode %q", e.Mode)
	}
	return nil
}

// Hash is the SHA-256 of a document, in hex, as APQ sends it.
func Hash(query string) string {
	sum := sha256.Sum256([]byte(query))
	return hex.EncodeToString(sum[:])
}

type request struct {
	hash     string
	hasHash  bool
	version  any
	document bool // the hash is a document ID from id/documentId
}

func parse(raw *graphql.RawParams) (request, *gqlerror.Error) {
	var r request
	ext, present := raw.Extensions["persistedQuery"]
	if !present || ext == nil {
		return r, nil
	}
	m, ok := ext.(map[string]any)
	if !ok {
		return r, codeErr(CodeBadExtension, "extensions.persistedQuery must be an object")
	}
	r.version = m["version"]
	h, _ := m["sha256Hash"].(string)
	r.document, _ = m[documentIDMarkKey].(bool)
	switch {
	case h == "" || len(h) > 128:
		return r, codeErr(CodeBadExtension, "extensions.persistedQuery.sha256Hash must be a non-empty string of at most 128 characters")
	case !r.document && !isSHA256(h):
		return r, codeErr(CodeBadExtension, "extensions.persistedQuery.sha256Hash must be 64 hexadecimal digits")
	}
	if !r.document {
		h = strings.ToLower(h)
	}
	r.hash, r.hasHash = h, true
	return r, nil
}

// isSHA256 reports whether h is 64 hexadecimal digits (either case), without
// decoding them.
func isSHA256(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := range len(h) {
		switch c := h[i]; {
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
		default:
			return false
		}
	}
	return true
}

func versionOne(v any) bool {
	switch n := v.(type) {
	case float64:
		return n == 1
	case int:
		return n == 1
	case int64:
		return n == 1
	case interface{ String() string }: // json.Number
		return n.String() == "1"
	}
	return false
}

// MutateOperationParameters resolves the document of a request.
func (e Extension) MutateOperationParameters(ctx context.Context, raw *graphql.RawParams) *gqlerror.Error {
	req, err := parse(raw)
	if err != nil {
		return err
	}
	switch e.Mode {
	case ModeOff:
		if req.hasHash {
			e.noStore(ctx)
			return codeErr(CodeNotSupported, "PersistedQueryNotSupported")
		}
		return nil
	case ModeAllowlist:
		return e.allowlist(ctx, raw, req)
	}
	if !req.hasHash {
		return nil
	}
	if !req.document && !versionOne(req.version) {
		return codeErr(CodeBadExtension, "unsupported persisted query version: only version 1 is")
	}
	if raw.Query == "" {
		q, ok := e.Cache.Get(ctx, req.hash)
		if !ok {
			e.noStore(ctx)
			return codeErr(CodeNotFound, "PersistedQueryNotFound")
		}
		raw.Query = q
		return nil
	}
	if Hash(raw.Query) != req.hash {
		return codeErr(CodeHashMismatch, "the query does not hash to extensions.persistedQuery.sha256Hash")
	}
	e.Cache.Add(ctx, req.hash, raw.Query)
	return nil
}

func (e Extension) allowlist(ctx context.Context, raw *graphql.RawParams, req request) *gqlerror.Error {
	switch {
	case req.hasHash:
		body, ok, err := e.Allowlist.Lookup(ctx, req.hash)
		if err != nil {
			return codeErr("INTERNAL", "could not read the persisted query list")
		}
		if !ok {
			break
		}
		if raw.Query != "" && Hash(raw.Query) != Hash(body) {
			return codeErr(CodeHashMismatch, "the query is not the document its hash names")
		}
		raw.Query = body
		return nil
	case raw.Query != "":
		if _, ok, err := e.Allowlist.Lookup(ctx, Hash(raw.Query)); err != nil {
			return codeErr("INTERNAL", "could not read the persisted query list")
		} else if ok {
			return nil
		}
	}
	if e.Bypass != nil && e.Bypass(ctx) && raw.Query != "" {
		return nil
	}
	e.noStore(ctx)
	return codeErr(CodeNotAllowed, "only the operations of the persisted query list run on this server")
}

func (e Extension) noStore(ctx context.Context) {
	if e.SetHeader != nil {
		e.SetHeader(ctx, "Cache-Control", noCache)
	}
}

func codeErr(code, msg string) *gqlerror.Error {
	err := gqlerror.Errorf("%s", msg)
	err.Extensions = map[string]any{"code": code}
	return err
}

// MarkDocumentID is what SetDocumentID adds to extensions.persistedQuery: the
// hash names a trusted document by its manifest ID, not a SHA-256.
const MarkDocumentID = documentIDMarkKey

// maxDocumentID bounds a document ID, as it bounds sha256Hash.
const maxDocumentID = 128

// SetDocumentID names the document of a decoded request by the first of
// candidates that is a document ID — a non-empty string of at most 128
// bytes; the transports pass the request's documentId and id members (or
// parameters of a GET), which the GraphQL-over-HTTP request of trusted
// documents uses. It puts the ID in raw's extensions.persistedQuery, marked
// as an ID, where MutateOperationParameters resolves it; it reports false,
// leaving raw alone, when no candidate is a document ID.
func SetDocumentID(raw *graphql.RawParams, candidates ...any) bool {
	id := ""
	for _, c := range candidates {
		if s, ok := c.(string); ok && s != "" && len(s) <= maxDocumentID {
			id = s
			break
		}
	}
	if id == "" {
		return false
	}
	if raw.Extensions == nil {
		raw.Extensions = map[string]any{}
	}
	// The version as the transports decode numbers (json.Number), so that
	// the request reads the same as if the client had sent the extension.
	raw.Extensions["persistedQuery"] = map[string]any{"version": json.Number("1"), "sha256Hash": id, documentIDMarkKey: true}
	return true
}
