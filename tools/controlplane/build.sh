#!/usr/bin/env bash
# Builds the control-plane binaries Strait's tests and lab run (etcd, kube-apiserver,
# kube-controller-manager, kubectl, nats-server, helm) from the Go module proxy, once per
# machine, into a cache keyed by version:
#   ${STRAIT_CACHE_DIR:-$HOME/.cache/strait}/bin/<name>-<version>/<name>
# Re-running it with a warm cache does nothing. Usage: build.sh [component...]
#   components: etcd kubernetes nats helm (default: all)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"

cache=${STRAIT_CACHE_DIR:-$HOME/.cache/strait}
bin="$cache/bin"
work="$cache/build"
mkdir -p "$bin" "$work"

# Cap parallelism and memory so a 2-core builder does not swap while linking kube binaries.
export GOFLAGS="${GOFLAGS:-} -trimpath"
export GOMAXPROCS=${GOMAXPROCS:-$(nproc)}
export CGO_ENABLED=0
export GOTOOLCHAIN=local

log() { printf '[build-controlplane] %s\n' "$*" >&2; }

have() { # have NAME VERSION -> cached binary exists and runs
  local f="$bin/$1-$2/$1"
  [[ -x "$f" ]]
}

timed() { # timed LABEL CMD... : run, report wall time and peak RSS
  local label=$1; shift
  local start end
  start=$(date +%s)
  if command -v /usr/bin/time >/dev/null; then
    /usr/bin/time -f "[build-controlplane] $label: peak RSS %M KiB" "$@"
  else
    "$@"
  fi
  end=$(date +%s)
  log "$label: $((end - start)) s"
}

build_etcd() {
  local v=$ETCD_VERSION
  if have etcd "$v"; then log "etcd $v cached"; return; fi
  log "building etcd $v"
  local d="$work/etcd-$v"; rm -rf "$d"; mkdir -p "$d"; cd "$d"
  cat > go.mod <<MOD
module strait.local/etcd

go 1.24
MOD
  cat > tools.go <<'SRC'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
SRC
  go get "go.etcd.io/etcd/server/v3@$v"
  mkdir -p "$bin/etcd-$v.tmp"
  timed "etcd $v" go build -o "$bin/etcd-$v.tmp/etcd" \
    -ldflags "-s -w" go.etcd.io/etcd/server/v3
  mv "$bin/etcd-$v.tmp" "$bin/etcd-$v"
}

build_kubernetes() {
  local v=$KUBERNETES_VERSION
  local need=()
  for b in kube-apiserver kube-controller-manager kubectl; do
    have "$b" "$v" || need+=("$b")
  done
  if [[ ${#need[@]} -eq 0 ]]; then log "kubernetes $v cached"; return; fi
  log "building ${need[*]} $v"
  local staging="v0.${v#v1.}"
  local d="$work/kubernetes-$v"; rm -rf "$d"; mkdir -p "$d"; cd "$d"
  # The wrapper module: require k8s.io/kubernetes and point every staging module it
  # replaces locally at its published v0.x release.
  local mods
  mods=$(curl -fsSL "${GOPROXY_BASE:-https://proxy.golang.org}/k8s.io/kubernetes/@v/$v.mod" \
    | sed -nE 's#^\s*(k8s\.io/[a-z0-9.-]+) => \./staging/.*#\1#p')
  if [[ -z "$mods" ]]; then
    # Fallback without curl access: ask go for the module's go.mod.
    mods=$(go mod download -json "k8s.io/kubernetes@$v" | sed -nE 's/.*"GoMod": "(.*)".*/\1/p' \
      | xargs sed -nE 's#^\s*(k8s\.io/[a-z0-9.-]+) => \./staging/.*#\1#p')
  fi
  {
    echo "module strait.local/kubernetes"
    echo
    echo "go 1.24"
    echo
    echo "require k8s.io/kubernetes $v"
    echo
    echo "replace ("
    for m in $mods; do echo "	$m => $m $staging"; done
    echo ")"
  } > go.mod
  cat > tools.go <<'SRC'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
SRC
  go mod tidy -e >/dev/null 2>&1 || true
  go mod download
  local minor=${v#v1.}; minor=${minor%%.*}
  local date; date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  local ld="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $pkg.gitVersion=$v -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ld+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date -X $pkg.gitCommit=module-proxy"
  done
  for b in "${need[@]}"; do
    mkdir -p "$bin/$b-$v.tmp"
    timed "$b $v" go build -tags tools -o "$bin/$b-$v.tmp/$b" -ldflags "$ld" "k8s.io/kubernetes/cmd/$b"
    mv "$bin/$b-$v.tmp" "$bin/$b-$v"
  done
}

build_nats() {
  local v=$NATS_SERVER_VERSION
  if have nats-server "$v"; then log "nats-server $v cached"; return; fi
  log "building nats-server $v"
  mkdir -p "$bin/nats-server-$v.tmp"
  timed "nats-server $v" env GOBIN="$bin/nats-server-$v.tmp" \
    go install -ldflags "-s -w" "github.com/nats-io/nats-server/v2@$v"
  mv "$bin/nats-server-$v.tmp" "$bin/nats-server-$v"
}

build_helm() {
  local v=$HELM_VERSION
  if have helm "$v"; then log "helm $v cached"; return; fi
  log "building helm $v"
  mkdir -p "$bin/helm-$v.tmp"
  timed "helm $v" env GOBIN="$bin/helm-$v.tmp" \
    go install -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$v" "helm.sh/helm/v3/cmd/helm@$v"
  mv "$bin/helm-$v.tmp" "$bin/helm-$v"
}

components=("$@")
[[ ${#components[@]} -gt 0 ]] || components=(etcd nats helm kubernetes)
total_start=$(date +%s)
for c in "${components[@]}"; do
  case $c in
    etcd) build_etcd ;;
    kubernetes) build_kubernetes ;;
    nats) build_nats ;;
    helm) build_helm ;;
    *) echo "build.sh: unknown component '$c' (want etcd, kubernetes, nats, helm)" >&2; exit 2 ;;
  esac
done
log "done in $(( $(date +%s) - total_start )) s; binaries under $bin"
