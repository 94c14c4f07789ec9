"""One real compose stack per test session, under its own project name and host ports.

testcontainers' `DockerCompose` runs `docker compose up --wait`, which waits on the
compose healthchecks (testcontainers' own wait strategies do not work for compose).
Grafana joins the stack only where its image exists or can be pulled; elsewhere the
tests that need it skip and say why. LAB_TEST_GRAFANA=off leaves it out; =on (the GitHub
workflow) makes a missing Grafana an error instead of a skip.
"""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from testcontainers.compose import DockerCompose

from lab.clients import AlertmanagerClient, PrometheusClient
from lab.settings import LabSettings
from tests.image_pins import image

ROOT = Path(__file__).resolve().parents[2]
CORE_SERVICES = ["app", "loadgen", "alert-sink", "alertmanager", "prometheus"]
PORT_VARIABLES = {
    "app": "APP_PORT",
    "prometheus": "PROMETHEUS_PORT",
    "alertmanager": "ALERTMANAGER_PORT",
    "alert-sink": "ALERT_SINK_PORT",
    "grafana": "GRAFANA_PORT",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark everything here `integration`, and run the `disruptive` tests last: they break
    the shared stack on purpose (a stopped app, an injected fault) and leave its error
    rate raised for minutes, which the other tests would misread."""
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.integration)
    items.sort(key=lambda item: item.get_closest_marker("disruptive") is not None)


@dataclass(frozen=True)
class Stack:
    """The running lab as the tests see it: service URLs and the compose handle."""

    compose: DockerCompose
    project: str
    urls: dict[str, str]
    grafana_skip_reason: str | None
    admin_token: str
    lab_image_build: subprocess.Popen[bytes]

    def require_lab_image(self) -> None:
        """Wait for the `lab` tools image, built in the background since the stack came up."""
        assert self.lab_image_build.wait(timeout=600) == 0, "building the lab image failed"

    @property
    def settings(self) -> LabSettings:
        """What `lab check` would be given to check this stack."""
        return LabSettings(
            app_url=self.urls["app"],
            prometheus_url=self.urls["prometheus"],
            alertmanager_url=self.urls["alertmanager"],
            alert_sink_url=self.urls["alert-sink"],
            grafana_url=self.urls.get("grafana", "http://127.0.0.1:9"),
            compose_project=self.project,
            admin_token=self.admin_token,
            check_grafana=self.grafana_skip_reason is None,
        )

    @property
    def app_url(self) -> str:
        return self.urls["app"]

    @property
    def prometheus(self) -> PrometheusClient:
        return PrometheusClient(self.urls["prometheus"])

    @property
    def alertmanager(self) -> AlertmanagerClient:
        return AlertmanagerClient(self.urls["alertmanager"])

    def logs(self, service: str) -> str:
        stdout, _stderr = self.compose.get_logs(service)
        return stdout

    def require_grafana(self) -> str:
        if self.grafana_skip_reason:
            pytest.skip(self.grafana_skip_reason)
        return self.urls["grafana"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def grafana_unavailable_reason() -> str | None:
    """None when a Grafana image is present or can be pulled, else why Grafana is left out."""
    grafana_image = image("GRAFANA_IMAGE")
    if os.environ.get("LAB_TEST_GRAFANA", "auto") == "off":
        return "Grafana left out: LAB_TEST_GRAFANA=off"
    inspect = subprocess.run(["docker", "image", "inspect", grafana_image], capture_output=True)
    if inspect.returncode == 0:
        return None
    pull = subprocess.run(
        ["docker", "pull", grafana_image], capture_output=True, text=True, timeout=600
    )
    if pull.returncode == 0:
        return None
    error = (pull.stderr.strip().splitlines() or ["no output"])[-1]
    return (
        f"no Grafana image here: {grafana_image} is not present and cannot be pulled ({error}); "
        "Grafana has no Debian package to build a stand-in from. "
        "These tests run wherever a Grafana image exists (a laptop, GitHub Actions)."
    )


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    """Bring up the lab once for the whole session and tear it down, volumes included."""
    project = f"rag-lab-test-{uuid.uuid4().hex[:8]}"
    grafana_skip_reason = grafana_unavailable_reason()
    if grafana_skip_reason and os.environ.get("LAB_TEST_GRAFANA") == "on":
        pytest.fail(f"LAB_TEST_GRAFANA=on, but {grafana_skip_reason}", pytrace=False)
    services = CORE_SERVICES + ([] if grafana_skip_reason else ["grafana"])
    ports = {service: _free_port() for service in services if service in PORT_VARIABLES}
    admin_token = uuid.uuid4().hex
    with pytest.MonkeyPatch.context() as env:
        env.setenv("COMPOSE_PROJECT_NAME", project)
        env.setenv("RAG_ADMIN_TOKEN", admin_token)
        for service, port in ports.items():
            env.setenv(PORT_VARIABLES[service], str(port))
        compose = DockerCompose(ROOT, build=True, wait=True, services=services, quiet_build=True)
        try:
            compose.start()
        except subprocess.CalledProcessError:
            print(
                subprocess.run(
                    ["docker", "compose", "logs", "--no-color", "--tail", "80"],
                    cwd=ROOT,
                    capture_output=True,
                    text=True,
                ).stdout
            )
            compose.stop()
            raise
        # The one-off `lab` service has an image of its own (the Dockerfile's lab target):
        # built while the first tests run, not when the test that needs it starts.
        lab_image_build = subprocess.Popen(
            ["docker", "compose", "--profile", "tools", "build", "--quiet", "lab"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        try:
            yield Stack(
                compose=compose,
                project=project,
                urls={s: f"http://127.0.0.1:{p}" for s, p in ports.items()},
                grafana_skip_reason=grafana_skip_reason,
                admin_token=admin_token,
                lab_image_build=lab_image_build,
            )
        finally:
            lab_image_build.wait()
            compose.stop()
