"""A TCP relay that hands each new client connection to the next replica of the app.

Why it exists: compose cannot publish one host port for several replicas, and a published
port *range* hands its ports out in rotation (on Docker 20.10 one replica recreated three
times got 18001, 18002, 18000 of 18000-18002), so `localhost:8000` would stop being the app
even with one replica. The relay owns the published port instead and plays the part a
Kubernetes Service (kube-proxy) plays: for every new connection it looks the replicas'
name up anew (compose's DNS answers one address per running replica), takes the next
address in turn, and copies bytes both ways. It never parses HTTP: requests, responses,
headers (X-Served-By names the replica) and the app's own limits and deadlines pass
through unchanged. A kept-alive connection stays with its replica, so a client that sends
a query and then reads /metrics on the same connection meets the same replica; `curl`
(a connection per request) goes round the replicas.

Why not an off-the-shelf proxy (HAProxy, nginx, Traefik): the lab must run from the images
it already has, and it builds only this Python image; a relay of ~100 lines in it costs no
extra image and no HTTP configuration to learn.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
from collections.abc import Awaitable, Callable

import orjson
import structlog

from sample_rag_app.services.gateway.settings import GatewaySettings

log = structlog.get_logger("sample_rag_app.services.gateway")

Resolver = Callable[[str, int], Awaitable[list[str]]]
Connector = Callable[[str, int], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]
CHUNK_BYTES = 65536


async def resolve_addresses(host: str, port: int) -> list[str]:
    """The name's addresses now, sorted (IPv4 only when it has any); [] when it has none."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return []
    ipv4 = sorted({str(info[4][0]) for info in infos if info[0] == socket.AF_INET})
    return ipv4 or sorted({str(info[4][0]) for info in infos})


def error_response(status: int, reason: str, error: str, message: str) -> bytes:
    """A complete HTTP/1.1 response in the app's error shape, closing the connection."""
    body = orjson.dumps({"error": error, "message": message})
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class Relay:
    """Accepts client connections and relays each to one replica, taking them in turn."""

    def __init__(
        self,
        settings: GatewaySettings,
        *,
        resolve: Resolver = resolve_addresses,
        connect: Connector = asyncio.open_connection,
    ) -> None:
        self.settings = settings
        self._resolve = resolve
        self._connect_to = connect
        self._turn = itertools.count()
        self._slots = asyncio.Semaphore(settings.max_connections)

    @property
    def full(self) -> bool:
        """True while `max_connections` client connections are being relayed."""
        return self._slots.locked()

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        """A connection to the next replica; the others in turn when it refuses; None if all do."""
        settings = self.settings
        addresses = await self._resolve(settings.upstream_host, settings.upstream_port)
        if not addresses:
            return None
        first = next(self._turn) % len(addresses)
        for address in addresses[first:] + addresses[:first]:
            try:
                return await asyncio.wait_for(
                    self._connect_to(address, settings.upstream_port),
                    settings.connect_timeout_seconds,
                )
            except (TimeoutError, OSError) as exc:
                log.warning("replica_unreachable", address=address, error=type(exc).__name__)
        return None

    async def handle(
        self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter
    ) -> None:
        """Relay one client connection until either side closes it."""
        if self.full:
            await _refuse(
                client_reader,
                client,
                error_response(
                    503, "Service Unavailable", "overloaded", "the gateway's connections are full"
                ),
            )
            return
        async with self._slots:
            upstream = await self._connect()
            if upstream is None:
                target = f"{self.settings.upstream_host}:{self.settings.upstream_port}"
                await _refuse(
                    client_reader,
                    client,
                    error_response(
                        502, "Bad Gateway", "no_replica", f"no replica of {target} accepts"
                    ),
                )
                return
            replica_reader, replica = upstream
            # The replica's side decides when the connection is over: once it closes, the
            # client's side (idle, or half-closed after its request) is cut too.
            upload = asyncio.create_task(_pipe(client_reader, replica))
            try:
                await _pipe(replica_reader, client)
            finally:
                upload.cancel()
                await _close(replica)
                await _close(client)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy until end of stream, then pass the end on (half-close) where the socket can."""
    try:
        while chunk := await reader.read(CHUNK_BYTES):
            writer.write(chunk)
            await writer.drain()
        if writer.can_write_eof() and not writer.is_closing():
            writer.write_eof()
    except OSError:
        writer.close()


async def _refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, reply: bytes) -> None:
    """Answer with `reply` and close, reading what the client sent first: closing a socket
    with unread bytes resets the connection, and the client would lose the answer."""
    try:
        await asyncio.wait_for(reader.read(CHUNK_BYTES), 1.0)
        writer.write(reply)
        await writer.drain()
    except (TimeoutError, OSError):
        pass
    await _close(writer)


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()


async def serve(settings: GatewaySettings, *, resolve: Resolver = resolve_addresses) -> None:
    """Listen on the gateway's port until cancelled."""
    relay = Relay(settings, resolve=resolve)
    server = await asyncio.start_server(relay.handle, settings.host, settings.port)
    log.info(
        "gateway_started",
        port=settings.port,
        upstream=f"{settings.upstream_host}:{settings.upstream_port}",
    )
    async with server:
        await server.serve_forever()
