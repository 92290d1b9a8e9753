"""podctl prints every kind's shared table (podplane/printers/) as kubectl prints it: the columns
of priority 0, all of them with -o wide, integer cells in decimal."""

from __future__ import annotations

import io

import pytest

from podctl.printers.table import TableOptions, TablePrinter, cell_text
from podplane.printers.registry import table_for
from tests.unit.machinery.printers.samples import COMPLETED_POD, NOW, SAMPLES

# kind: (`get`, `get -o wide`)
EXPECTED: dict[str, tuple[list[str], list[str]]] = {
    "pods": (
        [
            "NAME    READY   STATUS      RESTARTS        AGE",
            "web-1   1/1     Running     2 (4m30s ago)   5m",
            "once    0/1     Completed   0               5m",
        ],
        [
            "NAME    READY   STATUS      RESTARTS        AGE   IP           NODE     NOMINATED NODE"
            "   READINESS GATES",
            "web-1   1/1     Running     2 (4m30s ago)   5m    10.244.1.5   node-1   <none>        "
            "   <none>",
            "once    0/1     Completed   0               5m    <none>       <none>   <none>        "
            "   <none>",
        ],
    ),
    "nodes": (
        [
            "NAME     STATUS   ROLES           AGE   VERSION",
            "node-1   Ready    control-plane   5m    v1.32.0",
        ],
        [
            "NAME     STATUS   ROLES           AGE   VERSION   INTERNAL-IP   EXTERNAL-IP   OS-IMAGE"
            "              KERNEL-VERSION   CONTAINER-RUNTIME",
            "node-1   Ready    control-plane   5m    v1.32.0   172.18.0.2    <none>        Debian "
            "GNU/Linux 12   6.8.0            docker://27.3.1",
        ],
    ),
    "namespaces": (
        [
            "NAME     STATUS   AGE",
            "team-a   Active   5m",
        ],
        [
            "NAME     STATUS   AGE",
            "team-a   Active   5m",
        ],
    ),
    "events": (
        [
            "LAST SEEN   TYPE     REASON   OBJECT      MESSAGE",
            '30s         Normal   Pulled   pod/web-1   Successfully pulled image "nginx:1.27"',
        ],
        [
            "LAST SEEN   TYPE     REASON   OBJECT      SUBOBJECT              SOURCE            "
            "MESSAGE                                  FIRST SEEN   COUNT   NAME",
            "30s         Normal   Pulled   pod/web-1   spec.containers{web}   kubelet, node-1   "
            'Successfully pulled image "nginx:1.27"   4m           3       web-1.181f',
        ],
    ),
    "leases": (
        [
            "NAME             HOLDER             AGE",
            "kube-scheduler   scheduler-0_5f2c   5m",
        ],
        [
            "NAME             HOLDER             AGE",
            "kube-scheduler   scheduler-0_5f2c   5m",
        ],
    ),
    "configmaps": (
        [
            "NAME       DATA   AGE",
            "settings   3      5m",
        ],
        [
            "NAME       DATA   AGE",
            "settings   3      5m",
        ],
    ),
    "podtemplates": (
        [
            "NAME           CONTAINERS   IMAGES               POD LABELS",
            "web-template   web,log      nginx:1.27,busybox   app=web",
        ],
        [
            "NAME           CONTAINERS   IMAGES               POD LABELS",
            "web-template   web,log      nginx:1.27,busybox   app=web",
        ],
    ),
    "limitranges": (
        ["NAME     CREATED AT", "limits   2026-11-21T15:05:00Z"],
        ["NAME     CREATED AT", "limits   2026-11-21T15:05:00Z"],
    ),
    # printHorizontalPodAutoscaler, Kubernetes 1.31's TARGETS (`name: current/target`).
    "horizontalpodautoscalers": (
        [
            "NAME   REFERENCE        TARGETS                                             MINPODS   MAXPODS   REPLICAS   AGE",  # noqa: E501
            "web    Deployment/web   cpu: 40%/50%, memory: <unknown>/500Mi + 1 more...   1         5         2          5m",  # noqa: E501
        ],
        [
            "NAME   REFERENCE        TARGETS                                             MINPODS   MAXPODS   REPLICAS   AGE",  # noqa: E501
            "web    Deployment/web   cpu: 40%/50%, memory: <unknown>/500Mi + 1 more...   1         5         2          5m",  # noqa: E501
        ],
    ),
    "resourcequotas": (
        [
            "NAME      AGE   REQUEST                            LIMIT",
            "compute   5m    pods: 2/10, requests.cpu: 500m/4   limits.memory: 256Mi/8Gi",
        ],
        [
            "NAME      AGE   REQUEST                            LIMIT",
            "compute   5m    pods: 2/10, requests.cpu: 500m/4   limits.memory: 256Mi/8Gi",
        ],
    ),
    "secrets": (
        [
            "NAME    TYPE     DATA   AGE",
            "creds   Opaque   1      5m",
        ],
        [
            "NAME    TYPE     DATA   AGE",
            "creds   Opaque   1      5m",
        ],
    ),
    "replicationcontrollers": (
        [
            "NAME     DESIRED   CURRENT   READY   AGE",
            "legacy   3         3         2       5m",
        ],
        [
            "NAME     DESIRED   CURRENT   READY   AGE   CONTAINERS   IMAGES               SELECTOR",
            "legacy   3         3         2       5m    web,log      nginx:1.27,busybox   app=web",
        ],
    ),
    "replicasets": (
        [
            "NAME       DESIRED   CURRENT   READY   AGE",
            "web-5d8f   2         2         1       5m",
        ],
        [
            "NAME       DESIRED   CURRENT   READY   AGE   CONTAINERS   IMAGES               "
            "SELECTOR",
            "web-5d8f   2         2         1       5m    web,log      nginx:1.27,busybox   "
            "app=web,tier in (back,front)",
        ],
    ),
    "deployments": (
        [
            "NAME   READY   UP-TO-DATE   AVAILABLE   AGE",
            "web    2/3     3            2           5m",
        ],
        [
            "NAME   READY   UP-TO-DATE   AVAILABLE   AGE   CONTAINERS   IMAGES               "
            "SELECTOR",
            "web    2/3     3            2           5m    web,log      nginx:1.27,busybox   "
            "app=web",
        ],
    ),
    "jobs": (
        [
            "NAME   STATUS     COMPLETIONS   DURATION   AGE",
            "pi     Complete   3/3           42s        5m",
        ],
        [
            "NAME   STATUS     COMPLETIONS   DURATION   AGE   CONTAINERS   IMAGES               "
            "SELECTOR",
            "pi     Complete   3/3           42s        5m    web,log      nginx:1.27,busybox   "
            "batch.kubernetes.io/controller-uid=uid-pi",
        ],
    ),
    "persistentvolumes": (
        [
            "NAME       CAPACITY   ACCESS MODES   RECLAIM POLICY   STATUS   CLAIM          "
            "STORAGECLASS   VOLUMEATTRIBUTESCLASS   REASON   AGE",
            "pvc-1a2b   2Gi        RWO            Delete           Bound    default/data   "
            "standard       <unset>                          5m",
        ],
        [
            "NAME       CAPACITY   ACCESS MODES   RECLAIM POLICY   STATUS   CLAIM          "
            "STORAGECLASS   VOLUMEATTRIBUTESCLASS   REASON   AGE   VOLUMEMODE",
            "pvc-1a2b   2Gi        RWO            Delete           Bound    default/data   "
            "standard       <unset>                          5m    Filesystem",
        ],
    ),
    "persistentvolumeclaims": (
        [
            "NAME   STATUS   VOLUME     CAPACITY   ACCESS MODES   STORAGECLASS   "
            "VOLUMEATTRIBUTESCLASS   AGE",
            "data   Bound    pvc-1a2b   2Gi        RWO            standard       <unset>"
            "                 5m",
        ],
        [
            "NAME   STATUS   VOLUME     CAPACITY   ACCESS MODES   STORAGECLASS   "
            "VOLUMEATTRIBUTESCLASS   AGE   VOLUMEMODE",
            "data   Bound    pvc-1a2b   2Gi        RWO            standard       <unset>"
            "                 5m    Filesystem",
        ],
    ),
    "mutatingwebhookconfigurations": (
        ["NAME       WEBHOOKS   AGE", "sidecars   2          5m"],
        ["NAME       WEBHOOKS   AGE", "sidecars   2          5m"],
    ),
    "validatingadmissionpolicies": (
        [
            "NAME       VALIDATIONS   PARAMKIND                            AGE",
            "replicas   2             limits.example.com/v1/ReplicaLimit   5m",
        ],
        [
            "NAME       VALIDATIONS   PARAMKIND                            AGE",
            "replicas   2             limits.example.com/v1/ReplicaLimit   5m",
        ],
    ),
    "validatingadmissionpolicybindings": (
        [
            "NAME               POLICYNAME   PARAMREF          AGE",
            "replicas-binding   replicas     */default-limit   5m",
        ],
        [
            "NAME               POLICYNAME   PARAMREF          AGE",
            "replicas-binding   replicas     */default-limit   5m",
        ],
    ),
    "storageclasses": (
        [
            "NAME                 PROVISIONER             RECLAIMPOLICY   VOLUMEBINDINGMODE      "
            "ALLOWVOLUMEEXPANSION   AGE",
            "standard (default)   rancher.io/local-path   Delete          WaitForFirstConsumer   "
            "false                  5m",
        ],
        [
            "NAME                 PROVISIONER             RECLAIMPOLICY   VOLUMEBINDINGMODE      "
            "ALLOWVOLUMEEXPANSION   AGE",
            "standard (default)   rancher.io/local-path   Delete          WaitForFirstConsumer   "
            "false                  5m",
        ],
    ),
    "services": (
        [
            "NAME   TYPE       CLUSTER-IP    EXTERNAL-IP   PORT(S)                     AGE",
            "web    NodePort   10.96.12.34   <none>        80:30080/TCP,53:30053/UDP   5m",
        ],
        [
            "NAME   TYPE       CLUSTER-IP    EXTERNAL-IP   PORT(S)                     AGE   "
            "SELECTOR",
            "web    NodePort   10.96.12.34   <none>        80:30080/TCP,53:30053/UDP   5m    "
            "app=web,tier=front",
        ],
    ),
    "endpoints": (
        [
            "NAME   ENDPOINTS                                                   AGE",
            "web    10.244.1.5:8080,10.244.2.7:8080,10.244.1.5:53 + 1 more...   5m",
        ],
        [
            "NAME   ENDPOINTS                                                   AGE",
            "web    10.244.1.5:8080,10.244.2.7:8080,10.244.1.5:53 + 1 more...   5m",
        ],
    ),
    "endpointslices": (
        [
            "NAME        ADDRESSTYPE   PORTS   ENDPOINTS                                      AGE",
            "web-x7k2p   IPv4          8080    10.244.1.5,10.244.2.7,10.244.3.9 + 1 more...   5m",
        ],
        [
            "NAME        ADDRESSTYPE   PORTS   ENDPOINTS                                      AGE",
            "web-x7k2p   IPv4          8080    10.244.1.5,10.244.2.7,10.244.3.9 + 1 more...   5m",
        ],
    ),
}


def printed(plural: str, wide: bool) -> list[str]:
    resource, sample = SAMPLES[plural]
    objects = [sample, COMPLETED_POD] if plural == "pods" else [sample]
    out = io.StringIO()
    TablePrinter(
        out, table_for(resource), TableOptions(wide=wide), clock=lambda: NOW
    ).print_objects(objects)
    return out.getvalue().splitlines()


@pytest.mark.parametrize("plural", sorted(SAMPLES))
def test_get(plural: str) -> None:
    assert printed(plural, wide=False) == EXPECTED[plural][0]


@pytest.mark.parametrize("plural", sorted(SAMPLES))
def test_get_wide(plural: str) -> None:
    assert printed(plural, wide=True) == EXPECTED[plural][1]


def test_cells_print_as_go_prints_them() -> None:
    assert [cell_text(c) for c in ("2/3", 3, 0, True, False)] == ["2/3", "3", "0", "true", "false"]
