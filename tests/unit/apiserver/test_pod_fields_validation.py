"""The pod spec fields of Kubernetes 1.31 beyond the security contexts, validated with its
messages and paths: host aliases, readiness and scheduling gates (and their update rules),
preemption policy, runtime class, overhead, gRPC probes, volume mounts and devices, resize policy,
topology spread and pod affinity label keys."""

from __future__ import annotations

from typing import Any

import pytest

from apiserver.validation.fields import SUBDOMAIN_MSG
from podplane.api.core.v1 import core_pb2
from tests.unit.apiserver.pod_specs import container, create_errors, make_pod, update_errors

C0 = "spec.containers[0]"


def with_container(**fields: Any) -> dict[str, Any]:
    return {"containers": [container(**fields)]}


def grpc_probe(port: int, **extra: Any) -> dict[str, Any]:
    return {"grpc": {"port": port}, **extra}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"hostAliases": [{"ip": "10.0.0.5", "hostnames": ["db", "db.local"]}]}, []),
        (
            {"hostAliases": [{"ip": "10.0.0.300", "hostnames": ["Bad_Name"]}]},
            [
                'spec.hostAliases[0].ip: Invalid value: "10.0.0.300": must be a valid IP address, '
                "(e.g. 10.9.8.7 or 2001:db8::ffff)",
                'spec.hostAliases[0].hostnames[0]: Invalid value: "Bad_Name": ' + SUBDOMAIN_MSG,
            ],
        ),
        ({"readinessGates": [{"conditionType": "example.com/feature-1"}]}, []),
        (
            {"readinessGates": [{"conditionType": "bad gate"}]},
            [
                'spec.readinessGates[0].conditionType: Invalid value: "bad gate": name part must '
                "consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
                "an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
                "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
            ],
        ),
        (
            {"schedulingGates": [{"name": "example.com/a"}, {"name": "example.com/a"}]},
            ['spec.schedulingGates[1]: Duplicate value: "example.com/a"'],
        ),
        (
            {"nodeName": "n1", "schedulingGates": [{"name": "g"}]},
            ["spec.nodeName: Forbidden: cannot be set until all schedulingGates have been cleared"],
        ),
        ({"preemptionPolicy": "Never"}, []),
        (
            {"preemptionPolicy": "Sometimes"},
            [
                'spec.preemptionPolicy: Unsupported value: "Sometimes": supported values: '
                '"PreemptLowerPriority", "Never"'
            ],
        ),
        ({"runtimeClassName": "gvisor"}, []),
        (
            {"runtimeClassName": "GVisor"},
            ['spec.runtimeClassName: Invalid value: "GVisor": ' + SUBDOMAIN_MSG],
        ),
        ({"overhead": {"cpu": "250m", "memory": "120Mi"}}, []),
        (
            {"overhead": {"cpu": "-1"}},
            ['spec.overhead.limits[cpu]: Invalid value: "-1": must be greater than or equal to 0'],
        ),
        ({"setHostnameAsFQDN": True}, []),
        (with_container(readinessProbe=grpc_probe(9090)), []),
        (
            with_container(livenessProbe=grpc_probe(70000)),
            [
                f"{C0}.livenessProbe.grpc.port: Invalid value: 70000: must be between 1 and 65535, "
                "inclusive"
            ],
        ),
        (
            with_container(livenessProbe=grpc_probe(8080, tcpSocket={"port": 8080})),
            [f"{C0}.livenessProbe.grpc: Forbidden: may not specify more than 1 handler type"],
        ),
        (
            with_container(readinessProbe={"periodSeconds": 5}),
            [f"{C0}.readinessProbe: Required value: must specify a handler type"],
        ),
        (
            with_container(livenessProbe=grpc_probe(9090, successThreshold=2)),
            [f"{C0}.livenessProbe.successThreshold: Invalid value: 2: must be 1"],
        ),
    ],
)
def test_pod_spec_fields(spec: dict[str, Any], expected: list[str]) -> None:
    assert create_errors(spec) == expected


VOLUMES = [
    {"name": "data", "emptyDir": {}},
    {"name": "claim", "persistentVolumeClaim": {"claimName": "c"}},
]


