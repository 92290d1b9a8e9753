"""Which nodes have which images (from node.status.images), kept as nodes come and go, so that
image locality scoring reads "how many nodes have this image" without looking at every node
(kubernetes backend/cache imageStates and framework.ImageStateSummary)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from podplane.api.core.v1 import core_pb2


class ImageStates:
    def __init__(self) -> None:
        # Node name -> image name (as the node reports it) -> size in bytes.
        self._by_node: dict[str, dict[str, int]] = {}
        # Image name -> how many nodes report it.
        self._num_nodes: dict[str, int] = {}

    @classmethod
    def of(cls, nodes: Iterable[core_pb2.Node]) -> ImageStates:
        states = cls()
        for node in nodes:
            states.set_node(node)
        return states

    def set_node(self, node: core_pb2.Node) -> None:
        name = node.metadata.name
        if name in self._by_node or node.status.images:
            self.remove_node(name)
            images = {n: int(image.size_bytes) for image in node.status.images for n in image.names}
            if images:
                self._by_node[name] = images
                for image in images:
                    self._num_nodes[image] = self._num_nodes.get(image, 0) + 1

    def remove_node(self, name: str) -> None:
        for image in self._by_node.pop(name, {}):
            left = self._num_nodes[image] - 1
            if left:
                self._num_nodes[image] = left
            else:
                del self._num_nodes[image]

    def num_nodes(self, image: str) -> int:
        return self._num_nodes.get(image, 0)

    def num_images(self) -> int:
        """The distinct image names the nodes report."""
        return len(self._num_nodes)

    def images_on(self, node_name: str) -> Mapping[str, int]:
        return self._by_node.get(node_name, {})
