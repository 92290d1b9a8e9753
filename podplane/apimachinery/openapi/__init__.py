"""The API's OpenAPI documents, as Kubernetes' apiserver serves them: /openapi/v3 (the index),
/openapi/v3/<api/v1 | apis/GROUP/VERSION> (OpenAPI 3.0, one per group version) and /openapi/v2
(Swagger 2.0, the whole API). kubectl explain reads the v3 schemas and descriptions, kubectl
apply its strategic-merge-patch extensions and the fieldValidation parameter of each kind's
PATCH operation; generated clients (the official Python client) are built from v2.

Every document is built once per process from the protos (types, field options, comments) and
the table of kinds; the HTTP layer serves the *_json bytes with ETag = the document's hash."""

from podplane.apimachinery.openapi.documents import (
    KUBERNETES_VERSION,
    canonical_json,
    document_hash,
    v2_document,
    v2_document_json,
    v3_document,
    v3_document_json,
    v3_index,
    v3_index_with,
    v3_path,
)

__all__ = [
    "KUBERNETES_VERSION",
    "canonical_json",
    "document_hash",
    "v2_document",
    "v2_document_json",
    "v3_document",
    "v3_document_json",
    "v3_index",
    "v3_index_with",
    "v3_path",
]
