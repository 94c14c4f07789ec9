"""The fault session puts the app back as found on every exit (normal, exception,
Ctrl-C), persists faults in the lab-owned file when asked, reaches every replica, and
keeps its faults only when told and only on a normal exit."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from lab.kit.fault_session import FaultSession, Persistence, restorable_faults

DEFAULTS = {"llm_error_rate": 0.01, "added_latency_seconds": 0.0}
RESILIENCE = {"enabled": False, "retries": True}


@dataclass
class App:
    """The admin API in memory: faults over defaults, a running outage, resilience, and
    every call recorded; `interrupt` makes the named call raise KeyboardInterrupt once."""

    faults_now: dict[str, Any] = field(default_factory=lambda: dict(DEFAULTS))
    outage_left: float = 0.0
    config: dict[str, Any] = field(default_factory=lambda: dict(RESILIENCE))
    calls: list[str] = field(default_factory=list)
    interrupt: str | None = None
    down: bool = False

    def _call(self, what: str) -> None:
        self.calls.append(what)
        if self.down:
            raise ConnectionError("the app does not answer")
        if self.interrupt == what:
            self.interrupt = None
            raise KeyboardInterrupt

    def faults(self) -> dict[str, Any]:
        self._call("GET faults")
        return self._status()

    def _status(self) -> dict[str, Any]:
        return {**self.faults_now, "llm_outage_remaining_seconds": self.outage_left}

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        self._call(f"PUT faults {sorted(faults)}")
        self.outage_left = float(faults.pop("llm_outage_seconds", self.outage_left))
        self.faults_now.update(faults)
        return self._status()

    def clear_faults(self) -> dict[str, Any]:
        self._call("DELETE faults")
        self.faults_now, self.outage_left = dict(DEFAULTS), 0.0
        return self._status()

    def resilience(self) -> dict[str, Any]:
        self._call("GET resilience")
        return dict(self.config)

    def set_resilience(self, **fields: Any) -> dict[str, Any]:
        self._call(f"PUT resilience {sorted(fields)}")
        self.config.update(fields)
        return dict(self.config)

    def changes(self) -> list[str]:
        return [c for c in self.calls if not c.startswith("GET")]


@dataclass
class Replicas:
    """How many replicas run, and each restart of them all (on the faults file)."""

    count: int = 1
    restarts: int = 0

    def restart(self) -> None:
        self.restarts += 1


def _run(session: FaultSession, block: Callable[[FaultSession], object]) -> None:
    """`block` inside `session`, as a command runs its steps."""
    with session as entered:
        block(entered)


def _outage_with_resilience(session: FaultSession) -> None:
    session.set_resilience(enabled=True)
    session.set_faults(llm_error_rate=0.5)


def _broken(app: App) -> None:
    """A learner's earlier change the session must put back: a rate and a running outage."""
    app.faults_now["llm_error_rate"] = 0.2
    app.outage_left = 30.0
    app.config["enabled"] = True


def test_a_normal_exit_puts_back_the_faults_and_settings_found() -> None:
    """Faults beyond the defaults (a running outage included) and resilience come back."""
    app = App()
    _broken(app)
    with FaultSession(app) as session:
        session.clear_faults()
        session.set_faults(added_latency_seconds=0.8)
        session.set_resilience(enabled=False, retries=False)
        assert app.faults_now["added_latency_seconds"] == 0.8
    assert app.faults_now == {**DEFAULTS, "llm_error_rate": 0.2}
    assert app.outage_left == 30.0
    assert app.config == {**RESILIENCE, "enabled": True}
    assert app.changes()[-3:] == [
        "PUT resilience ['enabled', 'retries']",
        "DELETE faults",
        "PUT faults ['llm_error_rate', 'llm_outage_seconds']",
    ]


