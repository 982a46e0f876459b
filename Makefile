# shipmentapp — the front door. `make help` lists the targets.
SHELL := /usr/bin/env bash
GO ?= go
BIN ?= bin/shipmentapp
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
FUZZTIME ?= 30s
# The fuzz targets, package:function: every parser of outside input
# (docs/RELIABILITY.md, "Fuzzing").
FUZZ_TARGETS = \
	./internal/gid:FuzzParse \
	./internal/config:FuzzLoadFile \
	./internal/app:FuzzCursor \
	./internal/paging:FuzzUnmarshalCursor \
	./internal/auth:FuzzParseKey \
	./internal/auth:FuzzOIDCToken \
	./internal/app:FuzzCredential \
	./internal/apq:FuzzParseManifest \
	./internal/apq:FuzzPersistedQueryExtension \
	./internal/app:FuzzDocumentIDs \
	./internal/gqlhttp:FuzzDecodeBody \
	./internal/gqlhttp:FuzzDecodeQuery \
	./internal/gqlhttp:FuzzNegotiate \
	./internal/gqlhttp:FuzzEncodeResult \
	./internal/gqllimit:FuzzMeasure \
	./internal/app:FuzzGraphQLHTTP \
	./internal/app:FuzzUpload \
	./internal/files:FuzzSanitizeName \
	./internal/live:FuzzEventScope \
	./internal/netguard:FuzzCheckURL \
	./internal/whsign:FuzzVerify

# make soak: how long, on which main database (mariadb, with its replica when it answers, or postgres), extra go test flags (-race), the go test timeout.
SOAK_DURATION ?= 3m
SOAK_DB ?= mariadb
SOAK_FLAGS ?=
SOAK_TIMEOUT ?= 30m
# Packages we lint: everything but the generated Ent client and gqlgen executor.
LINT_PKGS = $(shell $(GO) list ./... | grep -v -E '/ent($$|/[a-z]+$$)|/graph/generated' ) ./ent/schema

.PHONY: help run build test test-short lint fmt generate docs check-generate schema-check schema-release migrate-diff migrate-rehash services cross fuzz bench bench-quick bench-scale bench-go bench-subscriptions soak deploy-check clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

run: ## Run the API with the embedded default (SQLite, demo Dolibarr): http://127.0.0.1:8080/playground
	$(GO) run . serve

build: ## Build a static binary into bin/
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .

test: ## Run every test (race detector) on SQLite, MariaDB and PostgreSQL; says which database suites were skipped
	scripts/test.sh

test-short: ## Run the tests without the race detector
	RACE= scripts/test.sh

lint: ## gofmt, go vet and staticcheck (this module and the Go client in examples/go, a module of its own)
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck $(LINT_PKGS)
	cd examples/go && $(GO) vet ./... && $$($(GO) -C $(CURDIR) tool -n staticcheck) ./...

fmt: ## Format the code
	gofmt -w $$(git ls-files '*.go')

generate: ## Regenerate Ent, schema/ent.graphql and gqlgen code
	$(GO) generate .

docs: ## Write docs/SCHEMA.md (the schema reference) and api/schema.graphql (the public SDL) from the schema (after make generate), then regenerate the Go client in examples/go from that SDL
	$(GO) run ./internal/schemadoc/gendocs -o docs/SCHEMA.md -sdl api/schema.graphql
	$(GO) -C examples/go generate ./...

check-generate: generate ## Fail if generated code, docs/SCHEMA.md, api/schema.graphql or the Go client in examples/go is stale
	@$(MAKE) --no-print-directory docs
	@if [ -n "$$(git status --porcelain -- ent graph schema gqlgen.yml go.mod go.sum docs/SCHEMA.md api examples/go)" ]; then \
		echo "generated code is stale; run make generate docs and commit:"; git status --porcelain -- ent graph schema gqlgen.yml go.mod go.sum docs/SCHEMA.md api examples/go; git diff --stat; exit 1; fi

schema-check: ## Fail on a breaking change from api/released.graphql to api/schema.graphql that api/CHANGELOG.md does not record (GraphQL Inspector; SCHEMA_CHECK_TODAY=YYYY-MM-DD)
	scripts/schemacheck/check.sh

schema-release: docs ## Release the schema: make schema-check, then api/schema.graphql becomes api/released.graphql and api/CHANGELOG.md's Unreleased entries move under today's date
	scripts/schemacheck/check.sh
	node scripts/schemacheck/release.js

migrate-diff: ## Write a new migration for every dialect from the Ent schema: make migrate-diff NAME=add_x (after a hand edit: make migrate-rehash)
	@test -n "$(NAME)" || { echo "usage: make migrate-diff NAME=add_something"; exit 2; }
	$(GO) run ./internal/migrate/migrategen -name $(NAME)

migrate-rehash: ## Rewrite the migrations' atlas.sum files after editing a generated migration by hand
	$(GO) run ./internal/migrate/migrategen -rehash

deploy-check: ## Check deploy/ with each file's own tool: promtool/amtool, Kubernetes API types, compose-go, the dashboard's PromQL against the app's metrics, actionlint, shellcheck
	scripts/deploy-check.sh

services: ## Start the local MariaDB, PostgreSQL and Redis if they are not answering
	scripts/services.sh

cross: ## Cross-compile with CGO_ENABLED=0 for Linux, Windows and macOS on amd64 and arm64
	@set -e; for target in linux/amd64 linux/arm64 windows/amd64 windows/arm64 darwin/amd64 darwin/arm64; do \
		os=$${target%/*}; arch=$${target#*/}; ext=; [ $$os = windows ] && ext=.exe; \
		echo "build $$os/$$arch"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/shipmentapp-$$os-$$arch$$ext . ; \
	done

fuzz: ## Run every fuzz target for FUZZTIME (default 30s) each (scripts/fuzz.sh)
	GO=$(GO) FUZZTIME=$(FUZZTIME) scripts/fuzz.sh $(FUZZ_TARGETS)

soak: ## The soak test: two instances under mixed load while faults are injected, then every write, event, upload, goroutine and the heap checked (SOAK_DURATION=3m SOAK_DB=mariadb|postgres)
	SOAK_DURATION=$(SOAK_DURATION) SOAK_DB=$(SOAK_DB) $(GO) test $(SOAK_FLAGS) -count=1 -timeout $(SOAK_TIMEOUT) -run '^TestSoak$$' -v ./internal/app/

bench: ## The load benchmark: a private PostgreSQL cluster and MariaDB (primary and replica), the app, PostGraphile and a hand-written ceiling one at a time (docs/BENCHMARKS.md, docs/bench.svg)
	bench/run.sh

bench-quick: ## make bench as a smoke run (3 s windows; figures are noisy)
	BENCH_QUICK=1 bench/run.sh

bench-scale: ## Cost as the data grows: (a), (b) and a deep page on 10,000 and 1,000,000 shipments side by side, then the EXPLAIN check (docs/BENCHMARKS.md; SCALE_QUICK=1, SCALE_SKIP_SEED=1)
	bench/scale.sh

bench-go: ## Run the Go benchmarks
	$(GO) test -run '^$$' -bench . -benchmem ./...

bench-subscriptions: ## 10,000 websocket subscriptions on one instance: memory per idle subscription, fan-out latency (SUBLOAD_FLAGS="-per 10 -redis 127.0.0.1:6379")
	$(GO) build -o bin/subload ./bench/cmd/subload && ulimit -n 65536 2>/dev/null; bin/subload $(SUBLOAD_FLAGS)

clean: ## Remove build outputs and the local data directory
	rm -rf bin data
