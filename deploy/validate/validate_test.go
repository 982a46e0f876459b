package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testRepo(t *testing.T) *repo {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return &repo{root: root}
}

func testKeys(t *testing.T) ConfigKeys {
	t.Helper()
	keys, err := ReadConfigKeys("testdata/README.md")
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// expect fails unless every want is a substring of some problem.
func expect(t *testing.T, ps []Problem, wants ...string) {
	t.Helper()
	var lines []string
	for _, p := range ps {
		lines = append(lines, p.String())
	}
	all := strings.Join(lines, "\n")
	for _, w := range wants {
		if !strings.Contains(all, w) {
			t.Errorf("no problem says %q; got:\n%s", w, all)
		}
	}
}

func none(t *testing.T, ps []Problem) {
	t.Helper()
	for _, p := range ps {
		t.Errorf("unexpected problem: %s", p)
	}
}

func TestReadConfigKeys(t *testing.T) {
	keys := testKeys(t)
	for _, k := range []string{"APP_ENV", "DB_PASSWORD", "HEALTH_DB_INTERVAL", "HEALTH_DB_TIMEOUT", "TRACING_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT"} {
		if !keys[k] {
			t.Errorf("%s not found", k)
		}
	}
	// An error code in a meaning cell, and a table outside Configuration.
	for _, k := range []string{"NOT_A_KEY", "NOT_CONFIG", "key"} {
		if keys[k] {
			t.Errorf("%s taken for a key", k)
		}
	}
	if !keys.documented("BACKUP_DIR") || keys.documented("DB_PASWORD") {
		t.Error("documented: BACKUP_* are backup settings, typos are not keys")
	}
	if _, err := ReadConfigKeys("testdata/k8s/valid/app.yaml"); err == nil {
		t.Error("a file without a Configuration table gave keys")
	}
}

// TestReadConfigKeysREADME reads the repository's README: its table's
// format is what the validator depends on.
func TestReadConfigKeysREADME(t *testing.T) {
	if _, err := os.Stat("../../README.md"); err != nil {
		t.Skip("no ../../README.md")
	}
	keys, err := ReadConfigKeys("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"APP_ENV", "DB_READ_HOST", "FILE_MAX_REQUEST_BYTES", "HTTP_SHUTDOWN_DELAY", "HEALTH_STORAGE_RETRIES", "SUBSCRIPTION_ALLOWED_ORIGINS"} {
		if !keys[k] {
			t.Errorf("README.md: %s not found", k)
		}
	}
}

func TestK8sValid(t *testing.T) {
	none(t, ValidateK8s("testdata/k8s/valid", testKeys(t), testRepo(t)))
	none(t, ValidateK8s("testdata/k8s/files-only", testKeys(t), testRepo(t)))
	none(t, ValidateK8s("testdata/k8s/grafana-dashboard", testKeys(t), testRepo(t)))
}

func TestK8sBroken(t *testing.T) {
	const app = "deploy/validate/testdata/k8s/valid/app.yaml: Deployment test/app: "
	const backups = "deploy/validate/testdata/k8s/valid/backups.yaml: CronJob test/"
	for dir, wants := range map[string][]string{
		"unknown-field":     {app + `unknown field "spec.template.spec.containers[0].imagePullPolicyy"`},
		"wrong-type":        {app + "does not decode as apps/v1 Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"},
		"duplicate-field":   {`configmap.yaml: ConfigMap app: yaml: unmarshal errors; line 7: mapping key "APP_ENV" already defined at line 6`},
		"wrong-probe-path":  {app + `container app: readinessProbe.httpGet.path is "/healthz", want "/readyz"`},
		"missing-resources": {backups + "backup-db: container backup: resources without requests.cpu, requests.memory, limits.memory"},
		"writable-root": {
			app + "container app: securityContext.readOnlyRootFilesystem is not true",
			app + "container app: securityContext.runAsNonRoot is not true",
		},
		"wrong-schedule": {backups + `backup-db: the database backup (backup-db.sh) must run at "0 0 * * *", not "0 3 * * *"`},
		"bad-schedule":   {backups + `backup-files: schedule "61 2 * * *" does not parse`},
		"missing-backup": {`missing-backup/kustomization.yaml: no CronJob runs the configuration backup`},
		"undocumented-env-key": {
			"app.yaml: ConfigMap test/app: key DB_PASWORD is not a documented configuration key",
		},
		"short-grace":     {app + "terminationGracePeriodSeconds (20) must exceed HTTP_SHUTDOWN_DELAY + HTTP_SHUTDOWN_TIMEOUT (5s + 20s)"},
		"small-body-size": {"Ingress test/app: proxy-body-size 10m (10485760 bytes) is below FILE_MAX_REQUEST_BYTES (104857600)"},
	} {
		t.Run(dir, func(t *testing.T) {
			ps := ValidateK8s(filepath.Join("testdata/k8s/broken", dir), testKeys(t), testRepo(t))
			ps = sortedUnique(ps)
			expect(t, ps, wants...)
			if dir == "wrong-type" && len(ps) != 1 {
				t.Errorf("an object that does not decode must not also break the references to it: %v", ps)
			}
		})
	}
}

// TestK8sBrokenCovered keeps the table above and the fixtures in step.
func TestK8sBrokenCovered(t *testing.T) {
	dirs, err := os.ReadDir("testdata/k8s/broken")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) != 12 {
		t.Errorf("%d broken fixtures, TestK8sBroken checks 12: add the new one to its table", len(dirs))
	}
}

