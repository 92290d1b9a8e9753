"""Who is calling (k8s.io/apiserver/pkg/authentication): Kubernetes' union of the x509,
token-file, service account token and bootstrap token authenticators, in kube-apiserver's order,
over plain values every front door has: the subject of the connection's verified client
certificate and the bearer token of the request's `authorization` header.

A request that carries no credentials is system:anonymous in system:unauthenticated when
anonymous requests are allowed (kube-apiserver's --anonymous-auth, true by default), and then
authorized like any other: RBAC lets it read what system:public-info-viewer names (/healthz,
/livez, /readyz, /version) and refuses the rest 403 Forbidden. Credentials that are present but
name no one (a token nobody issued, or expired) are a 401, never anonymous: kube-apiserver puts
the anonymous authenticator after the others with union.NewFailOnError
(pkg/kubeapiserver/authenticator/config.go), and its bearer token authenticator fails a token
no token authenticator knows (request/bearertoken)."""

from __future__ import annotations

import dataclasses
from typing import Protocol

from apiserver.auth.token_file import TokenAuthenticator
from apiserver.auth.user import ANONYMOUS, AUTHENTICATED_GROUP, UserInfo
from apiserver.auth.x509 import user_from_subject


def bearer_from_header(value: str) -> str | None:
    """The token of an `authorization: Bearer <token>` header's value, else None."""
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


class BearerTokenAuthenticator(Protocol):
    """A token's user, or None (auth/serviceaccount's ServiceAccountTokenAuthenticator,
    auth/bootstrap_token's BootstrapTokenAuthenticator)."""

    async def authenticate(self, token: str) -> UserInfo | None: ...


class Authenticator:
    """The first authenticator that knows the caller wins (a verified certificate, a static
    token, a service account token, a bootstrap token); system:authenticated is added to every
    user's groups. `anonymous`: a request without credentials is system:anonymous
    (--anonymous-auth), else it is refused as unauthenticated."""

    def __init__(
        self,
        tokens: TokenAuthenticator | None = None,
        service_accounts: BearerTokenAuthenticator | None = None,
        bootstrap_tokens: BearerTokenAuthenticator | None = None,
        *,
        anonymous: bool = True,
    ) -> None:
        self._tokens = tokens
        self._bearer = [a for a in (service_accounts, bootstrap_tokens) if a is not None]
        self.anonymous = anonymous

    async def authenticate(
        self, client_subject: str | None, bearer_token: str | None
    ) -> UserInfo | None:
        """The caller, from the RFC 2253 subject of its verified client certificate (None: no
        certificate) or its bearer token (None: no token); None if neither names a user."""
        user = user_from_subject(client_subject) if client_subject is not None else None
        if user is None and self._tokens is not None and bearer_token is not None:
            user = self._tokens.authenticate(bearer_token)
        for bearer in self._bearer:
            if user is not None or bearer_token is None:
                break
            user = await bearer.authenticate(bearer_token)
        if user is None:
            return None
        return dataclasses.replace(user, groups=user.groups | {AUTHENTICATED_GROUP})

    async def authenticate_request(
        self, client_subject: str | None, bearer_token: str | None
    ) -> UserInfo | None:
        """The user a request runs as: its credentials' (authenticate), else system:anonymous
        when it carries no bearer token and anonymous requests are allowed; None when it is to
        be refused 401 Unauthorized (a token no one issued, or no credentials at all with
        --anonymous-auth=false). A verified certificate that names no user (no CN) is no
        credential, as Kubernetes' x509 authenticator finds no user in it without an error."""
        user = await self.authenticate(client_subject, bearer_token)
        if user is None and bearer_token is None and self.anonymous:
            return ANONYMOUS
        return user
