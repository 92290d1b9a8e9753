"""An add-on's identity as the addon-manager applies it (its ServiceAccount, ClusterRoles and
ClusterRoleBindings from docker/addons/), and a wait until the apiserver's RBAC authorizer has
seen the binding: the authorizer follows RBAC objects through its watch cache, as Kubernetes'
does through informers, so a request right after the create may still be refused."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
import yaml

from podplane.api.core.v1 import core_pb2
from podplane.api.rbac.v1 import rbac_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from tests.support import eventually


async def apply_addon_identity(admin: Client, addon: Path) -> None:
    kinds: dict[str, tuple[Any, Any]] = {
        "ServiceAccount": (admin.serviceaccounts, core_pb2.ServiceAccount),
        "ClusterRole": (admin.clusterroles, rbac_pb2.ClusterRole),
        "ClusterRoleBinding": (admin.clusterrolebindings, rbac_pb2.ClusterRoleBinding),
    }
    for doc in yaml.safe_load_all(addon.read_text()):
        if doc["kind"] not in kinds:
            continue
        resource, message = kinds[doc["kind"]]
        try:
            await resource.create(manifest.from_dict(doc, message))
        except grpc.aio.AioRpcError as e:
            if e.code() != grpc.StatusCode.ALREADY_EXISTS:  # another module's, same etcd
                raise


async def wait_until_allowed(request: Callable[[], Awaitable[object]], what: str) -> None:
    """Until `request` (made as the add-on's account) is no longer refused as forbidden."""

    async def allowed() -> bool:
        try:
            await request()
        except grpc.aio.AioRpcError as e:
            if e.code() != grpc.StatusCode.PERMISSION_DENIED:
                raise
            return False
        return True

    await eventually(allowed, timeout=10, what=what)
