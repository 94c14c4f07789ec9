"""The one result type every check returns, so the CLI, JSON output and notebook agree."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True)
class CheckResult:
    """What a check found: its verdict, the evidence behind it, and the fix when it failed.

    `evidence` is what a person would look at to believe the verdict (a target's last
    scrape age, a notification's arrival time); `data` carries the same facts as
    numbers for JSON output and the baseline.
    """

    check: str
    title: str
    status: Status
    evidence: tuple[str, ...] = ()
    fix: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    #: The stack it ran against (the target's name, and its file if any), set by the runner.
    target: str = ""

    @property
    def failed(self) -> bool:
        return self.status is Status.FAIL

    def to_json(self) -> dict[str, Any]:
        body = asdict(self)
        body["status"] = self.status.value
        body["evidence"] = list(self.evidence)
        return body


class CheckFailed(Exception):
    """Raised inside a check to stop at the first broken link, with the fix to report."""

    def __init__(self, message: str, fix: str, **data: Any) -> None:
        super().__init__(message)
        self.fix = fix
        self.data = data
