"""What the `lab` toolkit may use of this package, and nothing else of it.

`lab` inspects the stack over HTTP and works on any app that speaks the metrics
contract; two of its tools need more than HTTP, and both go through this module, so the
import-boundary test (`tests/unit/test_import_boundary.py`) can hold every other import
out:

- the experiment replays the loadgen's question mix (`lab/experiment/traffic.py` says
  why a copy would drift), pure Python with no app dependencies;
- the in-process experiment builds the sample app on a virtual clock
  (`build_in_process_app`), which needs the `app` extra and imports it only when called.

The Kubernetes render's loadgen probe also reads the file the loadgen renews
(`LOADGEN_HEARTBEAT_FILE`).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from sample_rag_app.services.loadgen.heartbeat import HEARTBEAT_FILE as LOADGEN_HEARTBEAT_FILE
from sample_rag_app.services.loadgen.questions import POPULAR_QUESTIONS, QuestionSource
from sample_rag_app.services.loadgen.settings import LoadgenSettings

if TYPE_CHECKING:
    from fastapi import FastAPI
    from prometheus_client import CollectorRegistry

    from sample_rag_app.clock import VirtualClock

__all__ = [
    "LOADGEN_HEARTBEAT_FILE",
    "POPULAR_QUESTIONS",
    "LoadgenSettings",
    "QuestionSource",
    "build_in_process_app",
]


def build_in_process_app(
    registry: CollectorRegistry, *, seed: int, **settings: Any
) -> tuple[FastAPI, VirtualClock]:
    """The sample app with `settings` (the app's `Settings` fields) on a virtual clock."""
    from sample_rag_app.clock import VirtualClock
    from sample_rag_app.main import create_app
    from sample_rag_app.settings import Settings

    clock = VirtualClock()
    app = create_app(Settings(**settings), registry, rng=random.Random(seed), clock=clock)
    return app, clock
