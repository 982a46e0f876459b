// Command persistedmanifest turns the operations genqlient exports
// (export_operations in genqlient.yaml) into an Apollo persisted-query
// manifest, the versioned format `shipmentapp persisted import` reads for
// its trusted-documents allowlist (PERSISTED_QUERIES=allowlist).
//
// Each operation's id is the SHA-256 of its text: genqlient sends the full
// text, which the server finds on the allowlist by that hash, so the text is
// kept byte for byte.
//
//	go run ./tools/persistedmanifest -in shipmentapi/operations.json -out shipmentapi/persisted-manifest.json
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// exported is genqlient's export_operations file.
type exported struct {
	Operations []struct {
		OperationName string `json:"operationName"`
		Query         string `json:"query"`
	} `json:"operations"`
}

// manifest is Apollo's persisted-query manifest, version 1.
type manifest struct {
	Format     string      `json:"format"`
	Version    int         `json:"version"`
	Operations []operation `json:"operations"`
}

type operation struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
	Body string `json:"body"`
}

func main() {
	in := flag.String("in", "operations.json", "genqlient's exported operations")
	out := flag.String("out", "persisted-manifest.json", "the Apollo persisted-query manifest to write")
	flag.Parse()
	if err := convert(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "persistedmanifest:", err)
		os.Exit(1)
	}
}

func convert(in, out string) error {
	data, err := os.ReadFile(in)
	if err != nil {
		return fmt.Errorf("read genqlient's operations: %w", err)
	}
	var ops exported
	if err := json.Unmarshal(data, &ops); err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	if len(ops.Operations) == 0 {
		return fmt.Errorf("%s: no operations", in)
	}
	m := manifest{Format: "apollo-persisted-query-manifest", Version: 1}
	for _, op := range ops.Operations {
		kind, err := operationType(op.Query, op.OperationName)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", in, op.OperationName, err)
		}
		sum := sha256.Sum256([]byte(op.Query))
		m.Operations = append(m.Operations, operation{
			ID:   hex.EncodeToString(sum[:]),
			Name: op.OperationName,
			Type: kind,
			Body: op.Query,
		})
	}
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, append(body, '\n'), 0o644); err != nil {
		return fmt.Errorf("write the manifest: %w", err)
	}
	return nil
}

// operationType returns "query", "mutation" or "subscription", the type of
// the operation named name in doc.
func operationType(doc, name string) (string, error) {
	parsed, err := parser.ParseQuery(&ast.Source{Input: doc})
	if err != nil {
		return "", fmt.Errorf("parse: %w", err)
	}
	op := parsed.Operations.ForName(name)
	if op == nil {
		return "", errors.New("the document has no operation of that name")
	}
	return strings.ToLower(string(op.Operation)), nil
}
