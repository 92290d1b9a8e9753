"""The iptables-restore input: chains, their order and the guard for pods not programmed yet."""

from __future__ import annotations

from netpol.iptables.rules import ALLOWED_MARK, chain_name, render
from netpol.policy.allowed import Allow, PodRules
from netpol.policy.pods import PodInfo

WEB = PodInfo("x", "web", "10.244.1.2", "node-1")
OPEN = PodInfo("x", "open", "10.244.1.3", "node-1")


def test_isolated_and_open_pods_and_the_guard() -> None:
    rules = [
        PodRules(WEB, (Allow((("10.244.2.0/24", ()),), "TCP", (80, 90)),), None),
        PodRules(OPEN, None, None),
    ]
    ingress = chain_name("NETPOL-I-", "x/web/10.244.1.2")
    comment = '-m comment --comment "x/web ingress"'
    text = render(rules, "10.244.1.0/24", guard=True).text.splitlines()
    assert text[0] == "*mangle" and text[-1] == "COMMIT"
    assert "-A PODPLANE-NETPOL -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN" in text
    assert "-A PODPLANE-NETPOL-EGRESS -s 10.244.1.2/32 -j RETURN" in text
    assert (
        "-A PODPLANE-NETPOL-INGRESS -d 10.244.1.2/32"
        f' -m comment --comment "x/web ingress" -j {ingress}' in text
    )
    assert f"-A {ingress} -s 10.244.2.0/24 -p tcp -m tcp --dport 80:90 -j RETURN" in text
    assert text.index(
        f"-A {ingress} -s 10.244.2.0/24 -p tcp -m tcp --dport 80:90 -j RETURN"
    ) < text.index(
        f'-A {ingress} -m comment --comment "x/web ingress: no policy allows it" -j DROP'
    )
    # The guard comes after every programmed pod.
    guard = (
        "-A PODPLANE-NETPOL-INGRESS -d 10.244.1.0/24"
        ' -m comment --comment "pod not programmed yet" -j DROP'
    )
    assert guard in text
    # Back from the pod's chain (allowed), the packet returns before the guard.
    jump = text.index(f"-A PODPLANE-NETPOL-INGRESS -d 10.244.1.2/32 {comment} -j {ingress}")
    assert text[jump + 1] == "-A PODPLANE-NETPOL-INGRESS -d 10.244.1.2/32 -j RETURN"
    assert text.index("-A PODPLANE-NETPOL-INGRESS -d 10.244.1.3/32 -j RETURN") < text.index(guard)
    assert not any(
        "pod not programmed yet" in line
        for line in render(rules, "10.244.1.0/24", guard=False).text.splitlines()
    )


def test_peer_sets_ipblock_except_and_stale_chains() -> None:
    peers = (("10.0.0.0/8", ("10.1.0.0/16",)), ("10.244.2.7/32", ()))
    rules = [PodRules(WEB, None, (Allow(peers, "UDP", (53, 53)),))]
    ruleset = render(rules, "", guard=False, stale=frozenset({"NETPOL-E-OLD"}))
    text = ruleset.text.splitlines()
    egress = chain_name("NETPOL-E-", "x/web/10.244.1.2")
    (peer_chain,) = (c for c in ruleset.chains if c.startswith("NETPOL-P-"))
    (block,) = (c for c in ruleset.chains if c.startswith("NETPOL-X-"))
    mark = f"-j MARK --set-xmark {ALLOWED_MARK}/{ALLOWED_MARK}"
    assert [line for line in text if line.startswith(f"-A {egress} ")] == [
        f"-A {egress} -j MARK --set-xmark 0x0/{ALLOWED_MARK}",
        f"-A {egress} -p udp -m udp --dport 53 -j {peer_chain}",
        f"-A {egress} -m mark --mark {ALLOWED_MARK}/{ALLOWED_MARK} -j RETURN",
        f'-A {egress} -m comment --comment "x/web egress: no policy allows it" -j DROP',
    ]
    assert [line for line in text if line.startswith(f"-A {peer_chain} ")] == [
        f"-A {peer_chain} -j {block}",
        f"-A {peer_chain} -d 10.244.2.7/32 {mark}",
    ]
    assert [line for line in text if line.startswith(f"-A {block} ")] == [
        f"-A {block} -d 10.1.0.0/16 -j RETURN",
        f"-A {block} -d 10.0.0.0/8 {mark}",
    ]
    assert ":NETPOL-E-OLD - [0:0]" in text and "-X NETPOL-E-OLD" in text
    assert "NETPOL-E-OLD" not in ruleset.chains
