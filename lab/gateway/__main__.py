"""`python -m lab.gateway`: the relay in front of the app's replicas (docker-compose.yml)."""

from __future__ import annotations

import asyncio
import contextlib

from lab.gateway.relay import serve
from lab.gateway.settings import GatewaySettings
from sample_rag_app.telemetry.logging import configure_logging

#: The `service` field of every log line.
SERVICE = "gateway"


def main() -> None:
    settings = GatewaySettings()
    configure_logging(settings.log_level, SERVICE)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
