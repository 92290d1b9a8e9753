from podplane.api.meta.v1 import schema_pb2 as _schema_pb2
from podplane.api.meta.v1 import meta_pb2 as _meta_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RuleWithOperations(_message.Message):
    __slots__ = ("operations", "api_groups", "api_versions", "resources", "scope")
    OPERATIONS_FIELD_NUMBER: _ClassVar[int]
    API_GROUPS_FIELD_NUMBER: _ClassVar[int]
    API_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    operations: _containers.RepeatedScalarFieldContainer[str]
    api_groups: _containers.RepeatedScalarFieldContainer[str]
    api_versions: _containers.RepeatedScalarFieldContainer[str]
    resources: _containers.RepeatedScalarFieldContainer[str]
    scope: str
    def __init__(self, operations: _Optional[_Iterable[str]] = ..., api_groups: _Optional[_Iterable[str]] = ..., api_versions: _Optional[_Iterable[str]] = ..., resources: _Optional[_Iterable[str]] = ..., scope: _Optional[str] = ...) -> None: ...

class NamedRuleWithOperations(_message.Message):
    __slots__ = ("resource_names", "operations", "api_groups", "api_versions", "resources", "scope")
    RESOURCE_NAMES_FIELD_NUMBER: _ClassVar[int]
    OPERATIONS_FIELD_NUMBER: _ClassVar[int]
    API_GROUPS_FIELD_NUMBER: _ClassVar[int]
    API_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    resource_names: _containers.RepeatedScalarFieldContainer[str]
    operations: _containers.RepeatedScalarFieldContainer[str]
    api_groups: _containers.RepeatedScalarFieldContainer[str]
    api_versions: _containers.RepeatedScalarFieldContainer[str]
    resources: _containers.RepeatedScalarFieldContainer[str]
    scope: str
    def __init__(self, resource_names: _Optional[_Iterable[str]] = ..., operations: _Optional[_Iterable[str]] = ..., api_groups: _Optional[_Iterable[str]] = ..., api_versions: _Optional[_Iterable[str]] = ..., resources: _Optional[_Iterable[str]] = ..., scope: _Optional[str] = ...) -> None: ...

class ServiceReference(_message.Message):
    __slots__ = ("namespace", "name", "path", "port")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    name: str
    path: str
    port: int
    def __init__(self, namespace: _Optional[str] = ..., name: _Optional[str] = ..., path: _Optional[str] = ..., port: _Optional[int] = ...) -> None: ...

class WebhookClientConfig(_message.Message):
    __slots__ = ("url", "service", "ca_bundle")
    URL_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    CA_BUNDLE_FIELD_NUMBER: _ClassVar[int]
    url: str
    service: ServiceReference
    ca_bundle: bytes
    def __init__(self, url: _Optional[str] = ..., service: _Optional[_Union[ServiceReference, _Mapping]] = ..., ca_bundle: _Optional[bytes] = ...) -> None: ...

class MatchCondition(_message.Message):
    __slots__ = ("name", "expression")
    NAME_FIELD_NUMBER: _ClassVar[int]
    EXPRESSION_FIELD_NUMBER: _ClassVar[int]
    name: str
    expression: str
    def __init__(self, name: _Optional[str] = ..., expression: _Optional[str] = ...) -> None: ...

class MutatingWebhook(_message.Message):
    __slots__ = ("name", "client_config", "rules", "failure_policy", "match_policy", "namespace_selector", "object_selector", "side_effects", "timeout_seconds", "admission_review_versions", "reinvocation_policy", "match_conditions")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CLIENT_CONFIG_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    FAILURE_POLICY_FIELD_NUMBER: _ClassVar[int]
    MATCH_POLICY_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_SELECTOR_FIELD_NUMBER: _ClassVar[int]
    OBJECT_SELECTOR_FIELD_NUMBER: _ClassVar[int]
    SIDE_EFFECTS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    ADMISSION_REVIEW_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    REINVOCATION_POLICY_FIELD_NUMBER: _ClassVar[int]
    MATCH_CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    name: str
    client_config: WebhookClientConfig
    rules: _containers.RepeatedCompositeFieldContainer[RuleWithOperations]
    failure_policy: str
    match_policy: str
    namespace_selector: _meta_pb2.LabelSelector
    object_selector: _meta_pb2.LabelSelector
    side_effects: str
    timeout_seconds: int
    admission_review_versions: _containers.RepeatedScalarFieldContainer[str]
    reinvocation_policy: str
    match_conditions: _containers.RepeatedCompositeFieldContainer[MatchCondition]
    def __init__(self, name: _Optional[str] = ..., client_config: _Optional[_Union[WebhookClientConfig, _Mapping]] = ..., rules: _Optional[_Iterable[_Union[RuleWithOperations, _Mapping]]] = ..., failure_policy: _Optional[str] = ..., match_policy: _Optional[str] = ..., namespace_selector: _Optional[_Union[_meta_pb2.LabelSelector, _Mapping]] = ..., object_selector: _Optional[_Union[_meta_pb2.LabelSelector, _Mapping]] = ..., side_effects: _Optional[str] = ..., timeout_seconds: _Optional[int] = ..., admission_review_versions: _Optional[_Iterable[str]] = ..., reinvocation_policy: _Optional[str] = ..., match_conditions: _Optional[_Iterable[_Union[MatchCondition, _Mapping]]] = ...) -> None: ...

