# mapcluster: make help lists the targets.
GO ?= go

.PHONY: help test test-short bench lint build fuzz pgo

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-11s %s\n", $$1, $$2}'

build: ## Build the mapcluster binary into ./bin.
	$(GO) build -o bin/mapcluster ./cmd/mapcluster

test: ## Run every test, then the short ones again under the race detector (the README's test command).
	$(GO) test -count=1 ./...
	$(GO) test -race -short -count=1 ./...

test-short: ## Run the fast tests only (no reference harnesses).
	$(GO) test -short ./...

bench: ## Run the benchmarks (see BENCHMARKS.md for the figures).
	$(GO) test -run='^$$' -bench=. -benchmem ./...

pgo: ## Regenerate cmd/mapcluster/default.pgo, the profile the binary is optimised with.
	bench/pgo.sh

STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

lint: ## gofmt, go vet and staticcheck (pinned).
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

fuzz: ## Run each fuzzer (the readers, the cluster queries) for 30s.
	$(GO) test -run='^$$' -fuzz=FuzzCSV -fuzztime=30s ./input/
	$(GO) test -run='^$$' -fuzz=FuzzGeoJSON -fuzztime=30s ./input/
	$(GO) test -run='^$$' -fuzz=FuzzNDJSON -fuzztime=30s ./input/
	$(GO) test -run='^$$' -fuzz=FuzzPolygons -fuzztime=30s ./input/
	$(GO) test -run='^$$' -fuzz=FuzzQueries -fuzztime=30s ./cluster/
