"""The baseline covers the span its data really covers, and says what it cannot claim."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
import responses

from lab.baseline import model
from lab.baseline.model import CounterSamples, bucket_quantile, increases
from lab.check import baseline as check
from lab.check.result import Status
from lab.experiment.profiles import FULL
from lab.kit.clients import PrometheusClient
from lab.kit.context import LabContext
from lab.kit.settings import LabSettings
from lab.spec.rag import EXPECTED_ERROR_RATE_BEFORE, TARGET_ERROR_RATE_AFTER

BASE = "http://prometheus.test:9090"
NOW = datetime(2026, 1, 10, 12, 15, tzinfo=UTC)


def series(name: str, points: list[tuple[float, float]], **labels: str) -> CounterSamples:
    return CounterSamples(name, labels, points)


def test_increase_counts_a_counter_reset_as_a_restart_from_zero() -> None:
    """10 → 30, reset, → 5: the counter grew by 25, as Prometheus's increase() says."""
    inc = increases([series("rag_requests_total", [(0, 10), (15, 30), (30, 5)])])
    assert inc is not None
    assert inc.total("rag_requests_total") == 25
    assert (inc.start, inc.end) == (0, 30)


def test_since_starts_each_series_at_the_last_scrape_before_it() -> None:
    """An experiment arm starting at t=20 counts from the scrape at 15, not from 0."""
    inc = increases(
        [series("rag_requests_total", [(0, 0), (15, 100), (30, 160), (45, 230)])], since=20
    )
    assert inc is not None
    assert inc.total("rag_requests_total") == 130
    assert inc.seconds == 30


def test_no_span_without_two_request_samples() -> None:
    """One scrape cannot show growth: no increases at all."""
    assert increases([series("rag_requests_total", [(0, 5)])]) is None


@pytest.mark.parametrize(
    ("quantile", "expected"),
    [(0.5, 0.15), (0.9, 0.4), (0.99, 0.4)],
)
def test_bucket_quantile_interpolates_like_histogram_quantile(
    quantile: float, expected: float
) -> None:
    """p50 falls in (0.1, 0.2] holding ranks 40-60: 0.15; p99 in +Inf: the largest bound."""
    buckets = {"0.1": 40.0, "0.2": 60.0, "0.4": 90.0, "+Inf": 100.0}
    assert bucket_quantile(quantile, buckets) == pytest.approx(expected)


def test_bucket_quantile_without_observations_is_none() -> None:
    """An empty histogram has no quantile (not 0 s)."""
    assert bucket_quantile(0.95, {"0.1": 0.0, "+Inf": 0.0}) is None


def matrix(*items: tuple[dict[str, str], list[tuple[float, float]]]) -> dict[str, object]:
    return {
        "status": "success",
        "data": {
            "resultType": "matrix",
            "result": [
                {"metric": labels, "values": [[t, str(v)] for t, v in points]}
                for labels, points in items
            ],
        },
    }


def two_minutes_of_traffic(requests_per_scrape: int, errors_at_end: int) -> dict[str, object]:
    """A lab two minutes old at 2 req/s: 9 scrapes, 15 s apart, ending at NOW."""
    end = NOW.timestamp()
    times = [end - 120 + 15 * i for i in range(9)]
    req = [(t, float(requests_per_scrape * i)) for i, t in enumerate(times)]
    err = [(t, 0.0 if i < 8 else float(errors_at_end)) for i, t in enumerate(times)]
    cost = [(t, 0.0001 * requests_per_scrape * i) for i, t in enumerate(times)]
    total = requests_per_scrape * 8
    bucket = "rag_query_duration_seconds_bucket"
    return matrix(
        ({"__name__": "rag_requests_total"}, req),
        ({"__name__": "rag_errors_total"}, err),
        ({"__name__": "rag_cost_usd_total", "model": "gpt-4o-mini"}, cost),
        ({"__name__": "rag_answers_total", "level": "primary"}, [(times[0], 0), (end, total)]),
        ({"__name__": bucket, "le": "0.2"}, [(times[0], 0), (end, total / 2)]),
        ({"__name__": bucket, "le": "+Inf"}, [(times[0], 0), (end, total)]),
    )  # fmt: skip


@responses.activate
def test_two_minutes_in_a_15m_window_report_rates_over_two_minutes() -> None:
    """The issue's case: 2 req/s two minutes after `up` is 2 req/s, not 0.24."""
    responses.get(f"{BASE}/api/v1/query", json=two_minutes_of_traffic(30, 2))
    baseline = model.measure(PrometheusClient(BASE), "15m", at=NOW)
    assert baseline.span_seconds == 120
    assert baseline.requests == 240
    assert baseline.requests_per_second == pytest.approx(2.0)
    assert baseline.cost_per_hour_usd == pytest.approx(3600 * 0.024 / 120)
    assert baseline.error_rate_percent == pytest.approx(100 * 2 / 240)
    assert baseline.answers_by_level == {"primary": 240}
    assert baseline.p50_latency_seconds == pytest.approx(0.2)
    query = responses.calls[0].request.params["query"]  # type: ignore[union-attr]
    assert query.startswith('{__name__=~"rag_requests_total|')
    assert query.endswith("[900s]")


