"""The `lab` subcommands, one module each.

A module registers its parser in `add(subparsers)` with `set_defaults(handler=handle)`;
`handle(args, out)` runs it and returns an `ExitCode` (`lab.exit_codes`). To add a
subcommand, write such a module and append its `add` to `SUBCOMMANDS`.
"""

from __future__ import annotations

from lab.commands import baseline, check, compare, drill, experiment, generate, wait

#: The registrars in the order `lab --help` lists the subcommands.
SUBCOMMANDS = [
    generate.add,
    check.add,
    wait.add,
    baseline.add,
    compare.add,
    drill.add,
    experiment.add,
]

__all__ = ["SUBCOMMANDS"]
