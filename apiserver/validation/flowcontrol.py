"""Validation of FlowSchemas and PriorityLevelConfigurations (kubernetes
pkg/apis/flowcontrol/validation, as of 1.31): a schema's precedence (1 only for `exempt`), its
distinguisher, its priority level's name and each rule's subjects, verbs, groups, resources,
namespaces and paths; a level's type (Exempt exactly for `exempt`), its shares, lendable and
borrowing percents and queuing (shuffle sharding's entropy); the conditions' types. The mandatory
objects' specs are fixed: `exempt` and `catch-all` as Kubernetes defines them, but for the exempt
level's `spec.exempt`, which an operator may change."""

from __future__ import annotations

from collections.abc import Sequence

from apiserver.validation import fields
from apiserver.validation.fields import FieldError
from apiserver.validation.go_syntax import go_strings as _strings
from apiserver.validation.go_syntax import go_value
from apiserver.validation.meta import object_meta
from podplane.api.flowcontrol.v1 import flowcontrol_pb2 as fc
from podplane.apimachinery import flowcontrol
from podplane.apimachinery import flowcontrol_bootstrap as bootstrap
from podplane.apimachinery.flowcontrol import ALL, MAX_HASH_BITS, required_entropy_bits

MAX_QUEUES = 10_000_000
NAMESPACE_INTRO = "each member of this list must be '*' or a DNS-1123 label; "


# ---------------------------------------------------------------- flow schemas
def _subject(path: str, s: fc.Subject) -> list[FieldError]:
    errs: list[FieldError] = []
    if s.kind == flowcontrol.SUBJECT_SERVICE_ACCOUNT:
        errs += _service_account_subject(f"{path}.serviceAccount", s)
        if s.HasField("user"):
            errs.append(forbidden_user(path))
        if s.HasField("group"):
            errs.append(forbidden_group(path))
    elif s.kind == flowcontrol.SUBJECT_USER:
        if not s.HasField("user"):
            errs.append(
                fields.required(f"{path}.user", "user is required when subject kind is 'User'")
            )
        elif not s.user.name:
            errs.append(fields.required(f"{path}.user.name"))
        if s.HasField("service_account"):
            errs.append(forbidden_service_account(path))
        if s.HasField("group"):
            errs.append(forbidden_group(path))
    elif s.kind == flowcontrol.SUBJECT_GROUP:
        if not s.HasField("group"):
            errs.append(
                fields.required(f"{path}.group", "group is required when subject kind is 'Group'")
            )
        elif not s.group.name:
            errs.append(fields.required(f"{path}.group.name"))
        if s.HasField("service_account"):
            errs.append(forbidden_service_account(path))
        if s.HasField("user"):
            errs.append(forbidden_user(path))
    else:
        errs.append(fields.unsupported(f"{path}.kind", s.kind, flowcontrol.SUBJECT_KINDS))
    return errs


def forbidden_user(path: str) -> FieldError:
    return fields.forbidden(f"{path}.user", "user is forbidden when subject kind is not 'User'")


def forbidden_group(path: str) -> FieldError:
    return fields.forbidden(f"{path}.group", "group is forbidden when subject kind is not 'Group'")


def forbidden_service_account(path: str) -> FieldError:
    return fields.forbidden(
        f"{path}.serviceAccount",
        "serviceAccount is forbidden when subject kind is not 'ServiceAccount'",
    )


def _service_account_subject(path: str, s: fc.Subject) -> list[FieldError]:
    if not s.HasField("service_account"):
        return [
            fields.required(
                path, "serviceAccount is required when subject kind is 'ServiceAccount'"
            )
        ]
    sa = s.service_account
    errs: list[FieldError] = []
    if not sa.name:
        errs.append(fields.required(f"{path}.name"))
    elif sa.name != ALL:
        errs += fields.dns1123_subdomain(f"{path}.name", sa.name)
    if sa.namespace:
        errs += fields.dns1123_label(f"{path}.namespace", sa.namespace)
    else:
        errs.append(
            fields.required(f"{path}.namespace", "must specify namespace for service account")
        )
    return errs


def _verbs(path: str, verbs: Sequence[str]) -> list[FieldError]:
    if not verbs:
        return [fields.required(path, "verbs must contain at least one value")]
    if ALL in verbs:
        if len(verbs) > 1:
            return [
                fields.invalid(
                    path, _strings(verbs), "if '*' is present, must not specify other verbs"
                )
            ]
        return []
    if not set(verbs) <= set(flowcontrol.VERBS):
        return [fields.unsupported(path, _strings(verbs), flowcontrol.VERBS)]
    return []


