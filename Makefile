# wagate — see README.md. `make run` starts the gateway; `make test` runs every test.
SHELL := /bin/bash
GO ?= go
GOFLAGS ?=
BIN := bin
export CGO_ENABLED ?= 1

.PHONY: run test test-go test-k8s lint-openapi bench chaos lint build image services browser versitygw clean

## run: start the whole gateway (API, worker, dispatcher, embedded NATS) on :8080
# Built and exec'd rather than `go run`: go run exits 1 when interrupted
# whatever the program does, so Ctrl-C would end in `make: *** Error 1`.
run: services
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/gateway ./cmd/gateway
	exec ./$(BIN)/gateway

## test: install what the tests need, start services, run every test with the race detector
test: services browser versitygw lint-openapi test-go test-k8s

test-go:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 15m ./...

## lint-openapi: lint schemas/openapi.yaml with Redocly CLI (pinned in tools/openapi-lint; installs from npm on first use)
lint-openapi:
	@./scripts/openapi-lint.sh

## test-k8s: render the kustomize overlays and check their invariants
test-k8s:
	cd deploy/k8s && $(GO) test -count=1 ./...

## bench: benchmarks against raw baselines measured in the same run (writes results/ and docs/benchmarks.md)
bench: services
	$(GO) run ./bench $(BENCH_FLAGS)

## chaos: kill -9 each binary, restart Redis empty, kill NATS, stop Postgres, fail the webhook receiver, all
## under steady traffic, against its own servers (about 7 minutes on 2 cores; not part of `make test`; CHAOS_FLAGS=-quick
## for shorter phases); writes docs/chaos.md and fails when anything is lost or duplicated
chaos:
	$(GO) run ./chaos $(CHAOS_FLAGS)

## lint: go vet and staticcheck
lint:
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

## build: static binaries into bin/
build:
	@mkdir -p $(BIN)
	for b in api worker dispatcher gateway; do CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/$$b ./cmd/$$b || exit 1; done

## image: one container image with every binary (needs a container engine)
image:
	docker build -t wagate:dev .

services:
	@./scripts/services.sh

browser:
	@./scripts/chromium.sh

## versitygw: the S3-compatible server the media store's S3 tests and the bench run against (bin/tools)
versitygw:
	@./scripts/versitygw.sh

clean:
	rm -rf $(BIN) results testout
