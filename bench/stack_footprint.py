"""The lab's memory: every service after a stretch of idling with loadgen running.

Brings up a private compose stack without Grafana (its own project name and free ports,
images already present), waits until every service is ready, lets it run for
`--idle-seconds` (default 600: ten minutes, loadgen sending its default 2 requests per
second), then reads `docker stats --no-stream` for each container and writes the memory
per service and in total. The stack is torn down with its volumes whatever happens.

    python bench/stack_footprint.py [--idle-seconds 600] [--label after]

`--label` names the section of bench/results/stack_footprint.md the run replaces
("before" or "after"). Uses the images named by PYTHON_IMAGE / PROMETHEUS_IMAGE /
ALERTMANAGER_IMAGE (eval "$(.ci/offline-images)" on a machine without a registry).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_info
from _stack import ROOT, Stack, images, private_stack, write_section

TITLE = "# Stack footprint: memory after idling with loadgen running"
UNITS = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "kB": 1e3, "MB": 1e6, "GB": 1e9}
BUDGET_MIB = 300


def mebibytes(usage: str) -> float:
    """`docker stats`' "41.2MiB / 23.5GiB" -> 41.2 (the usage, before the limit)."""
    match = re.match(r"\s*([\d.]+)\s*([A-Za-z]+)", usage.split("/")[0])
    if not match or match.group(2) not in UNITS:
        raise ValueError(f"unexpected memory usage {usage!r}")
    return float(match.group(1)) * UNITS[match.group(2)] / 2**20


def memory_by_service(stack: Stack) -> dict[str, float]:
    """MiB per compose service, from one `docker stats --no-stream` of the project."""
    listed = subprocess.run(
        ["docker", "ps", "--filter", f"label=com.docker.compose.project={stack.project}",
         "--format", '{{.ID}} {{.Label "com.docker.compose.service"}}'],
        capture_output=True, text=True, check=True,
    ).stdout.split("\n")  # fmt: skip
    services = dict(line.split() for line in listed if line.strip())
    stats = subprocess.run(
        ["docker", "stats", "--no-stream", "--format", "{{.ID}}\t{{.MemUsage}}", *services],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    memory = {}
    for line in stats:
        container, usage = line.split("\t")
        memory[services[container]] = mebibytes(usage)
    return memory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle-seconds", type=float, default=600)
    parser.add_argument("--label", default="after", help="results section: before or after")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/stack_footprint.md")
    args = parser.parse_args()
    if not 0 <= args.idle_seconds <= 3600:
        parser.error("--idle-seconds must be 0..3600")

    with private_stack() as stack:
        ready = stack.wait_ready(timeout=300)
        idle_until = time.monotonic() + args.idle_seconds
        while (left := idle_until - time.monotonic()) > 0:
            print(f"idling, {left:.0f}s left", file=sys.stderr, flush=True)
            time.sleep(min(60.0, left))
        memory = memory_by_service(stack)

    total = sum(memory.values())
    rows = "\n".join(f"| {service} | {mib:.1f} |" for service, mib in sorted(memory.items()))
    command = "python bench/stack_footprint.py " + " ".join(sys.argv[1:])
    verdict = "within" if total <= BUDGET_MIB else "over"
    body = f"""## {args.label}

Command (repository root, dev venv, images already built):

```
{command.strip()}
```

Images: {images()}; no Grafana. Every service ready {ready:.0f} s after `docker compose
up -d`; then {args.idle_seconds:.0f} s of idling with loadgen at its default rate; then
`docker stats --no-stream` (memory usage as Docker reports it: the container's cgroup,
page cache that can be reclaimed excluded).

| service | memory (MiB) |
|---|---:|
{rows}
| **total** | **{total:.1f}** |

{total:.0f} MiB: {verdict} the {BUDGET_MIB} MB budget (without Grafana).

{machine_info()}
"""
    write_section(args.out, TITLE, args.label, body)
    print(body)


if __name__ == "__main__":
    main()
