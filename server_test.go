package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := newRootCmd(&out, &errOut)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String() + errOut.String(), err
}

func TestMigrateCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "cli.db")
	t.Setenv("DB_CONNECTION", "sqlite")
	t.Setenv("DB_DATABASE", db)
	t.Setenv("LOG_LEVEL", "error")

	out, err := run(t, "migrate", "status")
	if err != nil || !strings.Contains(out, "pending") {
		t.Fatalf("status before: %v\n%s", err, out)
	}
	out, err = run(t, "migrate", "up")
	if err != nil || !strings.Contains(out, "applied") {
		t.Fatalf("up: %v\n%s", err, out)
	}
	out, err = run(t, "migrate", "up")
	if err != nil || !strings.Contains(out, "no pending migrations") {
		t.Fatalf("second up: %v\n%s", err, out)
	}
	out, err = run(t, "migrate", "status")
	if err != nil || strings.Contains(out, "pending") || !strings.Contains(out, "applied") {
		t.Fatalf("status after: %v\n%s", err, out)
	}
	out, err = run(t, "migrate", "down")
	if err != nil || !strings.Contains(out, "reverted") {
		t.Fatalf("down: %v\n%s", err, out)
	}
}

func TestCommandErrors(t *testing.T) {
	t.Setenv("DB_CONNECTION", "oracle")
	t.Setenv("HTTP_IDLE_TIMEOUT", "-1s")
	_, err := run(t, "migrate", "status")
	if err == nil || !strings.Contains(err.Error(), "DB_CONNECTION") || !strings.Contains(err.Error(), "HTTP_IDLE_TIMEOUT") {
		t.Errorf("invalid config: %v", err)
	}
	if _, err := run(t, "nope"); err == nil {
		t.Error("unknown command accepted")
	}
	if _, err := run(t, "serve", "extra"); err == nil {
		t.Error("serve with an argument accepted")
	}
}

func TestVersion(t *testing.T) {
	out, err := run(t, "version")
	if err != nil || !strings.HasPrefix(out, "shipmentapp dev") {
		t.Errorf("version: %v %q", err, out)
	}
}
