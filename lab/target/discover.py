"""`lab target discover`: a first target file, written from what the live services say.

Each part is asked the question the checks would otherwise need answered by hand:
Prometheus which jobs export `rag_requests_total` (the app's scrape job), Alertmanager
which receivers it routes a warning to (its running configuration, walked as it walks it),
Grafana which Prometheus datasource it has and which dashboard's panels query the course's
key metrics (not a uid or a title). What cannot be asked (where the app's logs are) is
left as a commented part to fill in. A service that does not answer is noted, and its part
left out or turned off, so the file says what was found, never a guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from lab.check.panels import KEY_QUERIES
from lab.check.routing import deliveries
from lab.kit.clients import ServiceError
from lab.kit.context import LabContext
from lab.kit.target import Target

#: The counter whose jobs are the app's: every course app exports it.
APP_COUNTER = "rag_requests_total"
#: What a warning looks like to Alertmanager's routes.
WARNING = {"alertname": "LabReadinessTest", "severity": "warning"}


@dataclass
class Discovery:
    """The target file's fields found, and what was noticed on the way (for the comments)."""

    fields: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def discover(ctx: LabContext) -> Discovery:
    """Ask each service of `ctx.target` (its URLs: flags, LAB_* variables or a file)."""
    target = ctx.target
    found = Discovery(
        fields={
            "name": "my M2.3 stack" if target.own_stack else target.name,
            "own_stack": False,
            "app_url": target.app_url,
            "prometheus_url": target.prometheus_url,
            "alertmanager_url": target.alertmanager_url,
            "alert_sink_url": None,
        }
    )
    _scrape_job(ctx, found)
    _receivers(ctx, found)
    _grafana(ctx, found)
    return found


def _scrape_job(ctx: LabContext, found: Discovery) -> None:
    try:
        samples = ctx.prometheus.query(f"count by (job) ({APP_COUNTER})")
    except ServiceError as exc:
        found.notes.append(f"Prometheus: not asked ({exc}); scrape_job left to check 1 to find")
        return
    jobs = sorted(s.labels.get("job", "") for s in samples)
    if len(jobs) == 1:
        found.fields["scrape_job"] = jobs[0]
        found.notes.append(f"Prometheus: job {jobs[0]!r} exports {APP_COUNTER}")
    elif jobs:
        found.notes.append(
            f"Prometheus: {len(jobs)} jobs export {APP_COUNTER} ({', '.join(jobs)}): set "
            "scrape_job to your app's (check 1 fails until one job scrapes it)"
        )
    else:
        found.notes.append(
            f"Prometheus: no job exports {APP_COUNTER} yet: is the app scraped? (scrape_job "
            "left out: check 1 finds it once it is)"
        )


def _receivers(ctx: LabContext, found: Discovery) -> None:
    try:
        config = ctx.alertmanager.config()
    except ServiceError as exc:
        found.notes.append(f"Alertmanager: not asked ({exc}); alerting.receivers left out")
        return
    routed = deliveries(config, WARNING)
    names = [d.receiver for d in routed]
    found.fields["alerting"] = {"receivers": names, "real_channels_allowed": False}
    described = ", ".join(f"{d.receiver} ({', '.join(d.integrations) or 'none'})" for d in routed)
    found.notes.append(f"Alertmanager: a warning is routed to {described}")
    real = [d.receiver for d in routed if d.real_channels]
    if real:
        found.notes.append(
            f"Alertmanager: {', '.join(real)} reach people: check 3 sends its test alert there "
            "only with --send-test-alert-to-real-receivers (or real_channels_allowed: true)"
        )


def dashboard_queries(model: Mapping[str, Any]) -> Iterable[str]:
    """Every PromQL expression of a dashboard model's panels (rows' panels included)."""
    stack = list(model.get("panels") or [])
    while stack:
        panel = stack.pop()
        if not isinstance(panel, Mapping):
            continue
        stack.extend(panel.get("panels") or [])
        for query in panel.get("targets") or []:
            if isinstance(query, Mapping) and isinstance(query.get("expr"), str):
                yield query["expr"]


def key_roles(model: Mapping[str, Any]) -> list[str]:
    """Which of the course's four key queries a dashboard's panels compute."""
    exprs = list(dashboard_queries(model))
    return [key.role for key in KEY_QUERIES if any(key.matches(expr) for expr in exprs)]


def _grafana(ctx: LabContext, found: Discovery) -> None:
    url = ctx.target.grafana.url
    if url is None:
        found.fields["grafana"] = {"url": None}
        return
    grafana = ctx.grafana
    try:
        datasources = grafana.datasources()
        hits = grafana.search_dashboards()
    except ServiceError as exc:
        found.fields["grafana"] = {"url": None}
        found.notes.append(
            f"Grafana: not found at {url} ({exc}); grafana.url set to null (check 2 then proves "
            "the key queries against Prometheus): set it, and a user or token, if you have one"
        )
        return
    part: dict[str, Any] = {"url": url}
    prometheus = sorted(
        (d for d in datasources if d.get("type") == "prometheus"),
        key=lambda d: (not d.get("isDefault"), str(d.get("name"))),
    )
    if prometheus:
        part["datasource_uid"] = prometheus[0].get("uid")
        found.notes.append(
            f"Grafana: Prometheus datasource {prometheus[0].get('name')!r} "
            f"(uid {prometheus[0].get('uid')})"
        )
    else:
        found.notes.append("Grafana: no Prometheus datasource: add one (check 2 fails until then)")
    best: tuple[int, str, str] | None = None
    for hit in hits:
        uid = str(hit.get("uid") or "")
        if not uid:
            continue
        try:
            roles = key_roles(grafana.dashboard_model(uid))
        except ServiceError:
            continue
        if roles and (best is None or len(roles) > best[0]):
            best = (len(roles), uid, str(hit.get("title", "")))
    if best is None:
        found.notes.append(
            f"Grafana: none of its {len(hits)} dashboards queries the course's key metrics"
        )
    else:
        part["dashboard_uid"] = best[1]
        found.notes.append(
            f"Grafana: dashboard {best[2]!r} (uid {best[1]}) shows {best[0]} of the "
            f"{len(KEY_QUERIES)} key queries"
        )
    found.fields["grafana"] = part


LOGS_HELP = """\
# Where your app's JSON log lines are (check 4), which `discover` cannot ask. For example:
# logs:
#   kind: file             # compose | container | file | command | stdin
#   source: logs/app.jsonl # a compose service, container name, file, or command
#                          # (e.g. "kubectl logs deploy/rag --since=5m")
#   correlation_fields: [request_id]
"""


def render(found: Discovery) -> str:
    """The target file: notes as comments, the fields as YAML (valid as a `Target`)."""
    Target.model_validate(found.fields)  # what is written loads
    header = "# Written by `lab target discover` from the live services; edit freely.\n"
    notes = "".join(f"# - {note}\n" for note in found.notes)
    body = yaml.safe_dump(found.fields, sort_keys=False, default_flow_style=False)
    return header + notes + body + LOGS_HELP
