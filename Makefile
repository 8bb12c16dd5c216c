# Yizhu (医助) — `make run` starts the service on embedded defaults;
# `make test` installs what the tests need and runs them all.
GO       ?= go
BIN      ?= bin/yizhu
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
DATA     ?= ../shared/data
PKGS     ?= ./...

.DEFAULT_GOAL := help
.PHONY: help build run test test-short lint fuzz bench eval pg-up pg-down deps-test screenshots clean

help: ## Show this help
	@awk 'BEGIN{FS=":.*## "} /^[a-zA-Z_-]+:.*## /{printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## Build bin/yizhu
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/yizhu

run: build ## Start the service on embedded defaults (SQLite in ./data, no LLM, built-in embedder)
	./$(BIN) serve

deps-test: ## Install what the tests need (PostgreSQL+pgvector, nats-server, Chromium+playwright-core)
	@scripts/test-deps.sh

# When $(DATA) is there, the real-data tests must run (a skip would hide it).
REQUIRE_DATA := $(if $(wildcard $(DATA)/README.md),1,0)

test: deps-test ## Run every test with -race, PostgreSQL+pgvector ones included (brings PostgreSQL up)
	@dsn=$$(scripts/pg-up.sh) && \
	YIZHU_TEST_DATABASE_URL="$$dsn" YIZHU_REQUIRE_PG=1 YIZHU_REQUIRE_NATS=1 YIZHU_REQUIRE_BROWSER=1 \
	YIZHU_DATA="$(abspath $(DATA))" YIZHU_REQUIRE_DATA=$(REQUIRE_DATA) \
	$(GO) test -race -count=1 -timeout 30m $(PKGS)

test-short: ## Run the tests without PostgreSQL (those tests skip and say so)
	$(GO) test -count=1 $(PKGS)

lint: ## gofmt, go vet and the import-graph check
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) test -count=1 ./internal/archtest

fuzz: ## Run every fuzz target for 10 s
	@scripts/fuzz-all.sh 10s

bench: ## Run the benchmarks (PostgreSQL ones included) and print the results
	@dsn=$$(scripts/pg-up.sh) && YIZHU_TEST_DATABASE_URL="$$dsn" \
	$(GO) test -run '^$$' -bench . -benchmem -count=1 -timeout 60m $(PKGS) | tee bench.txt

eval: build ## Run every eval suite on $(DATA) and write eval/report/
	./$(BIN) eval --data $(DATA) --out eval/report

pg-up: ## Start the private PostgreSQL+pgvector test cluster and print its DSN
	@scripts/pg-up.sh

pg-down: ## Stop the private PostgreSQL test cluster
	@scripts/pg-up.sh --stop

clean: ## Remove build output and reports
	rm -rf bin eval/report bench.txt

screenshots: deps-test ## Re-take the page screenshots into docs/screenshots
	YIZHU_SCREENSHOT_DIR=$(CURDIR)/docs/screenshots YIZHU_REQUIRE_BROWSER=1 $(GO) test -count=1 -run 'TestPages' ./cmd/yizhu
