"""Kubernetes' bootstrap API Priority and Fairness configuration
(k8s.io/apiserver/pkg/apis/flowcontrol/bootstrap/default.go, 1.31) as the FlowSchema and
PriorityLevelConfiguration objects the apiserver keeps in the API
(apiserver/registry/flowcontrol/ensurer.py), whose mandatory ones validation holds fixed: the
mandatory exempt and catch-all levels and schemas, and the suggested ones, each annotated
apf.kubernetes.io/autoupdate-spec "true". podplane's identities are Kubernetes' own:

- system:masters (admin) -> exempt; health probes -> exempt;
- system:kube-scheduler and system:kube-controller-manager renewing their Lease (and kube-system
  service accounts) -> leader-election;
- kubelets (system:nodes) on their Node and node Lease (the heartbeats) -> node-high, and on
  everything else (pods, events, watches) -> system;
- the scheduler and the controller-manager otherwise -> workload-high, one flow per namespace;
- service accounts -> workload-low; every other user (viewer, tokens, anonymous) ->
  global-default, one flow per user; catch-all is only reached by a request no other matches.

Each function returns new objects: callers may change what they are given."""

from __future__ import annotations

from podplane.api.flowcontrol.v1 import flowcontrol_pb2 as fc
from podplane.apimachinery import flowcontrol
from podplane.apimachinery.flowcontrol import ALL
from podplane.apimachinery.serviceaccount import ALL_SERVICE_ACCOUNTS_GROUP

# Kubernetes' well-known users and groups (k8s.io/apiserver/pkg/authentication/user), which
# podplane's authenticators give its components and callers too.
MASTERS_GROUP = "system:masters"
NODES_GROUP = "system:nodes"
AUTHENTICATED_GROUP = "system:authenticated"
UNAUTHENTICATED_GROUP = "system:unauthenticated"
KUBE_SCHEDULER = "system:kube-scheduler"
KUBE_CONTROLLER_MANAGER = "system:kube-controller-manager"
KUBE_SYSTEM = "kube-system"
COORDINATION = "coordination.k8s.io"

EXEMPT = flowcontrol.PRIORITY_LEVEL_EXEMPT
CATCH_ALL = flowcontrol.PRIORITY_LEVEL_CATCH_ALL
SYSTEM = "system"
NODE_HIGH = "node-high"
LEADER_ELECTION = "leader-election"
WORKLOAD_HIGH = "workload-high"
WORKLOAD_LOW = "workload-low"
GLOBAL_DEFAULT = "global-default"


def _meta(obj: fc.FlowSchema | fc.PriorityLevelConfiguration, name: str) -> None:
    obj.metadata.name = name
    obj.metadata.annotations[flowcontrol.AUTO_UPDATE_ANNOTATION] = "true"


def _exempt_level() -> fc.PriorityLevelConfiguration:
    pl = fc.PriorityLevelConfiguration()
    _meta(pl, EXEMPT)
    pl.spec.type = flowcontrol.TYPE_EXEMPT
    pl.spec.exempt.nominal_concurrency_shares = 0
    pl.spec.exempt.lendable_percent = 0
    return pl


def _limited_level(
    name: str, shares: int, lendable: int, queuing: tuple[int, int, int] | None
) -> fc.PriorityLevelConfiguration:
    """A Limited level; `queuing` (queues, hand size, queue length limit), or None: it rejects
    what it cannot execute at once."""
    pl = fc.PriorityLevelConfiguration()
    _meta(pl, name)
    pl.spec.type = flowcontrol.TYPE_LIMITED
    limited = pl.spec.limited
    limited.nominal_concurrency_shares = shares
    limited.lendable_percent = lendable
    if queuing is None:
        limited.limit_response.type = flowcontrol.LIMIT_RESPONSE_REJECT
    else:
        limited.limit_response.type = flowcontrol.LIMIT_RESPONSE_QUEUE
        q = limited.limit_response.queuing
        q.queues, q.hand_size, q.queue_length_limit = queuing
    return pl


