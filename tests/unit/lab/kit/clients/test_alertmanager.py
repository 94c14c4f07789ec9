"""AlertmanagerClient sends alerts in the v2 API's shape."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import responses

from lab.kit.clients import AlertmanagerClient
from lab.kit.clients.alertmanager import PostableAlert

BASE = "http://alertmanager.test:9093"


@responses.activate
def test_post_alerts_sends_v2_postable_alerts() -> None:
    """Alerts are posted as a JSON list with labels, annotations and RFC 3339 times."""
    responses.post(f"{BASE}/api/v2/alerts", json={})
    alert = PostableAlert(
        labels={"alertname": "LabTestAlert", "severity": "warning"},
        annotations={"summary": "test"},
        starts_at=datetime(2026, 11, 28, 15, 0, tzinfo=UTC),
    )
    AlertmanagerClient(BASE).post_alerts([alert])
    sent = json.loads(responses.calls[0].request.body or b"[]")
    assert sent == [
        {
            "labels": {"alertname": "LabTestAlert", "severity": "warning"},
            "annotations": {"summary": "test"},
            "startsAt": "2026-11-28T15:00:00+00:00",
        }
    ]


@responses.activate
def test_ready_is_false_while_alertmanager_is_not_ready() -> None:
    """A 503 from /-/ready means not ready, without raising."""
    responses.get(f"{BASE}/-/ready", status=503)
    assert AlertmanagerClient(BASE).ready() is False
