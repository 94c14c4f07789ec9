"""The baseline the resilience work (M2.4) is measured against: its model and its queries.

The course expects 0.5-2 % errors before retries and circuit breakers and below 0.1 %
after (`lab.spec.rag`); this measures error rate, latency percentiles, cache hit rate,
cost and request rate from Prometheus, so "before" is a number, not a memory. Check 5
(`lab.check.baseline`), `lab baseline`/`lab compare` (`lab.baseline.report`) and `lab
experiment` all read it from here.

A baseline is honest about the data under it. `rate(x[15m])` on a lab started two
minutes ago divides two minutes of requests by fifteen, so it reads the counters'
raw samples instead: the span it covers runs from the first to the last scrape found in
the window, every rate is over that span, and the error rate comes with its 95 %
interval. When the span is shorter than the window, or there are too few requests for
the error rate to mean anything against the course's band (its interval is wider than
the band), the baseline says so and how long to wait; `lab baseline` refuses to save it.

A baseline is of one app: its series are selected by the scrape job (the target's, or the
one exporting `rag_requests_total`), so another job's series (a second app, a test
instance) never mix in. A counter the app does not export at all is recorded as absent
and its figure as not measured, never as 0 (a course app has no `rag_retries_total`
before M2.4).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

from pydantic import TypeAdapter

from lab.kit import confidence
from lab.kit.clients import PrometheusClient
from lab.kit.formatting import span
from lab.spec.model import duration_seconds
from lab.spec.rag import EXPECTED_ERROR_RATE_BEFORE, SPEC, TARGET_ERROR_RATE_AFTER

#: Requests that, all answered, show an error rate below the target with 95 % confidence.
REQUESTS_FOR_TARGET_CLAIM = confidence.requests_for_zero_error_claim(TARGET_ERROR_RATE_AFTER / 100)

# An error and a request as the SLO defines them; every other counter read here is one the
# spec's rules or panels query (tests/unit/lab/baseline/test_baseline_model.py ties them).
REQUESTS = SPEC.slo.total_metric
ERRORS = SPEC.slo.errors_metric
COST = "rag_cost_usd_total"
CACHE_HITS = "rag_cache_hits_total"
CACHE_REQUESTS = "rag_cache_requests_total"
RETRIES = "rag_retries_total"
ANSWERS = "rag_answers_total"
LATENCY_BUCKETS = "rag_query_duration_seconds_bucket"
COUNTERS = (REQUESTS, ERRORS, COST, CACHE_HITS, CACHE_REQUESTS, RETRIES, ANSWERS, LATENCY_BUCKETS)
#: The figures that need each optional counter: absent counter, figure not measured.
NEEDS = {
    COST: ("cost_per_query_usd", "cost_per_answered_query_usd", "cost_per_hour_usd"),
    CACHE_REQUESTS: ("cache_hit_rate_percent",),
    CACHE_HITS: ("cache_hit_rate_percent",),
    RETRIES: ("retries_per_request",),
    LATENCY_BUCKETS: ("p50_latency_seconds", "p95_latency_seconds", "p99_latency_seconds"),
}


def scope_to_job(expr: str, job: str | None) -> str:
    """`expr` with every rag_* selector limited to `job` (unchanged for None):
    `rate(rag_errors_total[5m])` -> `rate(rag_errors_total{job="rag_pipeline"}[5m])`."""
    if job is None:
        return expr
    matcher = f"job={json.dumps(job)}"

    def scoped(found: re.Match[str]) -> str:
        name, labels = found.group(1), found.group(2)
        if labels is None:
            return f"{name}{{{matcher}}}"
        inner = labels[1:-1].strip()
        return f"{name}{{{matcher}{', ' + inner if inner else ''}}}"

    return re.sub(r"\b(rag_[a-z0-9_]+)(\{[^}]*\})?", scoped, expr)


Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class CounterSamples:
    """One counter series: its name, labels and (unix time, value) samples, oldest first."""

    name: str
    labels: Mapping[str, str]
    points: list[tuple[float, float]]


@dataclass(frozen=True)
class Increases:
    """How much each counter series grew over a span, and the span (unix seconds).

    The span is that of `rag_requests_total`'s samples: the first and the last scrape
    the increases are taken between, not the window that was asked for.
    """

    start: float
    end: float
    values: Mapping[tuple[str, Labels], float]
    #: The counters that had any series at all (a counter with none is absent).
    present: frozenset[str] = frozenset(COUNTERS)

    @property
    def seconds(self) -> float:
        return self.end - self.start

    def total(self, name: str) -> float:
        return sum(v for (n, _), v in self.values.items() if n == name)

    def by(self, name: str, label: str) -> dict[str, float]:
        """The increases of `name` summed per value of `label`."""
        sums: dict[str, float] = {}
        for (n, labels), value in self.values.items():
            if n == name:
                key = dict(labels).get(label, "")
                sums[key] = sums.get(key, 0.0) + value
        return sums


def _increase(points: list[tuple[float, float]]) -> float:
    """Growth over the points, counting a drop as a counter reset (as Prometheus does)."""
    total = 0.0
    for (_, before), (_, after) in pairwise(points):
        total += after - before if after >= before else after
    return total


def increases(series: Iterable[CounterSamples], since: float | None = None) -> Increases | None:
    """Increases from raw samples; None without two samples of `rag_requests_total`.

    With `since`, each series starts at its last sample at or before `since` (the scrape
    just before an experiment arm began), so the span covers the whole arm.
    """
    values: dict[tuple[str, Labels], float] = {}
    starts: list[float] = []
    ends: list[float] = []
    present: set[str] = set()
    for one in series:
        present.add(one.name)
        points = sorted(one.points)
        if since is not None:
            before = [i for i, (t, _) in enumerate(points) if t <= since]
            points = points[before[-1] :] if before else points
        if len(points) < 2:
            continue
        key = (one.name, tuple(sorted(one.labels.items())))
        values[key] = values.get(key, 0.0) + _increase(points)
        if one.name == REQUESTS:
            starts.append(points[0][0])
            ends.append(points[-1][0])
    if not starts:
        return None
    return Increases(start=min(starts), end=max(ends), values=values, present=frozenset(present))


def prometheus_samples(
    prometheus: PrometheusClient, start: datetime, end: datetime, job: str | None = None
) -> list[CounterSamples]:
    """Every sample of the baseline's counters Prometheus holds between `start` and `end`,
    of `job` only when one is given."""
    seconds = max(1, math.ceil((end - start).total_seconds()))
    of_job = f", job={json.dumps(job)}" if job is not None else ""
    selector = '{__name__=~"' + "|".join(COUNTERS) + f'"{of_job}}}[{seconds}s]'
    return [
        CounterSamples(
            name=s.labels.get("__name__", ""),
            labels={k: v for k, v in s.labels.items() if k != "__name__"},
            points=s.points,
        )
        for s in prometheus.range_vector(selector, at=end)
    ]


def bucket_quantile(quantile: float, buckets: Mapping[str, float]) -> float | None:
    """`histogram_quantile` on cumulative bucket counts keyed by `le`, as Prometheus does it.

    Linear interpolation within the bucket holding the rank (the first bucket starts at
    0); a rank in the +Inf bucket returns the largest finite bound. None without counts.
    """
    ordered = sorted((float(le), count) for le, count in buckets.items())
    if not ordered or ordered[-1][0] != math.inf or ordered[-1][1] <= 0:
        return None
    rank = quantile * ordered[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in ordered:
        if count >= rank:
            if bound == math.inf:
                return lower_bound
            if count == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (
                count - lower_count
            )
        lower_bound, lower_count = bound, count
    return lower_bound


@dataclass(frozen=True)
class Baseline:
    """The figures of one span of traffic; None where there was no data for a figure.

    `window` is the range asked for; `span_seconds` (from `span_start`) is the data that
    was really there, and every rate is over it. `warnings` says what the figures cannot
    yet carry (a short span, too few requests), each with the time left to wait.
    """

    window: str
    measured_at: str
    error_rate_percent: float | None = None
    p50_latency_seconds: float | None = None
    p95_latency_seconds: float | None = None
    p99_latency_seconds: float | None = None
    cache_hit_rate_percent: float | None = None
    cost_per_query_usd: float | None = None
    cost_per_hour_usd: float | None = None
    requests_per_second: float | None = None
    span_start: str | None = None
    span_seconds: float | None = None
    requests: int | None = None
    errors: int | None = None
    error_rate_low_percent: float | None = None
    error_rate_high_percent: float | None = None
    error_rate_upper_bound_percent: float | None = None
    cost_per_answered_query_usd: float | None = None
    retries_per_request: float | None = None
    answers_by_level: dict[str, int] = field(default_factory=dict)
    #: The scrape job measured (None: every job's series, as before jobs were scoped).
    job: str | None = None
    #: Counters the app does not export: their figures are not measured, not 0.
    absent_metrics: tuple[str, ...] = ()
    source: str = ""
    warnings: tuple[str, ...] = ()
    too_few_requests: bool = False

    def to_json(self) -> dict[str, Any]:
        body = asdict(self)
        body["warnings"] = list(self.warnings)
        body["absent_metrics"] = list(self.absent_metrics)
        return body

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Baseline:
        """A baseline from its JSON; older files without the span fields load too."""
        known: dict[str, Any] = {n: body[n] for n in cls.__dataclass_fields__ if n in body}
        known["warnings"] = tuple(known.get("warnings") or ())
        known["absent_metrics"] = tuple(known.get("absent_metrics") or ())
        known["answers_by_level"] = dict(known.get("answers_by_level") or {})
        # Checked against the fields' types: a hand-edited "12 %" where a number belongs
        # is named here, not met as a TypeError deep in the comparison.
        return TypeAdapter(cls).validate_python(known)

    @property
    def claims_target(self) -> bool:
        """True when the 95 % upper bound of the error rate is below the M2.4 target."""
        bound = self.error_rate_upper_bound_percent
        return bound is not None and bound < TARGET_ERROR_RATE_AFTER


def figures(inc: Increases) -> dict[str, Any]:
    """Every baseline figure from counter increases; rates are over the increases' span."""
    requests = round(inc.total(REQUESTS))
    errors = round(inc.total(ERRORS))
    cost = inc.total(COST)
    answered = requests - errors
    cache_requests = inc.total(CACHE_REQUESTS)
    buckets = inc.by(LATENCY_BUCKETS, "le")
    body: dict[str, Any] = {
        "span_start": datetime.fromtimestamp(inc.start, UTC).isoformat(),
        "span_seconds": inc.seconds,
        "requests": requests,
        "errors": errors,
        "error_rate_percent": None,
        "p50_latency_seconds": bucket_quantile(0.50, buckets),
        "p95_latency_seconds": bucket_quantile(0.95, buckets),
        "p99_latency_seconds": bucket_quantile(0.99, buckets),
        "cache_hit_rate_percent": (
            100 * inc.total(CACHE_HITS) / cache_requests if cache_requests else None
        ),
        "cost_per_query_usd": cost / requests if requests else None,
        "cost_per_answered_query_usd": cost / answered if answered > 0 else None,
        "cost_per_hour_usd": 3600 * cost / inc.seconds if inc.seconds > 0 else None,
        "requests_per_second": requests / inc.seconds if inc.seconds > 0 else None,
        "retries_per_request": inc.total(RETRIES) / requests if requests else None,
        "answers_by_level": {
            level: round(count) for level, count in inc.by(ANSWERS, "level").items() if level
        },
    }
    absent = [
        name for name in COUNTERS if name not in inc.present and name not in (REQUESTS, ERRORS)
    ]
    body["absent_metrics"] = absent
    for name in absent:
        for figure in NEEDS.get(name, ()):
            body[figure] = None
    if requests > 0:
        errors = min(errors, requests)
        bounds = confidence.interval(errors, requests)
        body["error_rate_percent"] = 100 * errors / requests
        body["error_rate_low_percent"] = 100 * bounds.low
        body["error_rate_high_percent"] = 100 * bounds.high
        body["error_rate_upper_bound_percent"] = 100 * confidence.upper_bound(errors, requests)
    return body


