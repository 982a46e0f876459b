package config_test

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/config"
)

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaults(t *testing.T) {
	cfg, err := config.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Env != "development" || !cfg.Debug || cfg.Addr != "127.0.0.1:8080" || cfg.DataDir != "./data" ||
		cfg.DB.Connection != "sqlite" || cfg.DB.Database != filepath.Join("data", "shipmentapp.db") ||
		cfg.Dolibarr.Connection != "sqlite" || !cfg.Dolibarr.DemoSeed || cfg.Dolibarr.Entity != 1 ||
		!cfg.GraphQL.Playground || !cfg.GraphQL.Introspection || !cfg.DB.AutoMigrate || !cfg.DemoSeed ||
		cfg.HTTP.ReadHeaderTimeout != 5*time.Second || cfg.LogLevel != "debug" {
		t.Errorf("development defaults: %+v", cfg)
	}
	if cfg.URL != "" {
		t.Errorf("APP_URL defaults to %q; want it unset, to follow the address served", cfg.URL)
	}
}

func TestProductionDefaultsAndPrecedence(t *testing.T) {
	file := writeFile(t, `
app_env: production
app_url: https://api.example.com
db_connection: mysql
db_host: mysql-master.internal
db_database: shipmentapp
db_username: app_user
db_password: from-file
dolibarr_db_connection: mysql
dolibarr_db_host: dolibarr-db.internal
dolibarr_db_database: dolibarr
dolibarr_db_username: readonly_user
http_idle_timeout: 90s
filesystem_disk: s3
aws_bucket: shipmentapp-files
`)
	cfg, err := config.Load(file, []string{
		"DB_PASSWORD=from-env", "DOLIBARR_ENTITY=2", "PATH=/usr/bin", "db_host=ignored-lowercase",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Debug || cfg.GraphQL.Playground || cfg.GraphQL.Introspection || cfg.DB.AutoMigrate || cfg.DemoSeed || cfg.Dolibarr.DemoSeed || cfg.LogLevel != "info" {
		t.Errorf("production must default debug, playground, introspection, migrations and seeding off: %+v", cfg)
	}
	if cfg.DB.Password != "from-env" || cfg.DB.Host != "mysql-master.internal" || cfg.DB.Port != 3306 || cfg.Dolibarr.Entity != 2 || cfg.HTTP.IdleTimeout != 90*time.Second {
		t.Errorf("precedence defaults < file < env: %+v", cfg)
	}
}

func TestEveryProblemAtOnce(t *testing.T) {
	_, err := config.Load("", []string{
		"APP_ENV=prod", "DB_CONNECTION=pgsql", "DB_PORT=abc", "HTTP_MAX_BODY_BYTES=10",
		"APP_ADDR=nohost", "LOG_LEVEL=loud", "DOLIBARR_ENTITY=0", "DB_MAX_IDLE_CONNS=50",
	})
	var cerr *config.Error
	if !errors.As(err, &cerr) {
		t.Fatalf("want *config.Error, got %v", err)
	}
	msg := err.Error()
	for _, key := range []string{"APP_ENV", "DB_PORT", "DB_HOST", "DB_DATABASE", "DB_USERNAME", "HTTP_MAX_BODY_BYTES", "APP_ADDR", "LOG_LEVEL", "DOLIBARR_ENTITY", "DB_MAX_IDLE_CONNS"} {
		if !strings.Contains(msg, key+":") {
			t.Errorf("problem with %s not reported in:\n%s", key, msg)
		}
	}
}

func TestValidation(t *testing.T) {
	cases := []struct {
		name string
		env  []string
		want string // a substring of the error, "" for valid
	}{
		{"valid pgsql", []string{"DB_CONNECTION=pgsql", "DB_HOST=db", "DB_DATABASE=x", "DB_USERNAME=u"}, ""},
		{"bad sslmode", []string{"DB_CONNECTION=pgsql", "DB_HOST=db", "DB_DATABASE=x", "DB_USERNAME=u", "DB_SSLMODE=maybe"}, "DB_SSLMODE"},
		{"unknown driver", []string{"DB_CONNECTION=oracle"}, "DB_CONNECTION"},
		{"auto-migrate in production", []string{"APP_ENV=production", "DB_AUTO_MIGRATE=true"}, "DB_AUTO_MIGRATE"},
		{"demo seed on a real Dolibarr", []string{"DOLIBARR_DB_CONNECTION=mysql", "DOLIBARR_DB_HOST=h", "DOLIBARR_DB_DATABASE=d", "DOLIBARR_DB_USERNAME=u", "DOLIBARR_DEMO_SEED=true"}, "DOLIBARR_DEMO_SEED"},
		{"dolibarr on pgsql", []string{"DOLIBARR_DB_CONNECTION=pgsql", "DOLIBARR_DB_HOST=h", "DOLIBARR_DB_DATABASE=d", "DOLIBARR_DB_USERNAME=u"}, "DOLIBARR_DB_CONNECTION:"},
		{"bad duration", []string{"HTTP_IDLE_TIMEOUT=-1s"}, "HTTP_IDLE_TIMEOUT"},
		{"bad url", []string{"APP_URL=ftp://x"}, "APP_URL"},
		{"bad port", []string{"DB_CONNECTION=mysql", "DB_HOST=h", "DB_DATABASE=d", "DB_USERNAME=u", "DB_PORT=70000"}, "DB_PORT"},
		{"bad bool", []string{"APP_DEBUG=perhaps"}, "APP_DEBUG"},
		{"replicas", []string{"DB_CONNECTION=mysql", "DB_HOST=h", "DB_DATABASE=d", "DB_USERNAME=u", "DB_READ_HOST=r1, r2:3307"}, ""},
		{"replica with a bad port", []string{"DB_CONNECTION=mysql", "DB_HOST=h", "DB_DATABASE=d", "DB_USERNAME=u", "DB_READ_HOST=r1:x"}, "DB_READ_HOST:"},
		{"replica on sqlite", []string{"DB_READ_HOST=r1"}, "DB_READ_HOST:"},
		{"cors origins", []string{"HTTP_CORS_ORIGINS=https://a.example.com, http://localhost:5173"}, ""},
		{"cors origin with a path", []string{"HTTP_CORS_ORIGINS=https://a.example.com/app"}, "HTTP_CORS_ORIGINS:"},
		{"cors wildcard", []string{"HTTP_CORS_ORIGINS=*"}, "HTTP_CORS_ORIGINS:"},
		{"zero max lag", []string{"DB_REPLICA_MAX_LAG=0s"}, "DB_REPLICA_MAX_LAG:"},
		{"debug in production", []string{"APP_ENV=production", "APP_DEBUG=true"}, "APP_DEBUG:"},
		{"debug in staging", []string{"APP_ENV=staging", "APP_URL=https://staging.example.com", "APP_DEBUG=true", "FILE_SIGNING_KEY=0123456789abcdef0123456789abcdef"}, ""},
		{"local files in production need a signing key", []string{"APP_ENV=production"}, "FILE_SIGNING_KEY:"},
		{"short signing key", []string{"FILE_SIGNING_KEY=short"}, "FILE_SIGNING_KEY:"},
		{"s3 without a bucket", []string{"FILESYSTEM_DISK=s3"}, "AWS_BUCKET:"},
		{"s3 in production", []string{"APP_ENV=production", "APP_URL=https://api.example.com", "FILESYSTEM_DISK=s3", "AWS_BUCKET=b"}, ""},
		{"production without APP_URL", []string{"APP_ENV=production", "FILESYSTEM_DISK=s3", "AWS_BUCKET=b"}, "APP_URL: is required in production"},
		{"staging without APP_URL", []string{"APP_ENV=staging", "FILESYSTEM_DISK=s3", "AWS_BUCKET=b"}, "APP_URL: is required in staging"},
		{"production with an empty APP_URL", []string{"APP_ENV=production", "APP_URL=", "FILESYSTEM_DISK=s3", "AWS_BUCKET=b"}, "APP_URL: is required in production"},
		{"production with a URL that has a path", []string{"APP_ENV=production", "APP_URL=https://example.com/api", "FILESYSTEM_DISK=s3", "AWS_BUCKET=b"}, ""},
		{"development without APP_URL", []string{"APP_ADDR=127.0.0.1:9090"}, ""},
		{"unknown disk", []string{"FILESYSTEM_DISK=ftp"}, "FILESYSTEM_DISK:"},
		{"half the credentials", []string{"FILESYSTEM_DISK=s3", "AWS_BUCKET=b", "AWS_ACCESS_KEY_ID=a"}, "AWS_SECRET_ACCESS_KEY:"},
		{"bad endpoint", []string{"FILESYSTEM_DISK=s3", "AWS_BUCKET=b", "AWS_ENDPOINT=minio:9000"}, "AWS_ENDPOINT:"},
		{"request limit under the file limit", []string{"FILE_MAX_BYTES=100", "FILE_MAX_REQUEST_BYTES=10"}, "FILE_MAX_REQUEST_BYTES:"},
		{"grace shorter than an upload", []string{"FILE_UPLOAD_TIMEOUT=2h", "FILE_SWEEP_GRACE=1h"}, "FILE_SWEEP_GRACE:"},
		{"sweeper off", []string{"FILE_SWEEP_INTERVAL=0s"}, ""},
		{"grace without a margin", []string{"FILE_UPLOAD_TIMEOUT=10m", "FILE_SWEEP_GRACE=11m"}, "FILE_SWEEP_GRACE:"},
		{"key prefix", []string{"FILE_KEY_PREFIX=production/files/"}, ""},
		{"key prefix without a slash", []string{"FILE_KEY_PREFIX=files"}, "FILE_KEY_PREFIX:"},
		{"key prefix climbing", []string{"FILE_KEY_PREFIX=../files/"}, "FILE_KEY_PREFIX:"},
		{"key prefix upper case", []string{"FILE_KEY_PREFIX=Files/"}, "FILE_KEY_PREFIX:"},
		{"no upload slots", []string{"FILE_MAX_CONCURRENT_UPLOADS=0"}, "FILE_MAX_CONCURRENT_UPLOADS:"},
		{"no subscription buffer", []string{"SUBSCRIPTION_BUFFER=0"}, "SUBSCRIPTION_BUFFER:"},
		{"no subscriptions per connection", []string{"SUBSCRIPTION_MAX_PER_CONNECTION=0"}, "SUBSCRIPTION_MAX_PER_CONNECTION:"},
		{"no connections per key", []string{"SUBSCRIPTION_MAX_CONNECTIONS_PER_KEY=-1"}, "SUBSCRIPTION_MAX_CONNECTIONS_PER_KEY:"},
		{"no init timeout", []string{"SUBSCRIPTION_INIT_TIMEOUT=0s"}, "SUBSCRIPTION_INIT_TIMEOUT:"},
		{"no keepalive", []string{"SUBSCRIPTION_KEEPALIVE=0s"}, "SUBSCRIPTION_KEEPALIVE:"},
		{"websocket origins", []string{"SUBSCRIPTION_ALLOWED_ORIGINS=https://partner.example.com"}, ""},
		{"websocket origin wildcard", []string{"SUBSCRIPTION_ALLOWED_ORIGINS=*"}, "SUBSCRIPTION_ALLOWED_ORIGINS:"},
	}
	for _, c := range cases {
		_, err := config.Load("", c.env)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: want a problem with %s, got %v", c.name, c.want, err)
		}
	}
}

// TestProductionNeedsAppURL: outside development, a missing APP_URL is one
// of the problems reported at once, with what to set.
func TestProductionNeedsAppURL(t *testing.T) {
	for _, env := range []string{"staging", "production"} {
		_, err := config.Load("", []string{"APP_ENV=" + env, "DB_AUTO_MIGRATE=true"})
		if err == nil {
			t.Fatalf("%s without APP_URL accepted", env)
		}
		msg := err.Error()
		for _, want := range []string{"APP_URL: is required in " + env, "https://", "DB_AUTO_MIGRATE:", "FILE_SIGNING_KEY:"} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: %q not reported in:\n%s", env, want, msg)
			}
		}
	}
}

