"""Runs the readiness checks in the course's order and collects their results."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lab.checks import alerts, baseline, dashboards, logs, scrape
from lab.checks.context import CheckContext
from lab.checks.result import CheckResult
from lab.clients.alert_sink import AlertSinkClient
from lab.clients.grafana import GrafanaClient
from lab.logsource import DockerLogSource, LogSource
from lab.settings import LabSettings, reveal

CHECKS = (scrape.NAME, dashboards.NAME, alerts.NAME, logs.NAME, baseline.NAME)


@dataclass(frozen=True)
class CheckOptions:
    """Choices a person makes per run, as opposed to where the services are (settings)."""

    only: Sequence[str] = CHECKS
    send_test_alert: bool = True
    log_source: LogSource | None = None  # default: the compose app container's logs
    send_query: bool = True  # False when logs are piped in: trace the latest request


def run_checks(settings: LabSettings, options: CheckOptions | None = None) -> list[CheckResult]:
    options = options or CheckOptions()
    unknown = sorted(set(options.only) - set(CHECKS))
    if unknown:
        raise ValueError(f"unknown check(s) {unknown}; choose from {', '.join(CHECKS)}")
    ctx = CheckContext.from_settings(settings)
    timeout = settings.http_timeout_seconds
    results: list[CheckResult] = []
    for name in CHECKS:
        if name not in options.only:
            continue
        if name == scrape.NAME:
            results.append(scrape.run(ctx))
        elif name == dashboards.NAME:
            grafana = GrafanaClient(
                settings.grafana_url, token=reveal(settings.grafana_token), timeout=timeout
            )
            results.append(dashboards.run(ctx, grafana))
        elif name == alerts.NAME:
            sink = AlertSinkClient(settings.alert_sink_url, timeout=timeout)
            results.append(alerts.run(ctx, sink, send_test_alert=options.send_test_alert))
        elif name == logs.NAME:
            source = options.log_source or DockerLogSource(settings.compose_project)
            results.append(logs.run(ctx, source, send_query=options.send_query))
        else:
            results.append(baseline.run(ctx))
    return results
