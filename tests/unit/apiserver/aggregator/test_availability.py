"""The Available condition as Kubernetes 1.31's AvailableConditionController decides it, over fake
caches and a fake status store: its reasons and texts (ServiceNotFound, ServicePortError,
MissingEndpoints from the Service's EndpointSlices, FailedDiscoveryCheck with the probe's text,
True Passed), a status written only when it changes with its transition time kept while the
status stays, a local APIService Available Local, and the APIServices a Service's or a slice's
change brings back."""

from __future__ import annotations

import pytest

from apiserver.aggregator.availability import check_service
from apiserver.aggregator.available import (
    AvailableConditionController,
    FailedDiscoveryCheck,
    ServiceFeed,
    SliceFeed,
)
from apiserver.aggregator.backends import Backend, backend_of
from podplane.api.core.v1 import service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery.apiservices import APIService


def remote(name: str = "v1alpha1.wardle.example.com", service: str = "api") -> APIService:
    obj = APIService(metadata=meta_pb2.ObjectMeta(name=name, resource_version="1"))
    obj.spec.group, obj.spec.version = name.split(".", 1)[1], name.split(".", 1)[0]
    obj.spec.service.namespace, obj.spec.service.name = "wardle", service
    obj.spec.service.port = 443
    return obj


def svc(port: int = 443, port_name: str = "https", kind: str = "ClusterIP") -> service_pb2.Service:
    s = service_pb2.Service(metadata=meta_pb2.ObjectMeta(name="api", namespace="wardle"))
    s.spec.type = kind
    s.spec.ports.add(name=port_name, port=port)
    return s


def endpoint_slice(
    ready: bool | None = True, port_name: str | None = "https", addresses: int = 1
) -> discovery_pb2.EndpointSlice:
    out = discovery_pb2.EndpointSlice(
        metadata=meta_pb2.ObjectMeta(
            name="api-1", namespace="wardle", labels={"kubernetes.io/service-name": "api"}
        ),
        address_type="IPv4",
    )
    endpoint = out.endpoints.add(addresses=["10.0.0.1"] * addresses)
    if ready is not None:
        endpoint.conditions.ready = ready
    port = out.ports.add(port=8443)
    if port_name is not None:
        port.name = port_name
    return out


def the_backend() -> Backend:
    found = backend_of(remote())
    assert found is not None
    return found


MISSING = (
    "False",
    "MissingEndpoints",
    'endpoints for service/api in "wardle" have no addresses with port name "https"',
)


@pytest.mark.parametrize(
    ("service", "slices", "verdict"),
    [
        (None, [], ("False", "ServiceNotFound", 'service/api in "wardle" is not present')),
        (
            svc(port=8443),
            [endpoint_slice()],
            ("False", "ServicePortError", 'service/api in "wardle" is not listening on port 443'),
        ),
        (svc(), [], MISSING),
        (svc(), [endpoint_slice(ready=False)], MISSING),
        (svc(), [endpoint_slice(port_name="metrics")], MISSING),
        (svc(), [endpoint_slice(addresses=0)], MISSING),
        (svc(), [endpoint_slice(ready=None)], None),
        (svc(), [endpoint_slice()], None),
        # Only a ClusterIP Service's port and endpoints are checked.
        (svc(port=80, kind="NodePort"), [], None),
        (svc(port=80, kind="ExternalName"), [], None),
    ],
)
def test_the_service_and_its_endpoints(
    service: service_pb2.Service | None,
    slices: list[discovery_pb2.EndpointSlice],
    verdict: tuple[str, str, str] | None,
) -> None:
    found = check_service(the_backend(), service, slices)
    assert (None if found is None else (found.status, found.reason, found.message)) == verdict


class FakeCache:
    def __init__(self, *objects: APIService) -> None:
        self.objects = {o.metadata.name.encode(): o for o in objects}

    def peek(self, namespace: str, name: str) -> APIService | None:
        return self.objects.get(name.encode())


