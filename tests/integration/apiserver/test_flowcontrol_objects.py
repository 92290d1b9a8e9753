"""flowcontrol.apiserver.k8s.io/v1 against the real apiserver over real etcd, with kubectl and the
official `kubernetes` client: the apiserver keeps Kubernetes' bootstrap FlowSchemas and
PriorityLevelConfigurations (kubectl get lists them as Kubernetes does; a deleted catch-all comes
back; a suggested one an operator marks autoupdate-spec "false" keeps the operator's edit), API
Priority and Fairness follows them live (a FlowSchema created for the viewer classifies the
viewer's next request, as the X-Kubernetes-PF-* response headers show; a schema whose level does
not exist is marked Dangling), and an invalid object is a 422 naming its field.

Every object a test creates is deleted, and a bootstrap one it edits is handed back to the
ensurer: the modules of a pytest worker share its etcd."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from podplane.apimachinery import flowcontrol
from podplane.apimachinery import flowcontrol_bootstrap as bootstrap
from tests.integration.networking_kinds import columns, unique
from tests.integration.rest_cluster import RestCluster, in_thread, rest_cluster
from tests.support import EtcdProcess, eventually


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("flowcontrol")) as c:
        yield c


def _headers(api: k8s.ApiClient, path: str) -> tuple[int, dict[str, str]]:
    params = api.param_serialize(
        "GET", path, header_params={"Accept": "application/json"}, auth_settings=["BearerToken"]
    )
    response: Any = api.call_api(*params)
    response.read()
    return response.status, {k.lower(): v for k, v in response.getheaders().items()}


async def _classification(cluster: RestCluster, context: str) -> tuple[str, str]:
    """The (FlowSchema UID, PriorityLevel UID) the apiserver names for a request of `context`."""
    api = cluster.api_client(context)
    status, headers = await in_thread(_headers, api, "/api/v1/namespaces/default/pods")
    assert status == 200
    return (
        headers[flowcontrol.FLOW_SCHEMA_UID_HEADER.lower()],
        headers[flowcontrol.PRIORITY_LEVEL_UID_HEADER.lower()],
    )


async def _uid(cluster: RestCluster, kind: str, name: str) -> str:
    obj = json.loads(await cluster.kubectl_ok("get", kind, name, "-o", "json"))
    return str(obj["metadata"]["uid"])


BOOTSTRAP_LEVELS = {
    level.metadata.name
    for level in bootstrap.mandatory_priority_levels() + bootstrap.suggested_priority_levels()
}


async def test_kubectl_get_lists_kubernetes_bootstrap_objects(cluster: RestCluster) -> None:
    schemas = bootstrap.mandatory_flow_schemas() + bootstrap.suggested_flow_schemas()

    names = {s.metadata.name for s in schemas}

    async def all_found() -> list[dict[str, str]] | None:
        # The worker's etcd may hold other modules' schemas (the fuzzers', every kind's): the
        # bootstrap ones are looked at, in the order kubectl prints them among the rest.
        rows = columns(await cluster.kubectl_ok("get", "flowschemas"))
        rows = [r for r in rows if r["NAME"] in names]
        done = all(r["MISSINGPL"] == "False" for r in rows) and len(rows) == len(schemas)
        return rows if done else None

    rows = await eventually(all_found, what="every bootstrap FlowSchema, its level found")
    table = await cluster.kubectl_ok("get", "flowschemas")
    assert table.splitlines()[0].split() == [
        "NAME", "PRIORITYLEVEL", "MATCHINGPRECEDENCE", "DISTINGUISHERMETHOD", "AGE", "MISSINGPL"
    ]  # fmt: skip
    assert [
        (r["NAME"], r["PRIORITYLEVEL"], r["MATCHINGPRECEDENCE"], r["DISTINGUISHERMETHOD"])
        for r in rows
    ] == [
        ("exempt", "exempt", "1", "<none>"),
        ("probes", "exempt", "2", "<none>"),
        ("system-leader-election", "leader-election", "100", "ByUser"),
        ("endpoint-controller", "workload-high", "150", "ByUser"),
        ("workload-leader-election", "leader-election", "200", "ByUser"),
        ("system-node-high", "node-high", "400", "ByUser"),
        ("system-nodes", "system", "500", "ByUser"),
        ("kube-controller-manager", "workload-high", "800", "ByNamespace"),
        ("kube-scheduler", "workload-high", "800", "ByNamespace"),
        ("kube-system-service-accounts", "workload-high", "900", "ByNamespace"),
        ("service-accounts", "workload-low", "9000", "ByUser"),
        ("global-default", "global-default", "9900", "ByUser"),
        ("catch-all", "catch-all", "10000", "ByUser"),
    ]
    levels = columns(await cluster.kubectl_ok("get", "prioritylevelconfigurations"))
    assert [
        tuple(
            r[c]
            for c in (
                "NAME",
                "TYPE",
                "NOMINALCONCURRENCYSHARES",
                "QUEUES",
                "HANDSIZE",
                "QUEUELENGTHLIMIT",
            )
        )
        for r in levels
        if r["NAME"] in BOOTSTRAP_LEVELS
    ] == [
        ("catch-all", "Limited", "5", "<none>", "<none>", "<none>"),
        ("exempt", "Exempt", "<none>", "<none>", "<none>", "<none>"),
        ("global-default", "Limited", "20", "128", "6", "50"),
        ("leader-election", "Limited", "10", "16", "4", "50"),
        ("node-high", "Limited", "40", "64", "6", "50"),
        ("system", "Limited", "30", "64", "6", "50"),
        ("workload-high", "Limited", "40", "128", "6", "50"),
        ("workload-low", "Limited", "100", "128", "6", "50"),
    ]
    exempt = json.loads(
        await cluster.kubectl_ok("get", "prioritylevelconfiguration", "exempt", "-o", "json")
    )
    assert exempt["metadata"]["annotations"] == {flowcontrol.AUTO_UPDATE_ANNOTATION: "true"}
    assert exempt["spec"] == {
        "type": "Exempt",
        "exempt": {"nominalConcurrencyShares": 0, "lendablePercent": 0},
    }
    explained = await cluster.kubectl_ok("explain", "flowschema.spec.matchingPrecedence")
    assert "FIELD: matchingPrecedence <integer>" in explained
    assert "it will be set to 1000 as default." in " ".join(explained.split())


async def test_a_deleted_catch_all_comes_back(cluster: RestCluster) -> None:
    before = await _uid(cluster, "flowschema", "catch-all")
    out = await cluster.kubectl_ok("delete", "flowschema", "catch-all")
    assert out == 'flowschema.flowcontrol.apiserver.k8s.io "catch-all" deleted\n'

    async def recreated() -> str | None:
        ran = await cluster.kubectl("get", "flowschema", "catch-all", "-o", "json")
        uid = json.loads(ran.out)["metadata"]["uid"] if ran.code == 0 else None
        return uid if uid not in (None, before) else None

    await eventually(recreated, what="the catch-all FlowSchema restored")
    fs = json.loads(await cluster.kubectl_ok("get", "flowschema", "catch-all", "-o", "json"))
    assert fs["spec"]["matchingPrecedence"] == 10000


async def test_a_new_flow_schema_classifies_the_users_next_request(cluster: RestCluster) -> None:
    default_fs = await _uid(cluster, "flowschema", "global-default")
    default_pl = await _uid(cluster, "prioritylevelconfiguration", "global-default")
    assert await _classification(cluster, "viewer") == (default_fs, default_pl)
    api = cluster.api_client()
    flowcontrol_api = k8s.FlowcontrolApiserverV1Api(api)
    level_name, schema_name = unique("viewer-level"), unique("viewer-schema")
    try:
        level = await in_thread(
            flowcontrol_api.create_priority_level_configuration,
            k8s.V1PriorityLevelConfiguration(
                metadata=k8s.V1ObjectMeta(name=level_name),
                spec=k8s.V1PriorityLevelConfigurationSpec(
                    type="Limited",
                    limited=k8s.V1LimitedPriorityLevelConfiguration(
                        limit_response=k8s.V1LimitResponse(
                            type="Queue", queuing=k8s.V1QueuingConfiguration(queues=4, hand_size=2)
                        ),
                    ),
                ),
            ),
        )
        # The v1 defaults, as the official client reads them back.
        assert level.spec.limited.nominal_concurrency_shares == 30
        assert level.spec.limited.lendable_percent == 0
        assert level.spec.limited.limit_response.queuing.queue_length_limit == 50
        schema = await in_thread(
            flowcontrol_api.create_flow_schema,
            k8s.V1FlowSchema(
                metadata=k8s.V1ObjectMeta(name=schema_name),
                spec=k8s.V1FlowSchemaSpec(
                    priority_level_configuration=k8s.V1PriorityLevelConfigurationReference(
                        name=level_name
                    ),
                    distinguisher_method=k8s.V1FlowDistinguisherMethod(type="ByUser"),
                    rules=[
                        k8s.V1PolicyRulesWithSubjects(
                            subjects=[
                                k8s.FlowcontrolV1Subject(
                                    kind="User", user=k8s.V1UserSubject(name="viewer")
                                )
                            ],
                            resource_rules=[
                                k8s.V1ResourcePolicyRule(
                                    verbs=["*"],
                                    api_groups=["*"],
                                    resources=["*"],
                                    namespaces=["*"],
                                    cluster_scope=True,
                                )
                            ],
                        )
                    ],
                ),
            ),
        )
        assert schema.spec.matching_precedence == 1000
        wanted = (schema.metadata.uid, level.metadata.uid)

        async def classified() -> bool:
            return await _classification(cluster, "viewer") == wanted

        await eventually(classified, what="the viewer's requests on the new level")
        # The admin (system:masters) is still exempt.
        exempt = await _uid(cluster, "flowschema", "exempt")
        assert (await _classification(cluster, "admin"))[0] == exempt

        # The config consumer writes the Dangling status a moment after it reconfigures.
        async def status_written() -> Any:
            got = await in_thread(flowcontrol_api.read_flow_schema_status, schema_name)
            return got if got.status and got.status.conditions else None

        got = await eventually(status_written, what=f"{schema_name}'s Dangling status")
        [condition] = got.status.conditions
        assert (condition.type, condition.status, condition.reason) == (
            "Dangling",
            "False",
            "Found",
        )
    finally:
        for delete, name in (
            (flowcontrol_api.delete_flow_schema, schema_name),
            (flowcontrol_api.delete_priority_level_configuration, level_name),
        ):
            try:
                await in_thread(delete, name)
            except ApiException as e:
                assert e.status == 404

    async def back_to_default() -> bool:
        return await _classification(cluster, "viewer") == (default_fs, default_pl)

    await eventually(back_to_default, what="the viewer back on global-default")


async def test_a_schema_without_its_level_is_dangling(cluster: RestCluster) -> None:
    name = unique("orphan")
    manifest = {
        "apiVersion": "flowcontrol.apiserver.k8s.io/v1",
        "kind": "FlowSchema",
        "metadata": {"name": name},
        "spec": {
            "priorityLevelConfiguration": {"name": "no-such-level"},
            "rules": [
                {
                    "subjects": [{"kind": "Group", "group": {"name": "nobody"}}],
                    "nonResourceRules": [{"verbs": ["get"], "nonResourceURLs": ["/nothing"]}],
                }
            ],
        },
    }
    await cluster.kubectl_ok("create", "-f", "-", stdin=json.dumps(manifest))
    try:

        async def dangling() -> dict[str, str] | None:
            rows = columns(await cluster.kubectl_ok("get", "flowschema", name))
            return rows[0] if rows[0]["MISSINGPL"] == "True" else None

        row = await eventually(dangling, what="the Dangling condition")
        assert (row["PRIORITYLEVEL"], row["MATCHINGPRECEDENCE"]) == ("no-such-level", "1000")
        fs = json.loads(await cluster.kubectl_ok("get", "flowschema", name, "-o", "json"))
        [condition] = fs["status"]["conditions"]
        assert condition["message"] == (
            "This FlowSchema references the PriorityLevelConfiguration object named "
            '"no-such-level" but there is no such object'
        )
    finally:
        await cluster.kubectl_ok("delete", "flowschema", name)


async def test_an_invalid_object_is_a_422_naming_the_field(cluster: RestCluster) -> None:
    api = cluster.api_client()
    with pytest.raises(ApiException) as raised:
        await in_thread(
            k8s.FlowcontrolApiserverV1Api(api).create_flow_schema,
            k8s.V1FlowSchema(
                metadata=k8s.V1ObjectMeta(name=unique("first")),
                spec=k8s.V1FlowSchemaSpec(
                    matching_precedence=1,
                    priority_level_configuration=k8s.V1PriorityLevelConfigurationReference(
                        name="global-default"
                    ),
                ),
            ),
        )
    assert raised.value.status == 422
    status = json.loads(raised.value.body or "{}")
    assert status["reason"] == "Invalid"
    assert status["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "message": "Invalid value: 1: only the schema named 'exempt' may have "
            "matchingPrecedence 1",
            "field": "spec.matchingPrecedence",
        }
    ]
    ran = await cluster.kubectl(
        "patch", "prioritylevelconfiguration", "catch-all", "--type=merge",
        "-p", '{"spec":{"limited":{"nominalConcurrencyShares":50}}}',
    )  # fmt: skip
    assert ran.code == 1
    assert "spec: Invalid value: " in ran.err
    assert "spec of 'catch-all' must equal the fixed value" in ran.err


async def test_a_suggested_object_marked_false_keeps_the_operators_edit(
    cluster: RestCluster,
) -> None:
    async def set_level(annotation: str, shares: int) -> None:
        patch = {
            "metadata": {"annotations": {flowcontrol.AUTO_UPDATE_ANNOTATION: annotation}},
            "spec": {"limited": {"nominalConcurrencyShares": shares}},
        }
        await cluster.kubectl_ok(
            "patch", "prioritylevelconfiguration", "workload-low", "--type=merge",
            "-p", json.dumps(patch),
        )  # fmt: skip

    async def shares() -> int:
        pl = json.loads(
            await cluster.kubectl_ok(
                "get", "prioritylevelconfiguration", "workload-low", "-o", "json"
            )
        )
        return int(pl["spec"]["limited"]["nominalConcurrencyShares"])

    await set_level("false", 77)
    try:
        # The ensurer runs on every change of a bootstrap object: give it a pass.
        catch_all = await _uid(cluster, "flowschema", "catch-all")
        assert catch_all
        await cluster.kubectl_ok("delete", "flowschema", "catch-all")

        async def restored() -> bool:
            return (await cluster.kubectl("get", "flowschema", "catch-all")).code == 0

        await eventually(restored, what="the ensurer's next pass")
        assert await shares() == 77
    finally:
        await set_level("true", 77)

        async def back() -> bool:
            return await shares() == 100

        await eventually(back, what="workload-low's bootstrap spec restored")
