# tally's front door. `make demo` and `make test` work on a fresh machine: they install and
# start what they need (Debian packages, a kube-apiserver build, the chDB library) into
# git-ignored folders, and a second run reuses all of it.

SHELL       := /bin/bash
.SHELLFLAGS := -euo pipefail -c
GO          ?= go
CACHE       ?= $(CURDIR)/.cache
export TALLY_CACHE_DIR := $(CACHE)

VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BRANCH   ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
VPKG     := github.com/prometheus/common/version
LDFLAGS  := -s -w -X $(VPKG).Version=$(VERSION) -X $(VPKG).Revision=$(REVISION) \
            -X $(VPKG).Branch=$(BRANCH) -X $(VPKG).BuildUser=tally \
            -X $(VPKG).BuildDate=$(shell date -u +%Y%m%d-%H:%M:%S)

STATICCHECK_VERSION := v0.8.2
STATICCHECK         := $(CACHE)/bin/staticcheck-$(STATICCHECK_VERSION)

# Runs a command with the local stack's addresses in the environment.
WITH_STACK := eval "$$(hack/stack/env.sh)" &&

.PHONY: all build test test-unit test-chdb test-fuzz lint bench demo stack-up stack-down cluster-up cluster-down clean

all: build

## build: the collector and reporter binaries, into bin/
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/ ./cmd/collector ./cmd/reporter

## test: every test, unit, real-server and real-cluster integration (starts the local stack
## and the real single-node cluster first). Packages run one at a time (-p 1): several load
## data into the shared Prometheus, which restarts it.
test: stack-up cluster-up
	$(WITH_STACK) eval "$$(hack/cluster/env.sh)" && TALLY_REQUIRE_STACK=1 $(GO) test -p 1 -count=1 -timeout 20m -v ./... | hack/gotest-summary.sh
	$(MAKE) --no-print-directory test-chdb
	$(MAKE) --no-print-directory test-fuzz

## test-chdb: the SQL files of sql/ and the dashboards' queries executed on a modern ClickHouse engine (chDB)
# Every fuzz target, each for FUZZTIME (bad input: an error that names it, no panic). A
# failing input is saved under the package's testdata/fuzz/ and fails plain `go test` after.
FUZZTIME ?= 10s
FUZZ_TARGETS := internal/pricing:FuzzParse internal/cli:FuzzParseDuration internal/report:FuzzParseWindow \
	internal/prom:FuzzDecode internal/store:FuzzParseDSN internal/api:FuzzParams internal/bill:FuzzRead
test-fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$name ./$$pkg for $(FUZZTIME)"; \
		out=$$($(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) ./$$pkg 2>&1) || { echo "$$out"; exit 1; }; \
		echo "$$out" | tail -1; \
	done

test-chdb:
	CHDB_LIB_PATH=$$(hack/chdb/fetch.sh) $(GO) test -tags chdb -run TestChDB -count=1 -v ./sql/ | hack/gotest-summary.sh
	CHDB_LIB_PATH=$$(hack/chdb/fetch.sh) $(GO) test -tags chdb -run TestChDB -count=1 -v ./dashboards/ | hack/gotest-summary.sh

## test-unit: the tests that need no server (integration tests skip)
test-unit:
	$(GO) test -count=1 ./...

## lint: gofmt, go vet and staticcheck
lint: $(STATICCHECK)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt: needs formatting:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags chdb ./sql/ ./dashboards/
	$(STATICCHECK) ./...

$(STATICCHECK):
	mkdir -p $(CACHE)/bin/tmp
	GOBIN=$(CACHE)/bin/tmp $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	mv $(CACHE)/bin/tmp/staticcheck $@

## bench: the benchmarks, against the local stack's servers
bench: stack-up
	$(WITH_STACK) TALLY_REQUIRE_STACK=1 $(GO) test -p 1 -run '^$$' -bench . -benchmem -count=1 ./...

## demo: a synthetic cluster on the local stack, collected into ClickHouse, and the reports
demo: build stack-up
	hack/demo/run.sh

## stack-up / stack-down: the local ClickHouse, Prometheus, etcd and kube-apiserver
stack-up:
	hack/stack/up.sh

stack-down:
	hack/stack/down.sh

## cluster-up / cluster-down: a real single-node Kubernetes cluster (kubelet, containerd,
## kube-state-metrics, Prometheus) for tests; needs root. See hack/cluster/README.md.
cluster-up:
	hack/cluster/up.sh

cluster-down:
	hack/cluster/down.sh

## clean: binaries and the stack's state (keeps cached builds in .cache)
clean:
	hack/stack/down.sh --purge
	rm -rf bin reports
