"""Where the `lab` commands find the services: one settings object, from LAB_* variables.

The defaults are the ports `docker compose up -d` publishes on localhost; command-line
flags override them per run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from lab.spec.rag import SCRAPING

ENV_PREFIX = "LAB_"
#: A PromQL range: one or more number-unit pairs, as Prometheus parses durations.
_PROMQL_DURATION = re.compile(r"(\d+(ms|s|m|h|d|w|y))+")


def _service_url(value: str) -> str:
    """An http(s) URL with a host and a valid port: what every client is built on."""
    try:
        parts = urlsplit(value)
        port = parts.port  # raises on a port out of range or not a number
    except ValueError as exc:
        raise ValueError(f"not a URL ({exc}); give one like http://localhost:9090") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("give an http:// or https:// URL with a host, like http://localhost:9090")
    del port
    return value


def _promql_range(value: str) -> str:
    if not _PROMQL_DURATION.fullmatch(value):
        raise ValueError("give a PromQL range such as 15m, 1h or 1h30m")
    return value


ServiceUrl = Annotated[str, AfterValidator(_service_url)]
PromqlRange = Annotated[str, AfterValidator(_promql_range)]
#: Seconds to wait for something: above zero and at most a day (0, nan, inf and 1e10 never
#: end well: the HTTP client overflows on the last).
Seconds = Annotated[float, Field(gt=0, le=24 * 3600, allow_inf_nan=False)]


class LabSettings(BaseSettings):
    """Endpoints, tokens and limits for the `lab` commands that talk to the running lab."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True)

    target_file: Path | None = Field(
        None,
        description="The target file (lab-target.yaml) describing a learner's stack; unset: "
        "./lab-target.yaml if it exists, else the lab's own stack.",
    )
    app_url: ServiceUrl = Field("http://localhost:8000", description="The sample RAG app.")
    prometheus_url: ServiceUrl = Field("http://localhost:9090", description="Prometheus.")
    alertmanager_url: ServiceUrl = Field("http://localhost:9093", description="Alertmanager.")
    alert_sink_url: ServiceUrl = Field("http://localhost:9095", description="The alert sink.")
    grafana_url: ServiceUrl = Field("http://localhost:3000", description="Grafana.")
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
    http_timeout_seconds: Seconds = Field(5.0, description="Timeout of each HTTP call.")
    max_scrape_age_seconds: Seconds = Field(30.0, description="Oldest acceptable last scrape.")
    max_scrape_interval_seconds: Seconds = Field(30.0, description="Longest acceptable interval.")
    alert_deadline_seconds: Seconds = Field(
        120.0, description="How long a test alert may take to reach the sink."
    )
    baseline_window: PromqlRange = Field("15m", description="PromQL range of the baseline.")
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


def describe_errors(error: ValidationError, *, flags: Mapping[str, str] | None = None) -> str:
    """One line per wrong value, naming the flag it came from (`flags`: field -> flag) or
    else its environment variable, the value, and what it takes."""
    lines = []
    for problem in error.errors():
        field = str(problem["loc"][0]) if problem["loc"] else ""
        where = (flags or {}).get(field) or f"{ENV_PREFIX}{field.upper()}"
        value = problem.get("input")
        shown = "" if isinstance(value, dict) else f"={str(value)[:80]!r}"
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"].startswith("bool"):
            message += " (true or false)"
        lines.append(f"{where}{shown}: {message}")
    return "\n".join(lines)
