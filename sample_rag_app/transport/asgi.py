"""ASGI plumbing shared by the app's middleware and the lab's alert sink.

Both read a request's body themselves, to bound it by the bytes that arrive, before the
framework sees it; `replay` hands the body they read to the app as if it were arriving.
"""

from __future__ import annotations

from starlette.types import Message, Receive


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
