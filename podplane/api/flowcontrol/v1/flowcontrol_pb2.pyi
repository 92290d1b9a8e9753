from podplane.api.meta.v1 import schema_pb2 as _schema_pb2
from podplane.api.meta.v1 import meta_pb2 as _meta_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FlowSchema(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "spec", "status")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ObjectMeta
    spec: FlowSchemaSpec
    status: FlowSchemaStatus
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ObjectMeta, _Mapping]] = ..., spec: _Optional[_Union[FlowSchemaSpec, _Mapping]] = ..., status: _Optional[_Union[FlowSchemaStatus, _Mapping]] = ...) -> None: ...

class FlowSchemaList(_message.Message):
    __slots__ = ("metadata", "items")
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[FlowSchema]
    def __init__(self, metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[FlowSchema, _Mapping]]] = ...) -> None: ...

class FlowSchemaSpec(_message.Message):
    __slots__ = ("priority_level_configuration", "matching_precedence", "distinguisher_method", "rules")
    PRIORITY_LEVEL_CONFIGURATION_FIELD_NUMBER: _ClassVar[int]
    MATCHING_PRECEDENCE_FIELD_NUMBER: _ClassVar[int]
    DISTINGUISHER_METHOD_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    priority_level_configuration: PriorityLevelConfigurationReference
    matching_precedence: int
    distinguisher_method: FlowDistinguisherMethod
    rules: _containers.RepeatedCompositeFieldContainer[PolicyRulesWithSubjects]
    def __init__(self, priority_level_configuration: _Optional[_Union[PriorityLevelConfigurationReference, _Mapping]] = ..., matching_precedence: _Optional[int] = ..., distinguisher_method: _Optional[_Union[FlowDistinguisherMethod, _Mapping]] = ..., rules: _Optional[_Iterable[_Union[PolicyRulesWithSubjects, _Mapping]]] = ...) -> None: ...

class FlowDistinguisherMethod(_message.Message):
    __slots__ = ("type",)
    TYPE_FIELD_NUMBER: _ClassVar[int]
    type: str
    def __init__(self, type: _Optional[str] = ...) -> None: ...

class PriorityLevelConfigurationReference(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class PolicyRulesWithSubjects(_message.Message):
    __slots__ = ("subjects", "resource_rules", "non_resource_rules")
    SUBJECTS_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_RULES_FIELD_NUMBER: _ClassVar[int]
    NON_RESOURCE_RULES_FIELD_NUMBER: _ClassVar[int]
    subjects: _containers.RepeatedCompositeFieldContainer[Subject]
    resource_rules: _containers.RepeatedCompositeFieldContainer[ResourcePolicyRule]
    non_resource_rules: _containers.RepeatedCompositeFieldContainer[NonResourcePolicyRule]
    def __init__(self, subjects: _Optional[_Iterable[_Union[Subject, _Mapping]]] = ..., resource_rules: _Optional[_Iterable[_Union[ResourcePolicyRule, _Mapping]]] = ..., non_resource_rules: _Optional[_Iterable[_Union[NonResourcePolicyRule, _Mapping]]] = ...) -> None: ...

class Subject(_message.Message):
    __slots__ = ("kind", "user", "group", "service_account")
    KIND_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    SERVICE_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    kind: str
    user: UserSubject
    group: GroupSubject
    service_account: ServiceAccountSubject
    def __init__(self, kind: _Optional[str] = ..., user: _Optional[_Union[UserSubject, _Mapping]] = ..., group: _Optional[_Union[GroupSubject, _Mapping]] = ..., service_account: _Optional[_Union[ServiceAccountSubject, _Mapping]] = ...) -> None: ...

class UserSubject(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GroupSubject(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ServiceAccountSubject(_message.Message):
    __slots__ = ("namespace", "name")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    name: str
    def __init__(self, namespace: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class ResourcePolicyRule(_message.Message):
    __slots__ = ("verbs", "api_groups", "resources", "cluster_scope", "namespaces")
    VERBS_FIELD_NUMBER: _ClassVar[int]
    API_GROUPS_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_SCOPE_FIELD_NUMBER: _ClassVar[int]
    NAMESPACES_FIELD_NUMBER: _ClassVar[int]
    verbs: _containers.RepeatedScalarFieldContainer[str]
    api_groups: _containers.RepeatedScalarFieldContainer[str]
    resources: _containers.RepeatedScalarFieldContainer[str]
    cluster_scope: bool
    namespaces: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, verbs: _Optional[_Iterable[str]] = ..., api_groups: _Optional[_Iterable[str]] = ..., resources: _Optional[_Iterable[str]] = ..., cluster_scope: bool = ..., namespaces: _Optional[_Iterable[str]] = ...) -> None: ...

class NonResourcePolicyRule(_message.Message):
    __slots__ = ("verbs", "non_resource_urls")
    VERBS_FIELD_NUMBER: _ClassVar[int]
    NON_RESOURCE_URLS_FIELD_NUMBER: _ClassVar[int]
    verbs: _containers.RepeatedScalarFieldContainer[str]
    non_resource_urls: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, verbs: _Optional[_Iterable[str]] = ..., non_resource_urls: _Optional[_Iterable[str]] = ...) -> None: ...

class FlowSchemaStatus(_message.Message):
    __slots__ = ("conditions",)
    CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    conditions: _containers.RepeatedCompositeFieldContainer[FlowSchemaCondition]
    def __init__(self, conditions: _Optional[_Iterable[_Union[FlowSchemaCondition, _Mapping]]] = ...) -> None: ...

class FlowSchemaCondition(_message.Message):
    __slots__ = ("type", "status", "last_transition_time", "reason", "message")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LAST_TRANSITION_TIME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    type: str
    status: str
    last_transition_time: str
    reason: str
    message: str
    def __init__(self, type: _Optional[str] = ..., status: _Optional[str] = ..., last_transition_time: _Optional[str] = ..., reason: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class PriorityLevelConfiguration(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "spec", "status")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ObjectMeta
    spec: PriorityLevelConfigurationSpec
    status: PriorityLevelConfigurationStatus
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ObjectMeta, _Mapping]] = ..., spec: _Optional[_Union[PriorityLevelConfigurationSpec, _Mapping]] = ..., status: _Optional[_Union[PriorityLevelConfigurationStatus, _Mapping]] = ...) -> None: ...

