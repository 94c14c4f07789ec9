"""The gateway relays each new connection to the next replica, bytes unchanged."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Awaitable, Callable

import pytest

import sample_rag_app.services.gateway.__main__ as gateway_main
from sample_rag_app.services.gateway.relay import Relay, error_response
from sample_rag_app.services.gateway.settings import GatewaySettings

Scenario = Callable[[Callable[[bytes], Awaitable[bytes]]], Awaitable[None]]


async def _replica(name: str) -> asyncio.Server:
    """A stand-in replica: answers each request line with its name and what it read."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readline()
        body = name.encode() + b" " + request.strip()
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()

    return await asyncio.start_server(answer, "127.0.0.1", 0)


def _port(server: asyncio.Server) -> int:
    return int(server.sockets[0].getsockname()[1])


def _run(addresses: list[str], replica_names: list[str], scenario: Scenario, **limits: int) -> None:
    """Start replicas on one port each (127.0.0.x addresses share it), a relay, run a scenario."""

    async def main() -> None:
        replicas = [await _replica(name) for name in replica_names]
        ports = {f"127.0.0.{i + 1}": _port(r) for i, r in enumerate(replicas)}
        settings = GatewaySettings(upstream_host="app", port=1, **limits)

        async def resolve(host: str, port: int) -> list[str]:
            assert host == "app"
            return list(addresses)

        async def connect_by_address(
            host: str, port: int
        ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
            # Each stand-in listens on 127.0.0.1 on a port of its own: map address -> port.
            return await asyncio.open_connection("127.0.0.1", ports.get(host, 1))

        relay = Relay(settings, resolve=resolve, connect=connect_by_address)
        relay_server = await asyncio.start_server(relay.handle, "127.0.0.1", 0)

        async def request(raw: bytes) -> bytes:
            reader, writer = await asyncio.open_connection("127.0.0.1", _port(relay_server))
            writer.write(raw)
            await writer.drain()
            reply = await reader.read()
            writer.close()
            return reply

        try:
            await scenario(request)
        finally:
            relay_server.close()
            for replica in replicas:
                replica.close()

    asyncio.run(main())


def test_connections_take_the_replicas_in_turn_with_bytes_unchanged() -> None:
    """Six connections reach three replicas twice each; each sees the request as sent."""
    seen: list[bytes] = []

    async def scenario(request: Callable[[bytes], Awaitable[bytes]]) -> None:
        for i in range(6):
            reply = await request(b"GET /healthz?n=%d HTTP/1.1\r\nhost: x\r\n\r\n" % i)
            seen.append(reply.split(b"\r\n\r\n", 1)[1])

    _run(["127.0.0.1", "127.0.0.2", "127.0.0.3"], ["a", "b", "c"], scenario)
    assert sorted(line.split()[0] for line in seen) == [b"a", b"a", b"b", b"b", b"c", b"c"]
    assert [line.split(b" ", 1)[1] for line in seen] == [
        b"GET /healthz?n=%d HTTP/1.1" % i for i in range(6)
    ]


def test_a_replica_that_refuses_is_skipped() -> None:
    """An address nothing listens on (a replica just killed) passes the turn to the next."""
    served: list[bytes] = []

    async def scenario(request: Callable[[bytes], Awaitable[bytes]]) -> None:
        for _ in range(4):
            served.append((await request(b"GET / HTTP/1.1\r\n\r\n")).split(b"\r\n\r\n")[1][:1])

    _run(["127.0.0.1", "127.0.0.9"], ["a"], scenario)
    assert served == [b"a"] * 4


def test_no_replica_gets_a_json_502() -> None:
    """With no address for the name, the client gets 502 with the app's error shape."""
    replies: list[bytes] = []

    async def scenario(request: Callable[[bytes], Awaitable[bytes]]) -> None:
        replies.append(await request(b"GET / HTTP/1.1\r\n\r\n"))

    _run([], [], scenario)
    assert replies[0].startswith(b"HTTP/1.1 502 Bad Gateway\r\n")
    assert b'"error":"no_replica"' in replies[0]


def test_error_responses_are_complete_http() -> None:
    """The content-length matches the JSON body and the connection is closed."""
    head, body = error_response(503, "Service Unavailable", "overloaded", "full").split(b"\r\n\r\n")
    assert b"content-length: %d" % len(body) in head
    assert b"connection: close" in head
    assert body == b'{"error":"overloaded","message":"full"}'


def test_settings_that_cannot_work_stop_the_start_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """GATEWAY_UPSTREAM_PORT=0 exits 2 with the variable and the value, no traceback."""
    monkeypatch.setenv("GATEWAY_UPSTREAM_PORT", "0")
    with pytest.raises(SystemExit) as info:
        gateway_main.main()
    assert info.value.code == 2
    assert "GATEWAY_UPSTREAM_PORT: Input should be greater than or equal to 1, got '0'" in (
        capsys.readouterr().err
    )


def test_connections_beyond_the_limit_get_a_json_503() -> None:
    """With max_connections=1 and one connection held open, the next one is refused with
    503 `overloaded`; the held one is relayed as usual."""

    async def main() -> bytes:
        replica = await _replica("a")
        settings = GatewaySettings(upstream_host="app", max_connections=1)

        async def resolve(host: str, port: int) -> list[str]:
            return ["127.0.0.1"]

        async def connect(
            host: str, port: int
        ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
            return await asyncio.open_connection("127.0.0.1", _port(replica))

        relay = Relay(settings, resolve=resolve, connect=connect)
        server = await asyncio.start_server(relay.handle, "127.0.0.1", 0)
        held_reader, held = await asyncio.open_connection("127.0.0.1", _port(server))
        while not relay.full:  # until the relay has taken the held connection's slot
            await asyncio.sleep(0)
        reader, writer = await asyncio.open_connection("127.0.0.1", _port(server))
        writer.write(b"GET / HTTP/1.1\r\n\r\n")
        refused = await reader.read()
        held.write(b"GET /held HTTP/1.1\r\n\r\n")
        assert (await held_reader.read()).endswith(b"a GET /held HTTP/1.1")
        server.close()
        replica.close()
        return refused

    refused = asyncio.run(main())
    assert refused.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
    assert b'"error":"overloaded"' in refused


def test_sigterm_stops_the_gateway_cleanly() -> None:
    """SIGTERM ends the gateway with exit 0 and a `gateway_stopped` line, not a kill after
    `docker compose stop`'s 10 s (a container's PID 1 has no default SIGTERM handler)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "GATEWAY_HOST": "127.0.0.1", "GATEWAY_PORT": str(port)}
    gateway = subprocess.Popen(
        [sys.executable, "-m", "sample_rag_app.services.gateway"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert gateway.stdout is not None
    assert "gateway_started" in gateway.stdout.readline()
    gateway.send_signal(signal.SIGTERM)
    assert gateway.wait(timeout=10) == 0
    assert "gateway_stopped" in gateway.stdout.read()
