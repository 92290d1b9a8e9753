"""Feature gates (--feature-gates, component-base's featuregate): comma-separated NAME=BOOL pairs
switching the kubelet's gated features, each off unless set, as Kubernetes 1.31 ships them. The
gates this kubelet has: EventedPLEG (beta, off): follow the CRI runtime's container events and
relist only when one comes or every 300 s (kubelet/pod/pleg.py)."""

from __future__ import annotations

import argparse

from podplane.componentbase.options import fail

# Each gate this kubelet knows, with its default.
GATES: dict[str, bool] = {"EventedPLEG": False}
# Go's strconv.ParseBool.
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def add_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("feature gates")
    g.add_argument(
        "--feature-gates",
        default="",
        help="comma-separated key=value pairs that describe feature gates for alpha/experimental "
        "features. Options are: " + ", ".join(f"{name}=true|false" for name in sorted(GATES)),
    )


def gates(value: str) -> dict[str, bool]:
    """Every gate's value, the named ones as given (ValueError with component-base's message for
    an unknown gate or a value that is not a bool)."""
    found = dict(GATES)
    for item in filter(None, (part.strip() for part in value.split(","))):
        name, sep, setting = item.partition("=")
        name = name.strip()
        if not sep:
            raise ValueError(f"missing bool value for {name}")
        if name not in GATES:
            raise ValueError(f"unrecognized feature gate: {name}")
        setting = setting.strip()
        if setting not in _TRUE | _FALSE:
            raise ValueError(
                f"invalid value of {name}={setting}, err: strconv.ParseBool: parsing "
                f'"{setting}": invalid syntax'
            )
        found[name] = setting in _TRUE
    return found


def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """args.feature_gates becomes every gate's value by name."""
    try:
        args.feature_gates = gates(args.feature_gates)
    except ValueError as e:
        fail(parser, "--feature-gates", str(e))
