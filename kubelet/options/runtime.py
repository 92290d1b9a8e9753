"""The container runtime the pods run on (containerd over the CRI, or Docker), where pods and
their logs live, log rotation, the pause image, and the static pods' folder."""

from __future__ import annotations

import argparse
import math
import re

from kubelet.logs.rotation import LogPolicy
from podplane.apimachinery import quantity
from podplane.componentbase.options import fail


def add_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("the container runtime")
    g.add_argument("--root-dir", default="/var/lib/kubelet", help="pod volumes live here")
    g.add_argument(
        "--docker-host",
        default="unix:///var/run/docker.sock",
        help="the Docker engine running the pods",
    )
    g.add_argument(
        "--container-runtime-endpoint",
        default="",
        help="the CRI runtime's endpoint, unix:///PATH (e.g. containerd's "
        "unix:///run/containerd/containerd.sock); default: the Docker engine at --docker-host",
    )
    g.add_argument(
        "--pod-logs-dir",
        default="/var/log/pods",
        help="where a CRI runtime writes the pods' container logs",
    )
    g.add_argument(
        "--container-log-max-size",
        default="10Mi",
        help="a container's log is rotated once it reaches this size (a quantity, e.g. 10Mi)",
    )
    g.add_argument(
        "--container-log-max-files",
        type=int,
        default=5,
        help="at most this many log files per container, the current one included (>= 2)",
    )
    g.add_argument(
        "--container-log-monitor-interval",
        type=float,
        default=10.0,
        help="seconds between looks at the containers' log sizes (>= 3)",
    )
    g.add_argument("--pause-image", default="podplane/pause:3.9", help="the pod sandbox image")
    g.add_argument(
        "--pod-manifest-path",
        default="",
        help="a directory of static pod manifests (*.yaml, *.yml, *.json) the "
        "kubelet runs itself; default: none",
    )


def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """args.log_policy is the rotation's LogPolicy; args.root_dir has no trailing slash."""
    if not args.root_dir.startswith("/"):
        fail(parser, "--root-dir", f'"{args.root_dir}" must be an absolute path')
    if not re.match(r"^(unix|tcp|http|https|ssh)://", args.docker_host):
        fail(
            parser,
            "--docker-host",
            f'"{args.docker_host}" must be unix://PATH or tcp://HOST:PORT',
        )
    endpoint = args.container_runtime_endpoint
    if endpoint and not re.match(r"^unix:///.", endpoint):
        fail(
            parser,
            "--container-runtime-endpoint",
            f'"{endpoint}" must be unix:///PATH, the runtime\'s gRPC socket',
        )
    if not args.pod_logs_dir.startswith("/"):
        fail(parser, "--pod-logs-dir", f'"{args.pod_logs_dir}" must be an absolute path')
    args.log_policy = log_policy(parser, args)
    if args.pod_manifest_path and not args.pod_manifest_path.startswith("/"):
        fail(parser, "--pod-manifest-path", f'"{args.pod_manifest_path}" must be an absolute path')
    args.root_dir = args.root_dir.rstrip("/") or "/"


def log_policy(parser: argparse.ArgumentParser, args: argparse.Namespace) -> LogPolicy:
    """Kubernetes' checks of the three (the KubeletConfiguration's validation and server.go)."""
    try:
        max_size = quantity.bytes_of(args.container_log_max_size)
    except ValueError as e:
        fail(
            parser,
            "--container-log-max-size",
            f'failed to parse container log max size "{args.container_log_max_size}": {e}',
        )
    if max_size <= 0:
        fail(
            parser, "--container-log-max-size", f'"{args.container_log_max_size}" must be positive'
        )
    if args.container_log_max_files <= 1:
        fail(
            parser,
            "--container-log-max-files",
            f"invalid configuration: containerLogMaxFiles (--container-log-max-files) "
            f"{args.container_log_max_files} must be greater than 1",
        )
    if not 3 <= args.container_log_monitor_interval < math.inf:
        fail(
            parser,
            "--container-log-monitor-interval",
            "invalid configuration: containerLogMonitorInterval must be a positive time "
            "duration greater than or equal to 3s",
        )
    return LogPolicy(max_size, args.container_log_max_files, args.container_log_monitor_interval)
