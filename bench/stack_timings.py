"""How long a learner waits: `docker compose up -d` to all checks green, and `lab check`.

Brings up a private compose stack (its own project name and free ports, images already
present), measures the time until `docker compose up -d` returns, until every service is
ready (what `lab wait` polls), and until every readiness check passes; then times `lab
check` on the healthy stack, per check, over a few runs; then tears the stack down.

    python bench/stack_timings.py [--runs 3] [--out bench/results/stack_timings.md]

Uses the images named by PYTHON_IMAGE / PROMETHEUS_IMAGE / ALERTMANAGER_IMAGE /
GRAFANA_IMAGE (eval "$(.ci/offline-images)" on a machine without a registry); Grafana is
left out when its image is not present, and the dashboards check then runs its panel
queries against Prometheus (reported as skipped).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import machine_info  # noqa: E402
from lab.checks.result import Status  # noqa: E402
from lab.checks.runner import CHECKS, CheckOptions, run_checks  # noqa: E402
from lab.clients import AlertmanagerClient, PrometheusClient  # noqa: E402
from lab.clients.alert_sink import AlertSinkClient  # noqa: E402
from lab.clients.app import AppClient  # noqa: E402
from lab.settings import LabSettings  # noqa: E402

PORTS = {"app": "APP_PORT", "prometheus": "PROMETHEUS_PORT", "alertmanager": "ALERTMANAGER_PORT",
         "alert-sink": "ALERT_SINK_PORT", "grafana": "GRAFANA_PORT"}  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def grafana_present() -> bool:
    image = os.environ.get("GRAFANA_IMAGE", "grafana/grafana:12.0.2")
    return (
        subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode == 0
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/stack_timings.md")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()

    services = ["app", "loadgen", "alert-sink", "alertmanager", "prometheus"]
    if grafana_present():
        services.append("grafana")
    ports = {s: free_port() for s in services if s in PORTS}
    project = f"rag-lab-bench-{uuid.uuid4().hex[:6]}"
    env = {**os.environ, "COMPOSE_PROJECT_NAME": project}
    env.update({PORTS[s]: str(p) for s, p in ports.items()})
    compose = ["docker", "compose"]
    subprocess.run([*compose, "build", "--quiet", "app"], cwd=ROOT, env=env, check=True)
    settings = LabSettings(
        app_url=f"http://127.0.0.1:{ports['app']}",
        prometheus_url=f"http://127.0.0.1:{ports['prometheus']}",
        alertmanager_url=f"http://127.0.0.1:{ports['alertmanager']}",
        alert_sink_url=f"http://127.0.0.1:{ports['alert-sink']}",
        grafana_url=f"http://127.0.0.1:{ports.get('grafana', 9)}",
        compose_project=project,
        check_grafana="grafana" in services,
    )
    try:
        started = time.monotonic()
        subprocess.run([*compose, "up", "-d", *services], cwd=ROOT, env=env, check=True,
                       capture_output=True)  # fmt: skip
        up_returned = time.monotonic() - started
        probes = [
            AppClient(settings.app_url, timeout=2).ready,
            PrometheusClient(settings.prometheus_url, timeout=2).ready,
            AlertmanagerClient(settings.alertmanager_url, timeout=2).ready,
            AlertSinkClient(settings.alert_sink_url, timeout=2).ready,
        ]
        while not all(probe() for probe in probes):
            if time.monotonic() - started > args.timeout:
                raise SystemExit("the stack did not become ready")
            time.sleep(0.5)
        ready = time.monotonic() - started
        attempts = 0
        while True:
            attempts += 1
            results = run_checks(settings)
            if not any(r.failed for r in results):
                break
            if time.monotonic() - started > args.timeout:
                raise SystemExit("checks did not pass: " + str([r.evidence for r in results]))
            time.sleep(5)
        green = time.monotonic() - started

        per_check: dict[str, list[float]] = {name: [] for name in CHECKS}
        totals = []
        for _ in range(args.runs):
            total_start = time.monotonic()
            for name in CHECKS:
                check_start = time.monotonic()
                (result,) = run_checks(settings, CheckOptions(only=(name,)))
                per_check[name].append(time.monotonic() - check_start)
                assert result.status is not Status.FAIL, result.evidence
            totals.append(time.monotonic() - total_start)
    finally:
        subprocess.run([*compose, "down", "-v"], cwd=ROOT, env=env, capture_output=True)

    rows = "\n".join(
        f"| {name} | {statistics.median(times):.2f} | {min(times):.2f} | {max(times):.2f} |"
        for name, times in per_check.items()
    )
    images = ", ".join(
        f"{v}={os.environ.get(v, 'default')}"
        for v in ("PYTHON_IMAGE", "PROMETHEUS_IMAGE", "ALERTMANAGER_IMAGE")
    )
    report = f"""# Stack timings: up to green, and `lab check`

Command (repository root, dev venv, images already built or pulled):

```
python bench/stack_timings.py --runs {args.runs}
```

Images: {images}; Grafana {"included" if "grafana" in services else "not available (left out)"}.

## From `docker compose up -d` to all checks green

| step | seconds after `docker compose up -d` started |
|---|---:|
| `docker compose up -d` returned | {up_returned:.1f} |
| every service ready (app, Prometheus, Alertmanager, sink) | {ready:.1f} |
| every readiness check passes (`lab check` exit 0; attempt {attempts}) | {green:.1f} |

The checks need data: the 5-minute rate windows of the panels and the baseline need two
scrapes (15 s apart) of loadgen traffic, and the alerts check waits for Alertmanager's
first notification (group_wait 10 s) and the resolved one (group_interval 30 s).

## `lab check` on a healthy stack, {args.runs} runs

| check | median s | min s | max s |
|---|---:|---:|---:|
{rows}
| **all five** | **{statistics.median(totals):.2f}** | {min(totals):.2f} | {max(totals):.2f} |

The alerts check dominates: it waits for the test alert's notification and its
resolution, both paced by Alertmanager's grouping (`lab check --no-test-alert` skips it).

## Machine

{machine_info()}
"""
    args.out.write_text(report)
    print(report)


if __name__ == "__main__":
    main()
