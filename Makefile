# orgdb — every command a developer needs. `make help` lists them.
# Tools are pinned in tools/go.mod and built from source on first use.

GO      ?= go
TOOL    := $(GO) tool -modfile=tools/go.mod
DB      ?= data/orgdb.db
TSC     := tools/ts/node_modules/.bin/tsc

.DEFAULT_GOAL := help
.PHONY: help new-migration generate db-migrate build test fuzz bench check sumcheck drift lint typecheck need-gen lint-migrations d1-parity bench-compare litefs test-litefs bench-litefs litestream test-litestream bench-durability bench-wal test-faults

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

new-migration: ## create schema/NNNN_NAME.sql with the next free number, e.g. make new-migration NAME=add_user_timezone
	@$(GO) run ./internal/cmd/newmigration -- "$(NAME)"

# All or nothing: sqlc, schemadoc and tsgen write into a temporary directory;
# only when all succeed are the changed files moved into gen/ and schema/
# (and files no generator writes removed from gen/). On a failure nothing
# is written. internal/cmd/generate says how.
# On a cold Go build cache the first run compiles for minutes: after 5 s
# one line says so (tools/announce.sh).
FIRSTGEN := generate: compiling the generator (a first run on a cold Go build cache also compiles the cgo SQLite driver: about 1-3 min on 2 cores, once)
generate: ## regenerate gen/db, gen/ts, schema/schema.sql, schema/README.md, schema/migrations.sum from schema/ and queries/
	@sh tools/announce.sh 5 "$(FIRSTGEN)" $(GO) run ./internal/cmd/generate -go "$(GO)"

.PHONY: resum test-walkthrough
# A shipped migration (in main's schema/migrations.sum) is never edited;
# make generate refuses one that changed. An edit of its comments only is
# recorded here, after checking that no statement changed.
resum: ## record a comment-only edit of a shipped migration in schema/migrations.sum (refused if a statement changed), then generate
	@sh tools/announce.sh 5 "$(FIRSTGEN)" $(GO) run ./internal/cmd/generate -resum -go "$(GO)"

# gen/db is generated, not downloaded: without it the go command's advice
# ("go get ...") is wrong.
need-gen:
	@test -f gen/db/db.go || { echo "gen/db is missing: run 'make generate' (it is generated from schema/ and queries/; 'go get' does not apply)"; exit 1; }

# The Quickstart's two commands share one build mode: db-migrate runs the
# CLI built with the race detector, as make test builds everything, so a
# first run compiles the cgo SQLite driver (about 1.5-3 min on 2 cores)
# once, not once plain and once with -race.
RACEDRIVER := the cgo SQLite driver (github.com/mattn/go-sqlite3, a 9 MB C file) with the race detector: about 1.5-3 min on 2 cores on a cold Go build cache, once
db-migrate: need-gen ## apply pending migrations to DB=path (default data/orgdb.db) and print the status table (the first run compiles the CLI with the race detector, the cgo SQLite driver too: about 1 min on 2 idle cores, once; make test reuses it)
	@echo '$(GO) run -race ./cmd/orgdb migrate --db "$(DB)"'
	@sh tools/announce.sh 5 "db-migrate: compiling the CLI and $(RACEDRIVER); make test reuses it" $(GO) run -race ./cmd/orgdb migrate --db "$(DB)"

# The version orgdb --version prints: git describe, empty outside a clone
# (then the binary's build information says it).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null)
LDFLAGS := -X main.version=$(VERSION)

build: need-gen ## build the CLI into bin/orgdb
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/orgdb ./cmd/orgdb

.PHONY: install
install: need-gen ## go install the CLI: orgdb in $(go env GOPATH)/bin (or GOBIN); says so if that is not on PATH
	$(GO) install -ldflags "$(LDFLAGS)" ./cmd/orgdb
	@dir=$$($(GO) env GOBIN); [ -n "$$dir" ] || dir=$$($(GO) env GOPATH)/bin; \
	  echo "install: $$dir/orgdb"; \
	  case ":$$PATH:" in *":$$dir:"*) ;; *) echo "install: $$dir is not on your PATH; run: export PATH=\"$$dir:\$$PATH\"";; esac

# go test prints nothing while it compiles, and a package's line only when
# its tests end: tools/announce.sh says what a long first build does and
# prints a line after every 30 s of silence. The driver is built first on
# its own (a no-op on a warm cache), so its long compile is named.
# Fuzzing is not part of make test (go test runs every seed corpus): a
# fuzz build compiles everything, the driver too, once more with coverage
# instrumentation. CI runs make fuzz FUZZTIME=60s.
test: need-gen ## run the whole test suite and the bench module's tests under the race detector (no fuzzing: make fuzz). A first run on empty caches, after make db-migrate: about 3.5 min on 2 idle cores (measured 198 s); longer on a busy machine
	@sh tools/announce.sh 3 "test: compiling $(RACEDRIVER)" $(GO) build -race github.com/mattn/go-sqlite3
	@echo "$(GO) test -race -count=1 ./..."
	@sh tools/announce.sh 10 "test: go test is compiling the packages and their tests with the race detector (a first run: about 1-2 min), then runs them; each package prints ok when its tests pass (store's take 2-4 min)" $(GO) test -race -count=1 ./...
	@echo "cd bench && $(GO) test -race -count=1 ./..."
	@cd bench && sh ../tools/announce.sh 10 "test: compiling the bench module's tests with the race detector (a first run also compiles GORM: about 1 min)" $(GO) test -race -count=1 ./...

