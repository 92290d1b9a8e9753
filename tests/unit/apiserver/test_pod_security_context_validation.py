"""Security contexts and the OS rules, with Kubernetes 1.31's messages and paths: seccomp and
AppArmor profiles (and their deprecated annotations), sysctl names, procMount, user IDs, Windows
options, what spec.os rules out, and hostUsers."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.apiserver.pod_specs import container, create_errors

SC = "spec.securityContext"
CSC = "spec.containers[0].securityContext"
SYSCTL_REGEX = "^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$"


def pod_sc(**fields: Any) -> dict[str, Any]:
    return {"securityContext": fields}


def container_sc(**fields: Any) -> dict[str, Any]:
    return {"containers": [container(securityContext=fields)]}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (pod_sc(seccompProfile={"type": "RuntimeDefault"}), []),
        (
            pod_sc(seccompProfile={"type": "Localhost", "localhostProfile": "profiles/audit.json"}),
            [],
        ),
        (
            pod_sc(seccompProfile={"type": "Bogus"}),
            [
                f'{SC}.seccompProfile.type: Unsupported value: "Bogus": supported values: '
                '"Localhost", "RuntimeDefault", "Unconfined"'
            ],
        ),
        (
            pod_sc(seccompProfile={"type": ""}),
            [
                f"{SC}.seccompProfile.type: Required value: type is required when "
                "seccompProfile is set"
            ],
        ),
        (
            container_sc(seccompProfile={"type": "Localhost"}),
            [
                f"{CSC}.seccompProfile.localhostProfile: Required value: must be set when seccomp "
                "type is Localhost"
            ],
        ),
        (
            container_sc(seccompProfile={"type": "Localhost", "localhostProfile": "/etc/x.json"}),
            [
                f'{CSC}.seccompProfile.localhostProfile: Invalid value: "/etc/x.json": must be a '
                "relative path"
            ],
        ),
        (
            pod_sc(seccompProfile={"type": "RuntimeDefault", "localhostProfile": "x"}),
            [
                f'{SC}.seccompProfile.localhostProfile: Invalid value: {{"localhostProfile":"x",'
                '"type":"RuntimeDefault"}: can only be set when seccomp type is Localhost'
            ],
        ),
        (pod_sc(appArmorProfile={"type": "RuntimeDefault"}), []),
        (
            container_sc(appArmorProfile={"type": "Localhost"}),
            [
                f"{CSC}.appArmorProfile.localhostProfile: Required value: must be set when "
                "AppArmor type is Localhost"
            ],
        ),
        (
            container_sc(appArmorProfile={"type": "Localhost", "localhostProfile": " p "}),
            [
                f'{CSC}.appArmorProfile.localhostProfile: Invalid value: " p ": must not be padded '
                "with whitespace"
            ],
        ),
        (
            pod_sc(appArmorProfile={"type": "Unconfined", "localhostProfile": "p"}),
            [
                f'{SC}.appArmorProfile.localhostProfile: Invalid value: "p": can only be set when '
                "AppArmor type is Localhost"
            ],
        ),
        (pod_sc(sysctls=[{"name": "net.core.somaxconn", "value": "1024"}]), []),
        (pod_sc(sysctls=[{"name": "kernel.msgmax", "value": "1"}]), []),  # unsafe: the kubelet's
        (pod_sc(sysctls=[{"name": "net/ipv4/ip_forward", "value": "1"}]), []),
        (
            pod_sc(sysctls=[{"name": "Net.Core", "value": "1"}]),
            [
                f'{SC}.sysctls[0].name: Invalid value: "Net.Core": must have at most 253 '
                f"characters and match regex {SYSCTL_REGEX}"
            ],
        ),
        (
            pod_sc(sysctls=[{"name": "", "value": "1"}]),
            [f"{SC}.sysctls[0].name: Required value"],
        ),
        (
            pod_sc(sysctls=[{"name": "a.b", "value": "1"}, {"name": "a.b", "value": "2"}]),
            [f'{SC}.sysctls[1].name: Duplicate value: "a.b"'],
        ),
        (
            {"hostNetwork": True, **pod_sc(sysctls=[{"name": "net.core.somaxconn", "value": "1"}])},
            [
                f'{SC}.sysctls[0].name: Invalid value: "net.core.somaxconn": may not be specified '
                "when 'hostNetwork' is true"
            ],
        ),
        (
            pod_sc(fsGroupChangePolicy="Sometimes"),
            [
                f'{SC}.fsGroupChangePolicy: Unsupported value: "Sometimes": supported values: '
                '"Always", "OnRootMismatch"'
            ],
        ),
        (
            pod_sc(runAsUser=-1),
            [f"{SC}.runAsUser: Invalid value: -1: must be between 0 and 2147483647, inclusive"],
        ),
        (
            container_sc(procMount="Sideways"),
            [],  # ProcMountType is off in 1.31: any procMount is forced to Default
        ),
        (
            container_sc(allowPrivilegeEscalation=False, privileged=True),
            [
                f'{CSC}: Invalid value: {{"allowPrivilegeEscalation":false,"privileged":true}}: '
                "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"
            ],
        ),
        (
            pod_sc(windowsOptions={"runAsUserName": "a\\b\\c"}),
            [
                f'{SC}.windowsOptions.runAsUserName: Invalid value: "a\\\\b\\\\c": runAsUserName '
                "cannot contain more than one backslash"
            ],
        ),
        (
            pod_sc(windowsOptions={"gmsaCredentialSpec": ""}),
            [
                f'{SC}.windowsOptions.gmsaCredentialSpec: Invalid value: "": gmsaCredentialSpec '
                "cannot be an empty string"
            ],
        ),
    ],
)
def test_security_context_fields(spec: dict[str, Any], expected: list[str]) -> None:
    assert create_errors(spec) == expected


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"os": {"name": "linux"}}, []),
        ({"os": {"name": "windows"}}, []),
        (
            {"os": {"name": "plan9"}},
            ['spec.os: Unsupported value: "plan9": supported values: "linux", "windows"'],
        ),
        ({"os": {"name": ""}}, ["spec.os.name: Required value: cannot be empty"]),
        (
            {"os": {"name": "linux"}, **pod_sc(windowsOptions={"runAsUserName": "app"})},
            [f"{SC}.windowsOptions: Forbidden: windows options cannot be set for a linux pod"],
        ),
        (
            {
                "os": {"name": "windows"},
                "hostPID": True,
                **pod_sc(seccompProfile={"type": "RuntimeDefault"}, runAsUser=1000),
                "containers": [container(securityContext={"privileged": False})],
            },
            [
                "spec.hostPID: Forbidden: cannot be set for a windows pod",
                f"{SC}.seccompProfile: Forbidden: cannot be set for a windows pod",
                f"{SC}.runAsUser: Forbidden: cannot be set for a windows pod",
                f"{CSC}.privileged: Forbidden: cannot be set for a windows pod",
            ],
        ),
    ],
)
def test_os_rules(spec: dict[str, Any], expected: list[str]) -> None:
    assert create_errors(spec) == expected


def test_host_process_containers_are_all_or_none() -> None:
    spec = {
        "os": {"name": "windows"},
        "containers": [
            container(securityContext={"windowsOptions": {"hostProcess": True}}),
            container(name="other"),
        ],
    }
    assert create_errors(spec) == [
        'spec: Invalid value: "": If pod contains any hostProcess containers then all containers '
        "must be HostProcess containers",
        "spec.hostNetwork: Invalid value: false: hostNetwork must be true if pod contains any "
        "hostProcess containers",
    ]


SECCOMP_POD = "seccomp.security.alpha.kubernetes.io/pod"
APPARMOR = "container.apparmor.security.beta.kubernetes.io/main"


@pytest.mark.parametrize(
    ("spec", "annotations", "expected"),
    [
        (pod_sc(seccompProfile={"type": "RuntimeDefault"}), {SECCOMP_POD: "runtime/default"}, []),
        (
            pod_sc(seccompProfile={"type": "RuntimeDefault"}),
            {SECCOMP_POD: "unconfined"},
            [
                f"{SC}.seccompProfile.type: Forbidden: seccomp type in annotation and field "
                "must match"
            ],
        ),
        (
            {},
            {SECCOMP_POD: "whatever"},
            [
                f'metadata.annotations.{SECCOMP_POD}: Invalid value: "whatever": must be a valid '
                "seccomp profile"
            ],
        ),
        (
            container_sc(appArmorProfile={"type": "Localhost", "localhostProfile": "a"}),
            {APPARMOR: "localhost/b"},
            [
                f"{CSC}.appArmorProfile.localhostProfile: Forbidden: apparmor profile in "
                "annotation and field must match"
            ],
        ),
        (
            {},
            {"container.apparmor.security.beta.kubernetes.io/ghost": "runtime/default"},
            [
                "metadata.annotations[container.apparmor.security.beta.kubernetes.io/ghost]: "
                'Invalid value: "ghost": container not found'
            ],
        ),
    ],
)
def test_deprecated_annotations_agree_with_the_fields(
    spec: dict[str, Any], annotations: dict[str, str], expected: list[str]
) -> None:
    assert create_errors(spec, metadata={"annotations": annotations}) == expected
