#!/bin/bash
# The admission webhook example on the running cluster (../deploy-served.sh says how):
#   examples/admission-webhook/deploy.sh
#   kubectl label namespace default example.podplane.io/webhook=enabled
exec "$(dirname "$0")/../deploy-served.sh" "$(dirname "$0")" admission-webhook:1 \
  webhook-example webhook webhook webhook.yaml
