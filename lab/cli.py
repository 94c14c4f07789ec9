"""The `lab` command line: parse argv and dispatch to the chosen subcommand's handler.

The subcommands live in `lab.commands`, one module each.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from lab.commands import SUBCOMMANDS
from lab.exit_codes import ExitCode

Handler = Callable[[argparse.Namespace, TextIO], ExitCode]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lab", description="Generate and check the RAG observability lab."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in SUBCOMMANDS:
        add(subparsers)
    return parser


def run(argv: Sequence[str] | None = None, out: TextIO | None = None) -> ExitCode:
    """Parse `argv` and run the chosen subcommand."""
    stream = out if out is not None else sys.stdout
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help and on errors
        return ExitCode.OK if exc.code in (0, None) else ExitCode.USAGE
    handler: Handler = args.handler
    return handler(args, stream)