def mounts(*mount_list: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"volumes": VOLUMES, **with_container(volumeMounts=list(mount_list), **extra)}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            mounts(
                {
                    "name": "data",
                    "mountPath": "/d",
                    "readOnly": True,
                    "recursiveReadOnly": "Enabled",
                }
            ),
            [],
        ),
        (
            mounts({"name": "data", "mountPath": "/d", "recursiveReadOnly": "IfPossible"}),
            [
                f"{C0}.volumeMounts.recursiveReadOnly: Forbidden: may only be specified when "
                "readOnly is true"
            ],
        ),
        (
            mounts(
                {"name": "data", "mountPath": "/d", "readOnly": True, "recursiveReadOnly": "Yes"}
            ),
            [
                f'{C0}.volumeMounts.recursiveReadOnly: Unsupported value: "Yes": supported values: '
                '"Disabled", "Enabled", "IfPossible"'
            ],
        ),
        (mounts({"name": "data", "mountPath": "/d", "subPathExpr": "$(POD_NAME)"}), []),
        (
            mounts({"name": "data", "mountPath": "/d", "subPath": "a", "subPathExpr": "b"}),
            [
                f'{C0}.volumeMounts[0].subPathExpr: Invalid value: "b": subPathExpr and subPath '
                "are mutually exclusive"
            ],
        ),
        (
            mounts({"name": "data", "mountPath": "/d", "subPath": "../x"}),
            [f"{C0}.volumeMounts.subPath: Invalid value: \"../x\": must not contain '..'"],
        ),
        (
            mounts({"name": "data", "mountPath": "/d"}, {"name": "data", "mountPath": "/d"}),
            [f'{C0}.volumeMounts[1].mountPath: Invalid value: "/d": must be unique'],
        ),
        (
            mounts(volumeDevices=[{"name": "claim", "devicePath": "/dev/xvda"}]),
            [],
        ),
        (
            mounts(volumeDevices=[{"name": "data", "devicePath": "/dev/xvda"}]),
            [
                f'{C0}.volumeDevices[0].name: Invalid value: "data": can only use volume source '
                "type of PersistentVolumeClaim or Ephemeral for block mode"
            ],
        ),
        (
            mounts(
                {"name": "claim", "mountPath": "/dev/xvda"},
                volumeDevices=[{"name": "claim", "devicePath": "/dev/xvda"}],
            ),
            [
                f'{C0}.volumeMounts[0].name: Invalid value: "claim": must not already exist in '
                "volumeDevices",
                f'{C0}.volumeMounts[0].mountPath: Invalid value: "/dev/xvda": must not already '
                "exist as a path in volumeDevices",
                f'{C0}.volumeDevices[0].name: Invalid value: "claim": must not already exist in '
                "volumeMounts",
                f'{C0}.volumeDevices[0].devicePath: Invalid value: "/dev/xvda": must not already '
                "exist as a path in volumeMounts",
            ],
        ),
    ],
)
def test_volume_mounts_and_devices(spec: dict[str, Any], expected: list[str]) -> None:
    assert create_errors(spec) == expected


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            {
                "topologySpreadConstraints": [
                    {
                        "maxSkew": 1,
                        "topologyKey": "zone",
                        "whenUnsatisfiable": "DoNotSchedule",
                        "nodeAffinityPolicy": "Honor",
                        "nodeTaintsPolicy": "Ignore",
                        "matchLabelKeys": ["pod-template-hash"],
                        "labelSelector": {"matchLabels": {"app": "web"}},
                    }
                ]
            },
            [],
        ),
        (
            {
                "topologySpreadConstraints": [
                    {
                        "maxSkew": 1,
                        "topologyKey": "zone",
                        "whenUnsatisfiable": "ScheduleAnyway",
                        "minDomains": 2,
                        "nodeTaintsPolicy": "Sometimes",
                        "matchLabelKeys": ["app"],
                        "labelSelector": {"matchLabels": {"app": "web"}},
                    },
                    {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "ScheduleAnyway"},
                ]
            },
            [
                "spec.topologySpreadConstraints[0].{topologyKey, whenUnsatisfiable}: Duplicate "
                'value: "{zone, ScheduleAnyway}"',
                "spec.topologySpreadConstraints[0].minDomains: Invalid value: 2: can only use "
                "minDomains if whenUnsatisfiable=DoNotSchedule, not ScheduleAnyway",
                "spec.topologySpreadConstraints[0].nodeTaintsPolicy: Unsupported value: "
                '"Sometimes": supported values: "Honor", "Ignore"',
                'spec.topologySpreadConstraints[0].matchLabelKeys[0]: Invalid value: "app": '
                "exists in both matchLabelKeys and labelSelector",
            ],
        ),
        (
            {
                "affinity": {
                    "podAntiAffinity": {
                        "requiredDuringSchedulingIgnoredDuringExecution": [
                            {
                                "topologyKey": "kubernetes.io/hostname",
                                "matchLabelKeys": ["tier"],
                                "mismatchLabelKeys": ["tier"],
                            }
                        ]
                    }
                }
            },
            [
                "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]"
                ".matchLabelKeys: Forbidden: must not be specified when labelSelector is not set",
                "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]"
                ".mismatchLabelKeys: Forbidden: must not be specified when labelSelector is not "
                "set",
                "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]"
                '.matchLabelKeys[0]: Invalid value: "tier": exists in both matchLabelKeys and '
                "mismatchLabelKeys",
            ],
        ),
    ],
)
def test_scheduling_constraints(spec: dict[str, Any], expected: list[str]) -> None:
    assert create_errors(spec) == expected


