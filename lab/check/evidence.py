"""What every check shares: the evidence it gathers and how its first failure becomes a result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from lab.check.result import CheckFailed, CheckResult, Status
from lab.kit.clients import ServiceError, ServiceUnreachable


@dataclass
class Evidence:
    """What a check has established so far, in the order it established it."""

    lines: list[str] = field(default_factory=list)
    data: dict[str, object] = field(default_factory=dict)

    def add(self, line: str, **data: object) -> None:
        self.lines.append(line)
        self.data.update(data)


def run_check(check: str, title: str, body: Callable[[Evidence], Status | None]) -> CheckResult:
    """Run a check body, turning its first broken link into a FAIL with the fix.

    A service that does not answer is always a failure that says how to start it:
    a check must never pass because it could not look.
    """
    evidence = Evidence()
    try:
        status = body(evidence) or Status.PASS
    except CheckFailed as failure:
        evidence.add(f"✗ {failure}", **failure.data)
        return CheckResult(
            check, title, Status.FAIL, tuple(evidence.lines), failure.fix, evidence.data
        )
    except ServiceUnreachable as down:
        evidence.add(f"✗ {down}")
        fix = (
            f"start it: `docker compose up -d {down.compose_service}` (then `lab wait`), "
            "or point lab at it with the matching --*-url flag / LAB_*_URL variable"
        )
        return CheckResult(check, title, Status.FAIL, tuple(evidence.lines), fix, evidence.data)
    except ServiceError as wrong:
        evidence.add(f"✗ {wrong}")
        fix = "the service answered, but not as its API documents: check its logs"
        return CheckResult(check, title, Status.FAIL, tuple(evidence.lines), fix, evidence.data)
    return CheckResult(check, title, status, tuple(evidence.lines), None, evidence.data)
