"""`python -m sample_rag_app.services.gateway`: the relay in front of the app's replicas
(docker-compose.yml)."""

from __future__ import annotations

import asyncio
import contextlib
import signal

from sample_rag_app.runtime.logging import configure_logging
from sample_rag_app.runtime.startup import load_settings
from sample_rag_app.services.gateway.relay import log, serve
from sample_rag_app.services.gateway.settings import GatewaySettings

#: The `service` field of every log line.
SERVICE = "gateway"


def main() -> None:
    """Serve until interrupted; settings that cannot work exit 2 naming each variable."""
    settings = load_settings(GatewaySettings, "gateway")
    configure_logging(settings.log_level, SERVICE)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_until_terminated(settings))


async def serve_until_terminated(settings: GatewaySettings) -> None:
    """Stop at SIGTERM: as a container's PID 1 the process has no default handler for it, so
    `docker compose stop` and `down` would wait their full 10 s and then kill the gateway."""
    serving = asyncio.current_task()
    assert serving is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, serving.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await serve(settings)
    log.info("gateway_stopped", reason="SIGTERM")


if __name__ == "__main__":
    main()
