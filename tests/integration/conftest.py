"""Real compose stacks for the integration tests, each under its own project name and ports.

- `stack`: the one shared stack of a test run, for the tests that leave it as they found it.
  Under pytest-xdist (`make test-integration`) every test that uses it (or no stack at all)
  is put in one `xdist_group`, so one worker starts it and runs those tests in sequence.
- `start_stack(scale=..., env=...)`: a private stack as a context manager; `own_stack` is one
  per test, its arguments from `@pytest.mark.stack(scale={...}, env={...})`. Tests marked
  `disruptive` (they break the stack on purpose) must use one of these, never `stack`: each
  then runs on a worker of its own, at the same time as everything else.

Both are `docker compose up --wait` through testcontainers' `DockerCompose`, which waits on
the compose healthchecks (testcontainers' own wait strategies do not work for compose), for
every service but loadgen and the gateway, which are then started; the app is then polled
through the gateway.
The app image is built once per test run, not once per stack, even across xdist workers.
Grafana joins each stack only where its image exists or can be pulled; elsewhere the tests
that need it skip and say why. LAB_TEST_GRAFANA=off leaves it out; =on (the GitHub
workflow) makes a missing Grafana an error instead of a skip.
"""

from __future__ import annotations

import functools
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import pytest
from filelock import FileLock
from testcontainers.compose import DockerCompose

from lab.kit.clients import AlertmanagerClient, PrometheusClient
from lab.kit.clients.app import AppClient
from lab.kit.polling import poll_until
from lab.kit.settings import LabSettings
from tests.image_pins import image

ROOT = Path(__file__).resolve().parents[2]
# The gateway (HAProxy) publishes the app's port (APP_PORT) in front of its replicas.
CORE_SERVICES = ["app", "gateway", "loadgen", "alert-sink", "alertmanager", "prometheus"]
PORT_VARIABLES = {
    "app": "APP_PORT",
    "prometheus": "PROMETHEUS_PORT",
    "alertmanager": "ALERTMANAGER_PORT",
    "alert-sink": "ALERT_SINK_PORT",
    "grafana": "GRAFANA_PORT",
}
#: The xdist group of every test on the shared `stack`: one worker starts it and runs them.
SHARED_STACK_GROUP = "shared-stack"
#: Free host ports are picked before `docker compose up` binds them: another stack starting
#: at the same moment may take one first. Compose then fails with one of these; try again.
_PORT_TAKEN = ("port is already allocated", "address already in use")
#: Started, not awaited healthy: loadgen and the gateway start once the app is healthy, and
#: their healthchecks ask only whether the app answers (through the gateway, for it). Their
#: first one comes 5 s later; asking the app through the gateway's port answers at once.
_NOT_AWAITED = frozenset({"loadgen", "gateway"})
_NO_SCALE: Mapping[str, int] = MappingProxyType({})
_NO_ENV: Mapping[str, str] = MappingProxyType({})
#: The test run's scratch directory (build markers and locks), shared with xdist's workers.
_RUN_DIR = "RAG_LAB_TEST_RUN_DIR"


