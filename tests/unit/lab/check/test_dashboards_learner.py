"""Check 2 on a learner's stack, against recorded Grafana 12 answers (grafana_responses/,
see its README): the dashboard found by what it queries, its references and variables
resolved before anything is sent, the course's panel file accepted without Grafana."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests
import responses

from lab.check import dashboards
from lab.check.result import CheckResult, Status
from lab.kit.context import LabContext
from lab.kit.settings import LabSettings
from lab.spec import SPEC
from lab.target.model import GrafanaTarget, Target

GRAFANA = "http://grafana.test:3000"
PROM = "http://prometheus.test:9090"
RESPONSES = Path(__file__).parent / "grafana_responses"
PROMETHEUS_UID = "PBFA97CFB590B2093"
LEARNER_UID = "de5rqx1m8w2kgc"
Reply = tuple[int, dict[str, str], str]


def recorded(name: str) -> Any:
    return json.loads((RESPONSES / name).read_text())


def learner(tmp_path: Path, **grafana: Any) -> Target:
    return Target(
        name="course stack",
        own_stack=False,
        prometheus_url=PROM,
        grafana=GrafanaTarget(**({"url": GRAFANA} | grafana)),
        source=tmp_path / "lab-target.yaml",
    )


def context(target: Target, **settings: Any) -> LabContext:
    base = {"http_timeout_seconds": 0.5}
    return LabContext.from_settings(LabSettings(**(base | settings)), target=target)


def grafana_12(*, learner_dashboard: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The recorded Grafana: two dashboards, Loki and Prometheus; every query answered with
    the recorded frame. Returns the queries /api/ds/query received."""
    sent: list[dict[str, Any]] = []
    responses.get(f"{GRAFANA}/api/health", json=recorded("health.json"))
    responses.get(f"{GRAFANA}/api/datasources", json=recorded("datasources.json"))
    responses.get(
        f"{GRAFANA}/api/datasources/uid/{PROMETHEUS_UID}/health",
        json=recorded("datasource_health.json"),
    )
    responses.get(f"{GRAFANA}/api/search", json=recorded("search.json"))
    responses.get(
        f"{GRAFANA}/api/dashboards/uid/bf3k2m9x0cqo0e",
        json=recorded("dashboard_node_exporter.json"),
    )
    responses.get(
        f"{GRAFANA}/api/dashboards/uid/{LEARNER_UID}",
        json=learner_dashboard or recorded("dashboard_learner.json"),
    )
    frame = recorded("ds_query.json")["results"]["A"]

    def query(request: requests.PreparedRequest) -> Reply:
        body = json.loads(request.body or b"{}")
        sent.extend(body["queries"])
        return 200, {}, json.dumps({"results": {q["refId"]: frame for q in body["queries"]}})

    responses.add_callback(responses.POST, f"{GRAFANA}/api/ds/query", callback=query)
    responses.get(
        f"{PROM}/api/v1/label/instance/values", json={"status": "success", "data": ["app:8000"]}
    )
    return sent


def prometheus_range_queries() -> list[str]:
    """Answer every range query with one point; returns the expressions asked."""
    asked: list[str] = []

    def answer(request: requests.PreparedRequest) -> Reply:
        asked.append(parse_qs(urlparse(request.url or "").query)["query"][0])
        data = {"resultType": "matrix", "result": [{"metric": {}, "values": [[0, "1"]]}]}
        return 200, {}, json.dumps({"status": "success", "data": data})

    responses.add_callback(responses.GET, f"{PROM}/api/v1/query_range", callback=answer)
    return asked


def failure(result: CheckResult) -> tuple[str, str]:
    assert result.status is Status.FAIL, result.evidence
    return result.evidence[-1], result.fix or ""


@responses.activate
def test_the_learner_dashboard_is_found_by_what_it_queries(tmp_path: Path) -> None:
    """No uid, no title configured: search finds two dashboards, the one whose panels
    compute the four key metrics is checked, its ${DS_PROMETHEUS} and $job resolved, and
    Grafana receives PromQL without a single variable left in it."""
    sent = grafana_12()
    result = dashboards.run(context(learner(tmp_path)))
    assert result.status is Status.PASS, result.evidence
    assert result.data["dashboard_uid"] == LEARNER_UID
    assert result.data["key_panels"]["cost"] == "Cost Accumulation"
    assert (
        "· datasource ${DS_PROMETHEUS} resolved to 'Prometheus' (PBFA97CFB590B2093)"
        in result.evidence
    )
    assert {q["datasource"]["uid"] for q in sent} == {PROMETHEUS_UID}
    assert not [q["expr"] for q in sent if "$" in q["expr"]]
    assert len(sent) == 4  # the key panels; the Loki and text panels are not Prometheus's
    assert 'job="rag_pipeline"' in sent[0]["expr"]
    assert result.evidence[-2] == "✓ all 4 panels return data through Grafana's query API"


