"""A private compose stack for the stack benchmarks, and their results files.

`private_stack` builds the Python images, starts the lab without Grafana (there is no
Grafana image where these run; the figures are "without Grafana" by design) under its
own project name and free host ports, so it never collides with a lab already running,
and always tears it down with its volumes. `write_section` keeps a "before" and an
"after" run side by side in one results file.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lab.kit.clients import AlertmanagerClient, PrometheusClient  # noqa: E402
from lab.kit.clients.alert_sink import AlertSinkClient  # noqa: E402
from lab.kit.clients.app import AppClient  # noqa: E402
from lab.kit.settings import LabSettings  # noqa: E402

# The gateway (HAProxy) publishes the app's port (APP_PORT) in front of its replicas.
SERVICES = ("app", "gateway", "loadgen", "alert-sink", "alertmanager", "prometheus")
PORTS = {"app": "APP_PORT", "prometheus": "PROMETHEUS_PORT", "alertmanager": "ALERTMANAGER_PORT",
         "alert-sink": "ALERT_SINK_PORT"}  # fmt: skip
IMAGE_VARIABLES = ("PYTHON_IMAGE", "PROMETHEUS_IMAGE", "ALERTMANAGER_IMAGE", "HAPROXY_IMAGE")


@dataclass(frozen=True)
class Stack:
    """A running private stack: where its services answer, and its compose environment."""

    project: str
    env: dict[str, str]
    settings: LabSettings
    started: float  # time.monotonic() when `docker compose up -d` was called
    up_returned: float  # seconds after `started`

    def compose(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["docker", "compose", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )

    def wait_ready(self, timeout: float) -> float:
        """Seconds after `started` when every service answered ready (what `lab wait` polls)."""
        s = self.settings
        probes = [
            AppClient(s.app_url, timeout=2).ready,
            PrometheusClient(s.prometheus_url, timeout=2).ready,
            AlertmanagerClient(s.alertmanager_url, timeout=2).ready,
            AlertSinkClient(s.alert_sink_url, timeout=2).ready,
        ]
        while not all(probe() for probe in probes):
            if time.monotonic() - self.started > timeout:
                raise SystemExit(f"the stack did not become ready within {timeout:.0f}s")
            time.sleep(0.25)
        return time.monotonic() - self.started


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def private_stack(extra_env: dict[str, str] | None = None) -> Iterator[Stack]:
    """Build the images, then `docker compose up -d` the lab without Grafana; down -v at exit."""
    ports = {service: _free_port() for service in PORTS}
    project = f"rag-lab-bench-{uuid.uuid4().hex[:6]}"
    env = {**os.environ, "COMPOSE_PROJECT_NAME": project, **(extra_env or {})}
    env.update({PORTS[service]: str(port) for service, port in ports.items()})
    subprocess.run(["docker", "compose", "build", "--quiet", "app"], cwd=ROOT, env=env, check=True)
    settings = LabSettings(
        app_url=f"http://127.0.0.1:{ports['app']}",
        prometheus_url=f"http://127.0.0.1:{ports['prometheus']}",
        alertmanager_url=f"http://127.0.0.1:{ports['alertmanager']}",
        alert_sink_url=f"http://127.0.0.1:{ports['alert-sink']}",
        grafana_url="http://127.0.0.1:9",
        compose_project=project,
        check_grafana=False,
    )
    try:
        started = time.monotonic()
        subprocess.run(
            ["docker", "compose", "up", "-d", *SERVICES],
            cwd=ROOT, env=env, check=True, capture_output=True,
        )  # fmt: skip
        yield Stack(project, env, settings, started, time.monotonic() - started)
    finally:
        subprocess.run(
            ["docker", "compose", "down", "-v", "--remove-orphans"],
            cwd=ROOT, env=env, capture_output=True,
        )  # fmt: skip


def images() -> str:
    """The base images this run used, as `VAR=value` pairs."""
    return ", ".join(f"{v}={os.environ.get(v, 'the compose default')}" for v in IMAGE_VARIABLES)


def write_section(path: Path, title: str, label: str, body: str) -> None:
    """Put `body` into `path` as the section marked `label` ("before", "after"), replacing an
    earlier one of that label and keeping the others; the file starts with `title`."""
    start, end = f"<!-- {label} -->", f"<!-- /{label} -->"
    block = f"{start}\n{body.strip()}\n{end}"
    text = path.read_text() if path.exists() else f"{title}\n"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
