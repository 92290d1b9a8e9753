"""The runtime handler of a pod (pkg/kubelet/runtimeclass): its RuntimeClass's `handler`, read
from the apiserver when the pod names one (runtimeClassName), "" (the runtime's default)
otherwise. A RuntimeClass that does not exist fails the pod's sandbox, as in Kubernetes:
`runtimeclass.node.k8s.io "x" not found`. The runtime's handlers and their features (recursive
read-only mounts, user namespaces) are asked once and kept."""

from __future__ import annotations

from typing import Protocol

from kubelet.runtime.types import ContainerRuntime, ContainerRuntimeError, RuntimeHandler
from podplane.api.core.v1 import core_pb2
from podplane.api.node.v1 import node_pb2
from podplane.client.clientset import Client, is_not_found


class RuntimeClassGetter(Protocol):
    async def runtime_class(self, name: str) -> node_pb2.RuntimeClass | None:
        """The RuntimeClass, None if there is none of that name."""
        ...


class ClientRuntimeClassGetter:
    def __init__(self, client: Client) -> None:
        self.client = client

    async def runtime_class(self, name: str) -> node_pb2.RuntimeClass | None:
        try:
            return await self.client.runtimeclasses.get(name)
        except Exception as e:
            if is_not_found(e):
                return None
            raise ContainerRuntimeError(f"failed to lookup RuntimeClass {name}: {e}") from e


class RuntimeClassManager:
    def __init__(
        self, runtime: ContainerRuntime, classes: RuntimeClassGetter | None = None
    ) -> None:
        self.runtime = runtime
        self.classes = classes
        self._handlers: dict[str, RuntimeHandler] | None = None

    async def handler(self, pod: core_pb2.Pod) -> str:
        """LookupRuntimeHandler; ContainerRuntimeError when the class cannot be found."""
        name = pod.spec.runtime_class_name
        if not name:
            return ""
        found = await self.classes.runtime_class(name) if self.classes is not None else None
        if found is None:
            raise ContainerRuntimeError(f'runtimeclass.node.k8s.io "{name}" not found')
        return found.handler

    async def features(self, handler: str) -> RuntimeHandler:
        """What the handler can do; a handler the runtime does not have can do nothing."""
        if self._handlers is None:
            self._handlers = {h.name: h for h in await self.runtime.runtime_handlers()}
        return self._handlers.get(handler, RuntimeHandler(handler))
