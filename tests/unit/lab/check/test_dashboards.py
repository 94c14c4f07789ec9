"""Check 2 against a canned Grafana serving the dashboard `lab generate` renders (and a canned
Prometheus where Grafana is left out): each broken link fails with its fix."""

from __future__ import annotations

import json
from typing import Any

import requests
import responses

from lab.check import dashboards
from lab.check.result import CheckResult, Status
from lab.generate.grafana import dashboard_json, datasource
from lab.kit.context import LabContext
from lab.kit.settings import LabSettings
from lab.spec import SPEC

GRAFANA = "http://grafana.test:3000"
PROM = "http://prometheus.test:9090"
Reply = tuple[int, dict[str, str], str]


def context(**overrides: Any) -> LabContext:
    settings = {"grafana_url": GRAFANA, "prometheus_url": PROM, "http_timeout_seconds": 0.5}
    return LabContext.from_settings(LabSettings(**(settings | overrides)))


def grafana(*, dashboard: dict[str, Any] | None = None, empty_exprs: tuple[str, ...] = ()) -> None:
    """A healthy Grafana serving `dashboard` (default: the generated one); queries whose
    expression is in `empty_exprs` return no points, the others two."""
    served = dashboard or dashboard_json(SPEC)
    responses.get(f"{GRAFANA}/api/health", json={"database": "ok", "version": "12.0.2"})
    # What Grafana lists for the provisioned datasource file.
    listed = [ds | {"id": 1, "orgId": 1} for ds in datasource(SPEC)["datasources"]]
    responses.get(f"{GRAFANA}/api/datasources", json=listed)
    responses.get(
        f"{GRAFANA}/api/datasources/uid/{SPEC.datasource_uid}/health",
        json={"status": "OK", "message": "Successfully queried the Prometheus API."},
    )
    hit = {"uid": SPEC.dashboard.uid, "title": SPEC.dashboard.title, "type": "dash-db"}
    responses.get(f"{GRAFANA}/api/search", json=[hit])
    responses.get(f"{GRAFANA}/api/dashboards/uid/{SPEC.dashboard.uid}", json={"dashboard": served})

    def query(request: requests.PreparedRequest) -> Reply:
        results = {}
        for q in json.loads(request.body or b"{}")["queries"]:
            values = [] if q["expr"] in empty_exprs else [1.0, 2.0]
            frame = {"data": {"values": [[1, 2][: len(values)], values]}}
            results[q["refId"]] = {"frames": [frame]}
        return 200, {}, json.dumps({"results": results})

    responses.add_callback(responses.POST, f"{GRAFANA}/api/ds/query", callback=query)


def prometheus_with_data() -> None:
    series = {"metric": {}, "values": [[0, "1"]]}
    responses.get(
        f"{PROM}/api/v1/query_range",
        json={"status": "success", "data": {"resultType": "matrix", "result": [series]}},
    )


def failure(result: CheckResult) -> tuple[str, str]:
    assert result.status is Status.FAIL, result.evidence
    return result.evidence[-1], result.fix or ""


@responses.activate
def test_passes_when_every_panel_returns_data_through_grafana() -> None:
    """Healthy Grafana, datasource OK, the key panels there, every query with points: PASS."""
    grafana()
    result = dashboards.run(context())
    assert result.status is Status.PASS, result.evidence
    assert result.evidence[-1] == (
        f"✓ all {len(SPEC.dashboard.panels)} panels return data through Grafana's query API"
    )


@responses.activate
def test_a_failing_grafana_database_fails_the_check_naming_it() -> None:
    """Grafana's 503 "database failing" becomes the check's failure, with the fix."""
    responses.get(f"{GRAFANA}/api/health", status=503, json={"database": "failing"})
    evidence, fix = failure(dashboards.run(context()))
    assert evidence == "✗ Grafana reports database 'failing'"
    assert "docker compose logs grafana" in fix


@responses.activate
def test_a_dashboard_without_a_key_panel_fails_naming_it() -> None:
    """A provisioned dashboard that lacks the error-rate panel fails, naming the panel."""
    served = dashboard_json(SPEC)
    served["panels"] = [p for p in served["panels"] if p["title"] != "Error Rate (%)"]
    grafana(dashboard=served)
    evidence, fix = failure(dashboards.run(context()))
    assert "lacks panels for ['error rate'] (no panel queries them)" in evidence
    assert "lab generate" in fix


@responses.activate
def test_a_panel_without_data_fails_naming_it() -> None:
    """A panel whose queries return no points is named: nobody would see anything there."""
    (cost,) = [p for p in SPEC.dashboard.panels if p.title == "Cost per Hour (USD)"]
    grafana(empty_exprs=tuple(q.expr for q in cost.queries))
    evidence, fix = failure(dashboards.run(context()))
    assert "['Cost per Hour (USD)']" in evidence
    assert "loadgen" in fix


@responses.activate
def test_grafana_down_fails_after_proving_the_panels_against_prometheus() -> None:
    """Nothing listens where Grafana should: the panels are run against Prometheus (shown as
    evidence), and the check still fails with how to start Grafana."""
    prometheus_with_data()
    result = dashboards.run(context(grafana_url="http://127.0.0.1:9"))
    evidence, fix = failure(result)
    assert "Grafana is not running" in evidence
    assert "against Prometheus directly" in result.evidence[-2]
    assert "docker compose up -d grafana" in fix


@responses.activate
def test_without_grafana_on_purpose_the_check_is_skipped_not_passed() -> None:
    """LAB_CHECK_GRAFANA=false: the panel queries are proven against Prometheus, and the
    check says SKIP (Grafana itself was not looked at)."""
    prometheus_with_data()
    result = dashboards.run(context(check_grafana=False))
    assert result.status is Status.SKIP
    assert "Grafana itself was not" in result.evidence[-1]
    assert not any(GRAFANA in call.request.url for call in responses.calls)
