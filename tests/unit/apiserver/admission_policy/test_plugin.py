"""The ValidatingAdmissionPolicy plugin over fake sources (policies, bindings, namespaces and
params held in memory): what a request is told, in Kubernetes' texts
(k8s.io/apiserver/pkg/admission/plugin/policy/validating dispatcher.go, validator.go;
generic/policy_dispatcher.go CollectParams; matching/matching.go)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import grpc
import pytest

from apiserver import errors
from apiserver.admission import warnings
from apiserver.admission.policy.compiled import ParamKind
from apiserver.admission.policy.matching import Matched
from apiserver.admission.policy.plugin import Sources, ValidatingAdmissionPolicy
from podplane.apimachinery import manifest
from podplane.apimachinery.json_types import JSONObject
from tests.unit.apiserver.admission_calls import admit_create, admit_delete, admit_update

GROUP = "admissionregistration.k8s.io/v1"
DEPLOYMENTS = {
    "apiGroups": ["apps"],
    "apiVersions": ["v1"],
    "operations": ["CREATE", "UPDATE"],
    "resources": ["deployments"],
}
NAMESPACES = {
    "default": {"metadata": {"name": "default", "labels": {"env": "test"}}},
    "prod": {"metadata": {"name": "prod", "labels": {"env": "prod"}}},
}


class Params:
    def __init__(self, objects: list[JSONObject], namespaced: bool = True) -> None:
        self.objects = objects
        self.namespaced = namespaced

    async def get(self, namespace: str, name: str) -> JSONObject | None:
        for o in self.objects:
            meta = o["metadata"]
            if meta["name"] == name and meta.get("namespace", "") == namespace:
                return o
        return None

    async def list(self, namespace: str) -> Sequence[JSONObject]:
        return [o for o in self.objects if o["metadata"].get("namespace", "") == namespace]


class ParamSource:
    def __init__(self, params: Params | None) -> None:
        self.params = params

    def resource(self, kind: ParamKind) -> Params | None:
        return self.params if (kind.api_version, kind.kind) == ("v1", "ConfigMap") else None


def plugin(
    policies: list[dict[str, Any]],
    bindings: list[dict[str, Any]],
    params: Params | None = None,
    allowed: bool = True,
) -> ValidatingAdmissionPolicy:
    async def namespace(name: str) -> JSONObject | None:
        return NAMESPACES.get(name)

    return ValidatingAdmissionPolicy(
        Sources(
            policies=lambda: [manifest.from_dict(p) for p in policies],
            bindings=lambda: [manifest.from_dict(b) for b in bindings],
            namespace=namespace,
            params=ParamSource(params),
            authorize=lambda user, verb, *rest: (allowed, "" if allowed else "RBAC: no"),
            authorize_path=lambda user, verb, path: allowed,
        )
    )


def policy(name: str, **spec: Any) -> dict[str, Any]:
    spec.setdefault("matchConstraints", {"resourceRules": [DEPLOYMENTS]})
    spec.setdefault("failurePolicy", "Fail")
    return {
        "apiVersion": GROUP,
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name, "resourceVersion": "1"},
        "spec": spec,
    }


def binding(name: str, policy_name: str, *actions: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": GROUP,
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": name},
        "spec": {"policyName": policy_name, "validationActions": list(actions or ["Deny"]), **spec},
    }


def deployment(name: str = "nginx", replicas: int = 6, namespace: str = "default") -> Any:
    return manifest.from_dict(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
            "spec": {"replicas": replicas},
        }
    )


REPLICAS = [{"expression": "object.spec.replicas <= 5"}]


async def refusal(p: ValidatingAdmissionPolicy, obj: Any) -> errors.APIError:
    with pytest.raises(errors.APIError) as refused:
        await admit_create(p, obj)
    return refused.value


async def test_a_false_validation_denies_with_the_failed_expression() -> None:
    p = plugin([policy("demo", validations=REPLICAS)], [binding("b", "demo")])
    err = await refusal(p, deployment())
    message = (
        "ValidatingAdmissionPolicy 'demo' with binding 'b' denied request: "
        "failed expression: object.spec.replicas <= 5"
    )
    assert (err.code, err.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "Invalid")
    assert err.message == f'deployments.apps "nginx" is forbidden: {message}'
    assert err.details == errors.Details(
        name="nginx", group="apps", kind="deployments", causes=(errors.Cause("", message),)
    )
    await admit_create(p, deployment(replicas=5))


@pytest.mark.parametrize(
    ("validation", "reason", "code", "text"),
    [
        ({"message": " too many "}, "Invalid", grpc.StatusCode.INVALID_ARGUMENT, "too many"),
        (
            {"message": "m", "messageExpression": "'got ' + string(object.spec.replicas)"},
            "Invalid",
            grpc.StatusCode.INVALID_ARGUMENT,
            "got 6",
        ),
        # A messageExpression that fails, or is not one line, falls back on the message.
        ({"message": "m", "messageExpression": "object.missing"}, "Invalid", None, "m"),
        (
            {"messageExpression": "'a\\nb'"},
            "Invalid",
            None,
            "failed expression: object.spec.replicas <= 5",
        ),
        ({"reason": "Forbidden"}, "Forbidden", grpc.StatusCode.PERMISSION_DENIED, None),
        ({"reason": "Unauthorized"}, "Unauthorized", grpc.StatusCode.UNAUTHENTICATED, None),
    ],
)
async def test_message_message_expression_and_reason(
    validation: dict[str, str], reason: str, code: grpc.StatusCode | None, text: str | None
) -> None:
    v = {"expression": "object.spec.replicas <= 5", **validation}
    p = plugin([policy("demo", validations=[v])], [binding("b", "demo")])
    err = await refusal(p, deployment())
    assert err.reason == reason
    if code is not None:
        assert err.code == code
    if text is not None:
        assert err.message.endswith(f"denied request: {text}")


async def test_variables_are_lazy_and_composed() -> None:
    p = plugin(
        [
            policy(
                "demo",
                variables=[
                    {"name": "broken", "expression": "object.missing"},
                    {"name": "replicas", "expression": "object.spec.replicas"},
                    {"name": "big", "expression": "variables.replicas > 5"},
                ],
                validations=[{"expression": "!variables.big"}],
            )
        ],
        [binding("b", "demo")],
    )
    assert (await refusal(p, deployment())).message.endswith("failed expression: !variables.big")
    await admit_create(p, deployment(replicas=2))  # `broken` is never read


async def test_an_evaluation_error_denies_under_fail_and_admits_under_ignore() -> None:
    validations = [{"expression": "object.spec.missing > 1"}]
    failing = plugin([policy("demo", validations=validations)], [binding("b", "demo")])
    err = await refusal(failing, deployment())
    assert err.message.endswith(
        "denied request: expression 'object.spec.missing > 1' resulted in error: "
        "no such key: missing"
    )
    ignoring = plugin(
        [policy("demo", validations=validations, failurePolicy="Ignore")], [binding("b", "demo")]
    )
    await admit_create(ignoring, deployment())


async def test_bindings_match_resources_and_namespace_selector() -> None:
    selector = {"namespaceSelector": {"matchLabels": {"env": "test"}}}
    p = plugin(
        [policy("demo", validations=REPLICAS)],
        [binding("b", "demo", matchResources=selector)],
    )
    await refusal(p, deployment())
    await admit_create(p, deployment(namespace="prod"))
    excluded = {"excludeResourceRules": [{**DEPLOYMENTS, "resourceNames": ["nginx"]}]}
    p = plugin(
        [policy("demo", validations=REPLICAS)], [binding("b", "demo", matchResources=excluded)]
    )
    await admit_create(p, deployment())
    await refusal(p, deployment("other"))


async def test_match_constraints_operations_and_unbound_policies() -> None:
    p = plugin([policy("demo", validations=REPLICAS)], [binding("b", "other")])
    await admit_create(p, deployment())  # no binding of this policy
    p = plugin([policy("demo", validations=[{"expression": "false"}])], [binding("b", "demo")])
    await admit_delete(p, deployment())  # DELETE is not in the rules
    await refusal(p, deployment())
    with pytest.raises(errors.APIError):
        await admit_update(p, "", deployment(), deployment())
    await admit_update(p, "status", deployment(), deployment())  # deployments/status


async def test_match_conditions() -> None:
    conditions = [{"name": "big", "expression": "object.spec.replicas > 10"}]
    p = plugin(
        [policy("demo", matchConditions=conditions, validations=[{"expression": "false"}])],
        [binding("b", "demo")],
    )
    await admit_create(p, deployment(replicas=6))
    await refusal(p, deployment(replicas=11))


def limits(namespace: str = "default", name: str = "limits", max_replicas: str = "3") -> JSONObject:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": {"use": "limits"}},
        "data": {"max": max_replicas},
    }


PARAM_POLICY = policy(
    "limit",
    paramKind={"apiVersion": "v1", "kind": "ConfigMap"},
    validations=[
        {
            "expression": "object.spec.replicas <= int(params.data.max)",
            "messageExpression": "'at most ' + params.data.max",
        }
    ],
)


async def test_params_by_name_in_the_request_namespace_or_the_ref_namespace() -> None:
    by_name = binding("b", "limit", paramRef={"name": "limits"})
    p = plugin([PARAM_POLICY], [by_name], Params([limits()]))
    assert (await refusal(p, deployment(replicas=4))).message.endswith("denied request: at most 3")
    await admit_create(p, deployment(replicas=3))
    elsewhere = binding("b", "limit", paramRef={"name": "limits", "namespace": "prod"})
    p = plugin([PARAM_POLICY], [elsewhere], Params([limits("prod", max_replicas="1")]))
    assert (await refusal(p, deployment(replicas=2))).message.endswith("at most 1")


async def test_params_by_selector_each_evaluated() -> None:
    selected = binding("b", "limit", paramRef={"selector": {"matchLabels": {"use": "limits"}}})
    objects = [limits(name="a", max_replicas="9"), limits(name="b", max_replicas="4")]
    p = plugin([PARAM_POLICY], [selected], Params(objects))
    assert (await refusal(p, deployment(replicas=5))).message.endswith("at most 4")
    await admit_create(p, deployment(replicas=4))


@pytest.mark.parametrize(
    ("action", "failure_policy", "refused"),
    [("Deny", "Fail", True), ("Allow", "Fail", False), ("Deny", "Ignore", False)],
)
async def test_a_missing_param(action: str, failure_policy: str, refused: bool) -> None:
    ref = {"name": "absent", "parameterNotFoundAction": action}
    spec = dict(PARAM_POLICY["spec"], failurePolicy=failure_policy)
    p = plugin([{**PARAM_POLICY, "spec": spec}], [binding("b", "limit", paramRef=ref)], Params([]))
    if not refused:
        await admit_create(p, deployment(replicas=50))
        return
    assert (await refusal(p, deployment())).message == (
        "deployments.apps \"nginx\" is forbidden: ValidatingAdmissionPolicy 'limit' with binding "
        "'b' denied request: failed to configure binding: no params found for policy binding "
        "with `Deny` parameterNotFoundAction"
    )


async def test_an_unknown_param_kind_fails_the_policy() -> None:
    spec = dict(PARAM_POLICY["spec"], paramKind={"apiVersion": "v1", "kind": "Secret"})
    p = plugin([{**PARAM_POLICY, "spec": spec}], [binding("b", "limit", paramRef={"name": "x"})])
    assert (await refusal(p, deployment())).message.endswith(
        "ValidatingAdmissionPolicy 'limit' denied request: failed to configure policy: failed to "
        "find resource referenced by paramKind: '/v1, Kind=Secret'"
    )


async def test_warn_and_audit_are_recorded_on_the_request() -> None:
    p = plugin(
        [
            policy(
                "demo",
                validations=[{"expression": "object.spec.replicas <= 5", "message": "too many"}],
                auditAnnotations=[
                    {"key": "replicas", "valueExpression": "string(object.spec.replicas)"}
                ],
            )
        ],
        [binding("b", "demo", "Warn", "Audit")],
    )
    with warnings.recording() as recorder:
        await admit_create(p, deployment())
    assert recorder.warnings == [
        "Validation failed for ValidatingAdmissionPolicy 'demo' with binding 'b': too many"
    ]
    failure = recorder.annotations.pop("validation.policy.admission.k8s.io/validation_failure")
    assert json.loads(failure) == [
        {
            "message": "too many",
            "policy": "demo",
            "binding": "b",
            "expressionIndex": 0,
            "validationActions": ["Warn", "Audit"],
        }
    ]
    assert recorder.annotations == {"demo/replicas": "6"}


CHECK = ".check('delete').allowed()"


async def test_the_authorizer_checks_the_requester() -> None:
    validations = [
        {"expression": "authorizer.group('apps').resource('deployments')" + CHECK},
        {"expression": "authorizer.requestResource.check('create').allowed()"},
    ]
    deny = plugin([policy("demo", validations=validations)], [binding("b", "demo")], allowed=False)
    assert (await refusal(deny, deployment())).message.endswith(
        "failed expression: authorizer.group('apps').resource('deployments').check('delete')"
        ".allowed()"
    )
    allow = plugin([policy("demo", validations=validations)], [binding("b", "demo")])
    await admit_create(allow, deployment())


async def test_request_and_namespace_object_are_bound() -> None:
    validations = [
        {"expression": "request.operation == 'CREATE' && request.kind.kind == 'Deployment'"},
        {"expression": "namespaceObject.metadata.labels['env'] == 'test'"},
        {"expression": "request.userInfo.username == ''"},
    ]
    p = plugin([policy("demo", validations=validations)], [binding("b", "demo")])
    await admit_create(p, deployment())
    assert (
        "failed expression: namespaceObject"
        in (await refusal(p, deployment(namespace="prod"))).message
    )


async def test_the_policy_kinds_themselves_are_not_checked() -> None:
    p = plugin(
        [
            policy(
                "demo",
                matchConstraints={
                    "resourceRules": [{**DEPLOYMENTS, "apiGroups": ["*"], "resources": ["*"]}]
                },
                validations=[{"expression": "false"}],
            )
        ],
        [binding("b", "demo")],
    )
    await admit_create(p, manifest.from_dict(policy("another", validations=REPLICAS)))
    await refusal(p, deployment())


async def test_object_selector_over_the_new_or_the_old_object() -> None:
    selector = {"objectSelector": {"matchLabels": {"app": "nginx"}}}
    p = plugin(
        [policy("demo", validations=REPLICAS)], [binding("b", "demo", matchResources=selector)]
    )
    await refusal(p, deployment("nginx"))
    await admit_create(p, deployment("other"))
    with pytest.raises(errors.APIError):  # the old object's labels match
        await admit_update(p, "", deployment("other"), deployment("nginx"))


async def test_match_policy_equivalent_matches_another_version_of_the_resource() -> None:
    v1beta1 = {**DEPLOYMENTS, "apiVersions": ["v1beta1"]}
    equivalent = Matched("apps", "v1beta1", "deployments", "Deployment")
    checks = [{"expression": "request.resource.version == 'v1beta1' && false"}]
    sources = plugin([policy("demo", validations=checks)], [binding("b", "demo")]).sources
    sources.equivalents = lambda _: [equivalent]
    for match_policy, refused in (("Equivalent", True), ("Exact", False)):
        constraints = {"resourceRules": [v1beta1], "matchPolicy": match_policy}
        sources.policies = lambda c=constraints: [  # type: ignore[misc]
            manifest.from_dict(policy("demo", matchConstraints=c, validations=checks))
        ]
        p = ValidatingAdmissionPolicy(sources)
        if refused:  # matched as apps/v1beta1, which request.resource says
            assert (await refusal(p, deployment())).message.endswith(
                "failed expression: request.resource.version == 'v1beta1' && false"
            )
        else:
            await admit_create(p, deployment())


async def test_a_namespaced_param_for_a_cluster_scoped_request() -> None:
    namespaced = {**DEPLOYMENTS, "apiGroups": [""], "resources": ["namespaces"]}
    spec = dict(PARAM_POLICY["spec"], matchConstraints={"resourceRules": [namespaced]})
    p = plugin([{**PARAM_POLICY, "spec": spec}], [binding("b", "limit", paramRef={"name": "x"})])
    ns = manifest.from_dict({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}})
    p.sources.params = ParamSource(Params([]))
    assert (await refusal(p, ns)).message == (
        "namespaces \"n\" is forbidden: ValidatingAdmissionPolicy 'limit' with binding 'b' "
        "denied request: failed to configure binding: cannot use namespaced paramRef in policy "
        "binding that matches cluster-scoped resources"
    )