def pytest_configure(config: pytest.Config) -> None:
    """The controller (or the only process) makes the run's scratch directory and removes it
    at the end; xdist's workers, started later, inherit its path through the environment."""
    if hasattr(config, "workerinput"):
        return
    run_dir = tempfile.mkdtemp(prefix="rag-lab-tests-")
    os.environ[_RUN_DIR] = run_dir
    config.add_cleanup(lambda: shutil.rmtree(run_dir, ignore_errors=True))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark everything here `integration`, and put in the shared stack's xdist group every
    test that runs on it, or needs no stack at all (one worker runs them in turn).

    Runs before xdist's own hook, which reads the groups (`--dist loadgroup`). A test with
    a stack of its own (`own_stack`, `disruptive`, or an xdist group of its own around a
    module's `start_stack`) stays a unit of its own, free to run on any worker.
    """
    here = Path(__file__).parent
    for item in items:
        if not Path(str(item.fspath)).is_relative_to(here):
            continue
        item.add_marker(pytest.mark.integration)
        fixtures = getattr(item, "fixturenames", ())
        disruptive = item.get_closest_marker("disruptive") is not None
        if disruptive and "stack" in fixtures:
            raise pytest.UsageError(
                f"{item.nodeid} is marked disruptive but uses the shared `stack`: "
                "give it a stack of its own (`own_stack`, or `start_stack()`)"
            )
        private = disruptive or "own_stack" in fixtures or item.get_closest_marker("xdist_group")
        if not private:
            item.add_marker(pytest.mark.xdist_group(SHARED_STACK_GROUP))


def pytest_collection_finish(session: pytest.Session) -> None:
    """Warn when xdist has fewer workers than units of work (the shared stack's group, each
    test with a stack of its own): the extra units wait for a worker, maybe behind a drill
    of minutes, and the suite takes that much longer (`INTEGRATION_WORKERS` in the Makefile)."""
    if os.environ.get("PYTEST_XDIST_WORKER") != "gw0":  # every worker collects; one says it
        return
    workers = int(os.environ["PYTEST_XDIST_WORKER_COUNT"])
    units = {
        next((str(m.args[0]) for m in item.iter_markers("xdist_group")), item.nodeid)
        for item in session.items
    }
    if len(units) > workers:
        warnings.warn(
            f"{len(units)} units of work for {workers} xdist workers: give each a worker "
            f"(INTEGRATION_WORKERS={len(units)} make test-integration)",
            stacklevel=1,
        )


@dataclass
class LabCompose(DockerCompose):
    """testcontainers' `DockerCompose` with an environment of its own and `--scale`.

    Its commands get `environment` on top of os.environ instead of reading the variables
    from os.environ alone: several stacks, each with its own project name and ports, can
    be alive in one process (the shared stack and a test's own).
    """

    environment: Mapping[str, str] = field(default_factory=dict)
    scale: Mapping[str, int] = field(default_factory=dict)

    def start(self) -> None:
        # Everything started first, then awaited but for _NOT_AWAITED (which nothing awaited
        # depends on, so the second `up` leaves them, and their scale, as they are).
        services = self.services or []
        self._up("--detach", services)
        self._up("--wait", [s for s in services if s not in _NOT_AWAITED])

    def _up(self, mode: str, services: list[str]) -> None:
        # The scale of each service this `up` starts: its dependencies are in the same list
        # (`up` of a dependency without its `--scale app=3` would take it back to one), and
        # compose refuses `--scale` for a service it does not start ("disabled").
        scale = [f"--scale={s}={n}" for s, n in self.scale.items() if s in services]
        self._run_command([*self.compose_command_property, "up", mode, *scale, *services])

    def _run_command(
        self, cmd: list[str], context: str | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            cmd,
            cwd=context or self.context,
            env={**os.environ, **self.environment},
            capture_output=True,
            check=True,
        )


@dataclass(frozen=True)
class Stack:
    """The running lab as the tests see it: service URLs and the compose handle."""

    compose: LabCompose
    project: str
    urls: dict[str, str]
    grafana_skip_reason: str | None
    admin_token: str
    state_dir: Path  # `lab scenario`'s lab-owned directory, mounted at /etc/lab

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
            state_dir=self.state_dir,
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


@functools.cache
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


def build_once(service: str, *, profile: str | None = None) -> None:
    """`docker compose build SERVICE` once per test run, however many stacks start.

    xdist workers are separate processes: the first to take the lock builds, the others
    wait and find it done (without xdist there is one process, and the lock costs nothing).
    Parallel builds of one image tag would each redo every step that is not cached.
    """
    done = Path(os.environ[_RUN_DIR]) / f"{service}.built"
    with FileLock(done.with_suffix(".lock"), timeout=900):
        if done.exists():
            return
        profiles = ["--profile", profile] if profile else []
        build = subprocess.run(
            ["docker", "compose", *profiles, "build", "--quiet", service],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert build.returncode == 0, f"building the {service} image failed:\n{build.stderr}"
        done.touch()


@contextmanager
def start_stack(
    *,
    scale: Mapping[str, int] = _NO_SCALE,
    env: Mapping[str, str] = _NO_ENV,
) -> Iterator[Stack]:
    """Bring up a private lab (same services as `stack`, own project name and host ports),
    yield it, and tear it down with its volumes.

    `scale` as `docker compose up --scale SERVICE=N`; `env` are extra variables for compose.
    """
    grafana_skip_reason = grafana_unavailable_reason()
    if grafana_skip_reason and os.environ.get("LAB_TEST_GRAFANA") == "on":
        pytest.fail(f"LAB_TEST_GRAFANA=on, but {grafana_skip_reason}", pytrace=False)
    services = CORE_SERVICES + ([] if grafana_skip_reason else ["grafana"])
    build_once("app")
    # `lab scenario`'s lab-owned directory: a fresh one per stack (not the checkout's .lab,
    # where a scenario run by hand may have left faults), readable by the containers' nobody.
    state_dir = Path(env.get("LAB_STATE_DIR") or tempfile.mkdtemp(prefix="rag-lab-state-"))
    state_dir.chmod(0o755)
    attempts = 3
    for attempt in range(1, attempts + 1):
        project = f"rag-lab-test-{uuid.uuid4().hex[:8]}"
        ports = {service: _free_port() for service in services if service in PORT_VARIABLES}
        admin_token = uuid.uuid4().hex
        compose = LabCompose(
            ROOT,
            services=services,
            environment={
                "COMPOSE_PROJECT_NAME": project,
                "RAG_ADMIN_TOKEN": admin_token,
                **{PORT_VARIABLES[service]: str(port) for service, port in ports.items()},
                "LAB_STATE_DIR": str(state_dir),
                **env,
            },
            scale=scale,
        )
        try:
            compose.start()
            break
        except subprocess.CalledProcessError as exc:
            error = exc.stderr.decode(errors="replace")
            port_taken = any(message in error for message in _PORT_TAKEN)
            if not port_taken:
                print(error, compose.get_logs()[0][-8000:], sep="\n")
            compose.stop()
            if not port_taken or attempt == attempts:
                raise
    urls = {s: f"http://127.0.0.1:{p}" for s, p in ports.items()}
    try:
        poll_until(
            AppClient(urls["app"], timeout=2).ready,
            timeout=120,
            interval=0.5,
            describe="the app ready through the gateway",
        )
        yield Stack(
            compose=compose,
            project=project,
            urls=urls,
            grafana_skip_reason=grafana_skip_reason,
            admin_token=admin_token,
            state_dir=state_dir,
        )
    finally:
        compose.stop()
        shutil.rmtree(state_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    """The shared lab, once per test run (per xdist worker, and only one runs its tests)."""
    if request.config.getoption("loadgroup", default=False) and not any(
        item.nodeid.endswith(f"@{SHARED_STACK_GROUP}") for item in request.session.items
    ):
        # pytest 9.2 with pytest-xdist 3.8 (xdist issue 1386): every worker would start one.
        pytest.fail(
            "--dist loadgroup lost the shared-stack group: this pytest-xdist does not "
            "support this pytest (see the pin in pyproject.toml)",
            pytrace=False,
        )
    with start_stack() as shared:
        yield shared


@pytest.fixture
def own_stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    """A lab of this test's own, with the arguments of its `@pytest.mark.stack(...)`."""
    marker = request.node.get_closest_marker("stack")
    with start_stack(**(marker.kwargs if marker else {})) as private:
        yield private


@pytest.fixture(scope="session")
def lab_image() -> None:
    """The one-off `lab` service's image (the Dockerfile's lab target), built once a run."""
    build_once("lab", profile="tools")
