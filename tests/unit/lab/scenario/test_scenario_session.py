"""The scenario state machine on a lab in memory: start, hints, verify, score, reset, and
the state surviving a new session (a restart of the shell or the lab)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from scenario_fakes import FakeLab, fake_lab

from lab.kit import owned_files
from lab.kit.exit_codes import ExitCode
from lab.scenario.catalog import SCENARIOS
from lab.scenario.model import Scenario
from lab.scenario.session import Session
from lab.scenario.state import StateStore

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class Live:
    """What the fake lab shows: whether the fault is visible, and the evidence values."""

    def __init__(self) -> None:
        self.broken = True
        self.evidence = {"rag_request_latency_seconds"}


def _scenarios(live: Live) -> dict[str, Scenario]:
    """The real catalog's entries, with probes that read `live` instead of a lab."""

    def detect(_: object) -> str | None:
        return "✗ still broken" if live.broken else None

    def evidence(_: object) -> set[str]:
        return live.evidence if live.broken else set()

    return {
        name: dataclasses.replace(
            s, detect=detect, evidence=evidence if s.evidence is not None else None
        )
        for name, s in SCENARIOS.items()
    }


@pytest.fixture
def lab(tmp_path: Path) -> FakeLab:
    return fake_lab(tmp_path / "state")


@pytest.fixture
def live() -> Live:
    return Live()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _session(lab: FakeLab, live: Live, clock: Clock, docs: Path | None = None) -> Session:
    return Session(
        lab.lab,
        StateStore(lab.lab.state_dir),
        docs_root=docs,
        now=clock,
        scenarios=_scenarios(live),
    )


def test_start_shows_the_symptom_and_puts_the_app_fault_in_place(
    lab: FakeLab, live: Live, clock: Clock
) -> None:
    """Start prints the symptom, not the cause; sets the faults live and in the faults file."""
    outcome = _session(lab, live, clock).start("empty-latency-panels")
    assert outcome.code is ExitCode.OK
    text = "\n".join(outcome.lines)
    assert SCENARIOS["empty-latency-panels"].symptom in text
    assert "renamed" not in text
    assert lab.app.faults == {"rename_latency_metric": True}
    faults_file = lab.lab.state_dir / owned_files.FAULTS_FILE
    assert json.loads(faults_file.read_text()) == {"rename_latency_metric": True}
    assert faults_file.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize(
    ("name", "effect"),
    [
        ("double-bill", "reload"),
        ("silent-pager", "restart"),
        ("missed-page", "silence"),
    ],
)
def test_start_deploys_config_variants_and_silences(
    lab: FakeLab, live: Live, clock: Clock, name: str, effect: str
) -> None:
    """A scrape variant reloads Prometheus, the Alertmanager variant restarts it, a silence
    is created; each as a lab-owned file or an API call, never a learner's file."""
    assert _session(lab, live, clock).start(name).code is ExitCode.OK
    files = {p.name for p in lab.lab.state_dir.iterdir()}
    if effect == "reload":
        assert lab.prometheus.reloads == 1
        assert any(f.startswith(owned_files.SCRAPE_PREFIX) for f in files)
    elif effect == "restart":
        assert lab.restarts == ["alertmanager"]
        assert owned_files.ALERTMANAGER_FILE in files
    else:
        assert lab.alertmanager.active() == ["s1"]


def test_bad_input_gets_usage_errors_that_name_the_fix(
    lab: FakeLab, live: Live, clock: Clock
) -> None:
    """Unknown scenario, no scenario running, a second start: exit 2 with what to do."""
    session = _session(lab, live, clock)
    unknown = session.start("no-such-thing")
    assert unknown.code is ExitCode.USAGE
    assert "choose one of" in unknown.lines[-1]
    for idle in (session.verify(), session.hint(), session.status()):
        assert idle.code is ExitCode.USAGE
        assert "lab scenario start NAME" in idle.lines[-1]
    assert session.start("throttled").code is ExitCode.OK
    second = session.start("metrics-bloat")
    assert second.code is ExitCode.USAGE
    assert "'throttled' is running" in second.lines[0]
    assert "lab scenario reset" in second.lines[1]


def test_hints_come_one_at_a_time_and_survive_a_new_session(
    lab: FakeLab, live: Live, clock: Clock
) -> None:
    """Each hint call reveals one more; a new session (a restart) continues the count."""
    scenario = SCENARIOS["throttled"]
    _session(lab, live, clock).start("throttled")
    first = _session(lab, live, clock).hint()
    assert first.lines == [f"hint 1/{len(scenario.hints)}: {scenario.hints[0]}"]
    for _ in range(len(scenario.hints) + 1):
        last = _session(lab, live, clock).hint()
    assert len([line for line in last.lines if line.startswith("hint ")]) == len(scenario.hints)
    assert "no more hints" in last.lines[-1]
    state = StateStore(lab.lab.state_dir).load()
    assert state is not None
    assert state.hints_shown == len(scenario.hints)