// TestResolveURL: without APP_URL, the public URL is the address actually
// listened on: the port chosen for port 0, and 127.0.0.1 for a wildcard host.
func TestResolveURL(t *testing.T) {
	tcp := func(s string) net.Addr {
		a, err := net.ResolveTCPAddr("tcp", s)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	cases := []struct {
		name, appURL, addr, bound string
		want                      string
		derived                   bool
	}{
		{"the configured port", "", "127.0.0.1:9090", "127.0.0.1:9090", "http://127.0.0.1:9090", true},
		{"the port chosen for port 0", "", "127.0.0.1:0", "127.0.0.1:41234", "http://127.0.0.1:41234", true},
		{"no host", "", ":9090", "[::]:9090", "http://127.0.0.1:9090", true},
		{"IPv4 wildcard", "", "0.0.0.0:9090", "0.0.0.0:9090", "http://127.0.0.1:9090", true},
		{"IPv6 wildcard", "", "[::]:9090", "[::]:9090", "http://127.0.0.1:9090", true},
		{"IPv6 loopback", "", "[::1]:0", "[::1]:40001", "http://[::1]:40001", true},
		{"a host name is kept", "", "localhost:0", "127.0.0.1:40002", "http://localhost:40002", true},
		{"APP_URL wins", "https://api.example.com", "0.0.0.0:8080", "0.0.0.0:8080", "https://api.example.com", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := []string{"APP_ADDR=" + c.addr}
			if c.appURL != "" {
				env = append(env, "APP_URL="+c.appURL)
			}
			cfg, err := config.Load("", env)
			if err != nil {
				t.Fatal(err)
			}
			derived := cfg.ResolveURL(tcp(c.bound))
			if cfg.URL != c.want || derived != c.derived {
				t.Errorf("APP_ADDR=%s bound on %s: URL %q (derived %v), want %q (derived %v)", c.addr, c.bound, cfg.URL, derived, c.want, c.derived)
			}
		})
	}
}

