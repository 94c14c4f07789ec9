"""Where the `lab` commands find the services: one settings object, from LAB_* variables.

The defaults are the ports `docker compose up -d` publishes on localhost; command-line
flags override them per run.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from lab.spec.rag import SCRAPING


class LabSettings(BaseSettings):
    """Endpoints, tokens and limits for the `lab` commands that talk to the running lab."""

    model_config = SettingsConfigDict(env_prefix="LAB_", frozen=True)

    target_file: Path | None = Field(
        None,
        description="The target file (lab-target.yaml) describing a learner's stack; unset: "
        "./lab-target.yaml if it exists, else the lab's own stack.",
    )
    app_url: str = Field("http://localhost:8000", description="The sample RAG app.")
    prometheus_url: str = Field("http://localhost:9090", description="Prometheus.")
    alertmanager_url: str = Field("http://localhost:9093", description="Alertmanager.")
    alert_sink_url: str = Field(
        "http://localhost:9095", description="The alert sink; empty: the stack has none."
    )
    grafana_url: str = Field("http://localhost:3000", description="Grafana.")
    grafana_token: SecretStr | None = Field(
        None, description="A Grafana service-account token; anonymous Viewer access otherwise."
    )
    check_grafana: bool = Field(
        True,
        description="False where the lab runs without Grafana on purpose (no image): check 2 "
        "then runs the panel queries against Prometheus and reports itself skipped.",
    )
    compose_project: str = Field(
        "rag-observability-lab", description="Compose project whose `app` container logs are read."
    )
    app_job: str = Field(
        SCRAPING.app_job,
        description="Prometheus job name of the app's scrape target (default: lab/spec's).",
    )
    http_timeout_seconds: float = Field(5.0, description="Timeout of each HTTP call.")
    max_scrape_age_seconds: float = Field(30.0, description="Oldest acceptable last scrape.")
    max_scrape_interval_seconds: float = Field(30.0, description="Longest acceptable interval.")
    alert_deadline_seconds: float = Field(
        120.0, description="How long a test alert may take to reach the sink."
    )
    baseline_window: str = Field("15m", description="PromQL range of the baseline.")
    admin_token: SecretStr | None = Field(
        None,
        description="The app's RAG_ADMIN_TOKEN, needed by `lab drill` and `lab scenario` "
        "to inject faults.",
    )
    state_dir: Path | None = Field(
        None,
        description="`lab scenario`'s lab-owned directory (the one docker-compose.yml "
        "mounts from LAB_STATE_DIR). Default unset: .lab at the repository root.",
    )


def reveal(secret: SecretStr | None) -> str | None:
    """The secret's value, for the one place that sends it (an Authorization header)."""
    return secret.get_secret_value() if secret is not None else None
