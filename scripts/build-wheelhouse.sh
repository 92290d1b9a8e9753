#!/usr/bin/env bash
# Downloads the runtime wheels (requirements.txt) into build/wheelhouse for the image builds:
# pip inside containers cannot reach PyPI on some hosts, pip on the host can. The wheels are for
# the images' interpreter (Debian bookworm's CPython 3.11, glibc 2.36) on the engine's CPU
# architecture, whatever the host runs. The Dockerfiles fall back to PyPI if this folder is empty.
set -euo pipefail
cd "$(dirname "$0")/.."

out=build/wheelhouse
python=${PYTHON:-python3}
case "$(docker version -f '{{.Server.Arch}}' 2>/dev/null || uname -m)" in
  amd64|x86_64) arch=x86_64 ;;
  arm64|aarch64) arch=aarch64 ;;
  *) arch=$(uname -m) ;;
esac
platforms=()
for tag in manylinux2014 manylinux_2_17 manylinux_2_28 manylinux_2_34; do platforms+=(--platform "${tag}_$arch"); done
mkdir -p "$out"
"$python" -m pip download -q --disable-pip-version-check -r requirements.txt -d "$out" \
  --only-binary=:all: --implementation cp --python-version 3.11 --abi cp311 --abi abi3 --abi none \
  "${platforms[@]}" --platform any
ls "$out"/*.whl | wc -l | xargs -I{} echo "build-wheelhouse: {} wheels in $out for linux/$arch" >&2
