"""The score of a solved scenario: how long the diagnosis took, and how much help it needed.

Points start at 100; each hint costs `HINT_COST`, each wrong cause `WRONG_CAUSE_COST`
(never below `FLOOR`: solving it is always worth something). Time is reported, not
deducted: a learner who takes their time to read the signals should not lose for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from lab.kit.formatting import span

FULL: Final = 100
HINT_COST: Final = 15
WRONG_CAUSE_COST: Final = 10
FLOOR: Final = 10


@dataclass(frozen=True)
class Score:
    seconds: float
    hints_used: int
    hints_total: int
    wrong_causes: int

    @property
    def points(self) -> int:
        lost = self.hints_used * HINT_COST + self.wrong_causes * WRONG_CAUSE_COST
        return max(FLOOR, FULL - lost)

    def describe(self) -> str:
        wrong = f", {self.wrong_causes} wrong cause(s)" if self.wrong_causes else ""
        return (
            f"score {self.points}/{FULL}: diagnosed in {span(self.seconds)}, "
            f"{self.hints_used} of {self.hints_total} hints used{wrong}"
        )
