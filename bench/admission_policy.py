"""The ValidatingAdmissionPolicy plugin's cost per request, in process (no etcd, no doors): a
Deployment create's validating admission through the plugin with no policy, and with the
Kubernetes docs' first policy and its binding (matched, evaluated, admitted), N times each.

    nice -n 19 .venv/bin/python -m bench.admission_policy [N]
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

from apiserver.admission.attributes import for_create
from apiserver.admission.policy.compiled import ParamKind
from apiserver.admission.policy.plugin import Sources, ValidatingAdmissionPolicy
from podplane.apimachinery import manifest, resources
from podplane.apimachinery.json_types import JSONObject

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


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    for with_policy in (False, True):
        seconds = asyncio.run(per_request(with_policy, n))
        label = "one policy and binding" if with_policy else "no policy"
        print(f"{label}: {seconds * 1e6:.0f} µs per request ({n} requests)")


if __name__ == "__main__":
    main()
