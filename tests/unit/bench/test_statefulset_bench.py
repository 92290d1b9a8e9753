"""`podplane-bench statefulset`: its flags, and the StatefulSets it creates pass the apiserver's
validation with and without a claim template (a benchmark refused at its first create measures
nothing)."""

from __future__ import annotations

import argparse

import pytest

from apiserver.defaulting import statefulset as defaulting
from apiserver.validation import statefulset as validation
from bench.statefulset import benchmark


def parsed(*argv: str) -> benchmark.Options:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    benchmark.add_parser(sub, int)
    return benchmark.options_from(parser.parse_args(["statefulset", *argv]))


def test_defaults_are_the_four_cells_of_fifty() -> None:
    options = parsed()
    assert options.replicas == 50
    assert options.policies == ("OrderedReady", "Parallel")
    assert options.claims == (False, True)


def test_flags_choose_the_cells() -> None:
    options = parsed("--replicas", "10", "--policies", "Parallel", "--claims", "with")
    assert (options.replicas, options.policies, options.claims) == (10, ("Parallel",), (True,))


def test_an_unknown_policy_is_refused() -> None:
    with pytest.raises(SystemExit):
        parsed("--policies", "Burst")


@pytest.mark.parametrize("claims", [False, True])
@pytest.mark.parametrize("policy", ["OrderedReady", "Parallel"])
def test_the_benchmarks_set_is_valid(policy: str, claims: bool) -> None:
    sts = benchmark.statefulset("bench-x", policy, claims, "16Mi")
    defaulting.statefulset(sts)
    defaulting.prepare_for_create(sts)
    assert [str(e) for e in validation.statefulset(sts)] == []
    assert len(sts.spec.volume_claim_templates) == (1 if claims else 0)
    assert sts.spec.pod_management_policy == policy
