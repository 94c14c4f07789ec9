"""Check 5: record the baseline the resilience work (M2.4) will be measured against.

The course expects 0.5-2 % errors before retries and circuit breakers and below 0.1 %
after; this measures error rate, latency percentiles, cache hit rate, cost and request
rate over a window from Prometheus, so "before" is a number, not a memory.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from lab.checks.context import CheckContext, Evidence, run_check
from lab.checks.result import CheckFailed, CheckResult, Status
from lab.clients import PrometheusClient

NAME = "baseline"
TITLE = "Baseline recorded for the before/after comparison"

# The course's expectation for the error rate, in percent.
EXPECTED_ERROR_RATE_BEFORE = (0.5, 2.0)
TARGET_ERROR_RATE_AFTER = 0.1


def baseline_queries(window: str) -> dict[str, str]:
    """PromQL for each baseline figure; sums first, so extra labels never split a ratio."""
    requests = f"sum(rate(rag_requests_total[{window}]))"
    latency = f"sum by (le) (rate(rag_query_duration_seconds_bucket[{window}]))"
    return {
        "error_rate_percent": f"100 * sum(rate(rag_errors_total[{window}])) / {requests}",
        "p50_latency_seconds": f"histogram_quantile(0.50, {latency})",
        "p95_latency_seconds": f"histogram_quantile(0.95, {latency})",
        "p99_latency_seconds": f"histogram_quantile(0.99, {latency})",
        "cache_hit_rate_percent": (
            f"100 * sum(rate(rag_cache_hits_total[{window}]))"
            f" / sum(rate(rag_cache_requests_total[{window}]))"
        ),
        "cost_per_query_usd": f"sum(rate(rag_cost_usd_total[{window}])) / {requests}",
        "cost_per_hour_usd": f"3600 * sum(rate(rag_cost_usd_total[{window}]))",
        "requests_per_second": requests,
    }


@dataclass(frozen=True)
class Baseline:
    """The figures of one window; None where Prometheus had no data for a figure."""

    window: str
    measured_at: str
    error_rate_percent: float | None
    p50_latency_seconds: float | None
    p95_latency_seconds: float | None
    p99_latency_seconds: float | None
    cache_hit_rate_percent: float | None
    cost_per_query_usd: float | None
    cost_per_hour_usd: float | None
    requests_per_second: float | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Baseline:
        known: dict[str, Any] = {name: body.get(name) for name in cls.__dataclass_fields__}
        return cls(**known)


def measure(prometheus: PrometheusClient, window: str, at: datetime | None = None) -> Baseline:
    at = at or datetime.now(UTC)
    figures: dict[str, float | None] = {}
    for name, expr in baseline_queries(window).items():
        samples = prometheus.query(expr, at=at)
        figures[name] = samples[0].value if samples else None
    return Baseline.from_json({"window": window, "measured_at": at.isoformat(), **figures})


def error_rate_verdict(error_rate_percent: float) -> str:
    low, high = EXPECTED_ERROR_RATE_BEFORE
    if error_rate_percent < low:
        return f"below the course's {low}-{high} % baseline band"
    if error_rate_percent <= high:
        return f"within the course's {low}-{high} % baseline band"
    return f"above the course's {low}-{high} % band: find the cause before M2.4"


def run(ctx: CheckContext) -> CheckResult:
    return run_check(NAME, TITLE, lambda evidence: _check(ctx, evidence))


def _check(ctx: CheckContext, evidence: Evidence) -> Status:
    window = ctx.settings.baseline_window
    baseline = measure(ctx.prometheus, window)
    if not baseline.requests_per_second:
        raise CheckFailed(
            f"no query traffic in the last {window}",
            fix="the baseline needs traffic: is loadgen running? `docker compose ps loadgen`",
        )
    evidence.data["baseline"] = baseline.to_json()
    rate = baseline.error_rate_percent or 0.0
    evidence.add(
        f"· error rate {rate:.2f} % over {window} ({error_rate_verdict(rate)}; "
        f"target after M2.4: < {TARGET_ERROR_RATE_AFTER} %)"
    )
    evidence.add(
        "· latency p50 {} / p95 {} / p99 {}".format(
            *(
                _ms(v)
                for v in (
                    baseline.p50_latency_seconds,
                    baseline.p95_latency_seconds,
                    baseline.p99_latency_seconds,
                )
            )
        )
    )
    evidence.add(
        f"· cache hit rate {_num(baseline.cache_hit_rate_percent, '{:.1f} %')}, "
        f"cost {_num(baseline.cost_per_query_usd, '${:.5f}')} per query "
        f"({_num(baseline.cost_per_hour_usd, '${:.3f}')} per hour), "
        f"{baseline.requests_per_second:.2f} req/s"
    )
    return Status.PASS


def _ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds * 1000:.0f} ms"


def _num(value: float | None, fmt: str) -> str:
    return "n/a" if value is None else fmt.format(value)
