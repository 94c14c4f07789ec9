"""The alert sink's HTTP API: POST /webhook, GET /alerts, GET /healthz."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any

import structlog
from fastapi import BackgroundTasks, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from lab.alert_sink.models import WebhookPayload
from lab.alert_sink.settings import AlertSinkSettings
from lab.alert_sink.slack import forward
from lab.alert_sink.store import AlertStore

log = structlog.get_logger("lab.alert_sink")


def configure_logging(level: str = "info") -> None:
    """JSON log lines on stdout, one event per line."""
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.dict_tracebacks,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        # No file bound here: each line goes to whatever sys.stdout is at the time.
        logger_factory=structlog.PrintLoggerFactory(),
        cache_logger_on_first_use=False,
    )


def _as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def create_app(settings: AlertSinkSettings | None = None) -> FastAPI:
    """The FastAPI app; the store is loaded from `settings.data_file` now."""
    settings = settings or AlertSinkSettings()
    store = AlertStore(settings.data_file)
    app = FastAPI(title="RAG lab alert sink", version="1")
    app.state.store = store
    app.state.settings = settings

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

    @app.post("/webhook")
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
            datetime | None, Query(description="RFC 3339; alerts received at or after it")
        ] = None,
    ) -> dict[str, Any]:
        found = store.alerts(
            alertname=alertname, status=status, since=_as_utc(since) if since else None
        )
        return {"alerts": found, "count": len(found)}

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "notifications": len(store.notifications())}

    return app
