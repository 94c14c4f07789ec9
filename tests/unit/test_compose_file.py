"""docker-compose.yml repeats a few values lab/spec owns, keeps Grafana quiet, and runs the
small runtime image where it can; tied here."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from typing import Any

import yaml

from lab.generate import haproxy
from lab.spec import SPEC
from tests.image_pins import COMPOSE_FILE, ROOT


def grafana_service() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    return services["grafana"]


def test_grafana_healthcheck_waits_for_the_spec_datasource_and_dashboard() -> None:
    """The healthcheck asks for the spec's datasource health and dashboard, not only /api/health,
    with curl (which the Grafana image ships) failing on any HTTP error."""
    kind, command = grafana_service()["healthcheck"]["test"]
    assert kind == "CMD-SHELL"
    probes = command.split(" && ")
    assert [p.split()[:2] for p in probes] == [["curl", "-fsS"]] * 3
    assert [p.split()[-1] for p in probes] == [
        "http://127.0.0.1:3000/api/health",
        f"http://127.0.0.1:3000/api/datasources/uid/{SPEC.datasource_uid}/health",
        f"http://127.0.0.1:3000/api/dashboards/uid/{SPEC.dashboard.uid}",
    ]


def test_grafana_does_not_phone_home() -> None:
    """Usage reports, update checks (Grafana's and its plugins') and the news feed are off."""
    environment = grafana_service()["environment"]
    for switch in (
        "GF_ANALYTICS_REPORTING_ENABLED",
        "GF_ANALYTICS_CHECK_FOR_UPDATES",
        "GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES",
        "GF_NEWS_NEWS_FEED_ENABLED",
    ):
        assert environment[switch] == "false", switch


def test_services_run_the_runtime_image_and_lab_its_own_target() -> None:
    """The app, loadgen and alert sink run the Dockerfile's small `runtime` target; the one-off
    `lab` service is built from its `lab` target under a name of its own."""
    services: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    runtime_image = services["app"]["image"]
    assert services["app"]["build"]["target"] == "runtime"
    for name in ("loadgen", "alert-sink"):
        assert services[name]["image"] == runtime_image, name
    assert services["lab"]["build"]["target"] == "lab"
    assert services["lab"]["image"] != runtime_image


# What the runtime image must run without: plotting, notebooks, the Docker client, YAML,
# and the `lab` toolkit itself.
NOT_IN_RUNTIME = (
    "numpy",
    "matplotlib",
    "nbformat",
    "nbclient",
    "ipykernel",
    "docker",
    "yaml",
    "lab",
)
RUNTIME_ENTRY_POINTS = (
    "sample_rag_app.__main__",
    "sample_rag_app.services.loadgen.__main__",
    "sample_rag_app.services.alert_sink.__main__",
    "sample_rag_app.services.provider.__main__",
)


def test_the_app_extra_holds_no_plotting_or_notebook_dependency() -> None:
    """pyproject's `app` extra, all the runtime image installs, leaves the heavy ones out."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    names = {re.split(r"[<>=!~\[ ]", requirement)[0].lower() for requirement in extras["app"]}
    assert not names & {*NOT_IN_RUNTIME, "pyyaml"}, names


def test_runtime_services_import_nothing_outside_the_app_extra() -> None:
    """The app, loadgen and alert sink start with the lab-only packages made unimportable."""
    blocker = (
        "import sys\n"
        f"blocked = {NOT_IN_RUNTIME!r}\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in blocked:\n"
        "            raise ImportError(f'{name} is not in the runtime image')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import importlib\n"
        f"for module in {RUNTIME_ENTRY_POINTS!r}:\n"
        "    importlib.import_module(module)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", blocker], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_the_runtime_image_is_built_without_the_toolkit() -> None:
    """The Dockerfile copies `lab/` only into the lab target, after the runtime target, so
    the runtime image ships the app and its services alone."""
    lines = (ROOT / "sample_rag_app/Dockerfile").read_text().splitlines()
    copies_lab = [i for i, line in enumerate(lines) if line.startswith("COPY lab ")]
    lab_target = lines.index("FROM base AS lab")
    assert copies_lab, "the lab target must copy lab/"
    assert all(i > lab_target for i in copies_lab)


def _stage(lines: list[str], name: str) -> list[str]:
    start = next(i for i, line in enumerate(lines) if line.endswith(f" AS {name}"))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("FROM ")), None)
    return lines[start:end]


def test_dependencies_install_from_the_lock_before_any_code() -> None:
    """Each image's dependencies are installed from uv.lock (--locked: a stale lock fails the
    build) in a stage that copies no code, so a code change rebuilds only the code's layer."""
    lines = (ROOT / "sample_rag_app/Dockerfile").read_text().splitlines()
    for deps, extras in (("deps-runtime", "--extra app"), ("deps-lab", "--extra app --extra lab")):
        stage = _stage(lines, deps)
        assert any(
            "uv sync --locked --no-install-project" in line and line.endswith(extras)
            for line in stage
        ), stage
        assert not [line for line in stage if line.startswith("COPY")], stage
    for target, deps in (("runtime", "deps-runtime"), ("lab", "deps-lab")):
        stage = _stage(lines, target)
        copies = [line for line in stage if line.startswith("COPY")]
        assert copies[0] == f"COPY --from={deps} /opt/venv /opt/venv", copies
    build = _stage(lines, "build")
    assert "COPY pyproject.toml uv.lock ./" in build


def _services() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    return services


def test_the_app_scales_behind_the_gateway_on_the_apps_port() -> None:
    """`--scale app=N` cannot clash on a host port: the app publishes none, the gateway
    (HAProxy) publishes the balancer's port (127.0.0.1 only) and mounts the generated
    config at the image's own config path."""
    services = _services()
    assert "ports" not in services["app"]
    balancer = SPEC.balancer
    gateway = services[balancer.service]
    assert gateway["ports"] == [f"127.0.0.1:${{APP_PORT:-{balancer.port}}}:{balancer.port}"]
    assert gateway["volumes"] == [f"./{haproxy.CONFIG_PATH}:/usr/local/etc/haproxy/haproxy.cfg:ro"]
    assert f"/dev/tcp/127.0.0.1/{balancer.metrics_port}" in gateway["healthcheck"]["test"][-1]
    assert f"GET {haproxy.HEALTH_URI} " in gateway["healthcheck"]["test"][-1]
    scraping = SPEC.scraping
    assert services["loadgen"]["environment"]["LOADGEN_TARGET_URL"] == (
        f"http://{scraping.app_dns_name}:{scraping.app_port}"
    )
    assert services["gateway"]["depends_on"]["app"]["condition"] == "service_healthy"


def test_prometheus_starts_after_the_replicas_it_discovers() -> None:
    """Prometheus's first DNS lookup of `app` comes after every replica has started."""
    assert _services()["prometheus"]["depends_on"]["app"]["condition"] == "service_started"


def test_every_lab_python_service_keeps_the_hardening() -> None:
    """app, loadgen, gateway (HAProxy) and alert sink: read-only root, no capabilities, no
    new privileges; every published port is on 127.0.0.1."""
    services = _services()
    for name in ("app", "loadgen", "gateway", "alert-sink"):
        service = services[name]
        assert service["read_only"] is True, name
        assert service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"], name
    for name, service in services.items():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), (name, port)
