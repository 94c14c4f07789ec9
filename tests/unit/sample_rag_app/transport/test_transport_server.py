"""The request-read deadline, on a real uvicorn server on a loopback port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from starlette.types import Receive, Scope, Send

from sample_rag_app.transport.server import deadline_protocol

DEADLINE = 0.5


async def _echo_app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break
    answer = b"got " + body
    headers = [(b"content-length", str(len(answer)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": answer})


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    """A uvicorn server with a 0.5 s request deadline and a 30 s keep-alive."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = int(probe.getsockname()[1])
    config = uvicorn.Config(
        _echo_app,
        host="127.0.0.1",
        port=free,
        http=deadline_protocol(DEADLINE),
        timeout_keep_alive=30,
        log_config=None,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    yield free
    server.should_exit = True
    thread.join(5)


def _closed_after(conn: socket.socket, limit: float) -> float:
    """Seconds until the server closes ``conn`` (reads until EOF, at most ``limit``)."""
    start = time.monotonic()
    conn.settimeout(limit)
    try:
        while conn.recv(4096):
            pass
    except TimeoutError:
        return float("inf")
    return time.monotonic() - start


def test_a_connection_that_sends_nothing_is_closed(port: int) -> None:
    """A silent connection is closed once the deadline passes."""
    with socket.create_connection(("127.0.0.1", port)) as conn:
        assert DEADLINE * 0.8 <= _closed_after(conn, 5) < DEADLINE + 1


def test_headers_that_never_end_are_closed(port: int) -> None:
    """Headers trickled in but never finished cannot hold the connection."""
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        time.sleep(DEADLINE / 2)
        conn.sendall(b"X-Slow: 1\r\n")
        assert _closed_after(conn, 5) < DEADLINE + 1


def test_a_body_that_never_ends_is_closed(port: int) -> None:
    """Complete headers with a body that stops short are cut off at the deadline too."""
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        assert _closed_after(conn, 5) < DEADLINE + 1


def test_a_prompt_request_is_served_and_the_kept_alive_connection_is_guarded(port: int) -> None:
    """A complete request is answered; a second, unfinished one on the same connection
    is closed at the deadline rather than by the 30 s keep-alive timeout."""
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
        conn.settimeout(5)
        response = b""
        while not response.endswith(b"got hi"):
            response += conn.recv(4096)
        time.sleep(DEADLINE * 1.5)  # idle between requests: only keep-alive applies
        conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        assert _closed_after(conn, 5) < DEADLINE + 1
