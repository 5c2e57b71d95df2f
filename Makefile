# Kindred's everyday commands. CI runs `make vet` and `make test` (see .ci/run).

GO      ?= go
BIN     ?= bin/kindred
LDFLAGS ?= -s -w
# Extra arguments for `make run`, e.g. make run ARGS='--addr 127.0.0.1:9000'.
ARGS    ?=
# How long `make fuzz` runs each fuzz target.
FUZZTIME ?= 30s
# staticcheck's version; `make vet` uses the one on PATH or in GOPATH/bin
# (`go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)`,
# as .ci/run does), else runs it with `go run` (slower: built each time).
STATICCHECK_VERSION ?= v0.8.2
# staticcheck's checks: its defaults (staticcheck.conf may narrow them).
STATICCHECK_FLAGS ?= -checks=inherit
STATICCHECK ?= $(shell command -v staticcheck 2>/dev/null || { p="$$($(GO) env GOPATH)/bin/staticcheck"; [ -x "$$p" ] && echo "$$p"; } || echo "$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)")

# Every Go file of the repository, the nested module cmd/kindred-bench/altlog
# included (not .git, not a front end's node_modules).
GOFILES = $(shell find . -name '*.go' -not -path './.git/*' -not -path '*/node_modules/*')

.PHONY: all test vet build run bench cover clean crisis-model fuzz altlog

all: vet test build

## test: the whole suite with the race detector (needs cgo: a C compiler).
## It replays every fuzz target's seed corpus (testdata/fuzz) too.
test:
	$(GO) test -race -count=1 -timeout 30m ./...

## vet: go vet, staticcheck, and fail if any file is not gofmt-formatted,
## if go.mod or go.sum are not tidy, or if a downloaded module was altered.
vet:
	$(GO) vet ./...
	$(STATICCHECK) $(STATICCHECK_FLAGS) ./...
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1; }
	$(GO) mod verify
	@unformatted="$$(gofmt -l $(GOFILES))"; \
	if [ -n "$$unformatted" ]; then \
		echo "gofmt would change these files (run gofmt -w):"; \
		echo "$$unformatted"; \
		exit 1; \
	fi

## fuzz: every fuzz target (func Fuzz… in a _test.go file) for FUZZTIME
## each, one after another; a crasher lands in the package's
## testdata/fuzz and fails the run.
fuzz:
	@set -e; for f in $$(grep -rl --include='*_test.go' '^func Fuzz' . | grep -v node_modules | sort); do \
		pkg=./$$(dirname "$${f#./}"); \
		for name in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$$f"); do \
			echo "== $$pkg $$name ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) "$$pkg"; \
		done; \
	done

## build: a static binary (no cgo) at bin/kindred.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/kindred

## run: run a node with the embedded defaults (data in ./kindred-data).
run:
	$(GO) run ./cmd/kindred serve $(ARGS)

## bench: every benchmark, no tests.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## cover: the suite with coverage; writes coverage.out and coverage.html.
cover:
	$(GO) test -race -count=1 -covermode=atomic -coverprofile=coverage.out ./...
	$(GO) tool cover -html=coverage.out -o coverage.html
	@$(GO) tool cover -func=coverage.out | tail -n 1

## crisis-model: retrain the crisis detector's embedded model
## (chat/crisis/model.bin) from chat/crisis/corpus; deterministic, seconds.
crisis-model:
	$(GO) run ./chat/crisis/cmd/crisis-train

## altlog: vet and build the event-log comparison (docs/decisions/0004), a
## module of its own so that Pebble is not a dependency of the server; CI
## leaves it out (it downloads Pebble), so run this after changing the store.
altlog:
	cd cmd/kindred-bench/altlog && $(GO) vet ./... && $(GO) build -o /dev/null .

clean:
	rm -rf bin coverage.out coverage.html
