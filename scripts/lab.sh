#!/usr/bin/env bash
# The main job: set up what is missing, then bring the local multi-cluster lab up.
#   npm run lab                 # lab up with defaults
#   npm run lab -- status|down|logs SERVICE|...
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Node 24 from node_modules first on PATH, also when this script is run without npm.
export PATH="$PWD/node_modules/.bin:$PATH"
if [[ $# -eq 0 ]]; then set -- up; fi
exec node_modules/.bin/node apps/straitctl/src/main.ts lab "$@"
