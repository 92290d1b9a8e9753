"""A CustomResourceDefinition converted by a webhook (conversion.strategy Webhook), through the
real apiserver and etcd, with a real HTTPS conversion webhook started here on 127.0.0.1 (its CA
made here and given as caBundle): CronTabs stored in v1 (spec.cronSpec) and served in v2
(spec.schedule), the webhook moving the field both ways. Created at v2 they are stored at v1
and read at either version by the official client and kubectl; a list at v2 is one
ConversionReview; a watch at v2 sees v2 objects; a webhook that is down, or answers with the
wrong uid, count or name, fails the request with Kubernetes' status and text."""

from __future__ import annotations

import base64
import json
import re
import ssl
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from kubernetes import client as k8s

from podplane.client.resource_client import is_not_found
from tests.integration.custom_resources import install, unique_group
from tests.integration.rest_cluster import RestCluster, in_thread, new_watch, rest_cluster
from tests.support import EtcdProcess, eventually, free_port
from tests.unit.apiserver.webhook.webhook_server import make_pki


class ConversionWebhook:
    """Converts CronTabs between v1 (spec.cronSpec) and v2 (spec.schedule); /convert/<mode>
    answers wrongly for the modes wrong-uid, wrong-count and rename. Records every review."""

    def __init__(self) -> None:
        self.reviews: list[dict[str, Any]] = []
        self.port = 0
        self.ca_pem = b""

    async def convert(self, request: web.Request) -> web.Response:
        review = await request.json()
        self.reviews.append(review)
        req = review["request"]
        desired = req["desiredAPIVersion"]
        converted = []
        for obj in req["objects"]:
            spec = dict(obj.get("spec") or {})
            if desired.endswith("/v2") and "cronSpec" in spec:
                spec["schedule"] = spec.pop("cronSpec")
            if desired.endswith("/v1") and "schedule" in spec:
                spec["cronSpec"] = spec.pop("schedule")
            converted.append({**obj, "apiVersion": desired, "spec": spec})
        mode = request.match_info["mode"]
        uid = "not-the-uid" if mode == "wrong-uid" else req["uid"]
        if mode == "wrong-count":
            converted = []
        if mode == "rename":
            for obj in converted:
                obj["metadata"] = {**obj["metadata"], "name": "renamed"}
        response = {"uid": uid, "result": {"status": "Success"}, "convertedObjects": converted}
        return web.json_response(
            {
                "apiVersion": "apiextensions.k8s.io/v1",
                "kind": "ConversionReview",
                "response": response,
            }
        )


# The groups of the definitions this module installed.
_INSTALLED: list[str] = []


@pytest_asyncio.fixture(scope="module")
async def webhook(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ConversionWebhook]:
    hook = ConversionWebhook()
    hook.ca_pem, crt, key = make_pki(tmp_path_factory.mktemp("conversion-pki"))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(crt, key)
    app = web.Application()
    app.router.add_post("/convert/{mode}", hook.convert)
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    hook.port = int(runner.addresses[0][1])
    yield hook
    await runner.cleanup()


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory, webhook: ConversionWebhook
) -> AsyncIterator[RestCluster]:
    # It takes the webhook so that it ends before the webhook does.
    async with rest_cluster(etcd, tmp_path_factory.mktemp("crd-conversion")) as c:
        yield c
        await _remove_definitions(c)


async def _remove_definitions(cluster: RestCluster) -> None:
    """The definitions go, wholly, with the module: the etcd is the worker's, and the worker's
    other apiservers' caches of a definition left behind retry its webhook, gone with the module,
    opening and closing etcd watches for the worker's remaining modules. A definition is deleted
    only once the CRD finalizer has deleted its objects, which needs their conversion; the wrong
    modes never convert, so their objects go from etcd first, then each definition, awaited."""
    etcd = cluster.server.etcd
    for group in _INSTALLED:
        keys, _ = await etcd.keys(f"/registry/{group}/".encode())
        for key in keys:
            await etcd.delete(key)
        await cluster.grpc.customresourcedefinitions.delete(f"crontabs.{group}")
    for group in _INSTALLED:

        async def definition_gone(name: str = f"crontabs.{group}") -> bool:
            try:
                await cluster.grpc.customresourcedefinitions.get(name)
            except Exception as e:
                if is_not_found(e):
                    return True
                raise
            return False

        await eventually(definition_gone, timeout=30, what=f"crontabs.{group} to be deleted")


