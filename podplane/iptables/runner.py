"""The iptables commands podplane's node agents run (pkg/util/iptables): one `iptables-restore
--noflush` per sync, `iptables-save` to find the chains in a table, and the few `iptables
-C/-I/-N` calls that hook their chains into the built-in ones: kube-proxy's (proxy/iptables)
and the NetworkPolicy agent's (netpol, its chain first in mangle FORWARD). Blocking: both call
them from a worker thread.

Iptables is the interface they use; ExecIptables runs the real commands, optionally inside
another network namespace (`ip netns exec NAME`, for tests and benchmarks)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from typing import Protocol

# -w: wait for the xtables lock (legacy iptables; the nft variant takes and ignores it).
WAIT = ("-w", "5")
RESTORE_WAIT = ("-w", "5", "-W", "100000")


class IptablesError(RuntimeError):
    """A command failed; `line` is the input line iptables-restore named, if any."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


class Iptables(Protocol):
    @property
    def random_fully(self) -> bool:
        """MASQUERADE --random-fully is supported (iptables >= 1.6.2)."""
        ...

    def restore(self, data: str) -> None:
        """iptables-restore --noflush --counters: the tables in `data`, each atomically; chains
        not named in it are left alone."""
        ...

    def chains(self, table: str) -> set[str]:
        """Every chain of `table` (iptables-save)."""
        ...

    def ensure_chain(self, table: str, chain: str) -> None: ...

    def ensure_rule(self, table: str, chain: str, args: Sequence[str]) -> None:
        """Inserts the rule first in `chain` unless it is there already."""
        ...

    def chain_exists(self, table: str, chain: str) -> bool: ...


_FAILED_LINE = re.compile(r"line (\d+) failed")
_VERSION = re.compile(r"v(\d+)\.(\d+)\.(\d+)")


def error_lines(data: str, line: int, context: int = 3) -> str:
    """The lines around input line `line` (1-based) of a failed restore, for the log."""
    lines = data.splitlines()
    start, end = max(line - 1 - context, 0), min(line + context, len(lines))
    return "\n".join(
        f"{'>' if i + 1 == line else ' '} {i + 1}: {lines[i]}" for i in range(start, end)
    )


class ExecIptables:
    def __init__(
        self, prefix: Sequence[str] = (), timeout: float = 120.0, variant: str = ""
    ) -> None:
        """`prefix` runs every command through another one: ["ip", "netns", "exec", NAME].
        `variant` "legacy" or "nft" picks Debian's iptables-legacy or iptables-nft commands
        instead of the system's choice ("")."""
        if variant not in ("", "legacy", "nft"):
            raise ValueError(f"iptables variant {variant!r}: expected legacy or nft")
        self._prefix = list(prefix)
        self._suffix = f"-{variant}" if variant else ""
        self._timeout = timeout
        self._random_fully: bool | None = None

    def _argv(self, command: str, *args: str) -> list[str]:
        """iptables -> iptables-legacy, iptables-restore -> iptables-legacy-restore, ..."""
        head, _, tail = command.partition("-")
        name = f"{head}{self._suffix}-{tail}" if tail else f"{head}{self._suffix}"
        return [*self._prefix, name, *args]

    def _run(self, *argv: str, stdin: str | None = None, check: bool = True) -> str:
        try:
            done = subprocess.run(
                self._argv(*argv),
                input=stdin,
                capture_output=True,
                text=True,
                timeout=self._timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as e:
            raise IptablesError(f"{argv[0]}: {e}") from e
        if check and done.returncode != 0:
            failed = _FAILED_LINE.search(done.stderr)
            raise IptablesError(
                f"{' '.join(argv)}: exit {done.returncode}: {done.stderr.strip()}",
                int(failed.group(1)) if failed else None,
            )
        return done.stdout if done.returncode == 0 else ""

    @property
    def random_fully(self) -> bool:
        if self._random_fully is None:
            found = _VERSION.search(self._run("iptables", "--version", check=False))
            version = tuple(int(v) for v in found.groups()) if found else ()
            self._random_fully = version >= (1, 6, 2)
        return self._random_fully

    def restore(self, data: str) -> None:
        self._run("iptables-restore", *RESTORE_WAIT, "--noflush", "--counters", stdin=data)

    def chains(self, table: str) -> set[str]:
        out = self._run("iptables-save", "-t", table)
        return {line[1:].split(" ", 1)[0] for line in out.splitlines() if line.startswith(":")}

    def ensure_chain(self, table: str, chain: str) -> None:
        if not self.chain_exists(table, chain):
            self._run("iptables", *WAIT, "-t", table, "-N", chain)

    def ensure_rule(self, table: str, chain: str, args: Sequence[str]) -> None:
        present = subprocess.run(
            self._argv("iptables", *WAIT, "-t", table, "-C", chain, *args),
            capture_output=True,
            timeout=self._timeout,
            check=False,
        )
        if present.returncode != 0:
            self._run("iptables", *WAIT, "-t", table, "-I", chain, *args)

    def chain_exists(self, table: str, chain: str) -> bool:
        done = subprocess.run(
            self._argv("iptables", *WAIT, "-t", table, "-S", chain, "1"),
            capture_output=True,
            timeout=self._timeout,
            check=False,
        )
        return done.returncode == 0
