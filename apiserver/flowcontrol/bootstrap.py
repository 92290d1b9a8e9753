"""Kubernetes' bootstrap API Priority and Fairness configuration
(k8s.io/apiserver/pkg/apis/flowcontrol/bootstrap): the mandatory exempt and catch-all levels and
schemas, and the suggested ones. Shares, lendable percents and queuing parameters are Kubernetes';
the schemas map podplane's identities as they map Kubernetes' own:

- system:masters (admin) -> exempt; health probes -> exempt;
- system:kube-scheduler and system:kube-controller-manager renewing their Lease (and kube-system
  service accounts) -> leader-election;
- kubelets (system:nodes) on their Node and node Lease (the heartbeats) -> node-high, and on
  everything else (pods, events, watches) -> system;
- the scheduler and the controller-manager otherwise -> workload-high, one flow per namespace;
- service accounts -> workload-low; every other user (viewer, tokens, anonymous) ->
  global-default, one flow per user; catch-all is only reached by a request no other matches.

Left out: endpoint-controller (podplane serves no Endpoints)."""

from __future__ import annotations

from apiserver.auth.user import (
    AUTHENTICATED_GROUP,
    MASTERS_GROUP,
    NODES_GROUP,
    UNAUTHENTICATED_GROUP,
)
from apiserver.flowcontrol.configuration import (
    ALL,
    BY_NAMESPACE,
    BY_USER,
    FlowSchema,
    NonResourceRule,
    PolicyRules,
    PriorityLevel,
    Queuing,
    ResourceRule,
    Subject,
    groups,
    service_accounts,
    users,
)

KUBE_SCHEDULER = "system:kube-scheduler"
KUBE_CONTROLLER_MANAGER = "system:kube-controller-manager"
SERVICE_ACCOUNTS_GROUP = "system:serviceaccounts"
KUBE_SYSTEM = "kube-system"
COORDINATION = "coordination.k8s.io"

EXEMPT = "exempt"
CATCH_ALL = "catch-all"
SYSTEM = "system"
NODE_HIGH = "node-high"
LEADER_ELECTION = "leader-election"
WORKLOAD_HIGH = "workload-high"
WORKLOAD_LOW = "workload-low"
GLOBAL_DEFAULT = "global-default"

PRIORITY_LEVELS: tuple[PriorityLevel, ...] = (
    PriorityLevel(EXEMPT, shares=0, exempt=True),
    PriorityLevel(CATCH_ALL, shares=5),  # rejects rather than queues
    # Self-maintenance of the cluster: kubelets' other requests.
    PriorityLevel(SYSTEM, 30, 33, queuing=Queuing(64, 6, 50)),
    # Node health reporting, kept apart from "system" so nodes report even under pod churn.
    PriorityLevel(NODE_HIGH, 40, 25, queuing=Queuing(64, 6, 50)),
    PriorityLevel(LEADER_ELECTION, 10, 0, queuing=Queuing(16, 4, 50)),
    PriorityLevel(WORKLOAD_HIGH, 40, 50, queuing=Queuing(128, 6, 50)),
    PriorityLevel(WORKLOAD_LOW, 100, 90, queuing=Queuing(128, 6, 50)),
    PriorityLevel(GLOBAL_DEFAULT, 20, 50, queuing=Queuing(128, 6, 50)),
)

_EVERYTHING = ResourceRule((ALL,), (ALL,), (ALL,), (ALL,), cluster_scope=True)
_EVERY_PATH = NonResourceRule((ALL,), (ALL,))
_LEASE_RENEWALS = ResourceRule(("get", "create", "update"), (COORDINATION,), ("leases",))


def _all_requests_of(subjects: tuple[Subject, ...]) -> tuple[PolicyRules, ...]:
    return (PolicyRules(subjects, (_EVERYTHING,), (_EVERY_PATH,)),)


FLOW_SCHEMAS: tuple[FlowSchema, ...] = (
    FlowSchema(EXEMPT, EXEMPT, 1, None, _all_requests_of(groups(MASTERS_GROUP))),
    FlowSchema(
        "probes",
        EXEMPT,
        2,
        None,
        (
            PolicyRules(
                groups(UNAUTHENTICATED_GROUP, AUTHENTICATED_GROUP),
                non_resource_rules=(NonResourceRule(("get",), ("/healthz", "/readyz", "/livez")),),
            ),
        ),
    ),
    FlowSchema(
        "system-leader-election",
        LEADER_ELECTION,
        100,
        BY_USER,
        (
            PolicyRules(
                users(KUBE_CONTROLLER_MANAGER, KUBE_SCHEDULER) + service_accounts(KUBE_SYSTEM, ALL),
                (_LEASE_RENEWALS,),
            ),
        ),
    ),
    FlowSchema(
        "workload-leader-election",
        LEADER_ELECTION,
        200,
        BY_USER,
        (
            PolicyRules(
                service_accounts(KUBE_SYSTEM, ALL),
                (
                    ResourceRule(("get", "create", "update"), ("",), ("endpoints", "configmaps")),
                    _LEASE_RENEWALS,
                ),
            ),
        ),
    ),
    FlowSchema(
        "system-node-high",
        NODE_HIGH,
        400,
        BY_USER,
        (
            PolicyRules(
                groups(NODES_GROUP),
                (
                    ResourceRule((ALL,), ("",), ("nodes", "nodes/status"), cluster_scope=True),
                    ResourceRule((ALL,), (COORDINATION,), ("leases",)),
                ),
            ),
        ),
    ),
    FlowSchema("system-nodes", SYSTEM, 500, BY_USER, _all_requests_of(groups(NODES_GROUP))),
    FlowSchema(
        "kube-controller-manager",
        WORKLOAD_HIGH,
        800,
        BY_NAMESPACE,
        _all_requests_of(users(KUBE_CONTROLLER_MANAGER)),
    ),
    FlowSchema(
        "kube-scheduler", WORKLOAD_HIGH, 800, BY_NAMESPACE, _all_requests_of(users(KUBE_SCHEDULER))
    ),
    FlowSchema(
        "kube-system-service-accounts",
        WORKLOAD_HIGH,
        900,
        BY_NAMESPACE,
        _all_requests_of(service_accounts(KUBE_SYSTEM, ALL)),
    ),
    FlowSchema(
        "service-accounts",
        WORKLOAD_LOW,
        9000,
        BY_USER,
        _all_requests_of(groups(SERVICE_ACCOUNTS_GROUP)),
    ),
    FlowSchema(
        GLOBAL_DEFAULT,
        GLOBAL_DEFAULT,
        9900,
        BY_USER,
        _all_requests_of(groups(UNAUTHENTICATED_GROUP, AUTHENTICATED_GROUP)),
    ),
    FlowSchema(
        CATCH_ALL,
        CATCH_ALL,
        10000,
        BY_USER,
        _all_requests_of(groups(UNAUTHENTICATED_GROUP, AUTHENTICATED_GROUP)),
    ),
)
