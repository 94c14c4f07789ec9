"""What several subcommands share: the endpoint flags and the settings built from them.

Endpoint flags override the LAB_* environment variables, which override the defaults
(the ports `docker compose up -d` publishes on localhost).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeAlias

from pydantic import ValidationError

from lab.kit.exit_codes import BadInput
from lab.kit.settings import LabSettings, describe_errors

#: What `add(subparsers)` of each subcommand module receives.
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

ENDPOINT_FLAGS = {
    "app_url": "the sample RAG app",
    "prometheus_url": "Prometheus",
    "alertmanager_url": "Alertmanager",
    "alert_sink_url": "the alert sink",
    "grafana_url": "Grafana",
}


def add_endpoint_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "where the lab runs (default: LAB_* variables, then localhost)"
    )
    for field, what in ENDPOINT_FLAGS.items():
        flag = "--" + field.replace("_", "-")
        group.add_argument(flag, dest=field, metavar="URL", help=f"base URL of {what}")
    group.add_argument(
        "--target",
        dest="target_file",
        type=Path,
        metavar="FILE",
        help="the target file describing your stack (LAB_TARGET_FILE; default "
        "./lab-target.yaml if it exists, else the lab's own stack); flags override it",
    )
    group.add_argument(
        "--job",
        dest="app_job",
        metavar="NAME",
        help="the Prometheus job that scrapes the app (LAB_APP_JOB; default: the target's, "
        "else the one exporting rag_requests_total)",
    )
    group.add_argument(
        "--compose-project",
        dest="compose_project",
        metavar="NAME",
        help="compose project whose app container logs are read (LAB_COMPOSE_PROJECT)",
    )


def add_admin_token_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--admin-token",
        dest="admin_token",
        metavar="TOKEN",
        help="the app's RAG_ADMIN_TOKEN (default: LAB_ADMIN_TOKEN)",
    )


def settings_from(args: argparse.Namespace) -> LabSettings:
    """`LabSettings` with the flags given on the command line in place of their variables;
    `BadInput` names each flag or variable whose value is wrong, and what it takes."""
    overrides: dict[str, Any] = {
        name: getattr(args, name)
        for name in (
            *ENDPOINT_FLAGS,
            "target_file",
            "app_job",
            "compose_project",
            "baseline_window",
            "admin_token",
        )
        if getattr(args, name, None) is not None
    }
    if "grafana" in (getattr(args, "without", None) or []):
        overrides["check_grafana"] = False
    try:
        return LabSettings(**overrides)
    except ValidationError as exc:
        flags = {name: "--" + name.replace("_", "-") for name in overrides}
        raise BadInput(describe_errors(exc, flags=flags)) from None


def number(
    kind: type[int] | type[float],
    *,
    minimum: float,
    maximum: float = math.inf,
    exclusive_minimum: bool = False,
    unit: str = "",
) -> Callable[[str], float]:
    """An argparse `type`: a finite number in a range, or a message that says the range."""
    above = "above" if exclusive_minimum else "at least"
    bound = f"{above} {minimum:g}" + (f" and at most {maximum:g}" if maximum < math.inf else "")

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a {'whole number' if kind is int else 'number'}{unit}"
            ) from None
        too_low = value <= minimum if exclusive_minimum else value < minimum
        if not math.isfinite(value) or too_low or value > maximum:
            raise argparse.ArgumentTypeError(f"must be {bound}{unit}, got {text}")
        return value

    return parse


def seconds(*, maximum: float = 24 * 3600, zero: bool = True) -> Callable[[str], float]:
    """An argparse `type` for a wait: finite seconds up to `maximum`; 0 (where `zero`)
    means one look and no waiting."""
    return number(float, minimum=0, maximum=maximum, exclusive_minimum=not zero, unit=" seconds")


def positive(kind: type[int] | type[float]) -> Callable[[str], float]:
    """An argparse `type`: a finite number above 0 (a count, a rate)."""
    return number(kind, minimum=0, exclusive_minimum=True)
