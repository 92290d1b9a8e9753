"""Servers on the test host's loopback for the pod images' applets to talk to: an HTTP server that
records what it was asked, a listener that never answers, one whose full backlog drops every new
connection attempt (a peer that cannot be reached, on loopback), and a DNS server (dnspython)
with fixed A records. Each is a context manager yielding its port; nothing leaves the host."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

HTTP_BODY = b"hello from the test host\n"


@dataclass
class HTTPServer:
    port: int
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, User-Agent


@contextmanager
def http_server() -> Iterator[HTTPServer]:
    """Answers GET and HEAD of any path with HTTP_BODY, recording each request."""
    requests: list[tuple[str, str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:
            requests.append((self.command, self.path, self.headers.get("User-Agent", "")))
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(HTTP_BODY)))
            self.end_headers()

        def do_GET(self) -> None:
            self.do_HEAD()
            self.wfile.write(HTTP_BODY)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield HTTPServer(server.server_address[1], requests)
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def silent_listener() -> Iterator[int]:
    """Connections complete (in the kernel's backlog) and then nothing is ever sent."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


@contextmanager
def unreachable_port() -> Iterator[int]:
    """A port whose connection attempts are never answered: the listener's backlog (0, one
    connection) is full and never accepted, so Linux drops every further SYN, as a firewall or an
    unroutable address would; the client waits in connect()."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = []
        try:
            for _ in range(2):
                filler = socket.socket()
                filler.setblocking(False)
                filler.connect_ex(("127.0.0.1", port))
                fillers.append(filler)
            yield port
        finally:
            for filler in fillers:
                filler.close()


@contextmanager
def dns_server(records: dict[str, str]) -> Iterator[int]:
    """An authoritative DNS server over UDP: an A record per name (absolute, lower case), an empty
    answer for other types of those names, NXDOMAIN for every other name."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                wire, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(wire)
            reply = dns.message.make_response(query)
            reply.flags |= dns.flags.AA
            question = query.question[0]
            name = question.name.to_text().lower()
            if name not in records:
                reply.set_rcode(dns.rcode.NXDOMAIN)
            elif question.rdtype == dns.rdatatype.A:
                reply.answer.append(dns.rrset.from_text(name, 30, "IN", "A", records[name]))
            sock.sendto(reply.to_wire(), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        sock.close()
