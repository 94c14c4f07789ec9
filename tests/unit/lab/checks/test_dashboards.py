"""Check 2 against a canned Grafana whose database fails: the user reads why, not a status code."""

from __future__ import annotations

import responses

from lab.checks import dashboards
from lab.checks.result import Status
from lab.context import LabContext
from lab.settings import LabSettings

GRAFANA = "http://grafana.test:3000"


@responses.activate
def test_a_failing_grafana_database_fails_the_check_naming_it() -> None:
    """Grafana's 503 "database failing" becomes the check's failure, with the fix."""
    responses.get(f"{GRAFANA}/api/health", status=503, json={"database": "failing"})
    ctx = LabContext.from_settings(LabSettings(grafana_url=GRAFANA, http_timeout_seconds=0.5))
    result = dashboards.run(ctx)
    assert result.status is Status.FAIL
    assert result.evidence[-1] == "✗ Grafana reports database 'failing'"
    assert "docker compose logs grafana" in (result.fix or "")
