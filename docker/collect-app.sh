#!/bin/sh
# Image build step: copies every top-level Python package of the source tree (a folder with an
# __init__.py or __main__.py), except the tests, to /opt/podplane/app. The images run the code
# from there through PYTHONPATH; the project itself is not pip-installed. Compiled here, once:
# the images run with PYTHONDONTWRITEBYTECODE, so without the bytecode every process would compile
# each module it imports at every start (a third of a second of CPU each, and a cluster starts
# about sixteen of them at once).
# Usage: collect-app.sh SOURCE_DIR
set -eu
src=$1 app=/opt/podplane/app
mkdir -p "$app"
for dir in "$src"/*/; do
  name=$(basename "$dir")
  case $name in tests | docker | build | protos) continue ;; esac
  if [ -f "$dir/__init__.py" ] || [ -f "$dir/__main__.py" ]; then cp -a "$dir" "$app/"; fi
done
find "$app" -name __pycache__ -prune -exec rm -rf {} +
python3 -m compileall -q -j 0 "$app" >/dev/null
echo "collect-app: $(ls "$app" | tr '\n' ' ')"
