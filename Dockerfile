# Build: docker build -t gateway-orchestrator:dev .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY api/ api/
COPY cmd/gateway-orchestrator/ cmd/gateway-orchestrator/
COPY internal/ internal/
COPY reconciler/ reconciler/
COPY webhook/ webhook/
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /gateway-orchestrator ./cmd/gateway-orchestrator

# A static binary needs nothing but CA certificates (for the AWS APIs).
FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
COPY --from=build /gateway-orchestrator /gateway-orchestrator
USER 65532:65532
ENTRYPOINT ["/gateway-orchestrator"]
