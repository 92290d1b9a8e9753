#!/bin/bash
# The aggregated API example on the running cluster (../deploy-served.sh says how):
#   examples/aggregated-api/deploy.sh
#   kubectl get flunders
exec "$(dirname "$0")/../deploy-served.sh" "$(dirname "$0")" aggregated-api:1 \
  wardle api apiserver aggregated-api.yaml
