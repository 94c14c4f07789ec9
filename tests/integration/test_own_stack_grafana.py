"""Check 2's Grafana discovery against a live Grafana, seen as a learner's stack: nothing of
the lab's dashboard is configured, so the datasource is found by type and the dashboard by
what its panels query; and the recorded Grafana 12 answers the unit tests read
(tests/unit/lab/check/grafana_responses/) hold every field the live Grafana sends them with.

Runs wherever a Grafana image exists (a laptop, GitHub Actions); elsewhere it skips, saying
why, before any stack is started for it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from lab.check import dashboards
from lab.check.result import CheckResult, Status
from lab.kit.clients.grafana import GrafanaClient
from lab.kit.context import LabContext
from lab.kit.polling import poll_until
from lab.kit.target import GrafanaTarget, Target
from tests.integration.conftest import Stack, grafana_unavailable_reason

RECORDED = Path(__file__).parents[1] / "unit" / "lab" / "check" / "grafana_responses"


@pytest.fixture
def grafana_stack(request: pytest.FixtureRequest) -> Stack:
    """The shared stack with its Grafana; skipped first where no Grafana image can run."""
    reason = grafana_unavailable_reason()
    if reason:
        pytest.skip(reason)
    stack: Stack = request.getfixturevalue("stack")
    stack.require_grafana()
    return stack


def recorded(name: str) -> Any:
    return json.loads((RECORDED / name).read_text())


def test_check_2_finds_the_dashboard_by_its_queries_in_a_live_grafana(
    grafana_stack: Stack,
) -> None:
    """A target naming only Grafana's URL: check 2 passes on the four key panels it found,
    with the datasource found by type."""
    target = Target(
        name="the lab's stack seen as a learner's",
        own_stack=False,
        app_url=grafana_stack.urls["app"],
        prometheus_url=grafana_stack.urls["prometheus"],
        alert_sink_url=None,
        scrape_job=None,
        grafana=GrafanaTarget(url=grafana_stack.urls["grafana"]),
    )
    ctx = LabContext.from_settings(grafana_stack.settings, target=target)

    def passed() -> CheckResult | None:
        result = dashboards.run(ctx)
        return result if result.status is Status.PASS else None

    result = poll_until(passed, timeout=90, interval=2, describe="check 2 on the live Grafana")
    assert set(result.data["key_panels"]) == {"p95 latency", "error rate", "cache hit rate", "cost"}


def test_the_recorded_answers_carry_only_fields_a_live_grafana_sends(
    grafana_stack: Stack,
) -> None:
    """Every field of the recorded search hit, datasource and dashboard meta is one the live
    Grafana sends too: the recordings are not invented shapes."""
    grafana = GrafanaClient(grafana_stack.urls["grafana"])
    hit = poll_until(lambda: next(iter(grafana.search_dashboards()), None), timeout=60)
    datasource = grafana.datasources()[0]
    answer = requests.get(f"{grafana.base_url}/api/dashboards/uid/{hit['uid']}", timeout=10)
    meta = answer.json()["meta"]
    assert set(recorded("search.json")[0]) - {"folderId", "folderUid"} <= set(hit)
    assert set(recorded("datasources.json")[0]) <= set(datasource)
    assert set(recorded("dashboard_learner.json")["meta"]) - {"folderId", "folderUid"} <= set(meta)