def requests_needed(error_rate_percent: float | None) -> int:
    """Requests for the error rate's 95 % interval to be narrower than the course's band.

    Above the band the estimate is taken at its upper edge: there, the rate means
    something as soon as its whole interval lies above the band.
    """
    low, high = EXPECTED_ERROR_RATE_BEFORE
    rate = min(error_rate_percent or 0.0, high)
    return confidence.requests_for_width(rate / 100, (high - low) / 100)


def too_few_requests(errors: int, requests: int) -> bool:
    """True while the error rate cannot be placed against the band: its 95 % interval is
    wider than the band and does not lie wholly above it."""
    low, high = EXPECTED_ERROR_RATE_BEFORE
    if requests <= 0:
        return True
    bounds = confidence.interval(min(errors, requests), requests)
    wide = 100 * (bounds.high - bounds.low) >= high - low
    return wide and 100 * bounds.low <= high


def shortfalls(
    *, window_seconds: float, span_seconds: float, requests: int, errors: int
) -> tuple[list[str], bool]:
    """What the figures cannot yet carry, with the time left to wait; and whether too few.

    Too few requests (the error rate's interval wider than the band) makes a baseline
    unfit to compare; a span shorter than the window only makes it not yet the window.
    """
    notes: list[str] = []
    rate = requests / span_seconds if span_seconds > 0 else 0.0
    too_few = too_few_requests(errors, requests)
    if span_seconds < window_seconds * 0.95:
        covered = span(span_seconds)
        notes.append(
            f"the data covers {covered} of the {span(window_seconds)} window (Prometheus "
            f"holds no older samples); rates are over those {covered}, and the window is "
            f"full in {span(window_seconds - span_seconds)}"
        )
    if too_few:
        needed = max(requests + 1, requests_needed(100 * errors / requests if requests else 0))
        wait = f"about {span((needed - requests) / rate)}" if rate > 0 else "until traffic"
        notes.append(
            f"{requests} requests are too few for the error rate to mean anything: its 95 % "
            f"interval is wider than the course's {_band()} band until about {needed} requests "
            f"(wait {wait} at {rate:.2f} req/s)"
        )
    return notes, too_few


