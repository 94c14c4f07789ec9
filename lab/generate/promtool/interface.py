"""What a family of cases asks of a fixture kind: its series, its labels, its probes.

The families (`cases`) are written against these protocols only, never against a kind, so a
new kind (`fixtures`) reuses them without an edit here or there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from lab.generate.promtool.notation import InputSeries, Phases
from lab.spec.model import Alert

# (comment, test group): the comment doubles as the group's name.
Case = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class Probe:
    """What the fixture feeds in for one value, and what the query then returns."""

    value: float  # the requested value
    result: float  # what the alert's query evaluates to


@dataclass(frozen=True)
class Probes:
    """The values a boundary test feeds one alert, and how long its query lags behind them."""

    firing: Probe  # just past the threshold
    quiet: Probe  # at or just inside it
    healthy: float  # what the query recovers to
    warmup: int  # steps before the query returns anything
    settle: int  # steps a recovered value needs to leave the query's range


class Fixture(Protocol):
    """One kind of fixture: how values become input series, and which cases test it."""

    def series(self, phases: Phases) -> list[InputSeries]:
        """The input series that make the alert's query take each phase's value in turn."""
        ...

    def labels(self) -> dict[str, str]:
        """The labels the alert's query returns (before the rule adds its own)."""
        ...

    def cases(self, alert: Alert, runbook_base_url: str) -> list[Case]:
        """The alert's cases from the families that fit this kind."""
        ...


class BoundaryFixture(Fixture, Protocol):
    """A kind whose query takes a value that a threshold bounds (every kind but the state
    gauge's and the always-firing one): the boundary family probes it on both sides."""

    def probes(self, alert: Alert) -> Probes:
        """The values just past and just inside the alert's threshold; raises ValueError
        when the fixture cannot produce them (say its healthy value breaches the bound)."""
        ...
