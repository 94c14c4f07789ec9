"""`python -m lab.alert_sink`: serve the alert sink with uvicorn."""

from __future__ import annotations

import uvicorn

from lab.alert_sink.app import configure_logging, create_app, log
from lab.alert_sink.settings import AlertSinkSettings


def main() -> None:
    settings = AlertSinkSettings()
    configure_logging(settings.log_level)
    app = create_app(settings)
    log.info(
        "starting",
        port=settings.port,
        data_file=str(settings.data_file),
        slack=settings.slack_webhook_url is not None or settings.slack_webhook_url_file is not None,
    )
    # uvicorn's own access log is plain text: our JSON events say what arrived.
    uvicorn.run(app, host=settings.host, port=settings.port, access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