def test_match_label_keys_merge_into_the_selector() -> None:
    term = {
        "topologyKey": "kubernetes.io/hostname",
        "labelSelector": {"matchLabels": {"app": "web"}},
        "matchLabelKeys": ["tier", "absent"],
        "mismatchLabelKeys": ["team"],
    }
    pod = make_pod(
        {"affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}},
        metadata={"labels": {"app": "web", "tier": "db", "team": "a"}},
    )
    selector = pod.spec.affinity.pod_affinity.required_during_scheduling_ignored_during_execution[
        0
    ].label_selector
    assert [(e.key, e.operator, list(e.values)) for e in selector.match_expressions] == [
        ("tier", "In", ["db"]),
        ("team", "NotIn", ["a"]),
    ]


def gated_pod() -> core_pb2.Pod:
    return make_pod({"schedulingGates": [{"name": "example.com/quota"}, {"name": "b"}]})


def changed(pod: core_pb2.Pod, spec: dict[str, Any]) -> core_pb2.Pod:
    return make_pod(
        {**_spec_of(pod), **spec},
        metadata={"labels": dict(pod.metadata.labels)},
    )


def _spec_of(pod: core_pb2.Pod) -> dict[str, Any]:
    from podplane.apimachinery import manifest

    return dict(manifest.to_dict(pod.spec))


def test_scheduling_gates_are_only_removed() -> None:
    old = gated_pod()
    assert update_errors(old, changed(old, {"schedulingGates": [{"name": "b"}]})) == []
    assert update_errors(old, changed(old, {"schedulingGates": []})) == []
    assert update_errors(
        old, changed(old, {"schedulingGates": [{"name": "b"}, {"name": "example.com/new"}]})
    ) == [
        "spec.schedulingGates[1].name: Forbidden: only deletion is allowed, but found new "
        "scheduling gate 'example.com/new'"
    ]
    free = make_pod()
    assert update_errors(free, changed(free, {"schedulingGates": [{"name": "late"}]})) == [
        "spec.schedulingGates[0].name: Forbidden: only deletion is allowed, but found new "
        "scheduling gate 'late'"
    ]


def test_a_gated_pod_may_narrow_where_it_goes() -> None:
    old = make_pod({"schedulingGates": [{"name": "g"}], "nodeSelector": {"zone": "a"}})
    assert update_errors(old, changed(old, {"nodeSelector": {"zone": "a", "disk": "ssd"}})) == []
    assert update_errors(old, changed(old, {"nodeSelector": {"zone": "b"}})) == [
        'spec.nodeSelector: Invalid value: {"zone":"b"}: only additions to spec.nodeSelector are '
        "allowed (no mutations or deletions)"
    ]
    ungated = make_pod({"nodeSelector": {"zone": "a"}})
    errs = update_errors(ungated, changed(ungated, {"nodeSelector": {"zone": "a", "disk": "ssd"}}))
    assert len(errs) == 1 and errs[0].startswith(
        "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`"
    )


@pytest.mark.parametrize(
    "spec",
    [
        {"readinessGates": [{"conditionType": "x"}]},
        {"hostAliases": [{"ip": "10.0.0.1", "hostnames": ["a"]}]},
        {"runtimeClassName": "kata"},
        {"preemptionPolicy": "Never"},
    ],
)
def test_other_new_fields_are_immutable(spec: dict[str, Any]) -> None:
    old = make_pod()
    errs = update_errors(old, changed(old, spec))
    assert len(errs) == 1 and errs[0].startswith("spec: Forbidden: pod updates may not change")
