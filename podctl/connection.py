"""Reaching the apiserver: where it is, and failing fast (as kubectl does) when nothing listens
there."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc

from podctl.errors import CommandError, connection_refused
from podplane.client.clientset import Client, user_agent
from podplane.client.credentials import CredentialsError, credentials_from, server_from_config

DEFAULT_SERVER = "localhost:6443"
SERVER_ENV = "PODPLANE_SERVER"
CONNECT_TIMEOUT = 10.0


def default_server() -> str:
    return os.environ.get(SERVER_ENV) or server_from_config() or DEFAULT_SERVER


async def wait_until_connected(
    channel: grpc.aio.Channel, server: str, timeout: float = CONNECT_TIMEOUT
) -> None:
    """Returns once the channel is READY; a refused or failing connection raises at once rather than
    waiting for the server to appear, which is what every call would do (they wait for
    readiness)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    state = channel.get_state(try_to_connect=True)
    while state != grpc.ChannelConnectivity.READY:
        if state in (grpc.ChannelConnectivity.TRANSIENT_FAILURE, grpc.ChannelConnectivity.SHUTDOWN):
            raise connection_refused(server)
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise connection_refused(server)
        try:
            async with asyncio.timeout(remaining):
                await channel.wait_for_state_change(state)
        except TimeoutError:
            raise connection_refused(server) from None
        state = channel.get_state(try_to_connect=True)


@asynccontextmanager
async def connect(server: str) -> AsyncIterator[Client]:
    # The cluster CA and a client certificate or token: PODPLANE_CA/CERT/KEY/TOKEN_FILE or
    # ~/.podplane/config (podplane.client.credentials); none of them: plaintext.
    try:
        credentials = credentials_from()
    except CredentialsError as e:
        raise CommandError(f"error: {e}") from None
    client = Client(server, credentials=credentials, agent=user_agent("podctl"))
    try:
        await wait_until_connected(client.channel, server)
        yield client
    finally:
        await client.close()
