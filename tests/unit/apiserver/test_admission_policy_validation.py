"""ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding rules in Kubernetes' words
(pkg/apis/admissionregistration/validation/validation.go), every CEL expression compiled as
k8s.io/apiserver's admission compiler does (its variables, its result types), after the
server's defaults."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from apiserver.registry.strategy import STRATEGIES
from podplane.api.admissionregistration.v1 import admissionregistration_pb2 as admreg_pb2
from podplane.apimachinery import codec, manifest
from podplane.printers.admissionregistration import param_ref_cell

GROUP = "admissionregistration.k8s.io/v1"
RULE = {
    "operations": ["CREATE", "UPDATE"],
    "apiGroups": ["apps"],
    "apiVersions": ["v1"],
    "resources": ["deployments"],
}
SPEC: dict[str, Any] = {
    "matchConstraints": {"resourceRules": [RULE]},
    "validations": [{"expression": "object.spec.replicas <= 5"}],
}
POLICIES = STRATEGIES["validatingadmissionpolicies"]
BINDINGS = STRATEGIES["validatingadmissionpolicybindings"]


def policy(name: str = "replicas", **spec: Any) -> admreg_pb2.ValidatingAdmissionPolicy:
    body = copy.deepcopy(SPEC)
    for key, value in spec.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    obj = manifest.from_dict(
        {"apiVersion": GROUP, "kind": "ValidatingAdmissionPolicy", "metadata": {"name": name}}
        | {"spec": body}
    )
    assert isinstance(obj, admreg_pb2.ValidatingAdmissionPolicy)
    POLICIES.default(obj)
    return obj


def policy_errors(**spec: Any) -> list[str]:
    return [str(e) for e in POLICIES.validate(policy(**spec))]


@pytest.mark.parametrize(
    "spec, want",
    [
        ({}, []),
        (
            {
                "paramKind": {"apiVersion": "v1", "kind": "ConfigMap"},
                "validations": [
                    {
                        "expression": "object.spec.replicas <= int(params.data.max)",
                        "messageExpression": "'at most ' + params.data.max",
                        "reason": "Forbidden",
                    }
                ],
            },
            [],
        ),
        (
            {"matchConstraints": None},
            ["spec.matchConstraints: Required value"],
        ),
        (
            {"matchConstraints": {}},
            ["spec.matchConstraints.resourceRules: Required value"],
        ),
        (
            {"validations": None},
            [
                "spec.validations: Required value: validations or auditAnnotations must contain "
                "at least one item",
                "spec.auditAnnotations: Required value: validations or auditAnnotations must "
                "contain at least one item",
            ],
        ),
        (
            {"failurePolicy": "Sometimes"},
            [
                'spec.failurePolicy: Unsupported value: "Sometimes": supported values: "Fail", '
                '"Ignore"'
            ],
        ),
        (
            {"validations": [{"expression": "params.max > 1"}]},
            [
                'spec.validations[0].expression: Invalid value: "params.max > 1": compilation '
                "failed: ERROR: <input>:1:1: undeclared reference to 'params' (in container '')"
                "\n | params.max > 1\n | ^"
            ],
        ),
        (
            {"validations": [{"expression": "object.spec.replicas"}]},
            [
                'spec.validations[0].expression: Invalid value: "object.spec.replicas": must '
                "evaluate to bool"
            ],
        ),
        (
            {
                "validations": [
                    {
                        "expression": "true",
                        "message": "two\nlines",
                        "messageExpression": "1",
                        "reason": "Teapot",
                    }
                ]
            },
            [
                'spec.validations[0].messageExpression: Invalid value: "1": must evaluate to '
                "string",
                'spec.validations[0].message: Invalid value: "two\\nlines": message must not '
                "contain line breaks",
                'spec.validations[0].reason: Unsupported value: "Teapot": supported values: '
                '"Forbidden", "Invalid", "RequestEntityTooLarge"',
            ],
        ),
        (
            {"paramKind": {"apiVersion": "a/b/c", "kind": "Config_Map"}},
            [
                'spec.paramKind.apiVersion: Invalid value: "a/b/c": unexpected GroupVersion '
                "string: a/b/c",
                'spec.paramKind.kind: Invalid value: "Config_Map": may have mixed case, but '
                "should otherwise match: a DNS-1035 label must consist of lower case "
                "alphanumeric characters or '-', start with an alphabetic character, and end "
                "with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
                "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
            ],
        ),
        (
            {
                "variables": [
                    {"name": "replicas", "expression": "object.spec.replicas"},
                    {"name": "if", "expression": "variables.replicas > 1"},
                    {"name": "late", "expression": "variables.later"},
                ],
                "validations": [{"expression": "variables.replicas <= 5"}],
            },
            [
                'spec.variables[1].name: Invalid value: "if": name is not a valid CEL identifier',
                'spec.variables[2].expression: Invalid value: "variables.later": compilation '
                "failed: ERROR: <input>:1:10: undefined field 'later'\n | variables.later\n"
                " | .........^",
            ],
        ),
        (
            {
                "auditAnnotations": [
                    {"key": "seen", "valueExpression": "'yes'"},
                    {"key": "seen", "valueExpression": "1"},
                    {"key": "null", "valueExpression": "null"},
                ]
            },
            [
                'spec.auditAnnotations[1].valueExpression: Invalid value: "1": must evaluate to '
                "one of [string null_type]",
                'spec.auditAnnotations[1].key: Duplicate value: "seen"',
            ],
        ),
        (
            {"matchConstraints": {"resourceRules": [RULE], "matchPolicy": "Loose"}},
            [
                'spec.matchConstraints.matchPolicy: Unsupported value: "Loose": supported '
                'values: "Equivalent", "Exact"'
            ],
        ),
        (
            {
                "matchConditions": [
                    {"name": "labelled", "expression": "has(object.metadata.labels)"},
                    {"name": "labelled", "expression": "'x'"},
                ]
            },
            [
                "spec.matchConditions[1].expression: Invalid value: \"'x'\": must evaluate to bool",
                'spec.matchConditions[1].name: Duplicate value: "labelled"',
            ],
        ),
    ],
)
def test_policies(spec: dict[str, Any], want: list[str]) -> None:
    assert policy_errors(**spec) == want


def test_policy_defaults() -> None:
    encoded = codec.encode(policy())
    assert encoded["spec"]["failurePolicy"] == "Fail"
    assert encoded["spec"]["matchConstraints"] == {
        "namespaceSelector": {},
        "objectSelector": {},
        "resourceRules": [{**RULE, "scope": "*"}],
        "matchPolicy": "Equivalent",
    }
    assert encoded["status"] == {}


def test_status_is_written_under_its_own_rules() -> None:
    old = policy()
    new = policy()
    new.status.observed_generation = 1
    new.status.type_checking.expression_warnings.add(field_ref="", warning="")
    write = POLICIES.status_writes["status"]
    assert [str(e) for e in write.validate(new, old)] == [
        "status.typeChecking.expressionWarnings[0].warning: Required value",
        "status.typeChecking.expressionWarnings[0].fieldRef: Required value",
    ]
    new.status.type_checking.expression_warnings[0].field_ref = "spec.validations[0].expression"
    new.status.type_checking.expression_warnings[0].warning = "apps/v1, Kind=Deployment: ..."
    assert write.validate(new, old) == []


def binding(**spec: Any) -> admreg_pb2.ValidatingAdmissionPolicyBinding:
    obj = manifest.from_dict(
        {
            "apiVersion": GROUP,
            "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": "replicas-binding"},
            "spec": {"policyName": "replicas", "validationActions": ["Deny"]} | spec,
        }
    )
    assert isinstance(obj, admreg_pb2.ValidatingAdmissionPolicyBinding)
    BINDINGS.default(obj)
    return obj


def test_the_authorizer_library_is_declared_where_kubernetes_declares_it() -> None:
    """authorizer and authorizer.requestResource in validations, variables, match conditions
    and audit annotations, with the library's functions and their types; not in a
    messageExpression."""
    may_scale = "authorizer.group('apps').resource('deployments').subresource('scale')"
    assert policy_errors(
        variables=[{"name": "admin", "expression": "authorizer.requestResource.check('*')"}],
        matchConditions=[
            {"name": "not-admin", "expression": "!variables.admin.allowed()"},
        ],
        validations=[
            {
                "expression": f"{may_scale}.namespace('a').name('b').check('update').allowed()",
                "messageExpression": "'denied'",
            },
            {"expression": "authorizer.path('/healthz').check('get').reason() == ''"},
        ],
        auditAnnotations=[
            {"key": "why", "valueExpression": "variables.admin.reason()"},
        ],
    ) == [
        'spec.matchConditions[0].expression: Invalid value: "!variables.admin.allowed()": '
        "compilation failed: ERROR: <input>:1:2: undeclared reference to 'variables' (in "
        "container '')\n | !variables.admin.allowed()\n | .^"
    ]
    assert policy_errors(
        validations=[
            {
                "expression": "true",
                "messageExpression": "authorizer.requestResource.check('get').reason()",
            },
            {"expression": "authorizer.group('apps').check('get').allowed()"},
        ]
    ) == [
        'spec.validations[0].messageExpression: Invalid value: "authorizer.requestResource'
        ".check('get').reason()\": compilation failed: ERROR: <input>:1:1: undeclared "
        "reference to 'authorizer' (in container '')\n"
        " | authorizer.requestResource.check('get').reason()\n | ^",
        "spec.validations[1].expression: Invalid value: \"authorizer.group('apps').check('get')"
        '.allowed()": compilation failed: ERROR: <input>:1:25: found no matching overload for '
        "'check' applied to 'kubernetes.authorization.GroupCheck.(string)'\n"
        " | authorizer.group('apps').check('get').allowed()\n"
        " | ........................^",
    ]


@pytest.mark.parametrize(
    "spec, want",
    [
        ({}, []),
        ({"paramRef": {"name": "limits", "parameterNotFoundAction": "Allow"}}, []),
        (
            {"policyName": "", "validationActions": []},
            [
                "spec.policyName: Required value",
                "spec.validationActions: Required value: at least one validation action is "
                "required",
            ],
        ),
        (
            {"validationActions": ["Deny", "Warn", "Deny", "Block"]},
            [
                'spec.validationActions[2]: Duplicate value: "Deny"',
                'spec.validationActions[3]: Unsupported value: "Block": supported values: '
                '"Audit", "Deny", "Warn"',
                "spec.validationActions: Invalid value: "
                '[]admissionregistration.ValidationAction{"Deny", "Warn", "Deny", "Block"}: '
                "must not contain both Deny and Warn (repeating the same validation failure "
                "information in the API response and headers serves no purpose)",
            ],
        ),
        (
            {"paramRef": {"name": "a/b", "selector": {}}},
            [
                "spec.paramRef.name: Invalid value: \"a/b\": may not contain '/'",
                "spec.paramRef.name: Forbidden: name and selector are mutually exclusive",
                "spec.paramRef.selector: Forbidden: name and selector are mutually exclusive",
                "spec.paramRef.parameterNotFoundAction: Required value",
            ],
        ),
        (
            {"paramRef": {"parameterNotFoundAction": "Ignore"}},
            [
                "spec.paramRef: Required value: one of name or selector must be specified",
                'spec.paramRef.parameterNotFoundAction: Unsupported value: "Ignore": supported '
                'values: "Deny", "Allow"',
            ],
        ),
        (
            {"matchResources": {"matchPolicy": "Loose"}},
            [
                'spec.matchResouces.matchPolicy: Unsupported value: "Loose": supported values: '
                '"Equivalent", "Exact"'
            ],
        ),
    ],
)
def test_bindings(spec: dict[str, Any], want: list[str]) -> None:
    assert [str(e) for e in BINDINGS.validate(binding(**spec))] == want


@pytest.mark.parametrize(
    "param_ref, cell",
    [
        (None, "<unset>"),
        ({"name": "limits", "namespace": "team"}, "team/limits"),
        ({"name": "limits"}, "*/limits"),
        (
            {
                "selector": {
                    "matchLabels": {"tier": "gold"},
                    "matchExpressions": [{"key": "env", "operator": "In", "values": ["a", "b"]}],
                }
            },
            "&LabelSelector{MatchLabels:map[string]string{tier: gold,},MatchExpressions:"
            "[]LabelSelectorRequirement{LabelSelectorRequirement{Key:env,Operator:In,"
            "Values:[a b],},},}",
        ),
    ],
)
def test_binding_param_ref_column(param_ref: dict[str, Any] | None, cell: str) -> None:
    spec = {"paramRef": {**param_ref, "parameterNotFoundAction": "Deny"}} if param_ref else {}
    assert param_ref_cell(binding(**spec)) == cell
