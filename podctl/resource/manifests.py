"""The objects named by -f: files, directories of manifests, or standard input, decoded strictly and
reported the way kubectl reports a bad manifest."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from google.protobuf.message import Message

from podctl.errors import CommandError
from podctl.options import GlobalOptions
from podctl.resource.objects import to_plain_dict
from podplane.apimachinery import codec, manifest
from podplane.apimachinery.json_types import JSONObject
from podplane.apimachinery.meta import object_meta
from podplane.apimachinery.resources import Resource

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
STDIN_SOURCE = "STDIN"


@dataclass(frozen=True)
class ManifestObject:
    source: str
    resource: Resource
    message: Message
    # The manifest as a plain dict, namespace filled in: what apply merges and records.
    data: JSONObject

    @property
    def name(self) -> str:
        return str(self.data.get("metadata", {}).get("name", ""))

    @property
    def namespace(self) -> str:
        return str(self.data.get("metadata", {}).get("namespace", ""))


def _files(path: str, recursive: bool) -> list[Path]:
    p = Path(path)
    if p.is_dir():
        pattern = "**/*" if recursive else "*"
        return sorted(f for f in p.glob(pattern) if f.is_file() and f.suffix in MANIFEST_SUFFIXES)
    if not p.exists():
        raise CommandError(f'error: the path "{path}" does not exist')
    return [p]


def read_sources(paths: list[str], recursive: bool = False) -> list[tuple[str, str]]:
    """(source name, text) for each -f argument, a directory's manifests in name order."""
    out: list[tuple[str, str]] = []
    for path in paths:
        if path == "-":
            out.append((STDIN_SOURCE, sys.stdin.read()))
            continue
        for f in _files(path, recursive):
            source = str(f) if Path(path).is_dir() else path
            try:
                out.append((source, f.read_text()))
            except (OSError, UnicodeDecodeError) as e:
                raise CommandError(f"error: error reading {source}: {e}") from None
    return out


def _resolve_namespace(resource: Resource, own: str, options: GlobalOptions) -> str:
    if not resource.namespaced:
        return ""
    flag = options.namespace_flag
    if own and flag and own != flag:
        raise CommandError(
            f'error: the namespace from the provided object "{own}" does not match the namespace '
            f"\"{flag}\". You must pass '--namespace={own}' to perform this operation."
        )
    return own or options.namespace


def decode(source: str, text: str, options: GlobalOptions) -> list[ManifestObject]:
    """Every object in one source; the first bad document raises a CommandError."""
    try:
        documents = list(manifest.load_documents(text))
    except manifest.ManifestError as e:
        raise CommandError(f"error: error parsing {source}: {e}") from None
    out: list[ManifestObject] = []
    for index, doc in enumerate(documents):
        # Which document of a multi-document source is at fault.
        where = f'"{source}"' + (f" (document {index + 1})" if len(documents) > 1 else "")
        if not isinstance(doc, dict):
            raise CommandError(
                f"error: error validating {where}: a manifest must be an object "
                f"with apiVersion and kind, got {codec.json_type_name(doc)}"
            )
        meta = doc.get("metadata")
        meta = meta if isinstance(meta, dict) else {}
        try:
            resource = manifest.resource_of(doc)
        except manifest.ManifestError as e:
            if e.path:
                raise CommandError(f"error: error validating {where}: {e}") from None
            raise CommandError(
                f'error: resource mapping not found for name: "{meta.get("name", "")}" namespace: '
                f'"{meta.get("namespace", "")}" from {where}: {e.detail}'
            ) from None
        try:
            message: Message = manifest.from_dict(doc, resource.message)
        except manifest.ManifestError as e:
            raise CommandError(f"error: error validating {where}: {e}") from None
        meta = object_meta(message)
        meta.namespace = _resolve_namespace(resource, meta.namespace, options)
        out.append(ManifestObject(source, resource, message, to_plain_dict(message)))
    return out


def load(
    paths: list[str], options: GlobalOptions, *, verb: str, recursive: bool = False
) -> list[ManifestObject]:
    if not paths:
        raise CommandError("error: must specify one of -f and -k")
    objects: list[ManifestObject] = []
    for source, text in read_sources(paths, recursive):
        objects.extend(decode(source, text, options))
    if not objects:
        raise CommandError(f"error: no objects passed to {verb}")
    return objects