def _version(name: str, storage: bool, field: str) -> dict[str, Any]:
    spec = {
        "type": "object",
        "properties": {field: {"type": "string"}, "replicas": {"type": "integer"}},
    }
    status = {"type": "object", "properties": {"lastRun": {"type": "string"}}}
    return {
        "name": name,
        "served": True,
        "storage": storage,
        "schema": {
            "openAPIV3Schema": {
                "type": "object",
                "properties": {"spec": spec, "status": status},
            }
        },
        "subresources": {
            "status": {},
            "scale": {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.n"},
        },
    }


def converted_crd(group: str, url: str, ca_pem: bytes) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"crontabs.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "crontabs", "singular": "crontab", "kind": "CronTab"},
            "versions": [_version("v1", True, "cronSpec"), _version("v2", False, "schedule")],
            "conversion": {
                "strategy": "Webhook",
                "webhook": {
                    "clientConfig": {"url": url, "caBundle": base64.b64encode(ca_pem).decode()},
                    "conversionReviewVersions": ["v1"],
                },
            },
        },
    }


async def installed(cluster: RestCluster, webhook: ConversionWebhook, mode: str) -> str:
    group = unique_group(mode.replace("-", ""))
    url = f"https://127.0.0.1:{webhook.port}/convert/{mode}"
    await install(cluster.grpc, converted_crd(group, url, webhook.ca_pem))
    _INSTALLED.append(group)
    return group


def crontab(group: str, version: str, name: str, spec: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": f"{group}/{version}",
        "kind": "CronTab",
        "metadata": {"name": name},
        "spec": spec,
    }


async def test_created_at_v2_stored_at_v1_and_read_at_both(
    cluster: RestCluster, webhook: ConversionWebhook
) -> None:
    group = await installed(cluster, webhook, "ok")
    api = k8s.CustomObjectsApi(cluster.api_client())
    body = crontab(group, "v2", "nightly", {"schedule": "0 3 * * *"})
    created = await in_thread(
        api.create_namespaced_custom_object, group, "v2", "default", "crontabs", body
    )
    assert created["apiVersion"] == f"{group}/v2"
    assert created["spec"] == {"schedule": "0 3 * * *"}
    kv, _ = await cluster.server.etcd.get(f"/registry/{group}/crontabs/default/nightly".encode())
    assert kv is not None
    stored = json.loads(kv.value)
    assert (stored["apiVersion"], stored["spec"]) == (f"{group}/v1", {"cronSpec": "0 3 * * *"})
    at_v1 = await in_thread(
        api.get_namespaced_custom_object, group, "v1", "default", "crontabs", "nightly"
    )
    assert (at_v1["apiVersion"], at_v1["spec"]) == (f"{group}/v1", {"cronSpec": "0 3 * * *"})
    at_v2 = await in_thread(
        api.get_namespaced_custom_object, group, "v2", "default", "crontabs", "nightly"
    )
    assert (at_v2["apiVersion"], at_v2["spec"]) == (f"{group}/v2", {"schedule": "0 3 * * *"})
    assert at_v2["metadata"]["uid"] == created["metadata"]["uid"]
    out = await cluster.kubectl_ok("get", f"crontabs.v2.{group}", "nightly", "-o", "json")
    assert json.loads(out)["spec"] == {"schedule": "0 3 * * *"}
    out = await cluster.kubectl_ok("get", f"crontabs.v1.{group}", "nightly", "-o", "json")
    assert json.loads(out)["spec"] == {"cronSpec": "0 3 * * *"}
    # A merge patch at v2 changes the v2 field, and is stored at v1.
    await in_thread(
        api.patch_namespaced_custom_object,
        group,
        "v2",
        "default",
        "crontabs",
        "nightly",
        {"spec": {"schedule": "0 4 * * *"}},
    )
    kv, _ = await cluster.server.etcd.get(f"/registry/{group}/crontabs/default/nightly".encode())
    assert kv is not None
    assert json.loads(kv.value)["spec"] == {"cronSpec": "0 4 * * *"}


