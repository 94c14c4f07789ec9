"""The alert sink's store and settings: JSON lines on disk, torn lines, env settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from sample_rag_app.services.alert_sink import AlertSinkSettings
from sample_rag_app.services.alert_sink.models import WebhookPayload
from sample_rag_app.services.alert_sink.slack import message
from sample_rag_app.services.alert_sink.store import AlertStore


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
    assert reloaded.page(alertname="Watchdog").alerts[0]["annotations"] == {"summary": "alive"}


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


def test_torn_last_line_is_cut_on_start_so_the_next_alert_survives_a_restart(
    tmp_path: Path,
) -> None:
    """A crash mid-write leaves a fragment; the next start cuts it, so a later append
    starts on its own line and is read back after the following restart."""
    path = tmp_path / "alerts.jsonl"
    AlertStore(path).append(_payload())
    complete = path.read_bytes()
    with path.open("ab") as handle:
        handle.write(complete[: len(complete) // 2])  # the crash window: half a line
    restarted = AlertStore(path)
    assert path.read_bytes() == complete
    restarted.append(_payload())
    assert len(AlertStore(path).notifications()) == 2


def test_a_failed_write_leaves_no_fragment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """When the disk refuses a write (fsync fails), the line is taken back and raised."""
    path = tmp_path / "alerts.jsonl"
    store = AlertStore(path)
    store.append(_payload())
    before = path.read_bytes()

    def refuse(_fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("sample_rag_app.services.alert_sink.store.os.fsync", refuse)
    with pytest.raises(OSError, match="No space"):
        store.append(_payload())
    assert path.read_bytes() == before
    assert len(store.notifications()) == 1


def _line(notification: object) -> str:
    record = {"receivedAt": "2026-11-28T15:00:00+00:00", "notification": notification}
    return json.dumps(record) + "\n"


def test_stored_lines_that_fail_validation_are_skipped_on_start(tmp_path: Path) -> None:
    """Lines an older sink accepted (a lone surrogate, deep nesting) or that are not
    notifications are skipped and logged on start; the valid ones load."""
    good = _payload().model_dump(mode="json", by_alias=True)
    surrogate = json.loads(json.dumps(good))
    surrogate["alerts"][0]["labels"]["job"] = "\ud800"
    deep: object = "x"
    for _ in range(900):
        deep = [deep]
    path = tmp_path / "alerts.jsonl"
    path.write_text(
        _line(good)
        + _line(surrogate)  # json.dumps escapes it: "\ud800", as the old sink wrote it
        + _line({**good, "extra": deep})
        + _line(["not", "an", "object"])
        + "not json at all\n"
        + _line(good)
    )
    with capture_logs() as logs:
        store = AlertStore(path)
    assert len(store.notifications()) == 2
    skipped = [entry["line"] for entry in logs if entry["event"] == "skipped_unreadable_line"]
    assert skipped == [2, 3, 4, 5]


def test_memory_holds_the_newest_notifications_within_its_budget(tmp_path: Path) -> None:
    """Memory keeps only the newest notifications that fit the byte budget; the file keeps
    all of them, and a restart loads the same newest ones."""
    path = tmp_path / "alerts.jsonl"
    line_bytes = len(_line(_payload().model_dump(mode="json", by_alias=True)))
    budget = line_bytes * 3 + line_bytes // 2  # room for three lines, not four
    store = AlertStore(path, memory_max_bytes=budget)
    for _ in range(10):
        store.append(_payload())
    assert len(path.read_text().splitlines()) == 10
    kept = store.notifications()
    assert [item.seq for item in kept] == [8, 9, 10]
    assert [item.seq for item in AlertStore(path, memory_max_bytes=budget).notifications()] == [
        8,
        9,
        10,
    ]


def test_main_serves_json_logs_with_bounded_connections(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`python -m sample_rag_app.services.alert_sink` keeps uvicorn off its own text logging
    and passes the
    keep-alive timeout and the concurrency limit from the settings."""
    import sample_rag_app.services.alert_sink.__main__ as entrypoint

    calls: dict[str, Any] = {}
    monkeypatch.setenv("ALERT_SINK_DATA_FILE", str(tmp_path / "a.jsonl"))
    monkeypatch.setenv("ALERT_SINK_LIMIT_CONCURRENCY", "7")
    monkeypatch.setattr(entrypoint, "configure_logging", lambda *_a: None)
    monkeypatch.setattr(
        entrypoint.uvicorn, "run", lambda app, **kwargs: calls.update(app=app, **kwargs)
    )
    entrypoint.main()
    assert calls["log_config"] is None
    assert calls["access_log"] is False
    assert calls["limit_concurrency"] == 7
    assert calls["timeout_keep_alive"] == 5
