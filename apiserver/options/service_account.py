"""kube-apiserver's service account token flags: --service-account-issuer (repeatable: the first
issues, every one is accepted), --service-account-signing-key-file (the RSA key that signs),
--service-account-key-file (repeatable: the public keys that verify; default, the signing key's),
--api-audiences (the audiences the API accepts; default, the issuers) and
--service-account-jwks-uri (the jwks_uri of the issuer discovery document)."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from cryptography.hazmat.primitives.asymmetric import rsa

from apiserver.auth.serviceaccount import keys, openid
from apiserver.auth.serviceaccount.authenticator import Lookups, ServiceAccountTokenAuthenticator
from apiserver.auth.serviceaccount.issuer import TokenIssuer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceAccountOptions:
    issuers: tuple[str, ...]
    signing_key_file: str
    key_files: tuple[str, ...] = ()
    api_audiences: tuple[str, ...] = ()
    jwks_uri: str = ""

    @cached_property
    def signing_key(self) -> rsa.RSAPrivateKey:
        return keys.load_signing_key(self.signing_key_file)

    @cached_property
    def public_keys(self) -> list[rsa.RSAPublicKey]:
        if not self.key_files:
            return [self.signing_key.public_key()]
        return [k for path in self.key_files for k in keys.load_public_keys(path)]

    @property
    def audiences(self) -> tuple[str, ...]:
        return self.api_audiences or self.issuers

    def token_issuer(self, clock: Callable[[], float] | None = None) -> TokenIssuer:
        if clock is None:
            return TokenIssuer(self.issuers[0], self.signing_key, self.audiences)
        return TokenIssuer(self.issuers[0], self.signing_key, self.audiences, clock)

    def openid_metadata(self, external_address: str) -> openid.OpenIDMetadata | None:
        """The issuer discovery documents, or None (logged why) when they cannot be served, as
        kube-apiserver skips installing them."""
        try:
            return openid.metadata(
                self.issuers[0], self.jwks_uri, external_address, self.public_keys
            )
        except openid.MetadataError as e:
            log.error("not serving the service account issuer discovery: %s", e)
            return None

    def authenticator(self, lookups: Lookups) -> ServiceAccountTokenAuthenticator:
        return ServiceAccountTokenAuthenticator(
            self.issuers, self.public_keys, self.audiences, lookups
        )


def add_service_account_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("service account tokens")
    g.add_argument(
        "--service-account-issuer",
        action="append",
        default=[],
        help="the iss of the tokens this server issues (repeat to also accept older issuers: "
        "the first issues)",
    )
    g.add_argument(
        "--service-account-signing-key-file",
        help="the RSA private key (PEM) that signs service account tokens",
    )
    g.add_argument(
        "--service-account-key-file",
        action="append",
        default=[],
        help="PEM file of public keys (or private keys, certificates) that verify service "
        "account tokens; repeatable (default: the signing key's)",
    )
    g.add_argument(
        "--service-account-jwks-uri",
        default="",
        help="the jwks_uri of the issuer discovery document, an https URL (default: "
        "https://<external address>/openid/v1/jwks)",
    )
    g.add_argument(
        "--api-audiences",
        default="",
        help="comma-separated audiences of the API: a token must name one (default: the issuers)",
    )


def service_account_from_args(
    p: argparse.ArgumentParser, args: argparse.Namespace
) -> ServiceAccountOptions | None:
    """The options, or None when neither the issuer nor the signing key is given (no token
    subresource, no service account authenticator). A key that cannot be read stops the start."""
    issuers = tuple(i for i in args.service_account_issuer if i)
    if not issuers and not args.service_account_signing_key_file:
        if args.service_account_key_file:
            p.error("--service-account-key-file: requires --service-account-issuer")
        return None
    if not issuers or not args.service_account_signing_key_file:
        p.error(
            "--service-account-signing-key-file and --service-account-issuer are required flags"
        )
    options = ServiceAccountOptions(
        issuers,
        args.service_account_signing_key_file,
        tuple(args.service_account_key_file),
        tuple(a.strip() for a in args.api_audiences.split(",") if a.strip()),
        args.service_account_jwks_uri,
    )
    try:
        options.signing_key  # noqa: B018 - read now, so a bad key stops the start
        options.public_keys  # noqa: B018
    except keys.KeyFileError as e:
        p.error(str(e))
    return options
