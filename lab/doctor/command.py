"""`lab doctor`: check the machine before the lab runs on it, a fix for each finding."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import TextIO

from lab.doctor.checks import Finding, Level, diagnose, read_dotenv
from lab.doctor.machine import LocalMachine
from lab.kit.exit_codes import ExitCode
from lab.kit.options import Subparsers
from lab.kit.repository import find_root

COMPOSE_FILE = "docker-compose.yml"
DEFAULT_PROJECT = "rag-observability-lab"


def report(findings: list[Finding], out: TextIO) -> ExitCode:
    """One line a finding (no colour: the same on every terminal), its fix below it."""
    for finding in findings:
        print(f"{finding.level.value.upper():<4} {finding.name}: {finding.detail}", file=out)
        if finding.fix:
            print(f"     fix: {finding.fix}", file=out)
    failed = [f for f in findings if f.level is Level.FAIL]
    warned = [f for f in findings if f.level is Level.WARN]
    print(f"{len(failed)} problem(s), {len(warned)} warning(s).", file=out)
    return ExitCode.FAILED if failed else ExitCode.OK


def handle(args: argparse.Namespace, out: TextIO) -> ExitCode:
    root: Path = args.root if args.root is not None else find_root(Path.cwd())
    compose_file = root / COMPOSE_FILE
    if not compose_file.is_file():
        print(
            f"lab doctor: no {COMPOSE_FILE} in {root}: run it from the lab's checkout, or pass"
            " --root DIR (the directory with docker-compose.yml)",
            file=out,
        )
        return ExitCode.USAGE
    environment = {**read_dotenv(root / ".env"), **os.environ}
    project = environment.get("COMPOSE_PROJECT_NAME", DEFAULT_PROJECT)
    findings = diagnose(
        LocalMachine(project),
        compose_file.read_text(encoding="utf-8"),
        environment,
        time.time,
    )
    return report(findings, out)


def add(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="check this machine for the lab: Docker, compose, ports, memory, disk, images, clock",
        description="Check what the lab needs of this machine, each finding with its fix: a"
        " Docker engine and compose v2 (their versions), the lab's ports free on 127.0.0.1,"
        " memory and disk enough, the images present, the containers' clock in sync, the"
        " admin token where a command needs it. Exit 1 when something must be fixed first.",
    )
    parser.add_argument(
        "--root",
        type=Path,
        metavar="DIR",
        help="the lab's checkout (default: the nearest directory with a pyproject.toml)",
    )
    parser.set_defaults(handler=handle)
