"""The node's InternalIP: the local address the kernel uses to reach the apiserver (what the
apiserver will dial back for logs), unless --node-ip says otherwise."""

from __future__ import annotations

import socket


def detect_node_ip(server: str) -> str:
    host, _, port = server.rpartition(":")
    host = host.strip("[]")
    infos = socket.getaddrinfo(host, int(port), type=socket.SOCK_DGRAM)
    infos.sort(key=lambda info: info[0] != socket.AF_INET)  # IPv4 first
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.connect(address)  # UDP: no packet is sent, only a route is chosen
        return str(s.getsockname()[0])
