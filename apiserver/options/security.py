"""The apiserver's secure serving and authentication flags, named as kube-apiserver's."""

from __future__ import annotations

import argparse

from apiserver.auth.token_file import load_token_file
from apiserver.options.secure_serving import KubeletClientConfig, SecureServing, SecurityConfigError
from apiserver.options.service_account import add_service_account_flags, service_account_from_args
from podplane.componentbase import flags
from podplane.componentbase.flags import listen_address

DEFAULT_TOKEN_PORT = 6444


def add_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("secure serving and authentication")
    g.add_argument("--tls-cert-file", help="the apiserver's serving certificate (PEM)")
    g.add_argument("--tls-private-key-file", help="the key of --tls-cert-file")
    g.add_argument(
        "--client-ca-file", help="CA of client certificates: CN is the user, each O a group"
    )
    g.add_argument(
        "--token-auth-file",
        help='bearer tokens, a CSV file of token,user,uid,"group1,group2" lines',
    )
    flags.add_boolean(
        g,
        "--enable-bootstrap-token-auth",
        default=False,
        help="accept bootstrap tokens (<id>.<secret>) of kube-system's bootstrap-token-<id> "
        "Secrets of type bootstrap.kubernetes.io/token",
    )
    flags.add_boolean(
        g,
        "--anonymous-auth",
        default=True,
        help="a request without credentials (no client certificate, no bearer token) is "
        "system:anonymous in system:unauthenticated, authorized like any other: it reads what "
        "RBAC grants that group (system:public-info-viewer: /healthz, /livez, /readyz, "
        "/version) and is refused the rest 403 Forbidden (PERMISSION_DENIED) (default true); "
        "false: it is refused 401 Unauthorized (UNAUTHENTICATED), health paths included. A "
        "token no one issued is a 401 either way",
    )
    g.add_argument(
        "--token-port",
        type=int,
        default=DEFAULT_TOKEN_PORT,
        help="TLS port without client certificates, for bearer-token users "
        f"(default {DEFAULT_TOKEN_PORT}; 0: not served)",
    )
    g.add_argument("--etcd-cafile", help="CA of etcd's serving certificate (etcd over TLS)")
    g.add_argument("--etcd-certfile", help="the apiserver's client certificate for etcd")
    g.add_argument("--etcd-keyfile", help="the key of --etcd-certfile")
    g.add_argument(
        "--kubelet-certificate-authority",
        help="CA of the kubelets' serving certificates (logs, exec, attach)",
    )
    g.add_argument(
        "--kubelet-client-certificate", help="the apiserver's client certificate for kubelets"
    )
    g.add_argument("--kubelet-client-key", help="the key of --kubelet-client-certificate")
    g.add_argument(
        "--insecure-serving",
        action="store_true",
        help="serve plaintext and let every caller in unauthenticated: local "
        "experiments only; without it --tls-cert-file is required",
    )
    add_service_account_flags(p)


def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Sets args.security to what the flags describe (security_from_args)."""
    args.security = security_from_args(parser, args)


def security_from_args(
    p: argparse.ArgumentParser, args: argparse.Namespace
) -> SecureServing | None:
    """The SecureServing the flags describe, or None with --insecure-serving; a missing or
    unreadable file stops the start with the flag named."""
    tls = {
        "--tls-cert-file": args.tls_cert_file,
        "--tls-private-key-file": args.tls_private_key_file,
        "--client-ca-file": args.client_ca_file,
    }
    service_accounts = service_account_from_args(p, args)
    if args.insecure_serving:
        given = [f for f, v in tls.items() if v] + (
            ["--token-auth-file"] if args.token_auth_file else []
        )
        if service_accounts is not None:
            given.append("--service-account-issuer")
        if args.enable_bootstrap_token_auth:
            given.append("--enable-bootstrap-token-auth")
        if not args.anonymous_auth:
            given.append("--anonymous-auth=false")
        if given:
            p.error(f"--insecure-serving: cannot be combined with {', '.join(given)}")
        return None
    missing = [flag for flag, value in tls.items() if not value]
    if missing:
        p.error(
            f"{missing[0]}: required (or --insecure-serving to serve without TLS and "
            "authentication)"
        )
    if not 0 <= args.token_port < 65536:
        p.error(f"--token-port: {args.token_port} is not a valid port (0-65535)")
    kubelet = {
        "--kubelet-certificate-authority": args.kubelet_certificate_authority,
        "--kubelet-client-certificate": args.kubelet_client_certificate,
        "--kubelet-client-key": args.kubelet_client_key,
    }
    if any(kubelet.values()) and not all(kubelet.values()):
        absent = next(flag for flag, value in kubelet.items() if not value)
        p.error(f"{absent}: required with the other --kubelet-* TLS flags")
    if bool(args.etcd_certfile) != bool(args.etcd_keyfile) or (
        args.etcd_certfile and not args.etcd_cafile
    ):
        p.error(
            "--etcd-cafile, --etcd-certfile, --etcd-keyfile: give the CA, and the "
            "certificate and key together"
        )
    security = SecureServing(
        args.tls_cert_file,
        args.tls_private_key_file,
        args.client_ca_file,
        args.token_auth_file,
        listen_address(args.bind_address, args.token_port) if args.token_port else None,
        etcd_ca_file=args.etcd_cafile,
        etcd_cert_file=args.etcd_certfile,
        etcd_key_file=args.etcd_keyfile,
        kubelet_client=KubeletClientConfig(
            args.kubelet_certificate_authority,
            args.kubelet_client_certificate,
            args.kubelet_client_key,
        )
        if all(kubelet.values())
        else None,
        service_accounts=service_accounts,
        enable_bootstrap_token_auth=args.enable_bootstrap_token_auth,
        anonymous_auth=args.anonymous_auth,
    )
    try:
        security.server_credentials()
        security.etcd_credentials()
        if security.kubelet_client is not None:
            security.kubelet_client.credentials()
        if args.token_auth_file:
            load_token_file(args.token_auth_file)
    except (SecurityConfigError, ValueError) as e:
        p.error(str(e))
    return security
