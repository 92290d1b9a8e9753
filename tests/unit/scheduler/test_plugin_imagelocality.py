"""ImageLocality: nodes that already have the pod's images score higher, by image size (23 MB to
1000 MB per container) scaled by the share of nodes that have the image."""

from __future__ import annotations

import pytest

from podplane.api.core.v1 import core_pb2
from scheduler.backend.cache.cache import SchedulerCache
from scheduler.plugins import imagelocality
from tests.unit.scheduler import placementtest as pt
from tests.unit.scheduler.schedtest import container

MB = 1024 * 1024


def _with_images(images: tuple[str, ...]) -> core_pb2.Pod:
    p = pt.pod("p", containers=[container(f"c{i}") for i in range(len(images))])
    for c, image in zip(p.spec.containers, images, strict=True):
        c.image = image
    return p


@pytest.mark.parametrize(
    "name, expected",
    [
        ("nginx", "nginx:latest"),
        ("nginx:1.25", "nginx:1.25"),
        ("registry:5000/nginx", "registry:5000/nginx:latest"),
        ("registry:5000/nginx:1.25", "registry:5000/nginx:1.25"),
    ],
)
def test_image_names_are_normalized_as_nodes_report_them(name: str, expected: str) -> None:
    assert imagelocality.normalized_image_name(name) == expected


@pytest.mark.parametrize(
    "on_n1, on_n2, images, expected",
    [
        # 500 MB on one node of two counts 250 MB: 100 * (250 - 23) / (1000 - 23).
        ([(["nginx:latest"], 500 * MB)], [], ["nginx"], {"n1": 23, "n2": 0}),
        (
            [(["nginx:latest"], 500 * MB)],
            [(["nginx:latest"], 500 * MB)],
            ["nginx"],
            {"n1": 48, "n2": 48},
        ),
        ([(["tiny:1"], 10 * MB)], [], ["tiny:1"], {"n1": 0, "n2": 0}),
        ([(["huge:1"], 3000 * MB)], [(["huge:1"], 3000 * MB)], ["huge:1"], {"n1": 100, "n2": 100}),
        # Two containers, so the maximum is 2000 MB: n1 has 1000 + 1000 / 2, n2 has 1000.
        (
            [(["a:1"], 1000 * MB), (["b:1"], 1000 * MB)],
            [(["a:1", "a:alias"], 1000 * MB)],
            ["a:1", "b:1"],
            {"n1": 74, "n2": 49},
        ),
    ],
    ids=["on-one-node", "on-both", "below-threshold", "above-maximum", "two-containers"],
)
def test_scores(
    on_n1: list[tuple[list[str], int]],
    on_n2: list[tuple[list[str], int]],
    images: list[str],
    expected: dict[str, int],
) -> None:
    nodes = pt.cluster(
        (pt.with_images(pt.zone_node("n1"), *on_n1), []),
        (pt.with_images(pt.zone_node("n2"), *on_n2), []),
    )
    assert pt.score_all(imagelocality.new({}), _with_images(tuple(images)), nodes) == expected


def test_a_pod_whose_images_no_node_has_skips_scoring() -> None:
    nodes = pt.cluster((pt.with_images(pt.zone_node("n1"), (["other:1"], 500 * MB)), []))
    assert pt.score_all(imagelocality.new({}), _with_images(("nginx",)), nodes) is None


def test_the_cache_keeps_the_image_counts_as_nodes_change() -> None:
    cache = SchedulerCache()
    n1 = pt.with_images(pt.zone_node("n1"), (["nginx:latest"], 500 * MB))
    n2 = pt.with_images(pt.zone_node("n2"), (["nginx:latest"], 500 * MB))
    cache.add_node(n1)
    cache.add_node(n2)
    assert pt.score_all(imagelocality.new({}), _with_images(("nginx",)), cache.node_infos()) == {
        "n1": 48,
        "n2": 48,
    }
    bare = pt.zone_node("n2")
    cache.update_node(bare)
    assert pt.score_all(imagelocality.new({}), _with_images(("nginx",)), cache.node_infos()) == {
        "n1": 23,
        "n2": 0,
    }
    cache.remove_node(n1)
    assert pt.score_all(imagelocality.new({}), _with_images(("nginx",)), cache.node_infos()) is None
