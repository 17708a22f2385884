#!/usr/bin/env bash
# Builds kube-apiserver and etcd for envtest from the Go module proxy (no release downloads are
# reachable here) into a per-version cache directory, and prints that directory on stdout.
# A warm cache returns at once; a cold build takes several minutes on 2 cores.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-1.37.2}
ETCD_VERSION=${ETCD_VERSION:-3.7.3}
cache_root=${GO_ENVTEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gateway-orchestrator/envtest}
dest="$cache_root/k8s-v$K8S_VERSION-etcd-v$ETCD_VERSION"

if [ -x "$dest/kube-apiserver" ] && [ -x "$dest/etcd" ]; then
  echo "$dest"
  exit 0
fi

log() { echo "envtest-assets: $*" >&2; }
mkdir -p "$dest"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GOFLAGS=-mod=mod GOWORK=off CGO_ENABLED=0

if [ ! -x "$dest/kube-apiserver" ]; then
  log "building kube-apiserver v$K8S_VERSION (minutes on a cold cache)"
  mkdir "$work/apiserver" && cd "$work/apiserver"
  go mod init example.invalid/apiserver-build >/dev/null 2>&1
  modjson=$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION")
  moddir=$(printf '%s\n' "$modjson" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  [ -f "$moddir/go.mod" ] || { log "cannot find kubernetes go.mod in $moddir"; exit 1; }
  go mod edit -require "k8s.io/kubernetes@v$K8S_VERSION"
  # kubernetes' go.mod replaces its staging modules with ./staging/...; the module download has no
  # staging sources, so each is replaced with its published v0.X.Y release instead.
  staging_version="v0.${K8S_VERSION#*.}"
  for m in $(grep -E '=>[[:space:]]*\./staging/' "$moddir/go.mod" | awk '{print $1}'); do
    go mod edit -replace "$m=$m@$staging_version"
  done
  printf 'package main\nimport _ "k8s.io/kubernetes/cmd/kube-apiserver/app"\n' > tools.go
  go mod tidy >&2
  minor=${K8S_VERSION#*.}; minor=${minor%%.*}
  pkg=k8s.io/component-base/version
  go build -trimpath -o "$dest/kube-apiserver.tmp" \
    -ldflags "-s -w -X $pkg.gitVersion=v$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor" \
    k8s.io/kubernetes/cmd/kube-apiserver
  mv "$dest/kube-apiserver.tmp" "$dest/kube-apiserver"
fi

if [ ! -x "$dest/etcd" ]; then
  log "building etcd v$ETCD_VERSION"
  mkdir "$work/etcd" && cd "$work/etcd"
  go mod init example.invalid/etcd-build >/dev/null 2>&1
  go mod edit -require "go.etcd.io/etcd/server/v3@v$ETCD_VERSION"
  printf 'package main\nimport _ "go.etcd.io/etcd/server/v3/embed"\n' > tools.go
  go mod tidy >&2
  go build -trimpath -ldflags "-s -w" -o "$dest/etcd.tmp" go.etcd.io/etcd/server/v3
  mv "$dest/etcd.tmp" "$dest/etcd"
fi

echo "$dest"
