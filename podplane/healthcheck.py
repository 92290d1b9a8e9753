"""Container healthcheck: exits 0 when the gRPC health service at HOST:PORT reports SERVING.

    python -m podplane.healthcheck localhost:6443 [service]
"""
from __future__ import annotations

import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m podplane.healthcheck HOST:PORT [SERVICE]", file=sys.stderr)
        return 2
    service = argv[1] if len(argv) > 1 else ""
    try:
        with grpc.insecure_channel(argv[0]) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=3)
    except grpc.RpcError as e:
        print(f"{argv[0]}: {e.code().name}: {e.details()}", file=sys.stderr)
        return 1
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    print(f"{argv[0]}: {status}")
    return 0 if reply.status == health_pb2.HealthCheckResponse.SERVING else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
