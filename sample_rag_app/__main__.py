"""``python -m sample_rag_app``: serve the app with uvicorn (one worker, JSON logs only).

One process per container: the lab scales by replicas (README, "Scaling out").
"""

from __future__ import annotations

import uvicorn

from sample_rag_app.runtime.logging import configure_logging
from sample_rag_app.runtime.startup import load_settings
from sample_rag_app.settings import Settings
from sample_rag_app.transport.server import deadline_protocol


def main() -> None:
    """Configure logging and run uvicorn on RAG_HOST:RAG_PORT, with its connections bounded.

    Settings that cannot work stop the start with exit status 2 and a message naming
    each environment variable at fault and the values it allows.
    """
    settings = load_settings(Settings, "app")
    configure_logging(settings.log_level, settings.service_name, replica=settings.replica_name)
    uvicorn.run(
        "sample_rag_app.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        access_log=False,  # the app writes its own JSON access line (event http_request)
        log_config=None,  # keep the JSON handler configure_logging installed
        log_level=settings.log_level,
        proxy_headers=False,
        server_header=False,
        http=deadline_protocol(settings.request_read_timeout_seconds),
        timeout_keep_alive=settings.timeout_keep_alive_seconds,
        limit_concurrency=settings.limit_concurrency,
        h11_max_incomplete_event_size=settings.max_header_bytes,
    )


if __name__ == "__main__":
    main()
