"""A program that talks to the cluster from inside it, as controllers and operators do: the
official Python client's in-cluster configuration (the service account token, ca.crt and
namespace the kubelet mounts at /var/run/secrets/kubernetes.io/serviceaccount, and
KUBERNETES_SERVICE_HOST/PORT). Every 2 s it lists the pods of its own namespace and of
OTHER_NAMESPACE, and prints one JSON line of what each answered."""

import json
import os
import time

from kubernetes import client, config
from kubernetes.client.rest import ApiException

SERVICE_ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"


def attempt(core: client.CoreV1Api, namespace: str) -> str:
    try:
        pods = core.list_namespaced_pod(namespace)
    except ApiException as e:
        return f"{e.status} {json.loads(e.body)['message']}"
    return f"ok {len(pods.items)} pods"


def main() -> None:
    config.load_incluster_config()
    with open(f"{SERVICE_ACCOUNT}/namespace") as f:
        own = f.read().strip()
    other = os.environ.get("OTHER_NAMESPACE", "default")
    core = client.CoreV1Api()
    while True:
        print(json.dumps({"own": attempt(core, own), "other": attempt(core, other)}), flush=True)
        time.sleep(2)


if __name__ == "__main__":
    main()
