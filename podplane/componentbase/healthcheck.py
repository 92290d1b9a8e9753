"""Container healthcheck: exits 0 when the gRPC health service at HOST:PORT reports SERVING.

    python -m podplane.componentbase.healthcheck [--ca-file CA [--cert-file CRT --key-file KEY]]
        localhost:6443 [service]

With --ca-file the server is reached over TLS (the apiserver's health service answers anonymous
callers; a kubelet's TLS port wants a client certificate of the cluster CA)."""

from __future__ import annotations

import argparse
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from podplane.client.credentials import CredentialsError, add_credential_flags, credentials_from


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m podplane.componentbase.healthcheck")
    p.add_argument("target", metavar="HOST:PORT")
    p.add_argument("service", nargs="?", default="")
    add_credential_flags(p)
    args = p.parse_args(argv)
    argv = [args.target]
    service = args.service
    try:
        credentials = credentials_from(args, env={})
    except CredentialsError as e:
        print(f"{argv[0]}: {e}", file=sys.stderr)
        return 2
    try:
        with (
            credentials.channel(argv[0]) if credentials else grpc.insecure_channel(argv[0])
        ) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=3
            )
    except grpc.RpcError as e:
        print(f"{argv[0]}: {e.code().name}: {e.details()}", file=sys.stderr)
        return 1
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    print(f"{argv[0]}: {status}")
    return 0 if reply.status == health_pb2.HealthCheckResponse.SERVING else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
