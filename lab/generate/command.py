"""`lab generate`: render lab/spec into the Prometheus, Alertmanager and Grafana files."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from lab import generate
from lab.generate import alertmanager as alertmanager_gen
from lab.kit.exit_codes import ExitCode
from lab.kit.options import Subparsers
from lab.kit.repository import find_root


def handle(args: argparse.Namespace, out: TextIO) -> ExitCode:
    from lab.spec import SPEC

    root: Path = args.root if args.root is not None else find_root(Path.cwd())
    files = generate.render_all(SPEC)
    if args.check:
        drifts = generate.drift(files, root)
        stale = generate.stale(files, root)
        for d in drifts:
            state = "missing" if d.missing else "differs from lab/spec"
            print(f"DRIFT {d.path}: {state}", file=out)
            if d.diff:
                out.write(d.diff if d.diff.endswith("\n") else d.diff + "\n")
        for path in stale:
            print(f"STALE {path}: not produced by lab/spec any more", file=out)
        if drifts or stale:
            print(
                f"{len(drifts) + len(stale)} generated file(s) out of date: run `lab generate`"
                " and commit the result.",
                file=out,
            )
            return ExitCode.FAILED
        print(f"OK: {len(files)} generated files match lab/spec.", file=out)
        return ExitCode.OK

    changed = generate.write(files, root)
    for old in generate.stale(files, root):
        (root / old).unlink()
        print(f"removed {old}", file=out)
    for target in changed:
        print(f"wrote {target.relative_to(root).as_posix()}", file=out)
    channels = alertmanager_gen.Channels(slack=args.with_slack, email=args.with_email)
    if channels.slack or channels.email:
        local = alertmanager_gen.render_local(SPEC, channels)
        generate.write([local], root)
        print(f"wrote {local.path} (git-ignored; see alertmanager/README.md)", file=out)
    print(f"{len(files)} generated files, {len(changed)} changed.", file=out)
    return ExitCode.OK


def add(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "generate",
        help="write the Prometheus, Alertmanager, Grafana and Kubernetes files from lab/spec",
        description="Render lab/spec into prometheus/, alertmanager/, grafana/ and their"
        " kubernetes/ directories (and sample_rag_app/kubernetes/).",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 and show a diff for every file that differs from the spec",
    )
    parser.add_argument(
        "--root", type=Path, default=None, help="repository root (default: found from cwd)"
    )
    parser.add_argument(
        "--with-slack",
        action="store_true",
        help="also write alertmanager/local/alertmanager.yml with a Slack receiver",
    )
    parser.add_argument(
        "--with-email",
        action="store_true",
        help="also write alertmanager/local/alertmanager.yml with an email receiver",
    )
    parser.set_defaults(handler=handle)
