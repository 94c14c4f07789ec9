"""The `lab` subcommands that talk to the running lab: check, wait, baseline, compare, drill,
experiment.

Each registers its parser and a handler returning an `ExitCode`; `lab.cli` lists them.
Endpoint flags override the LAB_* environment variables, which override the defaults
(the ports `docker compose up -d` publishes on localhost).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from lab.exit_codes import ExitCode
from lab.settings import LabSettings, reveal

if TYPE_CHECKING:
    from lab.checks.result import CheckResult
    from lab.checks.runner import CheckOptions
    from lab.logsource import LogSource

    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]

ENDPOINT_FLAGS = {
    "app_url": "the sample RAG app",
    "prometheus_url": "Prometheus",
    "alertmanager_url": "Alertmanager",
    "alert_sink_url": "the alert sink",
    "grafana_url": "Grafana",
}


def _add_endpoint_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "where the lab runs (default: LAB_* variables, then localhost)"
    )
    for field, what in ENDPOINT_FLAGS.items():
        flag = "--" + field.replace("_", "-")
        group.add_argument(flag, dest=field, metavar="URL", help=f"base URL of {what}")
    group.add_argument(
        "--compose-project",
        dest="compose_project",
        metavar="NAME",
        help="compose project whose app container logs are read (LAB_COMPOSE_PROJECT)",
    )


def settings_from(args: argparse.Namespace) -> LabSettings:
    overrides: dict[str, Any] = {
        name: getattr(args, name)
        for name in (*ENDPOINT_FLAGS, "compose_project", "baseline_window", "admin_token")
        if getattr(args, name, None) is not None
    }
    if "grafana" in (getattr(args, "without", None) or []):
        overrides["check_grafana"] = False
    return LabSettings(**overrides)


def _check(args: argparse.Namespace, out: TextIO) -> ExitCode:
    from lab.checks.runner import CHECKS, CheckOptions, run_checks
    from lab.logsource import FileLogSource, StreamLogSource
    from lab.report import render_json, render_text

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
    options = CheckOptions(
        only=only,
        send_test_alert=not args.no_test_alert,
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

    from lab.checks.runner import WaitRound, run_checks, wait_for_checks

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


def _add_check(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "check",
        help="prove each readiness check of the course against the live lab",
        description="Run the course's readiness checks (scrape, dashboards, alerts, logs) "
        "and record the baseline; exit 1 when any check fails.",
    )
    _add_endpoint_flags(parser)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--only",
        metavar="CHECKS",
        help="comma-separated subset: scrape,dashboards,alerts,logs,baseline",
    )
    parser.add_argument(
        "--no-test-alert", action="store_true", help="do not send a test alert through Alertmanager"
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
        type=_seconds,
        metavar="SECONDS",
        help="run the checks again, showing progress, until every one has passed, at most "
        "SECONDS (e.g. right after `docker compose up -d`); exit 1 with the failing ones then",
    )
    parser.set_defaults(handler=_check)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 3600, got {text}")
    return value


def _wait(args: argparse.Namespace, out: TextIO) -> ExitCode:
    from lab.clients import AlertmanagerClient, PrometheusClient
    from lab.clients.alert_sink import AlertSinkClient
    from lab.clients.app import AppClient
    from lab.clients.grafana import GrafanaClient
    from lab.spec import SPEC

    settings = settings_from(args)
    prometheus = PrometheusClient(settings.prometheus_url, timeout=2)
    grafana = GrafanaClient(settings.grafana_url, token=reveal(settings.grafana_token), timeout=2)

    def answers(ready: Callable[[], bool]) -> Callable[[], str | None]:
        return lambda: None if ready() else "not ready yet"

    def app_target_up() -> str | None:
        targets = [t for t in prometheus.targets() if t.job == settings.app_job]
        if any(t.is_up for t in targets):
            return None
        errors = [t.last_error for t in targets if t.last_error]
        return f"target {settings.app_job!r} not UP yet" + (f": {errors[0]}" if errors else "")

    def grafana_provisioned() -> str | None:
        readiness = grafana.readiness(
            datasource_uid=SPEC.datasource_uid, dashboard_uid=SPEC.dashboard.uid
        )
        return None if readiness.ready else readiness.detail

    # Each probe returns None once ready, else what is still missing.
    probes: dict[str, Callable[[], str | None]] = {
        "app": answers(AppClient(settings.app_url, timeout=2).ready),
        "alert-sink": answers(AlertSinkClient(settings.alert_sink_url, timeout=2).ready),
        "alertmanager": answers(AlertmanagerClient(settings.alertmanager_url, timeout=2).ready),
        "prometheus": answers(prometheus.ready),
        "app scraped (target UP)": app_target_up,
        "grafana": grafana_provisioned,
    }
    for skipped in args.without or []:
        probes.pop(skipped, None)
    started = time.monotonic()
    pending = dict(probes)
    missing: dict[str, str] = {}
    print(f"waiting up to {args.timeout:.0f}s for: {', '.join(pending)}", file=out)
    while pending:
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
        if not pending:
            break
        if time.monotonic() - started > args.timeout:
            print(f"✗ not ready after {args.timeout:.0f}s:", file=out)
            for name in pending:
                print(f"  · {name}: {missing[name]}", file=out)
            print("see `docker compose ps` and `docker compose logs SERVICE`", file=out)
            return ExitCode.FAILED
        out.flush()
        time.sleep(1)
    print(f"lab ready in {time.monotonic() - started:.0f}s", file=out)
    return ExitCode.OK


def _add_wait(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "wait",
        help="wait, with progress, until every service of the lab is ready",
        description="Wait until every service answers ready, Prometheus scrapes the app, and "
        "Grafana serves what the lab provisions (its datasource passes Grafana's health test "
        "and the dashboard is served); on timeout, say what each is still missing.",
    )
    _add_endpoint_flags(parser)
    parser.add_argument("--timeout", type=float, default=180, help="seconds (default 180)")
    parser.add_argument(
        "--without",
        action="append",
        choices=["grafana", "alert-sink"],
        help="do not wait for this service (repeatable); e.g. where Grafana cannot run",
    )
    parser.set_defaults(handler=_wait)


def _baseline(args: argparse.Namespace, out: TextIO) -> ExitCode:
    from lab.baseline_report import TooFewRequests, render_markdown, write_baseline
    from lab.clients import PrometheusClient, ServiceError

    settings = settings_from(args)
    try:
        baseline = write_baseline(
            PrometheusClient(settings.prometheus_url),
            settings.baseline_window,
            args.out,
            force=args.force,
        )
    except TooFewRequests as exc:
        print(f"lab baseline: not saved: {exc}. (--force saves it anyway, marked.)", file=out)
        return ExitCode.FAILED
    except ServiceError as exc:
        print(f"lab baseline: {exc}", file=out)
        return ExitCode.FAILED
    if not baseline.requests:
        print(f"lab baseline: no query traffic in the last {settings.baseline_window}", file=out)
        return ExitCode.FAILED
    out.write(render_markdown(baseline))
    print(f"\nwrote {args.out}/baseline.json, baseline.md, baseline.png", file=out)
    return ExitCode.OK


def _add_baseline(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "baseline", help="save the baseline as JSON, Markdown and a PNG chart"
    )
    _add_endpoint_flags(parser)
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="directory")
    parser.add_argument("--baseline-window", metavar="RANGE", help="PromQL range, default 15m")
    parser.add_argument(
        "--force",
        action="store_true",
        help="save it even when there are too few requests for its error rate to mean "
        "anything (it is saved with that warning)",
    )
    parser.set_defaults(handler=_baseline)


def _compare(args: argparse.Namespace, out: TextIO) -> ExitCode:
    from lab.baseline_report import load_baseline, render_comparison, write_comparison_chart

    try:
        before, after = load_baseline(args.before), load_baseline(args.after)
    except ValueError as exc:
        print(f"lab compare: {exc}", file=out)
        return ExitCode.USAGE
    print(render_comparison(before, after), file=out)
    if args.chart:
        write_comparison_chart(
            [before, after], ["before", "after"], args.chart, title="RAG baseline before/after"
        )
        print(f"wrote {args.chart}", file=out)
    return ExitCode.OK


def _add_compare(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser("compare", help="compare two baselines (before/after M2.4)")
    parser.add_argument("before", type=Path, help="directory or baseline.json")
    parser.add_argument("after", type=Path, help="directory or baseline.json")
    parser.add_argument(
        "--chart", type=Path, metavar="PNG", help="also draw both on the same axes into PNG"
    )
    parser.set_defaults(handler=_compare)


def _drill(args: argparse.Namespace, out: TextIO) -> ExitCode:
    from lab.clients import PrometheusClient, ServiceError
    from lab.clients.alert_sink import AlertSinkClient
    from lab.clients.app import AppClient
    from lab.drills import DRILLS, run_drill
    from lab.polling import Timeout

    if args.list or not args.name:
        for drill in DRILLS.values():
            print(f"{drill.name:<18} {drill.alert:<24} {drill.what}", file=out)
            if drill.resilience is not None:
                fields = ", ".join(f"{k}={v}" for k, v in drill.resilience.items())
                print(f"{'':<43} (sets {fields}; restores the previous config)", file=out)
        return ExitCode.OK if args.list else ExitCode.USAGE
    chosen = DRILLS.get(args.name)
    if chosen is None:
        print(f"lab drill: no drill {args.name!r}; `lab drill --list` shows them", file=out)
        return ExitCode.USAGE
    drill = chosen
    settings = settings_from(args)
    try:
        report = run_drill(
            drill,
            app=AppClient(settings.app_url, admin_token=reveal(settings.admin_token)),
            prometheus=PrometheusClient(settings.prometheus_url),
            sink=AlertSinkClient(settings.alert_sink_url),
            timeout_seconds=args.timeout,
            progress=lambda line: print(line, file=out, flush=True),
        )
    except (ServiceError, Timeout) as exc:
        print(f"✗ drill {drill.name}: {exc}", file=out)
        return ExitCode.FAILED
    recovered = (
        f"recovered {report.seconds_to_recover:.0f}s and "
        if report.seconds_to_recover is not None
        else ""
    )
    print(
        f"✓ drill {drill.name}: {drill.alert} fired after {report.seconds_to_fire:.0f}s, "
        f"notified after {report.seconds_to_notify:.0f}s, {recovered}resolved "
        f"{report.seconds_to_resolve:.0f}s after the fault was cleared",
        file=out,
    )
    return ExitCode.OK


def _add_drill(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "drill", help="inject a fault until its alert fires and notifies, then clear it"
    )
    _add_endpoint_flags(parser)
    parser.add_argument("name", nargs="?", help="the drill; `--list` shows them")
    parser.add_argument("--list", action="store_true", help="list the drills")
    parser.add_argument(
        "--admin-token",
        dest="admin_token",
        metavar="TOKEN",
        help="the app's RAG_ADMIN_TOKEN (default: LAB_ADMIN_TOKEN)",
    )
    parser.add_argument("--timeout", type=float, default=600, help="seconds per step")
    parser.set_defaults(handler=_drill)


def _positive(kind: type[int] | type[float]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {kind.__name__}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
        return value

    return parse


def _experiment(args: argparse.Namespace, out: TextIO) -> ExitCode:
    from lab.clients import ServiceError
    from lab.experiment.live import run_on_lab
    from lab.experiment.profiles import FULL, PROFILES, SHORT, Scale
    from lab.experiment.report import render_summary, write_outputs
    from lab.polling import Timeout

    default = SHORT if args.short else FULL
    scale = Scale(
        int(args.requests or default.requests_per_arm), args.rate or default.rate_per_second
    )
    profile = PROFILES[args.profile]
    print(
        f"experiment '{profile.name}': 2 arms of {scale.requests_per_arm} requests at "
        f"{scale.rate_per_second:g} req/s, about {2 * scale.seconds / 60 + 1:.0f} minutes",
        file=out,
        flush=True,
    )
    try:
        comparison = run_on_lab(
            settings_from(args),
            profile,
            scale,
            seed=args.seed,
            concurrency=int(args.concurrency),
            request_timeout=args.request_timeout,
            progress=lambda line: print(line, file=out, flush=True),
        )
    except (ServiceError, Timeout) as exc:
        print(f"✗ lab experiment: {exc}", file=out)
        return ExitCode.FAILED
    paths = write_outputs(comparison, args.out)
    print(render_summary(comparison), file=out)
    print(f"wrote {', '.join(str(p) for p in paths)}", file=out)
    return ExitCode.OK if comparison.verdict.met else ExitCode.FAILED


def _add_experiment(subparsers: Subparsers) -> None:
    from lab.experiment.profiles import FULL, PROFILES, SHORT

    parser = subparsers.add_parser(
        "experiment",
        help="the same traffic twice, resilience off then on: the before/after of M2.4",
        description="Send the same seeded traffic under the same fault profile twice, "
        "resilience off then on (switched through the app's admin API; both settings and "
        "faults are restored afterwards), and save the comparison as experiment.json, "
        "experiment.md and experiment.png. Exit 1 when the 'on' arm misses the course's "
        "target (< 0.1 % errors).",
    )
    _add_endpoint_flags(parser)
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="directory")
    parser.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        default="baseline",
        # argparse formats help with %: the descriptions' percent signs are doubled.
        help="; ".join(f"{p.name}: {p.description}" for p in PROFILES.values()).replace("%", "%%"),
    )
    parser.add_argument(
        "--short",
        action="store_true",
        help=f"{SHORT.requests_per_arm} requests per arm instead of {FULL.requests_per_arm} "
        "(a smoke test: too few to show the target)",
    )
    parser.add_argument(
        "--requests", type=_positive(int), metavar="N", help="requests per arm (overrides)"
    )
    parser.add_argument(
        "--rate", type=_positive(float), metavar="PER_SECOND", help="mean requests per second"
    )
    parser.add_argument("--seed", type=int, default=2024, help="traffic seed (default 2024)")
    parser.add_argument(
        "--concurrency",
        type=_positive(int),
        default=32,
        metavar="N",
        help="most requests in flight (default 32)",
    )
    parser.add_argument(
        "--request-timeout",
        type=_positive(float),
        default=30.0,
        metavar="SECONDS",
        help="client timeout of one query; a timeout counts as an error (default 30)",
    )
    parser.add_argument(
        "--admin-token",
        dest="admin_token",
        metavar="TOKEN",
        help="the app's RAG_ADMIN_TOKEN (default: LAB_ADMIN_TOKEN)",
    )
    parser.set_defaults(handler=_experiment)


def _add_scenario(subparsers: Subparsers) -> None:
    from lab.scenarios.cli import add_parser

    add_parser(subparsers, _add_endpoint_flags)


SUBCOMMANDS = [
    _add_check,
    _add_wait,
    _add_baseline,
    _add_compare,
    _add_drill,
    _add_experiment,
    _add_scenario,
]

__all__ = ["SUBCOMMANDS", "settings_from"]
