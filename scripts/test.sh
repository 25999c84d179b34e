#!/usr/bin/env bash
# The whole test suite: set-up, lint and type checks of every project, then every test tier
# (unit, integration against real control planes, netns against real kernel networking, e2e).
# Ends with the runner's closing line: "Tests: N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false

bash scripts/setup.sh
# Node 24 from node_modules first on PATH, also when this script is run without npm.
export PATH="$PWD/node_modules/.bin:$PATH"

[[ $(id -u) -eq 0 ]] || { echo "[test] the netns and integration tiers need root (network namespaces); run as root" >&2; exit 1; }

echo "[test] lint and typecheck"
# Project references follow package.json dependencies; keep them in step before checking.
nx sync >/dev/null
node_modules/.bin/nx run-many -t lint typecheck --output-style=stream-without-prefixes

echo "[test] unit, integration, netns and e2e tiers"
exec node_modules/.bin/vitest run "$@"