# Targets are found in the test files as go test -list '^Fuzz' ./... would
# find them (internal/cmd/fuzz): a new Fuzz* function is fuzzed with no
# edit here. FUZZ=regexp picks some. The runner is built with -race only
# to share make test's build of the standard library; go test -fuzz builds
# the fuzzed packages, with coverage instrumentation.
FUZZTIME ?= 30s
FUZZMINIMIZETIME ?= 5s
FUZZPARALLEL ?= 0
# The README's "Editing the schema" section, run as written in a fresh
# clone (internal/walkthrough): the commands come from the README itself.
test-walkthrough: ## run the README's schema walkthrough, as written, in a fresh clone, then its documented mistakes (a few minutes; .ci/run runs it)
	ORGDB_WALKTHROUGH=1 $(GO) test -count=1 -timeout 30m -v -run TestREADMEWalkthrough ./internal/walkthrough

fuzz: need-gen ## fuzz every Fuzz* target for FUZZTIME each (default 30s; FUZZ=regexp for some); a finding fails and is saved under the package's testdata/fuzz. The first run compiles everything again with fuzzing instrumentation (about 3-6 min cold, once)
	@sh tools/announce.sh 5 "fuzz: compiling the fuzz runner (internal/cmd/fuzz)" $(GO) run -race ./internal/cmd/fuzz -go "$(GO)" -fuzztime "$(FUZZTIME)" -minimizetime "$(FUZZMINIMIZETIME)" -parallel "$(FUZZPARALLEL)" -run '$(FUZZ)'

bench: ## measure orgdb against hand-written SQL, the floor and GORM: median, 95% interval and verdict per target; write bench/RESULTS.md (about 6 min)
	cd bench && $(GO) run . -out RESULTS.md

bench-wal: ## measure the WAL under sustained writes from 1 and 4 processes (20 s each): throughput, largest WAL against store.WALBound, and the checkpoint policy's throughput as a ratio to PASSIVE checkpoints alone; write bench/RESULTS-wal.md (about 3 min; not part of make bench)
	cd bench && $(GO) run . -parts wal -out RESULTS-wal.md

# Faults injected with strace (Debian: apt-get install strace) into real
# restores: SIGKILL and EIO at every call of every file syscall a restore
# makes, and a restore overtaken by late writers on a large database.
test-faults: need-gen ## inject a kill and an I/O error at every file syscall of a restore (strace), and race late writers against restores of a large database (about 2–3 min)
	ORGDB_FAULTS=all $(GO) test -count=1 -timeout 30m -run 'Faults|LateWriters' -v ./backup

bench-compare: ## compare the benchmarks at BASE=<git ref> with the working tree (interleaved, benchstat); fail on a significant slowdown over 10%
	cd bench && $(GO) run ./cmd/compare -go "$(GO)" -base "$(BASE)"

# The CI check. It judges the working tree and never changes it; each step
# prints one line when it passes. D1 parity needs wrangler and runs in
# .ci/run, not here.
# The go command's "go: downloading" lines (hundreds on a first run) go
# to CHECKLOG, with one line saying so (tools/quiet-downloads.sh).
CHECKS := sumcheck drift lint typecheck lint-migrations
CHECKLOG ?= $(or $(TMPDIR),/tmp)/orgdb-check-downloads.log
check: ## the CI check, read-only: migrations summed, generated files current, vet/gofmt/staticcheck/tidy clean, types.ts compiles and fits the web client, migrations lint clean
	@sh tools/quiet-downloads.sh "$(CHECKLOG)" $(MAKE) --no-print-directory $(CHECKS)
	@echo "check: all passed ($(CHECKS))"

sumcheck: ## fail if a migration was edited, deleted or added since schema/migrations.sum was written
	@$(GO) run ./internal/cmd/schemadoc -check

drift: ## fail if gen/ or schema/'s generated files differ from what make generate writes (regenerates into a temporary directory)
	@sh tools/announce.sh 5 "$(FIRSTGEN)" $(GO) run ./internal/cmd/generate -check -go "$(GO)"

