"""The runner: the same traffic in both arms, faults on time, counts exact, state restored."""

from __future__ import annotations

import pytest
from experiment_fakes import DEFAULT_FAULTS, DEFAULT_RESILIENCE, FakeApp, FakeClock

from lab.experiment.profiles import PROFILES, FaultEvent, Profile, Scale
from lab.experiment.runner import run_experiment
from lab.experiment.traffic import REPEAT_FRACTION, popular_questions, schedule

SMALL = Scale(requests_per_arm=200, rate_per_second=2.0)


def test_both_arms_replay_the_same_schedule_apart_from_the_new_questions_tag() -> None:
    """Same arrival times and questions; new questions differ only by the arm tag."""
    clock = FakeClock()
    run = run_experiment(FakeApp(clock), PROFILES["baseline"], SMALL, clock=clock, run_id="r1")
    off, on = run.arms
    assert [o.offset for o in off.outcomes] == [o.offset for o in on.outcomes]
    assert [o.repeated for o in off.outcomes] == [o.repeated for o in on.outcomes]
    arrivals = list(schedule(seed=2024, requests=200, rate_per_second=2.0, tag="x"))
    assert [a.offset for a in arrivals] == [o.offset for o in off.outcomes]


def test_schedule_follows_the_loadgens_mix_and_tags_only_new_questions() -> None:
    """About 40 % repeats, drawn from the popular questions, untagged; the rest tagged."""
    arrivals = list(schedule(seed=7, requests=4000, rate_per_second=5.0, tag="run arm"))
    repeated = [a for a in arrivals if a.repeated]
    assert abs(len(repeated) / len(arrivals) - REPEAT_FRACTION) < 0.03
    assert {a.question for a in repeated} <= set(popular_questions())
    assert all(a.question.endswith("(run arm)") for a in arrivals if not a.repeated)
    assert arrivals[-1].offset == pytest.approx(4000 / 5.0, rel=0.05)


def test_resilience_is_switched_per_arm_and_counts_are_exact() -> None:
    """The off arm sees the fake's 502s, the on arm none; each arm records its config."""
    clock = FakeClock()
    run = run_experiment(FakeApp(clock), PROFILES["baseline"], SMALL, clock=clock)
    off, on = run.arms
    assert (off.resilience["enabled"], on.resilience["enabled"]) == (False, True)
    assert len(off.outcomes) == len(on.outcomes) == 200
    assert sum(o.is_error for o in off.outcomes) > 0
    assert sum(o.is_error for o in on.outcomes) == 0
    assert all(o.error == "llm_error" for o in off.outcomes if o.is_error)


def test_timed_faults_fire_at_their_fraction_of_the_arm_in_each_arm() -> None:
    """An outage at 25 % of a 100 s arm is set about 25 s in, in both arms."""
    clock = FakeClock()
    app = FakeApp(clock)
    profile = Profile(
        "test", "outage", events=(FaultEvent(0.25, {"llm_outage_seconds": 10.0}, "outage", 10),)
    )
    run = run_experiment(app, profile, SMALL, clock=clock)
    arm_starts = [t for t, what, f in app.admin_calls if what == "set_resilience" and len(f) == 1]
    outages = [t for t, what, f in app.admin_calls if "llm_outage_seconds" in f]
    assert len(outages) == 2
    for started, outage in zip(arm_starts[1:], outages, strict=True):
        assert 24.0 <= outage - started <= 26.0
    off, on = run.arms
    assert sum(o.is_error for o in off.outcomes) > sum(o.is_error for o in on.outcomes)
    assert any(o.answer_level == "secondary" for o in on.outcomes)
    assert run.events[0]["at_seconds"] == pytest.approx(25.0)


def test_no_answer_counts_as_an_error_with_its_cause() -> None:
    """A refused connection is an error (status 0), named after the exception."""
    clock = FakeClock()
    run = run_experiment(
        FakeApp(clock, unreachable_every=10), PROFILES["baseline"], SMALL, clock=clock
    )
    refused = [o for o in run.arms[1].outcomes if o.status == 0]
    assert refused
    assert all(o.is_error and o.error == "ServiceUnreachable" for o in refused)


def test_the_starting_configuration_is_restored_even_when_an_arm_fails() -> None:
    """The fake breaks mid-run; resilience and faults are put back, the error propagates."""
    clock = FakeClock()
    app = FakeApp(clock)
    app.resilience_state = {**DEFAULT_RESILIENCE, "enabled": True, "retry_max_attempts": 5}
    app.fault_state = {**DEFAULT_FAULTS, "llm_error_rate": 0.2}
    app.fail_after = 150
    with pytest.raises(RuntimeError, match="broke"):
        run_experiment(app, PROFILES["baseline"], SMALL, clock=clock)
    assert app.resilience_state == {**DEFAULT_RESILIENCE, "enabled": True, "retry_max_attempts": 5}
    assert app.fault_state["llm_error_rate"] == 0.2
    assert app.admin_calls[-1][1] == "set_faults"
