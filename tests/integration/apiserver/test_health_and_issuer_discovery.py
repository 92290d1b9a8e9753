"""The apiserver's health endpoints and its service account issuer discovery, through a real
apiserver over real etcd, with the real kubectl, the official Python client, PyJWT and plain
anonymous HTTPS: /livez, /readyz and /healthz list their named checks as kube-apiserver's do;
the OpenID configuration and JWKS verify a projected token's signature, issuer and audience;
anonymous callers (system:anonymous) read the health roots but are refused the per-check paths
(403 Forbidden, as kube-apiserver's RBAC refuses them), and the issuer documents only once bound
to system:service-account-issuer-discovery."""

from __future__ import annotations

import json
import ssl
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import jwt
import pytest
import pytest_asyncio
from kubernetes import client as k8s

from apiserver.endpoints.health import POST_START_HOOKS
from apiserver.options.advertise import external_address
from tests.integration.rest_cluster import RestCluster, in_thread, rest_cluster
from tests.pki_support import ISSUER
from tests.support import EtcdProcess, eventually

HOOK_LINES = "".join(f"[+]poststarthook/{name} ok\n" for name in POST_START_HOOKS)
COMMON = "[+]ping ok\n[+]log ok\n[+]etcd ok\n"


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("health-oidc")) as c:
        yield c


async def anonymous_get(
    cluster: RestCluster, path: str, token: str | None = None
) -> tuple[int, str, str]:
    """GET `path` with no client certificate (and the bearer `token`, if any): the HTTP code,
    the Content-Type and the body."""
    context = ssl.create_default_context(cafile=str(cluster.pki / "ca.crt"))
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as session:
        url = f"https://127.0.0.1:{cluster.rest_port}{path}"
        async with session.get(url, ssl=context, headers=headers) as reply:
            return reply.status, reply.headers.get("Content-Type", ""), await reply.text()


