"""The loadgen's liveness, for a probe: it serves no port, so it renews a file instead.

The file holds the Unix time until which the generator counts as alive. Pure Python (no
app dependency): the Kubernetes render reads the path through `sample_rag_app.harness`.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sample_rag_app.services.loadgen.settings import LoadgenSettings

#: /tmp: a tmpfs in compose, an emptyDir in Kubernetes; the root filesystem is read-only.
HEARTBEAT_FILE = Path("/tmp/loadgen-alive-until")
#: The least a beat lasts: a few probes' worth, so one slow moment restarts nothing.
HEARTBEAT_MIN_SECONDS = 60.0
#: Arrivals this many mean gaps apart are rare enough (e**-10) to outlast a beat.
_GAPS_PER_BEAT = 10.0
#: Rewrites at most this often, whatever the rate.
_EVERY_SECONDS = 1.0


class Heartbeat:
    """Renewed whenever a request or a readiness poll finishes, whatever its outcome.

    An app that errors or times out is the app's trouble, which restarting the loadgen would
    not mend; a generator whose scheduler died or whose workers are all stuck finishes
    nothing, and lets the time lapse. Written to a scratch file and renamed, so a probe never
    reads half a number. `path` None: no file.
    """

    def __init__(
        self,
        path: Path | None,
        lasts_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.lasts_seconds = lasts_seconds
        self._clock = clock
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        self._last: float | None = None

    @classmethod
    def for_settings(cls, settings: LoadgenSettings, path: Path | None) -> Heartbeat:
        """Long enough for a rare wait between two arrivals at the rate, plus a timeout."""
        gaps = _GAPS_PER_BEAT / settings.rate_per_second
        lasts = max(HEARTBEAT_MIN_SECONDS, gaps + settings.request_timeout_seconds)
        return cls(path, lasts)

    def beat(self) -> None:
        """Renew the file (OSError when it cannot be written)."""
        with self._lock:
            now = self._clock()
            if self.path is None or (self._last is not None and now - self._last < _EVERY_SECONDS):
                return
            self._last = now
            until = int(self._wall_clock() + self.lasts_seconds)
            scratch = self.path.with_name(f"{self.path.name}.tmp")
            scratch.write_text(f"{until}\n")
            os.replace(scratch, self.path)