class FakeStatusStore:
    def __init__(self, cache: FakeCache) -> None:
        self.cache = cache
        self.writes: list[APIService] = []

    async def update_status(self, obj: APIService) -> APIService:
        self.writes.append(obj)
        self.cache.objects[obj.metadata.name.encode()] = obj
        return obj


def conditions(obj: APIService) -> list[tuple[str, str, str, str]]:
    return [(c.type, c.status, c.reason, c.message) for c in obj.status.conditions]


async def test_the_condition_is_written_when_it_changes() -> None:
    cache = FakeCache(remote())
    store = FakeStatusStore(cache)
    world: dict[str, object] = {"service": svc(), "slices": [endpoint_slice()], "probe": None}

    async def probe(backend: Backend) -> str | None:
        text = world["probe"]
        return text if isinstance(text, str) else None

    controller = AvailableConditionController(
        cache,
        store,
        lambda ns, name: world["service"],  # type: ignore[arg-type, return-value]
        lambda ns, name: world["slices"],  # type: ignore[arg-type, return-value]
        probe,
    )
    name = "v1alpha1.wardle.example.com"
    assert await controller.reconcile(name) == 30.0  # looked at again after the resync period
    assert conditions(store.writes[-1]) == [("Available", "True", "Passed", "all checks passed")]
    passed_at = store.writes[-1].status.conditions[0].last_transition_time
    await controller.reconcile(name)
    assert len(store.writes) == 1  # no change, no write

    world["probe"] = "failing or missing response from https://10.0.0.1:8443/apis/g/v: EOF"
    with pytest.raises(FailedDiscoveryCheck):
        await controller.reconcile(name)
    assert conditions(store.writes[-1]) == [
        ("Available", "False", "FailedDiscoveryCheck", str(world["probe"]))
    ]
    world["probe"], world["slices"] = None, []
    await controller.reconcile(name)
    failed = store.writes[-1].status.conditions[0]
    assert (failed.status, failed.reason, failed.message) == MISSING
    world["slices"] = [endpoint_slice()]
    await controller.reconcile(name)
    assert conditions(store.writes[-1]) == [("Available", "True", "Passed", "all checks passed")]
    assert len(store.writes) == 4

    assert passed_at  # a transition time is set, and moves only with the status
    still_true = store.writes[-1].status.conditions[0].last_transition_time
    world["probe"] = None
    await controller.reconcile(name)
    assert store.writes[-1].status.conditions[0].last_transition_time == still_true


async def test_a_local_api_service_is_available_local() -> None:
    local = APIService(metadata=meta_pb2.ObjectMeta(name="v1.apps"))
    local.spec.group, local.spec.version = "apps", "v1"
    cache = FakeCache(local)
    store = FakeStatusStore(cache)
    controller = AvailableConditionController(
        cache, store, lambda n, s: None, lambda n, s: [], None
    )
    assert await controller.reconcile("v1.apps") is None
    assert conditions(store.writes[-1]) == [
        ("Available", "True", "Local", "Local APIServices are always available")
    ]


async def drain(controller: AvailableConditionController) -> set[str]:
    queue, out = controller.loop.queue, set()
    while len(queue):
        key = await queue.get()
        queue.done(key)
        out.add(key)
    return out


async def test_a_service_or_slice_change_brings_back_the_api_services_naming_it() -> None:
    cache = FakeCache(remote(), remote("v1beta1.other.example.com", "other"))
    controller = AvailableConditionController(
        cache, FakeStatusStore(cache), lambda n, s: None, lambda n, s: [], None
    )
    controller.replaced(list(cache.objects.values()))
    assert await drain(controller) == {"v1alpha1.wardle.example.com", "v1beta1.other.example.com"}
    ServiceFeed(controller).changed(None, svc())
    assert await drain(controller) == {"v1alpha1.wardle.example.com"}
    SliceFeed(controller).changed(endpoint_slice(), None)
    assert await drain(controller) == {"v1alpha1.wardle.example.com"}
    ServiceFeed(controller).changed(
        None,
        service_pb2.Service(metadata=meta_pb2.ObjectMeta(name="unrelated", namespace="wardle")),
    )
    assert await drain(controller) == set()
