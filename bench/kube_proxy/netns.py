"""A network namespace of the benchmark's own, whose iptables the syncs program (root and
iproute2 required), deleted afterwards: the host's own tables are never touched."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager


class NetnsError(RuntimeError):
    pass


@contextmanager
def network_namespace() -> Iterator[list[str]]:
    """The command prefix that runs a command inside a fresh namespace."""
    if os.geteuid() != 0:
        raise NetnsError("--mode netns needs root (ip netns add); --mode generate does not")
    for tool in ("ip", "iptables-restore", "iptables-save"):
        if shutil.which(tool) is None:
            raise NetnsError(f"--mode netns needs {tool} (apt-get install iproute2 iptables)")
    name = f"podplane-bench-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield ["ip", "netns", "exec", name]
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)
