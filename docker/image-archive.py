"""Pod images as `docker save` writes them, made at image build time (docker/node.Dockerfile) so
that a node starting up only streams them into its runtime (`ctr images import`, `docker load`)
instead of making them there: tarring a root filesystem, hashing it and storing it again cost each
node of `make up` 15-20 s of the two cores.

  image-archive.py layer ROOT LAYERS/NAME
        LAYERS/NAME/layer.tar: ROOT as one layer; LAYERS/NAME/diff_id: its digest
  image-archive.py image DIR --layers LAYERS --layer NAME... --tag NAME:TAG... [--cmd JSON]
        DIR/manifest.json (an entry more for each image made into the same DIR), the image's
        config as DIR/<its digest>.json, and DIR/NAME, a link to LAYERS/NAME

A node streams `tar -c -h -C DIR .` into its runtime (docker/node-entrypoint.sh: `ctr images
import`, `docker load`); a layer made once serves several images (busybox and the pause sandbox;
the add-ons and the control plane share the app's). Python's standard library only: it runs in
the base image's python3."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ARCHITECTURES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le"}
PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return f"sha256:{digest.hexdigest()}"


def make_layer(root: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tar = out / "layer.tar"
    # GNU tar keeps what a root filesystem holds (owners by number, modes, links, device nodes);
    # sorted names give the same layer, and so the same digest, from the same files.
    subprocess.run(
        ["tar", "--numeric-owner", "--sort=name", "-C", str(root), "-cf", str(tar), "."],
        check=True,
    )
    (out / "diff_id").write_text(sha256_of(tar) + "\n")


def make_image(
    out: Path, layers_dir: Path, layers: list[str], tags: list[str], cmd: list[str], env: list[str]
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for layer in layers:
        link = out / layer
        if not link.is_symlink():
            link.symlink_to(os.path.relpath(layers_dir / layer, out))
    diff_ids = [(out / layer / "diff_id").read_text().strip() for layer in layers]
    config = {
        "architecture": ARCHITECTURES.get(platform.machine(), platform.machine()),
        "os": "linux",
        "config": {"Env": env or [PATH], "Cmd": cmd},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created_by": f"docker/image-archive.py layer {layer}"} for layer in layers],
    }
    body = json.dumps(config, sort_keys=True).encode()
    name = f"{hashlib.sha256(body).hexdigest()}.json"
    (out / name).write_bytes(body)
    manifest_path = out / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else []
    manifest.append(
        {"Config": name, "RepoTags": tags, "Layers": [f"{layer}/layer.tar" for layer in layers]}
    )
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="image-archive.py", description=__doc__)
    commands = p.add_subparsers(dest="command", required=True)
    layer = commands.add_parser("layer", help="one root filesystem as a layer")
    layer.add_argument("root", type=Path)
    layer.add_argument("out", type=Path)
    image = commands.add_parser("image", help="an image of layers made into the same folder")
    image.add_argument("out", type=Path)
    image.add_argument("--layers", type=Path, required=True, help="the folder of the layers")
    image.add_argument("--layer", action="append", required=True, help="a layer's name")
    image.add_argument("--tag", action="append", required=True)
    image.add_argument("--cmd", type=json.loads, default=[], help="a JSON list")
    image.add_argument("--env", action="append", default=[], help=f"K=V (default {PATH})")
    args = p.parse_args(argv)
    if args.command == "layer":
        make_layer(args.root, args.out)
    else:
        make_image(args.out, args.layers, args.layer, args.tag, args.cmd, args.env)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
