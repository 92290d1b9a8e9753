"""haproxy.cfg from the routes: one frontend listening for HTTP and HTTPS (its certificates from a
crt-list, SNI choosing one, the fake certificate for other names), the request's host matched to
a rule's host (exact, then the wildcard's one label, then the rules without a host), then its
path to the host's routes in order; a backend per Service port with its ready endpoints (none:
HAProxy answers 503), and the 404 backend for what nothing matches (ingress-nginx's default
backend)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingress import matching
from ingress.routes import Host, Route, Routing

NOT_FOUND_BACKEND = "default-backend-404"
NOT_FOUND_BODY = "default backend - 404"


@dataclass(frozen=True)
class Listen:
    address: str
    http_port: int
    https_port: int
    healthz_port: int  # 0: none
    state_dir: str  # the stats socket, the certificates and the crt-list live here


def _quote(value: str) -> str:
    """A double-quoted HAProxy word: backslash, quote and `$` (environment variables) escaped."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return '"' + escaped + '"'


def _host_acl(host: str) -> str:
    if host.startswith("*."):
        return "{ var(txn.host) -m reg " + _quote("^[^.]+\\." + re.escape(host[2:]) + "$") + " }"
    return "{ var(txn.host) -m str " + _quote(host) + " }"


def _path_conditions(route: Route) -> list[str]:
    """The ACLs of a route's path, one alternative each (HAProxy ORs them with ||)."""
    if route.path_type == matching.EXACT:
        return ["{ path -m str " + _quote(route.path) + " }"]
    if not route.path:
        return [""]
    return [
        "{ path -m str " + _quote(route.path) + " }",
        "{ path -m beg " + _quote(route.path + "/") + " }",
    ]


def _host_condition(index: int, host: Host) -> str:
    """The condition of a request having matched the host: its rule's number in txn.rule, or,
    for the rules without a host, no host having matched."""
    return f"{{ var(txn.rule) -m str h{index} }}" if host.host else "!{ var(txn.rule) -m found }"


def _host_rules(index: int, host: Host) -> list[str]:
    """The first host to match names its rule in txn.rule; a TLS host's HTTP requests are
    redirected to HTTPS."""
    lines: list[str] = []
    if host.host:
        lines.append(
            f"    http-request set-var(txn.rule) str(h{index}) "
            f"if !{{ var(txn.rule) -m found }} {_host_acl(host.host)}"
        )
    if host.redirect_to_https:
        condition = _host_condition(index, host)
        lines.append(
            f"    http-request redirect scheme https code 308 if !{{ ssl_fc }} {condition}"
        )
    return lines


def render(routing: Routing, listen: Listen, default_certificate: str, crt_list: str) -> str:
    out = [
        "# Written by the ingress controller (ingress-haproxy); every change is a reload.",
        "global",
        # expose-fd listeners: a reload's new workers take the listening sockets over.
        f"    stats socket {listen.state_dir}/haproxy.sock mode 600 level admin "
        "expose-fd listeners",
        "    hard-stop-after 60s",
        "",
        "defaults",
        "    mode http",
        "    option forwardfor",
        "    timeout connect 5s",
        "    timeout client 60s",
        "    timeout server 60s",
        "    timeout http-request 10s",
        "    timeout http-keep-alive 60s",
        "",
        "frontend ingress",
        f"    bind {listen.address}:{listen.http_port}",
        f"    bind {listen.address}:{listen.https_port} ssl crt {default_certificate} "
        f"crt-list {crt_list}",
        "    http-request set-var(txn.host) req.hdr(host),field(1,:),lower",
        "    http-request set-header X-Forwarded-Proto https if { ssl_fc }",
        "    http-request set-header X-Forwarded-Proto http if !{ ssl_fc }",
    ]
    uses: list[str] = []
    for index, host in enumerate(routing.hosts):
        out.extend(_host_rules(index, host))
        condition = _host_condition(index, host)
        for route in host.routes:
            alternatives = [f"{condition} {c}".rstrip() for c in _path_conditions(route)]
            uses.append(f"    use_backend {route.backend} if " + " || ".join(alternatives))
        if host.default is not None:
            uses.append(f"    use_backend {host.default} if {condition}")
    out.extend(uses)
    out.append(f"    default_backend {routing.default or NOT_FOUND_BACKEND}")
    if listen.healthz_port:
        out += ["", "frontend healthz", f"    bind {listen.address}:{listen.healthz_port}"]
        out.append("    monitor-uri /healthz")
    out += [
        "",
        f"backend {NOT_FOUND_BACKEND}",
        "    http-request return status 404 content-type text/plain string "
        + _quote(NOT_FOUND_BODY),
    ]
    for name in sorted(routing.backends):
        out += ["", f"backend {name}", "    balance roundrobin"]
        for address, port in routing.backends[name].servers:
            where = f"ipv6@[{address}]:{port}" if ":" in address else f"{address}:{port}"
            out.append(f"    server {address}_{port} {where}")
    return "\n".join(out) + "\n"


def crt_list(routing: Routing, certificates_dir: str) -> str:
    """One line per certificate: its file, then the SNI names it is chosen for."""
    lines = [" ".join([f"{certificates_dir}/{c.name}.pem", *c.hosts]) for c in routing.certificates]
    return "".join(line + "\n" for line in lines)
