"""Field errors read as Kubernetes writes them: the value quoted as Go's %q quotes it (printable
characters as they are, control characters escaped), and a bad label value refused with
apimachinery's whole message, the regex included, whatever the characters."""

from __future__ import annotations

import pytest

from apiserver.validation.fields import annotation_map, invalid, label_map

LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("web", '"web"'),
        ("\ufffd", '"\ufffd"'),  # what Go's decoder makes of a lone surrogate: printable
        ("💥", '"💥"'),
        ("a\x00b", '"a\\x00b"'),
        ("tab\there", '"tab\\there"'),
        ("\x7f", '"\\x7f"'),
        ("zero\u200bwidth", '"zero\\u200bwidth"'),
        ('say "hi"\\', '"say \\"hi\\"\\\\"'),
    ],
)
def test_a_value_is_quoted_as_go_quotes_it(value: str, shown: str) -> None:
    assert (
        str(invalid("metadata.labels", value, "bad"))
        == f"metadata.labels: Invalid value: {shown}: bad"
    )


def test_a_replacement_character_label_value_gets_kubernetes_message() -> None:
    errors = label_map("metadata.labels", {"app": "\ufffd"})
    assert [str(e) for e in errors] == [
        f'metadata.labels: Invalid value: "\ufffd": {LABEL_VALUE_MSG}'
    ]


def test_a_label_value_is_measured_in_bytes_and_both_errors_are_given() -> None:
    errors = label_map("metadata.labels", {"app": "é" * 40})  # 40 characters, 80 bytes
    assert [e.detail for e in errors] == ["must be no more than 63 characters", LABEL_VALUE_MSG]


def test_a_bad_label_key_names_the_name_part_rule() -> None:
    (error,) = label_map("metadata.labels", {"-app": "web"})
    assert error.detail == (
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
        "end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
        "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
    )


@pytest.mark.parametrize("key", ["Bad_Prefix/app", "/app", "x" * 400 + "/app"])
def test_a_bad_key_is_refused_under_each_path_it_is_met_at(key: str) -> None:
    """Keys are checked once and remembered (a long one never): each refusal still names its
    own path and the key."""
    first = annotation_map("metadata.annotations", {key: "v"})
    again = label_map("spec.template.metadata.labels", {key: "v"})
    assert first and [e.path for e in first] == ["metadata.annotations"] * len(first)
    assert [e.path for e in again] == ["spec.template.metadata.labels"] * len(first)
    assert [(e.value, e.detail) for e in again] == [(key, e.detail) for e in first]
    assert label_map("metadata.labels", {"app.kubernetes.io/name": "web"}) == []
    assert label_map("metadata.labels", {}) == annotation_map("metadata.annotations", {}) == []
