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


def test_promtool_accepts_the_duplicate_scrape_variant_as_an_included_file(
    repo_root: Path, tmp_path: Path, tool: Any
) -> None:
    """The scrape variant loads as a `scrape_config_files` include of a Prometheus config."""
    variant = repo_root / scenario_variants.SCRAPE_VARIANT_PATH
    config = tmp_path / "prometheus.yml"
    config.write_text(f"scrape_config_files:\n  - {variant}\n")
    result = tool("promtool", "check", "config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr
