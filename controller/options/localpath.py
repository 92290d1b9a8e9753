"""The local-path provisioner: where on the nodes it puts volumes, its helper pods' image, and the
default storage class it creates."""

from __future__ import annotations

import argparse

from controller.framework.manager import ControllerOptions


def add_flags(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("the local-path provisioner")
    g.add_argument(
        "--local-path-dir",
        default=ControllerOptions.local_path_dir,
        help="the directory of the nodes that the local-path provisioner puts volumes in "
        f"(default {ControllerOptions.local_path_dir})",
    )
    g.add_argument(
        "--local-path-helper-image",
        default=ControllerOptions.local_path_helper_image,
        help="the image of the helper pods that remove a deleted volume's directory "
        f"(default {ControllerOptions.local_path_helper_image})",
    )
    g.add_argument(
        "--default-storage-class",
        default=ControllerOptions.default_storage_class,
        help="the default storage class the local-path provisioner creates at start unless it "
        f"exists (default {ControllerOptions.default_storage_class}; empty: none)",
    )


def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Every folder, image and name is accepted: the provisioner reports what it cannot use."""
