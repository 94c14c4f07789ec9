"""`lab target discover` against canned services: Grafana's answers are the recorded Grafana
12 responses of tests/unit/lab/check/grafana_responses (its README says where they come from)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import responses
import yaml

from lab.cli import run
from lab.kit.exit_codes import ExitCode
from lab.kit.settings import LabSettings
from lab.kit.target import load_target

ROOT = Path(__file__).resolve().parents[4]
RECORDED = ROOT / "tests/unit/lab/check/grafana_responses"
AM_CONFIG = (ROOT / "tests/integration/own_stack/alertmanager.yml").read_text()
PROM, AM, GRAFANA = "http://prom.test", "http://am.test", "http://grafana.test"
URLS = ["--prometheus-url", PROM, "--alertmanager-url", AM, "--grafana-url", GRAFANA]


def recorded(name: str) -> object:
    return json.loads((RECORDED / name).read_text())


def services(jobs: tuple[str, ...] = ("rag_pipeline",), grafana: bool = True) -> None:
    vector = [{"metric": {"job": job}, "value": [0, "1"]} for job in jobs]
    responses.get(
        f"{PROM}/api/v1/query",
        json={"status": "success", "data": {"resultType": "vector", "result": vector}},
    )
    responses.get(f"{AM}/api/v2/status", json={"config": {"original": AM_CONFIG}})
    if grafana:
        responses.get(f"{GRAFANA}/api/datasources", json=recorded("datasources.json"))
        responses.get(f"{GRAFANA}/api/search", json=recorded("search.json"))
        for hit in recorded("search.json"):  # type: ignore[attr-defined]
            name = (
                "dashboard_learner.json"
                if "RAG" in hit["title"]
                else "dashboard_node_exporter.json"
            )
            responses.get(f"{GRAFANA}/api/dashboards/uid/{hit['uid']}", json=recorded(name))


@responses.activate
def test_discover_writes_what_the_services_say(tmp_path: Path) -> None:
    """The job exporting rag_requests_total, the warning's receiver, Grafana's Prometheus
    datasource (by type) and the dashboard whose panels query the key metrics (by what they
    query, not uid or title); the file loads as a learner's target."""
    services()
    out = tmp_path / "lab-target.yaml"
    assert run(["target", "discover", *URLS, "--out", str(out)], io.StringIO()) is ExitCode.OK
    written = yaml.safe_load(out.read_text())
    assert written["scrape_job"] == "rag_pipeline"
    assert written["alerting"]["receivers"] == ["team-slack"]
    assert written["grafana"]["datasource_uid"] == "PBFA97CFB590B2093"
    assert written["grafana"]["dashboard_uid"] == "de5rqx1m8w2kgc"
    target = load_target(LabSettings(target_file=out))
    assert not target.own_stack
    assert target.alert_sink_url is None


@responses.activate
def test_without_grafana_its_part_is_turned_off_and_said(tmp_path: Path) -> None:
    """No Grafana answering: grafana.url null (check 2 then proves the queries against
    Prometheus), and the file says why."""
    services(grafana=False)
    out = tmp_path / "t.yaml"
    urls = [*URLS[:4], "--grafana-url", "http://127.0.0.1:9"]
    assert run(["target", "discover", *urls, "--out", str(out)], io.StringIO()) is ExitCode.OK
    text = out.read_text()
    assert yaml.safe_load(text)["grafana"] == {"url": None}
    assert "# - Grafana: not found at http://127.0.0.1:9" in text


@responses.activate
def test_several_jobs_leave_the_job_to_the_learner(tmp_path: Path) -> None:
    """Two jobs exporting the app's counter: no job is guessed; the note says which."""
    services(jobs=("rag_pipeline", "rag_pipeline_copy"), grafana=False)
    out = tmp_path / "t.yaml"
    run(["target", "discover", *URLS, "--out", str(out)], io.StringIO())
    text = out.read_text()
    assert "scrape_job" not in yaml.safe_load(text)
    assert "2 jobs export rag_requests_total (rag_pipeline, rag_pipeline_copy)" in text


def test_an_existing_file_is_not_overwritten_without_force(tmp_path: Path) -> None:
    """The learner's edited file survives a second discover unless --force."""
    out = tmp_path / "t.yaml"
    out.write_text("name: mine\n")
    said = io.StringIO()
    assert run(["target", "discover", "--out", str(out)], said) is ExitCode.USAGE
    assert "--force" in said.getvalue()
    assert out.read_text() == "name: mine\n"
