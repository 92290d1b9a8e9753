"""x-kubernetes-validations: not evaluated yet (the CEL subset lands in the next commit); the
hooks the schema checks and the custom resource validation call."""

from __future__ import annotations

from podplane.apimachinery.json_types import JSONValue
from podplane.apimachinery.structural.field import FieldError
from podplane.apimachinery.structural.props import JSONSchemaProps
from podplane.apimachinery.structural.schema import Structural


def schema_checker(
    props: JSONSchemaProps, path: str, uncorrelatable: str | None
) -> list[FieldError]:
    return []


def default_checker(s: Structural, is_root: bool, path: str, value: JSONValue) -> list[FieldError]:
    return []


class RuleValidator:
    def __init__(self, s: Structural, is_resource_root: bool) -> None:
        self.has_rules = False

    def validate(self, path: str, obj: JSONValue, old: JSONValue) -> list[FieldError]:
        return []
