"""The rules, as one iptables-restore input for the mangle table, whose FORWARD chain sees every
packet a node routes after kube-proxy's DNAT (so a Service's traffic is judged by the pod and
port it is sent to) and before the filter table, where kube-proxy accepts what it forwards.

    mangle FORWARD -> PODPLANE-NETPOL
      replies (ESTABLISHED,RELATED): RETURN, judged with their connection's first packet
      -> PODPLANE-NETPOL-EGRESS   -s POD: its NETPOL-E- chain if isolated; back from it, RETURN
                                  -s NODE-POD-CIDR: DROP (a local pod not programmed yet)
      -> PODPLANE-NETPOL-INGRESS  the same with -d and NETPOL-I- chains
    NETPOL-E-<hash>, NETPOL-I-<hash>: a pod's: per allowed port, RETURN for its peers; then DROP
    NETPOL-P-<hash>: a set of peers (the pods a selector picks, blocks), shared: a match sets
      the mark bit ALLOWED_MARK, which the pod's chain tests after the jump
    NETPOL-X-<hash>: an ipBlock with excepts: RETURN for each except, then the block's mark

Traffic from the node itself (OUTPUT: the kubelet's probes) never passes FORWARD, so it is never
judged. Rules are RETURN and DROP only: a packet a policy allows goes on to the filter table as
if there were no policy."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from netpol.policy.allowed import Allow, Peer, PodRules

TABLE = "mangle"
HOOK_CHAIN = "FORWARD"
TOP = "PODPLANE-NETPOL"
EGRESS = "PODPLANE-NETPOL-EGRESS"
INGRESS = "PODPLANE-NETPOL-INGRESS"
PREFIXES = ("NETPOL-E-", "NETPOL-I-", "NETPOL-P-", "NETPOL-X-")
ALLOWED_MARK = "0x20000"
HOOK_RULE = ("-m", "comment", "--comment", "network policies", "-j", TOP)


@dataclass(frozen=True)
class Ruleset:
    """The chains the agent owns and the restore input that writes them."""

    chains: frozenset[str]
    text: str


def chain_name(prefix: str, key: str) -> str:
    """PREFIX + 16 characters of base32(sha256(key)), as kube-proxy names its chains."""
    digest = base64.b32encode(hashlib.sha256(key.encode()).digest()).decode()
    return prefix + digest[:16]


def _ports(allow: Allow) -> str:
    """The protocol and port match of `allow` (with a leading space), or ""."""
    if allow.protocol is None:
        return ""
    protocol = allow.protocol.lower()
    if allow.ports is None:
        return f" -p {protocol}"
    first, last = allow.ports
    return f" -p {protocol} -m {protocol} --dport {first if first == last else f'{first}:{last}'}"


def _comment(text: str) -> str:
    return f'-m comment --comment "{text}"'


def render(
    pods: Sequence[PodRules], pod_cidr: str, guard: bool, stale: frozenset[str] = frozenset()
) -> Ruleset:
    """The restore input for `pods` (this node's, with addresses); with `guard` (any policy
    exists), packets of other addresses in `pod_cidr` are dropped. `stale` chains, owned before
    and no longer needed, are deleted."""
    chains: dict[str, list[str]] = {TOP: [], EGRESS: [], INGRESS: []}
    top = chains[TOP]
    top.append(f"-A {TOP} -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN")
    top.append(f"-A {TOP} -j {EGRESS}")
    top.append(f"-A {TOP} -j {INGRESS}")
    for rules in sorted(pods, key=lambda r: r.pod.ip):
        pod = rules.pod
        for direction, allows, table, here, there, prefix in (
            ("egress", rules.egress, EGRESS, "-s", "-d", "NETPOL-E-"),
            ("ingress", rules.ingress, INGRESS, "-d", "-s", "NETPOL-I-"),
        ):
            if allows is None:
                chains[table].append(f"-A {table} {here} {pod.ip}/32 -j RETURN")
                continue
            chain = chain_name(prefix, f"{pod.key}/{pod.ip}")
            chains[table].append(
                f"-A {table} {here} {pod.ip}/32 {_comment(f'{pod.key} {direction}')} -j {chain}"
            )
            # Back from the pod's chain means allowed: past the guard below.
            chains[table].append(f"-A {table} {here} {pod.ip}/32 -j RETURN")
            chains[chain] = _pod_chain(chain, allows, there, chains, f"{pod.key} {direction}")
    if guard and pod_cidr:
        for table, here in ((EGRESS, "-s"), (INGRESS, "-d")):
            chains[table].append(
                f"-A {table} {here} {pod_cidr} {_comment('pod not programmed yet')} -j DROP"
            )
    lines = ["*mangle"]
    lines += [f":{name} - [0:0]" for name in [*chains, *sorted(stale - chains.keys())]]
    for rules_of_chain in chains.values():
        lines += rules_of_chain
    lines += [f"-X {name}" for name in sorted(stale - chains.keys())]
    lines.append("COMMIT")
    return Ruleset(frozenset(chains), "\n".join(lines) + "\n")


def _pod_chain(
    chain: str, allows: Sequence[Allow], there: str, chains: dict[str, list[str]], what: str
) -> list[str]:
    """A pod's chain: RETURN what an Allow matches; DROP the rest. An Allow of one address
    block is one rule; one of several peers jumps to a chain of them (shared by every pod and
    policy that names the same peers), which sets ALLOWED_MARK on a match."""
    out = []
    if any(not _inline(a) for a in allows):
        out.append(f"-A {chain} -j MARK --set-xmark 0x0/{ALLOWED_MARK}")
    for allow in allows:
        ports = _ports(allow)
        if allow.peers is None:
            out.append(f"-A {chain}{ports} -j RETURN")
        elif _inline(allow):
            out.append(f"-A {chain} {there} {allow.peers[0][0]}{ports} -j RETURN")
        else:
            peers = chain_name("NETPOL-P-", f"{there} {allow.peers}")
            chains[peers] = _peers_chain(peers, allow.peers, there, chains)
            out.append(f"-A {chain}{ports} -j {peers}")
            out.append(f"-A {chain} -m mark --mark {ALLOWED_MARK}/{ALLOWED_MARK} -j RETURN")
    out.append(f"-A {chain} {_comment(f'{what}: no policy allows it')} -j DROP")
    return out


def _inline(allow: Allow) -> bool:
    return allow.peers is None or (len(allow.peers) == 1 and not allow.peers[0][1])


def _peers_chain(
    chain: str, peers: Sequence[Peer], there: str, chains: dict[str, list[str]]
) -> list[str]:
    mark = f"-j MARK --set-xmark {ALLOWED_MARK}/{ALLOWED_MARK}"
    out = []
    for cidr, excepts in peers:
        if not excepts:
            out.append(f"-A {chain} {there} {cidr} {mark}")
            continue
        block = chain_name("NETPOL-X-", f"{there} {cidr} {' '.join(excepts)}")
        chains[block] = [f"-A {block} {there} {e} -j RETURN" for e in excepts]
        chains[block].append(f"-A {block} {there} {cidr} {mark}")
        out.append(f"-A {chain} -j {block}")
    return out
