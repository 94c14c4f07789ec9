"""The loadgen's liveness file: renewed by every finished request, whatever its outcome."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import requests

from sample_rag_app.services.loadgen.generator import LoadGenerator
from sample_rag_app.services.loadgen.heartbeat import HEARTBEAT_MIN_SECONDS, Heartbeat
from sample_rag_app.services.loadgen.settings import LoadgenSettings


class Unreachable(requests.Session):
    """An app that is down: every request fails to connect."""

    def post(self, url: str | bytes, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        raise requests.ConnectionError("refused")

    def get(self, url: str | bytes, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        raise requests.ConnectionError("refused")


def _alive_until(path: Path) -> int:
    return int(path.read_text())


def test_a_failed_request_still_renews_the_heartbeat(tmp_path: Path) -> None:
    """The app being down is no reason to restart the loadgen: a request that fails to
    connect renews the file to about a minute from now."""
    alive = tmp_path / "alive"
    generator = LoadGenerator(
        LoadgenSettings(target_url="http://t"),
        session_factory=Unreachable,
        heartbeat_file=alive,
    )
    assert not alive.exists()
    before = time.time()
    assert generator.send_one("q", False) == "connection_error:ConnectionError"
    assert before + HEARTBEAT_MIN_SECONDS - 1 <= _alive_until(alive) <= time.time() + 61
    assert list(tmp_path.iterdir()) == [alive]  # the scratch file was renamed over it


def test_waiting_for_the_app_renews_the_heartbeat(tmp_path: Path) -> None:
    """Each readiness poll renews it, answered or not: the loadgen waits for a slow app."""
    alive = tmp_path / "alive"
    settings = LoadgenSettings(target_url="http://t", ready_timeout_seconds=0)
    generator = LoadGenerator(settings, session_factory=Unreachable, heartbeat_file=alive)
    assert generator.wait_until_ready() is False
    assert _alive_until(alive) >= time.time() + HEARTBEAT_MIN_SECONDS - 1


def test_beats_are_written_at_most_once_a_second(tmp_path: Path) -> None:
    """At hundreds of requests a second the file is rewritten once a second, not each time."""
    now = [100.0]
    wall = [1_000_000.0]
    heartbeat = Heartbeat(tmp_path / "alive", 60, clock=lambda: now[0], wall_clock=lambda: wall[0])
    heartbeat.beat()
    wall[0] += 0.5
    now[0] += 0.5
    heartbeat.beat()
    assert _alive_until(tmp_path / "alive") == 1_000_060
    now[0] += 0.5
    wall[0] += 0.5
    heartbeat.beat()
    assert _alive_until(tmp_path / "alive") == 1_000_061


def test_a_slow_rate_lasts_ten_mean_gaps_and_a_timeout() -> None:
    """At one query a minute a beat lasts 10 minutes and the request timeout, so a long
    (but not rare) wait between two arrivals restarts nothing."""
    slow = LoadgenSettings(rate_per_second=1 / 60, request_timeout_seconds=10)
    assert Heartbeat.for_settings(slow, None).lasts_seconds == 610
    assert Heartbeat.for_settings(LoadgenSettings(), None).lasts_seconds == HEARTBEAT_MIN_SECONDS


def test_an_unwritable_heartbeat_never_stops_the_traffic(tmp_path: Path) -> None:
    """A directory that does not exist: the requests still go out and their outcomes count."""
    generator = LoadGenerator(
        LoadgenSettings(target_url="http://t"),
        session_factory=Unreachable,
        heartbeat_file=tmp_path / "missing" / "alive",
    )
    for _ in range(2):
        assert generator.send_one("q", False) == "connection_error:ConnectionError"
    assert generator.outcomes["connection_error:ConnectionError"] == 2
