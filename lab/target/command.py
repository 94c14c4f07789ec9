"""`lab target`: `discover` writes a first target file from the live services; `show`
prints the target a run would prove (file, LAB_* variables and flags applied)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from lab.kit.exit_codes import ExitCode
from lab.kit.options import Subparsers, add_endpoint_flags, settings_from
from lab.kit.target import DEFAULT_FILE


def handle(args: argparse.Namespace, out: TextIO) -> ExitCode:
    import yaml

    from lab.kit.context import LabContext
    from lab.target.discover import discover, render

    ctx = LabContext.from_settings(settings_from(args))
    if args.action == "show":
        body = ctx.target.model_dump(mode="json", exclude={"source"})
        where = f"from {ctx.target.source}" if ctx.target.source else "no target file"
        out.write(f"# the target of this run ({where})\n")
        out.write(yaml.safe_dump(body, sort_keys=False))
        return ExitCode.OK
    path: Path = args.out
    if path.exists() and not args.force:
        print(
            f"lab target discover: {path} exists; --force overwrites it, or --out FILE writes "
            "another",
            file=out,
        )
        return ExitCode.USAGE
    text = render(discover(ctx))
    path.write_text(text, encoding="utf-8")
    out.write(text)
    print(f"\nwrote {path}: `lab check --target {path}` proves it", file=out)
    return ExitCode.OK


def add(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "target",
        help="describe your own M2.3 stack for the checks (discover it, or show it)",
        description="`discover` asks your Prometheus, Alertmanager and Grafana (their URLs "
        "from the flags, LAB_* variables or a target file) and writes a target file; `show` "
        "prints the target a `lab check` would prove.",
    )
    parser.add_argument("action", choices=["discover", "show"])
    add_endpoint_flags(parser)
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(DEFAULT_FILE),
        metavar="FILE",
        help=f"where discover writes (default ./{DEFAULT_FILE}, which lab reads by default)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    parser.set_defaults(handler=handle)
