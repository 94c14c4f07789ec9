"""`python -m sample_rag_app.services.provider`: serve the provider with uvicorn."""

from __future__ import annotations

import uvicorn

from sample_rag_app.runtime.logging import configure_logging
from sample_rag_app.runtime.startup import load_settings
from sample_rag_app.services.provider.app import create_app, log
from sample_rag_app.services.provider.settings import ProviderSettings

#: The `service` field of every log line.
SERVICE = "provider"


def main() -> None:
    """Serve until interrupted; settings that cannot work exit 2 naming each variable."""
    settings = load_settings(ProviderSettings, "provider")
    configure_logging(settings.log_level, SERVICE)
    log.info(
        "starting", port=settings.port, seed=settings.seed, admin=settings.admin_token is not None
    )
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        access_log=False,
        log_config=None,  # keep the JSON handler configure_logging installed
        log_level=settings.log_level,
        server_header=False,
    )


if __name__ == "__main__":
    main()