def mandatory_priority_levels() -> list[fc.PriorityLevelConfiguration]:
    return [_limited_level(CATCH_ALL, 5, 0, None), _exempt_level()]


def suggested_priority_levels() -> list[fc.PriorityLevelConfiguration]:
    return [
        # Self-maintenance of the cluster: kubelets' other requests.
        _limited_level(SYSTEM, 30, 33, (64, 6, 50)),
        # Node health reporting, kept apart from "system" so nodes report even under pod churn.
        _limited_level(NODE_HIGH, 40, 25, (64, 6, 50)),
        _limited_level(LEADER_ELECTION, 10, 0, (16, 4, 50)),
        _limited_level(WORKLOAD_HIGH, 40, 50, (128, 6, 50)),
        _limited_level(WORKLOAD_LOW, 100, 90, (128, 6, 50)),
        _limited_level(GLOBAL_DEFAULT, 20, 50, (128, 6, 50)),
    ]


# ---------------------------------------------------------------- flow schemas
def _subject(kind: str, name: str, namespace: str = "") -> fc.Subject:
    s = fc.Subject(kind=kind)
    if kind == flowcontrol.SUBJECT_USER:
        s.user.name = name
    elif kind == flowcontrol.SUBJECT_GROUP:
        s.group.name = name
    else:
        s.service_account.namespace = namespace
        s.service_account.name = name
    return s


def _users(*names: str) -> list[fc.Subject]:
    return [_subject(flowcontrol.SUBJECT_USER, n) for n in names]


def _groups(*names: str) -> list[fc.Subject]:
    return [_subject(flowcontrol.SUBJECT_GROUP, n) for n in names]


def _kube_system_service_accounts(*names: str) -> list[fc.Subject]:
    return [_subject(flowcontrol.SUBJECT_SERVICE_ACCOUNT, n, KUBE_SYSTEM) for n in names]


def _resource_rule(
    verbs: list[str], groups: list[str], resources: list[str], cluster_scope: bool
) -> fc.ResourcePolicyRule:
    return fc.ResourcePolicyRule(
        verbs=verbs,
        api_groups=groups,
        resources=resources,
        namespaces=[ALL],
        cluster_scope=cluster_scope,
    )


def _everything(subjects: list[fc.Subject]) -> fc.PolicyRulesWithSubjects:
    """Every request of the subjects: every resource, in every namespace or none, every path."""
    return fc.PolicyRulesWithSubjects(
        subjects=subjects,
        resource_rules=[_resource_rule([ALL], [ALL], [ALL], True)],
        non_resource_rules=[fc.NonResourcePolicyRule(verbs=[ALL], non_resource_urls=[ALL])],
    )


def _schema(
    name: str,
    level: str,
    precedence: int,
    distinguisher: str | None,
    rules: fc.PolicyRulesWithSubjects,
) -> fc.FlowSchema:
    fs = fc.FlowSchema()
    _meta(fs, name)
    fs.spec.priority_level_configuration.name = level
    fs.spec.matching_precedence = precedence
    if distinguisher is not None:
        fs.spec.distinguisher_method.type = distinguisher
    fs.spec.rules.append(rules)
    return fs


def mandatory_flow_schemas() -> list[fc.FlowSchema]:
    everyone = _groups(UNAUTHENTICATED_GROUP, AUTHENTICATED_GROUP)
    return [
        _schema(EXEMPT, EXEMPT, 1, None, _everything(_groups(MASTERS_GROUP))),
        _schema(
            CATCH_ALL, CATCH_ALL, 10000, flowcontrol.DISTINGUISHER_BY_USER, _everything(everyone)
        ),
    ]


