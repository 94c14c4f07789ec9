"""prometheus/prometheus.yml comes from the spec's scraping section."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import yaml

from lab.generate import GeneratedFile, prometheus_config
from lab.spec import SPEC
from lab.spec.model import Spec, duration_seconds


def rendered(spec: Spec = SPEC) -> tuple[GeneratedFile, dict[str, Any]]:
    (file,) = prometheus_config.render(spec)
    return file, yaml.safe_load(file.content)


def test_app_job_is_scraped_at_the_spec_interval() -> None:
    """The app's job scrapes every address of `app` (DNS, A records, port 8000, asked again
    every 5 s) every 5 s (its timeout within that), the rest at the global 15 s, and rules
    are evaluated every 5 s."""
    _, config = rendered()
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    app = jobs["rag-app"]
    assert app["dns_sd_configs"] == [
        {"names": ["app"], "type": "A", "port": 8000, "refresh_interval": "5s"}
    ]
    assert "static_configs" not in app
    assert (app["scrape_interval"], app["scrape_timeout"]) == ("5s", "5s")
    assert config["global"]["scrape_interval"] == "15s"
    assert config["global"]["evaluation_interval"] == "5s"
    assert "scrape_interval" not in jobs["prometheus"]


def test_every_range_window_holds_at_least_four_app_scrapes() -> None:
    """Each `[range]` in the rules and panels spans four or more app scrapes (Prometheus's
    advice for rate), so a faster scrape never leaves a window with too few samples."""
    interval = duration_seconds(SPEC.scraping.app_scrape_interval)
    exprs = [a.expr for a in SPEC.alerts]
    exprs += [r.expr for g in SPEC.rule_groups for r in g.recording]
    exprs += [q.expr for p in SPEC.dashboard.panels for q in p.queries]
    windows = {w for expr in exprs for w in re.findall(r"\[(\w+)\]", expr)}
    assert windows
    assert all(duration_seconds(w) >= 4 * interval for w in windows), sorted(windows)


def test_changing_the_interval_in_the_spec_changes_the_file() -> None:
    """A different scrape interval in the spec is what the generated file says."""
    spec = dataclasses.replace(
        SPEC, scraping=dataclasses.replace(SPEC.scraping, scrape_interval="30s")
    )
    _, config = rendered(spec)
    assert config["global"]["scrape_interval"] == "30s"


def test_promtool_accepts_the_config(tmp_path: Path, tool: Any) -> None:
    """promtool of the pinned Prometheus version accepts the generated file."""
    file, _ = rendered()
    target = tmp_path / "prometheus.yml"
    target.write_text(file.content.replace("/etc/prometheus/rules/*.yml", "rules/*.yml"))
    result = tool("promtool", "check", "config", str(target), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
