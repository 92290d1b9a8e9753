"""What Kubernetes defines about matching a request to an Ingress rule (the Ingress concepts page):
a host is matched exactly, or by a wildcard `*.` standing for one DNS label; a Prefix path matches
element by element (`/foo` matches `/foo`, `/foo/` and `/foo/bar`, not `/foobar`), an Exact path
the whole path, case-sensitively; the longest path wins, and Exact before Prefix at equal length.
ImplementationSpecific is matched as Prefix here."""

from __future__ import annotations

EXACT = "Exact"
PREFIX = "Prefix"
IMPLEMENTATION_SPECIFIC = "ImplementationSpecific"


def normal_path(path: str, path_type: str) -> str:
    """The path as matched: a prefix without its trailing slashes (`/` becomes ``, every path's
    prefix); an exact path as given."""
    if path_type == EXACT:
        return path or "/"
    return path.rstrip("/")


def path_matches(pattern: str, path_type: str, request_path: str) -> bool:
    """Whether `request_path` matches the rule's path (as normal_path gives it)."""
    if path_type == EXACT:
        return request_path == pattern
    return request_path == pattern or request_path.startswith(pattern + "/") or not pattern


def host_matches(rule_host: str, request_host: str) -> bool:
    """An empty rule host matches every host; `*.foo.com` matches `bar.foo.com`, not
    `baz.bar.foo.com` nor `foo.com`."""
    host = request_host.lower()
    if not rule_host:
        return True
    if rule_host.startswith("*."):
        label, dot, rest = host.partition(".")
        return bool(label) and bool(dot) and rest == rule_host[2:]
    return host == rule_host


def precedence(pattern: str, path_type: str) -> tuple[int, int]:
    """Sort key of a host's paths: longest first, Exact before Prefix at equal length."""
    return (-len(pattern), 0 if path_type == EXACT else 1)
