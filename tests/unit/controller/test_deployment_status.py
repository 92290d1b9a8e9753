"""What a Deployment's status says: counts summed over its ReplicaSets, Available once
replicas - maxUnavailable pods are available, and Progressing as kubectl rollout status and
describe read it (ReplicaSetUpdated while pods move, NewReplicaSetAvailable when done,
ProgressDeadlineExceeded when stuck past progressDeadlineSeconds)."""

from __future__ import annotations

from datetime import datetime

from controller.deployment import status as ds
from podplane.api.apps.v1 import apps_pb2
from tests.unit.controller.deployment_objects import deploy, rs

NOW = 1_900_000_000.0  # 2030-03-17T17:46:40Z
EARLIER = "2030-03-17T17:30:00Z"


def with_deadline(
    d: apps_pb2.Deployment, seconds: int = 600, generation: int = 2
) -> apps_pb2.Deployment:
    d.spec.progress_deadline_seconds = seconds
    d.metadata.generation = generation
    d.status.observed_generation = generation
    return d


def progressing(status: apps_pb2.DeploymentStatus) -> apps_pb2.DeploymentCondition:
    c = ds.get_condition(status, ds.PROGRESSING)
    assert c is not None
    return c


def conditions(status: apps_pb2.DeploymentStatus) -> dict[str, tuple[str, str]]:
    return {c.type: (c.status, c.reason) for c in status.conditions}


def test_counts_and_availability() -> None:
    d = with_deadline(deploy(4, "1", "1"))
    old, new = rs("old", 2, 2), rs("new", 3, 1)
    new.status.ready_replicas = 2
    old.status.ready_replicas = 2
    status = ds.calculate_status([old, new], new, d, EARLIER)
    assert (
        status.observed_generation,
        status.replicas,
        status.updated_replicas,
        status.ready_replicas,
        status.available_replicas,
        status.unavailable_replicas,
    ) == (2, 5, 3, 4, 3, 2)
    assert conditions(status)["Available"] == ("True", "MinimumReplicasAvailable")
    old.status.available_replicas = 1
    status = ds.calculate_status([old, new], new, d, EARLIER)
    assert conditions(status)["Available"] == ("False", "MinimumReplicasUnavailable")


def test_progressing_while_pods_move_then_complete() -> None:
    d = with_deadline(deploy(2, "1", "0"))
    d.status.conditions.append(
        ds.new_condition(
            ds.PROGRESSING, "True", ds.NEW_RS_CREATED, 'Created new replica set "web-new"', EARLIER
        )
    )
    old, new = rs("old", 2, 2), rs("new", 1, 0)
    moving = ds.rollout_status([old, new], new, d, NOW)
    condition = progressing(moving)
    assert (condition.status, condition.reason, condition.message) == (
        "True",
        "ReplicaSetUpdated",
        'ReplicaSet "new" is progressing.',
    )
    assert condition.last_transition_time == EARLIER  # still True: not a transition
    assert condition.last_update_time == ds.stamp_of(NOW)

    d.status.CopyFrom(moving)
    old, new = rs("old", 0, 0), rs("new", 2, 2)
    done = ds.rollout_status([old, new], new, d, NOW + 5)
    assert conditions(done)["Progressing"] == ("True", "NewReplicaSetAvailable")
    assert progressing(done).message == ('ReplicaSet "new" has successfully progressed.')
    assert ds.stuck_recheck(d, done, NOW + 5) is None


def test_no_progress_past_the_deadline_times_out() -> None:
    d = with_deadline(deploy(2, "1", "0"), seconds=60)
    # The status already shows what the replica sets say: no progress since EARLIER.
    d.status.replicas, d.status.updated_replicas, d.status.available_replicas = 3, 1, 2
    d.status.conditions.append(
        ds.new_condition(
            ds.PROGRESSING, "True", ds.RS_UPDATED, 'ReplicaSet "new" is progressing.', EARLIER
        )
    )
    old, new = rs("old", 2, 2), rs("new", 1, 0)
    # 20 s before the deadline: look again then.
    at = datetime.fromisoformat(EARLIER.replace("Z", "+00:00")).timestamp() + 40
    still = ds.rollout_status([old, new], new, d, at)
    assert conditions(still)["Progressing"] == ("True", "ReplicaSetUpdated")
    assert ds.stuck_recheck(d, still, at) == 20
    stuck = ds.rollout_status([old, new], new, d, at + 30)
    assert conditions(stuck)["Progressing"] == ("False", "ProgressDeadlineExceeded")
    assert progressing(stuck).message == ('ReplicaSet "new" has timed out progressing.')


def test_replica_failures_of_the_new_replica_set_show_on_the_deployment() -> None:
    d = with_deadline(deploy(2, "1", "0"))
    new = rs("new", 2, 0)
    new.status.conditions.append(
        apps_pb2.ReplicaSetCondition(
            type="ReplicaFailure",
            status="True",
            reason="FailedCreate",
            message='pods "x" is forbidden',
            last_transition_time=EARLIER,
        )
    )
    status = ds.rollout_status([new], new, d, NOW)
    assert conditions(status)["ReplicaFailure"] == ("True", "FailedCreate")
    del new.status.conditions[:]
    d.status.CopyFrom(status)
    assert "ReplicaFailure" not in conditions(ds.rollout_status([new], new, d, NOW))


def test_set_condition_keeps_the_transition_time_while_the_status_holds() -> None:
    status = apps_pb2.DeploymentStatus()
    ds.set_condition(status, ds.new_condition("Available", "True", "A", "a", EARLIER))
    ds.set_condition(
        status, ds.new_condition("Available", "True", "B", "b", "2030-03-17T18:00:00Z")
    )
    (c,) = status.conditions
    assert (c.reason, c.last_transition_time, c.last_update_time) == (
        "B",
        EARLIER,
        "2030-03-17T18:00:00Z",
    )
    ds.set_condition(status, ds.new_condition("Available", "True", "B", "c", "later"))
    assert status.conditions[0].message == "b"  # same status and reason: left alone
