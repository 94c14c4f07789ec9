"""The fault profiles and scales an experiment runs: the course's conditions, and worse.

A profile is the faults in force for a whole arm plus timed events within it; the
events are placed at fractions of the arm, so a short run meets the same story (calm,
outage, recovery, spike) as a full one. Fault field names are those of the app's
`PUT /admin/faults`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lab.baseline.model import REQUESTS_FOR_TARGET_CLAIM


@dataclass(frozen=True)
class FaultEvent:
    """Faults set `at_fraction` of the way through an arm (they expire by themselves)."""

    at_fraction: float
    faults: Mapping[str, Any]
    what: str
    lasts_seconds: float


@dataclass(frozen=True)
class Profile:
    """The conditions of both arms: `faults` on top of the app's defaults, then `events`."""

    name: str
    description: str
    faults: Mapping[str, Any] = field(default_factory=dict)
    events: tuple[FaultEvent, ...] = ()


@dataclass(frozen=True)
class Scale:
    """How much traffic each arm sends: a count of requests at a mean rate (Poisson)."""

    requests_per_arm: int
    rate_per_second: float

    @property
    def seconds(self) -> float:
        """The arm's planned length: the events are placed in it."""
        return self.requests_per_arm / self.rate_per_second


OUTAGE_SECONDS = 30.0
SPIKE_SECONDS = 2.0
SPIKE_DURATION_SECONDS = 30.0

PROFILES: dict[str, Profile] = {
    "baseline": Profile(
        "baseline",
        "the course's conditions: the app's default faults (1 % of LLM calls fail, which "
        "is about 0.6 % of queries once the cache answers the repeated questions)",
    ),
    "harsh": Profile(
        "harsh",
        f"the course's conditions plus a {OUTAGE_SECONDS:g} s outage of the primary LLM "
        f"provider at 20 % of the arm and a +{SPIKE_SECONDS:g} s latency spike of the "
        f"primary model for {SPIKE_DURATION_SECONDS:g} s at 60 %",
        events=(
            FaultEvent(
                0.2,
                {"llm_outage_seconds": OUTAGE_SECONDS},
                "primary LLM outage",
                OUTAGE_SECONDS,
            ),
            FaultEvent(
                0.6,
                {
                    "latency_spike_seconds": SPIKE_SECONDS,
                    "latency_spike_duration_seconds": SPIKE_DURATION_SECONDS,
                },
                "primary LLM latency spike",
                SPIKE_DURATION_SECONDS,
            ),
        ),
    ),
}

#: Enough requests per arm for zero errors to show the course's target (< 0.1 %: 2 995
#: needed), rounded up to a whole 500: 3 000.
FULL = Scale(requests_per_arm=-(-REQUESTS_FOR_TARGET_CLAIM // 500) * 500, rate_per_second=5.0)
#: For tests and CI: the same story in 80 s per arm; too few requests to show the target.
SHORT = Scale(requests_per_arm=400, rate_per_second=5.0)
