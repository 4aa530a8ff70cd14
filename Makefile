# Mitosis. Two commands matter: `make run` and `make test`.
GO      ?= go
BIN     ?= bin/app
PKGS    ?= ./...

.PHONY: run build test vet fmt bench clean

## run: every module in one process on :8080 (embedded PostgreSQL unless DATABASE_URL is set)
run: build
	./$(BIN) serve

build:
	$(GO) build -o $(BIN) .

## test: vet, formatting, and every test with the race detector on real PostgreSQL
test: vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || (echo "gofmt needed:"; gofmt -l .; exit 1)
	$(GO) test -race -count=1 -timeout 9m $(PKGS)

vet:
	$(GO) vet $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

## bench: in-process vs direct vs HTTP calls, and order placement load (see BENCHMARKS.md)
bench: build
	./bench/run.sh

clean:
	rm -rf bin .data