def test_an_exception_inside_puts_everything_back_and_propagates() -> None:
    """The block's error is raised after the faults and settings are restored."""
    app = App()

    def block(session: FaultSession) -> None:
        session.set_faults(llm_error_rate=0.5)
        session.set_resilience(enabled=True)
        raise RuntimeError("the drill broke")

    with pytest.raises(RuntimeError, match="broke"):
        _run(FaultSession(app), block)
    assert app.faults_now == DEFAULTS
    assert app.config == RESILIENCE


def test_ctrl_c_inside_puts_everything_back() -> None:
    """KeyboardInterrupt (Ctrl-C) is an exit like any other: the app is restored."""
    app = App()

    def block(session: FaultSession) -> None:
        session.set_resilience(enabled=True)
        session.set_faults(llm_error_rate=0.5)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _run(FaultSession(app), block)
    assert app.faults_now == DEFAULTS
    assert app.config == RESILIENCE


def test_an_interrupted_change_is_put_back_too() -> None:
    """Ctrl-C during the PUT itself: the fault may have landed, so it is cleared."""
    app = App(interrupt="PUT faults ['llm_error_rate']")
    with pytest.raises(KeyboardInterrupt):
        _run(FaultSession(app), lambda session: session.set_faults(llm_error_rate=0.5))
    assert app.changes()[-1] == "DELETE faults"


def test_a_second_ctrl_c_while_restoring_does_not_stop_the_rest() -> None:
    """Ctrl-C during the resilience restore: the faults are still restored, then it is raised."""
    app = App(interrupt="PUT resilience ['enabled', 'retries']")
    with pytest.raises(KeyboardInterrupt):
        _run(FaultSession(app), _outage_with_resilience)
    assert app.faults_now == DEFAULTS
    assert app.changes()[-1] == "DELETE faults"


def test_a_failing_restore_step_still_runs_the_others_and_is_raised() -> None:
    """Resilience cannot be put back: the faults still are; the failure reaches the caller."""
    app = App()

    def refuse(**fields: Any) -> dict[str, Any]:
        if fields == RESILIENCE:
            raise ConnectionError("refused")
        app.config.update(fields)
        return dict(app.config)

    app.set_resilience = refuse  # type: ignore[method-assign]
    with pytest.raises(ConnectionError, match="refused"):
        _run(FaultSession(app), _outage_with_resilience)
    assert app.faults_now == DEFAULTS


def test_a_session_that_changes_nothing_changes_nothing_back() -> None:
    """Only the snapshot is read: no resilience read, no PUT, no DELETE; on_restored runs."""
    app = App()
    said: list[str] = []
    with FaultSession(app, on_restored=lambda: said.append("restored")):
        pass
    assert app.calls == ["GET faults"]
    assert said == ["restored"]


def test_parts_put_back_early_are_not_put_back_again() -> None:
    """A drill clears its fault, then restores resilience: leaving has nothing left to do."""
    app = App()
    with FaultSession(app) as session:
        session.set_resilience(enabled=True)
        session.set_faults(llm_error_rate=0.5)
        session.restore_faults()
        assert session.restore_resilience() == RESILIENCE
        assert session.restore_resilience() is None
        done = len(app.calls)
    assert len(app.calls) == done


def test_on_restored_is_not_called_when_the_restore_fails() -> None:
    """A command says "restored" only when it was."""
    app = App()
    said: list[str] = []
    restored = FaultSession(app, on_restored=lambda: said.append("restored"))

    def block(session: FaultSession) -> None:
        session.set_faults(llm_error_rate=0.5)
        app.down = True

    with pytest.raises(ConnectionError):
        _run(restored, block)
    assert said == []


def _persisted(tmp_path: Path, app: App, replicas: Replicas, *, keep: bool = False) -> FaultSession:
    persistence = Persistence(
        tmp_path / "state" / "faults.json", lambda: replicas.count, replicas.restart
    )
    return FaultSession(app, persist=persistence, keep=keep)


