"""`python -m lab.gateway`: the relay in front of the app's replicas (docker-compose.yml)."""

from __future__ import annotations

import asyncio
import contextlib

from lab.alert_sink.app import configure_logging
from lab.gateway.relay import serve
from lab.gateway.settings import GatewaySettings


def main() -> None:
    settings = GatewaySettings()
    configure_logging(settings.log_level)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
