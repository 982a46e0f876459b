package main

// Code generation, in order: Ent (which also writes schema/ent.graphql through
// entgql), then gqlgen. Run with `make generate`.

//go:generate go run ./ent/entc.go
//go:generate go tool gqlgen generate --config gqlgen.yml
