"""`lab baseline` refuses a baseline too thin to compare; reports and charts carry the caveats."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
import responses

from lab.baseline.model import Baseline, CounterSamples, from_increases, increases
from lab.baseline.report import (
    TooFewRequests,
    render_comparison,
    render_markdown,
    write_baseline,
    write_chart,
    write_comparison_chart,
)
from lab.cli import run
from lab.experiment.profiles import FULL
from lab.kit.clients import PrometheusClient
from lab.kit.exit_codes import ExitCode
from lab.spec.rag import TARGET_ERROR_RATE_AFTER

BASE = "http://prometheus.test:9090"
NOW = datetime(2026, 1, 10, 12, 15, tzinfo=UTC)


def baseline(requests: int, errors: int, seconds: float = 900) -> Baseline:
    inc = increases(
        [
            CounterSamples("rag_requests_total", {}, [(0, 0), (seconds, requests)]),
            CounterSamples("rag_errors_total", {}, [(0, 0), (seconds, errors)]),
            CounterSamples("rag_cost_usd_total", {}, [(0, 0), (seconds, requests * 1e-4)]),
        ]
    )
    return from_increases(inc, window="15m", window_seconds=900, measured_at=NOW, source="test")


def young_lab() -> dict[str, object]:
    start = NOW.timestamp() - 60
    points = [[start, "0"], [NOW.timestamp(), "120"]]
    return {
        "status": "success",
        "data": {
            "resultType": "matrix",
            "result": [{"metric": {"__name__": "rag_requests_total"}, "values": points}],
        },
    }


@responses.activate
def test_write_baseline_refuses_too_few_requests_and_saves_nothing(tmp_path: Path) -> None:
    """120 requests: TooFewRequests says how long to wait; no file is written."""
    responses.get(f"{BASE}/api/v1/query", json=young_lab())
    with pytest.raises(TooFewRequests, match=r"120 requests are too few.*wait about"):
        write_baseline(PrometheusClient(BASE), "15m", tmp_path / "out")
    assert not (tmp_path / "out").exists()


@responses.activate
def test_lab_baseline_exits_1_and_names_force(tmp_path: Path) -> None:
    """The CLI turns the refusal into exit 1 and tells the user about --force."""
    responses.get(f"{BASE}/api/v1/query", json=young_lab())
    out = io.StringIO()
    code = run(["baseline", "--out", str(tmp_path), "--prometheus-url", BASE], out)
    assert code == ExitCode.FAILED
    assert "not saved" in out.getvalue()
    assert "--force" in out.getvalue()


def test_markdown_states_the_span_interval_and_warnings() -> None:
    """A short, thin baseline's Markdown shows its span, its interval and each warning."""
    text = render_markdown(baseline(240, 2, seconds=120))
    assert "the data covers 120 s" in text
    assert "95 % interval" in text
    assert text.count("- ⚠ ") == 2


def test_comparison_names_the_target_claim() -> None:
    """3000 answered requests after: the target is met and shown, not just observed."""
    text = render_comparison(baseline(1800, 12), baseline(FULL.requests_per_arm, 0))
    assert f"M2.4 target, error rate below {TARGET_ERROR_RATE_AFTER} %: met" in text
    assert f"shows < {TARGET_ERROR_RATE_AFTER} %" in text


def test_comparison_chart_is_a_png(tmp_path: Path) -> None:
    """Both baselines are drawn into one PNG file."""
    path = tmp_path / "compare.png"
    write_comparison_chart(
        [baseline(1800, 12), baseline(3000, 0)], ["before", "after"], path, title="t"
    )
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_the_chart_draws_the_dashboards_own_queries() -> None:
    """Each row of the baseline chart is a panel of the spec's dashboard, queried as Grafana
    queries it, so the chart and the dashboard cannot drift apart."""
    from lab.baseline.report import CHART_PANELS, panel_expr
    from lab.spec import SPEC

    by_title = {panel.title: panel.queries[0].expr for panel in SPEC.dashboard.panels}
    for title, _label, _reference in CHART_PANELS:
        assert panel_expr(title) == by_title[title]
    assert {title for title, _, _ in CHART_PANELS} <= set(SPEC.dashboard.key_panels)


@responses.activate
@pytest.mark.filterwarnings("error::UserWarning")
def test_the_chart_of_a_lab_with_no_data_yet_draws_without_an_empty_legend(
    tmp_path: Path,
) -> None:
    """Panels whose query has no series yet are drawn bare, not with matplotlib's "no
    artists with labels" warning."""
    empty = {"status": "success", "data": {"resultType": "matrix", "result": []}}
    responses.get(f"{BASE}/api/v1/query_range", json=empty)
    path = tmp_path / "baseline.png"
    write_chart(PrometheusClient(BASE), baseline(1800, 12), path)
    assert path.read_bytes()[:4] == b"\x89PNG"
