"""What a scenario is: a symptom, hints, a cause, a fault, and how each shows live.

A scenario is graded one of two ways (`Grading`):

- `FIX`: the fault is one the learner can undo with the tools an operator has (an
  Alertmanager silence): `verify` passes once the check the scenario targets passes again;
- `CAUSE`: the fault stands for a change the learner would not undo by hand on the spot
  (a new build, a teammate's config): `verify --cause ID --evidence VALUE` passes when the
  learner names the cause from the menu (`CAUSES`, the same for every scenario, so the
  menu gives nothing away) and backs it with evidence read off the live signals (the new
  metric's name, the extra job's name...); the evidence is compared with what the live
  services show, not with a stored answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lab.scenario.live import Lab


class Signal(StrEnum):
    """The four signals of the course: where the learner finds the fault."""

    METRICS = "metrics"
    DASHBOARDS = "dashboards"
    ALERTS = "alerts"
    LOGS = "logs"


class Grading(StrEnum):
    FIX = "fix"
    CAUSE = "cause"


@dataclass(frozen=True)
class Cause:
    """One entry of the menu `verify --cause` takes."""

    id: str
    what: str
    #: What `--evidence` must name, when the cause asks for evidence.
    evidence: str | None = None


CAUSES: Mapping[str, Cause] = {
    cause.id: cause
    for cause in (
        Cause(
            "renamed-metric",
            "a metric that the dashboards and alerts query was renamed",
            "the metric's new name",
        ),
        Cause(
            "dropping-route",
            "Alertmanager routes the alerts to a receiver that notifies nobody",
            "the receiver's name",
        ),
        Cause("silence", "a silence in Alertmanager mutes the alerts"),
        Cause(
            "unbounded-label",
            "a label with unbounded values (per user, per request) on a metric",
            "the label's name",
        ),
        Cause(
            "lost-correlation-id",
            "a code path logs without the request's correlation id",
            "an event whose lines lack it",
        ),
        Cause("slow-tail", "a small share of provider calls is slow: only the tail moves"),
        Cause(
            "rate-limit-exhausted",
            "another client of the same provider key uses up the rate limit",
        ),
        Cause("errors-as-success", "failures are answered as successes"),
        Cause(
            "duplicate-scrape",
            "the app is scraped twice, by two jobs",
            "the extra job's name",
        ),
        # Causes of no scenario: the menu must not give the answer away.
        Cause("provider-outage", "the LLM provider is down"),
        Cause("vector-store-down", "the vector store is unavailable"),
        Cause("cache-disabled", "the response cache stopped working"),
        Cause("scrape-too-slow", "Prometheus scrapes the app too rarely"),
        Cause("bad-deploy-latency", "the new build made every request slower"),
    )
}


@dataclass(frozen=True)
class Fault:
    """What `start` puts in place; `reset` takes every kind away, whichever is there."""

    #: FaultUpdate fields for the app's admin API (and the faults file it reads at start).
    app: Mapping[str, Any] = field(default_factory=dict)
    #: Deploy `lab.generate.scenario_variants`' duplicate scrape job (Prometheus reloads).
    duplicate_scrape: bool = False
    #: Deploy the Alertmanager variant with the dropping route (Alertmanager restarts).
    dropping_route: bool = False
    #: Create an Alertmanager silence of the warning and critical alerts.
    silence: bool = False


#: A live probe: what the live services show of the fault (a line of evidence), or None
#: when they do not show it.
Probe = Callable[["Lab"], "str | None"]
#: Reads the evidence a cause asks for off the live services: the accepted values.
EvidenceReader = Callable[["Lab"], "set[str]"]


@dataclass(frozen=True)
class Scenario:
    name: str
    signal: Signal
    title: str  # for `lab scenario list`: the symptom in a few words, never the cause
    symptom: str  # what `start` prints: the report a user or a colleague would send
    hints: tuple[str, ...]  # one clue each, from where to look to what to look for
    cause: str  # a key of CAUSES
    grading: Grading
    fault: Fault
    #: Shows the fault through the check it targets (also what the tests assert).
    detect: Probe
    #: The check of `lab check` (or guard) that detects it, for the runbook and `list`.
    detected_by: str
    evidence: EvidenceReader | None = None

    def __post_init__(self) -> None:
        if self.cause not in CAUSES:
            raise ValueError(f"{self.name}: unknown cause {self.cause!r}")
        if (CAUSES[self.cause].evidence is None) != (self.evidence is None):
            raise ValueError(f"{self.name}: evidence reader and the cause's evidence disagree")
        if not self.hints:
            raise ValueError(f"{self.name}: a scenario needs at least one hint")

    @property
    def runbook(self) -> str:
        """The write-up shown once `verify` passes, relative to the repository root."""
        return f"docs/scenarios/{self.name}.md"
