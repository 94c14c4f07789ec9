"""`lab check`: prove the course's readiness checks against the live lab, once or
(`--wait`) again until each has passed."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from lab.kit.exit_codes import ExitCode
from lab.kit.options import Subparsers, add_endpoint_flags, seconds, settings_from
from lab.kit.settings import LabSettings

if TYPE_CHECKING:
    from lab.check.logsource import LogSource
    from lab.check.result import CheckResult
    from lab.check.runner import CheckOptions


def handle(args: argparse.Namespace, out: TextIO) -> ExitCode:
    from lab.check.logsource import (
        CommandLogSource,
        ContainerLogSource,
        FileLogSource,
        StreamLogSource,
    )
    from lab.check.report import render_json, render_text
    from lab.check.runner import CHECKS, CheckOptions, run_checks

    only = tuple(args.only.split(",")) if args.only else CHECKS
    unknown = sorted(set(only) - set(CHECKS))
    if unknown:
        print(f"lab check: unknown check {unknown}; choose from {', '.join(CHECKS)}", file=out)
        return ExitCode.USAGE
    if args.wait is not None and args.logs_stdin:
        print(
            "lab check: --wait reads the app's logs again every round, and a pipe is read once:"
            " use the Docker engine (the default) or --logs-file with a file kept up to date",
            file=out,
        )
        return ExitCode.USAGE
    source: LogSource | None = None
    if args.logs_file:
        source = FileLogSource(args.logs_file)
    elif args.logs_stdin:
        source = StreamLogSource()
    elif args.logs_command:
        source = CommandLogSource(args.logs_command)
    elif args.logs_container:
        source = ContainerLogSource(args.logs_container)
    options = CheckOptions(
        only=only,
        send_test_alert=not args.no_test_alert,
        real_receivers_allowed=args.send_test_alert_to_real_receivers,
        log_source=source,
        send_query=not args.logs_stdin,
    )
    settings = settings_from(args)
    if args.wait is None:
        results = run_checks(settings, options)
    else:
        # With --json the progress goes to stderr, so stdout stays one JSON document.
        results = _wait_for_checks(settings, options, args.wait, sys.stderr if args.json else out)
    out.write((render_json(results) if args.json else render_text(results)) + "\n")
    return ExitCode.FAILED if any(r.failed for r in results) else ExitCode.OK


def _wait_for_checks(
    settings: LabSettings, options: CheckOptions, timeout: float, progress: TextIO
) -> list[CheckResult]:
    from dataclasses import replace

    from lab.check.runner import WaitRound, run_checks, wait_for_checks

    def run(names: Sequence[str], seconds_left: float) -> list[CheckResult]:
        # The test alert may take no longer than the wait has left (at least a few seconds).
        deadline = min(settings.alert_deadline_seconds, max(seconds_left, 5.0))
        bounded = settings.model_copy(update={"alert_deadline_seconds": deadline})
        return run_checks(bounded, replace(options, only=tuple(names)))

    def show(round_: WaitRound) -> None:
        passed = f"✓ {', '.join(round_.passed)}" if round_.passed else "none passed yet"
        waiting = "; ".join(
            f"{r.check}: {(r.evidence or ('failed',))[-1].removeprefix('✗ ')}"
            for r in round_.failing
        )
        line = f"[{round_.elapsed:4.0f}s] {passed}"
        print(line + (f" · waiting for {waiting}" if waiting else ""), file=progress, flush=True)

    print(f"waiting up to {timeout:g}s for every check to pass", file=progress, flush=True)
    results = wait_for_checks(run, options.only, timeout=timeout, progress=show)
    failing = [r.check for r in results if r.failed]
    if failing:
        print(
            f"✗ after {timeout:g}s these checks still fail: {', '.join(failing)}",
            file=progress,
            flush=True,
        )
    return results


def add(subparsers: Subparsers) -> None:
    from lab.check.runner import CHECKS

    parser = subparsers.add_parser(
        "check",
        help="prove each readiness check of the course against the live lab",
        description="Run the course's readiness checks (scrape, dashboards, alerts, logs) "
        "and record the baseline; exit 1 when any check fails.",
    )
    add_endpoint_flags(parser)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--only",
        metavar="CHECKS",
        help=f"comma-separated subset: {','.join(CHECKS)}",
    )
    parser.add_argument(
        "--no-test-alert", action="store_true", help="do not send a test alert through Alertmanager"
    )
    parser.add_argument(
        "--send-test-alert-to-real-receivers",
        action="store_true",
        help="let check 3's test alert reach a real channel (Slack, email, PagerDuty...) that "
        "a warning routes to; it is resolved at once (default: that part is skipped)",
    )
    logs = parser.add_mutually_exclusive_group()
    logs.add_argument(
        "--logs-file",
        type=Path,
        metavar="PATH",
        help="read the app's logs from a file kept up to date (e.g. `docker compose logs -f`)",
    )
    logs.add_argument(
        "--logs-stdin",
        action="store_true",
        help="read the app's logs from standard input and trace the latest request in them",
    )
    logs.add_argument(
        "--logs-command",
        metavar="COMMAND",
        help="read the app's logs from a command's output, e.g. 'kubectl logs deploy/rag' "
        "(run without a shell; the target file's logs.kind: command)",
    )
    logs.add_argument(
        "--logs-container",
        metavar="NAME",
        help="read the app's logs from a container by name, for a stack compose does not "
        "run (the target file's logs.kind: container)",
    )
    parser.add_argument("--baseline-window", metavar="RANGE", help="PromQL range, default 15m")
    parser.add_argument(
        "--without",
        action="append",
        choices=["grafana"],
        help="a lab run without Grafana on purpose: check 2 proves the panel queries against "
        "Prometheus and reports itself skipped (LAB_CHECK_GRAFANA=false)",
    )
    parser.add_argument(
        "--wait",
        type=seconds(maximum=3600, zero=False),
        metavar="SECONDS",
        help="run the checks again, showing progress, until every one has passed, at most "
        "SECONDS (e.g. right after `docker compose up -d`); exit 1 with the failing ones then",
    )
    parser.set_defaults(handler=handle)
