# gateway-orchestrator. Tools come from the Go module proxy at pinned versions.
SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

CONTROLLER_GEN ?= go run sigs.k8s.io/controller-tools/cmd/controller-gen@v0.23.0
STATICCHECK    ?= go run honnef.co/go/tools/cmd/staticcheck@v0.8.2
# golangci-lint with .golangci.yml (depguard, errorlint, testifylint); the first run builds it
# (about 12 minutes on 2 shared cores), later runs come from the build cache.
GOLANGCI_LINT  ?= go run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0
# Renders docs/api-reference.md from the API types (built in its own module context: its
# dependencies never enter this module's go.mod).
CRD_REF_DOCS   ?= go run github.com/elastic/crd-ref-docs@v0.3.0
TEST_TIMEOUT   ?= 40m
CHART           = deploy/helm/gateway-orchestrator
# The version stamped into the binary (gateway-orchestrator --version).
VERSION        ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS         = -X github.com/opendi/gateway-orchestrator/internal/version.Version=$(VERSION)
RELEASE_ARCHS  ?= amd64 arm64
# The envtest control plane: kube-apiserver and etcd built once per machine into a cache.
ENVTEST_ASSETS = ./hack/envtest-assets.sh

.PHONY: all
all: build

.PHONY: manifests
manifests: ## Generate CRDs, RBAC and webhook configurations into deploy/.
	$(CONTROLLER_GEN) crd paths=./api/... output:crd:artifacts:config=deploy/crd
	$(CONTROLLER_GEN) rbac:roleName=gateway-orchestrator paths=./... output:rbac:artifacts:config=deploy/rbac
	$(CONTROLLER_GEN) webhook paths=./webhook/... output:webhook:artifacts:config=deploy/webhook
	@# The Helm chart carries copies (test/helmchart checks they are current).
	cp deploy/crd/gateway.opendi.com_*.yaml $(CHART)/crds/
	cp deploy/rbac/role.yaml $(CHART)/files/role.yaml
	cp deploy/rbac/user_roles.yaml $(CHART)/files/user_roles.yaml
	cp deploy/rbac/metrics_reader_role.yaml $(CHART)/files/metrics_reader_role.yaml
	cp deploy/webhook/manifests.yaml $(CHART)/files/webhooks.yaml
	$(CRD_REF_DOCS) --source-path=./api/v1alpha1 --config=hack/crd-ref-docs/config.yaml \
	  --renderer=markdown --output-path=docs/api-reference.md --log-level=ERROR

.PHONY: generate
generate: ## Generate deepcopy code.
	$(CONTROLLER_GEN) object paths=./api/...

