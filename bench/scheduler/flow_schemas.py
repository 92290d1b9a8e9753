"""How the cluster a run starts for itself classifies its clients for API Priority and Fairness:
as scheduler_perf's are.

That cluster serves plaintext, so every caller is anonymous and, by Kubernetes' bootstrap flow
schemas, lands in global-default: the scheduler's binds and events held seats there, about 50
at once (the 75 seats of podplane's apiserver, borrowed from the idle levels), the rest queued
until one came back from etcd. scheduler_perf, whose floors the figures are held against, drives
its scheduler and its load with the test apiserver's loopback client (kube-apiserver's
testing.StartTestServer: a system:masters user), which FlowSchema exempt takes: nothing of it
waits at flow control. The run's cluster classifies its anonymous callers the same way, by a
copy of that mandatory schema for the system:unauthenticated group. Flow control still runs (and
counts them under that schema); a running cluster (--server) keeps its own configuration."""

from __future__ import annotations

import asyncio
import time

from podplane.api.flowcontrol.v1 import flowcontrol_pb2 as fc
from podplane.apimachinery import flowcontrol
from podplane.apimachinery.flowcontrol_bootstrap import (
    EXEMPT,
    UNAUTHENTICATED_GROUP,
    mandatory_flow_schemas,
)
from podplane.client.clientset import Client

NAME = "podplane-bench-exempt"
# Right after Kubernetes' exempt (1: only it may have 1) and probes (2) schemas, before any other.
PRECEDENCE = 3
READY_TIMEOUT = 30.0


def anonymous_exempt() -> fc.FlowSchema:
    """Kubernetes' mandatory exempt schema (same level and rules) for every anonymous caller
    instead of system:masters, at PRECEDENCE."""
    schema = next(s for s in mandatory_flow_schemas() if s.metadata.name == EXEMPT)
    out = fc.FlowSchema()
    out.metadata.name = NAME
    out.spec.CopyFrom(schema.spec)
    out.spec.matching_precedence = PRECEDENCE
    for rules in out.spec.rules:
        del rules.subjects[:]
        subject = rules.subjects.add(kind=flowcontrol.SUBJECT_GROUP)
        subject.group.name = UNAUTHENTICATED_GROUP
    return out


def _in_effect(schema: fc.FlowSchema) -> bool:
    """The apiserver's configuration consumer writes Dangling (False: its level exists) once
    its filter classifies by the schema."""
    return any(
        c.type == flowcontrol.CONDITION_DANGLING and c.status == "False"
        for c in schema.status.conditions
    )


async def exempt_anonymous_callers(client: Client, timeout: float = READY_TIMEOUT) -> str:
    """Creates anonymous_exempt() and waits until the apiserver classifies by it; its name."""
    await client.flowschemas.create(anonymous_exempt())
    deadline = time.monotonic() + timeout
    while not _in_effect(await client.flowschemas.get(NAME)):
        if time.monotonic() > deadline:
            raise TimeoutError(f"FlowSchema {NAME}: not taken in by the apiserver in {timeout:g} s")
        await asyncio.sleep(0.1)
    return NAME
