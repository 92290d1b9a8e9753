"""ServiceAccount admission: the default account, Kubernetes' refusal of a pod whose account does
not exist (after looking `default` up again for a while), the kube-api-access- volume and its
mounts unless automount is off, the account's pull secrets, and mirror pods left alone."""

from __future__ import annotations

from typing import Any

import pytest

from apiserver import errors
from apiserver.admission.service_account import MOUNT_PATH, ServiceAccountAdmission
from apiserver.validation import pod as pod_validation
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import codec, manifest, resources
from tests.unit.apiserver.admission_calls import admit_create


class Accounts:
    """The watch cache's accounts and storage's (which may have one the cache has not yet)."""

    def __init__(
        self,
        cached: list[core_pb2.ServiceAccount],
        stored: tuple[core_pb2.ServiceAccount, ...] = (),
    ) -> None:
        self.cached = {(a.metadata.namespace, a.metadata.name): a for a in cached}
        self.stored = {(a.metadata.namespace, a.metadata.name): a for a in [*cached, *stored]}
        self.gets = 0

    def peek(self, namespace: str, name: str) -> core_pb2.ServiceAccount | None:
        return self.cached.get((namespace, name))

    async def get(self, namespace: str, name: str) -> core_pb2.ServiceAccount:
        self.gets += 1
        found = self.stored.get((namespace, name))
        if found is None:
            raise errors.not_found(resources.SERVICE_ACCOUNT, name)
        return found


def account(name: str = "default", **fields: Any) -> core_pb2.ServiceAccount:
    sa = core_pb2.ServiceAccount(**fields)
    sa.metadata.namespace, sa.metadata.name = "team", name
    return sa


def make_pod(**spec: Any) -> core_pb2.Pod:
    pod = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web", "namespace": "team"},
            "spec": {
                "initContainers": [{"name": "setup", "image": "busybox"}],
                "containers": [{"name": "main", "image": "busybox"}],
                "ephemeralContainers": [{"name": "debugger", "image": "busybox"}],
                "restartPolicy": "Always",
                **spec,
            },
        }
    )
    assert isinstance(pod, core_pb2.Pod)
    return pod


class Sleeps:
    def __init__(self) -> None:
        self.slept: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)


def plugin(accounts: Accounts, sleeps: Sleeps | None = None) -> ServiceAccountAdmission:
    return ServiceAccountAdmission(
        accounts, accounts, sleep=sleeps or Sleeps(), suffix=lambda: "x7k2p"
    )


async def test_a_pod_runs_as_default_with_the_token_volume_in_every_container() -> None:
    pod = make_pod()
    await admit_create(plugin(Accounts([account()])), pod)
    out = codec.encode(pod)["spec"]
    assert out["serviceAccountName"] == "default"
    assert out["volumes"] == [
        {
            "name": "kube-api-access-x7k2p",
            "projected": {
                "defaultMode": 420,
                "sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    {
                        "configMap": {
                            "name": "kube-root-ca.crt",
                            "items": [{"key": "ca.crt", "path": "ca.crt"}],
                        }
                    },
                    {
                        "downwardAPI": {
                            "items": [
                                {
                                    "fieldRef": {
                                        "apiVersion": "v1",
                                        "fieldPath": "metadata.namespace",
                                    },
                                    "path": "namespace",
                                }
                            ]
                        }
                    },
                ],
            },
        }
    ]
    mount = {"name": "kube-api-access-x7k2p", "readOnly": True, "mountPath": MOUNT_PATH}
    assert out["initContainers"][0]["volumeMounts"] == [mount]
    assert out["containers"][0]["volumeMounts"] == [mount]
    assert "volumeMounts" not in out["ephemeralContainers"][0]
    assert pod_validation.pod(pod) == []  # valid as added


async def test_a_named_account_must_exist_and_is_looked_up_once() -> None:
    accounts = Accounts([account()])
    sleeps = Sleeps()
    with pytest.raises(errors.APIError) as refused:
        await admit_create(plugin(accounts, sleeps), make_pod(serviceAccountName="robot"))
    assert refused.value.reason == "Forbidden"
    assert refused.value.message == (
        'pods "web" is forbidden: error looking up service account team/robot: '
        'serviceaccount "robot" not found'
    )
    assert (accounts.gets, sleeps.slept) == (1, [])


async def test_default_is_looked_up_again_before_the_pod_is_refused() -> None:
    accounts = Accounts([])
    sleeps = Sleeps()
    with pytest.raises(errors.APIError, match="error looking up service account team/default"):
        await admit_create(plugin(accounts, sleeps), make_pod())
    assert accounts.gets == 10
    assert len(sleeps.slept) == 9 and all(0.1 <= s <= 0.2 for s in sleeps.slept)


