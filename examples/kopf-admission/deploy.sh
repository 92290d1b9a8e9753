#!/bin/bash
# kopf's admission example on the running cluster: kopf's wheels downloaded for the image (pip
# cannot reach PyPI from inside a build), then ../deploy-served.sh (certificate, Secret, image,
# manifest). kopf writes its webhook configurations once it runs:
#   examples/kopf-admission/deploy.sh
#   kubectl get validatingwebhookconfiguration notes.admission.podplane.example
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-$here/../../.venv/bin/python}
"$python" -m pip download --quiet --only-binary=:all: --dest "$here/wheels" \
  "kopf==$("$python" -c 'import importlib.metadata as m; print(m.version("kopf"))')"
exec "$here/../deploy-served.sh" "$here" kopf-admission:1 kopf-admission kopf-admission \
  kopf-admission kopf-admission.yaml
