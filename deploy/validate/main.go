// Command validate checks the deploy/ tree of shipmentapp without a cluster
// or a network: the Kubernetes manifests (every kustomization under
// deploy/k8s and deploy/grafana, built with kustomize and decoded strictly
// with the Kubernetes API types, then checked against the deployment
// policy), the compose file (loaded and validated with compose-go) and the
// Dockerfile (parsed and linted with BuildKit's parser). It prints one line per problem,
// "file: object: problem", and exits 1 when there is any.
//
//	cd deploy/validate && go run .            # the repository's deploy/
//	go run . -deploy ../other/deploy -readme ../other/README.md
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Config says what to validate.
type Config struct {
	Deploy     string   // the deploy/ directory
	README     string   // the README whose Configuration table lists the keys
	K8s        string   // directory of kustomizations
	Grafana    string   // directory of the Grafana dashboard's kustomization
	Compose    string   // compose file
	Dockerfile string   // the application image's Dockerfile
	ComposeEnv []string // KEY=VALUE for the compose file's interpolation
}

type envFlag []string

func (e *envFlag) String() string { return strings.Join(*e, ",") }
func (e *envFlag) Set(v string) error {
	if !strings.Contains(v, "=") {
		return fmt.Errorf("want KEY=VALUE, got %q", v)
	}
	*e = append(*e, v)
	return nil
}

func main() {
	var cfg Config
	var env envFlag
	flag.StringVar(&cfg.Deploy, "deploy", "..", "the deploy/ directory")
	flag.StringVar(&cfg.README, "readme", "", "README.md with the Configuration table (default: DEPLOY/../README.md)")
	flag.StringVar(&cfg.K8s, "k8s", "", "directory of kustomizations, each built and checked (default: DEPLOY/k8s)")
	flag.StringVar(&cfg.Grafana, "grafana", "", "directory of the Grafana dashboard's kustomization (default: DEPLOY/grafana)")
	flag.StringVar(&cfg.Compose, "compose", "", "compose file (default: DEPLOY/compose.yaml)")
	flag.StringVar(&cfg.Dockerfile, "dockerfile", "", "the app's Dockerfile (default: DEPLOY/Dockerfile)")
	flag.Var(&env, "compose-env", "KEY=VALUE for the compose file's interpolation (repeatable)")
	print := flag.String("print", "", "only print the YAML the kustomization in this directory builds (what kubectl apply -k would send)")
	flag.Parse()
	if *print != "" {
		out, err := BuildYAML(*print)
		if err != nil {
			fmt.Fprintln(os.Stderr, "validate:", err)
			os.Exit(1)
		}
		os.Stdout.Write(out)
		return
	}
	cfg.ComposeEnv = env
	problems := Validate(cfg)
	for _, p := range problems {
		fmt.Println(p)
	}
	if len(problems) > 0 {
		fmt.Fprintf(os.Stderr, "validate: %d problem(s)\n", len(problems))
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, "validate: ok")
}

// Validate checks everything Config names and returns the problems, sorted.
func Validate(cfg Config) []Problem {
	def := func(v *string, p string) {
		if *v == "" {
			*v = filepath.Join(cfg.Deploy, p)
		}
	}
	def(&cfg.README, "../README.md")
	def(&cfg.K8s, "k8s")
	def(&cfg.Grafana, "grafana")
	def(&cfg.Compose, "compose.yaml")
	def(&cfg.Dockerfile, "Dockerfile")
	root, err := filepath.Abs(filepath.Join(cfg.Deploy, ".."))
	if err != nil {
		return []Problem{{File: cfg.Deploy, Message: err.Error()}}
	}
	r := &repo{root: root}
	var all []Problem
	keys, err := ReadConfigKeys(cfg.README)
	if err != nil {
		all = append(all, Problem{File: r.rel(cfg.README), Message: err.Error()})
		keys = ConfigKeys{}
	}
	all = append(all, ValidateK8s(cfg.K8s, keys, r)...)
	all = append(all, ValidateK8s(cfg.Grafana, keys, r)...)
	all = append(all, ValidateCompose(cfg.Compose, cfg.ComposeEnv, r)...)
	all = append(all, CheckAppDockerfile(cfg.Dockerfile, r)...)
	// The other images' Dockerfiles (the backup image...) are parsed and
	// linted only: they need no HEALTHCHECK.
	others, _ := filepath.Glob(filepath.Join(cfg.Deploy, "*", "Dockerfile"))
	for _, df := range others {
		if filepath.Clean(df) != filepath.Clean(cfg.Dockerfile) {
			_, ps := ParseDockerfile(df, r)
			all = append(all, ps...)
		}
	}
	return sortedUnique(all)
}
