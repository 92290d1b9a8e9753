"""Leader election's flags (component-base's config/options BindLeaderElectionFlags): the
--leader-elect* flags of kube-scheduler and kube-controller-manager, and the config they give."""

from __future__ import annotations

import argparse

from podplane.client.leaderelection import (
    LEASE_DURATION,
    NAMESPACE,
    RENEW_DEADLINE,
    RETRY_PERIOD,
    LeaderElectionConfig,
    default_identity,
)
from podplane.componentbase import flags


def add_flags(parser: argparse.ArgumentParser, resource_name: str) -> None:
    """kube-controller-manager's (and kube-scheduler's) --leader-elect* flags."""
    flags.add_boolean(
        parser,
        "--leader-elect",
        default=True,
        help="run only while holding the leader lease, so that replicas can "
        "stand by (default true)",
    )
    parser.add_argument(
        "--leader-elect-lease-duration",
        type=flags.duration,
        default=LEASE_DURATION,
        help="how long standbys wait after the last renewal before taking over (default 15s)",
    )
    parser.add_argument(
        "--leader-elect-renew-deadline",
        type=flags.duration,
        default=RENEW_DEADLINE,
        help="how long the leader keeps trying to renew before it gives up (default 10s)",
    )
    parser.add_argument(
        "--leader-elect-retry-period",
        type=flags.duration,
        default=RETRY_PERIOD,
        help="how often candidates try to acquire or renew (default 2s)",
    )
    parser.add_argument(
        "--leader-elect-resource-name",
        default=resource_name,
        help=f"name of the Lease in {NAMESPACE} (default {resource_name})",
    )
    parser.add_argument(
        "--leader-elect-resource-namespace",
        default=NAMESPACE,
        help=f"namespace of the Lease (default {NAMESPACE})",
    )


def config_from_flags(
    parser: argparse.ArgumentParser, args: argparse.Namespace, identity: str | None = None
) -> LeaderElectionConfig:
    """The config the flags describe; an inconsistent set exits through parser.error."""
    try:
        return LeaderElectionConfig(
            name=args.leader_elect_resource_name,
            identity=identity or default_identity(),
            namespace=args.leader_elect_resource_namespace,
            lease_duration=args.leader_elect_lease_duration,
            renew_deadline=args.leader_elect_renew_deadline,
            retry_period=args.leader_elect_retry_period,
        )
    except ValueError as e:
        parser.error(f"--leader-elect-*: {e}")


def election_from_flags(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> LeaderElectionConfig | None:
    """The election the flags ask for: None with --leader-elect=false."""
    return config_from_flags(parser, args) if args.leader_elect else None


class LeaderElectionOptions:
    """The --leader-elect* flags as an option group (podplane.componentbase.options): validated,
    args.leader_election is the election (None with --leader-elect=false)."""

    def __init__(self, resource_name: str) -> None:
        self.resource_name = resource_name

    def add_flags(self, parser: argparse.ArgumentParser) -> None:
        add_flags(parser, self.resource_name)

    def validate(self, parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
        args.leader_election = election_from_flags(parser, args)
