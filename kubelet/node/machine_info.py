"""Facts about the machine the kubelet runs on, for the Node's capacity and nodeInfo (cAdvisor's
MachineInfo, read straight from /proc and /etc)."""

from __future__ import annotations

import os
import platform
import socket
from dataclasses import dataclass
from pathlib import Path

_ARCH = {
    "x86_64": "amd64",
    "aarch64": "arm64",
    "armv7l": "arm",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
    "i686": "386",
}


@dataclass(frozen=True)
class MachineInfo:
    cpus: int
    memory_kib: int
    ephemeral_storage_kib: int
    kernel_version: str
    os_image: str
    architecture: str
    machine_id: str
    system_uuid: str
    boot_id: str
    hostname: str


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def memory_total_kib(meminfo: str) -> int:
    for line in meminfo.splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1])
    return 0


def pretty_os_name(os_release: str) -> str:
    for line in os_release.splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip().strip('"')
    return "Linux"


def disk_kib(path: str) -> int:
    try:
        st = os.statvfs(path)
    except OSError:
        return 0
    return st.f_blocks * st.f_frsize // 1024


def read_machine_info(root_dir: str = "/") -> MachineInfo:
    machine = platform.machine()
    return MachineInfo(
        cpus=os.cpu_count() or 1,
        memory_kib=memory_total_kib(_read("/proc/meminfo")),
        ephemeral_storage_kib=disk_kib(root_dir if os.path.exists(root_dir) else "/"),
        kernel_version=platform.release(),
        os_image=pretty_os_name(_read("/etc/os-release")),
        architecture=_ARCH.get(machine, machine),
        machine_id=_read("/etc/machine-id"),
        system_uuid=_read("/sys/class/dmi/id/product_uuid"),
        boot_id=_read("/proc/sys/kernel/random/boot_id"),
        hostname=socket.gethostname(),
    )
