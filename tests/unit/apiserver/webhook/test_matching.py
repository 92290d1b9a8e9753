"""Which webhooks a request is sent to, as kube-apiserver decides: the rules (operations,
groups, versions, resources and subresources with their wildcards, scope), the namespace and
object selectors, matchPolicy Equivalent, and matchConditions in CEL with Kubernetes' texts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import pytest

from apiserver.webhook.admission_review import (
    AdmissionRequest,
    GroupVersionKind,
    GroupVersionResource,
    UserInfo,
)
from apiserver.webhook.errors import StatusError
from apiserver.webhook.matching import Equivalent, Webhook, should_call, webhook_from_json
from apiserver.webhook.rules import RequestedResource, Rule, is_exempt, rule_matches
from podplane.apimachinery.json_types import JSONObject

POD = GroupVersionResource("", "v1", "pods")
POD_KIND = GroupVersionKind("", "v1", "Pod")
NAMESPACES = GroupVersionResource("", "v1", "namespaces")
NAMESPACE_KIND = GroupVersionKind("", "v1", "Namespace")


def rule(
    operations: str = "*",
    groups: str = "*",
    versions: str = "*",
    resources: str = "*",
    scope: str = "*",
) -> Rule:
    return Rule(
        tuple(operations.split(",")),
        tuple(groups.split(",")),
        tuple(versions.split(",")),
        tuple(resources.split(",")),
        scope,
    )


def requested(
    resource: str = "pods",
    sub: str = "",
    operation: str = "CREATE",
    namespace: str = "default",
    group: str = "",
    version: str = "v1",
) -> RequestedResource:
    return RequestedResource(group, version, resource, sub, operation, namespace)


@pytest.mark.parametrize(
    ("the_rule", "request_", "matches"),
    [
        (rule(operations="CREATE"), requested(), True),
        (rule(operations="UPDATE,DELETE"), requested(), False),
        (rule(operations="*"), requested(operation="CONNECT"), True),
        (rule(groups="apps"), requested(), False),
        (rule(groups=""), requested(), True),
        (rule(groups="apps", versions="v1"), requested("deployments", group="apps"), True),
        (rule(versions="v1beta1"), requested(), False),
        (rule(resources="pods"), requested(), True),
        (rule(resources="pods"), requested(sub="status"), False),
        (rule(resources="*"), requested(sub="status"), False),
        (rule(resources="pods/status"), requested(sub="status"), True),
        (rule(resources="pods/status"), requested(sub="exec"), False),
        (rule(resources="*/status"), requested("deployments", "status"), True),
        (rule(resources="pods/*"), requested(sub="eviction"), True),
        (rule(resources="pods/*"), requested(), True),
        (rule(resources="*/*"), requested("services", "proxy"), True),
        (rule(resources="configmaps,pods"), requested(), True),
        (rule(scope="Namespaced"), requested(), True),
        (rule(scope="Namespaced"), requested("nodes", namespace=""), False),
        (rule(scope="Namespaced"), requested("namespaces", namespace="team-a"), False),
        (rule(scope="Cluster"), requested("namespaces", namespace="team-a"), True),
        (rule(scope="Cluster"), requested("nodes", namespace=""), True),
        (rule(scope="Cluster"), requested(), False),
    ],
)
def test_a_rule_matches_as_kubernetes_rules_do(
    the_rule: Rule, request_: RequestedResource, matches: bool
) -> None:
    assert rule_matches(the_rule, request_) is matches


async def test_the_admission_configuration_kinds_are_exempt() -> None:
    assert is_exempt("admissionregistration.k8s.io", "ValidatingWebhookConfiguration")
    assert not is_exempt("admissionregistration.k8s.io", "Whatever")
    assert not is_exempt("", "Pod")


def pod(labels: Mapping[str, str] | None = None) -> JSONObject:
    metadata: JSONObject = {"name": "web", "namespace": "default"}
    if labels is not None:
        metadata["labels"] = dict(labels)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata}


CREATE_POD = AdmissionRequest(
    uid="",
    kind=POD_KIND,
    resource=POD,
    operation="CREATE",
    user_info=UserInfo("alice", groups=("devs",)),
    name="web",
    namespace="default",
    object=pod({"app": "web"}),
)
NAMESPACE_LABELS = {"default": {"env": "prod"}, "team-a": {"env": "dev"}}


def rules_json(
    operation: str = "*", group: str = "*", version: str = "*", resource: str = "*"
) -> list[JSONObject]:
    return [
        {
            "operations": [operation],
            "apiGroups": [group],
            "apiVersions": [version],
            "resources": [resource],
        }
    ]


def hook(**fields: object) -> Webhook:
    obj: JSONObject = {
        "name": "check.example.com",
        "clientConfig": {"url": "https://example.com/check"},
        "rules": rules_json(),
        **fields,
    }
    return webhook_from_json(obj)


async def labels_of(namespace: str) -> Mapping[str, str] | None:
    return NAMESPACE_LABELS.get(namespace)


async def called(webhook: Webhook, attrs: AdmissionRequest = CREATE_POD) -> bool:
    return await should_call(webhook, attrs, labels_of) is not None


def test_a_webhooks_json_gets_the_apis_defaults() -> None:
    webhook = hook()
    assert (webhook.failure_policy, webhook.match_policy, webhook.timeout_seconds) == (
        "Fail",
        "Equivalent",
        10,
    )
    assert webhook.rules == (rule(),)


PROD = {"matchLabels": {"env": "prod"}}
NOT_PROD = {"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["prod"]}]}
CREATE_NODE = replace(
    CREATE_POD, resource=GroupVersionResource("", "v1", "nodes"), name="n1", namespace=""
)
CREATE_NAMESPACE = replace(
    CREATE_POD,
    kind=NAMESPACE_KIND,
    resource=NAMESPACES,
    name="fresh",
    namespace="fresh",
    object={"metadata": {"name": "fresh", "labels": {"env": "new"}}},
)
DELETE_NAMESPACE = replace(
    CREATE_NAMESPACE, operation="DELETE", name="team-a", namespace="team-a", object=None
)


@pytest.mark.parametrize(
    ("selector", "attrs", "matches"),
    [
        ({}, CREATE_POD, True),
        (PROD, CREATE_POD, True),
        ({"matchLabels": {"env": "dev"}}, CREATE_POD, False),
        (NOT_PROD, CREATE_POD, False),
        ({"matchExpressions": [{"key": "env", "operator": "Exists"}]}, CREATE_POD, True),
        (PROD, CREATE_NODE, True),  # a cluster-scoped object is never exempted
        ({"matchLabels": {"env": "new"}}, CREATE_NAMESPACE, True),  # by its own labels
        (PROD, DELETE_NAMESPACE, False),  # a Namespace deleted: by its stored labels
    ],
)
async def test_the_namespace_selector_looks_at_the_namespaces_labels(
    selector: JSONObject, attrs: AdmissionRequest, matches: bool
) -> None:
    assert await called(hook(namespaceSelector=selector), attrs) is matches


async def test_a_missing_namespace_is_not_found_for_a_webhook_whose_rules_match() -> None:
    in_missing = replace(CREATE_POD, namespace="gone")
    with pytest.raises(StatusError) as caught:
        await called(hook(namespaceSelector=PROD), in_missing)
    assert (caught.value.status["code"], str(caught.value)) == (404, 'namespaces "gone" not found')
    other_rules = hook(namespaceSelector=PROD, rules=rules_json(operation="DELETE"))
    assert not await called(other_rules, in_missing)


@pytest.mark.parametrize(
    ("new", "old", "matches"),
    [
        (pod({"app": "web"}), None, True),
        (pod({"app": "db"}), None, False),
        (pod(), None, False),
        (pod({"app": "db"}), pod({"app": "web"}), True),  # the old object's labels count too
        (None, pod({"app": "web"}), True),  # a DELETE
    ],
)
async def test_the_object_selector_looks_at_the_new_and_the_old_object(
    new: JSONObject | None, old: JSONObject | None, matches: bool
) -> None:
    attrs = replace(CREATE_POD, object=new, old_object=old)
    assert await called(hook(objectSelector={"matchLabels": {"app": "web"}}), attrs) is matches


async def test_an_equivalent_resource_is_matched_under_match_policy_equivalent() -> None:
    v1beta1 = GroupVersionResource("apps", "v1beta1", "deployments")
    v1beta1_kind = GroupVersionKind("apps", "v1beta1", "Deployment")
    attrs = replace(
        CREATE_POD,
        kind=GroupVersionKind("apps", "v1", "Deployment"),
        resource=GroupVersionResource("apps", "v1", "deployments"),
    )
    rules = rules_json("CREATE", "apps", "v1beta1", "deployments")
    equivalents = [Equivalent(attrs.resource, attrs.kind), Equivalent(v1beta1, v1beta1_kind)]
    invocation = await should_call(hook(rules=rules), attrs, labels_of, equivalents)
    assert invocation is not None
    assert (invocation.resource, invocation.kind) == (v1beta1, v1beta1_kind)
    exact = hook(rules=rules, matchPolicy="Exact")
    assert await should_call(exact, attrs, labels_of, equivalents) is None


def conditions(*expressions: str) -> list[JSONObject]:
    return [{"name": f"c{i}", "expression": e} for i, e in enumerate(expressions)]


@pytest.mark.parametrize(
    ("expressions", "matches"),
    [
        (["object.metadata.labels.app == 'web'"], True),
        (["request.userInfo.username == 'alice'", "'devs' in request.userInfo.groups"], True),
        (["request.operation == 'UPDATE'"], False),
        (
            ["oldObject == null", "request.kind.kind == 'Pod'", "request.namespace == 'default'"],
            True,
        ),
        # One false skips the webhook, even beside an error.
        (["object.spec.replicas > 1", "request.dryRun"], False),
    ],
)
async def test_match_conditions_decide_in_cel(expressions: list[str], matches: bool) -> None:
    assert await called(hook(matchConditions=conditions(*expressions))) is matches


FORBIDDEN = 'pods "web" is forbidden: '
NO_SPEC = "expression 'object.spec.replicas > 1' resulted in error: no such key: spec"
NOT_BOOL = "compilation error: must evaluate to bool"
UNDEFINED = (
    "compilation error: compilation failed: ERROR: <input>:1:8: undefined field 'nope'\n"
    " | request.nope == 1\n"
    " | .......^"
)
NO_B = "expression 'object.b == 1' resulted in error: no such key: b"


@pytest.mark.parametrize(
    ("expressions", "message"),
    [
        (["object.spec.replicas > 1"], FORBIDDEN + NO_SPEC),
        (["object.metadata.name"], FORBIDDEN + NOT_BOOL),
        (["request.nope == 1"], FORBIDDEN + UNDEFINED),
        (["object.a", "object.b == 1", "true"], FORBIDDEN + f"[{NOT_BOOL}, {NO_B}]"),
    ],
)
async def test_a_condition_that_errs_fails_the_request_under_failure_policy_fail(
    expressions: list[str], message: str
) -> None:
    with pytest.raises(StatusError) as caught:
        await called(hook(matchConditions=conditions(*expressions)))
    assert (caught.value.status["code"], str(caught.value)) == (403, message)
    assert not await called(hook(matchConditions=conditions(*expressions), failurePolicy="Ignore"))


async def test_the_namespace_is_looked_up_only_for_a_namespace_selector() -> None:
    asked: list[str] = []

    async def lookup(namespace: str) -> Mapping[str, str] | None:
        asked.append(namespace)
        return NAMESPACE_LABELS.get(namespace)

    assert await should_call(hook(), CREATE_POD, lookup) is not None
    assert asked == []
    assert await should_call(hook(namespaceSelector=PROD), CREATE_POD, lookup) is not None
    assert asked == ["default"]
