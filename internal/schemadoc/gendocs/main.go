// Command gendocs writes docs/SCHEMA.md, the Markdown reference of the
// public GraphQL schema, from the executable schema gqlgen generated (so from
// schema/*.graphql as compiled, descriptions included). `make docs` runs it;
// graph's TestSchemaReferenceCurrent fails when the committed file is stale.
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
	out := flag.String("o", "docs/SCHEMA.md", "file to write")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}

func run(path string) error {
	var buf bytes.Buffer
	if err := schemadoc.Markdown(&buf, generated.NewExecutableSchema(generated.Config{}).Schema()); err != nil {
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
