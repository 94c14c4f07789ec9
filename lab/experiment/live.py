"""The experiment on the live lab: the wall clock, and Prometheus as the server side.

The target is `lab.kit.clients.app.AppClient` itself. Prometheus figures of an arm are the
app's counters between the last scrape before the arm began and the first scrape after
it ended (raw samples, nothing extrapolated), so they cover the whole arm and a little
more, and they include the loadgen's requests during that span.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from lab.baseline.model import Baseline, from_increases, increases, prometheus_samples
from lab.experiment.profiles import Profile, Scale
from lab.experiment.report import Comparison
from lab.experiment.runner import run_experiment
from lab.kit.clients import PrometheusClient
from lab.kit.context import LabContext
from lab.kit.polling import poll_until
from lab.kit.settings import LabSettings

#: How far before an arm to look for the scrape preceding it (several scrape intervals).
LOOKBACK = timedelta(minutes=2)


class SystemClock:
    """Monotonic wall-clock seconds; `sleep` really waits."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class PrometheusSide:
    """Each arm's figures from Prometheus, once a scrape after the arm's end has landed."""

    description = (
        "Prometheus, the app's counters between the last scrape before the arm and the "
        "first after it (raw samples; includes the loadgen's traffic during the arm)"
    )

    def __init__(self, prometheus: PrometheusClient, *, scrape_timeout: float = 90.0) -> None:
        self.prometheus = prometheus
        self.scrape_timeout = scrape_timeout

    def latest_scrape(self) -> float | None:
        samples = self.prometheus.query("max(timestamp(rag_requests_total))")
        return samples[0].value if samples else None

    def begin_arm(self, arm: str) -> Callable[[], Baseline | None]:
        start = datetime.now(UTC)

        def finish() -> Baseline | None:
            end = datetime.now(UTC)
            scraped = poll_until(
                lambda: (t := self.latest_scrape()) is not None and t >= end.timestamp() and t,
                timeout=self.scrape_timeout,
                interval=2,
                describe=f"a Prometheus scrape after arm '{arm}' ended",
            )
            at = datetime.fromtimestamp(float(scraped), UTC)
            samples = prometheus_samples(self.prometheus, start - LOOKBACK, at)
            return from_increases(
                increases(samples, since=start.timestamp()),
                window=f"arm {arm}",
                window_seconds=(end - start).total_seconds(),
                measured_at=at,
                source=self.description,
            )

        return finish


def run_on_lab(
    settings: LabSettings,
    profile: Profile,
    scale: Scale,
    *,
    seed: int = 2024,
    concurrency: int = 32,
    request_timeout: float = 30.0,
    progress: Callable[[str], None] = print,
) -> Comparison:
    """Run the experiment against the lab `settings` point at (`lab experiment`, notebook).

    A query that takes longer than `request_timeout` counts as an error; one pooled
    connection per concurrent request, so none is opened and dropped per call."""
    lab = LabContext.from_settings(
        settings.model_copy(update={"http_timeout_seconds": request_timeout}),
        pool_size=concurrency,
    )
    run = run_experiment(
        lab.app,
        profile,
        scale,
        clock=SystemClock(),
        seed=seed,
        server=PrometheusSide(lab.prometheus),
        concurrency=concurrency,
        progress=progress,
    )
    return Comparison.of(run)
