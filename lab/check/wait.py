"""`lab wait`: wait, with progress, until every service of the lab is ready."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import TextIO

from lab.kit.exit_codes import ExitCode
from lab.kit.options import Subparsers, add_endpoint_flags, seconds, settings_from


def handle(args: argparse.Namespace, out: TextIO) -> ExitCode:
    from lab.kit.context import LabContext
    from lab.kit.polling import Timeout, poll_until
    from lab.spec import SPEC

    settings = settings_from(args)
    lab = LabContext.from_settings(settings)

    def answers(ready: Callable[[], bool]) -> Callable[[], str | None]:
        return lambda: None if ready() else "not ready yet"

    def app_target_up() -> str | None:
        targets = [t for t in lab.prometheus.targets() if t.job == settings.app_job]
        if any(t.is_up for t in targets):
            return None
        errors = [t.last_error for t in targets if t.last_error]
        return f"target {settings.app_job!r} not UP yet" + (f": {errors[0]}" if errors else "")

    def grafana_provisioned() -> str | None:
        readiness = lab.grafana.readiness(
            datasource_uid=SPEC.datasource_uid, dashboard_uid=SPEC.dashboard.uid
        )
        return None if readiness.ready else readiness.detail

    # Each probe returns None once ready, else what is still missing.
    probes: dict[str, Callable[[], str | None]] = {
        "app": answers(lab.app.ready),
        "alert-sink": answers(lab.alert_sink.ready),
        "alertmanager": answers(lab.alertmanager.ready),
        "prometheus": answers(lab.prometheus.ready),
        "app scraped (target UP)": app_target_up,
        "grafana": grafana_provisioned,
    }
    for skipped in args.without or []:
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

    print(f"waiting up to {args.timeout:.0f}s for: {', '.join(pending)}", file=out)
    try:
        poll_until(all_ready, timeout=args.timeout, describe="the lab")
    except Timeout:
        print(f"✗ not ready after {args.timeout:.0f}s:", file=out)
        for name in pending:
            print(f"  · {name}: {missing[name]}", file=out)
        print("see `docker compose ps` and `docker compose logs SERVICE`", file=out)
        return ExitCode.FAILED
    print(f"lab ready in {time.monotonic() - started:.0f}s", file=out)
    return ExitCode.OK


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
        help="do not wait for this service (repeatable); e.g. where Grafana cannot run",
    )
    parser.set_defaults(handler=handle)
