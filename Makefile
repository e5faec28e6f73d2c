# orgdb — every command a developer needs. `make help` lists them.
# Tools are pinned in tools/go.mod and built from source on first use.

GO      ?= go
TOOL    := $(GO) tool -modfile=tools/go.mod
DB      ?= data/orgdb.db
# Everything `make generate` writes; the drift check watches exactly these.
GENERATED := gen/ schema/schema.sql schema/README.md schema/migrations.sum
TSC       := tools/ts/node_modules/.bin/tsc

.DEFAULT_GOAL := help
.PHONY: help generate db-migrate build test fuzz bench check sumcheck drift lint typecheck

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

generate: ## regenerate everything from schema/ and queries/: gen/db, gen/ts, schema.sql, schema/README.md, migrations.sum
	@rm -rf gen/db gen/ts
	@# sqlc and schemadoc read only schema/ and queries/: run them side by side.
	@echo "$(TOOL) sqlc generate & $(GO) run ./internal/cmd/schemadoc"; \
	$(TOOL) sqlc generate & pid=$$!; \
	$(GO) run ./internal/cmd/schemadoc; doc=$$?; \
	wait $$pid && [ $$doc -eq 0 ]
	$(GO) run ./internal/cmd/tsgen

db-migrate: ## apply pending migrations to DB=path (default data/orgdb.db) and print the status table
	$(GO) run ./cmd/orgdb migrate --db $(DB)

build: ## build the CLI into bin/orgdb
	$(GO) build -o bin/orgdb ./cmd/orgdb

test: ## run the whole test suite under the race detector, plus a short fuzz of each parser
	$(GO) test -race -count=1 ./...
	cd bench && $(GO) test -count=1 ./...
	$(MAKE) --no-print-directory fuzz FUZZTIME=5s

FUZZTIME ?= 30s
fuzz: ## fuzz the timestamp and email-list parsers for FUZZTIME each (default 30s)
	$(GO) test -run='^$$' -fuzz='^FuzzParseTime$$' -fuzztime=$(FUZZTIME) .
	$(GO) test -run='^$$' -fuzz='^FuzzParseEmailList$$' -fuzztime=$(FUZZTIME) .

bench: ## measure orgdb against hand-written SQL, the floor and GORM: median, 95% interval and verdict per target; write bench/RESULTS.md (about 6 min)
	cd bench && $(GO) run . -out RESULTS.md

.PHONY: bench-compare
bench-compare: ## compare the benchmarks at BASE=<git ref> with the working tree (interleaved, benchstat); fail on a significant slowdown over 10%
	cd bench && $(GO) run ./cmd/compare -go "$(GO)" -base "$(BASE)"

check: sumcheck drift lint typecheck ## the CI check: migrations unedited, generated files current, vet/gofmt/staticcheck/tidy clean, types.ts compiles

sumcheck: ## fail if a migration was edited, deleted or added since schema/migrations.sum was written
	$(GO) run ./internal/cmd/schemadoc -check

drift: ## fail if `make generate` would change a generated file, or one differs from git
	@before=$$(git status --porcelain --untracked-files=all -- $(GENERATED)); \
	$(MAKE) --no-print-directory -s generate >/dev/null || exit 1; \
	after=$$(git status --porcelain --untracked-files=all -- $(GENERATED)); \
	if [ -n "$$before" ]; then \
	  echo "drift: generated files differ from git before regenerating (a hand edit, a deleted or an orphan file):"; \
	  echo "$$before" | sed 's/^/  /'; \
	fi; \
	if [ -n "$$after" ]; then \
	  echo "drift: regenerating changed generated files (a migration, query, Go type or sqlc.yaml changed without 'make generate'):"; \
	  echo "$$after" | sed 's/^/  /'; \
	  git --no-pager diff --stat -- $(GENERATED) | sed 's/^/  /'; \
	fi; \
	if [ -n "$$before$$after" ]; then \
	  echo "fix: never edit generated files by hand; run 'make generate' and commit the result (git add $(GENERATED))."; \
	  exit 1; \
	fi; \
	echo "drift: generated files match schema/, queries/, sqlc.yaml and the Go types"

typecheck: ## type-check gen/ts/types.ts with the pinned TypeScript (tsc --noEmit --strict)
	@test -x $(TSC) || npm ci --prefix tools/ts --no-audit --no-fund --silent
	$(TSC) --noEmit --strict gen/ts/types.ts

lint: ## go vet, gofmt, staticcheck and go mod tidy on every module (main, tools, bench)
	$(GO) vet ./...
	cd bench && $(GO) vet ./...
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt: run 'gofmt -w .' on:"; echo "$$out"; exit 1; fi
	$(TOOL) staticcheck ./...
	cd bench && $(GO) tool -modfile=../tools/go.mod staticcheck ./...
	$(GO) mod tidy -diff
	cd tools && $(GO) mod tidy -diff
	cd bench && $(GO) mod tidy -diff
