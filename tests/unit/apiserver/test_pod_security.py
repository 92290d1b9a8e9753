"""Pod Security admission at the baseline and restricted levels: which pods a labelled namespace
refuses, in Kubernetes' words, and that unlabelled or privileged namespaces refuse nothing."""

from __future__ import annotations

from collections.abc import Callable

import grpc
import pytest

from apiserver import errors
from apiserver.admission.pod_security import PodSecurity, baseline_violations, violations
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from tests.unit.apiserver.admission_calls import admit_create, admit_update

Mutation = Callable[[core_pb2.Pod], None]


def pod(mutate: Mutation = lambda p: None, namespace: str = "secure") -> core_pb2.Pod:
    p = core_pb2.Pod(metadata=meta_pb2.ObjectMeta(name="x", namespace=namespace))
    p.spec.containers.add(name="c", image="busybox")
    mutate(p)
    return p


def _privileged(p: core_pb2.Pod) -> None:
    p.spec.containers[0].security_context.privileged = True


def _two_privileged(p: core_pb2.Pod) -> None:
    _privileged(p)
    p.spec.init_containers.add(name="init", image="busybox").security_context.privileged = True


def _host_namespaces(p: core_pb2.Pod) -> None:
    p.spec.host_network = True
    p.spec.host_pid = True


def _host_path(p: core_pb2.Pod) -> None:
    p.spec.volumes.add(name="root").host_path.path = "/"


def _host_port(p: core_pb2.Pod) -> None:
    p.spec.containers[0].ports.add(container_port=80, host_port=8080)


def _capabilities(p: core_pb2.Pod) -> None:
    p.spec.containers[0].security_context.capabilities.add.extend(
        ["NET_BIND_SERVICE", "SYS_ADMIN", "NET_ADMIN"]
    )


def _allowed_capability(p: core_pb2.Pod) -> None:
    p.spec.containers[0].security_context.capabilities.add.append("CHOWN")


def _not_privileged(p: core_pb2.Pod) -> None:
    p.spec.containers[0].security_context.privileged = False


@pytest.mark.parametrize(
    "mutate, violations",
    [
        (lambda p: None, []),
        (_not_privileged, []),
        (_allowed_capability, []),
        (_privileged, ['privileged (container "c" must not set securityContext.privileged=true)']),
        (
            _two_privileged,
            ['privileged (containers "init", "c" must not set securityContext.privileged=true)'],
        ),
        (_host_namespaces, ["host namespaces (hostNetwork=true, hostPID=true)"]),
        (_host_path, ['hostPath volumes (volume "root")']),
        (_host_port, ['hostPort (container "c" uses hostPort 8080)']),
        (
            _capabilities,
            [
                'non-default capabilities (container "c" must not include "NET_ADMIN", '
                '"SYS_ADMIN" in securityContext.capabilities.add)'
            ],
        ),
    ],
)
def test_baseline_checks(mutate: Mutation, violations: list[str]) -> None:
    assert baseline_violations(pod(mutate)) == violations


LABELS = {
    "secure": {"pod-security.kubernetes.io/enforce": "baseline"},
    "strict": {
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "v1.30",
    },
    "open": {"pod-security.kubernetes.io/enforce": "privileged"},
    "plain": {},
}


async def _labels(namespace: str) -> dict[str, str] | None:
    return LABELS.get(namespace)


ADMISSION = PodSecurity(_labels)


async def test_labelled_namespace_refuses_privileged_pod() -> None:
    with pytest.raises(errors.APIError) as refused:
        await admit_create(ADMISSION, pod(_privileged))
    assert refused.value.code == grpc.StatusCode.PERMISSION_DENIED
    assert refused.value.message == (
        'pods "x" is forbidden: violates PodSecurity "baseline:latest": privileged (container '
        '"c" must not set securityContext.privileged=true)'
    )


async def test_every_violation_is_named_with_the_namespace_level() -> None:
    def both(p: core_pb2.Pod) -> None:
        _privileged(p)
        _host_path(p)

    with pytest.raises(errors.APIError) as refused:
        await admit_create(ADMISSION, pod(both, namespace="strict"))
    assert refused.value.message == (
        'pods "x" is forbidden: violates PodSecurity "restricted:v1.30": hostPath volumes (volume '
        '"root"), privileged (container "c" must not set securityContext.privileged=true), '
        'allowPrivilegeEscalation != false (container "c" must set '
        "securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "
        '"c" must set securityContext.capabilities.drop=["ALL"]), restricted volume types (volume '
        '"root" uses restricted volume type "hostPath"), runAsNonRoot != true (pod or container '
        '"c" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "c" '
        'must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")'
    )


