"""The kinds that are only created, never stored (Kubernetes' pkg/registry/authorization and
pkg/registry/authentication): each create is a question to the authorizer or the authenticator,
answered with the object sent and its status filled in. Both front doors call these as they call
a stored kind's ResourceAPI.create."""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from google.protobuf.message import Message

from apiserver.auth.authenticator import Authenticator
from apiserver.auth.authorizer import Authorizer
from apiserver.registry.reviews import access, identity, rules
from podplane.apimachinery.resources import CreateOnlyResource

M = TypeVar("M", bound=Message)


class CreateOnlyAPI(Protocol[M]):
    """A create-only kind's one verb."""

    @property
    def resource(self) -> CreateOnlyResource[M]: ...

    async def create(self, obj: M) -> M:
        """The object with its status filled in. A namespaced kind's object carries the
        request's namespace (the REST door puts the URL's there)."""
        ...


def create_only_apis(
    authorizer: Authorizer, authenticator: Authenticator | None
) -> dict[str, CreateOnlyAPI[Any]]:
    """Every create-only kind's API, by plural: the access reviews ask `authorizer`, the token
    review `authenticator` (None: no authentication configured)."""
    apis: list[CreateOnlyAPI[Any]] = [
        access.SelfSubjectAccessReviews(authorizer),
        rules.SelfSubjectRulesReviews(authorizer),
        access.SubjectAccessReviews(authorizer),
        access.LocalSubjectAccessReviews(authorizer),
        identity.SelfSubjectReviews(),
        identity.TokenReviews(authenticator),
    ]
    return {api.resource.plural: api for api in apis}
