"""The sample RAG service the lab observes: FastAPI transport, pure-Python pipeline, telemetry."""

from __future__ import annotations

__version__ = "0.1.0"