def suggested_flow_schemas() -> list[fc.FlowSchema]:
    """In Kubernetes' order: nodes, probes, leader election, the controller-manager's endpoints,
    then the control plane's other requests and workloads'."""
    by_user = flowcontrol.DISTINGUISHER_BY_USER
    renewals = ["get", "create", "update"]
    lease_renewals = _resource_rule(renewals, [COORDINATION], ["leases"], False)
    kube_system_accounts = _kube_system_service_accounts(ALL)
    return [
        _schema("system-nodes", SYSTEM, 500, by_user, _everything(_groups(NODES_GROUP))),
        _schema(
            "system-node-high",
            NODE_HIGH,
            400,
            by_user,
            fc.PolicyRulesWithSubjects(
                subjects=_groups(NODES_GROUP),
                resource_rules=[
                    _resource_rule([ALL], [""], ["nodes", "nodes/status"], True),
                    _resource_rule([ALL], [COORDINATION], ["leases"], False),
                ],
            ),
        ),
        _schema(
            "probes",
            EXEMPT,
            2,
            None,
            fc.PolicyRulesWithSubjects(
                subjects=_groups(UNAUTHENTICATED_GROUP, AUTHENTICATED_GROUP),
                non_resource_rules=[
                    fc.NonResourcePolicyRule(
                        verbs=["get"], non_resource_urls=["/healthz", "/readyz", "/livez"]
                    )
                ],
            ),
        ),
        _schema(
            "system-leader-election",
            LEADER_ELECTION,
            100,
            by_user,
            fc.PolicyRulesWithSubjects(
                subjects=_users(KUBE_CONTROLLER_MANAGER, KUBE_SCHEDULER) + kube_system_accounts,
                resource_rules=[lease_renewals],
            ),
        ),
        _schema(
            "workload-leader-election",
            LEADER_ELECTION,
            200,
            by_user,
            fc.PolicyRulesWithSubjects(
                subjects=_kube_system_service_accounts(ALL),
                resource_rules=[
                    _resource_rule(renewals, [""], ["endpoints", "configmaps"], False),
                    lease_renewals,
                ],
            ),
        ),
        # Kept as Kubernetes has it, though podplane's controller-manager writes no Endpoints.
        _schema(
            "endpoint-controller",
            WORKLOAD_HIGH,
            150,
            by_user,
            fc.PolicyRulesWithSubjects(
                subjects=_users(KUBE_CONTROLLER_MANAGER)
                + _kube_system_service_accounts(
                    "endpoint-controller", "endpointslicemirroring-controller"
                ),
                resource_rules=[_resource_rule(renewals, [""], ["endpoints"], False)],
            ),
        ),
        *_workload_schemas(),
    ]


def _workload_schemas() -> list[fc.FlowSchema]:
    """The suggested schemas of the control plane's other requests and of workloads."""
    by_user, by_namespace = (
        flowcontrol.DISTINGUISHER_BY_USER,
        flowcontrol.DISTINGUISHER_BY_NAMESPACE,
    )
    return [
        _schema(
            "kube-controller-manager",
            WORKLOAD_HIGH,
            800,
            by_namespace,
            _everything(_users(KUBE_CONTROLLER_MANAGER)),
        ),
        _schema(
            "kube-scheduler", WORKLOAD_HIGH, 800, by_namespace, _everything(_users(KUBE_SCHEDULER))
        ),
        _schema(
            "kube-system-service-accounts",
            WORKLOAD_HIGH,
            900,
            by_namespace,
            _everything(_kube_system_service_accounts(ALL)),
        ),
        _schema(
            "service-accounts",
            WORKLOAD_LOW,
            9000,
            by_user,
            _everything(_groups(ALL_SERVICE_ACCOUNTS_GROUP)),
        ),
        _schema(
            GLOBAL_DEFAULT,
            GLOBAL_DEFAULT,
            9900,
            by_user,
            _everything(_groups(UNAUTHENTICATED_GROUP, AUTHENTICATED_GROUP)),
        ),
    ]


def mandatory_priority_level(name: str) -> fc.PriorityLevelConfiguration | None:
    return next((pl for pl in mandatory_priority_levels() if pl.metadata.name == name), None)


def mandatory_flow_schema(name: str) -> fc.FlowSchema | None:
    return next((fs for fs in mandatory_flow_schemas() if fs.metadata.name == name), None)