async def test_an_account_stored_but_not_yet_cached_is_found() -> None:
    accounts = Accounts([], stored=(account("robot"),))
    pod = make_pod(serviceAccountName="robot")
    await admit_create(plugin(accounts), pod)
    assert pod.spec.volumes[0].name == "kube-api-access-x7k2p"


@pytest.mark.parametrize(
    ("pod_says", "account_says", "mounted"),
    [
        (None, None, True),
        (False, None, False),
        (None, False, False),
        (True, False, True),
        (False, True, False),
    ],
)
async def test_automount(pod_says: bool | None, account_says: bool | None, mounted: bool) -> None:
    spec = {} if pod_says is None else {"automountServiceAccountToken": pod_says}
    fields: dict[str, Any] = (
        {} if account_says is None else {"automount_service_account_token": account_says}
    )
    pod = make_pod(**spec)
    await admit_create(plugin(Accounts([account(**fields)])), pod)
    assert bool(pod.spec.volumes) is mounted
    assert bool(pod.spec.containers[0].volume_mounts) is mounted
    assert pod.spec.service_account_name == "default"


async def test_a_container_mounting_something_at_the_path_keeps_it() -> None:
    pod = make_pod(
        containers=[
            {
                "name": "main",
                "image": "busybox",
                "volumeMounts": [{"name": "mine", "mountPath": MOUNT_PATH}],
            }
        ],
        initContainers=[],
        volumes=[{"name": "mine", "emptyDir": {}}],
    )
    await admit_create(plugin(Accounts([account()])), pod)
    assert [v.name for v in pod.spec.volumes] == ["mine"]
    assert [m.name for m in pod.spec.containers[0].volume_mounts] == ["mine"]


async def test_a_kube_api_access_volume_already_there_is_used() -> None:
    pod = make_pod(volumes=[{"name": "kube-api-access-mine", "emptyDir": {}}])
    await admit_create(plugin(Accounts([account()])), pod)
    assert [v.name for v in pod.spec.volumes] == ["kube-api-access-mine"]
    assert pod.spec.containers[0].volume_mounts[0].name == "kube-api-access-mine"


async def test_the_accounts_pull_secrets_when_the_pod_has_none() -> None:
    sa = account(image_pull_secrets=[core_pb2.LocalObjectReference(name="registry")])
    pod = make_pod()
    await admit_create(plugin(Accounts([sa])), pod)
    assert [r.name for r in pod.spec.image_pull_secrets] == ["registry"]
    own = make_pod(imagePullSecrets=[{"name": "own"}])
    await admit_create(plugin(Accounts([sa])), own)
    assert [r.name for r in own.spec.image_pull_secrets] == ["own"]


MIRROR = {"kubernetes.io/config.mirror": "hash"}


async def test_mirror_pods_are_not_changed() -> None:
    pod = make_pod()
    pod.metadata.annotations.update(MIRROR)
    before = core_pb2.Pod()
    before.CopyFrom(pod)
    await admit_create(plugin(Accounts([])), pod)
    assert pod == before


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"serviceAccountName": "robot"}, "a mirror pod may not reference service accounts"),
        (
            {"volumes": [{"name": "s", "secret": {"secretName": "password"}}]},
            "a mirror pod may not reference secrets",
        ),
        (
            {
                "volumes": [
                    {
                        "name": "t",
                        "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]},
                    }
                ]
            },
            "a mirror pod may not use ServiceAccountToken volume projections",
        ),
    ],
)
async def test_mirror_pods_may_not_use_accounts_or_secrets(
    spec: dict[str, Any], message: str
) -> None:
    pod = make_pod(**spec)
    pod.metadata.annotations.update(MIRROR)
    with pytest.raises(errors.APIError) as refused:
        await admit_create(plugin(Accounts([account()])), pod)
    assert refused.value.message == f'pods "web" is forbidden: {message}'


async def test_other_kinds_are_left_alone() -> None:
    cm = core_pb2.ConfigMap()
    await admit_create(plugin(Accounts([])), cm)
    assert cm == core_pb2.ConfigMap()


async def test_each_pod_gets_a_volume_of_its_own_with_a_random_name() -> None:
    admission = ServiceAccountAdmission(Accounts([account()]), Accounts([account()]))
    first, second = make_pod(), make_pod()
    await admit_create(admission, first)
    await admit_create(admission, second)
    names = [p.spec.volumes[0].name for p in (first, second)]
    for name in names:
        suffix = name.removeprefix("kube-api-access-")
        assert len(suffix) == 5 and set(suffix) <= set("bcdfghjklmnpqrstvwxz2456789")
    first.spec.volumes[0].projected.sources[0].service_account_token.path = "changed"
    assert second.spec.volumes[0].projected.sources[0].service_account_token.path == "token"
