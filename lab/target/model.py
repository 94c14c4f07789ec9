"""What a target is: every fact about a stack that a check needs and cannot ask for.

YAML, because the learner's other files of the same stack (prometheus.yml, the rules,
alertmanager.yml, compose) are YAML. Precedence, highest first: flags, `LAB_*`
variables (`LabSettings`), the target file, the lab's own defaults (`OWN_STACK`).
Every field has the lab's own stack as its default, so an empty file, or none, is the
lab's own stack.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from lab.spec.rag import CORRELATION_HEADER, SCRAPING

QUESTION_PLACEHOLDER: object = "{question}"

#: The file `lab` reads when no `--target`/`LAB_TARGET_FILE` names one and it exists.
DEFAULT_FILE = "lab-target.yaml"


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GrafanaTarget(_Part):
    """Where the dashboards are, and how `lab` may read them (a Viewer is enough)."""

    url: str | None = Field("http://localhost:3000", description="None: no Grafana.")
    user: str | None = Field(None, description="Basic auth user (with `password`).")
    password: str | None = None
    token: str | None = Field(None, description="A service-account token, instead of a user.")
    datasource_uid: str | None = Field(None, description="None: found by type `prometheus`.")
    dashboard_uid: str | None = Field(None, description="None: found by what panels query.")
    panels_file: Path | None = Field(
        None, description="The course's grafana_panels_spec.json, checked instead of Grafana."
    )


LogKind = Literal["compose", "container", "file", "command", "stdin"]


class LogsTarget(_Part):
    """Where the app's JSON log lines are read, and how a request is followed in them."""

    kind: LogKind = "compose"
    source: str = Field(
        "app",
        description="compose service, container name, file path or command, per `kind`.",
    )
    correlation_fields: tuple[str, ...] = ("correlation_id", "request_id")
    correlation_header: str = CORRELATION_HEADER
    #: A log line's event (or message) -> the course's lifecycle stage it marks.
    stages: dict[str, str] = Field(default_factory=dict)


class QueryTarget(_Part):
    """How `lab` sends the one query it follows through the logs."""

    path: str = "/query"
    #: The JSON body; the string "{question}" anywhere in it is replaced by the question.
    body: dict[str, object] = Field(default_factory=lambda: {"question": QUESTION_PLACEHOLDER})


class AlertingTarget(_Part):
    """Which receivers a warning should reach, and whether a test alert may go there."""

    receivers: tuple[str, ...] = Field(
        (), description="Empty: whatever Alertmanager routes a warning to."
    )
    real_channels_allowed: bool = Field(
        False,
        description="True to let check 3's test alert reach Slack, email or PagerDuty.",
    )


class Target(_Part):
    """A stack to prove. `own_stack` is True for the lab's own (nothing described)."""

    name: str = "the lab's own stack"
    own_stack: bool = True
    app_url: str = "http://localhost:8000"
    prometheus_url: str = "http://localhost:9090"
    alertmanager_url: str = "http://localhost:9093"
    alert_sink_url: str | None = Field(
        "http://localhost:9095", description="None: the stack has no lab alert sink."
    )
    scrape_job: str | None = Field(
        SCRAPING.app_job, description="None: the job that exports rag_requests_total."
    )
    grafana: GrafanaTarget = GrafanaTarget()
    logs: LogsTarget = LogsTarget()
    query: QueryTarget = QueryTarget()
    alerting: AlertingTarget = AlertingTarget()
    source: Path | None = Field(None, description="The file it was read from, if any.")


OWN_STACK = Target()
