# Mitosis. Two commands matter: `make run` and `make test`.
GO      ?= go
BIN     ?= bin/app
PKGS    ?= ./...

.PHONY: run build web test test-deploy vet lint-api lint-docker graph chart fuzz chaos fmt bench clean

# What `app version` prints (platform/buildinfo); the Dockerfile takes the
# same as build arguments.
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
CREATED  ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS  := -X mitosis/platform/buildinfo.version=$(VERSION) -X mitosis/platform/buildinfo.commit=$(REVISION) -X mitosis/platform/buildinfo.buildTime=$(CREATED)

# Tools built from source into a git-ignored folder, once per version.
TOOLS        := $(CURDIR)/.tools/bin
HELM_VERSION := v3.22.0
HELM         := $(TOOLS)/helm-$(HELM_VERSION)

## run: every module in one process on :8080 (embedded PostgreSQL unless DATABASE_URL is set)
run: build
	./$(BIN) serve

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) .

## web: rebuild web/dist (the pages' bundles, committed and embedded) from web/src and web/pages
web: web/node_modules/.bin/redocly
	cd web && node build.mjs

## test: vet, the API and Dockerfile lints, formatting, every test with the race detector on real PostgreSQL, and the deployment checks
# (helm first: the scaffolder's test runs the deployment checks on a copy with a new module)
test: vet lint-api lint-docker $(HELM)
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || (echo "gofmt needed:"; gofmt -l .; exit 1)
	HELM=$(HELM) $(GO) test -race -count=1 -timeout 9m $(PKGS)
	$(MAKE) --no-print-directory test-deploy

## test-deploy: the compose file and the Helm chart, checked offline (deploy/ is a Go module of its own)
test-deploy: $(HELM)
	cd deploy && HELM=$(HELM) $(GO) test -race -count=1 -timeout 5m ./...

# The root's ./... does not enter deploy/, a module of its own.
vet:
	$(GO) vet $(PKGS)
	cd deploy && $(GO) vet ./...

$(HELM):
	GOBIN=$(TOOLS) $(GO) install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)
	mv $(TOOLS)/helm $@

## lint-docker: lint the Dockerfile with the pinned dockerfilelint (deploy/package.json)
lint-docker: deploy/node_modules/.bin/dockerfilelint
	deploy/node_modules/.bin/dockerfilelint Dockerfile

deploy/node_modules/.bin/dockerfilelint: deploy/package.json deploy/package-lock.json
	cd deploy && npm ci --no-audit --no-fund
	@touch $@

# The chart reasons with the module graph (every <MODULE>_URL, the
# NetworkPolicy), which only the binary knows and Helm cannot ask it for:
# it is generated beside the chart, never committed (git-ignored), so
# adding a module edits no copy of it.
CHART_GRAPH := deploy/helm/mitosis/files/modules.yaml

## graph: write the chart's module graph (deploy/helm/mitosis/files/modules.yaml, git-ignored) from `app graph`, for helm from the source tree
graph: build
	@mkdir -p $(dir $(CHART_GRAPH))
	./$(BIN) graph --format yaml > $(CHART_GRAPH).tmp
	mv $(CHART_GRAPH).tmp $(CHART_GRAPH)

## chart: package the chart with the module graph of this source's binary into bin/ (release it with the image built from the same source)
chart: graph $(HELM)
	$(HELM) package deploy/helm/mitosis --destination bin

## lint-api: lint the public API's document as served (web/openapi.yaml with every module's modules/<name>/openapi.yaml merged in, by `app openapi`) with the pinned @redocly/cli (rules in web/redocly.yaml)
lint-api: web/node_modules/.bin/redocly
	$(GO) run . openapi > web/openapi.merged.json
	cd web && REDOCLY_TELEMETRY=off npx --no-install redocly lint

# web/node_modules holds every pinned web tool: redocly, esbuild, playwright-core.
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
