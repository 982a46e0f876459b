package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// ConfigKeys are the environment variables the application reads: the rows
// of README.md's "Configuration" table, whose first cell names one or more
// keys in backquotes (| `KEY` | default | meaning |, or
// | `A`, `B`, `C` | ... |), plus the standard OTEL_* variables that section
// names (the OpenTelemetry SDK reads them).
type ConfigKeys map[string]bool

var (
	backquoted = regexp.MustCompile("`([^`]*)`")
	envName    = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)
	otelName   = regexp.MustCompile("`(OTEL_[A-Z0-9_]+)`")
)

// ReadConfigKeys parses the "## Configuration" section of the README at path.
func ReadConfigKeys(path string) (ConfigKeys, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	keys := ConfigKeys{}
	in := false
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = strings.TrimSpace(line[3:]) == "Configuration"
			continue
		}
		if !in {
			continue
		}
		for _, m := range otelName.FindAllStringSubmatch(line, -1) {
			keys[m[1]] = true
		}
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		first, _, _ := strings.Cut(line[1:], " |")
		for _, m := range backquoted.FindAllStringSubmatch(first, -1) {
			if envName.MatchString(m[1]) {
				keys[m[1]] = true
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("no configuration key found: expected rows like \"| `APP_ENV` | ... |\" under \"## Configuration\"")
	}
	return keys, nil
}

// runtimeEnv are variables read by the Go runtime, not by the application's
// configuration; a container may set them with env (not in a ConfigMap).
var runtimeEnv = map[string]bool{"GOMEMLIMIT": true, "GOMAXPROCS": true, "GOGC": true, "GODEBUG": true}

// documented reports whether key may appear in a ConfigMap or Secret the
// workloads read as environment: a README key, or a backup script's BACKUP_*
// setting (deploy/backup).
func (k ConfigKeys) documented(key string) bool {
	return k[key] || strings.HasPrefix(key, "BACKUP_")
}
