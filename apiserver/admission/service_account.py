"""ServiceAccount admission (plugin/pkg/admission/serviceaccount/admission.go): a pod created
without spec.serviceAccountName runs as `default`; its account must exist; unless the pod or its
account says automountServiceAccountToken: false, it gets the kube-api-access-<suffix> projected
volume (a bound token, the cluster's CA, its namespace) mounted read-only at
/var/run/secrets/kubernetes.io/serviceaccount in every init and app container (not ephemeral
ones, which come later through their own subresource); the account's imagePullSecrets become the
pod's when it has none. Mirror pods are not changed, and may not use an account or secrets.

The `default` account is made by the controller-manager's service account controller, not by the
apiserver: a pod created in a namespace a moment old waits briefly for it, as Kubernetes' plugin
looks it up again (10 times, 100 to 200 ms apart) before refusing."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Protocol

from apiserver import errors
from apiserver.admission.attributes import CREATE, Attributes, refused_name
from apiserver.admission.interfaces import Handler, Scope
from apiserver.auth.node_authorizer import secret_names
from apiserver.validation.pod import MIRROR_POD_ANNOTATION
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources

NAME = "ServiceAccount"
DEFAULT_SERVICE_ACCOUNT = "default"
VOLUME_PREFIX = "kube-api-access-"
MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
ROOT_CA_CONFIG_MAP = "kube-root-ca.crt"
# serviceaccount.WarnOnlyBoundTokenExpirationSeconds: an hour and 7 s, which tells the apiserver
# the token came from this plugin's volume.
TOKEN_EXPIRATION_SECONDS = 3607
DEFAULT_ACCOUNT_ATTEMPTS = 10
# names.SimpleNameGenerator's alphabet: no vowels, no look-alikes.
_SUFFIX_CHARS = "bcdfghjklmnpqrstvwxz2456789"


class AccountCache(Protocol):
    """The watch cache's copy of a service account, None if it has none."""

    def peek(self, namespace: str, name: str) -> core_pb2.ServiceAccount | None: ...


class AccountReader(Protocol):
    """Reads a service account from storage; NotFound if there is none."""

    async def get(self, namespace: str, name: str) -> core_pb2.ServiceAccount: ...


def token_volume_source() -> core_pb2.ProjectedVolumeSource:
    """TokenVolumeSource: the token, the cluster's CA and the namespace, mode 0644."""
    source = core_pb2.ProjectedVolumeSource(default_mode=0o644)
    source.sources.add().service_account_token.CopyFrom(
        core_pb2.ServiceAccountTokenProjection(
            path="token", expiration_seconds=TOKEN_EXPIRATION_SECONDS
        )
    )
    ca = source.sources.add().config_map
    ca.name = ROOT_CA_CONFIG_MAP
    ca.items.add(key="ca.crt", path="ca.crt")
    source.sources.add().downward_api.items.add(
        path="namespace",
        field_ref=core_pb2.ObjectFieldSelector(api_version="v1", field_path="metadata.namespace"),
    )
    return source


# Every pod's volume is the same: built once, copied into each (building it cost more).
_TOKEN_VOLUME_SOURCE = token_volume_source()


def should_automount(account: core_pb2.ServiceAccount, pod: core_pb2.Pod) -> bool:
    """The pod's word first, then the account's; yes when neither says."""
    if pod.spec.HasField("automount_service_account_token"):
        return pod.spec.automount_service_account_token
    if account.HasField("automount_service_account_token"):
        return account.automount_service_account_token
    return True


def mount_service_account_token(pod: core_pb2.Pod, suffix: Callable[[], str]) -> None:
    """Adds the token volume (unless a kube-api-access- one is there) and its mount to every init
    and app container that mounts nothing at the mount path already."""
    existing = next((v.name for v in pod.spec.volumes if v.name.startswith(VOLUME_PREFIX)), "")
    volume_name = existing or VOLUME_PREFIX + suffix()
    needs_volume = False
    for c in [*pod.spec.init_containers, *pod.spec.containers]:
        if any(m.mount_path == MOUNT_PATH for m in c.volume_mounts):
            continue
        c.volume_mounts.add(name=volume_name, read_only=True, mount_path=MOUNT_PATH)
        needs_volume = True
    if needs_volume and not existing:
        pod.spec.volumes.add(name=volume_name).projected.CopyFrom(_TOKEN_VOLUME_SOURCE)


