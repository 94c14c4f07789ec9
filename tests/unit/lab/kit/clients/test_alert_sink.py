"""AlertSinkClient reads what the real alert sink answers, and refuses any other shape."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import responses
from fastapi.testclient import TestClient

from lab.kit.clients import ServiceError
from lab.kit.clients.alert_sink import AlertSinkClient
from sample_rag_app.services.alert_sink import AlertSinkSettings, create_app
from tests.unit.sample_rag_app.services.alert_sink.test_alert_sink_app import payload

BASE = "http://alert-sink.test:9095"


@responses.activate
def test_alerts_are_read_from_the_body_the_sink_sends(tmp_path: Path) -> None:
    """The client lists the alerts of the sink's own GET /alerts body and sends the filters."""
    sink = TestClient(create_app(AlertSinkSettings(data_file=tmp_path / "alerts.jsonl")))
    sink.post("/webhook", json=payload("HighErrorRate"))
    responses.get(f"{BASE}/alerts", json=sink.get("/alerts").json())
    since = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
    alerts = AlertSinkClient(BASE).alerts(alertname="HighErrorRate", status="firing", since=since)
    assert [a["alertname"] for a in alerts] == ["HighErrorRate"]
    query = parse_qs(urlparse(responses.calls[0].request.url).query)
    assert query == {
        "alertname": ["HighErrorRate"],
        "status": ["firing"],
        "since": [since.isoformat()],
    }


@responses.activate
@pytest.mark.parametrize("body", [[{"alertname": "x"}], {"items": []}])
def test_a_body_the_sink_never_sends_is_an_error(body: object) -> None:
    """A bare list or a dict without `alerts` is a ServiceError naming the URL, not a guess."""
    responses.get(f"{BASE}/alerts", json=body)
    with pytest.raises(ServiceError, match="without an `alerts` list"):
        AlertSinkClient(BASE).alerts()


@responses.activate
def test_ready_follows_the_sinks_healthz_and_is_false_when_it_is_down() -> None:
    """200 on /healthz is ready; a 503 or nothing listening is not (no exception)."""
    responses.get(f"{BASE}/healthz", json={"status": "ok"})
    assert AlertSinkClient(BASE).ready() is True
    responses.replace(responses.GET, f"{BASE}/healthz", status=503)
    assert AlertSinkClient(BASE).ready() is False
    assert AlertSinkClient("http://nothing.test:1").ready() is False
