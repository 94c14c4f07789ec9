"""`lab compare`: two saved baselines side by side (before/after M2.4)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from lab.kit.exit_codes import ExitCode
from lab.kit.options import Subparsers


def handle(args: argparse.Namespace, out: TextIO) -> ExitCode:
    from lab.baseline.report import load_baseline, render_comparison, write_comparison_chart

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


def add(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser("compare", help="compare two baselines (before/after M2.4)")
    parser.add_argument("before", type=Path, help="directory or baseline.json")
    parser.add_argument("after", type=Path, help="directory or baseline.json")
    parser.add_argument(
        "--chart", type=Path, metavar="PNG", help="also draw both on the same axes into PNG"
    )
    parser.set_defaults(handler=handle)
