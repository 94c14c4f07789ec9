"""How results read: one line per check, numbered as in the course, with the fix."""

from __future__ import annotations

import json

from lab.check.report import render_checks, render_json, render_text, render_verdict
from lab.check.result import CheckResult, Status

SCRAPE_OK = CheckResult("scrape", "Prometheus scrapes the app", Status.PASS, ("✓ target UP",))
LOGS_BAD = CheckResult(
    "logs", "Traced by correlation id", Status.FAIL, ("✗ lines lack it",), fix="bind it"
)
GRAFANA_SKIPPED = CheckResult("dashboards", "Grafana shows it", Status.SKIP, ("· not running",))


def test_a_failure_shows_its_mark_number_evidence_and_fix() -> None:
    """A failed check prints ✗ with its course number, its evidence and `fix:`."""
    text = render_text([SCRAPE_OK, LOGS_BAD])
    assert "✓ 1. Prometheus scrapes the app" in text
    assert "✗ 4. Traced by correlation id" in text
    assert "fix: bind it" in text
    assert text.endswith("1 passed, 1 failed, 0 skipped: not ready: fix the ✗ checks above")


def test_a_skip_is_not_called_ready() -> None:
    """With nothing failed but a check skipped, the verdict does not claim readiness."""
    text = render_text([SCRAPE_OK, GRAFANA_SKIPPED])
    assert "skipped 2. Grafana shows it" in text
    assert "ready for M2.4" not in text


def test_all_passing_is_ready() -> None:
    """Only when every check passed does the verdict say ready for M2.4."""
    assert render_text([SCRAPE_OK]).endswith("1 passed, 0 failed, 0 skipped: ready for M2.4")


def test_json_carries_ok_and_every_check() -> None:
    """--json output has ok=false on a failure and each check's status and fix."""
    body = json.loads(render_json([SCRAPE_OK, LOGS_BAD]))
    assert body["ok"] is False
    assert [(c["check"], c["status"], c["fix"]) for c in body["checks"]] == [
        ("scrape", "pass", None),
        ("logs", "fail", "bind it"),
    ]


def test_the_notebook_gets_checks_and_verdict_as_parts_not_by_splitting_text() -> None:
    """Evidence with a blank line in it stays with its check; the verdict is its own part."""
    spaced = CheckResult("scrape", "Prometheus scrapes the app", Status.PASS, ("one", "", "two"))
    checks = render_checks([spaced])
    assert checks.endswith("      two")
    assert render_verdict([spaced]) == "1 passed, 0 failed, 0 skipped: ready for M2.4"
    assert render_text([spaced]) == f"{checks}\n\n{render_verdict([spaced])}"