typecheck: ## type-check gen/ts/types.ts and its wire compatibility with the web client (tools/ts/client-compat.ts) with the pinned TypeScript (tsc --noEmit --strict); installs it with npm on first use
	@test -x $(TSC) || { command -v npm >/dev/null || { echo "typecheck: npm not found: install Node.js 20+ and npm (make check type-checks gen/ts/types.ts with the TypeScript pinned in tools/ts)"; exit 1; }; \
	  npm ci --prefix tools/ts --no-audit --no-fund --silent; }
	@$(TSC) --noEmit --strict gen/ts/types.ts tools/ts/client-compat.ts || { echo "typecheck: FAILED: a type above does not compile or no longer fits the web client's shared types (the error names the field; change the migration, query or sqlc.yaml so the client still reads it, or list an intended difference with its reason in tools/ts/client-compat.ts)"; exit 1; }
	@echo "typecheck: gen/ts/types.ts compiles with TypeScript $$($(TSC) --version | cut -d' ' -f2) --strict and fits the web client's types (tools/ts/client-compat.ts)"

lint: ## go vet, gofmt, staticcheck and go mod tidy on every module (main, tools, tools/litefs, tools/litestream, bench); the litestream-tagged tests too
	@$(GO) vet ./...
	@cd bench && $(GO) vet ./...
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt: run 'gofmt -w .' on:"; echo "$$out"; exit 1; fi
	@sh tools/announce.sh 20 "lint: staticcheck is still running; on a first run it is built from tools/go.mod first (about 1-2 min on 2 cores, once)" $(TOOL) staticcheck ./...
	@$(GO) vet -tags litestream ./internal/litestreamtest
	@$(TOOL) staticcheck -tags litestream ./internal/litestreamtest
	@cd bench && $(GO) tool -modfile=../tools/go.mod staticcheck ./...
	@$(GO) mod tidy -diff
	@cd tools && $(GO) mod tidy -diff
	@cd tools/litefs && $(GO) mod tidy -diff
	@cd tools/litestream && $(GO) mod tidy -diff
	@cd bench && $(GO) mod tidy -diff
	@echo "lint: go vet, gofmt, staticcheck and go mod tidy are clean in main, tools, tools/litefs, tools/litestream and bench"

lint-migrations: ## replay every migration on scratch databases and report drops, renames, unsafe NOT NULL/UNIQUE, type and key changes, lossy or positional rebuilds, changed values, out-of-order numbers, D1-refused statements
	@$(GO) run ./internal/cmd/migratelint

d1-parity: ## apply schema/ with wrangler's local D1 (pinned in tools/ts, offline) and check it builds exactly schema/schema.sql
	@tools/ts/d1-parity.sh

# LiteFS (read replicas over FUSE), pinned in tools/litefs/go.mod and built
# from source. Its tests and benchmark mount real LiteFS nodes on
# localhost: they need /dev/fuse and fusermount3 (Debian: apt-get install
# fuse3). Without them the tests skip, saying so (and fail under CI=true).
LITEFS := $(CURDIR)/bin/litefs
litefs: ## build LiteFS (pinned in tools/litefs/go.mod) into bin/litefs
	@$(GO) build -modfile=tools/litefs/go.mod -o $(LITEFS) github.com/superfly/litefs/cmd/litefs

test-litefs: need-gen litefs ## run the LiteFS tests: a primary and a replica on localhost (needs /dev/fuse and fuse3)
	ORGDB_LITEFS=$(LITEFS) $(GO) test -race -count=1 -run 'LiteFS' -v ./store ./backup ./cmd/orgdb

bench-litefs: need-gen litefs ## measure LiteFS replication lag (p50/p99) and the replica's read throughput against the primary's; prints a table
	cd bench && ORGDB_LITEFS=$(LITEFS) $(GO) run . -parts litefs -out RESULTS-litefs.md

# Litestream (pinned in its own module, tools/litestream: its dependencies
# stay out of tools/go.mod) is built from source into bin/ on first use,
# about 9 minutes cold on 2 cores.
LITESTREAM := bin/litestream-v0.5.18
$(LITESTREAM): tools/litestream/go.mod tools/litestream/go.sum
	@echo "litestream: building Litestream $(patsubst bin/litestream-%,%,$(LITESTREAM)) from source into $@ (about 9 min the first time on 2 cores)"
	$(GO) build -modfile=tools/litestream/go.mod -o $@ github.com/benbjohnson/litestream/cmd/litestream

litestream: $(LITESTREAM) ## build the pinned Litestream from source into bin/litestream (about 9 min the first time on 2 cores)
	@ln -sf $(notdir $(LITESTREAM)) bin/litestream
	@echo "litestream: bin/litestream ($$(bin/litestream version))"

test-litestream: need-gen $(LITESTREAM) ## build the pinned Litestream and run orgdb under it: kill -9 mid-load and restore from the replica, point-in-time restore, WAL bounded (about 30 s once built)
	ORGDB_LITESTREAM=$(abspath $(LITESTREAM)) $(GO) test -count=1 -v -tags litestream ./internal/litestreamtest

bench-durability: $(LITESTREAM) ## measure backup throughput against cp, restore time and Litestream's replication lag on 1e6 users and invites; write bench/DURABILITY.md (about 3 min; not part of make bench)
	cd bench && $(GO) run . -parts durability -litestream $(abspath $(LITESTREAM)) -out DURABILITY.md
