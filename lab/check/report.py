"""How check results are shown: one line per check with ✓/✗/skipped, evidence, and the fix."""

from __future__ import annotations

import json
from collections.abc import Sequence

from lab.check.result import CheckResult, Status
from lab.check.runner import CHECKS

MARKS = {Status.PASS: "✓", Status.FAIL: "✗", Status.SKIP: "skipped"}


def render_checks(results: Sequence[CheckResult]) -> str:
    """Each check's verdict line, its evidence and its fix (the notebook prints one)."""
    lines: list[str] = []
    for result in results:
        # Numbered as in the course, whichever subset ran.
        number = CHECKS.index(result.check) + 1
        lines.append(f"{MARKS[result.status]} {number}. {result.title}")
        if result.target:
            lines.append(f"      on {result.target}")
        lines.extend(f"      {line}" for line in result.evidence)
        if result.fix:
            lines.append(f"      fix: {result.fix}")
    return "\n".join(lines)


def render_verdict(results: Sequence[CheckResult]) -> str:
    """The counts and the one-line verdict: ready for M2.4 or not."""
    failed = sum(r.failed for r in results)
    passed = sum(r.status is Status.PASS for r in results)
    skipped = sum(r.status is Status.SKIP for r in results)
    if failed:
        verdict = "not ready: fix the ✗ checks above"
    elif skipped:
        verdict = "nothing failed, but the skipped parts are unproven: see above"
    else:
        verdict = "ready for M2.4"
    return f"{passed} passed, {failed} failed, {skipped} skipped: {verdict}"


def render_text(results: Sequence[CheckResult]) -> str:
    """What `lab check` prints: every check, a blank line, the verdict."""
    return f"{render_checks(results)}\n\n{render_verdict(results)}"


def render_json(results: Sequence[CheckResult]) -> str:
    return json.dumps(
        {
            "ok": not any(r.failed for r in results),
            "checks": [r.to_json() for r in results],
        },
        indent=2,
        default=str,
    )
