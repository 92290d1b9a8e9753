"""A kopf operator of a custom resource, as an operator author writes one: for every Site
(sites.operators.podplane.example, crds.yaml) it keeps a ConfigMap with the site's greeting and
a Deployment serving it, both owned by the Site (kopf.adopt: deleting the Site deletes them,
through the garbage collector), and reports them in the Site's status. Run with its peering
(not --standalone): `kopf run --all-namespaces site_operator.py` once crds.yaml and
peering.yaml are applied; in the cluster as operator.yaml deploys it (Dockerfile), or from a
shell with a kubeconfig. Its login is the official client's: in-cluster configuration in a pod,
KUBECONFIG elsewhere."""

from __future__ import annotations

from typing import Any

import kopf
import kubernetes

GROUP = "operators.podplane.example"


def _api() -> kubernetes.client.ApiClient:
    try:
        kubernetes.config.load_incluster_config()
    except kubernetes.config.ConfigException:
        kubernetes.config.load_kube_config()
    return kubernetes.client.ApiClient()


def _create_or_replace(create: Any, replace: Any, name: str, namespace: str, body: Any) -> None:
    try:
        create(namespace, body)
    except kubernetes.client.ApiException as e:
        if e.status != 409:
            raise
        replace(name, namespace, body)


@kopf.on.create(GROUP, "v1", "sites")
@kopf.on.update(GROUP, "v1", "sites")
def reconcile(
    spec: kopf.Spec,
    name: str,
    namespace: str | None,
    body: kopf.Body,
    patch: kopf.Patch,
    **_: Any,
) -> None:
    assert namespace is not None  # Sites are namespaced
    configmap: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"{name}-greeting"},
        "data": {"greeting": spec["greeting"]},
    }
    labels = {"app.kubernetes.io/name": name}
    deployment: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": spec.get("replicas", 1),
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {
                            "name": "site",
                            "image": "busybox",
                            "command": ["sh", "-c", "cat /greeting/greeting; echo; sleep 3600"],
                            "volumeMounts": [{"name": "greeting", "mountPath": "/greeting"}],
                        }
                    ],
                    "volumes": [{"name": "greeting", "configMap": {"name": f"{name}-greeting"}}],
                },
            },
        },
    }
    kopf.adopt([configmap, deployment], owner=body)
    with _api() as api:
        core, apps = kubernetes.client.CoreV1Api(api), kubernetes.client.AppsV1Api(api)
        _create_or_replace(
            core.create_namespaced_config_map,
            core.replace_namespaced_config_map,
            configmap["metadata"]["name"],
            namespace,
            configmap,
        )
        _create_or_replace(
            apps.create_namespaced_deployment,
            apps.patch_namespaced_deployment,
            name,
            namespace,
            deployment,
        )
    patch.status["phase"] = "Ready"
    patch.status["configMap"] = configmap["metadata"]["name"]
    patch.status["deployment"] = name
    kopf.info(body, reason="Reconciled", message=f"ConfigMap {name}-greeting, Deployment {name}")