async def test_a_list_at_v2_is_one_review_and_a_watch_sees_v2(
    cluster: RestCluster, webhook: ConversionWebhook
) -> None:
    group = await installed(cluster, webhook, "ok")
    api = k8s.CustomObjectsApi(cluster.api_client())
    for name in ("a", "b"):
        body = crontab(group, "v1", name, {"cronSpec": f"@{name}"})
        await in_thread(
            api.create_namespaced_custom_object, group, "v1", "default", "crontabs", body
        )
    before = len(webhook.reviews)
    listed = await in_thread(api.list_namespaced_custom_object, group, "v2", "default", "crontabs")
    assert [(o["metadata"]["name"], o["spec"]) for o in listed["items"]] == [
        ("a", {"schedule": "@a"}),
        ("b", {"schedule": "@b"}),
    ]
    batches = [len(r["request"]["objects"]) for r in webhook.reviews[before:]]
    assert 2 in batches  # both objects in one ConversionReview
    rv = listed["metadata"]["resourceVersion"]
    body = crontab(group, "v1", "c", {"cronSpec": "@c"})
    await in_thread(api.create_namespaced_custom_object, group, "v1", "default", "crontabs", body)

    def first_event() -> Any:
        w = new_watch()
        for ev in w.stream(
            api.list_namespaced_custom_object,
            group,
            "v2",
            "default",
            "crontabs",
            resource_version=rv,
            timeout_seconds=10,
        ):
            w.stop()
            return ev
        return None

    ev = await in_thread(first_event)
    assert ev is not None
    assert ev["type"] == "ADDED"
    assert (ev["object"]["apiVersion"], ev["object"]["spec"]) == (f"{group}/v2", {"schedule": "@c"})


async def test_status_scale_and_server_side_apply_at_v2(
    cluster: RestCluster, webhook: ConversionWebhook
) -> None:
    group = await installed(cluster, webhook, "ok")
    manifest = crontab(group, "v2", "applied", {"schedule": "@hourly"})
    manifest["spec"]["replicas"] = 1
    await cluster.kubectl_ok("apply", "--server-side", "-f", "-", stdin=json.dumps(manifest))
    key = f"/registry/{group}/crontabs/default/applied".encode()

    async def stored() -> dict[str, Any]:
        kv, _ = await cluster.server.etcd.get(key)
        assert kv is not None
        data: dict[str, Any] = json.loads(kv.value)
        return data

    data = await stored()
    assert (data["apiVersion"], data["spec"]) == (
        f"{group}/v1",
        {"cronSpec": "@hourly", "replicas": 1},
    )
    assert [m["apiVersion"] for m in data["metadata"]["managedFields"]] == [f"{group}/v2"]
    api = k8s.CustomObjectsApi(cluster.api_client())
    status = {"status": {"lastRun": "today"}}
    patched = await in_thread(
        api.patch_namespaced_custom_object_status,
        group,
        "v2",
        "default",
        "crontabs",
        "applied",
        status,
    )
    assert patched["spec"] == {"schedule": "@hourly", "replicas": 1}
    assert patched["status"] == {"lastRun": "today"}
    assert (await stored())["status"] == {"lastRun": "today"}
    scale = {"spec": {"replicas": 3}}
    await in_thread(
        api.patch_namespaced_custom_object_scale,
        group,
        "v2",
        "default",
        "crontabs",
        "applied",
        scale,
    )
    read = await in_thread(
        api.get_namespaced_custom_object_scale, group, "v2", "default", "crontabs", "applied"
    )
    assert read["spec"] == {"replicas": 3}
    assert (await stored())["spec"] == {"cronSpec": "@hourly", "replicas": 3}
    # A second apply of the same manifest at v2 gives the replicas back to kubectl's value.
    await cluster.kubectl_ok(
        "apply", "--server-side", "--force-conflicts", "-f", "-", stdin=json.dumps(manifest)
    )
    assert (await stored())["spec"] == {"cronSpec": "@hourly", "replicas": 1}


