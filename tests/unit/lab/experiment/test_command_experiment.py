"""`lab experiment` in-process against a mocked app and Prometheus: files, exit codes, errors."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import pytest
import requests
import responses

from lab.cli import run
from lab.kit.exit_codes import ExitCode

APP = "http://app.test:8000"
PROMETHEUS = "http://prometheus.test:9090"
FLAGS = ["--app-url", APP, "--prometheus-url", PROMETHEUS, "--admin-token", "t0ken"]


def _json(body: dict[str, Any], status: int = 200) -> tuple[int, dict[str, str], str]:
    return status, {"Content-Type": "application/json"}, json.dumps(body)


def mock_lab(state: dict[str, Any]) -> None:
    """An app that answers every query from its primary model, and a Prometheus whose
    last scrape is always in the future, holding 2 scrapes of 100 requests."""

    def query(_: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        state["queries"] += 1
        return _json({"answer_level": "primary", "cost_usd": 0.0001, "degraded": False})

    def admin(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        key = "resilience" if request.url and "resilience" in request.url else "faults"
        if request.method == "PUT":
            state[key] = {**state[key], **json.loads(request.body or b"{}")}
        elif request.method == "DELETE":
            state[key] = {**state[key], "enabled": False} if key == "resilience" else {}
        state["calls"].append((request.method, key))
        return _json(state[key])

    def prometheus(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        expr = request.params["query"]  # type: ignore[attr-defined]
        now = time.time()
        if expr.startswith("count(up"):  # one replica: the experiment may run
            data = {"resultType": "vector", "result": [{"metric": {}, "value": [now, "1"]}]}
        elif expr.startswith("max(timestamp"):
            data = {
                "resultType": "vector",
                "result": [{"metric": {}, "value": [now, str(now + 60)]}],
            }
        else:
            values = [[now - 30, "0"], [now + 60, "100"]]
            data = {
                "resultType": "matrix",
                "result": [{"metric": {"__name__": "rag_requests_total"}, "values": values}],
            }
        return _json({"status": "success", "data": data})

    responses.add_callback(responses.POST, f"{APP}/query", callback=query)
    for method in (responses.GET, responses.PUT, responses.DELETE):
        for path in ("/admin/faults", "/admin/resilience"):
            responses.add_callback(method, f"{APP}{path}", callback=admin)
    responses.add_callback(responses.GET, f"{PROMETHEUS}/api/v1/query", callback=prometheus)


@responses.activate
def test_a_run_writes_three_files_and_restores_the_app(tmp_path: Path) -> None:
    """20 requests per arm: exit 0 (no errors), the files, and the starting config restored."""
    state: dict[str, Any] = {
        "queries": 0,
        "calls": [],
        "faults": {"llm_error_rate": 0.01},
        "resilience": {"enabled": False, "retries": True},
    }
    mock_lab(state)
    out = io.StringIO()
    code = run(
        ["experiment", "--out", str(tmp_path), "--requests", "20", "--rate", "200", *FLAGS], out
    )
    assert code == ExitCode.OK, out.getvalue()
    assert {p.name for p in tmp_path.iterdir()} == {
        "experiment.json",
        "experiment.md",
        "experiment.png",
    }
    assert state["queries"] == 20 + 20 + 20  # the popular questions' warm-up, then both arms
    assert state["resilience"] == {"enabled": False, "retries": True}
    assert state["faults"] == {"llm_error_rate": 0.01}
    text = out.getvalue()
    assert "restored the resilience configuration and faults" in text
    assert "target met as observed, not shown" in text
    body = json.loads((tmp_path / "experiment.json").read_text())
    assert body["arms"][0]["server"]["requests"] == 100


def test_a_non_positive_request_count_is_a_usage_error(tmp_path: Path) -> None:
    """--requests 0 is refused by the parser (exit 2), before anything is sent."""
    code = run(["experiment", "--out", str(tmp_path), "--requests", "0", *FLAGS], io.StringIO())
    assert code == ExitCode.USAGE


@pytest.mark.parametrize("flag", ["--rate", "--concurrency"])
def test_rates_and_concurrency_must_be_numbers_above_zero(tmp_path: Path, flag: str) -> None:
    """Text or a negative number is a usage error."""
    for value in ("fast", "-1"):
        code = run(["experiment", "--out", str(tmp_path), flag, value, *FLAGS], io.StringIO())
        assert code == ExitCode.USAGE


@responses.activate
def test_without_the_admin_token_it_fails_and_says_how_to_set_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No token: exit 1 with the variable names, nothing written."""
    monkeypatch.delenv("LAB_ADMIN_TOKEN", raising=False)
    out = io.StringIO()
    code = run(["experiment", "--out", str(tmp_path / "x"), "--app-url", APP], out)
    assert code == ExitCode.FAILED
    assert "RAG_ADMIN_TOKEN" in out.getvalue()
    assert not (tmp_path / "x").exists()