def forbidden(path: str) -> dict[str, Any]:
    """Kubernetes' answer to an anonymous request of a path RBAC does not grant
    system:unauthenticated."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f'forbidden: User "system:anonymous" cannot get path "{path}"',
        "reason": "Forbidden",
        "details": {},
        "code": 403,
    }


# ------------------------------------------------------------------ health
async def test_verbose_health_lists_every_named_check(cluster: RestCluster) -> None:
    readyz = await cluster.kubectl_ok("get", "--raw", "/readyz?verbose")
    assert readyz == (
        f"{COMMON}[+]etcd-readiness ok\n[+]informer-sync ok\n{HOOK_LINES}[+]shutdown ok\n"
        "readyz check passed\n"
    )
    assert await cluster.kubectl_ok("get", "--raw", "/livez?verbose") == (
        f"{COMMON}{HOOK_LINES}livez check passed\n"
    )
    assert await cluster.kubectl_ok("get", "--raw", "/healthz?verbose") == (
        f"{COMMON}{HOOK_LINES}healthz check passed\n"
    )
    for path in ("/readyz", "/livez", "/healthz", "/readyz/etcd", "/livez/ping", "/healthz/etcd"):
        assert await cluster.kubectl_ok("get", "--raw", path) == "ok"


async def test_excluded_checks_are_listed_and_unknown_names_warned_about(
    cluster: RestCluster,
) -> None:
    out = await cluster.kubectl_ok(
        "get", "--raw", "/readyz?verbose&exclude=etcd&exclude=nosuch&exclude=informer-sync"
    )
    assert out.startswith(
        "[+]ping ok\n[+]log ok\n[+]etcd excluded: ok\n[+]etcd-readiness ok\n"
        "[+]informer-sync excluded: ok\n"
    )
    assert out.endswith(
        '[+]shutdown ok\nwarn: some health checks cannot be excluded: no matches for "nosuch"\n'
        "readyz check passed\n"
    )
    assert await cluster.kubectl_ok("get", "--raw", "/livez?exclude=etcd") == "ok"


async def test_a_check_that_does_not_exist_is_not_found(cluster: RestCluster) -> None:
    ran = await cluster.kubectl("get", "--raw", "/readyz/nosuch")
    assert (ran.code, ran.err) == (
        1,
        "Error from server (NotFound): the server could not find the requested resource\n",
    )


async def test_anonymous_callers_read_the_roots_only(cluster: RestCluster) -> None:
    """system:public-info-viewer names /livez, /readyz and /healthz, not the paths below."""
    for path in ("/livez", "/readyz", "/healthz"):
        assert await anonymous_get(cluster, path) == (200, "text/plain; charset=utf-8", "ok")
    code, _, body = await anonymous_get(cluster, "/readyz?verbose")
    assert (code, body.splitlines()[-1]) == (200, "readyz check passed")
    code, _, body = await anonymous_get(cluster, "/readyz/etcd")
    assert (code, json.loads(body)) == (403, forbidden("/readyz/etcd"))


# ------------------------------------------------------------------ issuer discovery
async def test_the_openid_configuration_names_the_issuer_and_its_keys(
    cluster: RestCluster,
) -> None:
    config = json.loads(
        await cluster.kubectl_ok("get", "--raw", "/.well-known/openid-configuration")
    )
    assert config == {
        "issuer": ISSUER,
        # kube-apiserver's external address: the advertised address (here the default
        # route's, the server being bound to loopback) and the secure port.
        "jwks_uri": f"https://{external_address(None, cluster.rest_address)}/openid/v1/jwks",
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }
    keys = json.loads(await cluster.kubectl_ok("get", "--raw", "/openid/v1/jwks"))["keys"]
    assert [(k["use"], k["kty"], k["alg"], k["e"]) for k in keys] == [
        ("sig", "RSA", "RS256", "AQAB")
    ]
    assert list(keys[0]) == ["use", "kty", "kid", "alg", "n", "e"]


async def test_a_projected_token_verifies_with_the_served_keys(cluster: RestCluster) -> None:
    namespace = f"oidc-{uuid.uuid4().hex[:6]}"
    await cluster.kubectl_ok("create", "namespace", namespace)
    await cluster.kubectl_ok("create", "serviceaccount", "relying", "-n", namespace)
    core = k8s.CoreV1Api(cluster.api_client())
    request = k8s.AuthenticationV1TokenRequest(
        spec=k8s.V1TokenRequestSpec(audiences=["vault"], expiration_seconds=3600)
    )
    answer = await in_thread(
        core.create_namespaced_service_account_token, "relying", namespace, request
    )
    token: str = answer.status.token

    # A service account (of system:serviceaccounts) may read the documents by default.
    api_token = (await cluster.kubectl_ok("create", "token", "relying", "-n", namespace)).strip()
    code, content_type, body = await anonymous_get(cluster, "/openid/v1/jwks", api_token)
    assert (code, content_type) == (200, "application/jwk-set+json")
    code, content_type, config = await anonymous_get(
        cluster, "/.well-known/openid-configuration", api_token
    )
    assert (code, content_type) == (200, "application/json")

    keys = jwt.PyJWKSet.from_dict(json.loads(body))
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in keys.keys if k.key_id == kid)
    claims = jwt.decode(
        token,
        key=key.key,
        algorithms=json.loads(config)["id_token_signing_alg_values_supported"],
        audience="vault",
        issuer=ISSUER,
    )
    assert claims["sub"] == f"system:serviceaccount:{namespace}:relying"
    assert claims["aud"] == ["vault"]
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(token, key=key.key, algorithms=["RS256"], audience="other", issuer=ISSUER)
    tampered = token[:-4] + ("AAAA" if token[-4:] != "AAAA" else "BBBB")
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(tampered, key=key.key, algorithms=["RS256"], audience="vault", issuer=ISSUER)


async def test_anonymous_callers_read_the_documents_once_bound(cluster: RestCluster) -> None:
    for path in ("/.well-known/openid-configuration", "/openid/v1/jwks"):
        code, _, body = await anonymous_get(cluster, path)
        assert (code, json.loads(body)) == (403, forbidden(path))
    binding = f"oidc-anonymous-{uuid.uuid4().hex[:6]}"
    await cluster.kubectl_ok(
        "create",
        "clusterrolebinding",
        binding,
        "--clusterrole=system:service-account-issuer-discovery",
        "--group=system:unauthenticated",
    )
    try:

        async def readable() -> bool:
            return (await anonymous_get(cluster, "/openid/v1/jwks"))[0] == 200

        await eventually(readable, timeout=10, what="anonymous access to the JWKS")
        code, content_type, body = await anonymous_get(cluster, "/openid/v1/jwks")
        assert (code, content_type) == (200, "application/jwk-set+json")
        assert json.loads(body)["keys"][0]["alg"] == "RS256"
    finally:
        await cluster.kubectl_ok("delete", "clusterrolebinding", binding)


async def test_the_bootstrap_role_and_binding_are_kubernetes(cluster: RestCluster) -> None:
    role = json.loads(
        await cluster.kubectl_ok(
            "get", "clusterrole", "system:service-account-issuer-discovery", "-o", "json"
        )
    )
    assert role["rules"] == [
        {
            # With the slash-ended forms, as Kubernetes allows them for clients generated from
            # its published OpenAPI before the trailing slash was fixed.
            "nonResourceURLs": [
                "/.well-known/openid-configuration",
                "/.well-known/openid-configuration/",
                "/openid/v1/jwks",
                "/openid/v1/jwks/",
            ],
            "verbs": ["get"],
        }
    ]
    binding = json.loads(
        await cluster.kubectl_ok(
            "get", "clusterrolebinding", "system:service-account-issuer-discovery", "-o", "json"
        )
    )
    assert binding["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:serviceaccounts"}
    ]
