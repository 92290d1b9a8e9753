"""The `default` ServiceAccount of the namespaces a benchmark writes pods in, made here as the
controller-manager's service account controller (controller/serviceaccount) makes it: the
control planes the benchmarks start run no controller-manager, and the apiserver's ServiceAccount
admission refuses every pod of a namespace without that account, as Kubernetes' does."""

from __future__ import annotations

from collections.abc import Iterable

from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.client.clientset import Client, ResourceClient, is_already_exists
from podplane.client.credentials import Credentials

DEFAULT_ACCOUNT = "default"


async def ensure_default_account(
    accounts: ResourceClient[core_pb2.ServiceAccount], namespace: str
) -> None:
    """Creates namespace's `default` ServiceAccount unless it exists already."""
    account = core_pb2.ServiceAccount(
        metadata=meta_pb2.ObjectMeta(name=DEFAULT_ACCOUNT, namespace=namespace)
    )
    try:
        await accounts.create(account)
    except Exception as e:
        if not is_already_exists(e):
            raise


async def ensure_default_accounts(
    target: str, namespaces: Iterable[str], credentials: Credentials | None = None
) -> None:
    """ensure_default_account for each namespace, over a connection of its own to `target`."""
    async with Client(target, credentials=credentials) as client:
        for namespace in namespaces:
            await ensure_default_account(client.serviceaccounts, namespace)
