"""POST pods/<name>/eviction over HTTP: the body is a policy/v1 Eviction (policy/v1beta1 too, as
Kubernetes 1.31 accepts it), in JSON, YAML or protobuf; the answer a Status of success (201) or
the refusal's Status (429 with the DisruptionBudget cause). The registry's Evictions decides."""

from __future__ import annotations

from aiohttp import web

from apiserver import errors
from apiserver.endpoints.rest import bodies
from apiserver.endpoints.rest.request import ResourceRequest
from apiserver.endpoints.rest.responses import json_response
from apiserver.endpoints.rest.status import method_not_allowed, success
from apiserver.registry.pod.eviction import API_VERSIONS, Evictions, check_type
from podplane.api.policy.v1 import policy_pb2
from podplane.apimachinery import codec
from podplane.apimachinery.json_types import JSONValue


def decode_eviction(
    data: JSONValue, duplicates: list[str], validation: codec.FieldValidation
) -> tuple[policy_pb2.Eviction, list[str]]:
    """The Eviction a body gives (no apiVersion and kind: policy/v1's), with the warnings of
    fields it does not know; another kind or version is a 400, as Kubernetes' decoder says."""
    if not isinstance(data, dict):
        raise errors.bad_request(
            'Eviction in version "v1" cannot be handled as a Eviction: expected an object, '
            f"got {codec.json_type_name(data)}"
        )
    api_version, kind = data.get("apiVersion") or "", data.get("kind") or ""
    if not isinstance(api_version, str) or not isinstance(kind, str):
        raise errors.bad_request("Eviction: apiVersion and kind must be strings")
    check_type(api_version, kind)
    version = (api_version or API_VERSIONS[0]).rpartition("/")[2]
    try:
        eviction, unknown = codec.decode(policy_pb2.Eviction, data, validation)
    except codec.UnknownFieldError as e:
        found = [f'unknown field "{p}"' for p in e.paths]
        found += [f'duplicate field "{p}"' for p in duplicates]
        raise errors.bad_request(
            f'Eviction in version "{version}" cannot be handled as a Eviction: strict decoding '
            "error: " + ", ".join(found)
        ) from None
    except codec.DecodeError as e:
        raise errors.bad_request(
            f'Eviction in version "{version}" cannot be handled as a Eviction: {e}'
        ) from None
    if duplicates and validation is codec.FieldValidation.STRICT:
        raise errors.bad_request(
            f'Eviction in version "{version}" cannot be handled as a Eviction: strict decoding '
            "error: " + ", ".join(f'duplicate field "{p}"' for p in duplicates)
        )
    warnings = [f'unknown field "{p}"' for p in unknown] + [
        f'duplicate field "{p}"' for p in duplicates
    ]
    return eviction, [] if validation is codec.FieldValidation.IGNORE else warnings


async def create_eviction(
    request: web.Request, req: ResourceRequest, evictions: Evictions
) -> web.StreamResponse:
    if req.verb != "create":
        raise method_not_allowed(req.method)
    data, duplicates = await bodies.read_document(request)
    eviction, warnings = decode_eviction(data, duplicates, bodies.field_validation(request.query))
    meta = eviction.metadata
    if meta.namespace and req.namespace and meta.namespace != req.namespace:
        raise errors.bad_request(
            "the namespace of the provided object does not match the namespace sent on the request"
        )
    meta.namespace = meta.namespace or req.namespace
    status = await evictions.evict(
        req.namespace, req.name, eviction, dry_run=bodies.dry_run(request.query)
    )
    return json_response({**success(), "code": status.code}, status.code, warnings)
