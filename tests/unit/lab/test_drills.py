"""Drills name real alerts and real faults, so a renamed alert or fault breaks a test,
not a learner's drill."""

from __future__ import annotations

import pytest

from lab.drills import DRILLS
from lab.spec import SPEC
from sample_rag_app.pipeline.faults import FaultUpdate


@pytest.mark.parametrize("name", list(DRILLS))
def test_drill_alert_is_in_the_spec(name: str) -> None:
    """Each drill waits for an alert the spec defines."""
    assert SPEC.alert(DRILLS[name].alert)


@pytest.mark.parametrize("name", list(DRILLS))
def test_drill_faults_are_accepted_by_the_app(name: str) -> None:
    """Each drill's faults validate against the app's admin API model."""
    FaultUpdate.model_validate(DRILLS[name].faults)


def test_drill_thresholds_are_crossed_by_their_faults() -> None:
    """The low-headroom fault leaves less headroom than the alert's threshold."""
    drill = DRILLS["low-headroom"]
    threshold = SPEC.alert(drill.alert).condition
    assert 100 - drill.faults["rate_limit_consumed_percent"] < threshold.value  # type: ignore[union-attr]
