#!/bin/sh
# Image build step: creates /opt/podplane/venv with the runtime dependencies (requirements.txt).
# From the wheelhouse (make wheels) when it holds a complete set: pip inside containers cannot
# reach PyPI on some hosts. From PyPI otherwise, so a plain `docker compose up --build` works.
# Usage: install-venv.sh REQUIREMENTS WHEELHOUSE
set -eu
req=$1 wheels=$2 venv=/opt/podplane/venv
python3 -m venv "$venv"
pip() { "$venv/bin/pip" install -q --no-cache-dir --disable-pip-version-check "$@"; }
if ls "$wheels"/*.whl >/dev/null 2>&1 && pip --no-index --find-links "$wheels" -r "$req"; then
  echo "install-venv: installed from the wheelhouse"
else
  echo "install-venv: wheelhouse empty or incomplete: installing from PyPI"
  pip --find-links "$wheels" -r "$req"
fi