async def failure(call: Any, *args: Any) -> tuple[int, str, str]:
    with pytest.raises(k8s.ApiException) as refused:
        await in_thread(call, *args)
    body: Any = refused.value.body
    status = json.loads(body)
    return refused.value.status, status.get("reason", ""), status["message"]


async def test_a_webhook_that_is_down_fails_the_write_as_kubernetes(
    cluster: RestCluster, webhook: ConversionWebhook
) -> None:
    group = unique_group("down")
    port = free_port()
    url = f"https://127.0.0.1:{port}/convert"
    await install(cluster.grpc, converted_crd(group, url, webhook.ca_pem))
    api = k8s.CustomObjectsApi(cluster.api_client())
    body = crontab(group, "v2", "x", {"schedule": "@daily"})
    code, reason, message = await failure(
        api.create_namespaced_custom_object, group, "v2", "default", "crontabs", body
    )
    assert (code, reason) == (500, "")
    assert message == (
        f"conversion webhook for {group}/v2, Kind=CronTab failed: Post "
        f'"https://127.0.0.1:{port}/convert?timeout=30s": dial tcp 127.0.0.1:{port}: connect: '
        "connection refused"
    )


@pytest.mark.parametrize(
    "mode, text",
    [
        (
            "wrong-count",
            "conversion webhook for {group}/v1, Kind=CronTab returned 0 objects, expected 1",
        ),
        (
            "rename",
            "conversion webhook for {group}/v1, Kind=CronTab returned invalid object: must have "
            "the same name: bad != renamed",
        ),
    ],
)
async def test_a_wrong_answer_is_refused_with_kubernetes_text(
    cluster: RestCluster, webhook: ConversionWebhook, mode: str, text: str
) -> None:
    group = await installed(cluster, webhook, mode)
    api = k8s.CustomObjectsApi(cluster.api_client())
    body = crontab(group, "v1", "bad", {"cronSpec": "@daily"})
    await in_thread(api.create_namespaced_custom_object, group, "v1", "default", "crontabs", body)
    code, reason, message = await failure(
        api.get_namespaced_custom_object, group, "v2", "default", "crontabs", "bad"
    )
    assert (code, reason, message) == (500, "", text.format(group=group))


async def test_a_wrong_uid_is_refused_naming_both(
    cluster: RestCluster, webhook: ConversionWebhook
) -> None:
    group = await installed(cluster, webhook, "wrong-uid")
    api = k8s.CustomObjectsApi(cluster.api_client())
    body = crontab(group, "v1", "bad", {"cronSpec": "@daily"})
    await in_thread(api.create_namespaced_custom_object, group, "v1", "default", "crontabs", body)
    code, _, message = await failure(
        api.get_namespaced_custom_object, group, "v2", "default", "crontabs", "bad"
    )
    # The uid named is one the apiserver sent (its v2 watch cache sends reviews too).
    named = re.fullmatch(
        f"conversion webhook for {re.escape(group)}/v1, Kind=CronTab failed: expected "
        'response.uid="([0-9a-f-]{36})", got "not-the-uid"',
        message,
    )
    assert code == 500
    assert named is not None, message
    assert named.group(1) in {r["request"]["uid"] for r in webhook.reviews}
