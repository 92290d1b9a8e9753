"""kubectl describe's lines for the service account volume (projected) and downwardAPI volumes."""

from __future__ import annotations

from podctl.describe.pod import write_volumes
from podctl.describe.writer import PrefixWriter
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest


def volumes(*specs: dict[str, object]) -> list[core_pb2.Volume]:
    pod = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p"},
            "spec": {"volumes": list(specs)},
        }
    )
    assert isinstance(pod, core_pb2.Pod)
    return list(pod.spec.volumes)


def test_the_service_account_volume_and_a_downward_api_volume() -> None:
    w = PrefixWriter()
    write_volumes(
        w,
        volumes(
            {
                "name": "kube-api-access-x7k2p",
                "projected": {
                    "sources": [
                        {"serviceAccountToken": {"path": "token", "expirationSeconds": 3607}},
                        {"configMap": {"name": "kube-root-ca.crt"}},
                        {"downwardAPI": {"items": []}},
                        {"secret": {"name": "extra", "optional": False}},
                    ]
                },
            },
            {
                "name": "podinfo",
                "downwardAPI": {
                    "items": [
                        {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
                        {
                            "path": "cpu",
                            "resourceFieldRef": {"containerName": "c", "resource": "limits.cpu"},
                        },
                    ]
                },
            },
        ),
    )
    assert w.text().splitlines() == [
        "Volumes:",
        "  kube-api-access-x7k2p:",
        "    Type:                    Projected (a volume that contains injected data from "
        "multiple sources)",
        "    TokenExpirationSeconds:  3607",
        "    ConfigMapName:           kube-root-ca.crt",
        "    ConfigMapOptional:       <nil>",
        "    DownwardAPI:             true",
        "    SecretName:              extra",
        "    SecretOptionalName:      false",
        "  podinfo:",
        "    Type:  DownwardAPI (a volume populated by information about the pod)",
        "    Items:",
        "      metadata.labels -> labels",
        "      limits.cpu -> cpu",
    ]
