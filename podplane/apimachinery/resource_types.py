"""The types of the kinds table (podplane/apimachinery/resources.py): a stored kind's Resource and a
create-only kind's CreateOnlyResource, and what a generated servicer adder registers with."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol

import grpc
from google.protobuf.message import Message

from podplane.api.apiextensions.v1 import custom_objects_pb2

if TYPE_CHECKING:
    from typing_extensions import TypeVar

    # A Resource whose kind is not known statically (by_name(), a loop over ALL) gives untyped
    # messages: a protobuf Message has no metadata, spec or items to type-check against.
    M = TypeVar("M", bound=Message, default=Any)
    L = TypeVar("L", bound=Message, default=Any)
    E = TypeVar("E", bound=Message, default=Any)
else:  # type parameter defaults are a type checker's matter; Python 3.11's TypeVar has none
    from typing import TypeVar

    M = TypeVar("M", bound=Message)
    L = TypeVar("L", bound=Message)
    E = TypeVar("E", bound=Message)


class MethodRegistry(Protocol):
    """What the generated add_*Servicer_to_server functions add a servicer's methods to: a grpc
    server, or podplane.componentbase.serving.MethodTable."""

    def add_generic_rpc_handlers(self, handlers: Iterable[grpc.GenericRpcHandler]) -> None: ...

    def add_registered_method_handlers(
        self, service: str, handlers: dict[str, grpc.RpcMethodHandler]
    ) -> None: ...


@dataclass(frozen=True)
class Resource(Generic[M, L, E]):
    """One kind: its names, its messages (the object M, its list L, its watch event E) and its
    gRPC service."""

    kind: str
    plural: str
    api_version: str
    namespaced: bool
    message: type[M]
    list_message: type[L]
    watch_event: type[E]
    # Full gRPC service name, e.g. "podplane.core.v1.Pods".
    service: str
    # The generated client stub class (grpc's generated code has no type stubs).
    stub: Callable[[grpc.aio.Channel], Any]
    # The generated add_*Servicer_to_server(servicer, registry).
    add_servicer: Callable[[object, MethodRegistry], None]
    has_status: bool
    short_names: tuple[str, ...] = ()
    # The groups of resources it belongs to (`kubectl get all` lists the category "all").
    categories: tuple[str, ...] = ()
    # A custom resource's names, as its CustomResourceDefinition gives them; a built-in kind's
    # are its kind's (pods: pod, PodList).
    singular_name: str = ""
    list_kind_name: str = ""

    @property
    def singular(self) -> str:
        return self.singular_name or self.kind.lower()

    @property
    def list_kind(self) -> str:
        return self.list_kind_name or f"{self.kind}List"

    @property
    def group(self) -> str:
        """ "" for the core group (apiVersion v1), else the group (apps for apps/v1)."""
        return self.api_version.rpartition("/")[0]

    @property
    def version(self) -> str:
        return self.api_version.rpartition("/")[2]

    @property
    def custom(self) -> bool:
        """Whether the kind is a CustomResourceDefinition's, served as CustomObject messages."""
        return self.message is custom_objects_pb2.CustomObject

    def new(self) -> M:
        return self.message()


@dataclass(frozen=True)
class CreateOnlyResource(Generic[M]):
    """A kind that is only created and never stored (Kubernetes' access and token reviews): a
    create is a question, answered with the object sent and its status filled in. Served at both
    doors with the create verb alone; it has no list, watch or storage."""

    kind: str
    plural: str
    api_version: str
    namespaced: bool
    message: type[M]
    # Full gRPC service name, e.g. "podplane.authorization.v1.SelfSubjectAccessReviews".
    service: str
    stub: Callable[[grpc.aio.Channel], Any]
    add_servicer: Callable[[object, MethodRegistry], None]

    @property
    def singular(self) -> str:
        return self.kind.lower()

    def new(self) -> M:
        return self.message()


@dataclass(frozen=True)
class ComputedResource(Generic[M]):
    """A kind computed on each read and never stored (Kubernetes' ComponentStatus): served at
    both doors with get and list alone; it has no watch, no writes and no storage."""

    kind: str
    plural: str
    api_version: str
    namespaced: bool
    message: type[M]
    list_message: type[Message]
    # Full gRPC service name, e.g. "podplane.core.v1.ComponentStatuses".
    service: str
    stub: Callable[[grpc.aio.Channel], Any]
    add_servicer: Callable[[object, MethodRegistry], None]
    short_names: tuple[str, ...] = ()

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    @property
    def version(self) -> str:
        return self.api_version.rpartition("/")[2]

    def new(self) -> M:
        return self.message()
