"""`python -m sample_rag_app.services.alert_sink`: serve the alert sink with uvicorn."""

from __future__ import annotations

import uvicorn

from sample_rag_app.runtime.logging import configure_logging
from sample_rag_app.runtime.startup import load_settings
from sample_rag_app.services.alert_sink.app import create_app, log
from sample_rag_app.services.alert_sink.settings import AlertSinkSettings

#: The `service` field of every log line.
SERVICE = "alert-sink"


def main() -> None:
    """Serve the sink; settings that cannot work exit 2 naming each variable."""
    settings = load_settings(AlertSinkSettings, "alert sink")
    configure_logging(settings.log_level, SERVICE)
    app = create_app(settings)
    log.info(
        "starting",
        port=settings.port,
        data_file=str(settings.data_file),
        slack=settings.slack_webhook_url is not None or settings.slack_webhook_url_file is not None,
    )
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        access_log=False,  # our JSON events say what arrived
        log_config=None,  # keep the JSON handler configure_logging installed
        log_level=settings.log_level,
        timeout_keep_alive=settings.timeout_keep_alive_seconds,
        limit_concurrency=settings.limit_concurrency,
        server_header=False,
    )


if __name__ == "__main__":
    main()
