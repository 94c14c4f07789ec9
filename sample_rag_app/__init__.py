"""The sample RAG service the lab observes: FastAPI transport, pure-Python pipeline, telemetry.

Importing the package switches off prometheus_client's ``*_created`` series (before the
client library is imported anywhere in the app), so every exposition carries only the
series the lab's rules and dashboards are generated from.
"""

from __future__ import annotations

import os

os.environ.setdefault("PROMETHEUS_DISABLE_CREATED_SERIES", "True")

__version__ = "0.1.0"
