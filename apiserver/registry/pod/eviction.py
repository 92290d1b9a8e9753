"""The pods/eviction subresource (kubernetes pkg/registry/core/pod/storage/eviction.go): a delete
of a pod that respects its PodDisruptionBudget. Both doors call Evictions.evict.

A terminal, pending or terminating pod is deleted at once. Otherwise the pod's budget (none, or
one: a pod several budgets select cannot be evicted) must allow a disruption: the eviction spends
it with a compare-and-swap of the budget's status (recording the pod in disruptedPods, so the
disruption controller stops counting it healthy), marks the pod with the DisruptionTarget
condition and deletes it with the eviction's DeleteOptions. A budget that allows none refuses with
429 TooManyRequests; a pod that is not ready may go without spending one when the budget's
unhealthyPodEvictionPolicy lets it, deleted only as it was read."""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace

import grpc

from apiserver import errors
from apiserver.admission.attributes import CREATE, Attributes, OperationOptions
from apiserver.auth.user import current_user
from apiserver.registry.generic.options import DeleteOptions, Preconditions
from apiserver.registry.pod import eviction_budget as budget
from apiserver.registry.resource import ResourceAPI
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.api.policy.v1 import policy_pb2
from podplane.apimachinery import disruption, resources
from podplane.apimachinery.conditions import set_pod_condition

# What an eviction answers, as Kubernetes' create handler gives a Status without a code: 201.
EVICTED = meta_pb2.Status(api_version="v1", kind="Status", status="Success", code=201)
KIND = "Eviction"
# The versions an Eviction may be in (EvictionREST.AcceptsGroupVersion).
API_VERSIONS = ("policy/v1", "policy/v1beta1")
# Kubernetes' EvictionsRetry: a write that conflicts is tried again, up to 20 times, 0.5 s apart.
RETRY_STEPS = 20
RETRY_DELAY = 0.5


def check_type(api_version: str, kind: str) -> None:
    """An Eviction says it is one, of a version Kubernetes accepts, or says nothing (policy/v1's
    then); anything else is the 400 Kubernetes' decoder answers."""
    api_version, kind = api_version or API_VERSIONS[0], kind or KIND
    if api_version not in API_VERSIONS:
        raise errors.bad_request(
            f"the API version in the data ({api_version}) does not match the expected API "
            "version (v1)"
        )
    if kind != KIND:
        raise errors.bad_request(f'no kind "{kind}" is registered for version "{api_version}"')


def delete_options(options: meta_pb2.DeleteOptions | None, dry_run: bool) -> DeleteOptions:
    """The eviction's DeleteOptions as the registry's, dry run taken from the request too
    (propagateDryRun)."""
    if options is None:
        return DeleteOptions(dry_run=dry_run)
    for value in options.dry_run:
        if value != "All":
            raise errors.bad_request(
                f'dryRun: Unsupported value: "{value}": supported values: "All"'
            )
    policy = options.propagation_policy
    if not policy and options.HasField("orphan_dependents"):
        policy = "Orphan" if options.orphan_dependents else "Background"
    return DeleteOptions(
        grace_period_seconds=(
            options.grace_period_seconds if options.HasField("grace_period_seconds") else None
        ),
        preconditions=Preconditions(
            uid=options.preconditions.uid,
            resource_version=options.preconditions.resource_version,
        ),
        propagation_policy=policy,
        dry_run=dry_run or bool(options.dry_run),
    )


def eviction_attributes(
    namespace: str, name: str, eviction: policy_pb2.Eviction, dry_run: bool
) -> Attributes:
    """An eviction's admission attributes: a CREATE of the pod's eviction subresource, named by
    the URL, the Eviction its object."""
    return Attributes(
        operation=CREATE,
        resource=resources.POD,
        subresource="eviction",
        name=name,
        namespace=namespace,
        object=eviction,
        old_object=None,
        dry_run=dry_run,
        options=OperationOptions("CreateOptions", dry_run=dry_run),
        user_info=current_user(),
    )


def _with_resource_version(options: DeleteOptions, resource_version: str) -> DeleteOptions:
    return replace(
        options, preconditions=replace(options.preconditions, resource_version=resource_version)
    )


def _pod_conflict(name: str, detail: str) -> errors.APIError:
    """The Conflict Kubernetes answers when the pod is not the one the preconditions name (its
    resource spelled "Pod")."""
    return errors.APIError(
        grpc.StatusCode.ABORTED,
        "Conflict",
        f'Operation cannot be fulfilled on Pod "{name}": {detail}',
        errors.Details(name=name, kind="Pod"),
    )


