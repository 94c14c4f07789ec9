"""The course's claim, in-process: the app on a virtual clock, fixed seeds, 5 000 requests
per arm. Resilience off, the course's conditions give 0.5-2 % errors; on, below 0.1 %,
and with enough requests for the 95 % bound to be below it too."""

from __future__ import annotations

import pytest

from lab.experiment.in_process import InProcessApp
from lab.experiment.profiles import PROFILES, Scale
from lab.experiment.report import Comparison
from lab.experiment.runner import run_experiment
from lab.spec.rag import EXPECTED_ERROR_RATE_BEFORE, TARGET_ERROR_RATE_AFTER

SEED = 2024
REQUESTS_PER_ARM = 5000
# The course's traffic: the loadgen's default rate, so cache TTLs and the provider's
# rate limit see what they see on the lab.
SCALE = Scale(requests_per_arm=REQUESTS_PER_ARM, rate_per_second=2.0)

pytestmark = pytest.mark.slow


def run_profile(name: str) -> Comparison:
    with InProcessApp(seed=SEED) as app:
        return Comparison.of(
            run_experiment(app, PROFILES[name], SCALE, clock=app, seed=SEED, server=app)
        )


@pytest.fixture(scope="module")
def baseline_profile() -> Comparison:
    return run_profile("baseline")


def test_without_resilience_the_error_rate_is_in_the_course_band(
    baseline_profile: Comparison,
) -> None:
    """The off arm reproduces the course's "before": 0.5-2 % of 5 000 requests fail."""
    off = baseline_profile.client["off"]
    low, high = EXPECTED_ERROR_RATE_BEFORE
    assert off.requests == REQUESTS_PER_ARM
    assert low <= off.error_rate_percent <= high, off


def test_with_resilience_the_error_rate_is_below_the_target_and_shown(
    baseline_profile: Comparison,
) -> None:
    """The on arm, same traffic and faults: < 0.1 % errors, and the 95 % bound agrees."""
    on = baseline_profile.client["on"]
    assert on.requests == REQUESTS_PER_ARM
    assert on.error_rate_percent < TARGET_ERROR_RATE_AFTER, on
    assert on.error_rate_upper_bound_percent < TARGET_ERROR_RATE_AFTER, on
    assert baseline_profile.verdict.shown


def test_the_apps_counters_agree_with_the_client_counts(baseline_profile: Comparison) -> None:
    """In-process only the experiment's traffic reaches the app: /metrics and the client
    count the same requests and errors in each arm, and every request ends as an answer
    at some level or an error."""
    for arm in baseline_profile.run.arms:
        client = baseline_profile.client[arm.name]
        assert arm.server is not None
        assert (arm.server.requests, arm.server.errors) == (client.requests, client.errors)
        assert sum(arm.server.answers_by_level.values()) + client.errors == client.requests


def test_resilience_retries_only_when_on(baseline_profile: Comparison) -> None:
    """Retries per request: none with resilience off, some with it on."""
    off, on = (arm.server for arm in baseline_profile.run.arms)
    assert off is not None
    assert on is not None
    assert off.retries_per_request == 0
    assert (on.retries_per_request or 0) > 0


def test_under_the_harsh_profile_resilience_still_meets_the_target(
    baseline_profile: Comparison,
) -> None:
    """A 30 s provider outage and a latency spike on top: the off arm fails more than under
    the course's conditions; the on arm stays below 0.1 %, the secondary model answering."""
    harsh = run_profile("harsh")
    off, on = harsh.client["off"], harsh.client["on"]
    assert off.errors > baseline_profile.client["off"].errors
    assert on.error_rate_percent < TARGET_ERROR_RATE_AFTER, on
    assert on.answers_by_level["secondary"] > 0
