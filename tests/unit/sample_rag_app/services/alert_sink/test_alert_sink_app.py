"""The alert sink's HTTP API: webhook validation, persistence, filters, health."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog
from fastapi.testclient import TestClient

from sample_rag_app.runtime.logging import configure_logging
from sample_rag_app.services.alert_sink import AlertSinkSettings, create_app
from sample_rag_app.services.alert_sink.__main__ import SERVICE
from sample_rag_app.services.alert_sink.models import MAX_NESTING_DEPTH


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
    configure_logging("info", SERVICE, cache_logger_on_first_use=False)
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

    monkeypatch.setattr("sample_rag_app.services.alert_sink.slack.requests.post", failing_post)
    settings = AlertSinkSettings(
        data_file=data_file, slack_webhook_url="https://hooks.slack.test/x"
    )
    client = TestClient(create_app(settings))
    response = client.post("/webhook", json=payload())
    assert response.status_code == 200
    assert calls == ["https://hooks.slack.test/x"]
    assert client.get("/alerts").json()["count"] == 1


def test_label_with_a_lone_surrogate_is_rejected_and_listing_still_works(
    client: TestClient, data_file: Path
) -> None:
    """A label holding a lone UTF-16 surrogate is a 422, is not stored, and GET /alerts
    keeps answering."""
    body = payload()
    body["alerts"][0]["labels"]["job"] = "\ud800"
    response = client.post(
        "/webhook", content=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert "surrogate" in response.json()["details"][0]["msg"]
    assert not data_file.exists()
    assert client.get("/alerts").status_code == 200


@pytest.mark.parametrize("depth", [MAX_NESTING_DEPTH + 1, 900])
def test_nesting_deeper_than_the_limit_is_rejected(
    client: TestClient, data_file: Path, depth: int
) -> None:
    """An extra field nested deeper than MAX_NESTING_DEPTH is a 422, not a crash."""
    nested: Any = "x"
    for _ in range(depth - 1):  # the payload object is the first level
        nested = [nested]
    response = client.post("/webhook", json={**payload(), "extra": nested})
    assert response.status_code == 422
    assert "nested" in response.json()["details"][0]["msg"]
    assert not data_file.exists()


def test_nesting_within_the_limit_is_stored(client: TestClient) -> None:
    """Extra fields Alertmanager may add are kept while they stay within the depth limit."""
    nested: Any = "x"
    for _ in range(MAX_NESTING_DEPTH - 1):
        nested = [nested]
    assert client.post("/webhook", json={**payload(), "extra": nested}).status_code == 200


def test_body_over_the_limit_is_413_whether_declared_or_streamed(data_file: Path) -> None:
    """A body larger than max_body_bytes is refused with 413, by Content-Length or by the
    bytes that actually arrive (chunked), and nothing is stored."""
    client = TestClient(create_app(AlertSinkSettings(data_file=data_file, max_body_bytes=4096)))
    big = {**payload(), "extra": "x" * 5000}
    declared = client.post("/webhook", json=big)
    assert declared.status_code == 413
    assert declared.json()["error"] == "body too large"
    streamed = client.post(
        "/webhook",
        content=iter([json.dumps(big).encode()]),
        headers={"Content-Type": "application/json"},
    )
    assert streamed.status_code == 413
    assert not data_file.exists()
    assert client.post("/webhook", json=payload()).status_code == 200


def test_alerts_are_paged_newest_last_with_a_cursor(client: TestClient) -> None:
    """GET /alerts returns the newest `limit` matches, oldest first, and `next_before`
    pages back until every match was seen once."""
    for number in range(5):
        client.post("/webhook", json=payload(f"Alert{number}"))
    client.post("/webhook", json=payload("Other", status="resolved"))
    first = client.get("/alerts", params={"limit": 2}).json()
    assert [a["alertname"] for a in first["alerts"]] == ["Alert4", "Other"]
    assert first["count"] == 2
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 2, "status": "firing"}
        if cursor is not None:
            params["before"] = cursor
        page = client.get("/alerts", params=params).json()
        seen = [a["alertname"] for a in page["alerts"]] + seen
        cursor = page["next_before"]
        if cursor is None:
            break
    assert seen == [f"Alert{n}" for n in range(5)]


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 1001}, {"before": -1}])
def test_paging_parameters_are_bounded(client: TestClient, params: dict[str, int]) -> None:
    """A page holds 1 to 1000 alerts; the cursor is a non-negative alert id."""
    assert client.get("/alerts", params=params).status_code == 422


def test_unexpected_failure_is_a_json_500_logged_once_as_json(
    data_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A failure nobody handled answers a JSON 500 and leaves one JSON line with the
    traceback; Alertmanager sees a 5xx and retries."""
    configure_logging("info", SERVICE, cache_logger_on_first_use=False)
    try:
        app = create_app(AlertSinkSettings(data_file=data_file))

        def broken(*_args: Any, **_kwargs: Any) -> None:
            raise RuntimeError("disk on fire")

        monkeypatch.setattr(app.state.store, "append", broken)
        response = TestClient(app, raise_server_exceptions=False).post("/webhook", json=payload())
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    finally:
        structlog.reset_defaults()
    assert response.status_code == 500
    assert response.json()["error"] == "internal error"
    errors = [line for line in lines if line["level"] == "error"]
    assert len(errors) == 1
    assert errors[0]["event"] == "unhandled_exception"
    assert "RuntimeError: disk on fire" in errors[0]["exception"]
    assert errors[0]["service"] == SERVICE


def test_stdlib_records_of_uvicorn_become_json_lines(capsys: pytest.CaptureFixture[str]) -> None:
    """uvicorn's own records (and their tracebacks) leave as JSON lines on stdout."""
    configure_logging("info", SERVICE, cache_logger_on_first_use=False)
    try:
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
        captured = capsys.readouterr()
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()
    (line,) = [json.loads(text) for text in captured.out.splitlines() if text]
    assert line["event"] == "Exception in ASGI application"
    assert line["logger"] == "uvicorn.error"
    assert "ValueError: boom" in line["exception"]
    assert captured.err == ""


@pytest.mark.parametrize("field", ["startsAt", "endsAt"])
@pytest.mark.parametrize("value", [0, 1.5, "0.5", "1700000000"])
def test_times_are_rfc3339_strings_not_numbers(
    client: TestClient, field: str, value: object
) -> None:
    """A number (or a numeric string) is no time here: pydantic would read it as a Unix
    timestamp, the OpenAPI document says date-time."""
    body = payload()
    body["alerts"][0][field] = value
    assert client.post("/webhook", json=body).status_code == 422


def test_since_is_an_rfc3339_string_not_a_number(client: TestClient) -> None:
    """`since=0.5` is refused like any other malformed time."""
    assert client.get("/alerts", params={"since": "0.5"}).status_code == 422
    assert client.get("/alerts", params={"since": "2026-11-28T15:00:00Z"}).status_code == 200


@pytest.mark.parametrize("value", [False, "3", 1.5])
def test_truncated_alerts_is_an_integer(client: TestClient, value: object) -> None:
    """truncatedAlerts takes a JSON integer (3.0 is one, as in JSON Schema); false, "3" or
    1.5 are not coerced."""
    assert client.post("/webhook", json={**payload(), "truncatedAlerts": value}).status_code == 422
    assert client.post("/webhook", json={**payload(), "truncatedAlerts": 3.0}).status_code == 200
