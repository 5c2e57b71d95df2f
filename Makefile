# Kindred's everyday commands. CI runs `make vet` and `make test` (see .ci/run).

GO      ?= go
BIN     ?= bin/kindred
LDFLAGS ?= -s -w
# Extra arguments for `make run`, e.g. make run ARGS='--addr 127.0.0.1:9000'.
ARGS    ?=

# Every Go file of the module (not .git, not a front end's node_modules).
GOFILES = $(shell find . -name '*.go' -not -path './.git/*' -not -path '*/node_modules/*')

.PHONY: all test vet build run bench cover clean crisis-model

all: vet test build

## test: the whole suite with the race detector (needs cgo: a C compiler).
test:
	$(GO) test -race -count=1 ./...

## vet: go vet, and fail if any file is not gofmt-formatted.
vet:
	$(GO) vet ./...
	@unformatted="$$(gofmt -l $(GOFILES))"; \
	if [ -n "$$unformatted" ]; then \
		echo "gofmt would change these files (run gofmt -w):"; \
		echo "$$unformatted"; \
		exit 1; \
	fi

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

clean:
	rm -rf bin coverage.out coverage.html
