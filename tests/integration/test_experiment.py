"""`lab experiment --short` on the live stack: both arms, both sources, the app restored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lab.kit.clients.app import AppClient
from lab.kit.exit_codes import ExitCode
from lab.kit.fault_session import restorable_faults
from tests.integration.conftest import Stack
from tests.integration.test_cli import endpoint_flags, lab


@pytest.mark.disruptive
def test_short_harsh_experiment_compares_both_arms_and_restores_the_app(
    own_stack: Stack, tmp_path: Path
) -> None:
    """The harsh profile's outage fails the off arm's misses; with resilience on the
    secondary model answers them. The verdict is met, the figures come from the client
    and from Prometheus, and the app's resilience settings and faults are put back."""
    # Prometheus's figures of an arm start at its last scrape before the arm: wait for one.
    code, output = lab("wait", *endpoint_flags(own_stack), "--without", "grafana")
    assert code == ExitCode.OK, output
    app = AppClient(own_stack.app_url, admin_token=own_stack.admin_token)
    resilience_before = app.resilience()
    faults_before = restorable_faults(app.faults())

    code, output = lab(
        "experiment", "--short", "--profile", "harsh", "--out", str(tmp_path),
        "--admin-token", own_stack.admin_token, *endpoint_flags(own_stack),
    )  # fmt: skip

    assert code == ExitCode.OK, output
    assert "restored the resilience configuration and faults found at the start" in output
    body = json.loads((tmp_path / "experiment.json").read_text())
    off, on = body["arms"]
    assert (off["resilience"]["enabled"], on["resilience"]["enabled"]) == (False, True)
    assert off["client"]["requests"] == on["client"]["requests"] == 400
    assert off["client"]["errors_by_type"].get("llm_error", 0) > 0
    assert on["client"]["errors"] == 0
    assert on["client"]["answers_by_level"]["secondary"] > 0
    # Prometheus saw the arm and the loadgen's traffic during it: at least as many requests.
    assert off["server"]["requests"] >= off["client"]["requests"]
    assert on["server"]["answers_by_level"]["secondary"] > 0
    assert on["server"]["retries_per_request"] is not None
    assert (tmp_path / "experiment.png").read_bytes()[:4] == b"\x89PNG"
    assert (
        "## The app's counters over each arm (server-side)"
        in (tmp_path / "experiment.md").read_text()
    )
    assert app.resilience() == resilience_before
    assert restorable_faults(app.faults()) == faults_before