@responses.activate
def test_a_young_lab_is_flagged_with_the_time_left_to_wait() -> None:
    """240 requests are too few for the band; both notes say how long to wait."""
    responses.get(f"{BASE}/api/v1/query", json=two_minutes_of_traffic(30, 2))
    baseline = model.measure(PrometheusClient(BASE), "15m", at=NOW)
    assert baseline.too_few_requests
    span_note, count_note = baseline.warnings
    assert "covers 2m00s of the 15m00s window" in span_note
    assert "full in 13m00s" in span_note
    assert "240 requests are too few" in count_note
    assert "wait about" in count_note
    assert not baseline.claims_target


@responses.activate
def test_check_5_passes_a_young_lab_marked_provisional_with_what_a_claim_needs() -> None:
    """Seconds after `up` check 5 passes, but says the baseline is provisional, its span,
    and how many requests a < 0.1 % claim would take."""
    responses.get(f"{BASE}/api/v1/query", json=two_minutes_of_traffic(30, 2))
    result = check.run(LabContext.from_settings(LabSettings(prometheus_url=BASE)))
    assert result.status is Status.PASS
    assert result.data["provisional"] is True
    text = "\n".join(result.evidence)
    assert "covers 2m00s of the 15m00s window" in text
    assert "⚠ provisional: 95 % upper bound" in text
    assert f"≥ {model.REQUESTS_FOR_TARGET_CLAIM} requests" in text


@responses.activate
def test_check_5_fails_without_traffic_and_points_at_the_loadgen() -> None:
    """No request in the window is no baseline: FAIL, with where the traffic should come from."""
    responses.get(f"{BASE}/api/v1/query", json=matrix())
    result = check.run(LabContext.from_settings(LabSettings(prometheus_url=BASE)))
    assert result.status is Status.FAIL
    assert result.evidence[-1] == "✗ no query traffic in the last 15m"
    assert "docker compose ps loadgen" in (result.fix or "")


@responses.activate
def test_check_5_records_a_settled_baseline_without_warnings() -> None:
    """A full window of traffic passes, not provisional, with every figure in its evidence."""
    end = NOW.timestamp()
    times = [end - 900 + 15 * i for i in range(61)]
    traffic = matrix(
        ({"__name__": "rag_requests_total"}, [(t, 50.0 * i) for i, t in enumerate(times)]),
        ({"__name__": "rag_errors_total"}, [(t, 0.5 * i) for i, t in enumerate(times)]),
    )
    responses.get(f"{BASE}/api/v1/query", json=traffic)
    result = check.run(LabContext.from_settings(LabSettings(prometheus_url=BASE)))
    assert result.status is Status.PASS, result.evidence
    assert result.data["provisional"] is False
    assert result.evidence[0].startswith("· error rate 1.00 %")
    assert result.data["baseline"]["requests"] == 3000


def test_enough_requests_without_errors_claim_the_target() -> None:
    """3000 answered requests over the whole window: no warning, the target is shown."""
    inc = increases(
        [
            series("rag_requests_total", [(0, 0), (900, FULL.requests_per_arm)]),
            series("rag_errors_total", [(0, 0), (900, 0)]),
        ]
    )
    baseline = model.from_increases(
        inc, window="15m", window_seconds=900, measured_at=NOW, source="test"
    )
    assert baseline.warnings == ()
    assert baseline.claims_target
    assert f"shows < {TARGET_ERROR_RATE_AFTER} %" in model.describe_target_claim(baseline)


def test_an_old_baseline_file_without_span_fields_still_loads() -> None:
    """Baselines saved before spans were recorded load with those fields empty."""
    old = {"window": "15m", "measured_at": NOW.isoformat(), "error_rate_percent": 0.8}
    loaded = model.Baseline.from_json(old)
    assert loaded.error_rate_percent == 0.8
    assert loaded.span_seconds is None
    assert loaded.warnings == ()