def _random_suffix() -> str:
    # Unique enough, not secret (Kubernetes' utilrand.String, math/rand): `random` is a
    # fifth of `secrets`' cost, which reads the OS's entropy once a character.
    return "".join(random.choices(_SUFFIX_CHARS, k=5))


def _mirror_pod_refusal(pod: core_pb2.Pod) -> str | None:
    if pod.spec.service_account_name:
        return "a mirror pod may not reference service accounts"
    if next(secret_names(pod), None) is not None:
        return "a mirror pod may not reference secrets"
    for v in pod.spec.volumes:
        if any(s.HasField("service_account_token") for s in v.projected.sources):
            return "a mirror pod may not use ServiceAccountToken volume projections"
    return None


def _check_mirror_pod(pod: core_pb2.Pod) -> None:
    refusal = _mirror_pod_refusal(pod)
    if refusal is not None:
        raise errors.forbidden(resources.POD, refused_name(pod), refusal)


class ServiceAccountAdmission(Handler):
    """Mutating and validating, of pod creates (Kubernetes' plugin also validates the secrets an
    ephemeral container's update references, for accounts that enforce mountable secrets, which
    podplane's accounts do not)."""

    admit_scope = validate_scope = Scope((core_pb2.Pod,))

    def __init__(
        self,
        cache: AccountCache,
        accounts: AccountReader,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        suffix: Callable[[], str] = _random_suffix,
    ) -> None:
        super().__init__(CREATE)
        self._cache = cache
        self._accounts = accounts
        self._sleep = sleep
        self._suffix = suffix

    async def admit(self, attrs: Attributes) -> None:
        """The default account, the token volume and the account's image pull secrets; a mirror
        pod is left as it is, and refused here if it references an account or secrets."""
        pod = attrs.object
        if attrs.subresource or not isinstance(pod, core_pb2.Pod):
            return
        if MIRROR_POD_ANNOTATION in pod.metadata.annotations:
            _check_mirror_pod(pod)  # Kubernetes' Admit validates a mirror pod at once
            return
        if not pod.spec.service_account_name:
            pod.spec.service_account_name = DEFAULT_SERVICE_ACCOUNT
            pod.spec.service_account = DEFAULT_SERVICE_ACCOUNT  # the deprecated alias follows
        account = await self._existing_account(pod)
        if should_automount(account, pod):
            mount_service_account_token(pod, self._suffix)
        if not pod.spec.image_pull_secrets:
            for ref in account.image_pull_secrets:
                pod.spec.image_pull_secrets.add(name=ref.name)

    async def validate(self, attrs: Attributes) -> None:
        """A mirror pod references no account or secrets; any other pod names an account that
        exists."""
        pod = attrs.object
        if attrs.subresource or not isinstance(pod, core_pb2.Pod):
            return
        if MIRROR_POD_ANNOTATION in pod.metadata.annotations:
            _check_mirror_pod(pod)
            return
        if not pod.spec.service_account_name:
            raise errors.forbidden(
                resources.POD,
                refused_name(pod),
                f"no service account specified for pod {pod.metadata.namespace}/"
                f"{pod.metadata.name}",
            )
        await self._existing_account(pod)

    async def _existing_account(self, pod: core_pb2.Pod) -> core_pb2.ServiceAccount:
        namespace, name = pod.metadata.namespace, pod.spec.service_account_name
        account = await self._account(namespace, name)
        if account is None:
            raise errors.forbidden(
                resources.POD,
                refused_name(pod),
                f"error looking up service account {namespace}/{name}: "
                f'serviceaccount "{name}" not found',
            )
        return account

    async def _account(self, namespace: str, name: str) -> core_pb2.ServiceAccount | None:
        """The cache's copy, else storage's: looked up again for a while when it is `default`,
        which the controller may be making right now."""
        cached = self._cache.peek(namespace, name)
        if cached is not None:
            return cached
        attempts = DEFAULT_ACCOUNT_ATTEMPTS if name == DEFAULT_SERVICE_ACCOUNT else 1
        interval = random.uniform(0.1, 0.2)
        for attempt in range(attempts):
            if attempt:
                await self._sleep(interval)
            try:
                return await self._accounts.get(namespace, name)
            except errors.APIError as e:
                if e.reason != "NotFound":
                    raise
        return None