def test_persisted_faults_are_written_for_a_restart_and_removed_on_leaving(
    tmp_path: Path,
) -> None:
    """The faults file holds every field set (mode 0644, for the containers' nobody) while
    the session runs, and is gone once it ends; the app is back at its defaults."""
    app, replicas = App(), Replicas()
    faults_file = tmp_path / "state" / "faults.json"
    with _persisted(tmp_path, app, replicas) as session:
        session.set_faults(rename_latency_metric=True)
        session.set_faults(llm_error_rate=0.3)
        assert json.loads(faults_file.read_text()) == {
            "rename_latency_metric": True,
            "llm_error_rate": 0.3,
        }
        assert faults_file.stat().st_mode & 0o777 == 0o644
        assert app.faults_now["rename_latency_metric"] is True
    assert not faults_file.exists()
    assert app.faults_now == DEFAULTS
    assert replicas.restarts == 0


def test_a_persisted_session_puts_back_the_defaults_not_a_snapshot(tmp_path: Path) -> None:
    """What a persisted session sets outlives the command: it never reads a snapshot, and
    leaving goes back to the defaults whatever the app had before."""
    app, replicas = App(), Replicas()
    _broken(app)
    with _persisted(tmp_path, app, replicas) as session:
        session.set_faults(lose_correlation_id=True)
    assert "GET faults" not in app.calls
    assert app.faults_now == DEFAULTS


def test_a_kept_session_leaves_its_faults_and_reset_takes_them_away(tmp_path: Path) -> None:
    """`keep`: a normal exit leaves the faults live and in the file (scenario start); a
    fresh session's restore() removes both (scenario reset)."""
    app, replicas = App(), Replicas()
    faults_file = tmp_path / "state" / "faults.json"
    with _persisted(tmp_path, app, replicas, keep=True) as session:
        session.set_faults(lose_correlation_id=True)
    assert app.faults_now["lose_correlation_id"] is True
    assert json.loads(faults_file.read_text()) == {"lose_correlation_id": True}
    _persisted(tmp_path, app, replicas).restore()
    assert not faults_file.exists()
    assert app.faults_now == DEFAULTS


def test_a_kept_session_still_restores_when_its_block_fails(tmp_path: Path) -> None:
    """`keep` is for a normal exit only: a later step failing takes the faults away."""
    app, replicas = App(), Replicas()

    def block(session: FaultSession) -> None:
        session.set_faults(lose_correlation_id=True)
        raise RuntimeError("Prometheus did not reload")

    with pytest.raises(RuntimeError):
        _run(_persisted(tmp_path, app, replicas, keep=True), block)
    assert not (tmp_path / "state" / "faults.json").exists()
    assert app.faults_now == DEFAULTS


def test_several_replicas_are_restarted_on_the_file_not_called(tmp_path: Path) -> None:
    """With three replicas an admin call reaches one: setting and restoring restart them
    all on the faults file instead, and the admin API is never asked to change."""
    app, replicas = App(), Replicas(count=3)
    faults_file = tmp_path / "state" / "faults.json"
    with _persisted(tmp_path, app, replicas) as session:
        session.set_faults(rename_latency_metric=True)
        assert json.loads(faults_file.read_text()) == {"rename_latency_metric": True}
        assert replicas.restarts == 1
    assert replicas.restarts == 2
    assert not faults_file.exists()
    assert app.calls == []


def test_countdowns_are_not_sent_back_and_running_timed_faults_resume() -> None:
    """GET shows countdowns a PUT rejects; a running outage or spike resumes for what is left."""
    idle = {
        "llm_error_rate": 0.01,
        "llm_outage_remaining_seconds": 0.0,
        "latency_spike_seconds": 0.0,
        "latency_spike_remaining_seconds": 0.0,
    }
    assert restorable_faults(idle) == {"llm_error_rate": 0.01}
    running = {
        **idle,
        "llm_outage_remaining_seconds": 12.5,
        "latency_spike_seconds": 2.0,
        "latency_spike_remaining_seconds": 4.0,
    }
    assert restorable_faults(running) == {
        "llm_error_rate": 0.01,
        "llm_outage_seconds": 12.5,
        "latency_spike_seconds": 2.0,
        "latency_spike_duration_seconds": 4.0,
    }
