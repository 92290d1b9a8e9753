"""Label and field selectors, and resource quantities."""

from __future__ import annotations

import re
from datetime import UTC

import pytest

from podplane.apimachinery import quantity, selectors


@pytest.mark.parametrize(
    ("selector", "labels", "matches"),
    [
        ("", {}, True),
        ("app=web", {"app": "web"}, True),
        ("app==web", {"app": "db"}, False),
        ("app=web,tier!=db", {"app": "web", "tier": "fe"}, True),
        ("app=web,tier!=db", {"app": "web", "tier": "db"}, False),
        ("tier!=db", {}, True),
        ("env in (a, b)", {"env": "b"}, True),
        ("env in (a,b)", {"env": "c"}, False),
        ("env notin (a,b)", {}, True),
        ("canary", {"canary": ""}, True),
        ("!canary", {"canary": "1"}, False),
        ("app=web,env in (a,b),!canary", {"app": "web", "env": "a"}, True),
    ],
)
def test_label_selectors(selector: str, labels: dict[str, str], matches: bool) -> None:
    assert selectors.parse_labels(selector).matches(labels) is matches


@pytest.mark.parametrize("bad", ["app=web,", "a b", "!env in (a)", "x=(y)"])
def test_bad_label_selectors(bad: str) -> None:
    if bad == "app=web,":  # a trailing comma is tolerated, as by Kubernetes' parser
        assert selectors.parse_labels(bad).matches({"app": "web"})
        return
    with pytest.raises(selectors.SelectorError):
        selectors.parse_labels(bad)


def test_field_selectors() -> None:
    sel = selectors.parse_fields(
        "spec.nodeName=node-1,status.phase!=Failed", frozenset({"spec.nodeName", "status.phase"})
    )
    assert sel.matches({"spec.nodeName": "node-1", "status.phase": "Running"})
    assert not sel.matches({"spec.nodeName": "node-1", "status.phase": "Failed"})
    assert sel.exact("spec.nodeName") == "node-1"
    assert selectors.parse_fields("spec.nodeName=").matches({"spec.nodeName": ""})
    with pytest.raises(
        selectors.SelectorError, match=re.escape("field label not supported: spec.x")
    ):
        selectors.parse_fields("spec.x=1", frozenset({"spec.nodeName"}))


@pytest.mark.parametrize(
    ("value", "milli"),
    [
        ("1", 1000),
        ("100m", 100),
        ("0.5", 500),
        ("2.5", 2500),
        ("1e3", 1_000_000),
        ("1k", 1_000_000),
    ],
)
def test_cpu(value: str, milli: int) -> None:
    assert quantity.milli_cpu(value) == milli


@pytest.mark.parametrize(
    ("value", "n"),
    [
        ("64Mi", 64 * 2**20),
        ("1Gi", 2**30),
        ("1G", 10**9),
        ("128974848", 128974848),
        ("129e6", 129_000_000),
        ("123Ki", 123 * 1024),
    ],
)
def test_memory(value: str, n: int) -> None:
    assert quantity.bytes_of(value) == n


@pytest.mark.parametrize("bad", ["", "lots", "1.2.3", "5Qi", "--1"])
def test_bad_quantities(bad: str) -> None:
    with pytest.raises(quantity.QuantityError):
        quantity.parse(bad)


@pytest.mark.parametrize(
    ("seconds", "age"),
    [
        (5, "5s"),
        (119, "119s"),
        (150, "2m30s"),
        (600, "10m"),
        (3 * 3600 - 60, "179m"),
        (4 * 3600 + 300, "4h5m"),
        (20 * 3600, "20h"),
        (3 * 86400 + 4 * 3600, "3d4h"),
        (30 * 86400, "30d"),
        (800 * 86400, "2y70d"),
    ],
)
def test_human_age_matches_kubectl(seconds: int, age: str) -> None:
    from datetime import datetime, timedelta

    from podplane.apimachinery import timeutil

    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert timeutil.human_age(timeutil.format_time(now - timedelta(seconds=seconds)), now) == age
