"""ServiceAccount validation (kubernetes pkg/apis/core/validation: ValidateServiceAccount and
ValidateServiceAccountUpdate): the object's metadata, its name a DNS subdomain. The secrets and
image pull secrets it names are not checked, as Kubernetes does not."""

from __future__ import annotations

from apiserver.validation.fields import FieldError
from apiserver.validation.meta import object_meta
from podplane.api.core.v1 import core_pb2


def service_account(obj: core_pb2.ServiceAccount) -> list[FieldError]:
    return object_meta(obj.metadata, namespaced=True)


def service_account_update(
    new: core_pb2.ServiceAccount, old: core_pb2.ServiceAccount
) -> list[FieldError]:
    return service_account(new)
