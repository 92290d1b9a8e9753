"""What admission is told of a request (k8s.io/apiserver/pkg/admission Attributes, made by
admission.NewAttributesRecord in the handlers): the operation, the resource and subresource, the
object's name and namespace, the object as it will be stored and the stored one, whether it is a
dry run, the verb's options as the request gave them, and who asks. Objects are the API's
messages; a mutating plugin changes `object` in place, a validating one only reads it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from google.protobuf.message import Message

from apiserver.auth.user import UserInfo, current_user
from apiserver.objects import object_meta
from podplane.apimachinery.resources import Resource

Operation = Literal["CREATE", "UPDATE", "DELETE", "CONNECT"]
CREATE: Operation = "CREATE"
UPDATE: Operation = "UPDATE"
DELETE: Operation = "DELETE"
CONNECT: Operation = "CONNECT"


@dataclass(frozen=True)
class OperationOptions:
    """The verb's options as the request gave them (metav1.CreateOptions, UpdateOptions or
    DeleteOptions, by `kind`): who writes (fieldManager), dry run, and a delete's propagation
    policy and grace period (None: the object's own)."""

    kind: Literal["CreateOptions", "UpdateOptions", "DeleteOptions"]
    field_manager: str = ""
    dry_run: bool = False
    propagation_policy: str = ""
    grace_period_seconds: int | None = None


@dataclass(frozen=True)
class Attributes:
    operation: Operation
    # Of any kind: the resource of a built-in kind or of a custom resource.
    resource: Resource
    subresource: str
    name: str
    namespace: str
    # As it will be stored (None on DELETE), and as it is stored (None on CREATE).
    object: Message | None
    old_object: Message | None
    dry_run: bool
    options: OperationOptions
    # None: a write of the apiserver's own, or a server without authentication.
    user_info: UserInfo | None
    # What admission notes of the request for the audit log (Attributes.AddAnnotation: a
    # webhook's auditAnnotations, a webhook that failed open). podplane has no audit log: they
    # stay on the request's record, for the plugins after and for tests.
    audit_annotations: dict[str, str] = field(default_factory=dict, compare=False)

    def add_annotation(self, key: str, value: str) -> None:
        """Kubernetes keeps the first value of a key."""
        self.audit_annotations.setdefault(key, value)


def refused_name(obj: Message) -> str:
    """The name a refusal gives the object (admission.NewForbidden's): before a create's name is
    generated, its generateName."""
    meta = object_meta(obj)
    return str(meta.name or meta.generate_name)


def _namespace(resource: Resource, obj: Message) -> str:
    return str(object_meta(obj).namespace) if resource.namespaced else ""


def for_create(
    resource: Resource,
    obj: Message,
    *,
    dry_run: bool,
    field_manager: str = "",
    subresource: str = "",
) -> Attributes:
    """A create's attributes: named as the request names the object ("" for generateName)."""
    return Attributes(
        operation=CREATE,
        resource=resource,
        subresource=subresource,
        name=object_meta(obj).name,
        namespace=_namespace(resource, obj),
        object=obj,
        old_object=None,
        dry_run=dry_run,
        options=OperationOptions("CreateOptions", field_manager=field_manager, dry_run=dry_run),
        user_info=current_user(),
    )


def for_update(
    resource: Resource,
    new: Message,
    old: Message,
    *,
    subresource: str,
    dry_run: bool,
    field_manager: str = "",
) -> Attributes:
    """An update's attributes, of the object or of a subresource (status, approval,
    ephemeralcontainers)."""
    return Attributes(
        operation=UPDATE,
        resource=resource,
        subresource=subresource,
        name=object_meta(old).name,
        namespace=_namespace(resource, old),
        object=new,
        old_object=old,
        dry_run=dry_run,
        options=OperationOptions("UpdateOptions", field_manager=field_manager, dry_run=dry_run),
        user_info=current_user(),
    )


def for_delete(
    resource: Resource,
    old: Message,
    *,
    dry_run: bool,
    propagation_policy: str = "",
    grace_period_seconds: int | None = None,
) -> Attributes:
    """A delete's attributes: the stored object is the old object, as Kubernetes' store gives
    it (deleteValidation's admission record)."""
    return Attributes(
        operation=DELETE,
        resource=resource,
        subresource="",
        name=object_meta(old).name,
        namespace=_namespace(resource, old),
        object=None,
        old_object=old,
        dry_run=dry_run,
        options=OperationOptions(
            "DeleteOptions",
            dry_run=dry_run,
            propagation_policy=propagation_policy,
            grace_period_seconds=grace_period_seconds,
        ),
        user_info=current_user(),
    )
