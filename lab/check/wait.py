"""`lab wait`: wait, with progress, until every service of the lab is ready.

On a learner's stack it waits for what their target describes: no alert sink or Grafana
where the target has none, the app ready once its /metrics answers (the course's app has
no /readyz), the scrape job the target names or the one exporting rag_requests_total,
and Grafana ready once its Prometheus datasource (found by type) passes Grafana's test.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterable
from typing import TextIO

from lab.kit.exit_codes import ExitCode
from lab.kit.options import Subparsers, add_endpoint_flags, seconds, settings_from
from lab.kit.settings import LabSettings


def handle(args: argparse.Namespace, out: TextIO) -> ExitCode:
    ready = wait_for_stack(
        settings_from(args), timeout=args.timeout, without=args.without or (), out=out
    )
    return ExitCode.OK if ready else ExitCode.FAILED


def wait_for_stack(
    settings: LabSettings, *, timeout: float, without: Iterable[str] = (), out: TextIO
) -> bool:
    """Wait up to `timeout` seconds, printing each service as it becomes ready; False (and
    what each still misses) at the deadline. The notebook's first cell calls it too."""
    from lab.kit.context import LabContext
    from lab.kit.polling import Timeout, poll_until
    from lab.spec import SPEC

    lab = LabContext.from_settings(settings)
    target = lab.target

    def answers(ready: Callable[[], bool]) -> Callable[[], str | None]:
        return lambda: None if ready() else "not ready yet"

    def app_answers_metrics() -> str | None:
        lab.app.metrics_text()  # raises while the app is down or answers an error
        return None

    def app_target_up() -> str | None:
        job = target.scrape_job
        if job is None:
            found = lab.prometheus.query("count by (job) (rag_requests_total)")
            jobs = sorted(s.labels.get("job", "") for s in found)
            if len(jobs) != 1:
                return f"{len(jobs)} jobs export rag_requests_total yet ({', '.join(jobs)})"
            job = jobs[0]
        targets = [t for t in lab.prometheus.targets() if t.job == job]
        if any(t.is_up for t in targets):
            return None
        errors = [t.last_error for t in targets if t.last_error]
        return f"target {job!r} not UP yet" + (f": {errors[0]}" if errors else "")

    def grafana_provisioned() -> str | None:
        readiness = lab.grafana.readiness(
            datasource_uid=SPEC.datasource_uid, dashboard_uid=SPEC.dashboard.uid
        )
        return None if readiness.ready else readiness.detail

    def grafana_datasource_ok() -> str | None:
        health = lab.grafana.health()
        if health.get("database") != "ok":
            return f"database {health.get('database')!r}"
        uid = target.grafana.datasource_uid or next(
            (d["uid"] for d in lab.grafana.datasources() if d.get("type") == "prometheus"), None
        )
        if uid is None:
            return "no Prometheus datasource yet"
        ok, message = lab.grafana.datasource_health(str(uid))
        return None if ok else f"datasource {uid!r} not healthy: {message}"

    # Each probe returns None once ready, else what is still missing.
    probes: dict[str, Callable[[], str | None]] = {
        "app": answers(lab.app.ready) if target.own_stack else app_answers_metrics,
        "alert-sink": answers(lab.alert_sink.ready),
        "alertmanager": answers(lab.alertmanager.ready),
        "prometheus": answers(lab.prometheus.ready),
        "app scraped (target UP)": app_target_up,
        "grafana": grafana_provisioned if target.own_stack else grafana_datasource_ok,
    }
    # What the target says the stack does not have is not waited for either.
    left_out = set(without)
    if target.alert_sink_url is None:
        left_out.add("alert-sink")
    if target.grafana.url is None or not settings.check_grafana:
        left_out.add("grafana")
    for skipped in sorted(left_out):
        probes.pop(skipped, None)
    started = time.monotonic()
    pending = dict(probes)
    missing: dict[str, str] = {}

    def all_ready() -> bool:
        """One round: ask each service still pending, report those ready now."""
        for name, probe in list(pending.items()):
            try:
                why = probe()
            except Exception as exc:  # not up yet, or answering garbage while it starts
                why = str(exc)
            if why is None:
                print(f"✓ {name} ready after {time.monotonic() - started:.0f}s", file=out)
                del pending[name]
            else:
                missing[name] = why
        out.flush()
        return not pending

    print(f"waiting up to {timeout:.0f}s for: {', '.join(pending)}", file=out)
    try:
        poll_until(all_ready, timeout=timeout, describe="the lab")
    except Timeout:
        print(f"✗ not ready after {timeout:.0f}s:", file=out)
        for name in pending:
            print(f"  · {name}: {missing[name]}", file=out)
        if target.own_stack:
            print("see `docker compose ps` and `docker compose logs SERVICE`", file=out)
        return False
    print(f"lab ready in {time.monotonic() - started:.0f}s", file=out)
    return True


def add(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "wait",
        help="wait, with progress, until every service of the lab is ready",
        description="Wait until every service answers ready, Prometheus scrapes the app, and "
        "Grafana serves what the lab provisions (its datasource passes Grafana's health test "
        "and the dashboard is served); on timeout, say what each is still missing.",
    )
    add_endpoint_flags(parser)
    parser.add_argument("--timeout", type=seconds(), default=180, help="seconds (default 180)")
    parser.add_argument(
        "--without",
        action="append",
        choices=["grafana", "alert-sink"],
        help="do not wait for this service (repeatable); e.g. where Grafana cannot run, or "
        "a stack without the lab's alert sink (a target file without one leaves it out too)",
    )
    parser.set_defaults(handler=handle)
