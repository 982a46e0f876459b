//go:build unix

package deploy_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shipmentapp/shipmentapp/internal/config"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// TestRedisConf starts the real redis-server on deploy/redis/redis.conf (on a
// loopback port of the test's) and reads the tuning back from it.
func TestRedisConf(t *testing.T) {
	bin := testutil.RequireCommands(t, "redis-server")["redis-server"]
	addr := testutil.FreeAddr(t)
	_, port, _ := strings.Cut(addr, ":")
	cmd := exec.Command(bin, "redis/redis.conf", "--bind", "127.0.0.1", "--port", port, "--requirepass", "test-password", "--daemonize", "no", "--dir", t.TempDir())
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	rdb := redis.NewClient(&redis.Options{Addr: addr, Password: "test-password"})
	defer func() { _ = rdb.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for rdb.Ping(ctx).Err() != nil {
		if ctx.Err() != nil {
			t.Fatalf("redis-server did not start on redis/redis.conf:\n%s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for key, want := range map[string]string{
		"maxmemory":        "2147483648",
		"maxmemory-policy": "allkeys-lru",
		"maxclients":       "1000",
		"save":             "",
		"appendonly":       "no",
		"protected-mode":   "yes",
	} {
		got, err := rdb.ConfigGet(ctx, key).Result()
		if err != nil {
			t.Fatalf("CONFIG GET %s: %v", key, err)
		}
		if got[key] != want {
			t.Errorf("%s = %q, want %q", key, got[key], want)
		}
	}
	// Without the password nothing is served.
	anon := redis.NewClient(&redis.Options{Addr: addr})
	defer func() { _ = anon.Close() }()
	if err := anon.Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Errorf("a client without the password: %v", err)
	}
}

// readCnf returns the [mysqld] options of a my.cnf file, names normalised
// to underscores, comments dropped.
func readCnf(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	opts := map[string]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.Index(line, "#"); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
		case section != "mysqld":
			t.Errorf("%s:%d: an option outside [mysqld]", path, n)
		default:
			k, v, _ := strings.Cut(line, "=")
			k = strings.ReplaceAll(strings.TrimSpace(k), "-", "_")
			if _, dup := opts[k]; dup {
				t.Errorf("%s:%d: %s set twice", path, n, k)
			}
			opts[k] = strings.TrimSpace(v)
		}
	}
	return opts
}

// TestMySQLConf checks the primary's and the replica's my.cnf: no MySQL 8
// server runs here (Debian has MariaDB only), so the options are read and
// held to the deployment architecture's tuning and to what replication and
// MySQL 8.4 need; an option MySQL 8 removed would stop the server.
func TestMySQLConf(t *testing.T) {
	removed := []string{"query_cache_size", "query_cache_type", "query_cache_limit", "innodb_log_file_size", "expire_logs_days", "master_info_repository", "log_slave_updates"}
	common := map[string]string{
		"max_connections": "500", "innodb_buffer_pool_size": "1G", "gtid_mode": "ON",
		"enforce_gtid_consistency": "ON", "character_set_server": "utf8mb4", "log_bin": "mysql-bin",
	}
	ids := map[string]string{}
	for file, own := range map[string]map[string]string{
		"mysql/primary.cnf": {"server_id": "1", "sync_binlog": "1", "innodb_flush_log_at_trx_commit": "1"},
		"mysql/replica.cnf": {"server_id": "2", "log_replica_updates": "ON", "replica_preserve_commit_order": "ON"},
	} {
		opts := readCnf(t, file)
		for k, want := range common {
			if opts[k] != want {
				t.Errorf("%s: %s = %q, want %q", file, k, opts[k], want)
			}
		}
		for k, want := range own {
			if opts[k] != want {
				t.Errorf("%s: %s = %q, want %q", file, k, opts[k], want)
			}
		}
		for _, k := range removed {
			if _, ok := opts[k]; ok {
				t.Errorf("%s sets %s, which MySQL 8 removed (the server would not start)", file, k)
			}
		}
		if other, dup := ids[opts["server_id"]]; dup {
			t.Errorf("%s and %s share server_id %s", file, other, opts["server_id"])
		}
		ids[opts["server_id"]] = file
	}
	// The replica becomes read-only once its first start's writes are done.
	b, err := os.ReadFile("mysql/init-replica.sh")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"SET PERSIST super_read_only = ON", "SOURCE_AUTO_POSITION = 1", "START REPLICA"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("mysql/init-replica.sh lacks %q", want)
		}
	}
}

// TestLogrotate runs logrotate in debug mode (it changes nothing) on the
// shipped file, then a forced rotation on a copy pointed at a folder of the
// test's: daily, 7 kept, compressed.
func TestLogrotate(t *testing.T) {
	bin := testutil.RequireCommands(t, "logrotate")["logrotate"]
	b, err := os.ReadFile("logrotate/shipmentapp")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"daily", "rotate 7", "compress"} {
		if !strings.Contains(string(b), "\n    "+want+"\n") {
			t.Errorf("logrotate/shipmentapp lacks %q", want)
		}
	}
	if out, err := exec.Command(bin, "--debug", "logrotate/shipmentapp").CombinedOutput(); err != nil || strings.Contains(string(out), "error:") {
		t.Fatalf("logrotate --debug: %v\n%s", err, out)
	}
	dir := t.TempDir()
	logs := filepath.Join(dir, "log")
	if err := os.Mkdir(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	conf := strings.ReplaceAll(string(b), "/var/log/shipmentapp/", logs+"/")
	// Rotating the test's own files needs no change of user.
	conf = strings.ReplaceAll(conf, "su root adm", "")
	confPath := filepath.Join(dir, "logrotate.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(logs, "app.log"), []byte(`{"msg":"request"}`+"\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	if out, err := exec.Command(bin, "--force", "--state", state, confPath).CombinedOutput(); err != nil {
		t.Fatalf("forced rotation: %v\n%s", err, out)
	}
	entries, _ := os.ReadDir(logs)
	rotated := false
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		rotated = rotated || strings.HasPrefix(e.Name(), "app.log-")
	}
	if fi, err := os.Stat(filepath.Join(logs, "app.log")); !rotated || err != nil || fi.Size() != 0 {
		t.Errorf("after a forced rotation the folder holds %v (app.log: %v)", names, err)
	}
}

// TestEnvExamples loads each .env.*.example with the app's own loader: every
// line names a config key the app knows (commented ones too), and the file
// passes the app's validation for its environment.
func TestEnvExamples(t *testing.T) {
	known := map[string]bool{}
	for _, k := range config.Keys() {
		known[k] = true
	}
	files, _ := filepath.Glob(".env.*.example")
	if len(files) != 3 {
		t.Fatalf("want the development, staging and production examples, got %v", files)
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var env []string
			for n, line := range strings.Split(string(b), "\n") {
				line = strings.TrimSpace(line)
				commented := strings.HasPrefix(line, "# ")
				kv := strings.TrimPrefix(line, "# ")
				k, _, ok := strings.Cut(kv, "=")
				if !ok || strings.ContainsAny(k, " .") || k == "" {
					continue
				}
				if !known[k] {
					t.Errorf("%s:%d: %s is not a config key of the app", f, n+1, k)
				}
				if !commented {
					env = append(env, kv)
				}
			}
			cfg, err := config.Load("", env)
			if err != nil {
				t.Fatalf("the app refuses %s: %v", f, err)
			}
			want := strings.TrimSuffix(strings.TrimPrefix(f, ".env."), ".example")
			if cfg.Env != want {
				t.Errorf("%s: APP_ENV %q", f, cfg.Env)
			}
		})
	}
}
