"""The controller-manager's garbage collector and namespace controller with custom resources, in
this process, against the real apiserver over real etcd: owner references are followed for
custom kinds as for built-in ones (a ConfigMap owned by a CronTab goes with it, a CronTab owned
by a ConfigMap goes with that, a definition established after the collector started is followed
too), and deleting a namespace deletes its custom objects."""

from __future__ import annotations

import json
from typing import Any

from controller.garbagecollector.controller import GarbageCollector
from controller.namespace.controller import NamespaceController
from podplane.api.apiextensions.v1.custom_objects_pb2 import CustomObject
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.client.clientset import Client, is_not_found
from podplane.client.informer_factory import SharedInformerFactory
from tests.integration.controller_support import running
from tests.integration.custom_resources import crontab_crd, install, unique_group
from tests.support import eventually, new_namespace


def crontab(group: str, ns: str, name: str, *owners: meta_pb2.OwnerReference) -> CustomObject:
    obj = CustomObject(
        api_version=f"{group}/v1",
        kind="CronTab",
        metadata=meta_pb2.ObjectMeta(name=name, namespace=ns),
        content=json.dumps({"spec": {"cronSpec": "* * * * *"}}),
    )
    obj.metadata.owner_references.extend(owners)
    return obj


def owner(obj: Any, api_version: str, kind: str) -> meta_pb2.OwnerReference:
    return meta_pb2.OwnerReference(
        api_version=api_version, kind=kind, name=obj.metadata.name, uid=obj.metadata.uid
    )


async def gone(api: Any, name: str, ns: str) -> bool:
    try:
        await api.get(name, ns)
    except Exception as e:
        if is_not_found(e):
            return True
        raise
    return False


async def test_the_collector_follows_owner_references_of_custom_kinds(client: Client) -> None:
    informers = SharedInformerFactory(client)
    collector = GarbageCollector(client, informers)
    ns = await new_namespace(client, "gc-cr-")
    async with running(collector, informers=informers):
        # Established after the collector started: it follows the new kind.
        group = unique_group("gc")
        await install(client, crontab_crd(group))
        crontabs = client.custom_objects(group, "v1", "crontabs")
        parent = await crontabs.create(crontab(group, ns, "parent"))
        child = await client.configmaps.create(
            core_pb2.ConfigMap(
                metadata=meta_pb2.ObjectMeta(
                    name="child",
                    namespace=ns,
                    owner_references=[owner(parent, f"{group}/v1", "CronTab")],
                )
            )
        )
        held = await crontabs.create(crontab(group, ns, "held", owner(child, "v1", "ConfigMap")))
        assert held.metadata.owner_references[0].uid == child.metadata.uid

        await crontabs.delete("parent", ns)

        async def all_gone() -> bool:
            return await gone(client.configmaps, "child", ns) and await gone(crontabs, "held", ns)

        await eventually(all_gone, timeout=20, what="the dependents collected")


async def test_deleting_a_namespace_deletes_its_custom_objects(client: Client) -> None:
    informers = SharedInformerFactory(client)
    controller = NamespaceController(client, informers)
    group = unique_group("ns")
    await install(client, crontab_crd(group))
    ns = await new_namespace(client, "ns-cr-")
    crontabs = client.custom_objects(group, "v1", "crontabs")
    await crontabs.create(crontab(group, ns, "a"))
    await crontabs.create(crontab(group, ns, "b"))
    async with running(controller):
        await client.namespaces.delete(ns)

        async def namespace_gone() -> bool:
            return await gone(client.namespaces, ns, "")

        await eventually(namespace_gone, timeout=20, what=f"namespace {ns} gone")
    assert (await crontabs.list(ns)).items == []
