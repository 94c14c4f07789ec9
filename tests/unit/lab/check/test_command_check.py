"""`lab check` in-process against canned service answers: --wait's rounds, progress and refusals."""

from __future__ import annotations

import io
import sys

import responses
from requests import PreparedRequest

from lab.cli import run
from lab.kit.exit_codes import ExitCode
from tests.unit.lab.check.test_command_wait import FLAGS, URLS


def _scrape_answers(first_metrics_status: int) -> None:
    """/metrics answers `first_metrics_status` once, then valid metrics; the target is UP."""
    from tests.unit.lab.check.test_scrape import METRICS, down_or_gone, jobs, targets

    responses.get(f"{URLS['app']}/metrics", status=first_metrics_status, body="starting")
    responses.get(f"{URLS['app']}/metrics", body=METRICS)
    responses.get(f"{URLS['prometheus']}/api/v1/targets", json=targets())
    responses.get(f"{URLS['prometheus']}/api/v1/query", json=down_or_gone())
    responses.get(f"{URLS['prometheus']}/api/v1/query", json=jobs("rag-app"))


@responses.activate
def test_check_wait_reruns_until_the_check_passes_and_shows_progress() -> None:
    """`lab check --wait` shows a progress line per round and exits 0 once the check passes."""
    _scrape_answers(503)
    out = io.StringIO()
    code = run(["check", *FLAGS, "--only", "scrape", "--wait", "5"], out)
    text = out.getvalue()
    assert code == ExitCode.OK, text
    assert "waiting up to 5s for every check to pass" in text
    assert "none passed yet · waiting for scrape:" in text
    assert "✓ scrape\n" in text
    assert "✓ 1. Prometheus scrapes the app" in text


@responses.activate
def test_check_wait_gives_up_at_the_deadline_naming_the_failing_checks() -> None:
    """A check still failing at the deadline ends the wait with exit 1 and its name."""
    responses.get(f"{URLS['app']}/metrics", status=503, body="down")
    out = io.StringIO()
    code = run(["check", *FLAGS, "--only", "scrape", "--wait", "0.5"], out)
    assert code == ExitCode.FAILED
    assert "✗ after 0.5s these checks still fail: scrape" in out.getvalue()


def test_check_wait_refuses_a_nonsense_duration() -> None:
    """`--wait` takes a positive number of seconds; anything else is a usage error."""
    for bad in ("soon", "0", "-3"):
        assert run(["check", "--wait", bad], io.StringIO()) == ExitCode.USAGE


def test_check_wait_refuses_logs_from_a_pipe() -> None:
    """A pipe is read once, so `--wait` with `--logs-stdin` is a usage error naming the fix."""
    out = io.StringIO()
    assert run(["check", "--wait", "30", "--logs-stdin"], out) == ExitCode.USAGE
    assert "--logs-file" in out.getvalue()


@responses.activate
def test_check_reads_the_logs_from_the_command_given() -> None:
    """`--logs-command` is the log source of check 4: a command that fails is the check's
    failure, naming the command (and not a traceback)."""

    def answer(request: PreparedRequest) -> tuple[int, dict[str, str], str]:
        cid = str(request.headers["X-Correlation-ID"])
        return 200, {"X-Correlation-ID": cid}, '{"answer": "x"}'

    responses.add_callback(responses.POST, f"{URLS['app']}/query", callback=answer)
    responses.get(f"{URLS['app']}/metrics", body="# EOF\n")
    command = f'{sys.executable} -c "raise SystemExit(3)"'
    out = io.StringIO()
    code = run(["check", *FLAGS, "--only", "logs", "--logs-command", command], out)
    assert code is ExitCode.FAILED, out.getvalue()
    assert f"✗ `{command}` exited 3" in out.getvalue()
