"""The alert sink's HTTP API: POST /webhook, GET /alerts, GET /healthz.

Every response that is not a success is JSON ``{"error", "details"}``; every log line,
uvicorn's included, is one JSON object on stdout, written by the sample app's logging
setup (`python -m sample_rag_app.services.alert_sink` configures it). The sink shares that
setup and the ASGI
body replay with the app, one copy of each: it is a service of the same runtime image,
not a check, so the import boundary lists it as an exception.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import structlog
from fastapi import BackgroundTasks, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sample_rag_app.runtime.asgi import BodyTooLarge, read_body, replay
from sample_rag_app.services.alert_sink.models import Rfc3339, WebhookPayload
from sample_rag_app.services.alert_sink.settings import AlertSinkSettings
from sample_rag_app.services.alert_sink.slack import forward
from sample_rag_app.services.alert_sink.store import AlertStore

log = structlog.get_logger("sample_rag_app.services.alert_sink")

PAGE_DEFAULT = 100
PAGE_MAX = 1000


def _error(status: int, error: str, msg: str, kind: str) -> JSONResponse:
    return JSONResponse(
        {"error": error, "details": [{"loc": ["body"], "msg": msg, "type": kind}]},
        status_code=status,
        headers={"Connection": "close"} if status in (400, 413) else None,
    )


class RequestGuard:
    """Outermost of the sink's own middleware: bounds the body by the bytes that arrive,
    refuses ambiguous framing, and turns any unhandled failure into one JSON 500 and one
    JSON log line (Alertmanager retries a 5xx)."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            rejection, body = await self._read_body(scope, receive)
            if rejection is not None:
                log.warning("request_rejected", path=scope["path"], status=rejection.status_code)
                await rejection(scope, receive, tracked_send)
                return
            await self.app(scope, replay(body, receive), tracked_send)
        except Exception:
            log.exception("unhandled_exception", path=scope["path"], method=scope["method"])
            if not started:
                await _error(500, "internal error", "the sink failed; try again", "internal")(
                    scope, receive, send
                )

    async def _read_body(self, scope: Scope, receive: Receive) -> tuple[JSONResponse | None, bytes]:
        names = {name for name, _ in scope["headers"]}
        if b"content-length" in names and b"transfer-encoding" in names:
            return _error(
                400,
                "ambiguous framing",
                "Content-Length and Transfer-Encoding together are refused",
                "invalid_framing",
            ), b""
        too_large = _error(
            413,
            "body too large",
            f"the body is larger than {self.max_body_bytes} bytes",
            "body_too_large",
        )
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            return too_large, b""
        try:
            return None, await read_body(receive, self.max_body_bytes)
        except BodyTooLarge:
            return too_large, b""


def _as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def create_app(settings: AlertSinkSettings | None = None) -> FastAPI:
    """The FastAPI app; the store is loaded from `settings.data_file` now."""
    settings = settings or AlertSinkSettings()
    store = AlertStore(settings.data_file, memory_max_bytes=settings.memory_max_bytes)
    app = FastAPI(title="RAG lab alert sink", version="1")
    app.state.store = store
    app.state.settings = settings
    app.add_middleware(RequestGuard, max_body_bytes=settings.max_body_bytes)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        log.warning("invalid_request", path=request.url.path, errors=errors)
        return JSONResponse(
            status_code=422, content={"error": "invalid request", "details": errors}
        )

    @app.post(
        "/webhook",
        responses={
            400: {"description": "Content-Length and Transfer-Encoding together."},
            413: {"description": "Body larger than ALERT_SINK_MAX_BODY_BYTES."},
            422: {"description": "Not a version 4 notification, a lone surrogate, too deep."},
            500: {"description": "The notification could not be stored; send it again."},
        },
    )
    def webhook(payload: WebhookPayload, background: BackgroundTasks) -> dict[str, Any]:
        item = store.append(payload)
        log.info(
            "notification_received",
            receiver=payload.receiver,
            status=payload.status,
            group_key=payload.group_key,
            alerts=[
                {
                    "alertname": a.labels.get("alertname", ""),
                    "status": a.status,
                    "severity": a.labels.get("severity", ""),
                    "summary": a.annotations.get("summary", ""),
                }
                for a in payload.alerts
            ],
            received_at=item.received_at.isoformat(),
        )
        try:
            slack_url = settings.slack_url()
        except OSError as exc:
            log.warning("slack_url_unreadable", error=str(exc))
            slack_url = None
        if slack_url:
            background.add_task(forward, slack_url, payload, timeout=settings.slack_timeout_seconds)
        return {"status": "stored", "alerts": len(payload.alerts)}

    @app.get("/alerts")
    def alerts(
        alertname: str | None = None,
        status: Annotated[str | None, Query(pattern="^(firing|resolved)$")] = None,
        since: Annotated[
            Rfc3339 | None, Query(description="RFC 3339; alerts received at or after it")
        ] = None,
        limit: Annotated[
            int, Query(ge=1, le=PAGE_MAX, description="Most alerts in one page.")
        ] = PAGE_DEFAULT,
        before: Annotated[
            int | None,
            Query(
                ge=0,
                description="Only alerts whose id is below this: the `next_before` of the "
                "previous page.",
            ),
        ] = None,
    ) -> dict[str, Any]:
        """The newest `limit` matching alerts in memory, oldest first. When older ones
        match too, `next_before` is the cursor to pass as `before` for them; else null."""
        page = store.page(
            alertname=alertname,
            status=status,
            since=_as_utc(since) if since else None,
            limit=limit,
            before=before,
        )
        return {"alerts": page.alerts, "count": len(page.alerts), "next_before": page.next_before}

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "notifications": len(store.notifications())}

    return app
