"""`lab baseline`: save the baseline as JSON, Markdown and a PNG chart."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from lab.kit.exit_codes import ExitCode
from lab.kit.options import Subparsers, add_endpoint_flags, settings_from


def handle(args: argparse.Namespace, out: TextIO) -> ExitCode:
    from lab.baseline.model import app_job
    from lab.baseline.report import TooFewRequests, render_markdown, write_baseline
    from lab.kit.clients import ServiceError
    from lab.kit.context import LabContext

    settings = settings_from(args)
    try:
        ctx = LabContext.from_settings(settings)
        baseline = write_baseline(
            ctx.prometheus,
            settings.baseline_window,
            args.out,
            force=args.force,
            job=app_job(ctx.prometheus, ctx.target.scrape_job),
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


def add(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "baseline", help="save the baseline as JSON, Markdown and a PNG chart"
    )
    add_endpoint_flags(parser)
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="directory")
    parser.add_argument("--baseline-window", metavar="RANGE", help="PromQL range, default 15m")
    parser.add_argument(
        "--force",
        action="store_true",
        help="save it even when there are too few requests for its error rate to mean "
        "anything (it is saved with that warning)",
    )
    parser.set_defaults(handler=handle)
