"""`lab scenario`: graded "break it, find it" exercises (the logic is in `lab.scenarios`)."""

from __future__ import annotations

from lab.commands.options import Subparsers, add_admin_token_flag, add_endpoint_flags


def add(subparsers: Subparsers) -> None:
    from lab.scenarios.cli import add_parser

    add_parser(subparsers, add_endpoint_flags, add_admin_token_flag)