def app_job(prometheus: PrometheusClient, job: str | None) -> str | None:
    """`job`, or else the one job exporting `rag_requests_total` (None: none or several,
    so every job's series are measured, and check 1 says what is wrong)."""
    if job is not None:
        return job
    jobs = {s.labels.get("job", "") for s in prometheus.query(f"count by (job) ({REQUESTS})")}
    return jobs.pop() if len(jobs) == 1 else None


def measure(
    prometheus: PrometheusClient,
    window: str,
    at: datetime | None = None,
    *,
    job: str | None = None,
) -> Baseline:
    """The baseline of `job`'s series (all, for None) over the data Prometheus holds in the
    `window` before `at`."""
    at = at or datetime.now(UTC)
    window_seconds = duration_seconds(window)
    samples = prometheus_samples(prometheus, at - timedelta(seconds=window_seconds), at, job)
    inc = increases(samples)
    baseline = from_increases(
        inc,
        window=window,
        window_seconds=window_seconds,
        measured_at=at,
        source="Prometheus: raw counter samples, first to last scrape in the window",
    )
    return replace(baseline, job=job)


def from_increases(
    inc: Increases | None,
    *,
    window: str,
    window_seconds: float,
    measured_at: datetime,
    source: str,
) -> Baseline:
    """A baseline from counter increases (None: no traffic, every figure None)."""
    body: dict[str, Any] = {"window": window, "measured_at": measured_at.isoformat()}
    body["source"] = source
    if inc is not None:
        body.update(figures(inc))
        notes, too_few = shortfalls(
            window_seconds=window_seconds,
            span_seconds=inc.seconds,
            requests=body["requests"],
            errors=body["errors"],
        )
        body["warnings"], body["too_few_requests"] = notes, too_few
    return Baseline.from_json(body)


