"""admissionregistration.k8s.io/v1 defaults (kubernetes pkg/apis/admissionregistration/v1
defaults.go): a webhook fails closed (failurePolicy Fail), matches equivalent requests
(matchPolicy Equivalent), selects every namespace and object ({} selectors), waits 10 seconds and,
if it mutates, is not called again (reinvocationPolicy Never); a rule's scope is "*", a service's
port 443; a policy fails closed and its match constraints are defaulted as a webhook's."""

from __future__ import annotations

from collections.abc import Iterable

from podplane.api.admissionregistration.v1 import admissionregistration_pb2 as admreg_pb2

FAIL = "Fail"
EQUIVALENT = "Equivalent"
ALL_SCOPES = "*"
NEVER = "Never"
DEFAULT_TIMEOUT_SECONDS = 10
DEFAULT_SERVICE_PORT = 443

Webhook = admreg_pb2.MutatingWebhook | admreg_pb2.ValidatingWebhook
Rule = admreg_pb2.RuleWithOperations | admreg_pb2.NamedRuleWithOperations


def _rules(rules: Iterable[Rule]) -> None:
    """SetDefaults_Rule."""
    for rule in rules:
        if not rule.HasField("scope"):
            rule.scope = ALL_SCOPES


def _webhook(hook: Webhook) -> None:
    """SetDefaults_ValidatingWebhook (and the mutating one's shared part), with its rules' and
    service's defaults."""
    if not hook.HasField("failure_policy"):
        hook.failure_policy = FAIL
    if not hook.HasField("match_policy"):
        hook.match_policy = EQUIVALENT
    if not hook.HasField("namespace_selector"):
        hook.namespace_selector.SetInParent()
    if not hook.HasField("object_selector"):
        hook.object_selector.SetInParent()
    if not hook.HasField("timeout_seconds"):
        hook.timeout_seconds = DEFAULT_TIMEOUT_SECONDS
    _rules(hook.rules)
    config = hook.client_config
    if config.HasField("service") and not config.service.HasField("port"):
        config.service.port = DEFAULT_SERVICE_PORT


def mutating_webhook_configuration(obj: admreg_pb2.MutatingWebhookConfiguration) -> None:
    for hook in obj.webhooks:
        _webhook(hook)
        if not hook.HasField("reinvocation_policy"):
            hook.reinvocation_policy = NEVER


def validating_webhook_configuration(obj: admreg_pb2.ValidatingWebhookConfiguration) -> None:
    for hook in obj.webhooks:
        _webhook(hook)


def _match_resources(match: admreg_pb2.MatchResources) -> None:
    """SetDefaults_MatchResources, with its rules'."""
    if not match.HasField("match_policy"):
        match.match_policy = EQUIVALENT
    if not match.HasField("namespace_selector"):
        match.namespace_selector.SetInParent()
    if not match.HasField("object_selector"):
        match.object_selector.SetInParent()
    _rules(match.resource_rules)
    _rules(match.exclude_resource_rules)


def validating_admission_policy(obj: admreg_pb2.ValidatingAdmissionPolicy) -> None:
    """SetDefaults_ValidatingAdmissionPolicySpec and its match constraints'."""
    spec = obj.spec
    if not spec.HasField("failure_policy"):
        spec.failure_policy = FAIL
    if spec.HasField("match_constraints"):
        _match_resources(spec.match_constraints)


def validating_admission_policy_binding(obj: admreg_pb2.ValidatingAdmissionPolicyBinding) -> None:
    """The binding's match resources, when it has them, are defaulted as a policy's."""
    if obj.spec.HasField("match_resources"):
        _match_resources(obj.spec.match_resources)
