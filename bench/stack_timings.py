"""How long a learner waits: `docker compose up -d` to every check green, and `lab check`.

Brings up a private compose stack (its own project name and free ports, images already
present, no Grafana), then measures:

- the time until `docker compose up -d` returns, until every service is ready (what
  `lab wait` polls), until Prometheus first scraped the app, and until every readiness
  check passes: all five are run, every `--poll` seconds, until all pass in one round
  (the strictest reading of "green"); the first time each check passed on its own says
  what bounds the rest;
- `lab check` on the healthy stack, test alert round trip included: `--runs` full runs
  of the CLI (in process), and each check on its own per run.

Then tears the stack down with its volumes. Usage (repository root, dev venv):

    python bench/stack_timings.py [--runs 5] [--label after] [--out bench/results/stack_timings.md]

`--label` names the section of the results file the run replaces ("before" or "after").
Uses the images named by PYTHON_IMAGE / PROMETHEUS_IMAGE / ALERTMANAGER_IMAGE
(eval "$(.ci/offline-images)" on a machine without a registry).
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_info
from _stack import ROOT, Stack, images, private_stack, write_section

from lab.check.result import Status
from lab.check.runner import CHECKS, CheckOptions, run_checks
from lab.cli import ExitCode
from lab.cli import run as lab_cli
from lab.kit.clients import PrometheusClient

TITLE = "# Stack timings: up to green, and `lab check`"


def first_app_scrape(stack: Stack, timeout: float) -> float:
    """Seconds after `up` when Prometheus's app target was first UP."""
    prometheus = PrometheusClient(stack.settings.prometheus_url, timeout=2)
    job = stack.settings.app_job
    while True:
        try:
            if any(t.job == job and t.is_up for t in prometheus.targets()):
                return time.monotonic() - stack.started
        except Exception:  # Prometheus still starting
            pass
        if time.monotonic() - stack.started > timeout:
            raise SystemExit("Prometheus never scraped the app")
        time.sleep(0.25)


def until_green(stack: Stack, poll: float, timeout: float) -> tuple[float, int, dict[str, float]]:
    """Seconds after `up` when all five checks passed in one round; the number of rounds;
    and when each check first passed."""
    first_pass: dict[str, float] = {}
    rounds = 0
    while True:
        rounds += 1
        failed = []
        for name in CHECKS:
            (result,) = run_checks(stack.settings, CheckOptions(only=(name,)))
            if result.failed:
                failed.append(f"{name}: {result.evidence[-1] if result.evidence else ''}")
            else:
                first_pass.setdefault(name, time.monotonic() - stack.started)
        if not failed:
            return time.monotonic() - stack.started, rounds, first_pass
        if time.monotonic() - stack.started > timeout:
            raise SystemExit("checks did not pass: " + "; ".join(failed))
        time.sleep(poll)


def endpoint_flags(stack: Stack) -> list[str]:
    s = stack.settings
    return [
        "--app-url", s.app_url, "--prometheus-url", s.prometheus_url,
        "--alertmanager-url", s.alertmanager_url, "--alert-sink-url", s.alert_sink_url,
        "--grafana-url", s.grafana_url, "--compose-project", s.compose_project,
        "--without", "grafana",
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="healthy `lab check` runs (1..20)")
    parser.add_argument("--poll", type=float, default=2.0, help="seconds between check rounds")
    parser.add_argument("--label", default="after", help="results section: before or after")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/stack_timings.md")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    if not 1 <= args.runs <= 20:
        parser.error("--runs must be 1..20")

    with private_stack() as stack:
        ready = stack.wait_ready(args.timeout)
        scraped = first_app_scrape(stack, args.timeout)
        green, rounds, first_pass = until_green(stack, args.poll, args.timeout)

        per_check: dict[str, list[float]] = {name: [] for name in CHECKS}
        totals: list[float] = []
        for _ in range(args.runs):
            out = io.StringIO()
            start = time.monotonic()
            code = lab_cli(["check", *endpoint_flags(stack)], out)
            totals.append(time.monotonic() - start)
            if code != ExitCode.OK:
                raise SystemExit(f"`lab check` failed on the healthy stack:\n{out.getvalue()}")
            for name in CHECKS:
                check_start = time.monotonic()
                (result,) = run_checks(stack.settings, CheckOptions(only=(name,)))
                per_check[name].append(time.monotonic() - check_start)
                assert result.status is not Status.FAIL, result.evidence

    rows = "\n".join(
        f"| {name} | {first_pass[name]:.1f} | {statistics.median(times):.2f} "
        f"| {min(times):.2f} | {max(times):.2f} |"
        for name, times in per_check.items()
    )
    command = "python bench/stack_timings.py " + " ".join(sys.argv[1:])
    green_round = f"round {rounds}; rounds {args.poll:g} s apart"
    body = f"""## {args.label}

Command (repository root, dev venv, images already built):

```
{command.strip()}
```

Images: {images()}; no Grafana.

| step | seconds after `docker compose up -d` started |
|---|---:|
| `docker compose up -d` returned | {stack.up_returned:.1f} |
| every service ready (app, Prometheus, Alertmanager, sink) | {ready:.1f} |
| Prometheus's app target first UP | {scraped:.1f} |
| **all five checks pass in one round** ({green_round}) | **{green:.1f}** |

`lab check` on the healthy stack, test alert round trip included: **median
{statistics.median(totals):.2f} s** of {args.runs} runs (min {min(totals):.2f}, max
{max(totals):.2f}). Each check on its own:

| check | first passed (s after `up`) | median s | min s | max s |
|---|---:|---:|---:|---:|
{rows}

{machine_info()}
"""
    write_section(args.out, TITLE, args.label, body)
    print(body)


if __name__ == "__main__":
    main()
