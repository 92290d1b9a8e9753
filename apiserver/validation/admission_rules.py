"""The parts admissionregistration.k8s.io's kinds share (kubernetes
pkg/apis/admissionregistration/validation/validation.go): the rules of operations on resources,
a policy's match resources, a webhook's client config (k8s.io/apiserver/pkg/util/webhook's
ValidateWebhookURL and ValidateWebhookService), its admission review versions."""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence

from apiserver.validation import fields
from apiserver.validation.embedded_meta import path_segment_name
from apiserver.validation.fields import FieldError
from apiserver.validation.generic_rules import Shown
from apiserver.validation.policy import label_selector
from podplane.api.admissionregistration.v1 import admissionregistration_pb2 as admreg_pb2

SCOPES = ("*", "Cluster", "Namespaced")  # validScopes.List(), sorted
OPERATIONS = ("*", "CONNECT", "CREATE", "DELETE", "UPDATE")
FAILURE_POLICIES = ("Fail", "Ignore")
MATCH_POLICIES = ("Equivalent", "Exact")
# AcceptedAdmissionReviewVersions: what the previous apiserver version understands.
ADMISSION_REVIEW_VERSIONS = ("v1", "v1beta1")

Rule = admreg_pb2.RuleWithOperations | admreg_pb2.NamedRuleWithOperations


def go_strings(values: Sequence[str], type_name: str = "string") -> Shown:
    """A list of strings as Go's %#v shows it in a field error: []string{"a", "b"}."""
    return Shown(f"[]{type_name}{{" + ", ".join(fields.go_quote(v) for v in values) + "}")


def _resources(resources: Sequence[str], path: str) -> list[FieldError]:
    """validateResources: subresource forms ("pods/log", "pods/*", "*/scale", "*/*") that do not
    overlap."""
    errs: list[FieldError] = []
    if not resources:
        errs.append(fields.required(path))
    with_wildcard_sub: set[str] = set()  # x/*
    sub_with_wildcard_resource: set[str] = set()  # */x
    double_wildcard = single_wildcard = without_sub = False
    for i, res_sub in enumerate(resources):
        if res_sub == "":
            errs.append(fields.required(f"{path}[{i}]"))
            continue
        double_wildcard = double_wildcard or res_sub == "*/*"
        single_wildcard = single_wildcard or res_sub == "*"
        if "/" not in res_sub:
            without_sub = res_sub != "*"
            continue
        res, sub = res_sub.split("/", 1)
        if res in with_wildcard_sub:
            errs.append(
                fields.invalid(
                    f"{path}[{i}]", res_sub, f"if '{res}/*' is present, must not specify {res_sub}"
                )
            )
        if sub in sub_with_wildcard_resource:
            errs.append(
                fields.invalid(
                    f"{path}[{i}]", res_sub, f"if '*/{sub}' is present, must not specify {res_sub}"
                )
            )
        if sub == "*":
            with_wildcard_sub.add(res)
        if res == "*":
            sub_with_wildcard_resource.add(sub)
    shown = go_strings(resources)
    if len(resources) > 1 and double_wildcard:
        errs.append(
            fields.invalid(path, shown, "if '*/*' is present, must not specify other resources")
        )
    if single_wildcard and without_sub:
        errs.append(
            fields.invalid(
                path,
                shown,
                "if '*' is present, must not specify other resources without subresources",
            )
        )
    return errs


def rule_with_operations(rule: Rule, path: str) -> list[FieldError]:
    """validateRuleWithOperations, with validateRule (subresources allowed)."""
    errs: list[FieldError] = []
    ops = list(rule.operations)
    if not ops:
        errs.append(fields.required(f"{path}.operations"))
    if len(ops) > 1 and "*" in ops:
        errs.append(
            fields.invalid(
                f"{path}.operations",
                go_strings(ops, "admissionregistration.OperationType"),
                "if '*' is present, must not specify other operations",
            )
        )
    for i, op in enumerate(ops):
        if op not in OPERATIONS:
            errs.append(fields.unsupported(f"{path}.operations[{i}]", op, OPERATIONS))
    groups, versions = list(rule.api_groups), list(rule.api_versions)
    if not groups:
        errs.append(fields.required(f"{path}.apiGroups"))
    if len(groups) > 1 and "*" in groups:
        errs.append(
            fields.invalid(
                f"{path}.apiGroups",
                go_strings(groups),
                "if '*' is present, must not specify other API groups",
            )
        )
    if not versions:
        errs.append(fields.required(f"{path}.apiVersions"))
    if len(versions) > 1 and "*" in versions:
        errs.append(
            fields.invalid(
                f"{path}.apiVersions",
                go_strings(versions),
                "if '*' is present, must not specify other API versions",
            )
        )
    errs += [fields.required(f"{path}.apiVersions[{i}]") for i, v in enumerate(versions) if not v]
    errs += _resources(list(rule.resources), f"{path}.resources")
    if rule.HasField("scope") and rule.scope not in SCOPES:
        errs.append(fields.unsupported(f"{path}.scope", rule.scope, SCOPES))
    return errs


