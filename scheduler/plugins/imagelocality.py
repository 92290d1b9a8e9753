"""Prefers nodes that already have the pod's images, by their size and by how many nodes share them,
so that a pod does not pull a large image and pods of one image do not all pile onto the one node
that has it (kubernetes plugins/imagelocality)."""

from __future__ import annotations

from collections.abc import Sequence

from podplane.api.core.v1 import core_pb2
from scheduler.framework.image_states import ImageStates
from scheduler.framework.interfaces import PluginArgs
from scheduler.framework.snapshot import image_states
from scheduler.framework.status import SUCCESS, Status
from scheduler.framework.types import MAX_NODE_SCORE, CycleState, NodeInfo

NAME = "ImageLocality"
MB = 1024 * 1024
# Below this an image is quick to pull anyway; above the maximum it counts no more.
MIN_THRESHOLD = 23 * MB
MAX_CONTAINER_THRESHOLD = 1000 * MB
_PRE_SCORE_KEY = "PreScore" + NAME


class _PodImages:
    def __init__(
        self, images: list[str], num_containers: int, total_num_nodes: int, states: ImageStates
    ) -> None:
        self.images = images
        self.num_containers = num_containers
        self.total_num_nodes = total_num_nodes
        self.states = states


def normalized_image_name(name: str) -> str:
    """The name a node reports for the image: with ":latest" when it has no tag."""
    if name.rfind(":") <= name.rfind("/"):
        name += ":latest"
    return name


def calculate_priority(sum_scores: int, num_containers: int) -> int:
    """Maps the summed image scores from [23 MB, 1000 MB per container] onto 0..100."""
    max_threshold = MAX_CONTAINER_THRESHOLD * num_containers
    sum_scores = min(max(sum_scores, MIN_THRESHOLD), max_threshold)
    return MAX_NODE_SCORE * (sum_scores - MIN_THRESHOLD) // (max_threshold - MIN_THRESHOLD)


def scaled_image_score(size: int, num_nodes: int, total_num_nodes: int) -> int:
    """An image on few nodes counts less than one on many, so that pods spread."""
    return int(size * (num_nodes / total_num_nodes))


class ImageLocality:
    name = NAME

    def pre_score(self, state: CycleState, pod: core_pb2.Pod, nodes: Sequence[NodeInfo]) -> Status:
        all_nodes = state.all_nodes or nodes
        states = image_states(all_nodes)
        if not states.num_images():
            return Status.skip()  # no node reports images (hollow ones): every node scores 0
        containers = [*pod.spec.init_containers, *pod.spec.containers]
        images = [normalized_image_name(c.image) for c in containers]
        if not any(states.num_nodes(image) for image in images):
            return Status.skip()  # every node scores 0
        state.write(_PRE_SCORE_KEY, _PodImages(images, len(containers), len(all_nodes), states))
        return SUCCESS

    def score(self, state: CycleState, pod: core_pb2.Pod, node: NodeInfo) -> tuple[int, Status]:
        s = state.read(_PRE_SCORE_KEY, _PodImages)
        if s is None:
            return 0, Status.error(f"{NAME}: PreScore state is missing")
        on_node = s.states.images_on(node.name)
        total = sum(
            scaled_image_score(on_node[image], s.states.num_nodes(image), s.total_num_nodes)
            for image in s.images
            if image in on_node
        )
        return calculate_priority(total, s.num_containers), SUCCESS


def new(args: PluginArgs) -> ImageLocality:
    return ImageLocality()
