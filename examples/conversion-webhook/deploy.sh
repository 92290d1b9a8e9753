#!/bin/bash
# The conversion webhook example on the running cluster (../deploy-served.sh says how):
#   examples/conversion-webhook/deploy.sh
#   kubectl wait --for condition=established crd/crontabs.convert.example.com
exec "$(dirname "$0")/../deploy-served.sh" "$(dirname "$0")" conversion-webhook:1 \
  conversion-example converter converter conversion.yaml
