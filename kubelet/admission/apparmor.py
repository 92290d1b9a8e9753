"""AppArmor admission (lifecycle's appArmorAdmitHandler over security/apparmor's validator): a
pending pod that asks for an AppArmor profile other than Unconfined is rejected when the node's
kernel does not enforce AppArmor ("AppArmor", `Cannot enforce AppArmor: AppArmor is not enabled
on the host`), as a kind node or any host without the LSM rejects it. The check of the host is
made once, at start."""

from __future__ import annotations

from pathlib import Path

from kubelet.admission.rejection import Rejection
from kubelet.container.security_profiles import apparmor_profile, uses_apparmor
from kubelet.runtime.types import LOCALHOST
from podplane.api.core.v1 import core_pb2

REASON = "AppArmor"
NOT_ENABLED = "AppArmor is not enabled on the host"


def apparmor_enabled(sys_root: str = "/sys") -> bool:
    """runc's apparmor.IsEnabled: the LSM's securityfs directory and its enabled parameter."""
    root = Path(sys_root)
    try:
        enabled = (root / "module/apparmor/parameters/enabled").read_text()
    except OSError:
        return False
    return (root / "kernel/security/apparmor").is_dir() and enabled.startswith("Y")


class AppArmorAdmission:
    def __init__(self, host_enabled: bool) -> None:
        self.host_enabled = host_enabled

    def admit(self, pod: core_pb2.Pod) -> Rejection | None:
        if pod.status.phase not in ("", "Pending") or not uses_apparmor(pod):
            return None
        if not self.host_enabled:
            return Rejection(REASON, f"Cannot enforce AppArmor: {NOT_ENABLED}")
        spec = pod.spec
        containers = [*spec.init_containers, *spec.containers]
        for container in containers:
            profile = apparmor_profile(pod, container)
            if profile is not None and profile.kind == LOCALHOST and not profile.localhost_ref:
                return Rejection(
                    REASON, "Cannot enforce AppArmor: invalid empty AppArmor profile name"
                )
        return None
