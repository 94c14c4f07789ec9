"""The alert sink's store and settings: JSON lines on disk, torn lines, env settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.alert_sink import AlertSinkSettings
from lab.alert_sink.models import WebhookPayload
from lab.alert_sink.slack import message
from lab.alert_sink.store import AlertStore


def _payload() -> WebhookPayload:
    return WebhookPayload.model_validate(
        {
            "version": "4",
            "groupKey": "g",
            "status": "firing",
            "receiver": "alert-sink",
            "alerts": [
                {
                    "status": "firing",
                    "labels": {"alertname": "Watchdog", "severity": "none"},
                    "annotations": {"summary": "alive"},
                    "startsAt": "2026-11-28T15:00:00Z",
                }
            ],
        }
    )


def test_store_appends_one_json_line_per_notification(tmp_path: Path) -> None:
    """Each append adds a line holding receivedAt and the notification with its aliases."""
    store = AlertStore(tmp_path / "alerts.jsonl")
    store.append(_payload())
    store.append(_payload())
    lines = (tmp_path / "alerts.jsonl").read_text().splitlines()
    assert len(lines) == 2
    assert '"groupKey":"g"' in lines[0]
    assert '"receivedAt"' in lines[0]


def test_store_skips_a_torn_last_line_and_keeps_the_rest(tmp_path: Path) -> None:
    """A half-written line (a crash mid-write) is skipped on reload; earlier ones load."""
    path = tmp_path / "alerts.jsonl"
    AlertStore(path).append(_payload())
    with path.open("a") as handle:
        handle.write('{"receivedAt": "2026-11-28T15:0')
    reloaded = AlertStore(path)
    assert len(reloaded.notifications()) == 1
    assert reloaded.alerts(alertname="Watchdog")[0]["annotations"] == {"summary": "alive"}


def test_settings_read_the_alert_sink_prefix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """ALERT_SINK_* variables configure the port, data file and Slack URL file."""
    secret = tmp_path / "slack"
    secret.write_text("https://hooks.slack.test/from-file\n")
    monkeypatch.setenv("ALERT_SINK_PORT", "9999")
    monkeypatch.setenv("ALERT_SINK_DATA_FILE", str(tmp_path / "a.jsonl"))
    monkeypatch.setenv("ALERT_SINK_SLACK_WEBHOOK_URL_FILE", str(secret))
    settings = AlertSinkSettings()
    assert settings.port == 9999
    assert settings.data_file == tmp_path / "a.jsonl"
    assert settings.slack_url() == "https://hooks.slack.test/from-file"


def test_settings_defaults_match_the_compose_service(monkeypatch: pytest.MonkeyPatch) -> None:
    """By default the sink listens on 9095 and keeps /data/alerts.jsonl, Slack off."""
    for name in ("PORT", "DATA_FILE", "SLACK_WEBHOOK_URL", "SLACK_WEBHOOK_URL_FILE"):
        monkeypatch.delenv(f"ALERT_SINK_{name}", raising=False)
    settings = AlertSinkSettings()
    assert (settings.port, settings.data_file) == (9095, Path("/data/alerts.jsonl"))
    assert settings.slack_url() is None


def test_slack_message_lists_each_alert_with_summary() -> None:
    """The Slack text names the status and each alert with its summary."""
    text = message(_payload())["text"]
    assert text.startswith("*[FIRING]*")
    assert "firing: Watchdog: alive" in text