func TestCompose(t *testing.T) {
	r := testRepo(t)
	none(t, ValidateCompose("testdata/compose/valid/compose.yaml", nil, r))
	const dir = "deploy/validate/testdata/compose/"
	expect(t, ValidateCompose("testdata/compose/missing-file/compose.yaml", nil, r),
		"service app: env_file "+dir+"missing-file/missing.env does not exist",
		"service nginx: bind mount source "+dir+"missing-file/nginx.conf does not exist",
		"secret tls: file "+dir+"missing-file/tls.pem does not exist")
	expect(t, ValidateCompose("testdata/compose/schema/compose.yaml", nil, r), "services.app")
	expect(t, ValidateCompose("testdata/compose/required-var/compose.yaml", nil, r),
		"required variable DB_PASSWORD is missing a value")
	none(t, ValidateCompose("testdata/compose/required-var/compose.yaml", []string{"DB_PASSWORD=x"}, r))
	expect(t, ValidateCompose("testdata/compose/absent.yaml", nil, r), "absent.yaml: cannot read it")
}

func TestDockerfile(t *testing.T) {
	r := testRepo(t)
	for file, want := range map[string]string{
		"good":           "",
		"single-stage":   "one stage only",
		"root-user":      "USER root is root",
		"no-user":        "no USER",
		"no-healthcheck": "HEALTHCHECK NONE",
		"lint":           "line 2: FromAsCasing",
		"unparsable":     "COPY requires at least two arguments",
	} {
		t.Run(file, func(t *testing.T) {
			ps := CheckAppDockerfile(filepath.Join("testdata/dockerfile", file+".Dockerfile"), r)
			if want == "" {
				none(t, ps)
				return
			}
			expect(t, ps, want)
		})
	}
}

func TestProblems(t *testing.T) {
	p := Problem{File: "f.yaml", Object: "ConfigMap a", Message: "yaml: unmarshal errors:\n  line 5: bad\n"}
	if got, want := p.String(), "f.yaml: ConfigMap a: yaml: unmarshal errors; line 5: bad"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	got := sortedUnique([]Problem{
		{File: "base/a.yaml", Message: "m", Via: "overlays/prod"},
		{File: "base/a.yaml", Message: "m"},
		{File: "base/b.yaml", Message: "n", Via: "overlays/staging"},
		{File: "base/b.yaml", Message: "n", Via: "overlays/prod"},
	})
	want := []string{"base/a.yaml: m", "base/b.yaml: n (as built by overlays/prod, overlays/staging)"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("got %q, want %q", got[i], want[i])
		}
	}
}

func TestNginxSize(t *testing.T) {
	for in, want := range map[string]int64{"100m": 100 << 20, "1g": 1 << 30, "512k": 512 << 10, "1024": 1024, "0": 0} {
		if got, err := nginxSize(in); err != nil || got != want {
			t.Errorf("nginxSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "m", "ten", "-1"} {
		if _, err := nginxSize(in); err == nil {
			t.Errorf("nginxSize(%q) accepted", in)
		}
	}
}
