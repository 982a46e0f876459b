package gqllimit

import (
	"context"
	"crypto/sha256"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// CodeTooManyFields is the code of a document with more field selections
// than Document.MaxFields.
const CodeTooManyFields = "TOO_MANY_FIELDS"

// DefaultMaxDocumentFields is the number of field selections a document may
// write (a large application query writes a few hundred; GraphiQL's
// introspection query about a hundred).
const DefaultMaxDocumentFields = 1000

// Document bounds a document's size before gqlgen validates it. Validation
// compares the fields that share a response name pairwise, so its cost grows
// with the square of a repeated field: 9,000 "__typename" (100 KB, within the
// token limit) took 9.4 s of CPU. Document counts the field selections as
// written (each fragment once) and refuses a document over MaxFields
// before that. It must be added after the persisted-query extension, which
// fills the query in. Documents it accepted are remembered by their SHA-256
// (32 bytes each, however long the document), so a known one is not parsed
// twice.
type Document struct {
	MaxFields int
	// TokenLimit is the parser's (GRAPHQL_MAX_TOKENS): a document over it is
	// left to gqlgen to refuse.
	TokenLimit int
	accepted   *lru.LRU[struct{}]
}

// NewDocument returns a Document extension remembering cacheSize accepted
// documents.
func NewDocument(maxFields, tokenLimit, cacheSize int) *Document {
	return &Document{MaxFields: maxFields, TokenLimit: tokenLimit, accepted: lru.New[struct{}](max(cacheSize, 1))}
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = (*Document)(nil)

// ExtensionName implements graphql.HandlerExtension.
func (*Document) ExtensionName() string { return "DocumentSize" }

// Validate implements graphql.HandlerExtension.
func (*Document) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationParameters implements graphql.OperationParameterMutator.
func (d *Document) MutateOperationParameters(ctx context.Context, raw *graphql.RawParams) *gqlerror.Error {
	if d.MaxFields <= 0 || raw.Query == "" {
		return nil
	}
	sum := sha256.Sum256([]byte(raw.Query))
	key := string(sum[:])
	if _, ok := d.accepted.Get(ctx, key); ok {
		return nil
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: raw.Query}, d.TokenLimit)
	if err != nil {
		return nil // gqlgen parses it again and says what is wrong
	}
	if n := CountFields(doc); n > d.MaxFields {
		return limitError(CodeTooManyFields, "the document selects %d fields; the limit is %d", n, d.MaxFields)
	}
	d.accepted.Add(ctx, key, struct{}{})
	return nil
}

// CountFields counts the field selections written in doc: in its operations
// and fragment definitions, each fragment once.
func CountFields(doc *ast.QueryDocument) int {
	n := 0
	var walk func(ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch sel := sel.(type) {
			case *ast.Field:
				n++
				walk(sel.SelectionSet)
			case *ast.InlineFragment:
				walk(sel.SelectionSet)
			}
		}
	}
	for _, op := range doc.Operations {
		walk(op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		walk(f.SelectionSet)
	}
	return n
}
