"""What a default Kubernetes 1.31 cluster's API and policy give a user, on the compose cluster:
`kubectl get cs` probing the real scheduler, controller-manager and etcd; a service account
bound to system:auth-delegator creating TokenReviews; a FlowSchema taking effect on the next
request; the service-account issuer's documents verifying a projected token with a JWT
library."""

from __future__ import annotations

import json
import re
import secrets
import time

import jwt

from tests.e2e.kubectl import VIEWER_KUBECONFIG, Kubectl

WARNING = "Warning: v1 ComponentStatus is deprecated in v1.19+\n"


def test_kubectl_get_cs_reports_each_component_healthy() -> None:
    result = Kubectl().run("get", "cs")
    assert result.code == 0, result
    assert result.err == WARNING  # once
    header, *rows = result.out.splitlines()
    assert header.split() == ["NAME", "STATUS", "MESSAGE", "ERROR"]
    assert sorted(row.split()[:2] for row in rows) == [
        ["controller-manager", "Healthy"],
        ["etcd-0", "Healthy"],
        ["scheduler", "Healthy"],
    ]


def test_a_service_account_bound_to_auth_delegator_reviews_tokens(
    kubectl_namespace: str,
) -> None:
    kubectl = Kubectl(kubectl_namespace)
    kubectl.ok("create", "serviceaccount", "delegator")
    account = f"system:serviceaccount:{kubectl_namespace}:delegator"
    token = kubectl.ok("create", "token", "delegator").strip()
    review = json.dumps(
        {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}}
    )
    # --validate=false: kubectl's own check of a kind without PATCH (TokenReview) lists CRDs,
    # which the account may not, against Kubernetes as here; the server validates anyway.
    create = ("create", "--validate=false", "-o", "json", "-f", "-", f"--as={account}")
    refused = kubectl.run(*create, stdin=review)
    assert refused.code == 1
    assert refused.err == (
        f'Error from server (Forbidden): error when creating "STDIN": tokenreviews.authentication'
        f'.k8s.io is forbidden: User "{account}" cannot create resource "tokenreviews" in API '
        'group "authentication.k8s.io" at the cluster scope\n'
    )
    binding = f"e2e-delegator-{secrets.token_hex(3)}"
    kubectl.ok(
        "create", "clusterrolebinding", binding, "--clusterrole=system:auth-delegator",
        f"--serviceaccount={kubectl_namespace}:delegator",
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while (made := kubectl.run(*create, stdin=review)).code != 0:
            assert time.monotonic() < deadline, made
            time.sleep(0.5)
        status = json.loads(made.out)["status"]
        assert (status["authenticated"], status["user"]["username"]) == (True, account)
    finally:
        kubectl.ok("delete", "clusterrolebinding", binding)


def test_a_flow_schema_takes_effect_on_the_next_request() -> None:
    admin = Kubectl()
    name = f"e2e-viewers-{secrets.token_hex(3)}"
    schema = {
        "apiVersion": "flowcontrol.apiserver.k8s.io/v1",
        "kind": "FlowSchema",
        "metadata": {"name": name},
        "spec": {
            "priorityLevelConfiguration": {"name": "workload-low"},
            "matchingPrecedence": 600,
            "distinguisherMethod": {"type": "ByUser"},
            "rules": [
                {
                    "subjects": [{"kind": "Group", "group": {"name": "viewers"}}],
                    "resourceRules": [
                        {
                            "verbs": ["*"],
                            "apiGroups": ["*"],
                            "resources": ["*"],
                            "clusterScope": True,
                            "namespaces": ["*"],
                        }
                    ],
                }
            ],
        },
    }
    admin.ok("create", "-f", "-", stdin=json.dumps(schema))
    try:
        uid = admin.ok("get", "flowschema", name, "-o", "jsonpath={.metadata.uid}")
        viewer = Kubectl("default", kubeconfig=VIEWER_KUBECONFIG)
        deadline = time.monotonic() + 30
        while True:
            # kubectl -v=8 prints each response's headers.
            answer = viewer.run("get", "pods", "-v=8")
            assert answer.code == 0, answer
            schemas = re.findall(r"X-Kubernetes-Pf-Flowschema-Uid: (\S+)", answer.err)
            if schemas and schemas[-1] == uid:
                break
            assert time.monotonic() < deadline, schemas
            time.sleep(0.5)
        level = admin.ok("get", "prioritylevelconfiguration", "workload-low",
                         "-o", "jsonpath={.metadata.uid}")  # fmt: skip
        levels = re.findall(r"X-Kubernetes-Pf-Prioritylevel-Uid: (\S+)", answer.err)
        assert levels[-1] == level
    finally:
        admin.ok("delete", "flowschema", name)


def test_the_issuer_documents_verify_a_projected_token(kubectl_namespace: str) -> None:
    kubectl = Kubectl(kubectl_namespace)
    token = kubectl.ok("create", "token", "default", "--audience", "vault").strip()
    config = json.loads(kubectl.ok("get", "--raw", "/.well-known/openid-configuration"))
    keys = jwt.PyJWKSet.from_dict(json.loads(kubectl.ok("get", "--raw", "/openid/v1/jwks")))
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in keys.keys if k.key_id == kid)
    claims = jwt.decode(
        token,
        key=key.key,
        algorithms=config["id_token_signing_alg_values_supported"],
        audience="vault",
        issuer=config["issuer"],
    )
    assert claims["sub"] == f"system:serviceaccount:{kubectl_namespace}:default"
