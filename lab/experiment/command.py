"""`lab experiment`: the same traffic twice, resilience off then on."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from lab.kit.exit_codes import ExitCode
from lab.kit.options import (
    Subparsers,
    add_admin_token_flag,
    add_endpoint_flags,
    positive,
    settings_from,
)


def handle(args: argparse.Namespace, out: TextIO) -> ExitCode:
    from lab.experiment.live import run_on_lab
    from lab.experiment.profiles import FULL, PROFILES, SHORT, Scale
    from lab.experiment.report import render_summary, write_outputs
    from lab.kit.clients import PrometheusClient, ServiceError
    from lab.kit.polling import Timeout
    from lab.kit.replicas import several_replicas_refusal

    default = SHORT if args.short else FULL
    scale = Scale(
        int(args.requests or default.requests_per_arm), args.rate or default.rate_per_second
    )
    profile = PROFILES[args.profile]
    print(
        f"experiment '{profile.name}': 2 arms of {scale.requests_per_arm} requests at "
        f"{scale.rate_per_second:g} req/s, about {2 * scale.seconds / 60 + 1:.0f} minutes",
        file=out,
        flush=True,
    )
    settings = settings_from(args)
    try:
        refusal = several_replicas_refusal(
            PrometheusClient(settings.prometheus_url, timeout=settings.http_timeout_seconds),
            settings.app_job,
            "lab experiment",
        )
        if refusal:
            print(f"✗ {refusal}", file=out)
            return ExitCode.USAGE
        comparison = run_on_lab(
            settings,
            profile,
            scale,
            seed=args.seed,
            concurrency=int(args.concurrency),
            request_timeout=args.request_timeout,
            progress=lambda line: print(line, file=out, flush=True),
        )
    except (ServiceError, Timeout) as exc:
        print(f"✗ lab experiment: {exc}", file=out)
        return ExitCode.FAILED
    paths = write_outputs(comparison, args.out)
    print(render_summary(comparison), file=out)
    print(f"wrote {', '.join(str(p) for p in paths)}", file=out)
    return ExitCode.OK if comparison.verdict.met else ExitCode.FAILED


def add(subparsers: Subparsers) -> None:
    from lab.experiment.profiles import FULL, PROFILES, SHORT
    from lab.spec.rag import TARGET_ERROR_RATE_AFTER

    parser = subparsers.add_parser(
        "experiment",
        help="the same traffic twice, resilience off then on: the before/after of M2.4",
        description="Send the same seeded traffic under the same fault profile twice, "
        "resilience off then on (switched through the app's admin API; both settings and "
        "faults are restored afterwards), and save the comparison as experiment.json, "
        "experiment.md and experiment.png. Exit 1 when the 'on' arm misses the course's "
        f"target (< {TARGET_ERROR_RATE_AFTER} % errors).",
    )
    add_endpoint_flags(parser)
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="directory")
    parser.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        default="baseline",
        # argparse formats help with %: the descriptions' percent signs are doubled.
        help="; ".join(f"{p.name}: {p.description}" for p in PROFILES.values()).replace("%", "%%"),
    )
    parser.add_argument(
        "--short",
        action="store_true",
        help=f"{SHORT.requests_per_arm} requests per arm instead of {FULL.requests_per_arm} "
        "(a smoke test: too few to show the target)",
    )
    parser.add_argument(
        "--requests",
        type=positive(int),
        metavar="N",
        help="requests per arm (overrides)",
    )
    parser.add_argument(
        "--rate",
        type=positive(float),
        metavar="PER_SECOND",
        help="mean requests per second",
    )
    parser.add_argument("--seed", type=int, default=2024, help="traffic seed (default 2024)")
    parser.add_argument(
        "--concurrency",
        type=positive(int),
        default=32,
        metavar="N",
        help="most requests in flight (default 32)",
    )
    parser.add_argument(
        "--request-timeout",
        type=positive(float),
        default=30.0,
        metavar="SECONDS",
        help="client timeout of one query; a timeout counts as an error (default 30)",
    )
    add_admin_token_flag(parser)
    parser.set_defaults(handler=handle)