def test_verify_by_cause_needs_the_right_cause_and_live_evidence(
    lab: FakeLab, live: Live, clock: Clock, tmp_path: Path
) -> None:
    """No cause: the menu; a wrong cause or evidence the lab does not show fails and counts;
    the right pair passes, scores, restores the lab and shows the runbook."""
    docs = tmp_path / "repo"
    runbook = docs / SCENARIOS["empty-latency-panels"].runbook
    runbook.parent.mkdir(parents=True)
    runbook.write_text("# Empty latency panels\nThe runbook.\n")
    session = _session(lab, live, clock, docs)
    session.start("empty-latency-panels")
    session.hint()

    menu = session.verify()
    assert menu.code is ExitCode.USAGE
    assert any(line.strip().startswith("renamed-metric") for line in menu.lines)
    assert session.verify("no-such-cause").code is ExitCode.USAGE
    assert session.verify("silence").code is ExitCode.FAILED
    assert session.verify("renamed-metric").code is ExitCode.USAGE  # evidence wanted
    assert session.verify("renamed-metric", "rag_latency").code is ExitCode.FAILED

    clock.now = T0 + timedelta(minutes=4, seconds=30)
    solved = session.verify("renamed-metric", "rag_request_latency_seconds")
    assert solved.code is ExitCode.OK, solved.lines
    assert solved.score is not None
    assert (solved.score.hints_used, solved.score.wrong_causes) == (1, 2)
    assert solved.score.seconds == 270
    assert "diagnosed in 4m30s" in solved.lines[1]
    assert "The runbook." in solved.lines
    assert lab.app.faults == {}
    assert StateStore(lab.lab.state_dir).load() is None


def test_verify_by_cause_refuses_when_the_lab_no_longer_shows_the_fault(
    lab: FakeLab, live: Live, clock: Clock
) -> None:
    """A fault undone behind the scenario's back cannot be evidenced: reset and start again."""
    session = _session(lab, live, clock)
    session.start("metrics-bloat")
    live.broken = False
    outcome = session.verify("unbounded-label", "user_id")
    assert outcome.code is ExitCode.FAILED
    assert "lab scenario reset" in outcome.lines[-1]


def test_verify_a_fix_fails_until_the_check_passes(lab: FakeLab, live: Live, clock: Clock) -> None:
    """A scenario the learner fixes passes only once its check no longer shows the fault."""
    session = _session(lab, live, clock)
    session.start("missed-page")
    still = session.verify()
    assert still.code is ExitCode.FAILED
    assert "✗ still broken" in still.lines[-1]
    live.broken = False
    fixed = session.verify()
    assert fixed.code is ExitCode.OK
    assert fixed.score is not None
    assert fixed.score.wrong_causes == 0


def test_reset_restores_everything_whatever_the_state_and_twice(
    lab: FakeLab, live: Live, clock: Clock
) -> None:
    """Reset clears app faults, files, the silence and the Alertmanager variant; again: no-op."""
    session = _session(lab, live, clock)
    session.start("silent-pager")
    lab.alertmanager.create_silence([], created_by="maintenance-bot")
    first = session.reset()
    assert first.code is ExitCode.OK
    assert list(lab.lab.state_dir.iterdir()) == []
    assert lab.restarts == ["alertmanager", "alertmanager"]
    assert lab.alertmanager.active() == []
    again = session.reset()
    assert again.code is ExitCode.OK
    assert again.lines[0] == "no scenario was running"
    assert lab.restarts == ["alertmanager", "alertmanager"]  # nothing left to restart


def test_reset_clears_an_unreadable_state_file(lab: FakeLab, live: Live, clock: Clock) -> None:
    """A corrupt state file makes the other commands say `reset`; reset clears it."""
    lab.lab.state_dir.mkdir(parents=True)
    (lab.lab.state_dir / owned_files.STATE_FILE).write_text("{not json")
    session = _session(lab, live, clock)
    assert "lab scenario reset" in session.verify().lines[-1]
    assert session.reset().code is ExitCode.OK
    assert session.start("throttled").code is ExitCode.OK


def test_reset_reports_a_service_that_does_not_answer_and_still_does_the_rest(
    lab: FakeLab, live: Live, clock: Clock
) -> None:
    """With the app down, reset exits 1 naming it, and still reloads Prometheus."""
    session = _session(lab, live, clock)
    session.start("double-bill")
    lab.app.down = True
    outcome = session.reset()
    assert outcome.code is ExitCode.FAILED
    assert any("the app" in line and "✗" in line for line in outcome.lines)
    assert lab.prometheus.reloads == 2
    assert not any(
        p.name.startswith(owned_files.SCRAPE_PREFIX) for p in lab.lab.state_dir.iterdir()
    )


def test_a_start_that_fails_halfway_leaves_nothing_broken(
    lab: FakeLab, live: Live, clock: Clock
) -> None:
    """If the app refuses the fault, start exits 1, takes everything away, keeps no state."""
    lab.app.down = True
    outcome = _session(lab, live, clock).start("throttled")
    assert outcome.code is ExitCode.FAILED
    assert StateStore(lab.lab.state_dir).load() is None


def test_with_several_replicas_the_app_faults_reach_each_by_a_restart(
    lab: FakeLab, live: Live, clock: Clock
) -> None:
    """Behind the gateway an admin call reaches one replica: with three, start and reset
    restart the app (every replica reads the faults file at start) instead."""
    lab.prometheus.app_replicas = 3
    session = _session(lab, live, clock)
    assert session.start("untraceable-request").code is ExitCode.OK
    assert lab.app.faults == {}
    assert json.loads((lab.lab.state_dir / owned_files.FAULTS_FILE).read_text()) == {
        "lose_correlation_id": True
    }
    assert lab.restarts == ["app"]
    assert session.reset().code is ExitCode.OK
    assert lab.restarts == ["app", "app"]
    assert not (lab.lab.state_dir / owned_files.FAULTS_FILE).exists()
