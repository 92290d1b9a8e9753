"""The fuzzer at the REST door: mutated objects of every served kind created, updated and
patched (the four patch types), lists and watches with odd query parameters, gets and deletes of
odd names, subresources, and raw random bytes to random paths, sent as a client with the admin's
certificate sends them. Every answer is held to Kubernetes' rules (rest_oracle.py)."""

from __future__ import annotations

import asyncio
import random
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

import aiohttp
from yarl import URL

from podplane.apimachinery import resources
from podplane.apimachinery.json_types import JSONObject, JSONValue
from podplane.apimachinery.resources import CreateOnlyResource, Resource
from tests.fuzz import mutate, samples
from tests.fuzz.report import FuzzResult
from tests.fuzz.rest_oracle import judge

JSON = "application/json"
PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
)
_CONTENT_TYPES = (
    JSON,
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
    "text/plain",
    "",
    "application/json; charset=utf-16",
    "multipart/form-data; boundary=x",
    "💥/💥",
    "application/cbor",
)
_ACCEPTS = (
    JSON,
    JSON,
    JSON,
    "application/yaml",
    "application/json;as=Table;v=v1;g=meta.k8s.io",
    "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io",
    "application/vnd.kubernetes.protobuf",
    "*/*",
    "text/html",
    "application/json;as=Bogus;v=v9;g=x",
)
_ODD_NAMES = (
    "",
    "..",
    ".",
    "%00",
    "UPPER",
    "a" * 254,
    "💥",
    "a b",
    "-leading",
    "trailing-",
    "a.b",
    "%2e%2e",
    "\ud83d",
)
_SELECTORS = (
    "app=fuzz",
    "app in (fuzz,web)",
    "!app",
    "app",
    "a in (",
    "=x",
    "app==fuzz==x",
    "app notin ()",
    "💥=1",
    "a" * 64 + "=b",
    "app=" + "b" * 64,
    "x,,y",
    "app=\x00",
)
_FIELD_SELECTORS = (
    "metadata.name=fz-1",
    "metadata.namespace!=x",
    "spec.nodeName=",
    "status.phase=Running",
    "bogus.field=1",
    "metadata.name",
    "a==b==c",
    "metadata.name in (a,b)",
)
_QUERY_VALUES: dict[str, tuple[str, ...]] = {
    "labelSelector": _SELECTORS,
    "fieldSelector": _FIELD_SELECTORS,
    "resourceVersion": ("", "0", "1", "-1", "abc", "99999999999", "1" * 40, "1.5"),
    "resourceVersionMatch": ("NotOlderThan", "Exact", "bogus", ""),
    "limit": ("-1", "0", "1", "2", "abc", "99999999999999999999", "1e3"),
    "continue": ("", "abc", "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ", "💥", "%%%"),
    "timeoutSeconds": ("1", "0", "-1", "abc", "99999999999999999999"),
    "allowWatchBookmarks": ("true", "false", "maybe"),
    "sendInitialEvents": ("true", "false", "1"),
    "pretty": ("true", "1", "x"),
    "fieldValidation": ("Strict", "Warn", "Ignore", "strict", "Bogus", ""),
    "dryRun": ("All", "all", "None", ""),
    "fieldManager": ("fuzz", "", "a" * 200, "💥"),
    "force": ("true", "false", "x"),
    "gracePeriodSeconds": ("0", "-1", "30", "abc", "99999999999999999999"),
    "propagationPolicy": ("Foreground", "Background", "Orphan", "Bogus"),
    "orphanDependents": ("true", "false", "x"),
    "includeObject": ("None", "Metadata", "Object", "Bogus"),
    "watch": ("true", "1", "false", "x"),
    "container": ("main", "nope", ""),
    "tailLines": ("1", "-1", "abc"),
    "💥": ("1",),
}


@dataclass
class Request:
    method: str
    path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = None
    content_type: str = ""
    accept: str = JSON
    what: str = ""

    def describe(self) -> str:
        query = f"?{urlencode(self.query)}" if self.query else ""
        return f"{self.method} {self.path}{query} [{self.content_type}] {self.what}"[:400]


def collection_path(resource: Resource | CreateOnlyResource, namespace: str) -> str:
    group_version = resource.api_version
    root = f"/apis/{group_version}" if "/" in group_version else f"/api/{group_version}"
    if resource.namespaced:
        return f"{root}/namespaces/{namespace}/{resource.plural}"
    return f"{root}/{resource.plural}"


