"""The iptables commands the agent runs: `iptables-restore --noflush` with the whole ruleset of
a sync (each table atomically), `iptables-save` to find the chains it left before a restart,
and `iptables -C/-I` to hook its chain first into mangle FORWARD. Blocking: the agent calls
them from a worker thread. `prefix` runs them in another network namespace (tests, benchmarks:
["ip", "netns", "exec", NAME])."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from typing import Protocol

WAIT = ("-w", "5")


class IptablesError(RuntimeError):
    pass


class Iptables(Protocol):
    def restore(self, data: str) -> None: ...

    def chains(self, table: str) -> set[str]: ...

    def ensure_first(self, table: str, chain: str, args: Sequence[str]) -> None:
        """The rule `args` first in `chain`, inserted unless it is there already."""
        ...


class ExecIptables:
    def __init__(self, prefix: Sequence[str] = (), timeout: float = 60.0) -> None:
        self._prefix = list(prefix)
        self._timeout = timeout

    def _run(self, *argv: str, stdin: str | None = None, check: bool = True) -> str:
        try:
            done = subprocess.run(
                [*self._prefix, *argv],
                input=stdin,
                capture_output=True,
                text=True,
                timeout=self._timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as e:
            raise IptablesError(f"{argv[0]}: {e}") from e
        if check and done.returncode != 0:
            raise IptablesError(f"{' '.join(argv)}: exit {done.returncode}: {done.stderr.strip()}")
        return done.stdout if done.returncode == 0 else ""

    def restore(self, data: str) -> None:
        self._run("iptables-restore", *WAIT, "--noflush", stdin=data)

    def chains(self, table: str) -> set[str]:
        out = self._run("iptables-save", "-t", table)
        return {line[1:].split(" ", 1)[0] for line in out.splitlines() if line.startswith(":")}

    def ensure_first(self, table: str, chain: str, args: Sequence[str]) -> None:
        present = subprocess.run(
            [*self._prefix, "iptables", *WAIT, "-t", table, "-C", chain, *args],
            capture_output=True,
            timeout=self._timeout,
            check=False,
        )
        if present.returncode != 0:
            self._run("iptables", *WAIT, "-t", table, "-I", chain, "1", *args)