def test_describe_error_rate_names_the_counts_and_the_interval() -> None:
    """The sentence carries errors, requests, span and the 95 % interval."""
    inc = increases(
        [
            series("rag_requests_total", [(0, 0), (690, 1000)]),
            series("rag_errors_total", [(0, 0), (690, 6)]),
        ]
    )
    baseline = model.from_increases(
        inc, window="15m", window_seconds=900, measured_at=NOW, source="test"
    )
    text = model.describe_error_rate(baseline)
    assert text == "0.60 % (95 % interval 0.22-1.30 %, 6 errors in 1000 requests over 11m30s)"
    assert math.isclose(baseline.error_rate_low_percent or 0, 0.2203, abs_tol=1e-3)


def test_a_rate_wholly_above_the_band_means_something_with_few_requests() -> None:
    """127 errors in 559 requests: the interval (19-27 %) lies above the band: no warning."""
    assert not model.too_few_requests(127, 559)
    assert model.too_few_requests(1, 200)  # 0.5 %: interval 0.01-2.8 %, wider than the band
    assert not model.too_few_requests(6, 1000)


def test_every_counter_the_baseline_reads_is_one_the_spec_queries() -> None:
    """Renaming a metric in the spec's rules and panels breaks this, not the baseline silently."""
    import re

    from lab.spec import SPEC

    exprs = [alert.expr for alert in SPEC.alerts]
    exprs += [rule.expr for group in SPEC.rule_groups for rule in group.recording]
    exprs += [query.expr for panel in SPEC.dashboard.panels for query in panel.queries]
    queried = {name for expr in exprs for name in re.findall(r"\brag_[a-z0-9_]+\b", expr)}
    assert set(model.COUNTERS) <= queried, set(model.COUNTERS) - queried
    assert (SPEC.slo.errors_metric, SPEC.slo.total_metric) == (model.ERRORS, model.REQUESTS)


def _baseline(requests: int, errors: int) -> model.Baseline:
    inc = increases(
        [
            series("rag_requests_total", [(0, 0), (600, requests)]),
            series("rag_errors_total", [(0, 0), (600, errors)]),
        ]
    )
    return model.from_increases(
        inc, window="15m", window_seconds=900, measured_at=NOW, source="test"
    )


BAND = "the course's {}-{} % baseline band".format(*EXPECTED_ERROR_RATE_BEFORE)


@pytest.mark.parametrize(
    ("requests", "errors", "verdict"),
    [
        (1000, 8, f"within {BAND}"),
        (19, 1, f"above {BAND}, but its interval reaches into it"),
        (400, 0, f"below {BAND}, but its interval reaches into it"),
        (559, 127, f"above {BAND}: find the cause"),
        (20000, 10, f"below {BAND}"),
    ],
)
def test_the_verdict_judges_the_band_by_the_interval(
    requests: int, errors: int, verdict: str
) -> None:
    """Outside the band means the whole 95 % interval is outside; a young lab's 1 error in
    19 requests reaches into the band and says too few requests, not "find the cause"."""
    assert model.error_rate_verdict(_baseline(requests, errors)).startswith(verdict)


def test_one_error_is_singular() -> None:
    """The sentence says "1 error in", not "1 errors in"."""
    assert "1 error in 19 requests" in model.describe_error_rate(_baseline(19, 1))


def test_a_counter_the_app_does_not_export_is_absent_not_zero() -> None:
    """A course app has no rag_retries_total: retries per request is not measured (None) and
    the counter is named absent, where it used to read 0.000."""
    inc = increases(
        [
            series("rag_requests_total", [(0, 0), (60, 100)]),
            series("rag_errors_total", [(0, 0), (60, 1)]),
            series("rag_cost_usd_total", [(0, 0), (60, 0.2)]),
        ]
    )
    assert inc is not None
    body = model.figures(inc)
    assert body["retries_per_request"] is None
    assert "rag_retries_total" in body["absent_metrics"]
    assert "rag_cost_usd_total" not in body["absent_metrics"]
    assert body["cost_per_query_usd"] == pytest.approx(0.002)


@responses.activate
def test_the_baseline_reads_only_the_apps_job() -> None:
    """The raw-sample selector carries the job, so a second job's series never mix in."""
    responses.get(f"{BASE}/api/v1/query", json=matrix())
    baseline = model.measure(PrometheusClient(BASE), "15m", NOW, job="rag_pipeline")
    query = responses.calls[0].request.url or ""
    assert "job%3D%22rag_pipeline%22" in query
    assert baseline.job == "rag_pipeline"


def test_panel_queries_are_scoped_to_the_job() -> None:
    """Every rag_* selector of a chart's query gets the job, existing matchers kept."""
    expr = 'sum(rate(rag_errors_total[5m])) / sum(rate(rag_requests_total{x="1"}[5m]))'
    assert model.scope_to_job(expr, "j") == (
        'sum(rate(rag_errors_total{job="j"}[5m])) / '
        'sum(rate(rag_requests_total{job="j", x="1"}[5m]))'
    )
