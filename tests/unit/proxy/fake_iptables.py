"""An in-memory iptables for the proxier's tests (like Kubernetes' iptablestest.FakeIPTables): it
records every restore input and applies it as `iptables-restore --noflush` would: a declared
chain is created or flushed, `-A` appends, `-X` deletes, each table all or nothing, and a jump
to a chain that does not exist fails the table, as the kernel refuses it."""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence

from podplane.iptables.runner import IptablesError

BUILTIN = {
    "filter": ("INPUT", "FORWARD", "OUTPUT"),
    "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
    "mangle": ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
}
TARGETS = {"ACCEPT", "DROP", "REJECT", "RETURN", "MARK", "MASQUERADE", "DNAT", "SNAT"}
_JUMP = re.compile(r"(?:^| )-j (\S+)")

Tables = dict[str, dict[str, list[str]]]


class FakeIptables:
    def __init__(self, random_fully: bool = False) -> None:
        self.tables: Tables = {t: {c: [] for c in chains} for t, chains in BUILTIN.items()}
        self.restores: list[str] = []
        self.fail_restores = 0  # the next n restores fail
        self._random_fully = random_fully

    @property
    def random_fully(self) -> bool:
        return self._random_fully

    # ------------------------------------------------------------------ the Iptables interface
    def restore(self, data: str) -> None:
        self.restores.append(data)
        if self.fail_restores:
            self.fail_restores -= 1
            raise IptablesError("iptables-restore: line 2 failed", 2)
        tables = copy.deepcopy(self.tables)
        table: dict[str, list[str]] | None = None
        for number, line in enumerate(data.splitlines(), 1):
            if line.startswith("*"):
                table = tables[line[1:]]
            elif line == "COMMIT":
                self._check_jumps(table or {}, number)
                table = None
            elif table is None:
                raise IptablesError(f"line {number}: outside a table", number)
            elif line.startswith(":"):
                table[line[1:].split(" ", 1)[0]] = []  # --noflush: a declared chain is flushed
            elif line.startswith("-A "):
                chain, _, rule = line[3:].partition(" ")
                if chain not in table:
                    raise IptablesError(f"line {number}: no chain {chain}", number)
                table[chain].append(rule)
            elif line.startswith("-X "):
                chain = line[3:]
                if chain not in table:
                    raise IptablesError(f"line {number}: no chain {chain} to delete", number)
                del table[chain]
            else:
                raise IptablesError(f"line {number}: cannot parse {line!r}", number)
        self.tables = tables

    def _check_jumps(self, table: dict[str, list[str]], number: int) -> None:
        for chain, rules in table.items():
            for rule in rules:
                target = _JUMP.search(rule)
                if target and target.group(1) not in TARGETS and target.group(1) not in table:
                    raise IptablesError(
                        f"line {number}: {chain} jumps to missing chain {target.group(1)}", number
                    )

    def chains(self, table: str) -> set[str]:
        return set(self.tables[table])

    def ensure_chain(self, table: str, chain: str) -> None:
        self.tables[table].setdefault(chain, [])

    def ensure_rule(self, table: str, chain: str, args: Sequence[str]) -> None:
        rule = " ".join(f'"{a}"' if " " in a else a for a in args)
        if rule not in self.tables[table][chain]:
            self.tables[table][chain].insert(0, rule)

    def chain_exists(self, table: str, chain: str) -> bool:
        return chain in self.tables[table]

    # ------------------------------------------------------------------ for assertions
    def flush(self, table: str) -> None:
        """What `iptables -t TABLE -F -X` by someone else does."""
        self.tables[table] = {c: [] for c in BUILTIN[table]}

    def kube_chains(self, table: str) -> dict[str, list[str]]:
        """kube-proxy's chains of a table and their rules."""
        return {c: r for c, r in self.tables[table].items() if c.startswith("KUBE-")}
