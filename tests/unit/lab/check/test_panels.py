"""How check 2 reads a dashboard: Grafana's interval arithmetic, template variables,
datasource references, and the key panels recognised by what they query."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lab.check import panels
from lab.check.panels import KEY_QUERIES, Datasource
from lab.spec import SPEC

RESPONSES = Path(__file__).parent / "grafana_responses"
PROMETHEUS = Datasource("PBFA97CFB590B2093", "Prometheus", "prometheus", True, "15s")
LOKI = Datasource("fe2lq8w0l7ny8d", "Loki", "loki")


def recorded(name: str) -> dict[str, object]:
    body: dict[str, object] = json.loads((RESPONSES / name).read_text())
    return body


@pytest.mark.parametrize(
    ("seconds", "rounded"),
    [(1.2, 1.0), (1.8, 2.0), (16.0, 15.0), (40.0, 30.0), (100.0, 120.0), (4000.0, 3600.0)],
)
def test_intervals_round_as_grafana_rounds_them(seconds: float, rounded: float) -> None:
    """gtime.RoundInterval's steps: 1.8 s is 2 s, 40 s is 30 s, 100 s is 2 m."""
    assert panels.round_interval(seconds) == rounded


def test_intervals_are_written_as_grafana_writes_them() -> None:
    """$__interval truncates to its largest unit (90 s is "1m"); $__rate_interval is Go's
    Duration string ("1m0s")."""
    assert [panels.format_interval(s) for s in (0.5, 15, 90, 7200)] == ["500ms", "15s", "1m", "2h"]
    assert [panels.go_duration(s) for s in (30, 60, 75, 3600)] == ["30s", "1m0s", "1m15s", "1h0m0s"]


def test_rate_interval_is_four_scrapes_at_least() -> None:
    """Over 30 minutes at 1500 points and a 15 s scrape interval: step 15 s, $__interval
    15s, $__rate_interval max(15 s + 15 s, 4 x 15 s) = 1m0s, $__range 1800s."""
    t = panels.timing(1800, max_data_points=1500, query_interval="", scrape_interval="15s")
    assert (t.interval, t.step, t.rate_interval) == (15.0, 15.0, 60.0)
    expr = "rate(x[$__rate_interval]) + rate(y[${__interval}]) + increase(z[$__range]) / $__range_s"
    assert panels.interpolate_builtins(expr, t) == (
        "rate(x[1m0s]) + rate(y[15s]) + increase(z[1800s]) / 1800"
    )


def test_a_longer_window_widens_the_step_and_the_rate_interval() -> None:
    """24 h at 1000 points: 86.4 s rounds to 1 m, so $__rate_interval is 1 m + 15 s."""
    t = panels.timing(86400, max_data_points=1000, query_interval="", scrape_interval="15s")
    assert (t.step, t.rate_interval) == (60.0, 75.0)
    assert panels.interpolate_builtins("[$__rate_interval]", t) == "[1m15s]"


def test_template_variables_resolve_to_what_a_viewer_sees() -> None:
    """A saved current value as is; "All" of a multi-value variable as every option Prometheus
    knows, regex-escaped in (a|b); [[var]] and ${var:raw} too; Grafana's own __ names and
    unknown ones are left alone."""
    model = recorded("dashboard_learner.json")["dashboard"]
    assert isinstance(model, dict)
    asked: list[tuple[str, str | None]] = []

    def lookup(label: str, metric: str | None) -> list[str]:
        asked.append((label, metric))
        return ["app:8000", "app-2.local:8000"]

    found = panels.variables(model, lookup)
    assert found["job"].values == ("rag_pipeline",)
    assert found["instance"].values == ("app:8000", "app-2.local:8000")
    assert asked == [("instance", 'rag_requests_total{job="rag_pipeline"}')]
    expr = 'x{job="$job", i=~"$instance"} [[job]] ${job:raw} $__rate_interval $other'
    assert panels.interpolate_variables(expr, found) == (
        'x{job="rag_pipeline", i=~"(app:8000|app-2\\.local:8000)"} rag_pipeline rag_pipeline '
        "$__rate_interval $other"
    )


def test_all_with_an_all_value_uses_it() -> None:
    """A variable on "All" with a custom allValue (".+") sends that, unescaped."""
    model = {
        "templating": {
            "list": [
                {
                    "name": "instance",
                    "type": "query",
                    "includeAll": True,
                    "allValue": ".+",
                    "multi": True,
                    "current": {"text": "All", "value": "$__all"},
                    "query": "label_values(instance)",
                }
            ]
        }
    }
    found = panels.variables(model)
    assert panels.interpolate_variables('up{instance=~"$instance"}', found) == 'up{instance=~".+"}'


def test_datasource_references_resolve_like_grafana() -> None:
    """${DS_PROMETHEUS} of an exported dashboard and a missing reference go to the Prometheus
    datasource found; a name, a uid and a $datasource variable to theirs; Loki and the
    built-in Grafana datasource are not Prometheus; an unknown uid is kept as missing."""
    other = Datasource("other-prom", "Prometheus EU", "prometheus")
    variable = panels.Variable("datasource", "datasource", ("Prometheus EU",))
    resolver = panels.DatasourceResolver(
        (PROMETHEUS, LOKI, other), PROMETHEUS, {"datasource": variable}
    )
    assert resolver.resolve({"type": "prometheus", "uid": "${DS_PROMETHEUS}"}) == PROMETHEUS
    assert resolver.resolve(None) == PROMETHEUS
    assert resolver.resolve("Prometheus EU") == other
    assert resolver.resolve({"uid": "other-prom"}) == other
    assert resolver.resolve("$datasource") == other
    assert resolver.resolve({"type": "loki", "uid": LOKI.uid}) is None
    assert resolver.resolve({"type": "grafana", "uid": "-- Grafana --"}) is None
    missing = resolver.resolve({"type": "prometheus", "uid": "gone"})
    assert missing is not None
    assert missing.type == panels.MISSING
    assert "datasource ${DS_PROMETHEUS} resolved to 'Prometheus' (PBFA97CFB590B2093)" in (
        resolver.notes
    )


def test_the_learner_dashboard_is_read_as_grafana_would_query_it() -> None:
    """The recorded Grafana 12 dashboard: panels inside a collapsed row found, the Loki and
    text panels carry no Prometheus query, every query resolved before it is sent, and the
    four key panels recognised under the course's titles ("Cost Accumulation")."""
    model = recorded("dashboard_learner.json")["dashboard"]
    assert isinstance(model, dict)
    board = panels.parse_dashboard(
        model,
        datasources=(PROMETHEUS, LOKI),
        prometheus=PROMETHEUS,
        lookup=lambda label, metric: ["app:8000"],
    )
    assert [p.title for p in board.panels] == [
        "p95 Latency",
        "Error Rate (%)",
        "Cache Hit Rate (%)",
        "Cost Accumulation",
        "Request logs",
        "Notes",
    ]
    p95, errors, _, cost, logs, notes = board.panels
    assert p95.queries[0].expr == (
        "histogram_quantile(0.95, sum by (le) "
        '(rate(rag_query_duration_seconds_bucket{job="rag_pipeline"}[1m0s])))'
    )
    assert 'instance=~"app:8000"' in errors.queries[0].expr  # one value: no (a|b)
    assert cost.queries[0].expr == 'sum(increase(rag_cost_usd_total{job="rag_pipeline"}[1800s]))'
    assert p95.queries[0].datasource == PROMETHEUS
    assert (logs.queries, notes.queries) == ((), ())
    assert not any("$" in q.expr for p in board.panels for q in p.queries)
    key = board.key_panels()
    assert {role: panel.title for role, panel in key.items()} == {
        "p95 latency": "p95 Latency",
        "error rate": "Error Rate (%)",
        "cache hit rate": "Cache Hit Rate (%)",
        "cost": "Cost Accumulation",
    }
    assert board.notes == (
        "variables as a viewer sees them: $job = rag_pipeline, $instance = app:8000",
        "datasource ${DS_PROMETHEUS} resolved to 'Prometheus' (PBFA97CFB590B2093)",
    )


def test_the_course_panel_file_has_the_four_key_panels() -> None:
    """grafana_panels_spec.json as the course's notebook writes it: legacy graph panels, no
    datasource, the four key queries recognised."""
    model = recorded("grafana_panels_spec.json")["dashboard"]
    assert isinstance(model, dict)
    board = panels.parse_dashboard(model, datasources=(), prometheus=PROMETHEUS)
    assert set(board.key_panels()) == {k.role for k in KEY_QUERIES}
    assert board.range_seconds == 1800


def test_the_lab_key_panels_are_recognised_by_their_queries() -> None:
    """Each lab key panel's PromQL (lab/spec) matches its role's pattern and no other."""
    for key in KEY_QUERIES:
        (panel,) = [p for p in SPEC.dashboard.panels if p.title == key.lab_title]
        matching = [k.role for k in KEY_QUERIES if k.matches(panel.queries[0].expr)]
        assert matching == [key.role]


def test_a_ratio_the_wrong_way_round_is_not_the_error_rate() -> None:
    """Requests over errors, or errors alone, are not "errors over requests"."""
    error_rate = KEY_QUERIES[1]
    assert not error_rate.matches("rate(rag_requests_total[5m]) / rate(rag_errors_total[5m])")
    assert not error_rate.matches("sum(rate(rag_errors_total[5m]))")
    assert not error_rate.matches(
        "rate(rag_errors_by_type_total[5m]) / rate(rag_requests_total[5m])"
    )
