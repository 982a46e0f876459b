// Command gendocs writes docs/SCHEMA.md, the Markdown reference of the
// public GraphQL schema, and api/schema.graphql, its public schema language
// (what /schema.graphql serves and clients generate types from), from the
// executable schema gqlgen generated (so from schema/*.graphql as compiled,
// descriptions included). `make docs` runs it; graph's
// TestSchemaReferenceCurrent fails when a committed file is stale.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"github.com/shipmentapp/shipmentapp/graph/generated"
	"github.com/shipmentapp/shipmentapp/internal/schemadoc"
)

func main() {
	out := flag.String("o", "docs/SCHEMA.md", "the Markdown reference to write")
	sdl := flag.String("sdl", "api/schema.graphql", "the public schema language file to write")
	flag.Parse()
	if err := run(*out, *sdl); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}

func run(mdPath, sdlPath string) error {
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	var md bytes.Buffer
	if err := schemadoc.Markdown(&md, schema); err != nil {
		return err
	}
	for path, data := range map[string][]byte{mdPath: md.Bytes(), sdlPath: schemadoc.SDL(schema)} {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	return nil
}
