"""What the server does to a new pod before validating it, as Kubernetes 1.31 does: the fields of
features 1.31 ships disabled are dropped (and kept on update only where already used), a gated pod
is marked SchedulingGated, the AppArmor annotations and fields are kept in step."""

from __future__ import annotations

from typing import cast

from apiserver.defaulting.disabled_features import (
    drop_disabled_pod_fields,
    drop_disabled_template_fields,
)
from apiserver.validation import others
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest
from tests.unit.apiserver.pod_specs import container, create_errors, make_pod

DISABLED_SPEC = {
    "hostUsers": False,
    "resourceClaims": [{"name": "gpu", "resourceClaimName": "gpu-claim"}],
    "securityContext": {"supplementalGroupsPolicy": "Strict"},
    "volumes": [
        {"name": "img", "image": {"reference": "quay.io/x/y:1", "pullPolicy": "IfNotPresent"}},
        {
            "name": "bundle",
            "projected": {"sources": [{"clusterTrustBundle": {"name": "b", "path": "ca.pem"}}]},
        },
    ],
    "containers": [
        container(
            resources={"claims": [{"name": "gpu"}]},
            resizePolicy=[{"resourceName": "cpu", "restartPolicy": "NotRequired"}],
            securityContext={"procMount": "Unmasked"},
            volumeMounts=[{"name": "img", "mountPath": "/img"}],
        )
    ],
}


def test_a_new_pod_loses_the_fields_of_disabled_features() -> None:
    pod = make_pod(DISABLED_SPEC)
    spec = manifest.to_dict(pod.spec)
    assert "hostUsers" not in spec
    assert "resourceClaims" not in spec
    assert "supplementalGroupsPolicy" not in spec["securityContext"]
    assert [v["name"] for v in spec["volumes"]] == ["bundle"]
    assert spec["volumes"][0]["projected"]["sources"] == [{}]
    c = spec["containers"][0]
    assert "claims" not in c["resources"] and "resizePolicy" not in c
    assert c["securityContext"]["procMount"] == "Default"
    assert "volumeMounts" not in c


def test_an_update_keeps_what_the_stored_pod_already_used() -> None:
    old = core_pb2.Pod()
    old.spec.host_users = False
    old.spec.resource_claims.add(name="gpu", resource_claim_name="gpu-claim")
    new = core_pb2.Pod()
    new.CopyFrom(old)
    new.spec.containers.add(name="main").resources.claims.add(name="gpu")
    drop_disabled_pod_fields(new, old)
    assert new.spec.HasField("host_users") and len(new.spec.resource_claims) == 1
    assert len(new.spec.containers[0].resources.claims) == 1


def test_status_fields_of_disabled_features_are_dropped() -> None:
    pod = core_pb2.Pod()
    pod.status.resize = "Proposed"
    status = pod.status.container_statuses.add(name="main")
    status.allocated_resources["cpu"] = "1"
    status.user.linux.uid = 1000
    status.allocated_resources_status.add(name="gpu")
    pod.status.resource_claim_statuses.add(name="gpu")
    drop_disabled_pod_fields(pod, core_pb2.Pod())
    assert manifest.to_dict(pod.status) == {"containerStatuses": [{"name": "main"}]}


def test_templates_lose_them_too() -> None:
    template = core_pb2.PodTemplateSpec()
    template.spec.host_users = False
    drop_disabled_template_fields(template, None)
    assert not template.spec.HasField("host_users")


def test_a_gated_pod_is_marked_scheduling_gated() -> None:
    pod = make_pod({"schedulingGates": [{"name": "example.com/quota"}]})
    [condition] = pod.status.conditions
    assert (condition.type, condition.status, condition.reason, condition.message) == (
        "PodScheduled",
        "False",
        "SchedulingGated",
        "Scheduling is blocked due to non-empty scheduling gates",
    )
    assert not make_pod().status.conditions


APPARMOR = "container.apparmor.security.beta.kubernetes.io/"


def test_app_armor_fields_and_annotations_are_kept_in_step() -> None:
    pod = make_pod(
        {
            "securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}},
            "containers": [
                container(),
                container(
                    name="side",
                    securityContext={
                        "appArmorProfile": {"type": "Localhost", "localhostProfile": "k8s-nginx"}
                    },
                ),
                container(name="legacy"),
            ],
        },
        metadata={"annotations": {APPARMOR + "legacy": "unconfined"}},
    )
    assert dict(pod.metadata.annotations) == {
        APPARMOR + "main": "runtime/default",
        APPARMOR + "side": "localhost/k8s-nginx",
        APPARMOR + "legacy": "unconfined",
    }
    assert pod.spec.containers[2].security_context.app_armor_profile.type == "Unconfined"
    assert create_errors(
        {"containers": [container()]}, metadata={"annotations": {APPARMOR + "main": "bogus"}}
    ) == [
        f'metadata.annotations[{APPARMOR}main]: Invalid value: "bogus": invalid AppArmor profile '
        'name: "bogus"'
    ]


def node(**spec: object) -> core_pb2.Node:
    n = cast(
        core_pb2.Node,
        manifest.from_dict(
            {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}, "spec": spec}
        ),
    )
    return n


def test_node_fields_set_once() -> None:
    old = node(podCIDRs=["10.244.1.0/24"], providerID="kind://n1", externalID="x")
    moved = node(podCIDRs=["10.244.2.0/24"], providerID="kind://n2", externalID="y")
    assert [str(e) for e in others.node_update(moved, old)] == [
        'spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid',
        'spec.providerID: Forbidden: node updates may not change providerID except from "" to '
        "valid",
        "spec.externalID: Forbidden: may not be updated",
    ]
    # Set once: from nothing to a value.
    assert (
        others.node_update(node(podCIDRs=["10.244.1.0/24"], providerID="kind://n1"), node()) == []
    )
    assert [str(e) for e in others.node(node(podCIDRs=["10.244.1.0/24", "10.244.2.0/24"]))] == [
        'spec.podCIDRs: Invalid value: []string{"10.244.1.0/24", "10.244.2.0/24"}: may specify '
        "no more than one CIDR for each IP family"
    ]


def test_a_node_config_source_names_a_config_map() -> None:
    n = node(configSource={"configMap": {"namespace": "kube-system", "name": "kc", "uid": "u"}})
    assert [str(e) for e in others.node_update(n, node())] == [
        "spec.configSource.configMap.uid: Forbidden: uid must not be set in spec",
        "spec.configSource.configMap.kubeletConfigKey: Required value: kubeletConfigKey must be "
        "set",
    ]


def test_service_account_is_the_deprecated_alias_of_service_account_name() -> None:
    assert make_pod({"serviceAccount": "builder"}).spec.service_account_name == "builder"
    named = make_pod({"serviceAccountName": "runner", "serviceAccount": "other"})
    assert (named.spec.service_account_name, named.spec.service_account) == ("runner", "runner")
