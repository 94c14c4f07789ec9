"""The experiment on the sample app in this process: ASGI transport, virtual clock.

The app is built by `sample_rag_app.harness.build_in_process_app` (`create_app` with
`rng=Random(seed)` and a `VirtualClock`)
and driven through FastAPI's TestClient; the runner shares the app's virtual clock, so
simulated latencies, backoff, outage windows and cache TTLs all pass without real
waiting, at their real lengths (nothing is scaled down), and a fixed seed gives the same
figures on every run. Requests go one at a time: a request slower than the gap to the
next arrival holds that arrival back (a closed loop while it runs), so admission control
never sheds here, and a latency spike slows only the few requests sent during it; the
backlog then goes out quickly once it ends. Error rates, fallback shares and cost carry
over to the live lab; latency under a spike does not (the live lab sends concurrently).

Needs the app and test extras (`pip install -e '.[dev]'`): this is the statistical
test's and the trade-off bench's way to run the experiment, not the learner's.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from lab.baseline.model import COUNTERS, Baseline, CounterSamples, from_increases, increases
from lab.kit.clients.app import QueryReply
from lab.spec.rag import CORRELATION_HEADER

ADMIN_TOKEN = "in-process-experiment"


class InProcessApp:
    """The sample app as a `Target`, a `Clock` and a `ServerSide` for the runner."""

    description = (
        "the app's /metrics, read before and after each arm (only the experiment's traffic)"
    )

    def __init__(self, *, seed: int, **settings: Any) -> None:
        # Starlette's TestClient announces a future switch to httpx2; nothing to act on.
        warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
        from fastapi.testclient import TestClient

        from sample_rag_app.harness import build_in_process_app

        values: dict[str, Any] = {
            "admin_token": ADMIN_TOKEN,
            "logging_enabled": False,
            "random_seed": seed,
            **settings,
        }
        app, self.clock = build_in_process_app(CollectorRegistry(), seed=seed, **values)
        self._client = TestClient(app, raise_server_exceptions=False)
        self._admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

    def __enter__(self) -> InProcessApp:
        self._client.__enter__()  # runs the lifespan: the corpus is embedded
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._client.__exit__(kind, error, trace)

    # --- Clock ---------------------------------------------------------------------------
    def now(self) -> float:
        return float(self.clock.now())

    def sleep(self, seconds: float) -> None:
        self.clock.sleep(seconds)

    # --- Target --------------------------------------------------------------------------
    def query(self, question: str, *, correlation_id: str) -> QueryReply:
        response = self._client.post(
            "/query",
            json={"question": question, "top_k": 4},
            headers={CORRELATION_HEADER: correlation_id},
        )
        return QueryReply(response.status_code, correlation_id, response.json())

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self._client.request(method, path, json=body, headers=self._admin)
        if response.status_code != 200:
            raise ValueError(f"{method} {path} answered {response.status_code}: {response.text}")
        result: dict[str, Any] = response.json()
        return result

    def faults(self) -> dict[str, Any]:
        return self._call("GET", "/admin/faults")

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        return self._call("PUT", "/admin/faults", faults)

    def clear_faults(self) -> dict[str, Any]:
        return self._call("DELETE", "/admin/faults")

    def resilience(self) -> dict[str, Any]:
        return self._call("GET", "/admin/resilience")

    def set_resilience(self, **fields: Any) -> dict[str, Any]:
        return self._call("PUT", "/admin/resilience", fields)

    # --- ServerSide ----------------------------------------------------------------------
    def counters(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """The counters the baseline reads, from one /metrics exposition."""
        values: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        text = self._client.get("/metrics").text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name in COUNTERS:
                    values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return values

    def begin_arm(self, arm: str) -> Callable[[], Baseline | None]:
        start, before = self.now(), self.counters()

        def finish() -> Baseline | None:
            end, after = self.now(), self.counters()
            series = [
                CounterSamples(
                    name, dict(labels), [(start, before.get((name, labels), 0.0)), (end, value)]
                )
                for (name, labels), value in after.items()
            ]

            return from_increases(
                increases(series),
                window=f"arm {arm}",
                window_seconds=end - start,
                measured_at=datetime.now(UTC),
                source=self.description,
            )

        return finish
