#!/usr/bin/env bash
# Installs everything Strait's lab and tests need on a fresh Debian machine, and nothing twice:
#   1. Debian packages (kernel networking tools, WireGuard, strongSwan, iperf3, openssl, Prometheus
#      for the dashboards test: prometheus + promtool)
#   2. npm packages (npm ci, including Node 24 as the `node` devDependency)
#   3. control-plane binaries built from the Go module proxy, cached per machine by version
# Safe to re-run: each step checks first and says what it skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

APT_PACKAGES=(
  iproute2 nftables iptables iputils-ping procps psmisc time openssl curl ca-certificates
  wireguard-go wireguard-tools
  strongswan-charon strongswan-swanctl libcharon-extra-plugins libstrongswan-standard-plugins
  iperf3
  prometheus
)

# 1. Debian packages
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  [[ $(id -u) -eq 0 ]] || die "missing Debian packages (${missing[*]}); run this as root or: sudo apt-get install ${missing[*]}"
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The strongSwan packages start a system-wide charon; Strait runs its own per gateway.
  systemctl disable --now strongswan-starter strongswan 2>/dev/null || true
else
  say "Debian packages present"
fi

# 2. npm packages (Node 24 comes with them)
command -v npm >/dev/null || die "npm not found: install Node.js (any version ≥ 20) and npm first"
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ -x node_modules/.bin/node && -f node_modules/.strait-lock && "$(cat node_modules/.strait-lock)" == "$lock_hash" ]]; then
  say "npm packages up to date"
else
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > node_modules/.strait-lock
fi
node_version=$(node_modules/.bin/node --version)
[[ $node_version == v24.* ]] || die "node_modules/.bin/node is $node_version, expected v24.x"
say "Node $node_version"

# 3. control-plane binaries (etcd, kube-apiserver, kube-controller-manager, kubectl, nats-server, helm)
command -v go >/dev/null || die "Go is needed once to build the control-plane binaries: install golang (≥ 1.24)"
bash tools/controlplane/build.sh
