"""The node's addresses over rtnetlink (what `ip addr` does, without iproute2 in kube-proxy's
image): list them, add and delete a /32 with a label of kube-proxy's own, and send a gratuitous
ARP so that neighbours' caches learn the new holder of an address that moved."""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
import struct
from dataclasses import dataclass

RTM_NEWADDR, RTM_DELADDR, RTM_GETADDR = 20, 21, 22
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 0x1, 0x4, 0x300
NLM_F_EXCL, NLM_F_CREATE = 0x200, 0x400
IFA_ADDRESS, IFA_LOCAL, IFA_LABEL = 1, 2, 3
HEADER = struct.Struct("=LHHLL")  # nlmsghdr: length, type, flags, sequence, port id
IFADDRMSG = struct.Struct("=BBBBI")  # family, prefix length, flags, scope, interface index
RTATTR = struct.Struct("=HH")  # length, type
ETH_P_ARP = 0x0806
IFNAMSIZ = 16


@dataclass(frozen=True)
class Address:
    index: int
    ip: str
    prefixlen: int
    label: str


def attribute(type_: int, payload: bytes) -> bytes:
    length = RTATTR.size + len(payload)
    return RTATTR.pack(length, type_) + payload + b"\0" * (-length % 4)


def address_message(type_: int, flags: int, seq: int, index: int, ip: str, label: str) -> bytes:
    """An RTM_NEWADDR or RTM_DELADDR request for `ip`/32 on interface `index`."""
    packed = ipaddress.IPv4Address(ip).packed
    body = IFADDRMSG.pack(socket.AF_INET, 32, 0, 0, index)
    body += attribute(IFA_LOCAL, packed) + attribute(IFA_ADDRESS, packed)
    if label:
        body += attribute(IFA_LABEL, label.encode() + b"\0")
    return HEADER.pack(HEADER.size + len(body), type_, flags, seq, 0) + body


def parse_address(payload: bytes) -> Address:
    """An RTM_NEWADDR message's body (an ifaddrmsg and its attributes)."""
    _, prefixlen, _, _, index = IFADDRMSG.unpack_from(payload)
    attrs: dict[int, bytes] = {}
    offset = IFADDRMSG.size
    while offset + RTATTR.size <= len(payload):
        length, type_ = RTATTR.unpack_from(payload, offset)
        if length < RTATTR.size:
            break
        attrs[type_] = payload[offset + RTATTR.size : offset + length]
        offset += (length + 3) & ~3
    raw = attrs.get(IFA_LOCAL) or attrs.get(IFA_ADDRESS) or b""
    ip = str(ipaddress.IPv4Address(raw)) if len(raw) == 4 else ""
    label = attrs.get(IFA_LABEL, b"").split(b"\0")[0].decode(errors="replace")
    return Address(index=index, ip=ip, prefixlen=prefixlen, label=label)


def messages(data: bytes) -> list[tuple[int, int, bytes]]:
    """(type, sequence, body) of each message of a datagram."""
    out: list[tuple[int, int, bytes]] = []
    offset = 0
    while offset + HEADER.size <= len(data):
        length, type_, _, seq, _ = HEADER.unpack_from(data, offset)
        if length < HEADER.size:
            break
        out.append((type_, seq, data[offset + HEADER.size : offset + length]))
        offset += (length + 3) & ~3
    return out


class Netlink:
    """One rtnetlink socket; calls block (kube-proxy makes them from a worker thread)."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        self._sock.bind((0, 0))
        self._seq = 0

    def close(self) -> None:
        self._sock.close()

    def _call(self, request: bytes, seq: int) -> list[bytes]:
        """Sends a request; the bodies of the answers until its acknowledgement or the end of
        its dump. A refusal raises OSError with the kernel's errno."""
        self._sock.send(request)
        bodies: list[bytes] = []
        while True:
            for type_, answer_seq, body in messages(self._sock.recv(1 << 16)):
                if answer_seq != seq:
                    continue
                if type_ == NLMSG_DONE:
                    return bodies
                if type_ == NLMSG_ERROR:
                    (code,) = struct.unpack_from("=i", body)
                    if code:
                        raise OSError(-code, os.strerror(-code))
                    return bodies
                bodies.append(body)

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def addresses(self) -> list[Address]:
        """Every IPv4 address of every interface."""
        seq = self._next_seq()
        body = IFADDRMSG.pack(socket.AF_INET, 0, 0, 0, 0)
        request = HEADER.pack(
            HEADER.size + len(body), RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, seq, 0
        )
        return [parse_address(b) for b in self._call(request + body, seq)]

    def add(self, index: int, ip: str, label: str) -> None:
        """Adds `ip`/32 to the interface; one already there is left as it is."""
        seq = self._next_seq()
        flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL
        try:
            self._call(address_message(RTM_NEWADDR, flags, seq, index, ip, label), seq)
        except OSError as e:
            if e.errno != errno.EEXIST:
                raise

    def delete(self, index: int, ip: str) -> None:
        """Deletes `ip`/32 from the interface; one already gone is no error."""
        seq = self._next_seq()
        request = address_message(RTM_DELADDR, NLM_F_REQUEST | NLM_F_ACK, seq, index, ip, "")
        try:
            self._call(request, seq)
        except OSError as e:
            if e.errno != errno.EADDRNOTAVAIL:
                raise


def gratuitous_arp(interface: str, ip: str) -> None:
    """An unsolicited ARP reply, broadcast: "`ip` is at this interface's MAC address"."""
    packed = ipaddress.IPv4Address(ip).packed
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP)) as s:
        s.bind((interface, ETH_P_ARP))
        mac: bytes = s.getsockname()[4]
        broadcast = b"\xff" * 6
        arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 2) + mac + packed + broadcast + packed
        s.send(broadcast + mac + struct.pack("!H", ETH_P_ARP) + arp)


def label_for(interface: str) -> str:
    """kube-proxy's label for the addresses it adds (an interface's label begins with its
    name, and holds at most 15 characters)."""
    return f"{interface[: IFNAMSIZ - 1 - 3]}:lb"
