"""Structural schemas of custom resources, as apiextensions-apiserver 1.31 has them: a CRD
version's openAPIV3Schema checked when the CRD is written (`validate_schema`), and custom
resources pruned, defaulted and validated against it (`CustomResourceSchema`), their
x-kubernetes-validations evaluated (cel/), the version's OpenAPI definitions
(`openapi_publishing.definitions`). Server-side apply reads the schema through
podplane.apimachinery.fieldmanager.openapi_schema. docs/api-machinery.md describes the modules."""

from podplane.apimachinery.structural.crd_rules import CREATE_OPTIONS, SchemaOptions
from podplane.apimachinery.structural.crd_schema import validate_schema
from podplane.apimachinery.structural.custom_resource import CustomResourceSchema
from podplane.apimachinery.structural.field import ErrorType, FieldError
from podplane.apimachinery.structural.objectmeta import MetaDecodeError, MetaValidator
from podplane.apimachinery.structural.openapi_publishing import definitions
from podplane.apimachinery.structural.props import SchemaDecodeError

__all__ = [
    "CREATE_OPTIONS",
    "CustomResourceSchema",
    "ErrorType",
    "FieldError",
    "MetaDecodeError",
    "MetaValidator",
    "SchemaDecodeError",
    "SchemaOptions",
    "definitions",
    "validate_schema",
]
