// Package migrations embeds the versioned SQL migrations of the main database,
// one directory per dialect, in goose's format. They are generated from the Ent
// schema by `make migrate-diff NAME=...` and never edited by hand once applied.
package migrations

import "embed"

// FS holds sqlite/, mysql/ and postgres/.
//
//go:embed sqlite/*.sql mysql/*.sql postgres/*.sql
var FS embed.FS