def _at_least_one(path: str, values: Sequence[str], what: str, plural: str) -> list[FieldError]:
    if not values:
        return [fields.required(path, f"resource rules must supply at least one {what}")]
    if len(values) > 1 and ALL in values:
        return [
            fields.invalid(
                path, _strings(values), f"if '*' is present, must not specify other {plural}"
            )
        ]
    return []


def _resource_rule(path: str, rule: fc.ResourcePolicyRule) -> list[FieldError]:
    errs = _verbs(f"{path}.verbs", rule.verbs)
    errs += _at_least_one(f"{path}.apiGroups", rule.api_groups, "api group", "api groups")
    errs += _at_least_one(f"{path}.resources", rule.resources, "resource", "resources")
    namespaces = list(rule.namespaces)
    if not namespaces and not rule.cluster_scope:
        errs.append(
            fields.required(
                f"{path}.namespaces",
                "resource rules that are not cluster scoped must supply at least one namespace",
            )
        )
    elif ALL in namespaces:
        if len(namespaces) > 1:
            errs.append(
                fields.invalid(
                    f"{path}.namespaces",
                    _strings(namespaces),
                    "if '*' is present, must not specify other namespaces",
                )
            )
    else:
        for i, ns in enumerate(namespaces):
            for e in fields.dns1123_label(f"{path}.namespaces[{i}]", ns):
                errs.append(fields.invalid(e.path, ns, NAMESPACE_INTRO + e.detail))
    return errs


def non_resource_url(path: str, url: str) -> FieldError | None:
    """ValidateNonResourceURLPath: "/" or a path from the root, without spaces or "//", with
    at most one "*", as its last segment."""
    if not url:
        return fields.invalid(path, url, "must not be empty")
    if url == "/":
        return None
    if not url.startswith("/"):
        return fields.invalid(path, url, "must start with slash")
    if " " in url:
        return fields.invalid(path, url, "must not contain white-space")
    if "//" in url:
        return fields.invalid(path, url, "must not contain double slash")
    stars = url.count("*")
    if stars > 1 or (stars == 1 and not url.endswith("/*")):
        return fields.invalid(path, url, "wildcard can only do suffix matching")
    return None


def _non_resource_rule(path: str, rule: fc.NonResourcePolicyRule) -> list[FieldError]:
    errs = _verbs(f"{path}.verbs", rule.verbs)
    urls = list(rule.non_resource_urls)
    urls_path = f"{path}.nonResourceURLs"
    if not urls:
        errs.append(fields.required(urls_path, "nonResourceURLs must contain at least one value"))
    elif ALL in urls:
        if len(urls) > 1:
            errs.append(
                fields.invalid(
                    urls_path,
                    _strings(urls),
                    "if '*' is present, must not specify other non-resource URLs",
                )
            )
    else:
        for i, url in enumerate(urls):
            err = non_resource_url(f"{urls_path}[{i}]", url)
            if err is not None:
                errs.append(err)
    return errs


def _policy_rules(path: str, rule: fc.PolicyRulesWithSubjects) -> list[FieldError]:
    errs: list[FieldError] = []
    if rule.subjects:
        for i, s in enumerate(rule.subjects):
            errs += _subject(f"{path}.subjects[{i}]", s)
    else:
        errs.append(fields.required(f"{path}.subjects", "subjects must contain at least one value"))
    if not rule.resource_rules and not rule.non_resource_rules:
        errs.append(
            fields.required(
                path, "at least one of resourceRules and nonResourceRules has to be non-empty"
            )
        )
    for i, r in enumerate(rule.resource_rules):
        errs += _resource_rule(f"{path}.resourceRules[{i}]", r)
    for i, n in enumerate(rule.non_resource_rules):
        errs += _non_resource_rule(f"{path}.nonResourceRules[{i}]", n)
    return errs


