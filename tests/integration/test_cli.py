"""The `lab` command line, run in-process against the real stack: exit codes and output."""

from __future__ import annotations

import io
import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from lab.cli import run
from lab.kit.exit_codes import ExitCode
from lab.kit.polling import poll_until
from tests.integration.conftest import ROOT, Stack

NOTEBOOK = ROOT / "lab" / "notebooks" / "bridge_m2_3_to_m2_4.ipynb"


def run_notebook(directory: Path, *, timeout: int) -> str:
    """Execute the bridge notebook top to bottom in `directory`; the text its cells printed."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": directory}},
    ).execute()
    return "\n".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    )


def endpoint_flags(stack: Stack) -> list[str]:
    return [
        "--app-url", stack.urls["app"],
        "--prometheus-url", stack.urls["prometheus"],
        "--alertmanager-url", stack.urls["alertmanager"],
        "--alert-sink-url", stack.urls["alert-sink"],
        "--grafana-url", stack.urls.get("grafana", "http://127.0.0.1:9"),
        "--compose-project", stack.project,
    ]  # fmt: skip


def lab(*argv: str) -> tuple[ExitCode, str]:
    out = io.StringIO()
    code = run(list(argv), out)
    return code, out.getvalue()


def test_lab_wait_reports_each_service_ready(stack: Stack) -> None:
    """`lab wait` exits 0 once every service (Grafana where it runs) is ready."""
    without = ["--without", "grafana"] if stack.grafana_skip_reason else []
    code, output = lab("wait", *endpoint_flags(stack), *without, "--timeout", "120")
    assert code == ExitCode.OK, output
    assert "✓ app scraped (target UP) ready" in output


def test_lab_check_json_reports_every_check(stack: Stack) -> None:
    """`lab check --json --wait` exits 0 on the healthy stack and reports all five checks."""
    without = ["--without", "grafana"] if stack.grafana_skip_reason else []
    code, output = lab("check", "--json", "--wait", "240", *endpoint_flags(stack), *without)
    assert code == ExitCode.OK, output
    body = json.loads(output)  # the progress went to stderr: stdout is one JSON document
    checks = {c["check"]: c["status"] for c in body["checks"]}
    assert list(checks) == ["scrape", "dashboards", "alerts", "logs", "baseline"]
    expected_dashboards = "skip" if stack.grafana_skip_reason else "pass"
    assert checks.pop("dashboards") == expected_dashboards
    assert set(checks.values()) == {"pass"}


def test_lab_check_fails_with_a_fix_when_nothing_listens() -> None:
    """Pointed at a port where nothing runs, `lab check` exits 1 and says how to start it."""
    code, output = lab("check", "--only", "scrape", "--app-url", "http://127.0.0.1:9")
    assert code == ExitCode.FAILED
    assert "✗ 1. Prometheus scrapes the app" in output
    assert "docker compose up -d app" in output


# Disruptive: its closing experiment switches the app's resilience and faults for minutes.
@pytest.mark.disruptive
def test_the_bridge_notebook_runs_every_check_for_real(
    own_stack: Stack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The course notebook executes headlessly against the stack: passing checks, then the
    short before/after experiment of its closing section."""
    # What the notebook asks of a learner first: `lab check --wait` on the fresh lab.
    without = ["--without", "grafana"] if own_stack.grafana_skip_reason else []
    code, output = lab("check", "--wait", "120", *endpoint_flags(own_stack), *without)
    assert code == ExitCode.OK, output
    settings = own_stack.settings.model_dump(exclude={"admin_token", "grafana_token"})
    for name, value in settings.items():
        if value is not None:
            monkeypatch.setenv(f"LAB_{name.upper()}", str(value))
    monkeypatch.setenv("LAB_ADMIN_TOKEN", own_stack.admin_token)  # the closing experiment needs it
    text = run_notebook(tmp_path, timeout=600)
    for check in ("1. Prometheus scrapes the app", "3. Alert rules", "4. A request can be traced"):
        assert f"✓ {check}" in text, text
    assert "0 failed" in text
    # The practice section found the scenario's cause, scored it and left the lab healthy.
    assert "✓ renamed-metric" in text, text
    assert "score " in text
    assert "the lab is healthy again" in text
    # The closing "after M2.4" section ran the short experiment and restored the app.
    assert "restored the resilience configuration and faults found at the start" in text, text
    assert "✓ target met" in text, text
    assert (tmp_path / "experiment-short" / "experiment.png").read_bytes()[:4] == b"\x89PNG"


# A young stack has too few requests for an honest baseline: it is refused, with the time
# left to wait. At the loadgen's default 2 req/s that is several minutes; at 10 req/s (its
# mix, within the provider's rate limit) about one.
@pytest.mark.stack(env={"LOADGEN_RATE_PER_SECOND": "10"})
def test_lab_baseline_then_compare(own_stack: Stack, tmp_path: Path) -> None:
    """`lab baseline` writes JSON, Markdown and a PNG; `lab compare` reads two of them."""
    flags = endpoint_flags(own_stack)

    def saved() -> bool:
        code, output = lab("baseline", "--out", str(tmp_path / "before"), *flags)
        assert code == ExitCode.OK, output
        return True

    poll_until(saved, timeout=420, interval=5, describe="`lab baseline` to save a baseline")
    for name in ("baseline.json", "baseline.md", "baseline.png"):
        assert (tmp_path / "before" / name).stat().st_size > 0
    assert (tmp_path / "before" / "baseline.png").read_bytes()[:4] == b"\x89PNG"
    code, _ = lab("baseline", "--out", str(tmp_path / "after"), *flags)
    assert code == ExitCode.OK
    code, output = lab("compare", str(tmp_path / "before"), str(tmp_path / "after"))
    assert code == ExitCode.OK
    assert "error rate" in output
    assert "M2.4 target" in output


@pytest.mark.disruptive
def test_low_headroom_drill_fires_notifies_and_resolves(own_stack: Stack) -> None:
    """`lab drill low-headroom` drives the real LowRateLimitHeadroom rule through firing,
    notification and resolution."""
    code, output = lab(
        "drill", "low-headroom", *endpoint_flags(own_stack),
        "--admin-token", own_stack.admin_token, "--timeout", "300",
    )  # fmt: skip
    assert code == ExitCode.OK, output
    assert "LowRateLimitHeadroom firing in Prometheus" in output
    assert "✓ drill low-headroom" in output
