"""The `lab` command line: parse argv and dispatch to the chosen subcommand's handler.

Each feature package owns its subcommand in a `command` module (`lab/check/command.py`,
`lab/drill/command.py`, ...). Such a module registers its parser in `add(subparsers)` with
`set_defaults(handler=handle)`; `handle(args, out)` runs it and returns an `ExitCode`
(`lab.kit.exit_codes`). To add a subcommand, write such a module and append its `add`
to `SUBCOMMANDS`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from pydantic import ValidationError

from lab.baseline import command as baseline_command
from lab.baseline import compare as compare_command
from lab.check import command as check_command
from lab.check import wait as wait_command
from lab.drill import command as drill_command
from lab.experiment import command as experiment_command
from lab.generate import command as generate_command
from lab.kit.exit_codes import BadInput, ExitCode
from lab.kit.settings import describe_errors
from lab.scenario import command as scenario_command
from lab.target import command as target_command

#: The registrars in the order `lab --help` lists the subcommands.
SUBCOMMANDS = [
    generate_command.add,
    check_command.add,
    wait_command.add,
    baseline_command.add,
    compare_command.add,
    drill_command.add,
    experiment_command.add,
    scenario_command.add,
    target_command.add,
]

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
    """Parse `argv` and run the chosen subcommand: the one place where what a command
    raises becomes an exit code and one message on stderr, never a traceback."""
    stream = out if out is not None else sys.stdout
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help and on errors
        return ExitCode.OK if exc.code in (0, None) else ExitCode.USAGE
    handler: Handler = args.handler
    prefix = f"lab {args.command}"
    try:
        return handler(args, stream)
    except BadInput as exc:
        return _said(f"{prefix}: {exc}", ExitCode.USAGE)
    except ValidationError as exc:  # settings a command built itself, from LAB_* only
        return _said(f"{prefix}: {describe_errors(exc)}", ExitCode.USAGE)
    except OSError as exc:
        if exc.filename is None:  # not a file: a socket or the engine; the command's to say
            raise
        return _said(f"{prefix}: {_file_problem(exc)}", ExitCode.USAGE)
    except KeyboardInterrupt:
        return _said(f"{prefix}: interrupted", ExitCode.INTERRUPTED)


def _said(message: str, code: ExitCode) -> ExitCode:
    print(message, file=sys.stderr)
    return code


def _file_problem(error: OSError) -> str:
    """What went wrong with which file, and what to do about it."""
    path = error.filename
    if isinstance(error, FileNotFoundError):
        fix = "check the path, or create its directory first"
    elif isinstance(error, PermissionError):
        fix = "choose a path you may write to, or change its permissions"
    elif isinstance(error, IsADirectoryError):
        fix = "name a file, not a directory"
    else:
        fix = "check the path"
    return f"{path}: {error.strerror or error}; {fix}"
