package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// ParseDockerfile parses a Dockerfile as BuildKit does and reports its
// parser warnings and the findings of BuildKit's lint rules that run while
// parsing (casing, deprecated instructions, empty continuations...).
func ParseDockerfile(path string, r *repo) ([]instructions.Stage, []Problem) {
	var ps problems
	file := r.rel(path)
	data, err := os.ReadFile(path)
	if err != nil {
		ps.add(file, "", "%v", err)
		return nil, ps.list
	}
	res, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		ps.add(file, "", "does not parse: %v", err)
		return nil, ps.list
	}
	for _, w := range res.Warnings {
		ps.add(file, line(w.Location), "%s", w.Short)
	}
	lint := linter.New(&linter.Config{Warn: func(rule, _, url, msg string, loc []parser.Range) {
		var at *parser.Range
		if len(loc) > 0 {
			at = &loc[0]
		}
		ps.add(file, line(at), "%s: %s (%s)", rule, msg, url)
	}})
	stages, _, err := instructions.Parse(res.AST, lint)
	if err != nil {
		ps.add(file, "", "%v", err)
		return nil, ps.list
	}
	return stages, ps.list
}

func line(r *parser.Range) string {
	if r == nil {
		return ""
	}
	return fmt.Sprintf("line %d", r.Start.Line)
}

// CheckAppDockerfile requires the application image's Dockerfile to be
// multi-stage (no toolchain in the image), to switch to a non-root USER in
// its final stage, and to declare a HEALTHCHECK there.
func CheckAppDockerfile(path string, r *repo) []Problem {
	stages, list := ParseDockerfile(path, r)
	if stages == nil {
		return list
	}
	ps := problems{list: list}
	file := r.rel(path)
	if len(stages) < 2 {
		ps.add(file, "", "one stage only: build in a first stage and copy the binary into a minimal final stage")
	}
	final := stages[len(stages)-1]
	obj := "final stage"
	if final.Name != "" {
		obj = fmt.Sprintf("final stage %q", final.Name)
	}
	var user *instructions.UserCommand
	var health *instructions.HealthCheckCommand
	for _, cmd := range final.Commands {
		switch c := cmd.(type) {
		case *instructions.UserCommand:
			user = c
		case *instructions.HealthCheckCommand:
			health = c
		}
	}
	switch {
	case user == nil:
		ps.add(file, obj, "no USER: the image runs as its base image's user; name a non-root one")
	case isRoot(user.User):
		ps.add(file, obj, "USER %s is root: the last USER must be a non-root user", user.User)
	}
	switch {
	case health == nil:
		ps.add(file, obj, "no HEALTHCHECK")
	case health.Health == nil || len(health.Health.Test) == 0 || health.Health.Test[0] == "NONE":
		ps.add(file, obj, "HEALTHCHECK NONE: declare a health check")
	}
	return ps.list
}

func isRoot(user string) bool {
	u, _, _ := strings.Cut(user, ":")
	return u == "root" || u == "0" || u == ""
}
