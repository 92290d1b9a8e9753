"""MutatingWebhookConfiguration and ValidatingWebhookConfiguration rules in Kubernetes' words
(pkg/apis/admissionregistration/validation/validation.go, k8s.io/apiserver's webhook URL and
service checks), after the server's defaults (pkg/apis/admissionregistration/v1/defaults.go)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from apiserver.registry.strategy import STRATEGIES
from podplane.api.admissionregistration.v1 import admissionregistration_pb2 as admreg_pb2
from podplane.apimachinery import codec, manifest

RULE = {"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}
HOOK: dict[str, Any] = {
    "name": "pods.policy.example.com",
    "clientConfig": {"service": {"namespace": "policy", "name": "hook"}},
    "rules": [RULE],
    "sideEffects": "None",
    "admissionReviewVersions": ["v1"],
}


def configuration(kind: str, *hooks: dict[str, Any]) -> Any:
    obj = manifest.from_dict(
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": kind,
            "metadata": {"name": "policy"},
            "webhooks": list(hooks),
        }
    )
    STRATEGIES[type(obj).__name__.lower() + "s"].default(obj)
    return obj


def hook(**changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(HOOK)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def errors(kind: str, *hooks: dict[str, Any]) -> list[str]:
    obj = configuration(kind, *hooks)
    return [str(e) for e in STRATEGIES[type(obj).__name__.lower() + "s"].validate(obj)]


BOTH = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
URL_FORM = "; desired format: https://host[/path]"


@pytest.mark.parametrize("kind", BOTH)
@pytest.mark.parametrize(
    "hooks, want",
    [
        ([hook()], []),
        ([hook(clientConfig={"url": "https://hooks.example.com:8443/validate"})], []),
        ([hook(name="")], ["webhooks[0].name: Required value"]),
        (
            [hook(name="policy.example")],
            [
                'webhooks[0].name: Invalid value: "policy.example": should be a domain with at '
                "least three segments separated by dots"
            ],
        ),
        (
            [hook(), hook()],
            ['webhooks[1].name: Duplicate value: "pods.policy.example.com"'],
        ),
        (
            [hook(sideEffects=None)],
            ["webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun"],
        ),
        (
            [hook(sideEffects="Some")],
            [
                'webhooks[0].sideEffects: Unsupported value: "Some": supported values: '
                '"None", "NoneOnDryRun"'
            ],
        ),
        (
            [hook(admissionReviewVersions=[])],
            [
                "webhooks[0].admissionReviewVersions: Required value: must specify one of v1, "
                "v1beta1"
            ],
        ),
        (
            [hook(admissionReviewVersions=["v2"])],
            [
                'webhooks[0].admissionReviewVersions: Invalid value: []string{"v2"}: must '
                "include at least one of v1, v1beta1"
            ],
        ),
        (
            [hook(admissionReviewVersions=["v1", "v1"])],
            ['webhooks[0].admissionReviewVersions[1]: Invalid value: "v1": duplicate version'],
        ),
        (
            [hook(timeoutSeconds=31)],
            [
                "webhooks[0].timeoutSeconds: Invalid value: 31: the timeout value must be "
                "between 1 and 30 seconds"
            ],
        ),
        (
            [hook(clientConfig={})],
            ["webhooks[0].clientConfig: Required value: exactly one of url or service is required"],
        ),
        (
            [
                hook(
                    clientConfig={
                        "url": "https://a.example.com",
                        "service": HOOK["clientConfig"]["service"],
                    }
                )
            ],
            ["webhooks[0].clientConfig: Required value: exactly one of url or service is required"],
        ),
        (
            [hook(clientConfig={"url": "http://user:pw@hooks.example.com/x?a=b#f"})],
            [
                f"webhooks[0].clientConfig.url: Invalid value: \"http\": 'https' is the only "
                f"allowed URL scheme{URL_FORM}",
                'webhooks[0].clientConfig.url: Invalid value: "user:pw": user information is '
                "not permitted in the URL",
                'webhooks[0].clientConfig.url: Invalid value: "f": fragments are not permitted '
                "in the URL",
                'webhooks[0].clientConfig.url: Invalid value: "a=b": query parameters are not '
                "permitted in the URL",
            ],
        ),
        (
            [hook(clientConfig={"url": "https:///no-host"})],
            [f'webhooks[0].clientConfig.url: Invalid value: "": host must be specified{URL_FORM}'],
        ),
        (
            [
                hook(
                    clientConfig={
                        "service": {"namespace": "", "name": "", "port": 0, "path": "/a//B"}
                    }
                )
            ],
            [
                "webhooks[0].clientConfig.service.name: Required value: service name is required",
                "webhooks[0].clientConfig.service.namespace: Required value: service namespace "
                "is required",
                "webhooks[0].clientConfig.service.port: Invalid value: 0: port is not valid: "
                "must be between 1 and 65535, inclusive",
                'webhooks[0].clientConfig.service.path: Invalid value: "/a//B": segment[1] may '
                "not be empty",
                'webhooks[0].clientConfig.service.path: Invalid value: "/a//B": segment[2]: a '
                "lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                "characters, '-' or '.', and must start and end with an alphanumeric character "
                "(e.g. 'example.com', regex used for validation is "
                "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
            ],
        ),
        (
            [hook(failurePolicy="Maybe", matchPolicy="Loose")],
            [
                'webhooks[0].failurePolicy: Unsupported value: "Maybe": supported values: '
                '"Fail", "Ignore"',
                'webhooks[0].matchPolicy: Unsupported value: "Loose": supported values: '
                '"Equivalent", "Exact"',
            ],
        ),
    ],
)
def test_webhooks(kind: str, hooks: list[dict[str, Any]], want: list[str]) -> None:
    assert errors(kind, *hooks) == want


@pytest.mark.parametrize(
    "rule, want",
    [
        ({**RULE, "resources": ["pods", "pods/status", "*/scale"]}, []),
        ({**RULE, "resources": ["*/*"], "scope": "Namespaced"}, []),
        (
            {**RULE, "operations": ["*", "CREATE"]},
            [
                "webhooks[0].rules[0].operations: Invalid value: "
                '[]admissionregistration.OperationType{"*", "CREATE"}: if \'*\' is present, '
                "must not specify other operations"
            ],
        ),
        (
            {**RULE, "operations": ["PATCH"]},
            [
                'webhooks[0].rules[0].operations[0]: Unsupported value: "PATCH": supported '
                'values: "*", "CONNECT", "CREATE", "DELETE", "UPDATE"'
            ],
        ),
        (
            {**RULE, "apiGroups": [], "apiVersions": ["*", "v1"]},
            [
                "webhooks[0].rules[0].apiGroups: Required value",
                'webhooks[0].rules[0].apiVersions: Invalid value: []string{"*", "v1"}: if \'*\' '
                "is present, must not specify other API versions",
            ],
        ),
        (
            {**RULE, "resources": ["*/*", "pods"]},
            [
                'webhooks[0].rules[0].resources: Invalid value: []string{"*/*", "pods"}: if '
                "'*/*' is present, must not specify other resources"
            ],
        ),
        (
            {**RULE, "resources": ["pods/*", "pods/log"]},
            [
                "webhooks[0].rules[0].resources[1]: Invalid value: \"pods/log\": if 'pods/*' is "
                "present, must not specify pods/log"
            ],
        ),
        (
            {**RULE, "resources": ["*", "pods"]},
            [
                'webhooks[0].rules[0].resources: Invalid value: []string{"*", "pods"}: if \'*\' '
                "is present, must not specify other resources without subresources"
            ],
        ),
        (
            {**RULE, "scope": "Global"},
            [
                'webhooks[0].rules[0].scope: Unsupported value: "Global": supported values: '
                '"*", "Cluster", "Namespaced"'
            ],
        ),
    ],
)
def test_rules(rule: dict[str, Any], want: list[str]) -> None:
    assert errors("ValidatingWebhookConfiguration", hook(rules=[rule])) == want


def test_match_conditions_are_named_once_and_compiled_as_bool() -> None:
    conditions = [
        {"name": "not-system", "expression": "request.namespace != 'kube-system'"},
        {"name": "not-system", "expression": "object.metadata.name"},
        {"name": "bad name!", "expression": "request.nope == 1"},
        {"name": "empty", "expression": "  "},
    ]
    got = errors("MutatingWebhookConfiguration", hook(matchConditions=conditions))
    assert got == [
        'webhooks[0].matchConditions[1].expression: Invalid value: "object.metadata.name": '
        "must evaluate to bool",
        'webhooks[0].matchConditions[1].name: Duplicate value: "not-system"',
        'webhooks[0].matchConditions[2].expression: Invalid value: "request.nope == 1": '
        "compilation failed: ERROR: <input>:1:8: undefined field 'nope'\n"
        " | request.nope == 1\n"
        " | .......^",
        'webhooks[0].matchConditions[2].name: Invalid value: "bad name!": name part must '
        "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
        "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
        "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
        "webhooks[0].matchConditions[3].expression: Required value",
    ]


def test_at_most_64_match_conditions() -> None:
    conditions = [{"name": f"c{i}", "expression": "true"} for i in range(65)]
    got = errors("ValidatingWebhookConfiguration", hook(matchConditions=conditions))
    assert got == ["webhooks[0].matchConditions: Too many: 65: must have at most 64 items"]


def test_defaults_are_kubernetes_v1() -> None:
    mutating = configuration(
        "MutatingWebhookConfiguration",
        hook(clientConfig={"service": {"namespace": "policy", "name": "hook"}}),
    )
    assert isinstance(mutating, admreg_pb2.MutatingWebhookConfiguration)
    got = codec.encode(mutating)["webhooks"][0]
    assert got == {
        **HOOK,
        "clientConfig": {"service": {"namespace": "policy", "name": "hook", "port": 443}},
        "rules": [{**RULE, "scope": "*"}],
        "failurePolicy": "Fail",
        "matchPolicy": "Equivalent",
        "namespaceSelector": {},
        "objectSelector": {},
        "timeoutSeconds": 10,
        "reinvocationPolicy": "Never",
    }
    validating = codec.encode(configuration("ValidatingWebhookConfiguration", hook()))
    assert "reinvocationPolicy" not in validating["webhooks"][0]
    assert validating["webhooks"][0]["timeoutSeconds"] == 10


def test_an_update_keeps_what_the_stored_configuration_already_had() -> None:
    """An object stored before today's rules (duplicate names, side effects Some, match
    conditions that no longer compile) may be updated without fixing them; a new object may
    not have them."""
    stale = [
        hook(sideEffects="Some", matchConditions=[{"name": "x", "expression": "nope"}]),
        hook(sideEffects="Some"),
    ]
    old = configuration("ValidatingWebhookConfiguration", *stale)
    new = configuration("ValidatingWebhookConfiguration", *stale)
    new.metadata.labels["touched"] = "yes"
    strategy = STRATEGIES["validatingwebhookconfigurations"]
    assert strategy.validate_update(new, old) == []
    assert [e.path for e in strategy.validate(new)] == [
        "webhooks[0].sideEffects",
        "webhooks[0].matchConditions[0].expression",
        "webhooks[1].sideEffects",
        "webhooks[1].name",
    ]


def test_selector_values_are_label_values_unless_the_stored_ones_were_not() -> None:
    selector = {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["a b"]}]}
    bad = hook(namespaceSelector=selector)
    label_error = (
        'webhooks[0].namespaceSelector.matchExpressions[0].values[0]: Invalid value: "a b": a '
        "valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
        "or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
        "'my_value',  or '12345', regex used for validation is "
        "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
    )
    assert errors("ValidatingWebhookConfiguration", bad) == [label_error]
    old = configuration("ValidatingWebhookConfiguration", bad)
    new = configuration("ValidatingWebhookConfiguration", bad)
    assert STRATEGIES["validatingwebhookconfigurations"].validate_update(new, old) == []
    wrong_operator = hook(objectSelector={"matchExpressions": [{"key": "x", "operator": "Is"}]})
    assert errors("MutatingWebhookConfiguration", wrong_operator) == [
        'webhooks[0].objectSelector.matchExpressions[0].operator: Invalid value: "Is": not a '
        "valid selector operator"
    ]