def error_rate_verdict(baseline: Baseline) -> str:
    """Where the error rate stands against the course's band, judged by its 95 % interval:
    on a young lab "1 error in 19 requests" reads 5 %, yet the interval still reaches into
    the band, and telling a learner to hunt a cause then would send them after noise."""
    low, high = EXPECTED_ERROR_RATE_BEFORE
    band = f"the course's {low}-{high} % baseline band"
    rate = baseline.error_rate_percent or 0.0
    if low <= rate <= high:
        return f"within {band}"
    interval_low = baseline.error_rate_low_percent
    interval_high = baseline.error_rate_high_percent
    reaches_band = (
        interval_low is not None
        and interval_high is not None
        and interval_low <= high
        and interval_high >= low
    )
    if reaches_band:
        side = "below" if rate < low else "above"
        return f"{side} {band}, but its interval reaches into it: too few requests to tell"
    if rate < low:
        return f"below {band}"
    return f"above {band}: find the cause before M2.4"


def describe_error_rate(baseline: Baseline) -> str:
    """ "0.80 % (95 % interval 0.45-1.30 %, 11 errors in 1380 requests over 11m30s)"."""
    rate = baseline.error_rate_percent or 0.0
    errors = f"{baseline.errors} error{'' if baseline.errors == 1 else 's'}"
    return (
        f"{rate:.2f} % (95 % interval {baseline.error_rate_low_percent or 0:.2f}-"
        f"{baseline.error_rate_high_percent or 0:.2f} %, {errors} in "
        f"{baseline.requests} requests over {span(baseline.span_seconds or 0)})"
    )


def describe_target_claim(baseline: Baseline) -> str:
    """Whether the request count can show the M2.4 target, and what it would need."""
    target = TARGET_ERROR_RATE_AFTER
    bound = baseline.error_rate_upper_bound_percent
    if bound is None:
        return f"no requests: nothing can be said about the < {target} % target"
    verdict = "shows" if baseline.claims_target else "cannot show"
    return (
        f"95 % upper bound {bound:.3g} %: {verdict} < {target} % "
        f"(with no errors that takes ≥ {REQUESTS_FOR_TARGET_CLAIM} requests, the rule of three)"
    )


def _band() -> str:
    low, high = EXPECTED_ERROR_RATE_BEFORE
    return f"{low}-{high} %"
