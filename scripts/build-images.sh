#!/usr/bin/env bash
# Builds the images `make images` names, TAG=DOCKERFILE=CONTEXT[=TARGET[=ARG=VALUE]] each (ARG a
# build argument), into the local engine:
#   scripts/build-images.sh podplane:dev=docker/podplane.Dockerfile=. ...
# With BuildKit where the host has it, all at once: BuildKit runs a Dockerfile's independent stages
# side by side and shares the stages two Dockerfiles have in common (python, venv, app), so a cold
# build takes about as long as its longest chain of stages instead of the sum of them all (the
# figures: docs/benchmarks.md). BuildKit comes with the Docker CLI's buildx plugin, or is built into
# Docker 20.10's own CLI (Debian's docker.io, /usr/bin/docker, which scripts/host-setup.sh
# installs: the newer CLI a host may have first on its PATH refuses BuildKit without buildx).
# Without either, the classic builder builds them one after the other. Each build's output goes to
# build/logs/<name>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build/logs

# The docker command that builds with BuildKit here, or nothing.
buildkit_cli() {
  if docker buildx version >/dev/null 2>&1; then
    echo docker
    return
  fi
  local cli version
  for cli in docker /usr/bin/docker; do
    version=$("$cli" version -f '{{.Client.Version}}' 2>/dev/null) || continue
    if ((${version%%.*} < 23)); then
      echo "$cli"
      return
    fi
  done
}

build() { # TAG DOCKERFILE CONTEXT TARGET BUILD-ARG LOG
  local start=$SECONDS
  if ! "${cli[@]}" build -f "$2" ${4:+--target "$4"} ${5:+--build-arg "$5"} -t "$1" "$3" >"$6" 2>&1; then
    tail -n 40 "$6" >&2
    echo "docker build $1 failed: see $6" >&2
    return 1
  fi
  echo "    $1 built in $((SECONDS - start))s (log: $6)" >&2
}

kit=$(buildkit_cli)
if [[ -n $kit ]]; then
  cli=(env DOCKER_BUILDKIT=1 "$kit")
  echo "    BuildKit ($kit): $# images at once" >&2
else
  cli=(docker)
  echo "    the classic builder (no buildx, no Docker 20.10 CLI): one image after the other" >&2
fi

pids=()
for image in "$@"; do
  IFS== read -r tag file context target arg <<<"$image"
  name=${tag%%:*}
  log=build/logs/${name//\//-}.log
  if [[ -n $kit ]]; then
    build "$tag" "$file" "$context" "$target" "$arg" "$log" &
    pids+=($!)
  else
    build "$tag" "$file" "$context" "$target" "$arg" "$log"
  fi
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit $status
