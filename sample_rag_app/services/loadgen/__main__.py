"""``python -m sample_rag_app.services.loadgen``: wait for the app, then send steady traffic."""

from __future__ import annotations

import signal
import sys
from types import FrameType

from sample_rag_app.runtime.logging import configure_logging
from sample_rag_app.runtime.startup import load_settings
from sample_rag_app.services.loadgen.generator import LoadGenerator
from sample_rag_app.services.loadgen.settings import LoadgenSettings


def main() -> int:
    """Run until the duration ends or SIGTERM/SIGINT; exit 1 when the app never got ready,
    2 when its settings cannot work (naming each variable)."""
    settings = load_settings(LoadgenSettings, "loadgen")
    configure_logging(settings.log_level, "loadgen")
    generator = LoadGenerator(settings)

    def stop(signum: int, frame: FrameType | None) -> None:
        generator.stop_event.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if not generator.wait_until_ready():
        return 0 if generator.stop_event.is_set() else 1
    generator.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