def named_rule_with_operations(
    rule: admreg_pb2.NamedRuleWithOperations, path: str
) -> list[FieldError]:
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, name in enumerate(rule.resource_names):
        errs += path_segment_name(f"{path}.resourceNames[{i}]", name)
        if name in seen:
            errs.append(fields.duplicate(f"{path}.resourceNames[{i}]", name))
        seen.add(name)
    return errs + rule_with_operations(rule, path)


def match_resources(match: admreg_pb2.MatchResources, path: str) -> list[FieldError]:
    """validateMatchResources: selectors validated strictly (the type came after issue #99139)."""
    errs: list[FieldError] = []
    if not match.HasField("match_policy"):
        errs.append(fields.required(f"{path}.matchPolicy"))
    elif match.match_policy not in MATCH_POLICIES:
        errs.append(fields.unsupported(f"{path}.matchPolicy", match.match_policy, MATCH_POLICIES))
    for name, json_name in (
        ("namespace_selector", "namespaceSelector"),
        ("object_selector", "objectSelector"),
    ):
        if not match.HasField(name):
            errs.append(fields.required(f"{path}.{json_name}"))
        else:
            errs += label_selector(
                f"{path}.{json_name}", getattr(match, name), allow_invalid_values=False
            )
    for i, r in enumerate(match.resource_rules):
        errs += named_rule_with_operations(r, f"{path}.resourceRules[{i}]")
    for i, r in enumerate(match.exclude_resource_rules):
        errs += named_rule_with_operations(r, f"{path}.excludeResourceRules[{i}]")
    return errs


_FORM = "; desired format: https://host[/path]"


def webhook_url(path: str, url: str) -> list[FieldError]:
    """ValidateWebhookURL with forceHttps."""
    try:
        u = urllib.parse.urlsplit(url)
        host = u.netloc.rpartition("@")[2]
    except ValueError as e:
        return [fields.required(path, f"url must be a valid URL: parse {url!r}: {e}{_FORM}")]
    errs: list[FieldError] = []
    if u.scheme != "https":
        errs.append(
            fields.invalid(path, u.scheme, "'https' is the only allowed URL scheme" + _FORM)
        )
    if not host:
        errs.append(fields.invalid(path, host, "host must be specified" + _FORM))
    if "@" in u.netloc:
        user = u.netloc.rpartition("@")[0]
        errs.append(fields.invalid(path, user, "user information is not permitted in the URL"))
    if u.fragment:
        errs.append(fields.invalid(path, u.fragment, "fragments are not permitted in the URL"))
    if u.query:
        errs.append(fields.invalid(path, u.query, "query parameters are not permitted in the URL"))
    return errs


def webhook_service(path: str, service: admreg_pb2.ServiceReference) -> list[FieldError]:
    """ValidateWebhookService: name, namespace, port, and a path of DNS subdomain segments."""
    errs: list[FieldError] = []
    if not service.name:
        errs.append(fields.required(f"{path}.name", "service name is required"))
    if not service.namespace:
        errs.append(fields.required(f"{path}.namespace", "service namespace is required"))
    if not 1 <= service.port <= 65535:
        errs.append(
            fields.invalid(
                f"{path}.port",
                service.port,
                "port is not valid: must be between 1 and 65535, inclusive",
            )
        )
    if not service.HasField("path"):
        return errs
    url_path = service.path
    if url_path in ("/", ""):
        return errs
    if url_path == "//":
        return [*errs, fields.invalid(f"{path}.path", url_path, "segment[0] may not be empty")]
    if not url_path.startswith("/"):
        errs.append(fields.invalid(f"{path}.path", url_path, "must start with a '/'"))
    to_check = url_path[1:]
    to_check = to_check[:-1] if to_check.endswith("/") else to_check
    for i, step in enumerate(to_check.split("/")):
        if not step:
            errs.append(fields.invalid(f"{path}.path", url_path, f"segment[{i}] may not be empty"))
            continue
        for failure in fields.dns1123_subdomain("", step):
            errs.append(fields.invalid(f"{path}.path", url_path, f"segment[{i}]: {failure.detail}"))
    return errs


def client_config(path: str, config: admreg_pb2.WebhookClientConfig) -> list[FieldError]:
    """Exactly one of url and service."""
    if config.HasField("url") == config.HasField("service"):
        return [fields.required(path, "exactly one of url or service is required")]
    if config.HasField("url"):
        return webhook_url(f"{path}.url", config.url)
    return webhook_service(f"{path}.service", config.service)


def admission_review_versions(
    versions: Sequence[str], path: str, require_recognized: bool
) -> list[FieldError]:
    """validateAdmissionReviewVersions."""
    accepted = ", ".join(ADMISSION_REVIEW_VERSIONS)
    if not versions:
        return [fields.required(path, f"must specify one of {accepted}")]
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, v in enumerate(versions):
        if v in seen:
            errs.append(fields.invalid(f"{path}[{i}]", v, "duplicate version"))
            continue
        seen.add(v)
        errs += fields.dns1035_label(f"{path}[{i}]", v)
    if require_recognized and not seen & set(ADMISSION_REVIEW_VERSIONS):
        errs.append(
            fields.invalid(path, go_strings(versions), f"must include at least one of {accepted}")
        )
    return errs
