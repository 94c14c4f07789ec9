"""`python -m lab.gateway`: the relay in front of the app's replicas (docker-compose.yml)."""

from __future__ import annotations

import asyncio
import contextlib
import sys

from pydantic import ValidationError

from lab.gateway.relay import serve
from lab.gateway.settings import GatewaySettings
from sample_rag_app.telemetry.logging import configure_logging

#: The `service` field of every log line.
SERVICE = "gateway"


def main() -> None:
    """Serve until interrupted; settings that cannot work exit 2 naming each variable."""
    try:
        settings = GatewaySettings()
    except ValidationError as exc:
        problems = [
            f"  GATEWAY_{str(e['loc'][0]).upper()}: {e['msg']}, got {e['input']!r}"
            for e in exc.errors()
        ]
        print("the gateway cannot start with these settings:", *problems, sep="\n", file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging(settings.log_level, SERVICE)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