func TestReplicas(t *testing.T) {
	cfg, err := config.Load("", []string{"DB_CONNECTION=pgsql", "DB_HOST=h", "DB_DATABASE=d", "DB_USERNAME=u", "DB_PASSWORD=p",
		"DB_READ_HOST=r1,r2:6543,[::1]:5433", "DB_READ_PORT=5444"})
	if err != nil {
		t.Fatal(err)
	}
	reps, _ := cfg.DB.Replicas()
	if fmt.Sprint(reps) != "[{r1 5444} {r2 6543} {::1 5433}]" || cfg.DB.ReadUsername != "u" || cfg.DB.ReadPassword != "p" {
		t.Errorf("replicas %v, user %q", reps, cfg.DB.ReadUsername)
	}
	if cfg.DB.ReplicaMaxLag != 5*time.Second || cfg.DB.ReadYourWrites != 2*time.Second || cfg.DB.ReplicaCheckInterval != time.Second {
		t.Errorf("replica defaults: %+v", cfg.DB)
	}
}

func TestConfigFile(t *testing.T) {
	if _, err := config.Load(writeFile(t, "db_hots: typo\n"), nil); err == nil || !strings.Contains(err.Error(), "DB_HOTS: unknown") {
		t.Errorf("unknown key: %v", err)
	}
	if _, err := config.Load(writeFile(t, "app_env: [unclosed\n"), nil); err == nil {
		t.Error("malformed YAML accepted")
	}
	if _, err := config.Load(filepath.Join(t.TempDir(), "missing.yaml"), nil); err == nil {
		t.Error("missing file accepted")
	}
}

