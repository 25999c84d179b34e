#!/usr/bin/env bash
# Builds the container image of one Strait service from apps/<service>/Dockerfile (context: the repository
# root) with the first image builder that works here: docker (with a reachable daemon), podman, buildah.
# Without one it says so and exits 0, so `nx run-many -t image` works on machines that cannot build images.
#   bash libs/deploy/scripts/build-image.sh <service>
#   STRAIT_IMAGE_REGISTRY (default ghcr.io/strait), STRAIT_IMAGE_TAG (default: the version in package.json)
#   STRAIT_IMAGE_BUILDER=docker|podman|buildah to choose; STRAIT_IMAGE_REQUIRED=1 to fail without a builder.
set -euo pipefail
cd "$(dirname "$0")/../../.."

service=${1:?usage: build-image.sh <service>}
dockerfile="apps/$service/Dockerfile"
[[ -f $dockerfile ]] || { echo "build-image: no $dockerfile" >&2; exit 2; }
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

echo "build-image: $builder building $image from $dockerfile"
case $builder in
  docker | podman) "$builder" build -f "$dockerfile" -t "$image" . ;;
  buildah) buildah bud -f "$dockerfile" -t "$image" . ;;
esac
echo "build-image: built $image"