.PHONY: verify-generated
verify-generated: manifests generate ## Fail when generated files are stale.
	@git diff --exit-code -- deploy api docs/api-reference.md || { echo "generated files are stale: run 'make manifests generate' and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- deploy api docs/api-reference.md)" || { git status --porcelain -- deploy api docs/api-reference.md; echo "generated files are not committed"; exit 1; }

.PHONY: fmt
fmt:
	gofmt -l -w $$(git ls-files '*.go')

.PHONY: vet
vet:
	go vet ./...

.PHONY: lint
lint: ## gofmt check, go vet, staticcheck and golangci-lint (.golangci.yml).
	@out=$$(gofmt -l $$(git ls-files '*.go')); test -z "$$out" || { echo "gofmt needed:"; echo "$$out"; exit 1; }
	go vet ./...
	cd test/kumocheck && go vet ./...
	$(STATICCHECK) ./...
	$(GOLANGCI_LINT) run ./...

.PHONY: envtest
envtest: ## Build (once) the kube-apiserver and etcd that tests run against.
	$(ENVTEST_ASSETS)

.PHONY: test
test: ## Unit and integration tests against a real kube-apiserver and etcd, with the race test and fuzz seeds.
	assets=$$($(ENVTEST_ASSETS)); KUBEBUILDER_ASSETS=$$assets go test -timeout $(TEST_TIMEOUT) -count=1 ./...
	cd test/kumocheck && go test -count=1 ./...  # the AWS test server against kumo (its own module)

.PHONY: bench
bench: ## Admission benchmarks (decision at 1k/10k/100k claims; API-server latency under load).
	assets=$$($(ENVTEST_ASSETS)); export KUBEBUILDER_ASSETS=$$assets; \
	go test -timeout 60m -count=1 -run '^$$' -bench RouteDecision -benchtime 2000x -benchmem ./test/bench/ && \
	go test -timeout 60m -count=1 -run '^$$' -bench 'AdmissionThrough|Baseline' -benchtime 40x ./test/bench/ && \
	go test -timeout 60m -count=1 -run '^$$' -bench 'ClaimProtocol|ExactVsWildcard' -benchtime 300x ./test/bench/

.PHONY: bench-certificates
bench-certificates: ## 1,000 claims to certificate-issued at the real AWS account limits (SCALE multiplies them all).
	assets=$$($(ENVTEST_ASSETS)); export KUBEBUILDER_ASSETS=$$assets; \
	go test -timeout 60m -count=1 -run '^$$' -bench . -benchtime 1x ./test/certbench/ -args -claims $${CLAIMS:-1000} -scale $${SCALE:-1}

.PHONY: bench-ready
bench-ready: ## 200 hostnames from HTTPRoute to Ready (pool Gateway, LBC stand-in, ALIAS) at the real AWS limits.
	assets=$$($(ENVTEST_ASSETS)); export KUBEBUILDER_ASSETS=$$assets; \
	go test -timeout 60m -count=1 -run '^$$' -bench . -benchtime 1x ./test/certbench/ -args -claims $${CLAIMS:-200} -scale $${SCALE:-1} -until ready

.PHONY: fuzz
fuzz: ## A short fuzzing run of hostname normalization and validation (the seed corpus runs in every test).
	go test -run '^$$' -fuzz FuzzNormalizeValidate -fuzztime $${FUZZTIME:-20s} ./internal/hostname

.PHONY: build
build:
	go build -ldflags "$(LDFLAGS)" -o bin/gateway-orchestrator ./cmd/gateway-orchestrator

.PHONY: release
release: ## Static linux binaries for every RELEASE_ARCHS, version-stamped, with checksums, into dist/.
	rm -rf dist && mkdir -p dist
	for arch in $(RELEASE_ARCHS); do \
	  CGO_ENABLED=0 GOOS=linux GOARCH=$$arch go build -trimpath -ldflags "-s -w $(LDFLAGS)" \
	    -o dist/gateway-orchestrator-$(VERSION)-linux-$$arch ./cmd/gateway-orchestrator; \
	done
	cd dist && sha256sum gateway-orchestrator-* > SHA256SUMS

.PHONY: certs
certs: ## A self-signed CA and a serving certificate for 127.0.0.1 and localhost in certs/ (for make run).
	go run ./hack/certs -dir certs

certs/tls.crt:
	go run ./hack/certs -dir certs

WEBHOOK_PORT ?= 9443
RUN_ARGS     ?= --aws=false --leader-elect=false --shutdown-delay=0

.PHONY: run
run: build certs/tls.crt ## The real binary against the cluster in KUBECONFIG; its webhooks are registered by URL while it runs.
	go build -o bin/devwebhooks ./hack/devwebhooks
	bin/devwebhooks -ca certs/ca.crt -url https://127.0.0.1:$(WEBHOOK_PORT) -- \
	  bin/gateway-orchestrator --webhook-cert-dir certs --webhook-port $(WEBHOOK_PORT) \
	  --metrics-bind-address 127.0.0.1:8080 --health-probe-bind-address 127.0.0.1:8081 $(RUN_ARGS)

.PHONY: run-local
run-local: ## The whole system on this machine, no cluster and no AWS account needed.
	@# Built, then run by make itself: under `go run`, Ctrl-C ends in "exit status 1" and a make
	@# error although the system stopped cleanly.
	go build -o bin/local-up ./hack/local-up
	bin/local-up

.PHONY: docker-build
docker-build:
	docker build --build-arg VERSION=$(VERSION) -t gateway-orchestrator:$(VERSION) .
