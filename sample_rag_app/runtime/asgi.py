"""ASGI plumbing shared by the app's middleware and the lab's alert sink.

Both read a request's body themselves, to bound it by the bytes that arrive (a declared
Content-Length can lie, a chunked body declares none), before the framework sees it;
`replay` hands the body they read to the app as if it were arriving.
"""

from __future__ import annotations

from starlette.types import Message, Receive


class BodyTooLarge(Exception):
    """More than the allowed bytes arrived; the rest was not read."""


async def read_body(receive: Receive, max_bytes: int) -> bytes:
    """The request's body, read message by message; `BodyTooLarge` as soon as more than
    `max_bytes` have arrived."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that yields `body` as one message, then defers to the real `receive`
    (whose next message is the client's disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
