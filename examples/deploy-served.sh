#!/bin/bash
# Deploys an example that the apiserver calls over HTTPS (admission-webhook, aggregated-api) on
# the running cluster (build/kubeconfig), as its README says:
#   deploy-served.sh FOLDER IMAGE NAMESPACE SERVICE DEPLOYMENT MANIFEST
# A CA and a serving certificate for SERVICE.NAMESPACE.svc (openssl, into FOLDER/tls, kept for
# the next time), the Secret DEPLOYMENT-tls (tls.crt, tls.key, ca.crt), the image built from FOLDER and put on the nodes,
# then MANIFEST with the CA in place of CA_BUNDLE; waits for the Deployment to be available.
set -euo pipefail
folder=$(cd "$1" && pwd) image=$2 namespace=$3 service=$4 deployment=$5 manifest=$6
root=$(cd "$(dirname "$0")/.." && pwd)
export KUBECONFIG=${KUBECONFIG:-$root/build/kubeconfig}
name=$service.$namespace.svc tls=$folder/tls
mkdir -p "$tls"
if [[ ! -s $tls/tls.crt ]]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=$image-ca" \
    -keyout "$tls/ca.key" -out "$tls/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$name" \
    -keyout "$tls/tls.key" -out "$tls/tls.csr" 2>/dev/null
  openssl x509 -req -in "$tls/tls.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -CAcreateserial \
    -days 365 -extfile <(printf 'subjectAltName=DNS:%s,DNS:%s.%s\n' "$name" "$service" "$namespace") \
    -out "$tls/tls.crt" 2>/dev/null
fi
docker build -q -t "$image" "$folder" >/dev/null
make -C "$root" --no-print-directory load-image IMAGE="$image" >/dev/null
kubectl create namespace "$namespace" --dry-run=client -o yaml | kubectl apply -f -
# A TLS Secret with the CA beside the certificate, as cert-manager writes them (kopf gives ca.crt
# to the apiserver as its webhooks' caBundle).
kubectl -n "$namespace" create secret generic "$deployment-tls" --type=kubernetes.io/tls \
  --from-file="tls.crt=$tls/tls.crt" --from-file="tls.key=$tls/tls.key" \
  --from-file="ca.crt=$tls/ca.crt" --dry-run=client -o yaml | kubectl apply -f -
sed "s|CA_BUNDLE|$(base64 -w0 <"$tls/ca.crt")|" "$folder/$manifest" | kubectl apply -f -
kubectl -n "$namespace" rollout status "deployment/$deployment" --timeout=180s