@pytest.mark.parametrize("namespace", ["open", "plain", "missing"])
async def test_other_namespaces_refuse_nothing(namespace: str) -> None:
    await admit_create(ADMISSION, pod(_privileged, namespace=namespace))


async def test_baseline_pod_and_other_kinds_pass() -> None:
    await admit_create(ADMISSION, pod())
    await admit_create(
        ADMISSION, core_pb2.ConfigMap(metadata=meta_pb2.ObjectMeta(name="x", namespace="secure"))
    )


async def test_ephemeral_containers_are_checked_when_added() -> None:
    admission = ADMISSION
    old = pod()
    new = pod()
    new.spec.ephemeral_containers.add(name="debugger", image="busybox")
    await admit_update(admission, "ephemeralcontainers", new, old)
    new.spec.ephemeral_containers[0].security_context.privileged = True
    with pytest.raises(errors.APIError) as refused:
        await admit_update(admission, "ephemeralcontainers", new, old)
    assert refused.value.message == (
        'pods "x" is forbidden: violates PodSecurity "baseline:latest": privileged (container '
        '"debugger" must not set securityContext.privileged=true)'
    )
    await admit_update(admission, "status", new, old)  # only the subresource that adds containers


def _restricted_ready(p: core_pb2.Pod) -> None:
    p.spec.security_context.run_as_non_root = True
    p.spec.security_context.seccomp_profile.type = "RuntimeDefault"
    sc = p.spec.containers[0].security_context
    sc.allow_privilege_escalation = False
    sc.capabilities.drop.append("ALL")


async def test_restricted_admits_a_pod_with_a_runtime_default_seccomp_profile() -> None:
    await admit_create(ADMISSION, pod(_restricted_ready, namespace="strict"))


def _mutated(*steps: Mutation) -> Mutation:
    def apply(p: core_pb2.Pod) -> None:
        for step in steps:
            step(p)

    return apply


def _set(path: str, value: object) -> Mutation:
    def apply(p: core_pb2.Pod) -> None:
        *parents, last = path.split(".")
        target: object = p
        for name in parents:
            target = getattr(target, name)
        setattr(target, last, value)

    return apply


def _sysctl(name: str) -> Mutation:
    def apply(p: core_pb2.Pod) -> None:
        p.spec.security_context.sysctls.add(name=name, value="1")

    return apply


@pytest.mark.parametrize(
    ("mutate", "violation"),
    [
        (
            _set("spec.security_context.seccomp_profile.type", "Unconfined"),
            'seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")',
        ),
        (
            _set("spec.security_context.app_armor_profile.type", "Unconfined"),
            "forbidden AppArmor profile (pod must not set securityContext.appArmorProfile.type to "
            '"Unconfined")',
        ),
        (
            _set("spec.security_context.se_linux_options.type", "spc_t"),
            'seLinuxOptions (pod set forbidden securityContext.seLinuxOptions: type "spc_t")',
        ),
        (
            _sysctl("kernel.msgmax"),
            "forbidden sysctls (kernel.msgmax)",
        ),
    ],
)
def test_baseline_checks_the_new_security_fields(mutate: Mutation, violation: str) -> None:
    assert baseline_violations(pod(mutate)) == [violation]
    assert baseline_violations(pod(_sysctl("net.ipv4.tcp_syncookies"))) == []


@pytest.mark.parametrize(
    ("mutate", "violation"),
    [
        (
            _set("spec.security_context.run_as_user", 0),
            "runAsUser=0 (pod must not set runAsUser=0)",
        ),
        (
            lambda p: p.spec.volumes.add(name="data").nfs.CopyFrom(
                core_pb2.NFSVolumeSource(server="nfs", path="/")
            ),
            'restricted volume types (volume "data" uses restricted volume type "nfs")',
        ),
        (
            lambda p: p.spec.containers[0].security_context.capabilities.add.append("CHOWN"),
            'unrestricted capabilities (container "c" must not include "CHOWN" in '
            "securityContext.capabilities.add)",
        ),
    ],
)
def test_restricted_checks(mutate: Mutation, violation: str) -> None:
    assert violations(pod(_mutated(_restricted_ready, mutate)), "restricted") == [violation]
