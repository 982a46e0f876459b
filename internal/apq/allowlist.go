package apq

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/persistedquery"
	"github.com/shipmentapp/shipmentapp/ent/privacy"
	"github.com/shipmentapp/shipmentapp/internal/dbroute"
)

// DBAllowlist reads the trusted documents from the database, remembering
// what it found for a minute.
type DBAllowlist struct {
	client *ent.Client
	cache  *localCache
}

// NewDBAllowlist returns the allowlist of client.
func NewDBAllowlist(client *ent.Client) *DBAllowlist {
	return &DBAllowlist{client: client, cache: newLocalCache(4096, time.Minute)}
}

// Lookup implements Allowlist.
func (a *DBAllowlist) Lookup(ctx context.Context, idOrHash string) (string, bool, error) {
	if body, ok := a.cache.Get(idOrHash); ok {
		return body, true, nil
	}
	// The list is server configuration: read it whoever asks.
	sctx := privacy.DecisionContext(dbroute.UsePrimary(ctx), privacy.Allow)
	row, err := a.client.PersistedQuery.Query().
		Where(persistedquery.Or(persistedquery.DocID(idOrHash), persistedquery.Hash(strings.ToLower(idOrHash)))).
		First(sctx)
	if ent.IsNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("look up persisted query: %w", err)
	}
	a.cache.Add(idOrHash, row.Body)
	return row.Body, true, nil
}

// Document is one trusted document of a manifest.
type Document struct {
	ID            string
	Body          string
	OperationName string
}

// ErrManifest wraps every problem of a manifest; a manifest with any problem
// is refused whole.
var ErrManifest = errors.New("invalid persisted query manifest")

// ParseManifest reads Apollo's persisted-query manifest
// ({"format":"apollo-persisted-query-manifest","version":1,"operations":[...]})
// or Relay's persisted_queries.json ({"<id>": "<document>", ...}).
func ParseManifest(data []byte) ([]Document, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("%w: not a JSON object: %v", ErrManifest, err)
	}
	var docs []Document
	if _, apollo := probe["format"]; apollo {
		var m struct {
			Format     string `json:"format"`
			Version    int    `json:"version"`
			Operations []struct {
				ID   string `json:"id"`
				Name string `json:"name"`
				Type string `json:"type"`
				Body string `json:"body"`
			} `json:"operations"`
		}
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrManifest, err)
		}
		if m.Format != "apollo-persisted-query-manifest" || m.Version != 1 {
			return nil, fmt.Errorf("%w: unknown format %q version %d", ErrManifest, m.Format, m.Version)
		}
		for i, op := range m.Operations {
			if op.ID != Hash(op.Body) {
				return nil, fmt.Errorf("%w: operation %d (%s): id is not the SHA-256 of its body", ErrManifest, i, op.Name)
			}
			docs = append(docs, Document{ID: op.ID, Body: op.Body, OperationName: op.Name})
		}
	} else {
		ids := make([]string, 0, len(probe))
		for id := range probe {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			var body string
			if err := json.Unmarshal(probe[id], &body); err != nil {
				return nil, fmt.Errorf("%w: %q: the value must be the document text", ErrManifest, id)
			}
			docs = append(docs, Document{ID: id, Body: body})
		}
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("%w: no operations", ErrManifest)
	}
	seen := map[string]bool{}
	for _, d := range docs {
		switch {
		case d.ID == "" || len(d.ID) > 128:
			return nil, fmt.Errorf("%w: an id must have 1 to 128 characters, got %q", ErrManifest, d.ID)
		case strings.TrimSpace(d.Body) == "":
			return nil, fmt.Errorf("%w: %q has no document", ErrManifest, d.ID)
		case seen[d.ID]:
			return nil, fmt.Errorf("%w: %q appears twice", ErrManifest, d.ID)
		}
		seen[d.ID] = true
	}
	return docs, nil
}

// Validate checks every document against the schema.
func Validate(schema *ast.Schema, docs []Document) error {
	var problems []string
	for _, d := range docs {
		if _, errs := gqlparser.LoadQueryWithRules(schema, d.Body, nil); len(errs) > 0 {
			problems = append(problems, fmt.Sprintf("%s: %s", d.ID, errs.Error()))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %d document(s) do not validate against the schema:\n  %s", ErrManifest, len(problems), strings.Join(problems, "\n  "))
	}
	return nil
}

// Import stores docs in one transaction (all or nothing); a document already
// listed under the same ID is replaced. ctx must allow writing the list.
func Import(ctx context.Context, client *ent.Client, docs []Document) (err error) {
	tx, err := client.Tx(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	for _, d := range docs {
		if _, err := tx.PersistedQuery.Delete().Where(persistedquery.Or(persistedquery.DocID(d.ID), persistedquery.Hash(Hash(d.Body)))).Exec(ctx); err != nil {
			return fmt.Errorf("replace %s: %w", d.ID, err)
		}
		c := tx.PersistedQuery.Create().SetDocID(d.ID).SetHash(Hash(d.Body)).SetBody(d.Body)
		if d.OperationName != "" {
			c.SetOperationName(d.OperationName)
		}
		if err := c.Exec(ctx); err != nil {
			return fmt.Errorf("store %s: %w", d.ID, err)
		}
	}
	return tx.Commit()
}