def _flow_schema_spec(name: str, spec: fc.FlowSchemaSpec) -> list[FieldError]:
    errs: list[FieldError] = []
    precedence = spec.matching_precedence
    if precedence <= 0:
        errs.append(
            fields.invalid("spec.matchingPrecedence", precedence, "must be a positive value")
        )
    if precedence > flowcontrol.FLOW_SCHEMA_MAX_MATCHING_PRECEDENCE:
        errs.append(
            fields.invalid(
                "spec.matchingPrecedence",
                precedence,
                f"must not be greater than {flowcontrol.FLOW_SCHEMA_MAX_MATCHING_PRECEDENCE}",
            )
        )
    if precedence == 1 and name != flowcontrol.FLOW_SCHEMA_EXEMPT:
        errs.append(
            fields.invalid(
                "spec.matchingPrecedence",
                precedence,
                "only the schema named 'exempt' may have matchingPrecedence 1",
            )
        )
    if spec.HasField("distinguisher_method"):
        method = spec.distinguisher_method
        if method.type not in flowcontrol.DISTINGUISHER_METHODS:
            errs.append(
                fields.unsupported(
                    "spec.distinguisherMethod.type",
                    go_value(method, "&flowcontrol.FlowDistinguisherMethod"),
                    flowcontrol.DISTINGUISHER_METHODS,
                )
            )
    level = spec.priority_level_configuration.name
    if level:
        errs += fields.dns1123_subdomain("spec.priorityLevelConfiguration.name", level)
    else:
        errs.append(
            fields.required(
                "spec.priorityLevelConfiguration.name", "must reference a priority level"
            )
        )
    for i, rule in enumerate(spec.rules):
        errs += _policy_rules(f"spec.rules[{i}]", rule)
    return errs


def _conditions(
    conditions: Sequence[fc.FlowSchemaCondition | fc.PriorityLevelConfigurationCondition],
) -> list[FieldError]:
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, condition in enumerate(conditions):
        path = f"status.conditions[{i}]"
        if condition.type in seen:
            errs.append(fields.duplicate(f"{path}.type", condition.type))
        seen.add(condition.type)
        if not condition.type:
            errs.append(fields.required(f"{path}.type", "must not be empty"))
    return errs


def flow_schema(obj: fc.FlowSchema) -> list[FieldError]:
    """ValidateFlowSchema."""
    errs = object_meta(obj.metadata, namespaced=False)
    errs += _flow_schema_spec(obj.metadata.name, obj.spec)
    mandatory = bootstrap.mandatory_flow_schema(obj.metadata.name)
    if mandatory is not None and obj.spec != mandatory.spec:
        errs.append(
            fields.invalid(
                "spec",
                go_value(obj.spec),
                f"spec of '{obj.metadata.name}' must equal the fixed value",
            )
        )
    return errs + _conditions(obj.status.conditions)


def flow_schema_update(new: fc.FlowSchema, old: fc.FlowSchema) -> list[FieldError]:
    return flow_schema(new)


def flow_schema_status_update(new: fc.FlowSchema, old: fc.FlowSchema) -> list[FieldError]:
    return _conditions(new.status.conditions)


# ---------------------------------------------------------------- priority levels
def _queuing(path: str, q: fc.QueuingConfiguration) -> list[FieldError]:
    errs: list[FieldError] = []
    if q.queue_length_limit <= 0:
        errs.append(
            fields.invalid(f"{path}.queueLengthLimit", q.queue_length_limit, "must be positive")
        )
    if q.queues <= 0:
        errs.append(fields.invalid(f"{path}.queues", q.queues, "must be positive"))
    elif q.queues > MAX_QUEUES:
        errs.append(
            fields.invalid(f"{path}.queues", q.queues, f"must not be greater than {MAX_QUEUES}")
        )
    hand = f"{path}.handSize"
    if q.hand_size <= 0:
        errs.append(fields.invalid(hand, q.hand_size, "must be positive"))
    elif q.hand_size > q.queues:
        errs.append(
            fields.invalid(hand, q.hand_size, f"should not be greater than queues ({q.queues})")
        )
    elif required_entropy_bits(q.queues, q.hand_size) > MAX_HASH_BITS:
        errs.append(
            fields.invalid(
                hand,
                q.hand_size,
                f"required entropy bits of deckSize {q.queues} and handSize {q.hand_size} "
                f"should not be greater than {MAX_HASH_BITS}",
            )
        )
    return errs


def _limit_response(path: str, lr: fc.LimitResponse) -> list[FieldError]:
    if lr.type == flowcontrol.LIMIT_RESPONSE_REJECT:
        if lr.HasField("queuing"):
            return [
                fields.forbidden(
                    f"{path}.queuing", "must be nil if limited.limitResponse.type is not Limited"
                )
            ]
        return []
    if lr.type == flowcontrol.LIMIT_RESPONSE_QUEUE:
        if not lr.HasField("queuing"):
            return [
                fields.required(
                    f"{path}.queuing", "must not be empty if limited.limitResponse.type is Limited"
                )
            ]
        return _queuing(f"{path}.queuing", lr.queuing)
    return [fields.unsupported(f"{path}.type", lr.type, flowcontrol.LIMIT_RESPONSE_TYPES)]


def _lendable(path: str, value: int) -> list[FieldError]:
    if 0 <= value <= 100:
        return []
    return [fields.invalid(path, value, "must be between 0 and 100, inclusive")]


