"""A container's seccomp and AppArmor profiles and SELinux label as Docker's security options
(what dockershim's getSecurityOpts made of them), and procMount Unmasked as an empty list of
masked and read-only /proc paths.

- seccomp: RuntimeDefault is Docker's own default profile (no option); Unconfined is
  `seccomp=unconfined`; Localhost is the profile file's JSON, which the engine's API takes (the
  CLI reads the file itself). A file that cannot be read fails the container's creation, as the
  CRI runtimes fail it: `cannot load seccomp profile "<path>": open <path>: no such file or
  directory`.
- AppArmor: RuntimeDefault is Docker's docker-default (no option), Unconfined
  `apparmor=unconfined`, Localhost `apparmor=<loaded name>`. An engine on a host without AppArmor
  ignores the option.
- SELinux: `label=user:...`, `label=role:...`, `label=type:...`, `label=level:...`, which an
  engine on a host without SELinux accepts and ignores (as Kubernetes ignores the field there)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from kubelet.runtime.types import (
    LOCALHOST,
    UNCONFINED,
    ContainerConfig,
    ContainerRuntimeError,
    SecurityProfile,
    SELinuxOptions,
)
from podplane.apimachinery.json_types import JSONObject


def _go_open_error(path: str, e: OSError) -> str:
    """As Go's os.Open words it: "open /x: no such file or directory"."""
    reason = os.strerror(e.errno).lower() if e.errno else str(e)
    if e.errno == errno.ENOENT:
        reason = "no such file or directory"
    return f"open {path}: {reason}"


def seccomp_option(profile: SecurityProfile | None) -> str | None:
    if profile is None or profile.kind not in (UNCONFINED, LOCALHOST):
        return None  # the engine's default profile
    if profile.kind == UNCONFINED:
        return "seccomp=unconfined"
    path = profile.localhost_ref
    try:
        content = Path(path).read_text()
    except OSError as e:
        raise ContainerRuntimeError(
            f'cannot load seccomp profile "{path}": {_go_open_error(path, e)}'
        ) from e
    return f"seccomp={content}"


def apparmor_option(profile: SecurityProfile | None) -> str | None:
    if profile is None or profile.kind not in (UNCONFINED, LOCALHOST):
        return None
    if profile.kind == UNCONFINED:
        return "apparmor=unconfined"
    return f"apparmor={profile.localhost_ref}"


def selinux_options(options: SELinuxOptions | None) -> list[str]:
    if options is None:
        return []
    fields = (("user", options.user), ("role", options.role), ("type", options.type))
    labels = [f"label={name}:{value}" for name, value in fields if value]
    return labels + ([f"label=level:{options.level}"] if options.level else [])


def security_options(config: ContainerConfig) -> list[str]:
    """Every security option of the container, its profiles' first. A privileged container has
    none of them: the engine confines it with no profile (and ignores them)."""
    options = list(config.security_opt)
    if config.privileged:
        return options
    taken = {o.split("=", 1)[0] for o in options}
    for option in (seccomp_option(config.seccomp), apparmor_option(config.apparmor)):
        if option is not None and option.split("=", 1)[0] not in taken:
            options.append(option)
    return options + selinux_options(config.selinux)


def unmask_proc(host_config: JSONObject) -> None:
    """procMount Unmasked: no masked or read-only /proc paths (the CLI's systempaths=unconfined,
    which the engine's API spells as two empty lists)."""
    host_config["MaskedPaths"] = []
    host_config["ReadonlyPaths"] = []