class ValidatingWebhook(_message.Message):
    __slots__ = ("name", "client_config", "rules", "failure_policy", "match_policy", "namespace_selector", "object_selector", "side_effects", "timeout_seconds", "admission_review_versions", "match_conditions")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CLIENT_CONFIG_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    FAILURE_POLICY_FIELD_NUMBER: _ClassVar[int]
    MATCH_POLICY_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_SELECTOR_FIELD_NUMBER: _ClassVar[int]
    OBJECT_SELECTOR_FIELD_NUMBER: _ClassVar[int]
    SIDE_EFFECTS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    ADMISSION_REVIEW_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    MATCH_CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    name: str
    client_config: WebhookClientConfig
    rules: _containers.RepeatedCompositeFieldContainer[RuleWithOperations]
    failure_policy: str
    match_policy: str
    namespace_selector: _meta_pb2.LabelSelector
    object_selector: _meta_pb2.LabelSelector
    side_effects: str
    timeout_seconds: int
    admission_review_versions: _containers.RepeatedScalarFieldContainer[str]
    match_conditions: _containers.RepeatedCompositeFieldContainer[MatchCondition]
    def __init__(self, name: _Optional[str] = ..., client_config: _Optional[_Union[WebhookClientConfig, _Mapping]] = ..., rules: _Optional[_Iterable[_Union[RuleWithOperations, _Mapping]]] = ..., failure_policy: _Optional[str] = ..., match_policy: _Optional[str] = ..., namespace_selector: _Optional[_Union[_meta_pb2.LabelSelector, _Mapping]] = ..., object_selector: _Optional[_Union[_meta_pb2.LabelSelector, _Mapping]] = ..., side_effects: _Optional[str] = ..., timeout_seconds: _Optional[int] = ..., admission_review_versions: _Optional[_Iterable[str]] = ..., match_conditions: _Optional[_Iterable[_Union[MatchCondition, _Mapping]]] = ...) -> None: ...

class MutatingWebhookConfiguration(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "webhooks")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    WEBHOOKS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ObjectMeta
    webhooks: _containers.RepeatedCompositeFieldContainer[MutatingWebhook]
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ObjectMeta, _Mapping]] = ..., webhooks: _Optional[_Iterable[_Union[MutatingWebhook, _Mapping]]] = ...) -> None: ...

class MutatingWebhookConfigurationList(_message.Message):
    __slots__ = ("metadata", "items")
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[MutatingWebhookConfiguration]
    def __init__(self, metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[MutatingWebhookConfiguration, _Mapping]]] = ...) -> None: ...

class MutatingWebhookConfigurationWatchEvent(_message.Message):
    __slots__ = ("type", "object", "events")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: MutatingWebhookConfiguration
    events: _containers.RepeatedCompositeFieldContainer[MutatingWebhookConfigurationWatchEvent]
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[MutatingWebhookConfiguration, _Mapping]] = ..., events: _Optional[_Iterable[_Union[MutatingWebhookConfigurationWatchEvent, _Mapping]]] = ...) -> None: ...

class ValidatingWebhookConfiguration(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "webhooks")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    WEBHOOKS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ObjectMeta
    webhooks: _containers.RepeatedCompositeFieldContainer[ValidatingWebhook]
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ObjectMeta, _Mapping]] = ..., webhooks: _Optional[_Iterable[_Union[ValidatingWebhook, _Mapping]]] = ...) -> None: ...

class ValidatingWebhookConfigurationList(_message.Message):
    __slots__ = ("metadata", "items")
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[ValidatingWebhookConfiguration]
    def __init__(self, metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[ValidatingWebhookConfiguration, _Mapping]]] = ...) -> None: ...

class ValidatingWebhookConfigurationWatchEvent(_message.Message):
    __slots__ = ("type", "object", "events")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: ValidatingWebhookConfiguration
    events: _containers.RepeatedCompositeFieldContainer[ValidatingWebhookConfigurationWatchEvent]
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[ValidatingWebhookConfiguration, _Mapping]] = ..., events: _Optional[_Iterable[_Union[ValidatingWebhookConfigurationWatchEvent, _Mapping]]] = ...) -> None: ...

