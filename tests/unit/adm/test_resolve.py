"""python -m adm.resolve against a DNS server on a loopback UDP port that first answers with no
record, then with the name's A record: the resolver asks again until it gets it, and gives up at
its deadline naming what it last got."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import dns.message
import dns.rcode
import dns.rrset
import pytest

from adm.resolve import NoAnswer, resolve

NAME = "kubernetes.default.svc.cluster.local."


@pytest.fixture
def server() -> Iterator[tuple[int, list[int]]]:
    """Its port, and a list whose first item is how many queries get NXDOMAIN before the answer
    (a negative count: NXDOMAIN for ever); the queries it got are appended."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    state = [2]

    def serve() -> None:
        while True:
            try:
                data, peer = sock.recvfrom(512)
            except OSError:
                return
            query = dns.message.from_wire(data)
            reply = dns.message.make_response(query)
            state.append(1)
            if state[0] < 0 or len(state) - 1 <= state[0]:
                reply.set_rcode(dns.rcode.NXDOMAIN)
            else:
                reply.answer.append(dns.rrset.from_text(NAME, 30, "IN", "A", "10.96.0.1"))
            sock.sendto(reply.to_wire(), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield sock.getsockname()[1], state
    sock.close()


def test_it_asks_again_until_the_name_is_answered(server: tuple[int, list[int]]) -> None:
    port, state = server
    assert resolve(NAME, "127.0.0.1", 5, port=port) == ["10.96.0.1"]
    assert len(state) - 1 == 3  # two NXDOMAIN, then the answer


def test_no_answer_by_the_deadline_says_what_it_got(server: tuple[int, list[int]]) -> None:
    port, state = server
    state[0] = -1
    with pytest.raises(NoAnswer, match="NXDOMAIN with no A record"):
        resolve(NAME, "127.0.0.1", 1.0, port=port)


def test_no_server_by_the_deadline_says_it_timed_out() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))  # bound, never read: every query times out
    try:
        with pytest.raises(NoAnswer, match="timed out"):
            resolve(NAME, "127.0.0.1", 0.3, port=sock.getsockname()[1])
    finally:
        sock.close()
