# Mitosis. Two commands matter: `make run` and `make test`.
GO      ?= go
BIN     ?= bin/app
PKGS    ?= ./...

.PHONY: run build test vet lint-api fuzz chaos fmt bench clean

## run: every module in one process on :8080 (embedded PostgreSQL unless DATABASE_URL is set)
run: build
	./$(BIN) serve

build:
	$(GO) build -o $(BIN) .

## test: vet, the API lint, formatting, and every test with the race detector on real PostgreSQL
test: vet lint-api
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || (echo "gofmt needed:"; gofmt -l .; exit 1)
	$(GO) test -race -count=1 -timeout 9m $(PKGS)

vet:
	$(GO) vet $(PKGS)

## lint-api: lint web/openapi.yaml with the pinned @redocly/cli (rules in web/redocly.yaml)
lint-api: web/node_modules/.bin/redocly
	cd web && REDOCLY_TELEMETRY=off npx --no-install redocly lint

web/node_modules/.bin/redocly: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	@touch $@

FUZZTIME ?= 20s

## fuzz: run every fuzz test for FUZZTIME each (make test runs their seeds)
fuzz:
	@grep -r --include='*_test.go' -o '^func Fuzz[A-Za-z0-9_]*' . | sed 's/:func / /' | while read -r file fn; do \
		echo "== $$fn ($$(dirname $$file))"; \
		$(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) $$(dirname $$file) || exit 1; \
	done

CHAOS_DURATION ?= 5m

## chaos: the long chaos suite, CHAOS_DURATION of load under rounds of faults (make test runs the short form)
chaos:
	CHAOS=long CHAOS_DURATION=$(CHAOS_DURATION) $(GO) test -race -count=1 -run '^TestChaos$$' -v -timeout 60m ./e2e/

fmt:
	gofmt -w $$(git ls-files '*.go')

## bench: the app against fixed references (order SQL, Watermill, bare HTTP); each target MET or MISSED (root; see BENCHMARKS.md)
bench: build
	./bench/run.sh

clean:
	rm -rf bin .data