@responses.activate
def test_a_dashboard_without_a_cost_panel_fails_naming_the_query_the_course_asks(
    tmp_path: Path,
) -> None:
    """The learner's dashboard without its cost panel: the check names the missing role and
    the PromQL to add, not the lab's `lab generate`."""
    board = recorded("dashboard_learner.json")
    (row,) = [p for p in board["dashboard"]["panels"] if p["type"] == "row"]
    row["panels"] = [p for p in row["panels"] if p["title"] != "Cost Accumulation"]
    grafana_12(learner_dashboard=board)
    evidence, fix = failure(dashboards.run(context(learner(tmp_path))))
    assert "'RAG Pipeline Observability - M2.3' (de5rqx1m8w2kgc) lacks panels for ['cost']" in (
        evidence
    )
    assert "sum(increase(rag_cost_usd_total[1h]))" in fix
    assert "lab generate" not in fix


@responses.activate
def test_a_configured_datasource_grafana_lacks_fails_naming_the_target_file(
    tmp_path: Path,
) -> None:
    """grafana.datasource_uid naming no Prometheus datasource: FAIL, the fix names the
    learner's lab-target.yaml."""
    grafana_12()
    target = learner(tmp_path, datasource_uid="prom-eu")
    evidence, fix = failure(dashboards.run(context(target)))
    assert "Grafana has no Prometheus datasource 'prom-eu'" in evidence
    assert str(tmp_path / "lab-target.yaml") in fix


@responses.activate
def test_without_grafana_the_four_key_queries_are_proven(tmp_path: Path) -> None:
    """A learner's stack without Grafana: the four key queries (not the lab's 22 panels) run
    against Prometheus, and the check says SKIP, never PASS."""
    asked = prometheus_range_queries()
    result = dashboards.run(context(learner(tmp_path, url=None)))
    assert result.status is Status.SKIP, result.evidence
    assert "grafana.url is empty in" in result.evidence[0]
    titles = SPEC.dashboard.key_panels
    assert asked == [q.expr for p in SPEC.dashboard.panels if p.title in titles for q in p.queries]
    assert not any(GRAFANA in call.request.url for call in responses.calls)


@responses.activate
def test_the_course_panel_file_is_the_dashboard_checked_without_grafana(tmp_path: Path) -> None:
    """grafana_panels_spec.json beside the target file, Grafana left out: its four panels'
    own queries are what run against Prometheus."""
    shutil.copy(RESPONSES / "grafana_panels_spec.json", tmp_path)
    asked = prometheus_range_queries()
    target = learner(tmp_path, panels_file=Path("grafana_panels_spec.json"))
    result = dashboards.run(context(target, check_grafana=False))
    assert result.status is Status.SKIP, result.evidence
    course = recorded("grafana_panels_spec.json")["dashboard"]["panels"]
    assert asked == [p["targets"][0]["expr"] for p in course]
    assert "✓ all 4 panels return data of grafana_panels_spec.json" in result.evidence[-2]


@responses.activate
def test_grafana_down_fails_with_a_fix_naming_the_target_file(tmp_path: Path) -> None:
    """The learner's Grafana not answering: the key queries are still shown, then FAIL with a
    fix about their Grafana and their target file, not `docker compose up -d grafana`."""
    prometheus_range_queries()
    target = learner(tmp_path, url="http://127.0.0.1:9")
    evidence, fix = failure(dashboards.run(context(target)))
    assert "Grafana is not running" in evidence
    assert str(tmp_path / "lab-target.yaml") in fix
    assert "docker compose" not in fix


@responses.activate
def test_a_panel_on_a_datasource_grafana_lacks_fails_naming_it(tmp_path: Path) -> None:
    """A key panel pointing at a datasource uid Grafana does not have is what Grafana shows
    as "datasource not found": FAIL naming the uid and the datasource to use."""
    board = recorded("dashboard_learner.json")
    p95 = board["dashboard"]["panels"][0]
    p95["datasource"] = p95["targets"][0]["datasource"] = {"type": "prometheus", "uid": "gone"}
    grafana_12(learner_dashboard=board)
    evidence, fix = failure(dashboards.run(context(learner(tmp_path))))
    assert "panel 'p95 Latency' queries datasource 'gone', which Grafana does not have" in evidence
    assert PROMETHEUS_UID in fix
