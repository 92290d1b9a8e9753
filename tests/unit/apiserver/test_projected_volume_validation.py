"""downwardAPI and projected volumes: Kubernetes' defaults (modes 0644, tokens for an hour, fieldRef
apiVersion v1) and its validation messages, each naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from apiserver.defaulting import pod as pod_defaulting
from apiserver.validation import pod as pod_validation
from podplane.apimachinery import codec, manifest


def pod_with(volume: dict[str, Any], defaults: bool = True) -> Any:
    pod: Any = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {
                "containers": [{"name": "main", "image": "busybox"}],
                "restartPolicy": "Always",
                "volumes": [{"name": "v", **volume}],
            },
        }
    )
    if defaults:
        pod_defaulting.pod_spec(pod.spec)
    return pod


def errors_of(volume: dict[str, Any]) -> list[str]:
    return [str(e) for e in pod_validation.pod(pod_with(volume))]


SERVICE_ACCOUNT_VOLUME = {
    "projected": {
        "sources": [
            {"serviceAccountToken": {"path": "token", "expirationSeconds": 3607}},
            {
                "configMap": {
                    "name": "kube-root-ca.crt",
                    "items": [{"key": "ca.crt", "path": "ca.crt"}],
                }
            },
            {
                "downwardAPI": {
                    "items": [
                        {"path": "namespace", "fieldRef": {"fieldPath": "metadata.namespace"}}
                    ]
                }
            },
        ]
    }
}


def test_the_service_account_volume_is_valid_and_defaulted() -> None:
    pod = pod_with(SERVICE_ACCOUNT_VOLUME)
    assert pod_validation.pod(pod) == []
    volume = codec.encode(pod)["spec"]["volumes"][0]
    assert volume["projected"]["defaultMode"] == 0o644
    assert volume["projected"]["sources"][2]["downwardAPI"]["items"][0]["fieldRef"] == {
        "apiVersion": "v1",
        "fieldPath": "metadata.namespace",
    }


def test_a_token_is_valid_for_an_hour_unless_asked() -> None:
    pod = pod_with({"projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}})
    token = pod.spec.volumes[0].projected.sources[0].service_account_token
    assert token.expiration_seconds == 3600


def test_downward_api_defaults() -> None:
    pod = pod_with(
        {
            "downwardAPI": {
                "items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]
            }
        }
    )
    source = pod.spec.volumes[0].downward_api
    assert source.default_mode == 0o644
    assert source.items[0].field_ref.api_version == "v1"
    assert pod_validation.pod(pod) == []


def test_one_volume_type_only() -> None:
    assert errors_of({"emptyDir": {}, "projected": {"sources": []}}) == [
        "spec.volumes[0].projected: Forbidden: may not specify more than 1 volume type"
    ]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            {"serviceAccountToken": {"path": "token", "expirationSeconds": 599}},
            [
                "spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds: "
                "Invalid value: 599: may not specify a duration less than 10 minutes"
            ],
        ),
        (
            {"serviceAccountToken": {"path": "token", "expirationSeconds": (1 << 32) + 1}},
            [
                "spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds: "
                "Invalid value: 4294967297: may not specify a duration larger than 2^32 seconds"
            ],
        ),
        (
            {"serviceAccountToken": {"path": ""}},
            ["spec.volumes[0].projected.path: Required value"],
        ),
        (
            {"serviceAccountToken": {"path": "../token"}},
            ["spec.volumes[0].projected.path: Invalid value: \"../token\": must not contain '..'"],
        ),
        (
            {"serviceAccountToken": {"path": "/token"}},
            ['spec.volumes[0].projected.path: Invalid value: "/token": must be a relative path'],
        ),
        (
            {"configMap": {"items": [{"key": "", "path": "..x"}]}},
            [
                "spec.volumes[0].projected.sources[0].configMap.name: Required value",
                "spec.volumes[0].projected.sources[0].configMap.items[0].key: Required value",
                "spec.volumes[0].projected.sources[0].configMap.items[0].path: Invalid value: "
                "\"..x\": must not start with '..'",
            ],
        ),
        (
            {"secret": {"name": "s", "items": [{"key": "k", "path": "p", "mode": 0o1000}]}},
            [
                "spec.volumes[0].projected.sources[0].secret.items[0].mode: Invalid value: 512: "
                "must be a number between 0 and 0777 (octal), both inclusive"
            ],
        ),
        (
            {"secret": {"name": "s"}, "configMap": {"name": "c"}},
            [
                "spec.volumes[0].projected.sources[0]: Forbidden: may not specify more than 1 "
                "volume type per source"
            ],
        ),
    ],
)
def test_projected_sources(source: dict[str, Any], expected: list[str]) -> None:
    assert errors_of({"projected": {"sources": [source]}}) == expected


def test_projected_paths_may_not_collide() -> None:
    sources = [
        {"configMap": {"name": "a", "items": [{"key": "k", "path": "same"}]}},
        {"secret": {"name": "b", "items": [{"key": "k", "path": "same"}]}},
    ]
    assert errors_of({"projected": {"sources": sources}}) == [
        'spec.volumes[0].projected: Invalid value: "b": conflicting duplicate paths'
    ]


def test_projected_default_mode() -> None:
    assert errors_of({"projected": {"sources": [], "defaultMode": -1}}) == [
        "spec.volumes[0].projected.defaultMode: Invalid value: -1: must be a number between 0 "
        "and 0777 (octal), both inclusive"
    ]


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (
            {"path": "name", "fieldRef": {"fieldPath": "spec.nodeName"}},
            [
                'spec.volumes[0].downwardAPI.fieldRef.fieldPath: Unsupported value: "spec.nodeName"'
                ': supported values: "metadata.annotations", "metadata.labels", "metadata.name", '
                '"metadata.namespace", "metadata.uid"'
            ],
        ),
        (
            {"path": "x", "fieldRef": {"fieldPath": "metadata.labels['app']"}},
            [],
        ),
        (
            {"path": "x", "fieldRef": {"fieldPath": "metadata.name['app']"}},
            [
                'spec.volumes[0].downwardAPI.fieldRef: Invalid value: "metadata.name": does not '
                "support subscript"
            ],
        ),
        (
            {"path": "x", "fieldRef": {"apiVersion": "v2", "fieldPath": "metadata.name"}},
            [
                'spec.volumes[0].downwardAPI.fieldRef.fieldPath: Invalid value: "metadata.name": '
                "error converting fieldPath: unsupported pod version: v2"
            ],
        ),
        (
            {"path": "x"},
            [
                "spec.volumes[0].downwardAPI: Required value: one of fieldRef and "
                "resourceFieldRef is required"
            ],
        ),
        (
            {
                "path": "x",
                "fieldRef": {"fieldPath": "metadata.name"},
                "resourceFieldRef": {"containerName": "main", "resource": "limits.cpu"},
            },
            [
                'spec.volumes[0].downwardAPI: Invalid value: "resource": fieldRef and '
                "resourceFieldRef can not be specified simultaneously"
            ],
        ),
        (
            {"path": "cpu", "resourceFieldRef": {"resource": "limits.cpu"}},
            ["spec.volumes[0].downwardAPI.resourceFieldRef.containerName: Required value"],
        ),
        (
            {"path": "cpu", "resourceFieldRef": {"containerName": "main", "resource": "cpu"}},
            [
                'spec.volumes[0].downwardAPI.resourceFieldRef.resource: Unsupported value: "cpu":'
                ' supported values: "limits.cpu", "limits.ephemeral-storage", "limits.memory", '
                '"requests.cpu", "requests.ephemeral-storage", "requests.memory"'
            ],
        ),
        (
            {
                "path": "cpu",
                "resourceFieldRef": {
                    "containerName": "main",
                    "resource": "limits.cpu",
                    "divisor": "1Mi",
                },
            },
            [
                'spec.volumes[0].downwardAPI.resourceFieldRef.divisor: Invalid value: "limits.cpu"'
                ": only divisor's values 1m and 1 are supported with the cpu resource"
            ],
        ),
        (
            {
                "path": "mem",
                "resourceFieldRef": {
                    "containerName": "main",
                    "resource": "requests.memory",
                    "divisor": "1Mi",
                },
            },
            [],
        ),
        (
            {"path": "", "fieldRef": {"fieldPath": "metadata.name"}, "mode": 0o1000},
            [
                "spec.volumes[0].downwardAPI.path: Required value",
                "spec.volumes[0].downwardAPI.mode: Invalid value: 512: must be a number between 0 "
                "and 0777 (octal), both inclusive",
            ],
        ),
    ],
)
def test_downward_api_items(item: dict[str, Any], expected: list[str]) -> None:
    assert errors_of({"downwardAPI": {"items": [item]}}) == expected
