"""The alert sink's HTTP API: webhook validation, persistence, filters, health."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog
from fastapi.testclient import TestClient

from lab.alert_sink import AlertSinkSettings, create_app


def payload(
    alertname: str = "HighErrorRate", status: str = "firing", severity: str = "critical"
) -> dict[str, Any]:
    """A notification shaped like Alertmanager 0.25+ sends it."""
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{alertname}"}}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": severity,
        "groupLabels": {"alertname": alertname},
        "commonLabels": {"alertname": alertname, "severity": severity},
        "commonAnnotations": {"summary": "s"},
        "externalURL": "http://localhost:9093",
        "alerts": [
            {
                "status": status,
                "labels": {"alertname": alertname, "severity": severity, "job": "rag-app"},
                "annotations": {"summary": "s", "description": "d", "runbook_url": "r"},
                "startsAt": "2026-11-28T15:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://localhost:9090/graph",
                "fingerprint": "abc123",
            }
        ],
    }


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    return tmp_path / "data" / "alerts.jsonl"


@pytest.fixture
def client(data_file: Path) -> TestClient:
    return TestClient(create_app(AlertSinkSettings(data_file=data_file)))


def test_webhook_stores_the_notification_and_lists_it_flattened(
    client: TestClient, data_file: Path
) -> None:
    """A valid notification is acknowledged, written to the file and listed per alert."""
    response = client.post("/webhook", json=payload())
    assert response.status_code == 200
    assert response.json() == {"status": "stored", "alerts": 1}
    assert len(data_file.read_text().splitlines()) == 1
    listed = client.get("/alerts").json()
    assert listed["count"] == 1
    (alert,) = listed["alerts"]
    assert alert["alertname"] == "HighErrorRate"
    assert alert["status"] == "firing"
    assert alert["labels"]["severity"] == "critical"
    assert alert["annotations"]["description"] == "d"
    assert alert["receiver"] == "critical"
    assert datetime.fromisoformat(alert["receivedAt"]).tzinfo is not None


@pytest.mark.parametrize(
    "body",
    [
        {"version": "3"},
        {**payload(), "version": "3"},
        {**payload(), "alerts": []},
        {**payload(), "status": "pending"},
        {k: v for k, v in payload().items() if k != "groupKey"},
    ],
)
def test_bad_payloads_get_a_4xx_json_error_and_are_not_stored(
    client: TestClient, data_file: Path, body: dict[str, Any]
) -> None:
    """Wrong version, no alerts, a bad status or a missing field answer 422 with details."""
    response = client.post("/webhook", json=body)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid request"
    assert response.json()["details"]
    assert not data_file.exists()


def test_non_json_body_is_rejected(client: TestClient) -> None:
    """A body that is not JSON answers 422 rather than 500."""
    response = client.post(
        "/webhook", content=b"not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422


def test_bad_payload_is_logged(client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    """A rejected payload leaves a JSON log line saying why."""
    from lab.alert_sink.app import configure_logging

    configure_logging("info")
    try:
        client.post("/webhook", json={"version": "4"})
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    finally:
        structlog.reset_defaults()
    assert any(line["event"] == "invalid_request" for line in lines)


def test_filters_by_alertname_status_and_since(client: TestClient) -> None:
    """GET /alerts filters on alertname, status and an RFC 3339 `since`."""
    client.post("/webhook", json=payload("HighErrorRate"))
    client.post("/webhook", json=payload("HighErrorRate", status="resolved"))
    client.post("/webhook", json=payload("Watchdog", severity="none"))
    assert client.get("/alerts").json()["count"] == 3
    assert client.get("/alerts", params={"alertname": "Watchdog"}).json()["count"] == 1
    resolved = client.get("/alerts", params={"status": "resolved"}).json()["alerts"]
    assert [a["status"] for a in resolved] == ["resolved"]
    future = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    assert client.get("/alerts", params={"since": future}).json()["count"] == 0
    past = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert client.get("/alerts", params={"since": past}).json()["count"] == 3


def test_invalid_filters_are_rejected(client: TestClient) -> None:
    """An unknown status or an unparsable `since` answers 422."""
    assert client.get("/alerts", params={"status": "pending"}).status_code == 422
    assert client.get("/alerts", params={"since": "yesterday"}).status_code == 422


def test_alerts_survive_a_restart(data_file: Path) -> None:
    """A new app on the same data file serves what the previous one stored."""
    first = TestClient(create_app(AlertSinkSettings(data_file=data_file)))
    first.post("/webhook", json=payload())
    second = TestClient(create_app(AlertSinkSettings(data_file=data_file)))
    assert second.get("/alerts").json()["count"] == 1
    assert second.get("/healthz").json() == {"status": "ok", "notifications": 1}


def test_slack_forwarding_failure_is_not_fatal(
    data_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With Slack configured and failing, the webhook still stores and answers 200."""
    import requests

    calls: list[str] = []

    def failing_post(url: str, **_kwargs: Any) -> None:
        calls.append(url)
        raise requests.ConnectionError("slack down")

    monkeypatch.setattr("lab.alert_sink.slack.requests.post", failing_post)
    settings = AlertSinkSettings(
        data_file=data_file, slack_webhook_url="https://hooks.slack.test/x"
    )
    client = TestClient(create_app(settings))
    response = client.post("/webhook", json=payload())
    assert response.status_code == 200
    assert calls == ["https://hooks.slack.test/x"]
    assert client.get("/alerts").json()["count"] == 1
