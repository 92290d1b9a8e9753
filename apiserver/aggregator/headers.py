"""The headers the front proxy tells an aggregated API server who is asking with (client-go's
transport.SetAuthProxyHeaders, Kubernetes 1.31): X-Remote-User, one X-Remote-Group per group,
one X-Remote-Extra-<key> per extra value with the key escaped as headerKeyEscape escapes it;
whatever the client sent under those names is dropped first, and so is its Authorization (the
apiserver's authentication filter removes it once the request is authenticated)."""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping

USER = "X-Remote-User"
GROUP = "X-Remote-Group"
EXTRA_PREFIX = "X-Remote-Extra-"

# net/http's token characters (isTokenTable), but %, which is escaped so that the key unescapes.
_LEGAL = frozenset(string.ascii_letters + string.digits + "!#$&'*+-.^_`|~")

# Hop-by-hop headers a proxy does not forward (net/http/httputil's ReverseProxy).
HOP_BY_HOP = frozenset(
    {
        "connection",
        "proxy-connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)


def header_key_escape(key: str) -> str:
    """headerKeyEscape: each byte that is not a header token character, and %, as %XX."""
    return "".join(chr(b) if chr(b) in _LEGAL else f"%{b:02X}" for b in key.encode("utf-8"))


def auth_proxy_headers(
    incoming: Iterable[tuple[str, str]],
    user: str,
    groups: Iterable[str],
    extra: Mapping[str, Iterable[str]],
) -> list[tuple[str, str]]:
    """The headers of the proxied request: the incoming ones but hop-by-hop ones, Host,
    Authorization, Impersonate-* and any X-Remote-* the client sent, then the user's."""
    out: list[tuple[str, str]] = []
    for name, value in incoming:
        lower = name.lower()
        if (
            lower in HOP_BY_HOP
            or lower in ("host", "authorization", USER.lower(), GROUP.lower(), "x-remote-uid")
            or lower.startswith(EXTRA_PREFIX.lower())
            or lower.startswith("impersonate-")
        ):
            continue
        out.append((name, value))
    out.append((USER, user))
    out.extend((GROUP, group) for group in groups)
    for key, values in extra.items():
        out.extend((EXTRA_PREFIX + header_key_escape(key), value) for value in values)
    return out
