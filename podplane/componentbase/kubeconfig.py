"""kubeconfig files for the cluster's Kubernetes REST API, as kind writes them: the cluster's CA
and the user's credentials embedded, one context, nothing else touched (a user's ~/.kube/config
is left alone; point KUBECONFIG at these).

    python -m podplane.componentbase.kubeconfig build/pki --server https://localhost:8443 \\
        --out build/kubeconfig --viewer-out build/kubeconfig-viewer

build/kubeconfig is the admin (the admin client certificate, system:masters);
build/kubeconfig-viewer the read-only viewer (its bearer token, group viewers)."""

from __future__ import annotations

import argparse
import base64
import sys
from pathlib import Path

import yaml

from podplane.apimachinery.json_types import JSONObject

CLUSTER = "podplane"


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode("ascii")


def kubeconfig(server: str, ca: Path, user: str, credentials: JSONObject) -> JSONObject:
    """A kubeconfig with one cluster, one user and one context (named podplane-<user>)."""
    context = f"{CLUSTER}-{user}"
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [
            {"name": CLUSTER, "cluster": {"server": server, "certificate-authority-data": _b64(ca)}}
        ],
        "users": [{"name": context, "user": credentials}],
        "contexts": [
            {
                "name": context,
                "context": {"cluster": CLUSTER, "user": context, "namespace": "default"},
            }
        ],
        "current-context": context,
    }


def admin(pki: Path, server: str) -> JSONObject:
    return kubeconfig(
        server,
        pki / "ca.crt",
        "admin",
        {
            "client-certificate-data": _b64(pki / "admin.crt"),
            "client-key-data": _b64(pki / "admin.key"),
        },
    )


def viewer(pki: Path, server: str) -> JSONObject:
    token = (pki / "viewer.token").read_text().strip()
    return kubeconfig(server, pki / "ca.crt", "viewer", {"token": token})


def write(path: Path, config: JSONObject) -> None:
    """Written readable by its owner only: it holds a key or a token."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    path.chmod(0o600)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m podplane.componentbase.kubeconfig",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "pki",
        type=Path,
        help="the cluster's PKI folder (python -m podplane.componentbase.pki wrote it)",
    )
    p.add_argument(
        "--server",
        default="https://localhost:8443",
        help="the REST API's URL (default https://localhost:8443)",
    )
    p.add_argument("--out", type=Path, default=Path("build/kubeconfig"))
    p.add_argument("--viewer-out", type=Path, default=Path("build/kubeconfig-viewer"))
    args = p.parse_args(argv)
    try:
        write(args.out, admin(args.pki, args.server))
        write(args.viewer_out, viewer(args.pki, args.server))
    except OSError as e:
        print(f"kubeconfig: cannot read the PKI in {args.pki}: {e}", file=sys.stderr)
        return 1
    print(f"{args.out} (admin) and {args.viewer_out} (viewer) for {args.server}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
