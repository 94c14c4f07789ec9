"""uvicorn's h11 protocol with a deadline for receiving each request.

uvicorn times out idle keep-alive connections, but nothing else: a client that connects
and never finishes its request line, headers or body holds the connection for ever
(slowloris). uvicorn has no option for it (encode/uvicorn#157 lists the
`--timeout-request-start` it lacks), and ASGI middleware runs only once the headers are
complete, so the deadline lives in the protocol: it starts when a connection opens and
when the first byte of a further request arrives on a kept-alive one, stops once the whole
request (headers and body) is in, and closes the connection when it passes.
"""

from __future__ import annotations

import asyncio

import structlog
from uvicorn.protocols.http.h11_impl import H11Protocol

logger = structlog.get_logger("sample_rag_app.transport")


class RequestDeadlineProtocol(H11Protocol):
    """H11Protocol that closes a connection whose request is not in within the deadline."""

    request_read_timeout: float = 10.0
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._deadline is None and self._between_requests():
            self._arm()
        super().data_received(data)
        if self._deadline is not None and self._request_received():
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _between_requests(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _request_received(self) -> bool:
        return (
            self.cycle is not None
            and not self.cycle.response_complete
            and not (self.cycle.more_body)
        )

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.request_read_timeout, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        logger.info(
            "request_read_timeout",
            timeout_seconds=self.request_read_timeout,
            client=f"{self.client[0]}:{self.client[1]}" if self.client else None,
        )
        self.transport.close()


def deadline_protocol(request_read_timeout: float) -> type[RequestDeadlineProtocol]:
    """The protocol class to pass as uvicorn's ``http``, with this deadline in seconds."""
    return type(
        "RequestDeadlineProtocol",
        (RequestDeadlineProtocol,),
        {"request_read_timeout": request_read_timeout},
    )