class Generator:
    """The requests of one run: a random.Random seeded once, and the names it has created (so
    updates, patches and deletes mostly find an object)."""

    def __init__(self, seed: int, namespace: str) -> None:
        self.rng = random.Random(seed)
        self.namespace = namespace
        self.serial = 0
        self.names: dict[str, list[str]] = {r.plural: [] for r in resources.SERVED}

    def _name(self) -> str:
        self.serial += 1
        return f"fz-{self.serial}"

    def _query(self, keys: tuple[str, ...], count: int = 2) -> list[tuple[str, str]]:
        rng = self.rng
        return [
            (key, rng.choice(_QUERY_VALUES[key])) for key in rng.sample(keys, min(count, len(keys)))
        ]

    def _known(self, resource: Resource) -> str:
        names = self.names[resource.plural]
        if names and self.rng.random() < 0.85:
            return self.rng.choice(names)
        return quote(self.rng.choice(_ODD_NAMES).encode("utf-8", "surrogatepass"), safe="")

    def _body(self, value: JSONValue, mutant: mutate.Mutant | None = None) -> tuple[bytes, str]:
        """A body and its content type: mostly the JSON the kind takes, sometimes YAML, another
        type or mangled bytes."""
        rng = self.rng
        mutant = mutant or mutate.Mutant(value, [], "")
        roll = rng.random()
        if roll < 0.7:
            body, content_type = mutate.to_json(mutant, rng), JSON
        elif roll < 0.85:
            body, content_type = mutate.to_yaml(mutant), "application/yaml"
        else:
            body, content_type = mutate.to_json(mutant, rng), rng.choice(_CONTENT_TYPES)
        if rng.random() < 0.08:
            body = mutate.mangle(rng, body)
        return body, content_type

    def next(self) -> Request:
        rng = self.rng
        resource = rng.choice(resources.SERVED)
        collection = collection_path(resource, self.namespace)
        if isinstance(resource, CreateOnlyResource):  # a review: a create is all it takes
            return self._create(resource, collection)
        roll = rng.random()
        if roll < 0.3:
            return self._create(resource, collection)
        if roll < 0.42:
            return self._update(resource, collection)
        if roll < 0.6:
            return self._patch(resource, collection)
        if roll < 0.75:
            return self._list_or_watch(resource, collection)
        if roll < 0.85:
            return self._get_or_delete(resource, collection)
        if roll < 0.92:
            return self._subresource(resource, collection)
        return self._raw(collection)

    def _create(self, resource: Resource | CreateOnlyResource, collection: str) -> Request:
        name = self._name()
        valid = samples.sample(resource, name, self.namespace)
        if self.rng.random() < 0.2:
            self.names[resource.plural].append(name)  # sent unchanged: it will exist
            body, content_type = mutate.to_json(mutate.Mutant(valid, [], ""), self.rng), JSON
            return Request("POST", collection, [("fieldValidation", "Strict")], body, content_type)
        mutant = mutate.mutate(self.rng, valid)
        body, content_type = self._body(mutant.value, mutant)
        query = self._query(("fieldValidation", "dryRun", "fieldManager", "pretty"))
        return Request("POST", collection, query, body, content_type, what=mutant.description)

    def _update(self, resource: Resource, collection: str) -> Request:
        name = self._known(resource)
        mutant = mutate.mutate(self.rng, samples.sample(resource, name, self.namespace))
        body, content_type = self._body(mutant.value, mutant)
        query = self._query(("fieldValidation", "dryRun", "fieldManager"))
        return Request(
            "PUT", f"{collection}/{name}", query, body, content_type, what=mutant.description
        )

    def _patch(self, resource: Resource, collection: str) -> Request:
        rng = self.rng
        name = self._known(resource)
        patch_type = rng.choice(PATCH_TYPES)
        valid = samples.sample(resource, name, self.namespace)
        what = patch_type
        body: bytes
        if patch_type == "application/json-patch+json":
            patch = self._json_patch(valid)
            body = mutate.to_json(mutate.Mutant(patch, [], ""), rng)
        elif patch_type == "application/apply-patch+yaml":
            mutant = mutate.mutate(rng, valid)
            body, what = mutate.to_yaml(mutant), f"{what} {mutant.description}"
        else:
            partial = {k: v for k, v in valid.items() if rng.random() < 0.5 or k == "metadata"}
            if patch_type.startswith("application/strategic") and rng.random() < 0.4:
                partial.update(self._directives())
            mutant = mutate.mutate(rng, partial)
            body, what = mutate.to_json(mutant, rng), f"{what} {mutant.description}"
        if rng.random() < 0.05:
            body = mutate.mangle(rng, body)
        if rng.random() < 0.05:
            patch_type = rng.choice(_CONTENT_TYPES)
        query = self._query(("fieldValidation", "dryRun", "fieldManager", "force"), 2)
        if patch_type == "application/apply-patch+yaml" and rng.random() < 0.8:
            # Mostly a manager that may apply, so the merge and its conflicts are reached.
            query = [(k, v) for k, v in query if k != "fieldManager"]
            query.append(("fieldManager", rng.choice(("fuzz", "fuzz-2", "kubectl"))))
        return Request("PATCH", f"{collection}/{name}", query, body, patch_type, what=what)

    def _json_patch(self, valid: JSONObject) -> JSONValue:
        rng = self.rng
        all_paths = list(mutate.paths(valid))
        ops: list[JSONValue] = []
        for _ in range(rng.randint(1, 4)):
            path = rng.choice(all_paths)
            pointer = "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in path)
            if rng.random() < 0.15:
                pointer = rng.choice(("", "/", "//", "~2", "/spec/-", "/metadata/labels/~", "x"))
            op: JSONObject = {
                "op": rng.choice(("add", "remove", "replace", "move", "copy", "test", "bogus")),
                "path": pointer,
                "value": mutate.odd_value(rng, ""),
            }
            if rng.random() < 0.3:
                op["from"] = rng.choice(("/metadata/labels", "/spec", "/nope", "", "~"))
            if rng.random() < 0.1:
                del op[rng.choice(("op", "path"))]
            ops.append(op)
        if rng.random() < 0.1:
            return mutate.odd_value(rng, ops)
        return ops

    def _directives(self) -> JSONObject:
        rng = self.rng
        return rng.choice(
            (
                {"$patch": rng.choice(("delete", "replace", "merge", "bogus"))},
                {"$retainKeys": rng.choice((["spec"], "x", [1]))},
                {"$setElementOrder/containers": [{"name": "main"}, {"name": "x"}]},
                {"$deleteFromPrimitiveList/finalizers": ["a"]},
                {"metadata": {"$patch": "delete"}},
            )
        )

    def _list_or_watch(self, resource: Resource, collection: str) -> Request:
        rng = self.rng
        keys = tuple(k for k in _QUERY_VALUES if k not in ("gracePeriodSeconds", "container"))
        query = self._query(keys, rng.randint(0, 4))
        watching = rng.random() < 0.3
        if watching:
            query = [(k, v) for k, v in query if k not in ("watch", "timeoutSeconds")]
            query += [("watch", "true"), ("timeoutSeconds", "1")]
        if rng.random() < 0.1:
            collection = "/".join([*collection.split("/")[:-3], resource.plural])  # all ns
        return Request("GET", collection, query, accept=rng.choice(_ACCEPTS))

    def _get_or_delete(self, resource: Resource, collection: str) -> Request:
        rng = self.rng
        name = self._known(resource)
        if rng.random() < 0.5:
            return Request("GET", f"{collection}/{name}", accept=rng.choice(_ACCEPTS))
        query = self._query(
            ("gracePeriodSeconds", "propagationPolicy", "dryRun", "orphanDependents"), 2
        )
        body, content_type = None, ""
        if rng.random() < 0.3:
            options: JSONObject = {
                "kind": "DeleteOptions",
                "apiVersion": "v1",
                "gracePeriodSeconds": 0,
                "preconditions": {"uid": "x", "resourceVersion": "1"},
                "propagationPolicy": "Background",
            }
            mutant = mutate.mutate(rng, options)
            body, content_type = self._body(mutant.value, mutant)
        if name in self.names[resource.plural] and rng.random() < 0.5:
            self.names[resource.plural].remove(name)
        return Request("DELETE", f"{collection}/{name}", query, body, content_type)

    def _subresource(self, resource: Resource, collection: str) -> Request:
        rng = self.rng
        name = self._known(resource)
        sub = rng.choice(
            ("status", "scale", "log", "exec", "attach", "binding", "eviction", "token", "x")
        )
        method = rng.choice(("GET", "PUT", "PATCH", "POST"))
        mutant = mutate.mutate(rng, samples.sample(resource, name, self.namespace))
        query = self._query(("container", "tailLines", "fieldValidation"), 1)
        if method == "GET":
            return Request("GET", f"{collection}/{name}/{sub}", query)
        body, content_type = self._body(mutant.value, mutant)
        if method == "PATCH":
            content_type = rng.choice(PATCH_TYPES)
        return Request(
            method, f"{collection}/{name}/{sub}", query, body, content_type, what=mutant.description
        )

    def _raw(self, collection: str) -> Request:
        rng = self.rng
        method = rng.choice(("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"))
        path = rng.choice(
            (
                collection,
                "/",
                "/api",
                "/apis",
                "/apis/apps",
                "/apis/apps/v9",
                "/api/v1/namespaces/" + self.namespace + "/bogus",
                "/apis/%F0%9F%92%A5/v1/x",
                "/openapi/v2",
                "/openapi/v3/api/v1",
                "/version",
                "/healthz",
                "/readyz?verbose",
                "/api/v1/" + "a/" * 50,
                "/api/v1/namespaces/%00/pods",
                "/" + quote(rng.randbytes(12).decode("latin-1"), safe="/"),
            )
        )
        body = rng.randbytes(rng.choice((0, 1, 64, 4096)))
        return Request(
            method, path, [], body, rng.choice(_CONTENT_TYPES), rng.choice(_ACCEPTS), "raw bytes"
        )


