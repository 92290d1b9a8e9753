"""flowcontrol.apiserver.k8s.io/v1's names that its objects' users share (k8s.io/api/flowcontrol/v1
types.go): the mandatory objects' names, the enumerations, the wildcards, the auto-update
annotation and the FlowSchema condition API Priority and Fairness writes."""

from __future__ import annotations

import math

# The mandatory objects, which every apiserver keeps as Kubernetes defines them.
PRIORITY_LEVEL_EXEMPT = "exempt"
PRIORITY_LEVEL_CATCH_ALL = "catch-all"
FLOW_SCHEMA_EXEMPT = "exempt"
FLOW_SCHEMA_CATCH_ALL = "catch-all"

# Wildcards of the policy rules (VerbAll, APIGroupAll, ResourceAll, NamespaceEvery, NameAll,
# NonResourceAll).
ALL = "*"

DISTINGUISHER_BY_USER = "ByUser"
DISTINGUISHER_BY_NAMESPACE = "ByNamespace"
# Sorted, as Kubernetes lists them in its "supported values".
DISTINGUISHER_METHODS = (DISTINGUISHER_BY_NAMESPACE, DISTINGUISHER_BY_USER)

SUBJECT_USER = "User"
SUBJECT_GROUP = "Group"
SUBJECT_SERVICE_ACCOUNT = "ServiceAccount"
SUBJECT_KINDS = (SUBJECT_GROUP, SUBJECT_SERVICE_ACCOUNT, SUBJECT_USER)

TYPE_EXEMPT = "Exempt"
TYPE_LIMITED = "Limited"
PRIORITY_LEVEL_TYPES = (TYPE_EXEMPT, TYPE_LIMITED)

LIMIT_RESPONSE_QUEUE = "Queue"
LIMIT_RESPONSE_REJECT = "Reject"
LIMIT_RESPONSE_TYPES = (LIMIT_RESPONSE_QUEUE, LIMIT_RESPONSE_REJECT)

# The verbs a rule may name (besides "*").
VERBS = (
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "proxy",
    "update",
    "watch",
)

FLOW_SCHEMA_MAX_MATCHING_PRECEDENCE = 10000

# "true" on a bootstrap object: the apiserver keeps its spec as Kubernetes' bootstrap
# configuration has it; "false": an operator's edits are kept.
AUTO_UPDATE_ANNOTATION = "apf.kubernetes.io/autoupdate-spec"

# The FlowSchema condition the apiserver keeps: True when its priority level does not exist.
CONDITION_DANGLING = "Dangling"

# The response headers naming the schema and level a request was classified to.
FLOW_SCHEMA_UID_HEADER = "X-Kubernetes-PF-FlowSchema-UID"
PRIORITY_LEVEL_UID_HEADER = "X-Kubernetes-PF-PriorityLevel-UID"

# Bits of a flow's hash shuffle sharding may consume to deal a hand: using all 64 would make the
# last card slightly uneven (k8s.io/apiserver/pkg/util/shufflesharding).
MAX_HASH_BITS = 60


def required_entropy_bits(deck_size: int, hand_size: int) -> int:
    """The hash bits dealing `hand_size` cards of `deck_size` takes."""
    return math.ceil(math.log2(deck_size) * hand_size)