func TestKeysAreDocumented(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Skip("README.md not found")
	}
	for _, k := range config.Keys() {
		if !strings.Contains(string(readme), "`"+k+"`") {
			t.Errorf("config key %s is not documented in README.md", k)
		}
	}
}

// FuzzLoadFile: any config file gives a config or an error, never a panic,
// and an accepted config is valid.
func FuzzLoadFile(f *testing.F) {
	f.Add("app_env: production\ndb_connection: mysql\n")
	f.Add("http_idle_timeout: 5s\n")
	f.Add("db_port: [1, 2]\n")
	f.Add("app_env: {a: b}\n")
	f.Add("? [a]\n: b\n")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, content string) {
		p := filepath.Join(dir, "fuzz.yaml")
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Skip()
		}
		cfg, err := config.Load(p, nil)
		if err == nil && (cfg.Addr == "" || cfg.HTTP.MaxBodyBytes < 1024 || cfg.DB.MaxOpenConns < 1) {
			t.Fatalf("accepted an invalid config: %+v", cfg)
		}
	})
}

// TestDeployExamples: every deploy/.env.*.example is a valid configuration.
func TestDeployExamples(t *testing.T) {
	paths, _ := filepath.Glob("../../deploy/.env.*.example")
	if len(paths) < 3 {
		t.Fatalf("found %d examples", len(paths))
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var env []string
		for _, line := range strings.Split(string(data), "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				env = append(env, line)
			}
		}
		if _, err := config.Load("", env); err != nil {
			t.Errorf("%s: %v", filepath.Base(p), err)
		}
	}
}
