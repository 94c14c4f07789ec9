"""The experiment's traffic: the load generator's question mix, on a seeded schedule.

The questions come from the loadgen's question model (through `sample_rag_app.harness`,
the one module of `sample_rag_app` that `lab` may import), the one model of what the
lab's users ask (a few popular questions, repeated, and many new ones). The checks work
on any app that speaks the metrics contract. The experiment is different: its claim is
"under the traffic the course's
baseline was measured with, errors fall from ~0.6 % to < 0.1 %", and the cache hit
rate, hence the error rate, depends on that mix, so a copy that drifts from the
loadgen would make the comparison wrong without anyone noticing. Both ship in the same
package and image; the module is pure Python (no app dependencies).

Each arm replays the same schedule: arrival times, which requests repeat a popular
question, and the new questions' text. The new questions carry a tag naming the run
and the arm, because the app's cache outlives an arm and has no flush: untagged, the
second arm would be answered from the first arm's cache entries and look better just
for running second.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from sample_rag_app.harness import POPULAR_QUESTIONS, LoadgenSettings, QuestionSource

#: The loadgen's default share of repeated questions (read from its settings' default).
REPEAT_FRACTION: float = LoadgenSettings.model_fields["repeat_fraction"].default


@dataclass(frozen=True)
class Arrival:
    """One request of the schedule: when (seconds into the arm), what, and whether repeated."""

    offset: float
    question: str
    repeated: bool


def schedule(*, seed: int, requests: int, rate_per_second: float, tag: str) -> Iterator[Arrival]:
    """The seeded arrivals of one arm: Poisson at `rate_per_second`, the loadgen's mix."""
    rng = random.Random(seed)
    questions = QuestionSource(rng, REPEAT_FRACTION)
    offset = 0.0
    for _ in range(requests):
        offset += rng.expovariate(rate_per_second)
        question, repeated = questions.next()
        yield Arrival(offset, question if repeated else f"{question} ({tag})", repeated)


def popular_questions() -> tuple[str, ...]:
    """The repeated questions, asked once before the first arm so both find them cached
    (on the live lab the loadgen keeps them cached anyway)."""
    return POPULAR_QUESTIONS
