"""The running containers of a compose project (the cluster `make up` starts), as the host's Docker
sees them: each one's id, first process and service."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass


@dataclass(frozen=True)
class Container:
    id: str
    pid: int
    service: str


def containers(project: str) -> list[Container]:
    """The project's running containers, from Docker."""
    ids = subprocess.run(
        [
            "docker",
            "ps",
            "-q",
            "--no-trunc",
            "--filter",
            f"label=com.docker.compose.project={project}",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    if not ids:
        raise SystemExit(f"no running container of the compose project {project!r}: make up first")
    template = '{{.Id}} {{.State.Pid}} {{index .Config.Labels "com.docker.compose.service"}}'
    lines = subprocess.run(
        ["docker", "inspect", "--format", template, *ids],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    found = []
    for line in lines:
        cid, pid, service = line.split(" ", 2)
        found.append(Container(cid, int(pid), service))
    return sorted(found, key=lambda c: c.service)
