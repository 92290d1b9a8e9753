"""kube-system's extension-apiserver-authentication ConfigMap as the clusterauthenticationtrust
controller writes it (the lists JSON-encoded as Go's json.Marshal, the request-header keys only
with a front-proxy CA), created when missing, updated when someone changed it, left alone when
it says what it should; the reader Role as Kubernetes' namespace_policy.go declares it."""

from __future__ import annotations

import grpc

from apiserver import errors
from apiserver.aggregator.authentication_trust import (
    AuthenticationTrust,
    authentication_data,
    reader_binding,
    reader_role,
)
from apiserver.options.aggregator import AggregatorOptions
from podplane.api.core.v1 import core_pb2
from podplane.api.rbac.v1 import rbac_pb2

OPTIONS = AggregatorOptions(
    "front-proxy-client.crt",
    "front-proxy-client.key",
    "front-proxy-ca.crt",
    ("front-proxy-client",),
    requestheader_ca=b"FRONT PROXY CA\n",
)


def test_the_data_is_kubernetes() -> None:
    assert authentication_data(b"CLIENT CA\n", OPTIONS) == {
        "client-ca-file": "CLIENT CA\n",
        "requestheader-username-headers": '["X-Remote-User"]',
        "requestheader-group-headers": '["X-Remote-Group"]',
        "requestheader-extra-headers-prefix": '["X-Remote-Extra-"]',
        "requestheader-client-ca-file": "FRONT PROXY CA\n",
        "requestheader-allowed-names": '["front-proxy-client"]',
    }
    no_names = AggregatorOptions("c", "k", "ca", (), requestheader_ca=b"CA")
    assert authentication_data(b"", no_names)["requestheader-allowed-names"] == "[]"
    assert authentication_data(b"CLIENT CA\n", None) == {"client-ca-file": "CLIENT CA\n"}


class FakeStore:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], object] = {}
        self.writes: list[str] = []

    async def get(self, namespace: str, name: str) -> core_pb2.ConfigMap:
        found = self.objects.get((namespace, name))
        if found is None:
            raise errors.APIError(grpc.StatusCode.NOT_FOUND, "NotFound", "not found")
        assert isinstance(found, core_pb2.ConfigMap)
        return found

    async def create(self, obj: object) -> object:
        meta = obj.metadata  # type: ignore[attr-defined]
        if (meta.namespace, meta.name) in self.objects:
            raise errors.APIError(grpc.StatusCode.ALREADY_EXISTS, "AlreadyExists", "exists")
        self.objects[(meta.namespace, meta.name)] = obj
        self.writes.append(f"create {meta.name}")
        return obj

    async def update(self, obj: object) -> object:
        meta = obj.metadata  # type: ignore[attr-defined]
        self.objects[(meta.namespace, meta.name)] = obj
        self.writes.append(f"update {meta.name}")
        return obj


async def test_the_config_map_is_created_then_kept() -> None:
    config_maps, roles, bindings = FakeStore(), FakeStore(), FakeStore()
    own_ca = "-----BEGIN CERTIFICATE-----\nOWN\n-----END CERTIFICATE-----\n"
    data = authentication_data(own_ca.encode(), OPTIONS)
    trust = AuthenticationTrust(config_maps, roles, bindings, data)  # type: ignore[arg-type]
    await trust.reconcile("extension-apiserver-authentication")
    stored = config_maps.objects[("kube-system", "extension-apiserver-authentication")]
    assert isinstance(stored, core_pb2.ConfigMap) and dict(stored.data) == data
    assert roles.writes == ["create extension-apiserver-authentication-reader"]
    assert bindings.writes == ["create system::extension-apiserver-authentication-reader"]
    await trust.reconcile("extension-apiserver-authentication")  # nothing to change
    assert config_maps.writes == ["create extension-apiserver-authentication"]
    # Another apiserver's CA in its place: this one's is added back, the other's kept (the
    # union, as Kubernetes' combinedClusterAuthenticationInfo), so the two never undo each other.
    other_ca = "-----BEGIN CERTIFICATE-----\nOTHER\n-----END CERTIFICATE-----\n"
    stored.data["client-ca-file"] = other_ca
    await trust.reconcile("extension-apiserver-authentication")
    assert config_maps.writes[-1] == "update extension-apiserver-authentication"
    updated = config_maps.objects[("kube-system", "extension-apiserver-authentication")]
    assert isinstance(updated, core_pb2.ConfigMap)
    assert updated.data["client-ca-file"] == other_ca + own_ca
    assert {k: v for k, v in updated.data.items() if k != "client-ca-file"} == {
        k: v for k, v in data.items() if k != "client-ca-file"
    }
    writes = len(config_maps.writes)
    await trust.reconcile("extension-apiserver-authentication")  # the union holds: no write
    assert len(config_maps.writes) == writes


def test_the_reader_role_and_binding() -> None:
    role = reader_role()
    assert (role.metadata.namespace, role.metadata.name) == (
        "kube-system",
        "extension-apiserver-authentication-reader",
    )
    assert list(role.rules) == [
        rbac_pb2.PolicyRule(
            verbs=["get", "list", "watch"],
            api_groups=[""],
            resources=["configmaps"],
            resource_names=["extension-apiserver-authentication"],
        )
    ]
    binding = reader_binding()
    assert binding.role_ref.kind == "Role"
    assert [s.name for s in binding.subjects] == [
        "system:kube-controller-manager",
        "system:kube-scheduler",
    ]
