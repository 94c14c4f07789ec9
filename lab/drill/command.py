"""`lab drill`: inject a fault until its alert fires and notifies, then clear it."""

from __future__ import annotations

import argparse
from typing import TextIO

from lab.kit.exit_codes import ExitCode
from lab.kit.options import (
    Subparsers,
    add_admin_token_flag,
    add_endpoint_flags,
    seconds,
    settings_from,
)


def handle(args: argparse.Namespace, out: TextIO) -> ExitCode:
    from lab.drill.runner import DRILLS, run_drill
    from lab.kit.clients import ServiceError
    from lab.kit.context import LabContext
    from lab.kit.polling import Timeout
    from lab.kit.replicas import several_replicas_refusal

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
    lab = LabContext.from_settings(settings)
    try:
        refusal = several_replicas_refusal(lab.prometheus, settings.app_job, "lab drill")
        if refusal:
            print(f"✗ {refusal}", file=out)
            return ExitCode.USAGE
        report = run_drill(
            drill,
            app=lab.app,
            prometheus=lab.prometheus,
            sink=lab.alert_sink,
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


def add(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "drill", help="inject a fault until its alert fires and notifies, then clear it"
    )
    add_endpoint_flags(parser)
    parser.add_argument("name", nargs="?", help="the drill; `--list` shows them")
    parser.add_argument("--list", action="store_true", help="list the drills")
    add_admin_token_flag(parser)
    parser.add_argument("--timeout", type=seconds(), default=600, help="seconds per step")
    parser.set_defaults(handler=handle)
