"""What a target is, and which one a run proves: every fact about a stack that a check
needs and cannot ask for.

It lives in the kit because `LabContext` carries it (`ctx.target`) to every feature;
`lab.target` (the `lab target` command and discovery) builds on it.

YAML, because the learner's other files of the same stack (prometheus.yml, the rules,
alertmanager.yml, compose) are YAML. Precedence, highest first: flags, `LAB_*`
variables (`LabSettings`), the target file, the lab's own defaults (`OWN_STACK`).
Every field has the lab's own stack as its default, so an empty file, or none, is the
lab's own stack.

The file is `--target FILE`, else `LAB_TARGET_FILE`, else `./lab-target.yaml` when it
exists. A value set in `LabSettings` (from a `LAB_*` variable or a flag: pydantic counts
both as set) overrides the file's, so one run can point at another Prometheus without
editing the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lab.kit.exit_codes import BadInput
from lab.kit.settings import LabSettings, reveal
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


#: LabSettings field -> the Target field it overrides (dotted: a part's field).
SETTINGS_FIELDS = {
    "app_url": "app_url",
    "prometheus_url": "prometheus_url",
    "alertmanager_url": "alertmanager_url",
    "alert_sink_url": "alert_sink_url",
    "app_job": "scrape_job",
    "grafana_url": "grafana.url",
    "grafana_token": "grafana.token",
}


class TargetFileError(BadInput):
    """The target file cannot be read or does not describe a target; says which and why."""


def target_file(settings: LabSettings, cwd: Path | None = None) -> Path | None:
    """The file this run reads: the configured one, or ./lab-target.yaml if it exists."""
    if settings.target_file is not None:
        return settings.target_file
    default = (cwd or Path.cwd()) / DEFAULT_FILE
    return default if default.is_file() else None


def read_target_file(path: Path) -> dict[str, Any]:
    """The file's mapping, or `TargetFileError` naming the file and what to change."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TargetFileError(
            f"cannot read the target file {path}: {exc.strerror}; write one with "
            "`lab target discover`, or point --target / LAB_TARGET_FILE at yours"
        ) from exc
    except UnicodeDecodeError as exc:
        raise TargetFileError(
            f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8 "
            "or write a new one with `lab target discover`"
        ) from None
    except yaml.YAMLError as exc:
        raise TargetFileError(f"{path} is not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise TargetFileError(
            f"{path} must be a mapping of target fields, not {type(data).__name__}"
        )
    return data


def load_target(settings: LabSettings, cwd: Path | None = None) -> Target:
    """The target of this run: file, then settings over it; the lab's own stack by default."""
    path = target_file(settings, cwd)
    data: dict[str, Any] = {}
    if path is not None:
        data = read_target_file(path)
        # A described stack is a learner's unless the file says otherwise: its job is the
        # one found exporting rag_requests_total, and it has no lab alert sink.
        if not data.setdefault("own_stack", False):
            data.setdefault("scrape_job", None)
            data.setdefault("alert_sink_url", None)
        data.setdefault("name", str(path))
        data["source"] = path
    for field, dotted in SETTINGS_FIELDS.items():
        if field not in settings.model_fields_set:
            continue
        value = getattr(settings, field)
        if field == "grafana_token":
            value = reveal(value)
        part, _, name = dotted.rpartition(".")
        (data.setdefault(part, {}) if part else data)[name] = value
    if not data:
        return OWN_STACK
    try:
        return Target.model_validate(data)
    except ValidationError as exc:
        where = path if path is not None else "the LAB_* variables"
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise TargetFileError(f"{where} does not describe a target: {problems}") from exc
