"""ExecIptables' commands: the system's iptables, or Debian's -legacy / -nft variants, inside a
prefix (ip netns exec NAME)."""

from __future__ import annotations

import pytest

from podplane.iptables.runner import ExecIptables


@pytest.mark.parametrize(
    ("variant", "command", "expected"),
    [
        ("", "iptables", "iptables"),
        ("", "iptables-restore", "iptables-restore"),
        ("legacy", "iptables", "iptables-legacy"),
        ("legacy", "iptables-restore", "iptables-legacy-restore"),
        ("nft", "iptables-save", "iptables-nft-save"),
    ],
)
def test_commands_by_variant(variant: str, command: str, expected: str) -> None:
    runner = ExecIptables(["ip", "netns", "exec", "n1"], variant=variant)
    assert runner._argv(command, "-w", "5") == ["ip", "netns", "exec", "n1", expected, "-w", "5"]


def test_an_unknown_variant_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="iptables variant 'xtables': expected legacy or nft"):
        ExecIptables(variant="xtables")
