"""`python -m sample_rag_app.services.provider`: serve the provider with uvicorn."""

from __future__ import annotations

import sys

import uvicorn
from pydantic import ValidationError

from sample_rag_app.runtime.logging import configure_logging
from sample_rag_app.services.provider.app import create_app, log
from sample_rag_app.services.provider.settings import ProviderSettings

#: The `service` field of every log line.
SERVICE = "provider"


def main() -> None:
    """Serve until interrupted; settings that cannot work exit 2 naming each variable."""
    try:
        settings = ProviderSettings()
    except ValidationError as exc:
        problems = [
            f"  PROVIDER_{'__'.join(str(p) for p in e['loc']).upper()}: {e['msg']}, "
            f"got {e['input']!r}"
            for e in exc.errors()
        ]
        print(
            "the provider cannot start with these settings:", *problems, sep="\n", file=sys.stderr
        )
        raise SystemExit(2) from None
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
