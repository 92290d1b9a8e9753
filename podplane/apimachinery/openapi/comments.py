"""Descriptions of the API's messages and fields: the comments above them in the protos.

The generated `_pb2` modules drop comments, so scripts/gen-protos.sh also writes a descriptor set
with source info (podplane/api/descriptors.binpb); a message's or field's leading comment is its
description, as a Go type's doc comment is Kubernetes'."""

from __future__ import annotations

import functools
from pathlib import Path

from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor

import podplane.api

DESCRIPTOR_SET = Path(podplane.api.__file__).parent / "descriptors.binpb"

# SourceCodeInfo paths: FileDescriptorProto.message_type is field 4, DescriptorProto.field is 2.
_MESSAGE_TYPE = 4
_FIELD = 2


def _text(comment: str) -> str:
    """A comment as one description: lines joined, paragraphs (blank lines) kept."""
    paragraphs: list[list[str]] = [[]]
    for line in comment.splitlines():
        line = line.strip()
        if line:
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    return "\n\n".join(" ".join(p) for p in paragraphs if p)


@functools.cache
def _descriptions() -> dict[str, str]:
    """Full message name, or "<message>.<field>", to its description."""
    files = descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTOR_SET.read_bytes())
    out: dict[str, str] = {}
    for file in files.file:
        leading = {
            tuple(loc.path): loc.leading_comments
            for loc in file.source_code_info.location
            if loc.leading_comments
        }
        for i, message in enumerate(file.message_type):
            name = f"{file.package}.{message.name}"
            if text := _text(leading.get((_MESSAGE_TYPE, i), "")):
                out[name] = text
            for j, field in enumerate(message.field):
                if text := _text(leading.get((_MESSAGE_TYPE, i, _FIELD, j), "")):
                    out[f"{name}.{field.name}"] = text
    return out


def of_message(message: Descriptor) -> str:
    """The message's description; "" when it has none."""
    return _descriptions().get(message.full_name, "")


def of_field(field: FieldDescriptor) -> str:
    """The field's description; "" when it has none."""
    return _descriptions().get(field.full_name, "")
