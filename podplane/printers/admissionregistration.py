"""admissionregistration.k8s.io's tables, as kubectl prints them (kubernetes
pkg/printers/internalversion/printers.go: printMutatingWebhook, printValidatingWebhook,
printValidatingAdmissionPolicy, printValidatingAdmissionPolicyBinding): NAME WEBHOOKS AGE for
the webhook configurations, NAME VALIDATIONS PARAMKIND AGE for a policy, NAME POLICYNAME
PARAMREF AGE for a binding."""

from __future__ import annotations

from datetime import datetime

from podplane.api.admissionregistration.v1 import admissionregistration_pb2 as admreg_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery.timeutil import human_age
from podplane.printers.spec import Cell, Column, TableSpec, age_column, name_column

UNSET = "<unset>"


def webhook_configuration_row(
    obj: admreg_pb2.MutatingWebhookConfiguration | admreg_pb2.ValidatingWebhookConfiguration,
    now: datetime,
) -> list[Cell]:
    return [obj.metadata.name, len(obj.webhooks), human_age(obj.metadata.creation_timestamp, now)]


def validating_admission_policy_row(
    obj: admreg_pb2.ValidatingAdmissionPolicy, now: datetime
) -> list[Cell]:
    spec = obj.spec
    kind = spec.param_kind
    param_kind = f"{kind.api_version}/{kind.kind}" if spec.HasField("param_kind") else UNSET
    return [
        obj.metadata.name,
        len(spec.validations),
        param_kind,
        human_age(obj.metadata.creation_timestamp, now),
    ]


def go_label_selector(selector: meta_pb2.LabelSelector) -> str:
    """A LabelSelector as its Go String() writes it (gogo-protobuf's generated text)."""
    expressions = "".join(
        f"LabelSelectorRequirement{{Key:{e.key},Operator:{e.operator},"
        f"Values:[{' '.join(e.values)}],}},"
        for e in selector.match_expressions
    )
    labels = "".join(f"{k}: {selector.match_labels[k]}," for k in sorted(selector.match_labels))
    return (
        f"&LabelSelector{{MatchLabels:map[string]string{{{labels}}},"
        f"MatchExpressions:[]LabelSelectorRequirement{{{expressions}}},}}"
    )


def param_ref_cell(binding: admreg_pb2.ValidatingAdmissionPolicyBinding) -> str:
    """The parameter's namespace/name ("*/" when no namespace is named, as one cannot tell a
    cluster-scoped parameter from here), or its selector."""
    if not binding.spec.HasField("param_ref"):
        return UNSET
    ref = binding.spec.param_ref
    if ref.name:
        return f"{ref.namespace}/{ref.name}" if ref.namespace else f"*/{ref.name}"
    if ref.HasField("selector"):
        return go_label_selector(ref.selector)
    return UNSET


def validating_admission_policy_binding_row(
    obj: admreg_pb2.ValidatingAdmissionPolicyBinding, now: datetime
) -> list[Cell]:
    return [
        obj.metadata.name,
        obj.spec.policy_name,
        param_ref_cell(obj),
        human_age(obj.metadata.creation_timestamp, now),
    ]


_WEBHOOKS = Column(
    "Webhooks",
    "integer",
    "Webhooks indicates the number of webhooks registered in this configuration",
)
MUTATING_WEBHOOK_CONFIGURATION_TABLE = TableSpec(
    columns=(name_column(), _WEBHOOKS, age_column()), row=webhook_configuration_row
)
VALIDATING_WEBHOOK_CONFIGURATION_TABLE = TableSpec(
    columns=(name_column(), _WEBHOOKS, age_column()), row=webhook_configuration_row
)
VALIDATING_ADMISSION_POLICY_TABLE = TableSpec(
    columns=(
        name_column(),
        Column(
            "Validations",
            "integer",
            "Validations indicates the number of validation rules defined in this configuration",
        ),
        Column(
            "ParamKind",
            "string",
            "ParamKind specifies the kind of resources used to parameterize this policy",
        ),
        age_column(),
    ),
    row=validating_admission_policy_row,
)
VALIDATING_ADMISSION_POLICY_BINDING_TABLE = TableSpec(
    columns=(
        name_column(),
        Column(
            "PolicyName",
            "string",
            "PolicyName indicates the policy definition which the policy binding binded to",
        ),
        Column(
            "ParamRef",
            "string",
            "ParamRef indicates the param resource which sets the configration param",
        ),
        age_column(),
    ),
    row=validating_admission_policy_binding_row,
)
