#!/usr/bin/env bash
# Builds the container image of one Strait service from images/Dockerfile (context: the repository root)
# with the first image builder that works here: docker (with a reachable daemon), podman, buildah.
# Without one it says so and exits 0, so `nx run-many -t image` works on machines that cannot build images.
#   bash libs/deploy/scripts/build-image.sh <service> api                 # API-only service, non-root
#   bash libs/deploy/scripts/build-image.sh <service> node-agent '<tools>' # Debian packages it drives, root
# (each app's Nx `image` target in apps/<service>/project.json passes its own).
#   STRAIT_IMAGE_REGISTRY (default ghcr.io/strait), STRAIT_IMAGE_TAG (default: the version in package.json)
#   STRAIT_IMAGE_BUILDER=docker|podman|buildah to choose; STRAIT_IMAGE_REQUIRED=1 to fail without a builder.
set -euo pipefail
cd "$(dirname "$0")/../../.."

usage="usage: build-image.sh <service> api | build-image.sh <service> node-agent '<debian packages>'"
service=${1:?$usage}
target=${2:?$usage}
tools=${3:-}
dockerfile="images/Dockerfile"
[[ -f apps/$service/src/main.ts ]] || { echo "build-image: no service apps/$service (apps/$service/src/main.ts)" >&2; exit 2; }
case $target in
  api) [[ -z $tools ]] || { echo "build-image: the api target installs no tools" >&2; exit 2; } ;;
  node-agent) [[ -n $tools ]] || { echo "build-image: node-agent needs the Debian packages the service drives" >&2; exit 2; } ;;
  *) echo "build-image: unknown target $target; $usage" >&2; exit 2 ;;
esac
version=$(sed -nE 's/^\s*"version":\s*"([^"]+)".*/\1/p' package.json | head -1)
image="${STRAIT_IMAGE_REGISTRY:-ghcr.io/strait}/$service:${STRAIT_IMAGE_TAG:-$version}"

usable() {
  case $1 in
    docker) command -v docker >/dev/null && timeout 10 docker info >/dev/null 2>&1 ;;
    podman) command -v podman >/dev/null && timeout 10 podman info >/dev/null 2>&1 ;;
    buildah) command -v buildah >/dev/null ;;
    *) return 1 ;;
  esac
}

builder=""
for b in ${STRAIT_IMAGE_BUILDER:-docker podman buildah}; do
  if usable "$b"; then builder=$b; break; fi
done
if [[ -z $builder ]]; then
  msg="build-image: no image builder here (docker with a daemon, podman or buildah); $image not built"
  if [[ ${STRAIT_IMAGE_REQUIRED:-0} == 1 ]]; then echo "$msg" >&2; exit 1; fi
  echo "$msg"
  exit 0
fi

args=(-f "$dockerfile" --target "$target" --build-arg "SERVICE=$service" -t "$image")
[[ -z $tools ]] || args+=(--build-arg "TOOLS=$tools")
echo "build-image: $builder building $image from $dockerfile (target $target${tools:+, tools: $tools})"
case $builder in
  docker | podman) "$builder" build "${args[@]}" . ;;
  buildah) buildah bud "${args[@]}" . ;;
esac
echo "build-image: built $image"
