"""The config variants of `lab scenario`, checked by the tools of the images the lab runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lab.generate import scenario_variants


def test_amtool_routes_the_test_alert_to_the_dropping_receiver_and_the_heartbeat_on(
    repo_root: Path, tool: Any
) -> None:
    """In the variant, the check's test alert goes to `null`, the Watchdog still arrives."""
    path = str(repo_root / scenario_variants.ALERTMANAGER_VARIANT_PATH)
    assert tool("amtool", "check-config", path).returncode == 0

    def route(*labels: str) -> str:
        result = tool("amtool", "config", "routes", "test", f"--config.file={path}", *labels)
        return str(result.stdout).strip()

    assert route("alertname=LabReadinessTest", "severity=warning") == "null"
    assert route("alertname=Watchdog", "severity=none") == "heartbeat"
