"""gRPC health check: exits 0 when the gRPC health service at HOST:PORT reports SERVING.

    python3 -I -S podplane/componentbase/healthcheck.py [--ca-file CA [--cert-file CRT
        --key-file KEY]] localhost:6443 [service]
    python -m podplane.componentbase.healthcheck ...   (the same, through the package)

With --ca-file the server is reached over TLS (the apiserver's health service answers anonymous
callers; a kubelet's TLS port wants a client certificate of the cluster CA).

The tests check components with it (the compose cluster's containers ask the HTTP /healthz beside
/metrics with bash instead, podplane/componentbase/metrics.py). It is as small as it can be: the
standard library only, and run by its path it imports nothing of
podplane (whose package imports prometheus_client) nor grpcio. One grpc.health.v1.Health/Check
call over HTTP/2 by hand, as grpc_health_probe makes it: the connection preface and SETTINGS, a
HEADERS frame whose fields are HPACK literals (never indexed, never Huffman-coded), one DATA frame
with the length-prefixed HealthCheckRequest; the answer's DATA frame holds the
HealthCheckResponse, whose field 1 is the status (1: SERVING). A call that fails has no DATA
frame, only trailers, which are not decoded here: the check then fails naming the stream's end."""

from __future__ import annotations

import argparse
import socket
import ssl
import struct
import sys

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY = 0x0, 0x1, 0x3, 0x4, 0x6, 0x7
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4
STREAM = 1
STATUSES = {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}
TIMEOUT = 3.0


class CheckFailed(Exception):
    pass


def frame(kind: int, flags: int, stream: int, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))[1:]
        + bytes([kind, flags])
        + struct.pack(">I", stream)
        + payload
    )


def hpack_int(value: int, prefix_bits: int, first: int = 0) -> bytes:
    """RFC 7541 5.1: an integer in an N-bit prefix (`first` holds the byte's other bits)."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out = bytearray([first | limit])
    value -= limit
    while value >= 128:
        out.append(value % 128 + 128)
        value //= 128
    out.append(value)
    return bytes(out)


def varint(value: int) -> bytes:
    """A protobuf varint: 7 bits a byte, the lowest first, the high bit set on all but the last."""
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def read_varint(data: bytes, i: int) -> tuple[int, int]:
    """The varint at data[i:] and the index after it."""
    value, shift = 0, 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, i


def hpack_literal(name: str, value: str) -> bytes:
    """A literal header field never indexed, with a literal name (RFC 7541 6.2.3), no Huffman."""
    raw_name, raw_value = name.encode(), value.encode()
    return (
        b"\x10" + hpack_int(len(raw_name), 7) + raw_name + hpack_int(len(raw_value), 7) + raw_value
    )


def request(authority: str, scheme: str, service: str) -> bytes:
    fields = [
        (":method", "POST"),
        (":scheme", scheme),
        (":path", "/grpc.health.v1.Health/Check"),
        (":authority", authority),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
        ("user-agent", "podplane-healthcheck"),
    ]
    block = b"".join(hpack_literal(n, v) for n, v in fields)
    raw = service.encode()
    message = b"\x0a" + varint(len(raw)) + raw if raw else b""  # field 1, a string
    body = b"\x00" + struct.pack(">I", len(message)) + message
    return (
        PREFACE
        + frame(SETTINGS, 0, 0, b"")
        + frame(HEADERS, END_HEADERS, STREAM, block)
        + frame(DATA, END_STREAM, STREAM, body)
    )


def read_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise CheckFailed("the server closed the connection")
        data += chunk
    return data


def status_of(message: bytes) -> int:
    """Field 1 (a varint) of a HealthCheckResponse; 0 (UNKNOWN) when absent."""
    if len(message) < 5:
        raise CheckFailed("no HealthCheckResponse in the answer")
    body, i, status = message[5:], 0, 0
    while i < len(body):
        key = body[i]
        i += 1
        if key != 0x08:  # only field 1 (varint) is known; a newer server may add more
            break
        status, i = read_varint(body, i)
    return status


def check(host: str, port: int, service: str, tls: ssl.SSLContext | None) -> int:
    """The served status of `service`, as the server's Health/Check answers."""
    raw = socket.create_connection((host, port), timeout=TIMEOUT)
    sock: socket.socket = tls.wrap_socket(raw, server_hostname=host) if tls else raw
    try:
        sock.sendall(request(f"{host}:{port}", "https" if tls else "http", service))
        answer = b""
        while True:
            head = read_exact(sock, 9)
            length = int.from_bytes(head[:3], "big")
            kind, flags = head[3], head[4]
            stream = int.from_bytes(head[5:9], "big") & 0x7FFFFFFF
            payload = read_exact(sock, length)
            if kind == SETTINGS and not flags & ACK:
                sock.sendall(frame(SETTINGS, ACK, 0, b""))
            elif kind == PING and not flags & ACK:
                sock.sendall(frame(PING, ACK, 0, payload))
            elif kind == GOAWAY:
                raise CheckFailed("the server went away")
            elif kind == RST_STREAM and stream == STREAM:
                raise CheckFailed("the server reset the call")
            elif kind == DATA and stream == STREAM:
                answer += payload
            if stream == STREAM and kind in (DATA, HEADERS) and flags & END_STREAM:
                if not answer:
                    raise CheckFailed("the call failed (trailers only)")
                return status_of(answer)
    finally:
        sock.close()


def tls_context(ca: str, cert: str, key: str) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=ca)
    context.set_alpn_protocols(["h2"])
    if cert:
        context.load_cert_chain(cert, key or None)
    return context


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="healthcheck")
    p.add_argument("target", metavar="HOST:PORT")
    p.add_argument("service", nargs="?", default="")
    p.add_argument("--ca-file", default="", help="TLS, with this CA's certificates")
    p.add_argument("--cert-file", default="", help="a client certificate (with --ca-file)")
    p.add_argument("--key-file", default="", help="its key")
    args = p.parse_args(argv)
    host, _, port = args.target.rpartition(":")
    if not host or not port.isdigit():
        print(f"{args.target}: expected HOST:PORT", file=sys.stderr)
        return 2
    try:
        context = tls_context(args.ca_file, args.cert_file, args.key_file) if args.ca_file else None
        status = check(host.strip("[]"), int(port), args.service, context)
    except (OSError, CheckFailed) as e:
        print(f"{args.target}: {e}", file=sys.stderr)
        return 1
    print(f"{args.target}: {STATUSES.get(status, str(status))}")
    return 0 if status == 1 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
