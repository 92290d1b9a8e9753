"""What form of an answer the client accepts (k8s.io/apiserver/pkg/endpoints/handlers/
negotiation): plain JSON (or YAML), a metav1.Table (`kubectl get` asks for
`application/json;as=Table;v=v1;g=meta.k8s.io`), metadata only (PartialObjectMetadata), or
Kubernetes' protobuf (application/vnd.kubernetes.protobuf, what client-go's typed clients ask for
first) for the kinds protobuf_kinds serves. Tables and metadata are JSON only here; a custom
resource is JSON only, as in Kubernetes: protobuf first and JSON next gets JSON, protobuf alone a
406."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from apiserver import errors
from apiserver.endpoints.rest import protobuf_kinds
from apiserver.endpoints.rest.status import not_acceptable
from podplane.apimachinery import apidiscovery
from podplane.printers.table import IncludeObject, UnknownIncludeObject, parse_include_object


class Form(enum.Enum):
    OBJECT = "object"
    TABLE = "Table"
    METADATA = "PartialObjectMetadata"


@dataclass(frozen=True)
class Accepted:
    form: Form
    # The meta.k8s.io version asked for (Table and PartialObjectMetadata): v1 or v1beta1.
    version: str = "v1"
    # An object or list written as YAML (Accept: application/yaml before JSON).
    yaml: bool = False
    # An object, list or watch written in Kubernetes' protobuf.
    protobuf: bool = False

    @property
    def group_version(self) -> str:
        return f"meta.k8s.io/{self.version}"


_JSON_LIKE = ("application/json", "application/*", "*/*", "application/yaml")


def _media_types(accept: str) -> list[tuple[str, dict[str, str]]]:
    out = []
    for entry in accept.split(","):
        parts = [p.strip() for p in entry.split(";")]
        if not parts[0]:
            continue
        params = {}
        for p in parts[1:]:
            key, _, value = p.partition("=")
            params[key.strip()] = value.strip()
        out.append((parts[0].lower(), params))
    return out


class _Kind(Protocol):
    @property
    def api_version(self) -> str: ...

    @property
    def kind(self) -> str: ...


def accepted(accept: str, kind: _Kind | None = None) -> Accepted:
    """The first form of the Accept header's list this server can give for objects of `kind`
    (protobuf only for a kind written in it); JSON when none is asked for; a 406 when nothing
    listed can be given."""
    if not accept:
        return Accepted(Form.OBJECT)
    for media_type, params in _media_types(accept):
        if media_type not in _JSON_LIKE:
            if media_type == protobuf_kinds.MEDIA_TYPE and _protobuf(params, kind):
                return Accepted(Form.OBJECT, protobuf=True)
            continue  # CBOR, protobuf of a kind not written in it: the next choice
        as_ = params.get("as", "")
        if not as_:
            return Accepted(Form.OBJECT, yaml=media_type == "application/yaml")
        if params.get("g") != "meta.k8s.io" or params.get("v") not in ("v1", "v1beta1"):
            continue
        if as_ == "Table":
            return Accepted(Form.TABLE, params["v"])
        if as_ in ("PartialObjectMetadata", "PartialObjectMetadataList"):
            return Accepted(Form.METADATA, params["v"])
    raise not_acceptable()


def _protobuf(params: Mapping[str, str], kind: _Kind | None) -> bool:
    """Whether an object of `kind` is written in protobuf as asked (a Table or metadata in
    protobuf is not: the next choice)."""
    if kind is None or "as" in params:
        return False
    return protobuf_kinds.serves(kind.api_version, kind.kind)


def accepts_openapi_protobuf(accept: str, media_type: str) -> bool:
    """Whether the Accept header's first choice this server can give is `media_type` (the
    OpenAPI v2 protobuf client-go asks for), rather than JSON."""
    for listed, _ in _media_types(accept):
        if listed == media_type.lower():
            return True
        if listed in _JSON_LIKE:
            return False
    return False


def aggregated_discovery(accept: str) -> str | None:
    """The apidiscovery.k8s.io version (v2 or v2beta1) of the aggregated discovery list the
    Accept header asks for (WrapAggregatedDiscoveryToHandler): its choices in order of
    preference (q), the first one this server can give decides; None for the legacy documents.
    A choice with a parameter other than g, v, as and pretty, or a conversion to another kind,
    is not one it can give; nor is the list in protobuf or YAML (Kubernetes gives those), so a
    client asking for one of them alone gets the legacy documents."""
    choices = []
    for position, (media_type, params) in enumerate(_media_types(accept)):
        try:
            q = float(params.pop("q", "1") or "1")
        except ValueError:
            continue
        if q > 0:
            choices.append((-q, position, media_type, params))
    for _, _, media_type, params in sorted(choices):
        if media_type not in _JSON_LIKE or set(params) - {"g", "v", "as", "pretty"}:
            continue
        convert = {k: params[k] for k in ("g", "v", "as") if k in params}
        if not convert:
            return None
        if (
            media_type != "application/yaml"
            and convert.get("g") == apidiscovery.GROUP
            and convert.get("as") == apidiscovery.KIND
            and convert.get("v") in apidiscovery.VERSIONS
        ):
            return convert["v"]
    return None


def include_object(query: Mapping[str, str]) -> IncludeObject:
    """A Table row's object (includeObject: None, Metadata (the default) or Object)."""
    try:
        return parse_include_object(query.get("includeObject", ""))
    except UnknownIncludeObject as e:
        raise errors.bad_request(str(e)) from None
