# Todo Chatbot: one Pulumi program, two images, one Helm chart.
#   make up      deploy the dev stack to Minikube (starts Minikube when needed)
#   make test    every test suite that needs no cluster (what CI runs)
# See README.md for the rest.

SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# Tools built with `go install` live outside the clone so every checkout reuses them.
TOOLS_CACHE ?= $(HOME)/.cache/todo-chatbot
ACTIONLINT_VERSION := v1.7.12
ACTIONLINT := $(TOOLS_CACHE)/actionlint-$(ACTIONLINT_VERSION)/actionlint
HELM_DOCS_VERSION := v1.14.2
HELM_DOCS := $(TOOLS_CACHE)/helm-docs-$(HELM_DOCS_VERSION)/helm-docs
# The chart README's values table comes from values.yaml's `# --` comments, in file order.
HELM_DOCS_FLAGS := --chart-search-root helm --sort-values-order file --log-level warning
export KUBE_SCORE_DIR ?= $(TOOLS_CACHE)/kube-score

.PHONY: help up down preview build test test-program test-chart test-backend test-frontend \
        test-frontend-e2e test-deps lint docs bench-backend chaos-backend ask e2e e2e-node tools tools-node clean

# npm ci again whenever package-lock.json is newer than what node_modules was installed from
# (npm writes node_modules/.package-lock.json on every install).
NODE_MODULES := frontend/node_modules/.package-lock.json

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | column -t -s $$'\t'

up: ## deploy the dev stack to Minikube and check that the app answers
	@scripts/up.sh up

down: ## destroy the dev stack; PostgreSQL's data survives unless PURGE=1 (Minikube keeps running)
	@PURGE=$(PURGE) scripts/up.sh down

preview: ## show what `make up` would change
	@scripts/up.sh preview

build: ## compile the Pulumi program (what `pulumi up` compiles)
	go build -o bin/todo-chatbot .

test: test-deps $(NODE_MODULES) lint test-program test-chart test-backend test-frontend test-frontend-e2e ## every suite that needs no cluster

test-deps: ## install the Debian packages the suites need (as root), or name the command
	@scripts/test-deps.sh

$(NODE_MODULES): frontend/package-lock.json | test-deps
	cd frontend && npm ci --no-audit --no-fund
	touch $@

# Every Go module in the repository; each go.mod must stay tidy.
GO_MODULES := . $(patsubst %/go.mod,%,$(wildcard */go.mod */*/go.mod))

lint: $(ACTIONLINT) $(HELM_DOCS) ## gofmt, go vet, tidy go.mod files, the chart README up to date, actionlint
	@unformatted=$$(gofmt -l main.go infra tests backend bench); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	@for m in $(GO_MODULES); do \
	  (cd $$m && go mod tidy -diff) || { echo "go.mod of $$m is not tidy: run (cd $$m && go mod tidy)"; exit 1; }; \
	done
	go vet ./...
	cd backend && go vet ./...
	@$(HELM_DOCS) $(HELM_DOCS_FLAGS) --dry-run | diff -u helm/todo-chatbot/README.md - || \
	  { echo "helm/todo-chatbot/README.md is out of date: run make docs"; exit 1; }
	$(ACTIONLINT) -color=false .github/workflows/*.yml

docs: $(HELM_DOCS) ## regenerate the chart README's values table from values.yaml (helm-docs)
	$(HELM_DOCS) $(HELM_DOCS_FLAGS)

test-program: ## the Pulumi program's mocked unit tests and the chart render tests
	go test -count=1 ./...

test-chart: ## the chart's render tests (typed objects, Pod Security, policies) and kube-score on it
	go test -count=1 -run '^TestChart' ./tests/chart ./tests
	scripts/kube-score.sh

test-backend: test-deps ## backend tests against a throwaway PostgreSQL on 127.0.0.1
	scripts/with-postgres.sh bash -c 'cd backend && go test -count=1 -race ./...'

test-frontend: $(NODE_MODULES) ## frontend unit tests (Vitest) and the production build
	cd frontend && npm test && npm run build && npm run size

test-frontend-e2e: test-deps $(NODE_MODULES) ## the built app behind nginx, the real backend and PostgreSQL, in headless Chromium
	cd frontend && bash e2e/run.sh

bench-backend: ## API throughput and latency against PostgreSQL's own (pgbench) on loopback
	bench/backend.sh

chaos-backend: ## fault scenarios (PostgreSQL crash, table lock, large bodies, SIGTERM) on loopback: a table
	bench/chaos-backend.sh

ask: ## ask kubectl-ai, as the read-only ops identity: make ask Q="why is the backend not ready?"
	@scripts/ask.sh "$(Q)"

e2e: ## real pulumi preview/up/destroy on a local control plane built from Go modules
	tests/e2e/run.sh

e2e-node: ## real pods: our images on a real kubelet (containerd), probes, DNS, NetworkPolicies (root)
	tests/e2e/node/run.sh

tools: ## build the end-to-end toolchain into its cache (long when cold)
	tools/build.sh

tools-node: ## build the node tier's toolchain too (kubelet, kube-proxy, CoreDNS, kube-router, BuildKit)
	tools/build.sh --tier all

$(ACTIONLINT):
	GOBIN=$(dir $@) go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)

$(HELM_DOCS):
	GOBIN=$(dir $@) go install github.com/norwoodj/helm-docs/cmd/helm-docs@$(HELM_DOCS_VERSION)

clean: ## remove build outputs in the clone (caches stay)
	rm -rf bin frontend/dist frontend/e2e/screenshots
