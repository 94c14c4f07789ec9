"""`lab scenario list|start NAME|hint|status|verify|reset`: graded "break it, find it"
exercises (the logic is in `lab.scenario`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from lab.kit.exit_codes import ExitCode
from lab.kit.options import (
    Subparsers,
    add_admin_token_flag,
    add_endpoint_flags,
    settings_from,
)

if TYPE_CHECKING:
    from lab.scenario.session import Session


def session(args: argparse.Namespace) -> Session:
    """The session on the lab the flags and LAB_* variables describe (--state-dir wins)."""
    from lab.scenario.session import open_session

    settings = settings_from(args)
    if args.state_dir is not None:
        settings = settings.model_copy(update={"state_dir": args.state_dir})
    return open_session(settings)


def handle(args: argparse.Namespace, out: TextIO) -> ExitCode:
    chosen = session(args)
    action = args.action
    if action == "list":
        outcome = chosen.listing()
    elif action == "start":
        outcome = chosen.start(args.name)
    elif action == "hint":
        outcome = chosen.hint()
    elif action == "status":
        outcome = chosen.status()
    elif action == "verify":
        outcome = chosen.verify(args.cause, args.evidence)
    else:
        outcome = chosen.reset()
    for line in outcome.lines:
        print(line, file=out)
    return outcome.code


def add(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "scenario",
        help="practise: break the lab on purpose and find the cause with its signals",
        description="Graded 'break it, find it' scenarios. `start` breaks the running lab "
        "and shows the symptom; `hint` gives one clue at a time; `verify` checks your "
        "answer against the live lab and scores it; `reset` restores the healthy lab. "
        "Needs the app's admin API: start the lab with RAG_ADMIN_TOKEN=<secret> and set "
        "LAB_ADMIN_TOKEN to the same value.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    common = argparse.ArgumentParser(add_help=False)
    add_endpoint_flags(common)
    add_admin_token_flag(common)
    common.add_argument(
        "--state-dir",
        type=Path,
        metavar="DIR",
        help="the lab-owned state directory (LAB_STATE_DIR; default .lab at the repo root)",
    )
    actions.add_parser("list", parents=[common], help="the scenarios, by signal")
    start = actions.add_parser("start", parents=[common], help="break the lab: show the symptom")
    start.add_argument("name", help="the scenario (`lab scenario list`)")
    actions.add_parser("hint", parents=[common], help="the next clue (each costs points)")
    actions.add_parser("status", parents=[common], help="the running scenario and its clock")
    verify = actions.add_parser(
        "verify", parents=[common], help="check the fix or the cause you name; score it"
    )
    verify.add_argument("--cause", metavar="ID", help="the cause (run without it: the menu)")
    verify.add_argument("--evidence", metavar="VALUE", help="what the live signals show of it")
    actions.add_parser("reset", parents=[common], help="restore the healthy lab, whatever it is")
    parser.set_defaults(handler=handle)
