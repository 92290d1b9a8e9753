"""What a delete request does to an object as stored: graceful pod deletion, finalizers, namespaces
(kubernetes rest.BeforeDelete and the pod strategy's CheckGracefulDelete)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from apiserver.errors import APIError
from apiserver.registry.generic import deletion
from podplane.apimachinery import manifest, resources, timeutil


def pod(
    node: str = "node-a",
    phase: str = "Running",
    grace: int | None = None,
    finalizers: tuple[str, ...] = (),
    deleting_with: int | None = None,
) -> Any:
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "busybox"}], "nodeName": node}
    if grace is not None:
        spec["terminationGracePeriodSeconds"] = grace
    obj: Any = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "spec": spec,
            "metadata": {"name": "p", "finalizers": list(finalizers), "generation": 1},
            "status": {"phase": phase},
        }
    )
    if deleting_with is not None:
        obj.metadata.deletion_grace_period_seconds = deleting_with
        obj.metadata.deletion_timestamp = timeutil.format_time(
            datetime.now(UTC) + timedelta(seconds=deleting_with)
        )
    return obj


@pytest.mark.parametrize(
    "obj, requested, expected_grace",
    [
        (pod(), None, 30),  # the default termination grace period
        (pod(grace=7), None, 7),  # the pod's own
        (pod(grace=7), 3, 3),  # the request's
        (pod(grace=7), -1, 1),  # negative means "as short as possible", not "forever"
    ],
)
def test_a_running_pod_is_marked_with_its_grace_period(
    obj: Any, requested: int | None, expected_grace: int
) -> None:
    before = datetime.now(UTC).replace(microsecond=0)  # the timestamp has whole seconds
    decision = deletion.decide(resources.POD, obj, requested)
    after = datetime.now(UTC)
    assert not decision.delete_now and decision.marked is not None
    meta = decision.marked.metadata
    assert meta.deletion_grace_period_seconds == expected_grace
    # Due the grace period after the moment of the decision, however long that took.
    due = timeutil.parse(meta.deletion_timestamp)
    grace = timedelta(seconds=expected_grace)
    assert due is not None and before + grace <= due <= after + grace, meta.deletion_timestamp
    assert meta.generation == 2
    assert not obj.metadata.deletion_timestamp  # the input is left alone


@pytest.mark.parametrize(
    "obj, requested",
    [
        (pod(node=""), None),  # never scheduled
        (pod(phase="Succeeded"), None),  # finished
        (pod(phase="Failed"), 30),
        (pod(), 0),  # forced
        (pod(deleting_with=30), 0),  # the kubelet's final delete
    ],
)
def test_pods_that_need_no_grace_go_at_once(obj: Any, requested: int | None) -> None:
    assert deletion.decide(resources.POD, obj, requested).delete_now


def test_a_pending_graceful_deletion_is_only_ever_shortened() -> None:
    obj = pod(deleting_with=30)
    assert deletion.decide(resources.POD, obj, None) == deletion.Decision(delete_now=False)
    assert deletion.decide(resources.POD, obj, 60) == deletion.Decision(delete_now=False)
    shorter = deletion.decide(resources.POD, obj, 5).marked
    assert shorter is not None and shorter.metadata.deletion_grace_period_seconds == 5
    # 5 s from when the deletion started (30 s before it was due), not from now.
    due, was_due = (timeutil.parse(m.deletion_timestamp) for m in (shorter.metadata, obj.metadata))
    assert due is not None and was_due is not None and due == was_due - timedelta(seconds=25)


def test_finalizers_hold_any_kind_until_removed() -> None:
    held = pod(node="", finalizers=("example.com/x",))
    decision = deletion.decide(resources.POD, held, 0)
    assert not decision.delete_now and decision.marked is not None
    assert decision.marked.metadata.deletion_grace_period_seconds == 0
    assert not deletion.due_for_removal(resources.POD, decision.marked)
    del decision.marked.metadata.finalizers[:]
    assert deletion.due_for_removal(resources.POD, decision.marked)


def test_a_namespace_is_held_by_its_spec_finalizer_and_terminates() -> None:
    ns: Any = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": "team"},
            "spec": {"finalizers": ["kubernetes"]},
        }
    )
    decision = deletion.decide(resources.NAMESPACE, ns, None)
    assert decision.marked is not None and decision.marked.status.phase == "Terminating"
    del decision.marked.spec.finalizers[:]
    assert deletion.due_for_removal(resources.NAMESPACE, decision.marked)


@pytest.mark.parametrize(
    "name, policy, message",
    [
        ("default", "", 'namespaces "default" is forbidden: this namespace may not be deleted'),
        (
            "kube-system",
            "",
            'namespaces "kube-system" is forbidden: this namespace may not be deleted',
        ),
        ("team", "Later", 'propagationPolicy: Unsupported value: "Later"'),
    ],
)
def test_refused_deletions_say_why(name: str, policy: str, message: str) -> None:
    with pytest.raises(APIError) as err:
        deletion.check_request(resources.NAMESPACE, name, policy)
    assert err.value.message.startswith(message)


@pytest.mark.parametrize(
    "policy, finalizer", [("Orphan", "orphan"), ("Foreground", "foregroundDeletion")]
)
def test_orphan_and_foreground_deletion_leave_it_to_the_garbage_collector(
    policy: str, finalizer: str
) -> None:
    owner = pod(node="")
    decision = deletion.decide(resources.POD, owner, None, policy)
    assert not decision.delete_now and decision.marked is not None
    assert list(decision.marked.metadata.finalizers) == [finalizer]
    assert decision.marked.metadata.deletion_grace_period_seconds == 0
    assert not owner.metadata.finalizers
    assert deletion.decide(resources.POD, owner, None, "Background").delete_now
