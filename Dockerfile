# One image per architecture, built on the build machine's own architecture:
#   docker buildx build --platform linux/amd64,linux/arm64 \
#     --build-arg VERSION=$(git describe --tags --always --dirty) -t <repository>:<tag> .
# (make docker-build does this for the local architecture.)
FROM --platform=$BUILDPLATFORM golang:1.26.8-bookworm AS build
ARG TARGETOS=linux
ARG TARGETARCH=amd64
ARG VERSION=dev
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY api/ api/
COPY cmd/gateway-orchestrator/ cmd/gateway-orchestrator/
COPY internal/ internal/
COPY reconciler/ reconciler/
COPY webhook/ webhook/
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath \
    -ldflags "-s -w -X github.com/opendi/gateway-orchestrator/internal/version.Version=${VERSION}" \
    -o /gateway-orchestrator ./cmd/gateway-orchestrator

# A static binary needs nothing but CA certificates (for the AWS APIs).
FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
COPY --from=build /gateway-orchestrator /gateway-orchestrator
USER 65532:65532
ENTRYPOINT ["/gateway-orchestrator"]
