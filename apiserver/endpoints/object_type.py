"""Whether a written object is of the kind its endpoint serves, whichever door it came through:
the apiVersion and kind a REST body or a gRPC message says it is, when it says, are the
resource's. Kubernetes' decoder picks the type from them, so another served kind cannot be
converted to the resource's and an unknown one is not registered in its scheme: 400 BadRequest."""

from __future__ import annotations

from apiserver import errors
from podplane.apimachinery import resources
from podplane.apimachinery.resources import CreateOnlyResource, Resource

# A kind an object may be written as: a stored one, or a create-only one (an access review).
Kind = Resource | CreateOnlyResource

_SERVED_KINDS = frozenset((r.api_version, r.kind) for r in resources.SERVED)


def cannot_handle(
    resource: Kind, detail: str, kind: str = "", api_version: str = ""
) -> errors.APIError:
    """What Kubernetes answers a body it cannot decode into the kind (its handlers'
    transformDecodeError), naming the kind and version the body says it is, else the
    resource's."""
    version = (api_version or resource.api_version).rpartition("/")[2]
    return errors.bad_request(
        f'{kind or resource.kind} in version "{version}" cannot be '
        f"handled as a {resource.kind}: {detail}"
    )


def check_object_type(resource: Kind, api_version: str, kind: str) -> None:
    """Raises the BadRequest for an object that says it is of another kind or version than
    `resource`; one that says nothing (both empty) is taken to be the resource's."""
    if not api_version and not kind:
        return
    api_version, kind = api_version or resource.api_version, kind or resource.kind
    if (api_version, kind) == (resource.api_version, resource.kind):
        return
    if (api_version, kind) in _SERVED_KINDS:
        detail = f"a {kind} cannot be converted to a {resource.kind}"
    else:
        detail = f'no kind "{kind}" is registered for version "{api_version}"'
    raise cannot_handle(resource, detail, kind, api_version)
