"""API Priority and Fairness configuration (k8s.io/api/flowcontrol/v1) as the filter uses it:
priority levels, each with its share of the server's concurrency and its queues, and flow schemas,
which map requests to a priority level and divide a level's requests into flows. Matching follows
k8s.io/apiserver/pkg/util/flowcontrol/rule.go.

These are digested from the FlowSchema and PriorityLevelConfiguration objects in the API
(apiserver/flowcontrol/digest.py); `uid` is the object's, "" for a mandatory one the API does not
hold at the moment (the filter imagines it, as Kubernetes does)."""

from __future__ import annotations

from dataclasses import dataclass

from apiserver.auth.user import UserInfo
from apiserver.flowcontrol.request import RequestDigest
from podplane.apimachinery.serviceaccount import make_username

# Wildcards (flowcontrol.VerbAll, APIGroupAll, ResourceAll, NamespaceEvery, NonResourceAll,
# NameAll).
ALL = "*"
BY_USER = "ByUser"
BY_NAMESPACE = "ByNamespace"


@dataclass(frozen=True)
class Queuing:
    """How a limited level queues what it cannot execute at once: `queues` queues; each flow is
    dealt `hand_size` of them (shuffle sharding) and joins the shortest; a queue holds at most
    `queue_length_limit` requests."""

    queues: int
    hand_size: int
    queue_length_limit: int


@dataclass(frozen=True)
class PriorityLevel:
    """A PriorityLevelConfiguration. An exempt level's requests are never limited. A limited
    level's nominal share of the server's seats is `shares` over the sum of every level's;
    `lendable_percent` of them may be lent to other levels, and it may borrow up to
    `borrowing_limit_percent` of its nominal seats more (None: no limit). Without `queuing`, a
    request that finds every seat taken is rejected at once."""

    name: str
    shares: int
    lendable_percent: int = 0
    borrowing_limit_percent: int | None = None
    queuing: Queuing | None = None
    exempt: bool = False
    uid: str = ""


@dataclass(frozen=True)
class Subject:
    """A user, a group, or a service account (namespace and name; name "*": every one in the
    namespace)."""

    kind: str  # "User", "Group" or "ServiceAccount"
    name: str
    namespace: str = ""

    def matches(self, user: UserInfo) -> bool:
        if self.kind == "User":
            return self.name in (ALL, user.name)
        if self.kind == "Group":
            return self.name == ALL or self.name in user.groups
        if self.kind == "ServiceAccount":
            prefix = make_username(self.namespace, "")
            if self.name == ALL:
                return user.name.startswith(prefix)
            return user.name == prefix + self.name
        return False


def users(*names: str) -> tuple[Subject, ...]:
    return tuple(Subject("User", n) for n in names)


def groups(*names: str) -> tuple[Subject, ...]:
    return tuple(Subject("Group", n) for n in names)


def service_accounts(namespace: str, *names: str) -> tuple[Subject, ...]:
    return tuple(Subject("ServiceAccount", n, namespace) for n in names)


def _contains(value: str, allowed: tuple[str, ...]) -> bool:
    return allowed == (ALL,) or value in allowed


@dataclass(frozen=True)
class ResourceRule:
    """Matches a resource request whose verb, API group and resource (resource/subresource for a
    subresource) are listed, in one of `namespaces`, or with no namespace if `cluster_scope`."""

    verbs: tuple[str, ...]
    api_groups: tuple[str, ...]
    resources: tuple[str, ...]
    namespaces: tuple[str, ...] = (ALL,)
    cluster_scope: bool = False

    def matches(self, r: RequestDigest) -> bool:
        resource = f"{r.resource}/{r.subresource}" if r.subresource else r.resource
        if not (
            _contains(r.verb, self.verbs)
            and _contains(resource, self.resources)
            and _contains(r.api_group, self.api_groups)
        ):
            return False
        if not r.namespace:
            return self.cluster_scope
        return _contains(r.namespace, self.namespaces)


@dataclass(frozen=True)
class NonResourceRule:
    """Matches a non-resource request whose verb is listed and whose path is one of the URLs, or
    under one ending in "*"."""

    verbs: tuple[str, ...]
    urls: tuple[str, ...]

    def matches(self, r: RequestDigest) -> bool:
        if not _contains(r.verb, self.verbs):
            return False
        for url in self.urls:
            if url in (ALL, r.path):
                return True
            prefix = url.removesuffix("*")
            if not prefix.endswith("/"):
                prefix += "/"
            if r.path.startswith(prefix):
                return True
        return False


@dataclass(frozen=True)
class PolicyRules:
    """PolicyRulesWithSubjects: a request of one of the subjects that matches one of the rules."""

    subjects: tuple[Subject, ...]
    resource_rules: tuple[ResourceRule, ...] = ()
    non_resource_rules: tuple[NonResourceRule, ...] = ()

    def matches(self, r: RequestDigest) -> bool:
        if not any(s.matches(r.user) for s in self.subjects):
            return False
        if r.is_resource_request:
            return any(rule.matches(r) for rule in self.resource_rules)
        return any(rule.matches(r) for rule in self.non_resource_rules)


@dataclass(frozen=True)
class FlowSchema:
    """Requests matching one of `rules` go to `priority_level`; the schema with the lowest
    `matching_precedence` (then name) that matches wins. `distinguisher` divides them into flows:
    by user, by namespace, or (None) one flow."""

    name: str
    priority_level: str
    matching_precedence: int
    distinguisher: str | None
    rules: tuple[PolicyRules, ...]
    uid: str = ""

    def matches(self, r: RequestDigest) -> bool:
        return any(rule.matches(r) for rule in self.rules)

    def flow_distinguisher(self, r: RequestDigest) -> str:
        if self.distinguisher == BY_USER:
            return r.user.name
        if self.distinguisher == BY_NAMESPACE:
            return r.namespace
        return ""
