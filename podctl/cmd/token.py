"""`podctl token create` and `podctl token list`: bootstrap tokens as `kubeadm token` makes and
lists them (kube-system Secrets of type bootstrap.kubernetes.io/token, podplane.bootstraptoken),
for a node to join with before it has a certificate."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta

from podctl.cmd.flags import Subparsers
from podctl.errors import CommandError
from podctl.options import GlobalOptions
from podctl.printers.tabwriter import TabWriter
from podplane.bootstraptoken import api
from podplane.bootstraptoken import secret as token_secret
from podplane.bootstraptoken import token as bootstrap_token
from podplane.client.clientset import is_already_exists
from podplane.componentbase.flags import duration

HEADER = "TOKEN\tTTL\tEXPIRES\tUSAGES\tDESCRIPTION\tEXTRA GROUPS\n"


def add_parser(subparsers: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("token", help="manage bootstrap tokens (kubeadm token)")
    verbs = p.add_subparsers(dest="token_verb", metavar="COMMAND", required=True)
    create = verbs.add_parser(
        "create", parents=parents, help="create a bootstrap token and print it"
    )
    create.add_argument("token", nargs="?", default="", help="the token (default: a random one)")
    create.add_argument(
        "--ttl",
        type=_ttl,
        default=bootstrap_token.DEFAULT_TTL,
        help="how long until the token expires, e.g. 24h, 90m (0: never; default 24h)",
    )
    create.add_argument(
        "--usages",
        type=_list,
        default=bootstrap_token.DEFAULT_USAGES,
        help="comma-separated ways the token may be used (default signing,authentication)",
    )
    create.add_argument(
        "--groups",
        type=_list,
        default=bootstrap_token.DEFAULT_GROUPS,
        help="comma-separated extra groups the token authenticates as "
        f"(default {api.KUBEADM_NODE_GROUP})",
    )
    create.add_argument("--description", default="", help="a human-friendly description")
    create.set_defaults(run=run_create)
    listing = verbs.add_parser("list", parents=parents, help="list the bootstrap tokens")
    listing.set_defaults(run=run_list)


def _ttl(value: str) -> timedelta:
    if value.strip() in ("0", "0s"):
        return timedelta(0)
    return timedelta(seconds=duration(value))


def _list(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


async def run_create(args: argparse.Namespace, options: GlobalOptions) -> int:
    try:
        token = bootstrap_token.new_token(
            args.token or bootstrap_token.generate(),
            now=datetime.now(UTC),
            ttl=args.ttl,
            description=args.description,
            usages=args.usages,
            groups=args.groups,
        )
    except bootstrap_token.InvalidToken as e:
        raise CommandError(f"error: {e}") from None
    async with options.connect() as client:
        try:
            await client.secrets.create(bootstrap_token.to_secret(token))
        except Exception as e:
            if is_already_exists(e):
                raise CommandError(
                    f'error: a token with id "{token.token_id}" already exists'
                ) from None
            raise
    print(token)
    return 0


async def run_list(args: argparse.Namespace, options: GlobalOptions) -> int:
    async with options.connect() as client:
        secrets, _ = await client.secrets.list_all(api.SECRET_NAMESPACE)
    now = datetime.now(UTC)
    out = TabWriter(sys.stdout, minwidth=10, padding=3)
    header = False
    for secret in sorted(secrets, key=lambda s: s.metadata.name):
        if secret.type != api.SECRET_TYPE:
            continue
        try:
            token = bootstrap_token.from_secret(secret)
        except bootstrap_token.InvalidToken as e:
            print(f"[token] parsing token {secret.metadata.name!r}: {e}", file=sys.stderr)
            continue
        if not header:
            out.write(HEADER)
            header = True
        out.write("\t".join(row(token, now)) + "\n")
    out.flush()
    return 0


def row(token: bootstrap_token.BootstrapToken, now: datetime) -> list[str]:
    """kubeadm's columns; an empty one shows <none>, a token without expiry <forever>/<never>."""
    ttl, expires = "<forever>", "<never>"
    if token.expires is not None:
        ttl = short_human_duration(token.expires - now)
        expires = token_secret.format_rfc3339(token.expires)
    return [
        str(token),
        ttl,
        expires,
        ",".join(token.usages) or "<none>",
        token.description or "<none>",
        ",".join(token.groups) or "<none>",
    ]


def short_human_duration(left: timedelta) -> str:
    """apimachinery's duration.ShortHumanDuration: 45s, 59m, 23h, 3d, 2y; <invalid> past."""
    seconds = int(left.total_seconds())
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    hours = seconds // 3600
    if hours < 24:
        return f"{hours}h"
    if hours < 24 * 365:
        return f"{hours // 24}d"
    return f"{hours // (24 * 365)}y"