class Evictions:
    """Evictions of pods, over the pods' and the budgets' verbs."""

    def __init__(
        self,
        pods: ResourceAPI[core_pb2.Pod],
        budgets: ResourceAPI[policy_pb2.PodDisruptionBudget],
        *,
        retry_delay: float = RETRY_DELAY,
    ) -> None:
        self.pods = pods
        self.budgets = budgets
        self.retry_delay = retry_delay

    async def _pause(self) -> None:
        await asyncio.sleep(self.retry_delay * (1 + random.random() / 10))

    async def evict(
        self, namespace: str, name: str, eviction: policy_pb2.Eviction, *, dry_run: bool = False
    ) -> meta_pb2.Status:
        """Evicts pod namespace/name as `eviction` asks; raises the APIError of a refusal.

        Admitted as Kubernetes admits it, a CREATE of pods/eviction (the create handler's
        mutating admission, then EvictionREST.Create's createValidation); the pod's delete it
        makes is not admitted again."""
        namespace = namespace or "default"
        attrs = eviction_attributes(namespace, name, eviction, dry_run)
        chain = self.pods.store.admission
        if chain is not None:
            await chain.admit(attrs)
        if name != eviction.metadata.name:
            raise errors.bad_request("name in URL does not match name in Eviction object")
        options = delete_options(
            eviction.delete_options if eviction.HasField("delete_options") else None, dry_run
        )
        if chain is not None:
            await chain.validate(attrs)
        pod = await self._delete_if_budgets_do_not_apply(namespace, name, options)
        if pod is None:
            return EVICTED
        budgets = [
            pdb
            for pdb in (await self.budgets.store.list(namespace)).items
            if disruption.selects(pdb, pod)
        ]
        if len(budgets) > 1:
            raise budget.more_than_one_budget()
        as_read = False  # delete the pod only as it was read (an unhealthy pod let go)
        if budgets:
            pdb = budgets[0]
            if budget.unhealthy_pod_may_go(pod, pdb):
                as_read = True
            else:
                await self._spend(pdb, name, options.dry_run)
        delete = (
            _with_resource_version(options, pod.metadata.resource_version) if as_read else options
        )
        try:
            await self._mark_and_delete(namespace, name, delete)
        except errors.APIError as e:
            if e.reason == "Conflict" and as_read and not options.preconditions.resource_version:
                # The pod changed (it may be ready now): the client should ask again.
                raise budget.still_processing(budgets[0].metadata.name) from None
            raise
        return EVICTED

    async def _delete_if_budgets_do_not_apply(
        self, namespace: str, name: str, options: DeleteOptions
    ) -> core_pb2.Pod | None:
        """Deletes a terminal, pending or terminating pod (None: done); else the pod as read,
        whose budget decides."""
        for attempt in range(RETRY_STEPS):
            pod = await self.pods.store.get(namespace, name)
            if not budget.can_ignore_budget(pod):
                return pod
            delete = options
            if budget.should_enforce_resource_version(pod) and not (
                options.preconditions.resource_version
            ):
                # Not a pod that became ready since it was read.
                delete = _with_resource_version(options, pod.metadata.resource_version)
            try:
                await self._mark_and_delete(namespace, name, delete)
                return None
            except errors.APIError as e:
                retry = e.reason == "Conflict" and not options.preconditions.resource_version
                if not retry or attempt == RETRY_STEPS - 1:
                    raise
            await self._pause()
        raise AssertionError("unreachable: the last attempt raises")

    async def _spend(
        self, pdb: policy_pb2.PodDisruptionBudget, pod_name: str, dry_run: bool
    ) -> None:
        """Spends one of the budget's disruptions on the pod with a compare-and-swap of its
        status, read again after each conflict; raises the budget's refusal."""
        for attempt in range(RETRY_STEPS):
            if attempt:
                pdb = await self.budgets.store.get(pdb.metadata.namespace, pdb.metadata.name)
            spent = budget.spend_disruption(pdb, pod_name, dry_run=dry_run)
            if dry_run:
                return
            try:
                await self.budgets.update_status(spent)
                return
            except errors.APIError as e:
                if e.reason != "Conflict" or attempt == RETRY_STEPS - 1:
                    raise
            await self._pause()

    async def _mark_and_delete(self, namespace: str, name: str, options: DeleteOptions) -> None:
        """Adds the DisruptionTarget condition to the pod (not in a dry run), then deletes it;
        a resourceVersion precondition follows the pod through the condition's own write."""
        if not options.dry_run:
            wanted = options.preconditions

            async def add_condition(pod: core_pb2.Pod) -> core_pb2.Pod:
                meta = pod.metadata
                if wanted.uid and wanted.uid != meta.uid:
                    raise _pod_conflict(
                        name,
                        f"the UID in the precondition ({wanted.uid}) does not match the UID in "
                        f"record ({meta.uid}). The object might have been deleted and then "
                        "recreated",
                    )
                if wanted.resource_version and wanted.resource_version != meta.resource_version:
                    raise _pod_conflict(
                        name,
                        f"the ResourceVersion in the precondition ({wanted.resource_version}) "
                        f"does not match the ResourceVersion in record ({meta.resource_version})."
                        " The object might have been modified",
                    )
                set_pod_condition(
                    pod.status,
                    core_pb2.PodCondition(
                        type=disruption.DISRUPTION_TARGET,
                        status="True",
                        reason=disruption.EVICTION_BY_EVICTION_API,
                        message="Eviction API: evicting",
                    ),
                )
                return pod

            marked = await self.pods.store.guaranteed_update(namespace, name, add_condition)
            if wanted.resource_version:
                options = _with_resource_version(options, marked.metadata.resource_version)
        await self.pods.delete(namespace, name, options, admit=False)
