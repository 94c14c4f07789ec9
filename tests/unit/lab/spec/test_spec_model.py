"""The spec's types enforce the rules every alert and recording rule must follow."""

from __future__ import annotations

from dataclasses import replace

import pytest

from lab.spec import SPEC
from lab.spec.humanize import format_number
from lab.spec.model import (
    Alert,
    AlwaysFiring,
    Comparison,
    RatioFixture,
    RecordingRule,
    ReplicaFixture,
    Severity,
    StateFixture,
    Threshold,
    Unit,
    duration_seconds,
)


def _alert(**changes: object) -> Alert:
    base = Alert(
        name="ExampleAlert",
        condition=Threshold("some_metric", Comparison.ABOVE, 0.25, Unit.RATIO),
        for_="5m",
        severity=Severity.WARNING,
        summary="Something is high",
        description="Something is higher than it should be on {{ $labels.instance }}.",
        fixture=AlwaysFiring(),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_threshold_alert_description_gets_value_and_threshold_sentence() -> None:
    """The one place that builds annotations adds the value template and the human threshold."""
    annotations = _alert().annotations("docs/runbooks")
    assert annotations["description"].endswith(
        "Current value: {{ $value | humanizePercentage }}; alert threshold: above 25% for 5m."
    )
    assert annotations["runbook_url"] == "docs/runbooks/ExampleAlert.md"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"severity": "page"}, "severity must be one of"),
        ({"summary": ""}, "summary must be one non-empty line"),
        ({"description": "short"}, "description must explain"),
        ({"name": "lower_case"}, "CamelCase"),
        ({"description": "Value {{ $value | humanize }} is far too high here."}, "unsupported"),
        ({"labels": (("severity", "x"),)}, "bad extra label"),
    ],
)
def test_invalid_alerts_are_rejected_on_construction(
    changes: dict[str, object], message: str
) -> None:
    """A bad severity, empty summary, thin description or odd template fails at once."""
    with pytest.raises(ValueError, match=message):
        _alert(**changes)


def test_bad_for_duration_and_recording_name_are_rejected() -> None:
    """`for` must be a Prometheus duration and records must be level:metric:operations."""
    with pytest.raises(ValueError, match="duration"):
        _alert(for_="five minutes")
    with pytest.raises(ValueError, match="level:metric:operations"):
        RecordingRule("rag_p95", "x")
    assert duration_seconds("1h30m") == 5400


def test_spec_alert_names_are_unique_and_runbooks_named() -> None:
    """Alert names are unique in the spec and the burn alerts share one runbook."""
    names = [a.name for a in SPEC.alerts]
    assert len(names) == len(set(names))
    assert {a.runbook_page for a in SPEC.alerts if a.name.startswith("RagErrorBudgetBurn")} == {
        "RagErrorBudgetBurn.md"
    }


def test_with_threshold_returns_a_changed_copy() -> None:
    """with_threshold leaves the original spec alone and rejects unknown alerts."""
    original = SPEC.alert("HighErrorRate").threshold
    assert original is not None
    changed = SPEC.with_threshold("HighErrorRate", 2 * original.value)
    assert changed.alert("HighErrorRate").expr.endswith(f"> {format_number(2 * original.value)}")
    assert SPEC.alert("HighErrorRate").expr.endswith(f"> {format_number(original.value)}")
    with pytest.raises(KeyError):
        SPEC.with_threshold("Watchdog", 1)


def test_slo_error_budget_and_windows() -> None:
    """A 99 % SLO leaves a 1 % budget and records each burn window once, shortest first."""
    assert SPEC.slo.error_budget == 0.01
    assert SPEC.slo.record_windows == ("5m", "30m", "1h", "6h", "3d")


def test_fixtures_must_fit_the_condition_they_test() -> None:
    """A ratio fixture needs an `above` threshold; a state fixture needs a state condition."""
    from lab.spec.rag import BREAKER_STATE

    ratio = RatioFixture("a_total", "b_total", 1.0, "5m")
    with pytest.raises(ValueError, match="RatioFixture needs an `above` threshold"):
        _alert(fixture=ratio, condition="a_total > 0")
    with pytest.raises(ValueError, match="RatioFixture needs an `above` threshold"):
        _alert(fixture=ratio, condition=Threshold("q", Comparison.BELOW, 1, Unit.RATIO))
    with pytest.raises(ValueError, match="StateFixture tests a state condition"):
        _alert(fixture=BREAKER_STATE)


def test_state_fixture_rejects_unknown_or_healthy_flapping_states() -> None:
    """The flapping cycle uses known states and must leave the healthy one."""
    with pytest.raises(ValueError, match="not among"):
        StateFixture("g", "state", ("closed", "open"), "closed", ("opne",))
    with pytest.raises(ValueError, match="must leave the healthy state"):
        StateFixture("g", "state", ("closed", "open"), "closed", ("open", "closed"))
    fixture = StateFixture('g{job="x"}', "state", ("closed", "open"), "closed", ("open",))
    assert fixture.selector("open") == 'g{job="x", state="open"}'
    assert replace(fixture, series="g").selector("open") == 'g{state="open"}'


def test_resilience_alerts_are_warnings_on_recorded_ratios() -> None:
    """RetryStorm, SustainedFallback and LoadShedding alert on the recorded 5m ratios."""
    for name in ("RetryStorm", "SustainedFallback", "LoadShedding"):
        alert = SPEC.alert(name)
        assert alert.severity is Severity.WARNING
        assert alert.threshold is not None
        assert alert.threshold.query.startswith("job:")
        assert alert.threshold.query.endswith("5m")


def test_retry_storm_warns_before_the_apps_retry_budget_refuses_retries() -> None:
    """RetryStorm's bound lies below the app's default retry budget, so it can fire while
    the budget still lets retries through."""
    from lab.spec.rag import RETRIES_PER_REQUEST_MAX
    from sample_rag_app.pipeline.resilience.config import ResilienceConfig

    assert ResilienceConfig().retry_budget_ratio > RETRIES_PER_REQUEST_MAX


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("15s", 15), ("1m30s", 90), ("500ms", 0.5), ("1h", 3600), ("1m500ms", 60.5)],
)
def test_prometheus_durations_parse(text: str, seconds: float) -> None:
    """Durations in Prometheus's notation convert to seconds."""
    assert duration_seconds(text) == seconds


@pytest.mark.parametrize("text", ["15", "1.5s", "s", "15 s", ""])
def test_what_is_no_prometheus_duration_is_refused(text: str) -> None:
    """A number without its unit, a fraction or a space is no Prometheus duration."""
    with pytest.raises(ValueError, match="not a Prometheus duration"):
        duration_seconds(text)


def test_replica_fixture_needs_three_replicas_and_a_new_one() -> None:
    """Fewer than four different instances cannot express down, gone and replaced."""
    with pytest.raises(ValueError, match="four different instances"):
        ReplicaFixture(job_labels='job="rag-app"', instances=("a:1", "b:1", "c:1", "a:1"))
    fixture = ReplicaFixture(job_labels='job="rag-app"', instances=("a:1", "b:1", "c:1", "d:1"))
    assert fixture.up("c:1") == 'up{job="rag-app", instance="c:1"}'


def test_scraping_finds_the_app_by_name_and_port() -> None:
    """The app's target is its DNS name and port; a port outside TCP's range is refused."""
    assert SPEC.scraping.app_target == "app:8000"
    with pytest.raises(ValueError, match="not a TCP port"):
        replace(SPEC.scraping, app_port=70000)
