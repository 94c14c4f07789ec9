"""prometheus/prometheus.yml comes from the spec's scraping section."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import yaml

from lab.generate import GeneratedFile, prometheus_config
from lab.spec import SPEC
from lab.spec.model import Spec


def rendered(spec: Spec = SPEC) -> tuple[GeneratedFile, dict[str, Any]]:
    (file,) = prometheus_config.render(spec)
    return file, yaml.safe_load(file.content)


def test_app_job_is_scraped_at_the_spec_interval() -> None:
    """The app's job scrapes app:8000 and the global interval is the spec's (≤ 30 s)."""
    _, config = rendered()
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["rag-app"]["static_configs"][0]["targets"] == ["app:8000"]
    assert config["global"]["scrape_interval"] == "15s"


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