class ParamKind(_message.Message):
    __slots__ = ("api_version", "kind")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ...) -> None: ...

class MatchResources(_message.Message):
    __slots__ = ("namespace_selector", "object_selector", "resource_rules", "exclude_resource_rules", "match_policy")
    NAMESPACE_SELECTOR_FIELD_NUMBER: _ClassVar[int]
    OBJECT_SELECTOR_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_RULES_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_RESOURCE_RULES_FIELD_NUMBER: _ClassVar[int]
    MATCH_POLICY_FIELD_NUMBER: _ClassVar[int]
    namespace_selector: _meta_pb2.LabelSelector
    object_selector: _meta_pb2.LabelSelector
    resource_rules: _containers.RepeatedCompositeFieldContainer[NamedRuleWithOperations]
    exclude_resource_rules: _containers.RepeatedCompositeFieldContainer[NamedRuleWithOperations]
    match_policy: str
    def __init__(self, namespace_selector: _Optional[_Union[_meta_pb2.LabelSelector, _Mapping]] = ..., object_selector: _Optional[_Union[_meta_pb2.LabelSelector, _Mapping]] = ..., resource_rules: _Optional[_Iterable[_Union[NamedRuleWithOperations, _Mapping]]] = ..., exclude_resource_rules: _Optional[_Iterable[_Union[NamedRuleWithOperations, _Mapping]]] = ..., match_policy: _Optional[str] = ...) -> None: ...

class Validation(_message.Message):
    __slots__ = ("expression", "message", "reason", "message_expression")
    EXPRESSION_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_EXPRESSION_FIELD_NUMBER: _ClassVar[int]
    expression: str
    message: str
    reason: str
    message_expression: str
    def __init__(self, expression: _Optional[str] = ..., message: _Optional[str] = ..., reason: _Optional[str] = ..., message_expression: _Optional[str] = ...) -> None: ...

class Variable(_message.Message):
    __slots__ = ("name", "expression")
    NAME_FIELD_NUMBER: _ClassVar[int]
    EXPRESSION_FIELD_NUMBER: _ClassVar[int]
    name: str
    expression: str
    def __init__(self, name: _Optional[str] = ..., expression: _Optional[str] = ...) -> None: ...

class AuditAnnotation(_message.Message):
    __slots__ = ("key", "value_expression")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_EXPRESSION_FIELD_NUMBER: _ClassVar[int]
    key: str
    value_expression: str
    def __init__(self, key: _Optional[str] = ..., value_expression: _Optional[str] = ...) -> None: ...

class ValidatingAdmissionPolicySpec(_message.Message):
    __slots__ = ("param_kind", "match_constraints", "validations", "failure_policy", "audit_annotations", "match_conditions", "variables")
    PARAM_KIND_FIELD_NUMBER: _ClassVar[int]
    MATCH_CONSTRAINTS_FIELD_NUMBER: _ClassVar[int]
    VALIDATIONS_FIELD_NUMBER: _ClassVar[int]
    FAILURE_POLICY_FIELD_NUMBER: _ClassVar[int]
    AUDIT_ANNOTATIONS_FIELD_NUMBER: _ClassVar[int]
    MATCH_CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    VARIABLES_FIELD_NUMBER: _ClassVar[int]
    param_kind: ParamKind
    match_constraints: MatchResources
    validations: _containers.RepeatedCompositeFieldContainer[Validation]
    failure_policy: str
    audit_annotations: _containers.RepeatedCompositeFieldContainer[AuditAnnotation]
    match_conditions: _containers.RepeatedCompositeFieldContainer[MatchCondition]
    variables: _containers.RepeatedCompositeFieldContainer[Variable]
    def __init__(self, param_kind: _Optional[_Union[ParamKind, _Mapping]] = ..., match_constraints: _Optional[_Union[MatchResources, _Mapping]] = ..., validations: _Optional[_Iterable[_Union[Validation, _Mapping]]] = ..., failure_policy: _Optional[str] = ..., audit_annotations: _Optional[_Iterable[_Union[AuditAnnotation, _Mapping]]] = ..., match_conditions: _Optional[_Iterable[_Union[MatchCondition, _Mapping]]] = ..., variables: _Optional[_Iterable[_Union[Variable, _Mapping]]] = ...) -> None: ...

class ExpressionWarning(_message.Message):
    __slots__ = ("field_ref", "warning")
    FIELD_REF_FIELD_NUMBER: _ClassVar[int]
    WARNING_FIELD_NUMBER: _ClassVar[int]
    field_ref: str
    warning: str
    def __init__(self, field_ref: _Optional[str] = ..., warning: _Optional[str] = ...) -> None: ...

class TypeChecking(_message.Message):
    __slots__ = ("expression_warnings",)
    EXPRESSION_WARNINGS_FIELD_NUMBER: _ClassVar[int]
    expression_warnings: _containers.RepeatedCompositeFieldContainer[ExpressionWarning]
    def __init__(self, expression_warnings: _Optional[_Iterable[_Union[ExpressionWarning, _Mapping]]] = ...) -> None: ...

class ValidatingAdmissionPolicyStatus(_message.Message):
    __slots__ = ("observed_generation", "type_checking", "conditions")
    OBSERVED_GENERATION_FIELD_NUMBER: _ClassVar[int]
    TYPE_CHECKING_FIELD_NUMBER: _ClassVar[int]
    CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    observed_generation: int
    type_checking: TypeChecking
    conditions: _containers.RepeatedCompositeFieldContainer[_meta_pb2.Condition]
    def __init__(self, observed_generation: _Optional[int] = ..., type_checking: _Optional[_Union[TypeChecking, _Mapping]] = ..., conditions: _Optional[_Iterable[_Union[_meta_pb2.Condition, _Mapping]]] = ...) -> None: ...

class ValidatingAdmissionPolicy(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "spec", "status")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ObjectMeta
    spec: ValidatingAdmissionPolicySpec
    status: ValidatingAdmissionPolicyStatus
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ObjectMeta, _Mapping]] = ..., spec: _Optional[_Union[ValidatingAdmissionPolicySpec, _Mapping]] = ..., status: _Optional[_Union[ValidatingAdmissionPolicyStatus, _Mapping]] = ...) -> None: ...

class ValidatingAdmissionPolicyList(_message.Message):
    __slots__ = ("metadata", "items")
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[ValidatingAdmissionPolicy]
    def __init__(self, metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[ValidatingAdmissionPolicy, _Mapping]]] = ...) -> None: ...

class ValidatingAdmissionPolicyWatchEvent(_message.Message):
    __slots__ = ("type", "object", "events")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: ValidatingAdmissionPolicy
    events: _containers.RepeatedCompositeFieldContainer[ValidatingAdmissionPolicyWatchEvent]
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[ValidatingAdmissionPolicy, _Mapping]] = ..., events: _Optional[_Iterable[_Union[ValidatingAdmissionPolicyWatchEvent, _Mapping]]] = ...) -> None: ...

class ParamRef(_message.Message):
    __slots__ = ("name", "namespace", "selector", "parameter_not_found_action")
    NAME_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    SELECTOR_FIELD_NUMBER: _ClassVar[int]
    PARAMETER_NOT_FOUND_ACTION_FIELD_NUMBER: _ClassVar[int]
    name: str
    namespace: str
    selector: _meta_pb2.LabelSelector
    parameter_not_found_action: str
    def __init__(self, name: _Optional[str] = ..., namespace: _Optional[str] = ..., selector: _Optional[_Union[_meta_pb2.LabelSelector, _Mapping]] = ..., parameter_not_found_action: _Optional[str] = ...) -> None: ...

class ValidatingAdmissionPolicyBindingSpec(_message.Message):
    __slots__ = ("policy_name", "param_ref", "match_resources", "validation_actions")
    POLICY_NAME_FIELD_NUMBER: _ClassVar[int]
    PARAM_REF_FIELD_NUMBER: _ClassVar[int]
    MATCH_RESOURCES_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    policy_name: str
    param_ref: ParamRef
    match_resources: MatchResources
    validation_actions: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, policy_name: _Optional[str] = ..., param_ref: _Optional[_Union[ParamRef, _Mapping]] = ..., match_resources: _Optional[_Union[MatchResources, _Mapping]] = ..., validation_actions: _Optional[_Iterable[str]] = ...) -> None: ...

class ValidatingAdmissionPolicyBinding(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "spec")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ObjectMeta
    spec: ValidatingAdmissionPolicyBindingSpec
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ObjectMeta, _Mapping]] = ..., spec: _Optional[_Union[ValidatingAdmissionPolicyBindingSpec, _Mapping]] = ...) -> None: ...

class ValidatingAdmissionPolicyBindingList(_message.Message):
    __slots__ = ("metadata", "items")
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[ValidatingAdmissionPolicyBinding]
    def __init__(self, metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[ValidatingAdmissionPolicyBinding, _Mapping]]] = ...) -> None: ...

class ValidatingAdmissionPolicyBindingWatchEvent(_message.Message):
    __slots__ = ("type", "object", "events")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: ValidatingAdmissionPolicyBinding
    events: _containers.RepeatedCompositeFieldContainer[ValidatingAdmissionPolicyBindingWatchEvent]
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[ValidatingAdmissionPolicyBinding, _Mapping]] = ..., events: _Optional[_Iterable[_Union[ValidatingAdmissionPolicyBindingWatchEvent, _Mapping]]] = ...) -> None: ...
