"""The scheduler's bind stream (Pods/BindStream) against the real apiserver and etcd, through a TCP
proxy that cuts every connection mid-way: no acknowledged bind is lost, no pod is bound twice
(each bind is its own compare-and-swap, so a bind that landed before the break refuses its retry),
and a refused binding is answered on its own while the others in its message succeed."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import grpc

from podplane.client.clientset import Client
from podplane.client.streams import BindStream
from scheduler.scheduler import MAX_BINDS_IN_FLIGHT as IN_FLIGHT  # as the scheduler
from tests.integration.api_objects import pod
from tests.support import new_namespace

PODS = 240
TAKEN = 8  # pods bound before the stream binds them: each must be refused alone
BREAK_AFTER = 60  # acknowledged binds before the proxy cuts the connections


# A client-to-apiserver chunk at least this long carries a stream message with a binding (one
# binding's namespace, name, node and uid, with the DATA frame's and gRPC's prefixes); HTTP/2's own
# frames from the client (WINDOW_UPDATE 13 bytes, PING 17, SETTINGS ACK 9) are shorter.
REQUEST_BYTES = 64


class CuttingProxy:
    """Forwards TCP connections to the apiserver; cut() aborts every open one (a connection that
    breaks, both ways at once), and later connections are forwarded again. cut_at_next_request()
    cuts them just after the next request from the client has been forwarded: the binds it
    carries are then in flight, sent and unanswered, whatever the apiserver did with them (a cut
    when some bind is acknowledged could find none in flight: those answered together, a group
    commit's, are acknowledged before the ones waiting for their slots are sent)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.cuts = 0
        self._cut_at_next_request = False
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._pipes: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._open.update((writer, up_writer))
        loop = asyncio.get_running_loop()
        for source, sink, upstream in ((reader, up_writer, True), (up_reader, writer, False)):
            task = loop.create_task(self._pipe(source, sink, upstream))
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    async def _pipe(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, upstream: bool
    ) -> None:
        try:
            while data := await source.read(65536):
                sink.write(data)
                if upstream and self._cut_at_next_request and len(data) >= REQUEST_BYTES:
                    self._cut_at_next_request = False
                    self.cut()
                    return
                await sink.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            sink.close()
            self._open.discard(sink)

    def cut_at_next_request(self) -> None:
        self._cut_at_next_request = True

    def cut(self) -> None:
        self.cuts += 1
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)


async def test_a_bind_stream_cut_mid_way_loses_no_acknowledged_bind_and_binds_nothing_twice(
    client: Client,
) -> None:
    ns = await new_namespace(client)
    names = [f"p{i:03d}" for i in range(PODS)]
    created = await asyncio.gather(*(client.pods.create(pod(name, ns)) for name in names))
    uids = {p.metadata.name: p.metadata.uid for p in created}
    _, listed_at = await client.pods.list_all(ns)
    taken = set(names[:: PODS // TAKEN])
    for name in taken:
        await client.bind(ns, name, "node-before", uids[name])

    # Every change of a pod's node, as the watch sees it from before the binds.
    nodes_seen: dict[str, list[str]] = defaultdict(list)

    async def watch() -> None:
        async for event in client.pods.watch(ns, resource_version=listed_at):
            seen = nodes_seen[event.object.metadata.name]
            if event.object.spec.node_name != (seen[-1] if seen else ""):
                seen.append(event.object.spec.node_name)

    watching = asyncio.ensure_future(watch())

    proxy = CuttingProxy(int(client.target.rsplit(":", 1)[1]))
    await proxy.start()
    proxied = Client(f"127.0.0.1:{proxy.port}", timeout=10)
    binds = BindStream(proxied)
    acknowledged: dict[str, str] = {}  # pod -> the node its acknowledged bind set
    refused: dict[str, grpc.aio.AioRpcError] = {}  # the first attempt's refusal, by pod
    slots = asyncio.Semaphore(IN_FLIGHT)

    async def bind(name: str, node: str) -> None:
        async with slots:
            try:
                await binds.bind(ns, name, node, uids[name])
            except grpc.aio.AioRpcError as e:
                refused[name] = e
                return
        acknowledged[name] = node
        if len(acknowledged) == BREAK_AFTER:
            proxy.cut_at_next_request()

    try:
        await asyncio.gather(*(bind(name, f"node-{i % 10}") for i, name in enumerate(names)))
        assert proxy.cuts == 1
        broken = {n for n, e in refused.items() if e.code() != grpc.StatusCode.ABORTED}
        assert broken, "the cut broke no bind in flight"
        # Failed as the stream ended: grpcio reports a stream whose connection is reset as
        # UNAVAILABLE ("Socket closed", "Connection reset by peer") or, now and then, INTERNAL
        # ("Internal error from Core").
        assert {e.code() for n, e in refused.items() if n in broken} <= {
            grpc.StatusCode.UNAVAILABLE,
            grpc.StatusCode.INTERNAL,
            grpc.StatusCode.CANCELLED,
        }
        # Conflicts answered per pod: each pod bound before is refused on its own, whatever
        # else its message carried.
        conflicts = {n for n, e in refused.items() if e.code() == grpc.StatusCode.ABORTED}
        assert len(conflicts) >= TAKEN // 2 and conflicts <= taken
        assert taken - conflicts <= broken  # in flight at the cut
        for name in conflicts:
            assert 'already assigned to node "node-before"' in (refused[name].details() or "")
        assert len(acknowledged) >= BREAK_AFTER

        # What the scheduler does with a bind that failed: tries again, on a new stream. A bind
        # that landed before the cut refuses the retry; one that did not lands now.
        retried: dict[str, str] = {}  # pod -> "bound" or "refused"
        for name in sorted(broken):
            try:
                await binds.bind(ns, name, "node-retry", uids[name])
                retried[name] = "bound"
                acknowledged[name] = "node-retry"
            except grpc.aio.AioRpcError as e:
                assert e.code() == grpc.StatusCode.ABORTED, e
                assert "already assigned to node" in (e.details() or "")
                retried[name] = "refused"
    finally:
        await binds.close()
        await proxied.close()
        await proxy.close()

    final = {p.metadata.name: p.spec.node_name for p in (await client.pods.list_all(ns))[0]}
    # No acknowledged bind is lost: each pod is on the node its acknowledged bind named.
    assert {name: final[name] for name in acknowledged} == acknowledged
    # Every pod is bound: the ones whose retry was refused by a bind that landed before the cut.
    assert all(final[name] for name in names)
    for name, outcome in retried.items():
        assert (final[name] == "node-retry") == (outcome == "bound")
    # Nothing bound twice: once the watch has seen every pod bound, each pod's node changed once.
    for _ in range(250):
        if all(nodes_seen[name] for name in names):
            break
        await asyncio.sleep(0.02)
    watching.cancel()
    await asyncio.gather(watching, return_exceptions=True)
    assert {name: nodes_seen[name] for name in names} == {name: [final[name]] for name in names}
