"""The ValidatingAdmissionPolicy plugin's cost per request, two ways, each without and with the
Kubernetes docs' first policy and its binding (matched, evaluated, admitted):

- the plugin alone, in process (no etcd, no doors): a Deployment create's validating admission,
  N times;
- creates/s of Deployments through the gRPC door of an apiserver run in this process over a
  real etcd (bench.common.processes), one client at a time, N creates each.

    nice -n 19 .venv/bin/python -m bench.apiserver.admission_policy [N]
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

from apiserver.admission.attributes import for_create
from apiserver.admission.policy.compiled import ParamKind
from apiserver.admission.policy.plugin import Sources, ValidatingAdmissionPolicy
from apiserver.server import APIServer
from bench.common.processes import EtcdProcess
from podplane.api.admissionregistration.v1 import admissionregistration_pb2 as admreg_pb2
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest, resources
from podplane.apimachinery.json_types import JSONObject
from podplane.client.clientset import Client

GROUP = "admissionregistration.k8s.io/v1"
POLICY = {
    "apiVersion": GROUP,
    "kind": "ValidatingAdmissionPolicy",
    "metadata": {"name": "demo-policy.example.com", "resourceVersion": "1"},
    "spec": {
        "failurePolicy": "Fail",
        "matchConstraints": {
            "resourceRules": [
                {
                    "apiGroups": ["apps"],
                    "apiVersions": ["v1"],
                    "operations": ["CREATE", "UPDATE"],
                    "resources": ["deployments"],
                }
            ]
        },
        "validations": [{"expression": "object.spec.replicas <= 5"}],
    },
}
BINDING = {
    "apiVersion": GROUP,
    "kind": "ValidatingAdmissionPolicyBinding",
    "metadata": {"name": "demo-binding-test.example.com"},
    "spec": {
        "policyName": "demo-policy.example.com",
        "validationActions": ["Deny"],
        "matchResources": {"namespaceSelector": {"matchLabels": {"environment": "test"}}},
    },
}


class NoParams:
    def resource(self, kind: ParamKind) -> None:
        return None


def plugin(with_policy: bool) -> ValidatingAdmissionPolicy:
    policies = [manifest.from_dict(POLICY)] if with_policy else []
    bindings = [manifest.from_dict(BINDING)] if with_policy else []
    namespace: JSONObject = {"metadata": {"name": "test", "labels": {"environment": "test"}}}

    async def get_namespace(name: str) -> JSONObject | None:
        return namespace

    return ValidatingAdmissionPolicy(
        Sources(lambda: policies, lambda: bindings, get_namespace, NoParams())
    )


async def per_request(with_policy: bool, n: int) -> float:
    obj: Any = manifest.from_dict(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "nginx", "namespace": "test"},
            "spec": {"replicas": 3},
        }
    )
    attrs = for_create(resources.by_message(obj), obj, dry_run=False)
    p = plugin(with_policy)
    await p.validate(attrs)  # compiles the policy once
    start = time.perf_counter()
    for _ in range(n):
        await p.validate(attrs)
    return (time.perf_counter() - start) / n


def _deployment(name: str, namespace: str) -> apps_pb2.Deployment:
    obj = manifest.from_dict(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"app": "bench"}},
                "template": {
                    "metadata": {"labels": {"app": "bench"}},
                    "spec": {"containers": [{"name": "c", "image": "nginx"}]},
                },
            },
        }
    )
    assert isinstance(obj, apps_pb2.Deployment)
    return obj


async def _creates_per_second(client: Client, namespace: str, prefix: str, n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        await client.deployments.create(_deployment(f"{prefix}-{i}", namespace))
    return n / (time.perf_counter() - start)


async def _set_policy(client: Client, present: bool) -> None:
    policy = manifest.from_dict(POLICY)
    binding = manifest.from_dict(BINDING)
    assert isinstance(policy, admreg_pb2.ValidatingAdmissionPolicy)
    assert isinstance(binding, admreg_pb2.ValidatingAdmissionPolicyBinding)
    if present:
        await client.validatingadmissionpolicies.create(policy)
        await client.validatingadmissionpolicybindings.create(binding)
    else:
        await client.validatingadmissionpolicybindings.delete(binding.metadata.name)
        await client.validatingadmissionpolicies.delete(policy.metadata.name)
    await asyncio.sleep(1.0)  # the watch caches follow


async def creates_per_second(n: int, rounds: int = 3) -> tuple[list[float], list[float]]:
    """Deployment creates/s without and with the docs' policy, in alternating rounds (the
    namespace labelled environment=test, so that the binding matches)."""
    etcd = EtcdProcess.start()
    server = APIServer([etcd.endpoint], "127.0.0.1:0", compaction_interval=0)
    without: list[float] = []
    with_policy: list[float] = []
    try:
        await server.start(etcd_timeout=20)
        client = Client(f"127.0.0.1:{server.port}", timeout=30)
        ns = manifest.from_dict(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": "bench", "labels": {"environment": "test"}},
            }
        )
        assert isinstance(ns, core_pb2.Namespace)
        await client.namespaces.create(ns)
        await _creates_per_second(client, "bench", "warm", 50)
        for r in range(rounds):
            without.append(await _creates_per_second(client, "bench", f"a{r}", n))
            await _set_policy(client, True)
            with_policy.append(await _creates_per_second(client, "bench", f"b{r}", n))
            await _set_policy(client, False)
        await client.close()
        return without, with_policy
    finally:
        await server.stop(0)
        etcd.stop()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    for with_policy in (False, True):
        seconds = asyncio.run(per_request(with_policy, n))
        label = "one policy and binding" if with_policy else "no policy"
        print(f"plugin, {label}: {seconds * 1e6:.0f} µs per request ({n} requests)")
    without, policy = asyncio.run(creates_per_second(min(n, 500)))
    print("apiserver, Deployment creates/s, 1 client, rounds alternating:")
    print(f"  no policy: {', '.join(f'{x:.0f}' for x in without)}")
    print(f"  the docs' policy and binding: {', '.join(f'{x:.0f}' for x in policy)}")


if __name__ == "__main__":
    main()
