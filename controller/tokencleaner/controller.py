"""The token cleaner (kubernetes pkg/controller/bootstrap/tokencleaner.go): a bootstrap token
Secret of kube-system (type bootstrap.kubernetes.io/token) is deleted once its `expiration` has
passed, with its uid as the delete's precondition so a Secret made again under the same name is
spared; one that has not expired yet is looked at again when it will have. A Secret whose
expiration cannot be parsed counts as expired, as the authenticator counts it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from controller.framework.reconciler import ReconcileLoop
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources
from podplane.bootstraptoken import api
from podplane.bootstraptoken import secret as token_secret
from podplane.client.clientset import Client, is_conflict, is_not_found
from podplane.client.informer import Informer
from podplane.client.informer_factory import SharedInformerFactory

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


class TokenCleaner:
    def __init__(
        self,
        client: Client,
        informers: SharedInformerFactory,
        *,
        workers: int = 1,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.client = client
        self.clock = clock
        self.secrets: Informer[core_pb2.Secret] = informers.informer_for(resources.SECRET)
        self.loop = ReconcileLoop(
            "tokencleaner", self.reconcile, informers, [self.secrets], workers=workers
        )
        self.secrets.add_handler(
            on_add=self._secret_changed,
            on_update=lambda _old, new: self._secret_changed(new),
        )

    def _secret_changed(self, secret: core_pb2.Secret) -> None:
        if secret.metadata.namespace == api.SECRET_NAMESPACE and secret.type == api.SECRET_TYPE:
            self.loop.enqueue(f"{secret.metadata.namespace}/{secret.metadata.name}")

    async def run(self) -> None:
        await self.loop.run()

    async def reconcile(self, key: str) -> float | None:
        secret = self.secrets.get(key)
        if secret is None or secret.type != api.SECRET_TYPE:
            return None
        left, expired = token_secret.expiration(secret, self.clock())
        if not expired:
            return left if left > 0 else None  # no expiration: kept for ever
        namespace, name = secret.metadata.namespace, secret.metadata.name
        try:
            await self.client.secrets.delete(name, namespace, uid=secret.metadata.uid)
            log.info("deleted expired bootstrap token secret %s/%s", namespace, name)
        except Exception as e:
            # Deleted meanwhile, or a new Secret of that name (the uid precondition): done.
            if is_not_found(e) or is_conflict(e):
                return None
            raise
        return None
