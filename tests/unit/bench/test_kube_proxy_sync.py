"""podplane-bench kube-proxy-sync in its rule-generation mode: the syncs it times are kube-proxy's
own (the first and the forced ones full, those after one Service's endpoints changed partial and
much smaller), and its table reports each kind."""

from __future__ import annotations

import pytest

from bench.kube_proxy import sync
from bench.kube_proxy.sync import markdown, measure


def test_the_syncs_are_full_then_partial_and_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_iptables(*args: object, **kwargs: object) -> None:
        raise AssertionError("iptables run in generate mode")

    monkeypatch.setattr(sync, "ExecIptables", no_iptables)
    result = measure(services=20, endpoints=3, syncs=2, prefix=None)
    assert [s.kind for s in result.syncs] == ["first", "full", "partial", "full", "partial"]
    first, full, partial = result.syncs[0], result.of("full")[0], result.of("partial")[0]
    assert first.restore_bytes == full.restore_bytes
    assert 0 < partial.restore_bytes < full.restore_bytes / 5
    table = markdown(result, "generate")
    assert "| first full (empty tables) | 1 |" in table
    assert "| partial (one Service's endpoints) | 2 |" in table