class PriorityLevelConfigurationList(_message.Message):
    __slots__ = ("metadata", "items")
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[PriorityLevelConfiguration]
    def __init__(self, metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[PriorityLevelConfiguration, _Mapping]]] = ...) -> None: ...

class PriorityLevelConfigurationSpec(_message.Message):
    __slots__ = ("type", "limited", "exempt")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    LIMITED_FIELD_NUMBER: _ClassVar[int]
    EXEMPT_FIELD_NUMBER: _ClassVar[int]
    type: str
    limited: LimitedPriorityLevelConfiguration
    exempt: ExemptPriorityLevelConfiguration
    def __init__(self, type: _Optional[str] = ..., limited: _Optional[_Union[LimitedPriorityLevelConfiguration, _Mapping]] = ..., exempt: _Optional[_Union[ExemptPriorityLevelConfiguration, _Mapping]] = ...) -> None: ...

class LimitedPriorityLevelConfiguration(_message.Message):
    __slots__ = ("nominal_concurrency_shares", "limit_response", "lendable_percent", "borrowing_limit_percent")
    NOMINAL_CONCURRENCY_SHARES_FIELD_NUMBER: _ClassVar[int]
    LIMIT_RESPONSE_FIELD_NUMBER: _ClassVar[int]
    LENDABLE_PERCENT_FIELD_NUMBER: _ClassVar[int]
    BORROWING_LIMIT_PERCENT_FIELD_NUMBER: _ClassVar[int]
    nominal_concurrency_shares: int
    limit_response: LimitResponse
    lendable_percent: int
    borrowing_limit_percent: int
    def __init__(self, nominal_concurrency_shares: _Optional[int] = ..., limit_response: _Optional[_Union[LimitResponse, _Mapping]] = ..., lendable_percent: _Optional[int] = ..., borrowing_limit_percent: _Optional[int] = ...) -> None: ...

class ExemptPriorityLevelConfiguration(_message.Message):
    __slots__ = ("nominal_concurrency_shares", "lendable_percent")
    NOMINAL_CONCURRENCY_SHARES_FIELD_NUMBER: _ClassVar[int]
    LENDABLE_PERCENT_FIELD_NUMBER: _ClassVar[int]
    nominal_concurrency_shares: int
    lendable_percent: int
    def __init__(self, nominal_concurrency_shares: _Optional[int] = ..., lendable_percent: _Optional[int] = ...) -> None: ...

class LimitResponse(_message.Message):
    __slots__ = ("type", "queuing")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    QUEUING_FIELD_NUMBER: _ClassVar[int]
    type: str
    queuing: QueuingConfiguration
    def __init__(self, type: _Optional[str] = ..., queuing: _Optional[_Union[QueuingConfiguration, _Mapping]] = ...) -> None: ...

class QueuingConfiguration(_message.Message):
    __slots__ = ("queues", "hand_size", "queue_length_limit")
    QUEUES_FIELD_NUMBER: _ClassVar[int]
    HAND_SIZE_FIELD_NUMBER: _ClassVar[int]
    QUEUE_LENGTH_LIMIT_FIELD_NUMBER: _ClassVar[int]
    queues: int
    hand_size: int
    queue_length_limit: int
    def __init__(self, queues: _Optional[int] = ..., hand_size: _Optional[int] = ..., queue_length_limit: _Optional[int] = ...) -> None: ...

class PriorityLevelConfigurationStatus(_message.Message):
    __slots__ = ("conditions",)
    CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    conditions: _containers.RepeatedCompositeFieldContainer[PriorityLevelConfigurationCondition]
    def __init__(self, conditions: _Optional[_Iterable[_Union[PriorityLevelConfigurationCondition, _Mapping]]] = ...) -> None: ...

class PriorityLevelConfigurationCondition(_message.Message):
    __slots__ = ("type", "status", "last_transition_time", "reason", "message")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LAST_TRANSITION_TIME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    type: str
    status: str
    last_transition_time: str
    reason: str
    message: str
    def __init__(self, type: _Optional[str] = ..., status: _Optional[str] = ..., last_transition_time: _Optional[str] = ..., reason: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class FlowSchemaWatchEvent(_message.Message):
    __slots__ = ("type", "object", "events")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: FlowSchema
    events: _containers.RepeatedCompositeFieldContainer[FlowSchemaWatchEvent]
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[FlowSchema, _Mapping]] = ..., events: _Optional[_Iterable[_Union[FlowSchemaWatchEvent, _Mapping]]] = ...) -> None: ...

class PriorityLevelConfigurationWatchEvent(_message.Message):
    __slots__ = ("type", "object", "events")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: PriorityLevelConfiguration
    events: _containers.RepeatedCompositeFieldContainer[PriorityLevelConfigurationWatchEvent]
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[PriorityLevelConfiguration, _Mapping]] = ..., events: _Optional[_Iterable[_Union[PriorityLevelConfigurationWatchEvent, _Mapping]]] = ...) -> None: ...
