"""What several subcommands share: the endpoint flags and the settings built from them.

Endpoint flags override the LAB_* environment variables, which override the defaults
(the ports `docker compose up -d` publishes on localhost).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TypeAlias

from lab.kit.settings import LabSettings

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
    """`LabSettings` with the flags given on the command line in place of their variables."""
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
    return LabSettings(**overrides)
