package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// ValidateCompose loads a compose file as `docker compose` does (schema
// validation, interpolation of ${VAR:-default}, paths resolved against the
// file's directory, every profile enabled) and checks that the files it
// names exist: env_file entries, bind-mounted sources, configs and secrets
// from files, build contexts and Dockerfiles. Interpolation sees only the
// directory's .env file (if any) and the variables passed in env, never the
// caller's environment, so the result is the same everywhere.
func ValidateCompose(path string, env []string, r *repo) []Problem {
	var ps problems
	file := r.rel(path)
	if _, err := os.Stat(path); err != nil {
		ps.add(file, "", "cannot read it: %v", errors.Unwrap(err))
		return ps.list
	}
	dir := filepath.Dir(path)
	opts, err := cli.NewProjectOptions([]string{path},
		cli.WithWorkingDirectory(dir),
		cli.WithEnv(env),
		cli.WithEnvFiles(),
		cli.WithDotEnv,
		cli.WithInterpolation(true),
		cli.WithResolvedPaths(true),
		cli.WithProfiles([]string{"*"}),
		// The env_file entries are checked below, each with its own message,
		// instead of failing the whole load at the first missing one.
		cli.WithoutEnvironmentResolution,
	)
	if err != nil {
		ps.add(file, "", "%v", err)
		return ps.list
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		ps.add(file, "", "%v", err)
		return ps.list
	}
	exists := func(object, what, p string) {
		if _, err := os.Stat(p); err != nil {
			ps.add(file, object, "%s %s does not exist", what, r.rel(p))
		}
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range project.Services {
			if !yield(n) {
				return
			}
		}
	})
	for _, name := range names {
		s := project.Services[name]
		obj := "service " + name
		for _, ef := range s.EnvFiles {
			if ef.Required {
				exists(obj, "env_file", ef.Path)
			}
		}
		for _, v := range s.Volumes {
			if v.Type == types.VolumeTypeBind {
				exists(obj, "bind mount source", v.Source)
			}
		}
		if b := s.Build; b != nil && b.Context != "" && !isRemote(b.Context) {
			exists(obj, "build context", b.Context)
			if b.Dockerfile != "" && b.DockerfileInline == "" {
				df := b.Dockerfile
				if !filepath.IsAbs(df) {
					df = filepath.Join(b.Context, df)
				}
				exists(obj, "build dockerfile", df)
			}
		}
	}
	for n, c := range project.Configs {
		if c.File != "" {
			exists("config "+n, "file", c.File)
		}
	}
	for n, s := range project.Secrets {
		if s.File != "" {
			exists("secret "+n, "file", s.File)
		}
	}
	return ps.list
}

func isRemote(context string) bool {
	for _, p := range []string{"http://", "https://", "git@", "git://", "github.com/"} {
		if len(context) >= len(p) && context[:len(p)] == p {
			return true
		}
	}
	return false
}