@dataclass(frozen=True)
class Door:
    """Where the REST door listens and how to reach it as the admin."""

    base_url: str
    ssl_context: ssl.SSLContext | None


def admin_ssl(ca: str, cert: str, key: str) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=ca)
    context.load_cert_chain(cert, key)
    return context


async def send(
    session: aiohttp.ClientSession, door: Door, request: Request
) -> tuple[int, str, bytes]:
    """The answer's code, content type and body (a watch's body up to its end or 3 s)."""
    base = URL(door.base_url)
    url = URL.build(
        scheme=base.scheme, host=base.host or "", port=base.port, path=request.path, encoded=True
    )
    if request.query:
        url = url.with_query(request.query)
    headers = {"Accept": request.accept}
    if request.content_type:
        headers["Content-Type"] = request.content_type
    async with session.request(
        request.method,
        url,
        data=request.body,
        headers=headers,
        ssl=door.ssl_context if door.ssl_context else False,
        skip_auto_headers=() if request.content_type else ("Content-Type",),
    ) as response:
        body = b""
        try:
            async with asyncio.timeout(3):
                body = await response.read()
        except TimeoutError:
            body = b""  # a watch still open: its head was judged
        return response.status, response.headers.get("Content-Type", ""), body


async def fuzz_rest(
    door: Door, namespace: str, *, requests: int, seed: int, concurrency: int = 8
) -> FuzzResult:
    """`requests` fuzzed requests at the REST door, `concurrency` at a time."""
    generator = Generator(seed, namespace)
    result = FuzzResult("REST")
    queue: asyncio.Queue[Request | None] = asyncio.Queue(maxsize=concurrency * 2)
    started = time.monotonic()
    connector = aiohttp.TCPConnector(limit=concurrency)
    # Past kube-apiserver's own 60 s request timeout: a delete of a whole collection of the
    # thousands of objects a run creates is slow on a busy host, not a failure.
    timeout = aiohttp.ClientTimeout(total=90)

    async def worker(session: aiohttp.ClientSession) -> None:
        while (request := await queue.get()) is not None:
            try:
                code, content_type, body = await send(session, door, request)
            except (aiohttp.ClientError, TimeoutError, ValueError) as e:
                result.answered("no answer")
                result.failed(f"no answer ({type(e).__name__}: {e}): {request.describe()}")
                continue
            result.answered(str(code))
            problem = judge(request.method, request.accept, code, content_type, body)
            if problem:
                result.failed(f"{problem}: {request.describe()}")

    # Kubernetes' clients take longer header lines than aiohttp's 8 KiB (a warning quoting a long
    # unknown field: Go's client takes 1 MiB of headers).
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, max_line_size=1 << 20, max_field_size=1 << 20
    ) as session:
        workers = [asyncio.create_task(worker(session)) for _ in range(concurrency)]
        for _ in range(requests):
            await queue.put(generator.next())
        for _ in workers:
            await queue.put(None)
        await asyncio.gather(*workers)
    result.seconds = time.monotonic() - started
    return result
