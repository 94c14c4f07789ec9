"""Every `lab scenario` on a live lab: the check it targets detects it, `verify` fails
before the fix (or with a wrong cause) and passes after, and `reset` from the scenario
returns `lab check` to green, twice in a row.

One private stack for them all (the scenarios break it on purpose, one at a time), in one
xdist group so one worker runs them in turn.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import requests

from lab.check.result import CheckResult
from lab.check.runner import CheckOptions, run_checks
from lab.kit import owned_files
from lab.kit.exit_codes import ExitCode
from lab.kit.polling import poll_until
from lab.scenario.catalog import SCENARIOS
from lab.scenario.live import Lab
from lab.scenario.model import Grading
from lab.scenario.session import Session, open_session
from tests.integration.conftest import ROOT, Stack, start_stack

pytestmark = [pytest.mark.disruptive, pytest.mark.xdist_group("scenarios")]

#: What a learner would name as evidence, read off the live signals by hand.
EVIDENCE = {
    "empty-latency-panels": "rag_request_latency_seconds",
    "silent-pager": "null",
    "metrics-bloat": "user_id",
    "untraceable-request": "response_returned",
    "double-bill": "rag-app-canary",
}
#: Scenarios whose symptom needs more traffic than the loadgen's 2/s gives in seconds.
TRAFFIC = {"metrics-bloat": 120, "slow-for-some": 160}
DETECT_TIMEOUT = 60


@dataclass
class ScenarioLab:
    stack: Stack
    lab: Lab
    session: Session


# Session-scoped, not module-scoped: xdist hands a worker its group in batches, and a
# module fixture is torn down (and its stack rebuilt) whenever a batch runs dry.
@pytest.fixture(scope="session")
def scenario_lab() -> Iterator[ScenarioLab]:
    with start_stack() as stack:
        session = open_session(stack.settings, ROOT)
        yield ScenarioLab(stack, session.lab, session)


def _traffic(app_url: str, requests_count: int, tag: str) -> None:
    """Bounded traffic to the local app: unique questions, so each reaches the model."""

    def ask(i: int) -> None:
        requests.post(
            f"{app_url}/query",
            json={"question": f"How do I monitor a RAG service? ({tag} {i})"},
            timeout=30,
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(ask, range(requests_count)))


def _lab_check(stack: Stack) -> list[CheckResult]:
    return run_checks(stack.settings, CheckOptions())


def _green(stack: Stack) -> list[CheckResult] | None:
    results = _lab_check(stack)
    return None if any(r.failed for r in results) else results


def _fix(scenario_lab: ScenarioLab) -> None:
    """What the learner does for a scenario they fix themselves: expire the silence."""
    state = scenario_lab.session.store.load()
    assert state is not None
    assert state.silence_id
    scenario_lab.lab.alertmanager.expire_silence(state.silence_id)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario_is_detected_verified_and_reset(scenario_lab: ScenarioLab, name: str) -> None:
    """Start: its check detects it; verify fails before, passes after; reset (twice) → green."""
    scenario = SCENARIOS[name]
    session, lab = scenario_lab.session, scenario_lab.lab
    started = session.start(name)
    assert started.code is ExitCode.OK, started.lines
    assert (lab.state_dir / owned_files.STATE_FILE).is_file()
    if name in TRAFFIC:
        _traffic(scenario_lab.stack.app_url, TRAFFIC[name], name)
    shown = poll_until(
        lambda: scenario.detect(lab),
        timeout=DETECT_TIMEOUT,
        interval=2,
        describe=f"{name} detected by {scenario.detected_by}",
    )
    assert shown

    if scenario.grading is Grading.FIX:
        assert session.verify().code is ExitCode.FAILED
        _fix(scenario_lab)
        passed = poll_until(
            lambda: (o := session.verify()).code is ExitCode.OK and o,
            timeout=30,
            interval=1,
            describe=f"{name} verified after the fix",
        )
    else:
        assert session.verify().code is ExitCode.USAGE  # no cause named: the menu
        wrong = "provider-outage" if scenario.cause != "provider-outage" else "silence"
        assert session.verify(wrong).code is ExitCode.FAILED
        if name in EVIDENCE:
            assert session.verify(scenario.cause, "not-what-it-shows").code is ExitCode.FAILED
        passed = session.verify(scenario.cause, EVIDENCE.get(name))
    assert passed.code is ExitCode.OK, passed.lines
    assert passed.score is not None
    if scenario.grading is Grading.CAUSE:
        assert passed.score.wrong_causes >= 1  # the wrong guesses above count
    assert any(scenario.runbook in line for line in passed.lines)
    assert session.store.load() is None

    assert session.start(name).code is ExitCode.OK
    for _ in range(2):  # idempotent
        reset = session.reset()
        assert reset.code is ExitCode.OK, reset.lines
    assert not (lab.state_dir / owned_files.FAULTS_FILE).exists()
    poll_until(
        lambda: _green(scenario_lab.stack), timeout=30, interval=2, describe="lab check green"
    )


def test_a_running_scenario_survives_a_restart_of_the_app(scenario_lab: ScenarioLab) -> None:
    """The app restarted mid-scenario comes back with its faults (the lab-owned faults
    file), and the scenario's state is still there to verify."""
    session, lab = scenario_lab.session, scenario_lab.lab
    scenario = SCENARIOS["empty-latency-panels"]
    assert session.start(scenario.name).code is ExitCode.OK
    try:
        lab.restart_service("app", True)
        poll_until(lab.app.ready, timeout=60, interval=1, describe="the app ready again")
        assert poll_until(lambda: scenario.detect(lab), timeout=30, interval=2)
        assert session.status().code is ExitCode.OK
    finally:
        assert session.reset().code is ExitCode.OK
    poll_until(
        lambda: _green(scenario_lab.stack), timeout=30, interval=2, describe="lab check green"
    )


@pytest.mark.xdist_group("scenarios-replicas")
@pytest.mark.stack(scale={"app": 3})
def test_with_three_replicas_every_replica_gets_the_scenarios_faults(own_stack: Stack) -> None:
    """An admin call through the gateway reaches one replica, so start restarts them all on
    the faults file: Prometheus scrapes the fault from each of the three; reset takes it
    from all three."""
    session = open_session(own_stack.settings, ROOT)
    prometheus = own_stack.prometheus
    assert session.lab.replicas() == 3

    def instances(metric: str) -> set[str] | None:
        found = {s.labels["instance"] for s in prometheus.query(f"count by (instance) ({metric})")}
        return found if len(found) == 3 else None

    assert session.start("empty-latency-panels").code is ExitCode.OK
    poll_until(lambda: instances("rag_request_latency_seconds_count"), timeout=60, interval=2)
    assert session.reset().code is ExitCode.OK
    poll_until(
        lambda: (
            not prometheus.query("rag_request_latency_seconds_count")
            and instances("rag_query_duration_seconds_count")
        ),
        timeout=60,
        interval=2,
    )