def _limited(path: str, limited: fc.LimitedPriorityLevelConfiguration) -> list[FieldError]:
    errs: list[FieldError] = []
    shares = limited.nominal_concurrency_shares
    if shares < 0:
        errs.append(
            fields.invalid(
                f"{path}.nominalConcurrencyShares", shares, "must be a non-negative integer"
            )
        )
    errs += _limit_response(f"{path}.limitResponse", limited.limit_response)
    if limited.HasField("lendable_percent"):
        errs += _lendable(f"{path}.lendablePercent", limited.lendable_percent)
    if limited.HasField("borrowing_limit_percent") and limited.borrowing_limit_percent < 0:
        errs.append(
            fields.invalid(
                f"{path}.borrowingLimitPercent",
                limited.borrowing_limit_percent,
                "if specified, must be a non-negative integer",
            )
        )
    return errs


def _exempt(path: str, exempt: fc.ExemptPriorityLevelConfiguration) -> list[FieldError]:
    errs: list[FieldError] = []
    if exempt.HasField("nominal_concurrency_shares") and exempt.nominal_concurrency_shares < 0:
        errs.append(
            fields.invalid(
                f"{path}.nominalConcurrencyShares",
                exempt.nominal_concurrency_shares,
                "must be a non-negative integer",
            )
        )
    if exempt.HasField("lendable_percent"):
        errs += _lendable(f"{path}.lendablePercent", exempt.lendable_percent)
    return errs


def _priority_level_spec(name: str, spec: fc.PriorityLevelConfigurationSpec) -> list[FieldError]:
    errs: list[FieldError] = []
    if (name == flowcontrol.PRIORITY_LEVEL_EXEMPT) != (spec.type == flowcontrol.TYPE_EXEMPT):
        errs.append(
            fields.invalid(
                "spec.type", spec.type, "type must be 'Exempt' if and only if name is 'exempt'"
            )
        )
    if spec.type == flowcontrol.TYPE_EXEMPT:
        if spec.HasField("limited"):
            errs.append(fields.forbidden("spec.limited", "must be nil if the type is not Limited"))
        if spec.HasField("exempt"):
            errs += _exempt("spec.exempt", spec.exempt)
    elif spec.type == flowcontrol.TYPE_LIMITED:
        if spec.HasField("exempt"):
            errs.append(fields.forbidden("spec.exempt", "must be nil if the type is Limited"))
        if not spec.HasField("limited"):
            errs.append(fields.required("spec.limited", "must not be empty when type is Limited"))
        else:
            errs += _limited("spec.limited", spec.limited)
    else:
        errs.append(fields.unsupported("spec.type", spec.type, flowcontrol.PRIORITY_LEVEL_TYPES))
    return errs


def _mandatory_level(obj: fc.PriorityLevelConfiguration) -> list[FieldError]:
    """ValidateIfMandatoryPriorityLevelConfigurationObject."""
    name = obj.metadata.name
    mandatory = bootstrap.mandatory_priority_level(name)
    if mandatory is None:
        return []
    if name == flowcontrol.PRIORITY_LEVEL_EXEMPT:
        # An operator may change `exempt`'s spec.exempt, and nothing else of its spec.
        have = fc.PriorityLevelConfigurationSpec()
        have.CopyFrom(obj.spec)
        have.exempt.CopyFrom(mandatory.spec.exempt)
        if have != mandatory.spec:
            return [
                fields.invalid(
                    "spec",
                    go_value(obj.spec),
                    f"spec of '{name}' except the 'spec.exempt' field must equal the fixed value",
                )
            ]
        return []
    if obj.spec != mandatory.spec:
        return [
            fields.invalid(
                "spec", go_value(obj.spec), f"spec of '{name}' must equal the fixed value"
            )
        ]
    return []


def priority_level(obj: fc.PriorityLevelConfiguration) -> list[FieldError]:
    """ValidatePriorityLevelConfiguration (zero nominal shares allowed, as 1.31's v1 does)."""
    errs = object_meta(obj.metadata, namespaced=False)
    errs += _priority_level_spec(obj.metadata.name, obj.spec)
    errs += _mandatory_level(obj)
    return errs + _conditions(obj.status.conditions)


def priority_level_update(
    new: fc.PriorityLevelConfiguration, old: fc.PriorityLevelConfiguration
) -> list[FieldError]:
    return priority_level(new)


def priority_level_status_update(
    new: fc.PriorityLevelConfiguration, old: fc.PriorityLevelConfiguration
) -> list[FieldError]:
    return _conditions(new.status.conditions)
