"""Property: whatever YAML decodes to, podplane.apimachinery.manifest either returns a message or
raises ManifestError naming the field -- never TypeError, KeyError, AttributeError or a crash."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from podplane.apimachinery import manifest

PROPERTY = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
# YAML-shaped values: scalars, lists and string-keyed maps, a few levels deep.
VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
# Real field names, so that the values reach the typed decoding of nested messages.
FIELDS = st.sampled_from(
    [
        "metadata",
        "spec",
        "status",
        "containers",
        "name",
        "image",
        "ports",
        "containerPort",
        "labels",
        "annotations",
        "selector",
        "matchLabels",
        "matchExpressions",
        "template",
        "replicas",
        "affinity",
        "nodeAffinity",
        "tolerations",
        "resources",
        "requests",
        "env",
        "value",
        "data",
        "binaryData",
        "restartPolicy",
        "volumes",
        "configMap",
        "items",
    ]
)


def _document(kind: str, api_version: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, **body}


@given(
    kind=st.sampled_from(
        [
            ("Pod", "v1"),
            ("Deployment", "apps/v1"),
            ("Job", "batch/v1"),
            ("ConfigMap", "v1"),
            ("Secret", "v1"),
            ("Node", "v1"),
        ]
    ),
    body=st.dictionaries(FIELDS, VALUES | st.dictionaries(FIELDS, VALUES, max_size=4), max_size=4),
)
@PROPERTY
def test_any_document_decodes_or_names_the_bad_field(
    kind: tuple[str, str], body: dict[str, Any]
) -> None:
    doc = _document(*kind, body)
    try:
        manifest.from_dict(doc)
    except manifest.ManifestError as e:
        assert str(e).strip()


@given(text=st.text(max_size=200))
@PROPERTY
def test_any_text_loads_or_is_a_manifest_error(text: str) -> None:
    try:
        docs = list(manifest.load_documents(text))
    except manifest.ManifestError as e:
        assert str(e).startswith("error parsing YAML")
        return
    for doc in docs:
        try:
            manifest.from_dict(doc)
        except manifest.ManifestError:
            pass


@given(doc=VALUES)
@PROPERTY
def test_yaml_round_trip_of_any_value_never_crashes_the_loader(doc: Any) -> None:
    try:
        text = yaml.safe_dump_all([doc])
    except yaml.YAMLError:
        return
    try:
        list(manifest.load_objects(text))
    except manifest.ManifestError:
        pass
